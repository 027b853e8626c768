"""A worker that cannot start is the grader's problem, never the student's (issue 20 item 8, issue 16).

A worker that exits before the student's file was read, a confinement step that fails, a lab
library the worker cannot import, a sandbox tool started by another path than the one checked,
a Python environment the sandbox hides: each is one line (a SetupError, exit 2) naming what
failed, never "your file could not be imported" and never 0 points for a correct file.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from grader.errors import SetupError
from grader.grading.run import grade
from grader.isolation import LandlockLauncher, NamespaceLauncher, NoIsolation
from grader.isolation import launchers as launchers_module
from grader.isolation.inside import landlock
from tests.helpers import REPO, venv_seeing_this_environment
from tests.toy_course import LAB, MODULE, make_course

BLAME = ("could not be imported", "yourfile.py")


@pytest.fixture
def course(tmp_path: Path) -> Path:
    return make_course(tmp_path / "course")


def submission(tmp_path: Path, code: str) -> Path:
    path = tmp_path / "student" / f"{MODULE}.py"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(code)
    return path


REFERENCE_CODE = "def add(a, b):\n    return a + b\n"


def assert_grader_problem(raised: pytest.ExceptionInfo, *words: str) -> None:
    message = str(raised.value)
    assert "\n" not in message, message
    for blamed in BLAME:
        assert blamed not in message, message
    for word in words:
        assert word in message, message


class DyingLauncher(NoIsolation):
    """Its workers exit with status 3 before they read anything (a sandbox tool that fails)."""

    def _wrap(self, command, spec, box):
        return [sys.executable, "-c", "import sys; print('sandbox-tool: cannot do that here'); sys.exit(3)"], (), None


class WrongParentLauncher(NoIsolation):
    """Its workers are told to expect another parent: they stop in their first confinement step."""

    def _view(self, spec, box):
        view = super()._view(spec, box)
        view.parent_pid = 1
        return view


class BrokenLandlockLauncher(LandlockLauncher):
    """Its workers are asked to let Landlock grant a namespace file: Landlock refuses that rule."""

    def _view(self, spec, box):
        view = super()._view(spec, box)
        view.read = [*view.read, "/proc/self/ns/net"]
        return view


def test_a_worker_that_exits_before_reading_the_file_is_a_grader_problem(course, tmp_path):
    with DyingLauncher() as launcher, pytest.raises(SetupError) as raised:
        grade(LAB, submission(tmp_path, REFERENCE_CODE), course=course, launcher=launcher)
    assert_grader_problem(raised, "status 3", "cannot do that here")


def test_a_failed_confinement_step_is_a_grader_problem(course, tmp_path):
    with WrongParentLauncher() as launcher, pytest.raises(SetupError) as raised:
        grade(LAB, submission(tmp_path, REFERENCE_CODE), course=course, launcher=launcher)
    assert_grader_problem(raised, "worker")


@pytest.mark.skipif(landlock.abi_version() < 1, reason="needs Landlock")
def test_landlock_refusing_its_rules_is_a_grader_problem(course, tmp_path):
    with BrokenLandlockLauncher() as launcher, pytest.raises(SetupError) as raised:
        grade(LAB, submission(tmp_path, REFERENCE_CODE), course=course, launcher=launcher)
    assert_grader_problem(raised, "landlock_add_rule failed for /proc/self/ns/net")


@pytest.mark.slow   # over 40 s each on the shared 2-core machine (a grading of a course of its own)
def test_a_lab_library_the_worker_cannot_import_is_a_grader_problem(course, tmp_path):
    toml = course / "suites" / LAB / "lab.toml"
    toml.write_text(toml.read_text().replace('preload = ["numpy"]', 'preload = ["numpy", "grade_no_such_library"]'))
    with NoIsolation() as launcher, pytest.raises(SetupError) as raised:
        grade(LAB, submission(tmp_path, REFERENCE_CODE), course=course, launcher=launcher)
    assert_grader_problem(raised, "grade_no_such_library")


@pytest.mark.slow   # over 40 s each on the shared 2-core machine (a grading of a course of its own)
def test_a_library_this_python_has_but_the_worker_cannot_see_is_a_grader_problem(course, tmp_path, monkeypatch):
    """The grader finds ``gradehidden`` (on its own path); its workers do not: not the student's fault."""
    library = tmp_path / "elsewhere"
    (library / "gradehidden").mkdir(parents=True)
    (library / "gradehidden" / "__init__.py").write_text("VALUE = 1\n")
    monkeypatch.syspath_prepend(str(library))
    code = "import gradehidden\n\n\ndef add(a, b):\n    return a + b\n"
    with NoIsolation() as launcher, pytest.raises(SetupError) as raised:
        grade(LAB, submission(tmp_path, code), course=course, launcher=launcher)
    assert_grader_problem(raised, "gradehidden")


def test_a_library_nobody_has_stays_the_students_import_error(course, tmp_path):
    code = "import grade_no_such_library_anywhere\n\n\ndef add(a, b):\n    return a + b\n"
    with NoIsolation() as launcher:
        result = grade(LAB, submission(tmp_path, code), course=course, launcher=launcher)
    assert result.score == 0 and "grade_no_such_library_anywhere" in result.import_error


def test_a_student_who_fakes_a_missing_library_gets_no_grader_error(course, tmp_path):
    """Raising ModuleNotFoundError for numpy by hand: a fresh worker imports numpy, so it is the student's."""
    code = "raise ModuleNotFoundError(\"No module named 'numpy'\", name='numpy')\n"
    with NoIsolation() as launcher:
        result = grade(LAB, submission(tmp_path, code), course=course, launcher=launcher)
    assert result.score == 0 and "numpy" in result.import_error


# ------------------------------------------------------------------ the sandbox's tools and Python
def _worker_path_without_tools(monkeypatch) -> None:
    """Workers get a PATH where no sandbox tool lives (bubblewrap installed elsewhere, e.g. ~/.local/bin)."""
    original = launchers_module.worker_environment

    def environment(view, spec):
        return {**original(view, spec), "PATH": "/nonexistent-grade-bin"}

    monkeypatch.setattr(launchers_module, "worker_environment", environment)


@pytest.mark.parametrize("tool", ["bwrap", "unshare"])
def test_the_sandbox_tool_is_started_by_the_path_that_was_checked(course, tmp_path, monkeypatch, tool):
    launcher = NamespaceLauncher(tool=tool)
    if not launcher.available():
        pytest.skip(f"{tool} does not work here: {launcher.unavailable_reason()}")
    _worker_path_without_tools(monkeypatch)
    with launcher:
        result = grade(LAB, submission(tmp_path, REFERENCE_CODE), course=course, launcher=launcher)
    assert result.score == result.max_score > 0, [c.feedback for c in result.checks]


@pytest.mark.slow
def test_a_python_environment_under_tmp_is_shown_to_the_worker(tmp_path):
    """A venv made under /tmp (as a fresh-clone CI script may): the worker's private /tmp must not hide it."""
    if not NamespaceLauncher(tool="bwrap").available():
        pytest.skip("needs bubblewrap: its private /tmp is what hid the environment")
    venv = venv_seeing_this_environment(Path("/tmp") / f"grade-venv-test-{os.getpid()}" / "venv")
    course = make_course(tmp_path / "course")
    batch = ("from pathlib import Path\nfrom grader.isolation import TemplateLauncher\n"
             "from grader.grading.run import grade\n"
             "with TemplateLauncher() as launcher:\n"
             "    assert launcher.template_available(), launcher.template_unavailable_reason()\n"
             f"    result = grade({LAB!r}, reference=True, course=Path({str(course)!r}), launcher=launcher)\n"
             "    print(result.score, result.max_score, launcher.fallback_reason or 'forked')\n")
    try:
        env = {k: v for k, v in os.environ.items() if k not in ("GRADE_COURSE", "PYTHONPATH", "GRADE_STUDENT")}
        env["GRADE_SANDBOX"] = "namespaces"
        done = subprocess.run([venv / "bin" / "python", "-m", "grader", LAB, "--reference", "--course", str(course)],
                              cwd=REPO, env=env, capture_output=True, text=True, timeout=300)
        forked = subprocess.run([venv / "bin" / "python", "-c", batch], cwd=REPO, env=env, capture_output=True,
                                text=True, timeout=300)
    finally:
        subprocess.run(["rm", "-rf", str(venv.parent)], check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    for blamed in BLAME:
        assert blamed not in done.stdout + done.stderr
    assert forked.stdout.split() == ["2.0", "2.0", "forked"], forked.stdout + forked.stderr   # a warm template too


def test_grade_check_lists_a_worker_that_cannot_start_as_not_graded(course, monkeypatch):
    """`grade check` (course CI): neither side is graded, and the line says why; no 'the reference fails'."""
    from grader.grading import prepare
    from grader.instructor.selfcheck import check_lab, line

    monkeypatch.setattr(prepare, "choose_launcher", lambda: DyingLauncher())   # where a run chooses it
    sides = check_lab(LAB, course)
    assert [side.summary for side in sides] == ["not graded", "not graded"]
    assert all("could not start its worker" in side.problem for side in sides), line(LAB, sides)
