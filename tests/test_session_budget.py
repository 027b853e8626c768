"""A session remembers failures without re-raising one object, and stops running what keeps crashing."""

from __future__ import annotations

import time

import pytest

from grader.grading.budget import FUNCTIONS, PER_FUNCTION, CrashBudget
from grader.isolation import NoIsolation, WorkerSpec
from grader.grading.session import StudentError, SubmissionImportError, WorkerCrash, WorkerSession, out_of_memory


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


# ------------------------------------------------------------------ out of memory, and the run's time for the student's code
def student_error(type_name: str, mro: list[str], message: str = "") -> StudentError:
    return StudentError({"type": type_name, "mro": mro, "message": message})


def test_running_out_of_memory_is_recognised_whoever_raises_it():
    assert out_of_memory(student_error("MemoryError", ["builtins.MemoryError", "builtins.Exception",
                                                       "builtins.BaseException", "builtins.object"]))
    numpy_one = ["numpy._core._exceptions._ArrayMemoryError", "builtins.MemoryError", "builtins.Exception",
                 "builtins.BaseException", "builtins.object"]
    assert out_of_memory(student_error("_ArrayMemoryError", numpy_one, "Unable to allocate 8.00 GiB"))
    torch_one = student_error("RuntimeError", ["builtins.RuntimeError", "builtins.Exception", "builtins.BaseException",
                                               "builtins.object"],
                              "DefaultCPUAllocator: can't allocate memory: you tried to allocate 4294967296 bytes")
    assert out_of_memory(torch_one)
    assert not out_of_memory(student_error("ValueError", ["builtins.ValueError", "builtins.Exception",
                                                          "builtins.BaseException", "builtins.object"], "bad shape"))


def test_the_students_time_over_a_run_is_bounded_and_every_call_gets_at_most_what_is_left(session):
    session.budget = CrashBudget(seconds=5.0)
    assert session._limited(10.0, "calling f()") == (5.0, "calling f() (the last of the 5 s a run allows your code)")
    session.budget.spend(4.0)
    assert session._limited(0.5, "calling f()") == (0.5, "calling f()")
    session.budget.spend(1.5)
    assert session.budget.left() == 0.0
    session.begin_check("any_function")
    with pytest.raises(WorkerCrash, match="your code has used the 5 s a grading run allows it"):
        session.ensure_ready()
    assert session.process is None, "no worker is started once the time is spent"


def test_only_the_students_time_is_charged(session):
    """The wait for the worker's first start is everyone's: not charged; a restart after a crash is."""
    with session._spending(False):
        pass
    with session._spending():
        time.sleep(0.05)
    assert 0.05 <= session.budget.spent < 1.0


def test_a_memory_error_counts_like_a_crash(tmp_path):
    """Hoarding memory costs seconds per call: a function that runs out of memory in two checks has its
    other checks fail at once, as one that crashes."""
    (tmp_path / "hoarder.py").write_text("def hoard():\n    raise MemoryError('no more')\n\n\ndef fine():\n    return 1\n")
    hoarder = WorkerSession(WorkerSpec(submission_dir=tmp_path, module="hoarder", preload=[]), launcher=NoIsolation())
    try:
        for _ in range(PER_FUNCTION):
            hoarder.begin_check("hoard")
            with pytest.raises(StudentError, match="MemoryError"):
                hoarder.call(("module", "hoard"))
        hoarder.begin_check("hoard")
        with pytest.raises(WorkerCrash, match=f"`hoard` already timed out or crashed in {PER_FUNCTION} checks"):
            hoarder.call(("module", "hoard"))
        hoarder.begin_check("fine")
        assert hoarder.call(("module", "fine")) == 1
    finally:
        hoarder.close()
