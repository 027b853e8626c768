"""Whole grading runs of Lab 4: the reference, the stub (graded once for the session: tests/conftest.py),
a broken submission, bad set-ups."""

from __future__ import annotations

import pytest

from grader.grading.run import grade
from grader.errors import SetupError
from grader.isolation import LandlockLauncher
from tests.helpers import LAB4_REFERENCE, grade_entries, needs_landlock


@pytest.fixture(scope="module")
def broken_run(tmp_path_factory):
    """The reference, except that numpy_to_tensor copies float32 arrays instead of sharing them."""
    folder = tmp_path_factory.mktemp("broken")
    (folder / "pytorch_basics.py").write_text(LAB4_REFERENCE.read_text() + '''

_shared_numpy_to_tensor = numpy_to_tensor

def numpy_to_tensor(array):
    return _shared_numpy_to_tensor(array).clone()  # the bug: a copy, so no memory is shared
''')
    return grade("lab4", folder, keyword="numpy_to_tensor")


def ran(result):
    return [c for c in result.checks if c.status != "skipped"]


def test_reference_earns_full_marks(lab4_reference_run):
    failed = [(c.name, c.feedback) for c in lab4_reference_run.checks if c.status == "failed"]
    assert failed == []
    assert lab4_reference_run.max_score > 0 and lab4_reference_run.score == lab4_reference_run.max_score
    assert lab4_reference_run.all_passed and lab4_reference_run.import_error == ""
    assert lab4_reference_run.submission == "reference solution"
    for check in lab4_reference_run.checks:
        assert check.status in ("passed", "skipped")
        assert check.score == (check.points if check.status == "passed" else 0)
        assert check.title and check.points > 0


def test_reference_report_is_gradescope_shaped(lab4_reference_run):
    data = lab4_reference_run.to_dict()
    assert data["score"] == data["max_score"] == lab4_reference_run.max_score
    assert len(data["tests"]) == len(lab4_reference_run.checks)
    assert sum(t["max_score"] for t in data["tests"]) == data["max_score"]


def test_skipped_checks_are_left_out_of_the_maximum(lab4_reference_run):
    skipped = [c for c in lab4_reference_run.checks if c.status == "skipped"]
    assert lab4_reference_run.max_score == sum(c.points for c in ran(lab4_reference_run))
    for check in skipped:
        assert check.score == 0 and check.skip_reason


def test_a_correct_submission_shows_no_warning(lab4_reference_run):
    """No check of a correct file carries output or a warning: none is the student's (issue 19)."""
    noisy = [(c.name, c.output, c.warnings) for c in lab4_reference_run.checks if c.output or c.warnings]
    assert noisy == []
    assert all("arn" not in t["output"] for t in lab4_reference_run.to_dict()["tests"] if t["status"] != "skipped")


@needs_landlock(1, "confine files without namespaces (no shared /dev/shm: joblib cannot make a semaphore)")
def test_joblib_is_told_its_mode_where_it_cannot_make_a_semaphore():
    """Under Landlock alone the worker has no writable /dev/shm: joblib would warn under every check."""
    with LandlockLauncher() as launcher:
        result = grade("lab4", reference=True, keyword="select_device", launcher=launcher)
    assert result.score == result.max_score > 0
    assert [(c.name, c.warnings) for c in result.checks if c.warnings] == []


def test_a_skipped_check_shows_nothing_another_check_printed(tmp_path):
    """A check skipped before it ran (no GPU) printed nothing: earlier checks' output is theirs."""
    (tmp_path / "pytorch_basics.py").write_text(LAB4_REFERENCE.read_text().replace(
        '    if prefer is None:\n', '    print("choosing a device")\n    if prefer is None:\n', 1))
    result = grade("lab4", tmp_path, keyword="select_device")
    skipped = [c for c in result.checks if c.status == "skipped"]
    if not skipped:
        pytest.skip("this machine has a CUDA GPU: no check of select_device is skipped")
    assert any("choosing a device" in c.output for c in result.checks if c.status == "passed")
    assert [(c.name, c.output) for c in skipped if c.output] == []


def test_stub_earns_nothing_and_says_not_implemented(lab4_stub_run, lab4_reference_run):
    assert lab4_stub_run.score == 0 and lab4_stub_run.max_score == lab4_reference_run.max_score
    assert [c.name for c in lab4_stub_run.checks] == [c.name for c in lab4_reference_run.checks]
    assert lab4_stub_run.import_error == ""  # the stub imports fine; its functions raise
    for check in ran(lab4_stub_run):
        assert check.status == "failed" and check.score == 0
        assert "not implemented" in check.feedback.summary, (check.name, check.feedback)
    assert lab4_stub_run.submission.endswith("assignments/lab4/pytorch_basics.py")


def test_broken_submission_fails_the_specific_check(broken_run):
    checks = ran(broken_run)
    assert checks and all("numpy_to_tensor" in c.name for c in checks)  # the keyword selected them
    sharing = [c for c in checks if "shar" in c.name]
    assert sharing, "the suite has no memory-sharing check for numpy_to_tensor"
    for check in sharing:
        assert check.status == "failed" and check.score == 0
        assert "share memory" in check.feedback.summary
    others = [c for c in checks if c not in sharing]
    assert others and all(c.status == "passed" for c in others), [(c.name, c.feedback) for c in others]
    assert 0 < broken_run.score < broken_run.max_score


def test_runs_leave_nothing_behind(lab4_reference_run, lab4_stub_run, broken_run):
    assert grade_entries() == set()


# ------------------------------------------------------------------ set-up errors
def test_unknown_lab():
    with pytest.raises(SetupError, match="unknown lab 'lab99'"):
        grade("lab99", reference=True)


def test_missing_submission(tmp_path):
    with pytest.raises(SetupError, match="not found"):
        grade("lab4", tmp_path / "nowhere" / "pytorch_basics.py")


def test_folder_without_the_file(tmp_path):
    (tmp_path / "something_else.py").write_text("")
    with pytest.raises(SetupError, match="has no pytorch_basics.py"):
        grade("lab4", tmp_path)


def test_course_folder_without_the_assignment(tmp_path):
    with pytest.raises(SetupError, match="assignments"):
        grade("lab4", course=tmp_path)


def test_not_a_python_file(tmp_path):
    notes = tmp_path / "pytorch_basics.txt"
    notes.write_text("")
    with pytest.raises(SetupError, match="not a Python file"):
        grade("lab4", notes)


def test_setup_errors_leave_nothing_behind(tmp_path):
    before = grade_entries()
    for bad in (lambda: grade("nope"), lambda: grade("lab4", tmp_path)):
        with pytest.raises(SetupError):
            bad()
    assert grade_entries() == before
