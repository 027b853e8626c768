"""A session remembers failures without re-raising one object, and stops running what keeps crashing."""

from __future__ import annotations

import pytest

from grader.grading.budget import FUNCTIONS, PER_FUNCTION, CrashBudget
from grader.isolation import WorkerSpec
from grader.grading.session import SubmissionImportError, WorkerCrash, WorkerSession


@pytest.fixture
def session(tmp_path):
    made = WorkerSession(WorkerSpec(submission_dir=tmp_path, module="pytorch_basics", preload=[], readable=[]))
    yield made
    made.close()


def test_an_import_failure_is_raised_fresh_for_every_check(session):
    """Raising one exception object again and again grows its traceback with every check (40 s, not 15 s)."""
    session.import_failure = SubmissionImportError({"type": "SyntaxError", "mro": ["SyntaxError"],
                                                    "message": "invalid syntax", "where": "x.py line 3"})
    raised = []
    for _ in range(3):
        with pytest.raises(SubmissionImportError) as caught:
            session.ensure_ready()
        raised.append(caught.value)
    assert len({id(e) for e in raised}) == 3
    assert all(str(e) == "x.py line 3: SyntaxError: invalid syntax" for e in raised)
    depth = [len(list(_frames(e.__traceback__))) for e in raised]
    assert depth[0] == depth[-1], "each raise starts a new traceback"


def _frames(tb):
    while tb is not None:
        yield tb
        tb = tb.tb_next


def crash_in(session: WorkerSession, function: str) -> None:
    session.begin_check(function)
    session.crashed = True  # what _crash records when a call times out or the worker dies


def test_a_function_that_keeps_crashing_has_its_other_checks_fail_at_once(session):
    for _ in range(PER_FUNCTION):
        crash_in(session, "numpy_to_tensor")
    session.begin_check("numpy_to_tensor")
    with pytest.raises(WorkerCrash, match=f"`numpy_to_tensor` already timed out or crashed in {PER_FUNCTION} checks"):
        session.ensure_ready()
    assert session.process is None, "no worker is started for a check that fails at once"


def test_one_hanging_function_costs_no_other_functions_checks():
    budget = CrashBudget()
    for _ in range(5):
        budget.record("numpy_to_tensor")
    assert budget.refusal("to_unet_input") is None
    assert budget.refusal("numpy_to_tensor")


def test_crashes_in_several_functions_stop_every_remaining_check(session):
    functions = [f"f{i}" for i in range(FUNCTIONS)]
    for name in functions:
        crash_in(session, name)
    session.begin_check("a_function_that_never_crashed")
    with pytest.raises(WorkerCrash, match=f"crashed in {FUNCTIONS} functions"):
        session.ensure_ready()
    session.begin_check("another")  # and it stays so, for every remaining check
    with pytest.raises(WorkerCrash, match="fail at once"):
        session.ensure_ready()


def test_checks_that_run_fine_do_not_count(session):
    for crashed in [True] * (PER_FUNCTION - 1) + [False] * 3:
        session.begin_check("numpy_to_tensor")
        session.crashed = crashed
    session.begin_check("numpy_to_tensor")
    assert session.budget.refusal("numpy_to_tensor") is None
