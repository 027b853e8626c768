"""Hostile submissions: the Lab 4 reference with one function replaced by an attack.

Each submission is generated from the reference's text plus the attack code
appended at the end (which redefines the attacked function, or misbehaves at
import), and graded by :func:`grader.grading.run.grade` against a small suite of our
own, lab ``hostile4`` of a course built in a temporary folder: the lab's real suite keeps changing, and
these tests are about containment, not about Lab 4.  The suite has

- ``test_attacked``: compares ``numpy_to_tensor``, the function attacks replace;
- ``test_untouched``: compares ``to_numpy``, which no attack touches (it runs
  after the attacked check, so it also proves the next check gets a working worker);
- ``test_not_selected``: left out by the keyword; it fails if it ever runs.
"""

from __future__ import annotations

import dataclasses
import shutil
import textwrap
import time
import uuid
from pathlib import Path

import pytest

from grader.isolation import TemplateLauncher
from grader.results import CheckResult, GradeResult
from grader.grading.run import grade
from tests.helpers import LAB4_REFERENCE, REPO, SANDBOX, grade_entries, kill_processes_with, processes_with

LAB = "hostile4"
KEYWORD = "attacked or untouched"
SUITE = '''
"""Checks for hostile submissions (written by tests/hostile/conftest.py)."""
import numpy as np
import pytest
import torch

from grader.checks import compare


@pytest.mark.points(2)
def test_attacked(submission, reference):
    """numpy_to_tensor, the function the attacks replace"""
    compare(submission, reference, "numpy_to_tensor", np.linspace(-1, 1, 12).reshape(3, 4))


@pytest.mark.points(1)
def test_untouched(submission, reference):
    """to_numpy, which no attack touches"""
    compare(submission, reference, "to_numpy", torch.arange(6.0).reshape(2, 3))


@pytest.mark.points(5)
def test_not_selected(submission):
    """must never run: the keyword leaves it out"""
    raise AssertionError("a deselected check ran")
'''


BUILTIN_SUITES = REPO / "grader" / "suites"
LAB_TOML = f'''
title = "Hostile submissions"
module = "pytorch_basics"
preload = ["numpy", "torch", "librosa"]
warm_up = ["{BUILTIN_SUITES / 'warm_librosa.py'}"]
'''


# The tiers: every attack is slow (a real grading each, most twice), except these, each with a fresh
# worker, which the fast tier keeps so that a launcher that lets the network, the files, the processes
# or the clock through fails `pytest -m "not slow"` too.  (The network check is the one Landlock does not
# also cover: without the network namespace, TCP is still refused by Landlock, UDP is not.)
FAST = {"test_udp_mptcp_and_unix_sockets_reach_nothing[fresh]", "test_reading_the_reference_and_the_suites[fresh]",
        "test_detached_children_that_sleep_forever[fresh]", "test_endless_loop_in_a_call[fresh]"}
HERE = Path(__file__).resolve().parent


@pytest.hookimpl(tryfirst=True)   # before `-m` deselects
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if HERE in item.path.resolve().parents and item.name not in FAST:
            item.add_marker(pytest.mark.slow)


@pytest.fixture(scope="session")
def hostile_course(tmp_path_factory) -> Path:
    """A course of its own: suite ``hostile4`` with the Lab 4 reference, and Lab 4 itself
    (the built-in suite, with this repository's reference and stub)."""
    course = tmp_path_factory.mktemp("hostile-course")
    suite = course / "suites" / LAB
    suite.mkdir(parents=True)
    (suite / "test_hostile_checks.py").write_text(SUITE)
    (suite / "lab.toml").write_text(LAB_TOML)
    shutil.copyfile(BUILTIN_SUITES / "course.toml", suite.parent / "course.toml")  # the worker as Lab 4's
    for lab in (LAB, "lab4"):
        (course / "reference" / lab).mkdir(parents=True)
        shutil.copyfile(LAB4_REFERENCE, course / "reference" / lab / LAB4_REFERENCE.name)
    shutil.copytree(REPO / "assignments" / "lab4", course / "assignments" / "lab4")
    return course


@dataclasses.dataclass
class Graded:
    """One hostile submission's grading run, and what it left behind."""

    result: GradeResult
    seconds: float
    marker: str
    leftover_folders: set[str]
    leftover_processes: list[str]

    def check(self, short: str) -> CheckResult:
        (found,) = [c for c in self.result.checks if c.name == f"test_{short}"]
        return found

    def summary(self, short: str) -> str:
        return (self.check(short).feedback.summary if self.check(short).feedback else "")


@pytest.fixture(scope="package")
def template_launcher():
    """One warm-template launcher for the hostile tests, as a batch grader process keeps one
    (closed when they end: later tests list what runs left in the temporary folder)."""
    if SANDBOX != "namespaces":
        pytest.skip("templates are namespace sandboxes; GRADE_SANDBOX asks for another kind")
    launcher = TemplateLauncher()
    if not launcher.template_available():
        launcher.close()
        pytest.skip(f"no warm template here: {launcher.template_unavailable_reason()}")
    launcher.run_folder()   # its folder exists before any test lists what a run left behind
    yield launcher
    launcher.close()


@pytest.fixture(params=["fresh", "template"])
def worker_source(request) -> str:
    """Every attack runs twice: against a fresh worker per run, and against workers forked from a
    warm template (what batch grading uses)."""
    return request.param


@pytest.fixture
def attack(hostile_course, tmp_path, worker_source, request):
    """``attack(code, ...)`` grades the reference plus ``code``; MARKER in it becomes a unique name.

    ``lab="lab4"`` grades it with the real Lab 4 suite instead (pick checks with ``keyword``),
    for attacks on that suite's own checks.  Workers are fresh, or forked from the session's
    warm template (``worker_source``)."""
    launcher = request.getfixturevalue("template_launcher") if worker_source == "template" else None

    markers: list[str] = []

    def run(code: str, *, call_timeout: float = 3, import_timeout: float = 60, keyword: str | None = KEYWORD,
            lab: str = LAB, **options) -> Graded:
        marker = f"gh{uuid.uuid4().hex[:10]}"  # short enough for a process name (15 characters)
        markers.append(marker)
        source = LAB4_REFERENCE.read_text() + "\n\n# ---- attack ----\n" + textwrap.dedent(code).replace("MARKER", marker)
        folder = "submission" if len(markers) == 1 else f"submission-{len(markers)}"  # a test may grade twice
        submission = tmp_path / folder / LAB4_REFERENCE.name
        submission.parent.mkdir()
        submission.write_text(source)
        folders = grade_entries()
        started = time.monotonic()
        result = grade(lab, submission, keyword=keyword, call_timeout=call_timeout, import_timeout=import_timeout,
                       course=hostile_course, launcher=launcher, **options)
        seconds = time.monotonic() - started
        return Graded(result, seconds, marker, grade_entries() - folders, processes_with(marker))

    yield run
    for marker in markers:  # if containment failed, do not leave the strays running
        kill_processes_with(marker)


def assert_contained(graded: Graded, *, attacked: str = "failed", reason: str | None = None,
                     untouched: str = "passed", bound: float = 60) -> None:
    """What every hostile run must show, whatever the attack."""
    result = graded.result
    assert [c.name for c in result.checks] == ["test_attacked", "test_untouched"]
    checks = {c.name: c for c in result.checks}
    for name, status in (("test_attacked", attacked), ("test_untouched", untouched)):
        check = checks[name]
        assert check.status == status, f"{name}: {check.status} ({check.feedback})"
        assert check.score == (check.points if status == "passed" else 0)
    if reason is not None:
        summary = graded.summary("attacked")
        assert reason in summary, f"expected {reason!r} in {summary!r}"
    assert result.sandbox.split()[0].rstrip(":") == SANDBOX, result.sandbox  # what confined it, keyword first
    assert result.score == sum(c.points for c in result.checks if c.status == "passed")
    assert result.to_dict()["score"] == result.score
    assert graded.seconds < bound, f"the run took {graded.seconds:.1f} s"
    assert graded.leftover_folders == set(), "the grading run left folders behind"
    assert graded.leftover_processes == [], "processes outlived the grading run"
