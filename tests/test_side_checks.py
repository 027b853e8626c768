"""Side checks count only on top of a working function (grader/grading/side_checks.py, the side_of marker)."""

from __future__ import annotations

from pathlib import Path

import pytest

from grader.results import Feedback, CheckResult
from grader.grading.run import list_checks
from grader.errors import SetupError
from grader.grading.side_checks import settle


def result(name: str, status: str, points: float = 1) -> CheckResult:
    return CheckResult(name=name, title=name.removeprefix("test_").replace("_", " "), points=points,
                       status=status, score=points if status == "passed" else 0.0)


def settled(*results: CheckResult, required: dict) -> dict[str, CheckResult]:
    checks = list(results)
    settle(checks, required, {c.name.partition("[")[0]: c.title for c in checks})
    return {c.name: c for c in checks}


def test_a_side_check_keeps_its_points_when_its_main_check_passes():
    checks = settled(result("test_main", "passed"), result("test_side", "passed"),
                     required={"test_side": ("test_main",)})
    assert checks["test_side"].status == "passed" and checks["test_side"].score == 1


@pytest.mark.parametrize("main", ["failed", "skipped"])
def test_a_side_check_counts_nothing_on_top_of_a_main_check_that_did_not_pass(main):
    checks = settled(result("test_side", "passed"), result("test_main", main),  # order does not matter
                     required={"test_side": ("test_main",)})
    side = checks["test_side"]
    assert side.status == "failed" and side.score == 0
    assert "counts once “main” passes" in side.feedback.summary


def test_a_main_check_that_did_not_run_counts_as_not_passed():
    checks = settled(result("test_side", "passed"), required={"test_side": ("test_main",)})
    summary = checks["test_side"].feedback.summary
    assert checks["test_side"].score == 0 and "“test_main”" in summary and "did not run" in summary


def test_every_named_main_check_and_every_example_of_it_must_pass():
    checks = settled(result("test_a[1]", "passed"), result("test_a[2]", "failed"), result("test_b", "passed"),
                     result("test_side", "passed"), required={"test_side": ("test_a", "test_b")})
    assert checks["test_side"].score == 0 and "“a[" in checks["test_side"].feedback.summary


def test_a_side_check_that_failed_on_its_own_keeps_its_own_feedback():
    side = result("test_side", "failed")
    side.feedback = Feedback("its own reason")
    checks = settled(side, result("test_main", "failed"), required={"test_side": ("test_main",)})
    assert checks["test_side"].feedback == Feedback("its own reason")


SUITE = '''
import pytest

@pytest.mark.points(1)
def test_main(submission):
    """the main check"""

@pytest.mark.side_of("{name}")
@pytest.mark.points(1)
def test_side(submission):
    """a side check"""
'''


@pytest.fixture
def suite_course(tmp_path):
    def make(name: str) -> Path:
        course = tmp_path / name  # one folder per suite: pytest keeps a module it imported once
        suite = course / "suites" / "sidelab"
        suite.mkdir(parents=True)
        (suite / f"test_suite_{name}.py").write_text(SUITE.replace("{name}", name))
        (suite / "lab.toml").write_text('title = "Side checks"\nmodule = "nothing"\n')
        return course

    return make


def test_a_suite_naming_a_check_that_does_not_exist_is_refused(suite_course):
    assert [c.name for c in list_checks("sidelab", suite_course("test_main"))] == ["test_main", "test_side"]
    with pytest.raises(SetupError, match="side_of test_mian, which is no check of the suite"):
        list_checks("sidelab", suite_course("test_mian"))
