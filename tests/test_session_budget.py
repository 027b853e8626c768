"""A session remembers failures without re-raising one object, and stops after crashes in a row."""

from __future__ import annotations

import pytest

from grader.remote import CRASH_BUDGET, SubmissionImportError, WorkerCrash, WorkerSession
from grader.sandbox import WorkerSpec


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


def test_after_checks_in_a_row_that_crash_the_rest_fail_at_once(session):
    for _ in range(CRASH_BUDGET):
        session.begin_check()
        session.crashed = True  # what _crash records when a call times out or the worker dies
    session.begin_check()
    with pytest.raises(WorkerCrash, match=f"timed out or crashed in {CRASH_BUDGET} checks in a row"):
        session.ensure_ready()
    assert session.process is None, "no worker is started for a check that fails at once"
    session.begin_check()  # and it stays so, for every remaining check
    with pytest.raises(WorkerCrash, match="fail at once"):
        session.ensure_ready()


def test_a_check_that_runs_fine_resets_the_count(session):
    for crashed in [True] * (CRASH_BUDGET - 1) + [False] + [True] * (CRASH_BUDGET - 1):
        session.begin_check()
        session.crashed = crashed
    session.begin_check()
    assert not session.gave_up
