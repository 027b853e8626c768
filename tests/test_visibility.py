"""Who sees a check: the visibility marker, the JSON, and the student-facing run."""

from __future__ import annotations

import json

import pytest

from grader.feedback import report
from grader.results import GradeResult
from grader.grading.run import grade, list_checks
from grader.errors import SetupError
from tests.test_course import grade_cli
from tests.toy_course import LAB, SUITE, WITH_HIDDEN, make_course


def test_the_marker_sets_each_checks_visibility(tmp_path):
    checks = list_checks(LAB, make_course(tmp_path, suite=WITH_HIDDEN))
    assert {c.name: c.visibility for c in checks} == {
        "test_add": "visible", "test_add_negatives": "hidden", "test_add_floats": "after_due_date"}


def test_an_unknown_visibility_breaks_the_suite_in_one_line(tmp_path):
    suite = SUITE.replace("@pytest.mark.points(2)", '@pytest.mark.points(2)\n@pytest.mark.visibility("secret")')
    with pytest.raises(SetupError, match="visibility 'secret' \\(one of visible, hidden, after_due_date"):
        list_checks(LAB, make_course(tmp_path, suite=suite))


def test_the_withheld_line_counts_checks_and_points():
    result = GradeResult(lab=LAB, title="Toy", submission="s.py", withheld_checks=2, withheld_points=4)
    assert "2 more checks worth 4 points are graded by your instructor." in report.as_text(result)
    result.withheld_checks, result.withheld_points = 1, 1
    assert "1 more check worth 1 point is graded by your instructor." in report.as_text(result)
    result.withheld_checks = 0
    assert "graded by your instructor" not in report.as_text(result)


def test_the_instructor_runs_every_check_and_the_json_says_who_sees_it(tmp_path):
    result = grade(LAB, reference=True, course=make_course(tmp_path, suite=WITH_HIDDEN), student=False)
    assert (result.score, result.max_score, result.withheld_checks) == (6, 6, 0)
    tests = {t["name"]: t["visibility"] for t in result.to_dict()["tests"]}
    assert tests == {"test_add": "visible", "test_add_negatives": "hidden", "test_add_floats": "after_due_date"}


def test_a_student_run_does_not_run_what_students_do_not_see(tmp_path):
    course = make_course(tmp_path / "course", suite=WITH_HIDDEN)
    run = grade_cli(LAB, "--reference", "--format", "json", cwd=tmp_path,
                    env={"GRADE_COURSE": str(course), "GRADE_STUDENT": "1"})
    assert run.returncode == 0, run.stderr
    data = json.loads(run.stdout)
    assert [t["name"] for t in data["tests"]] == ["test_add"]
    assert (data["score"], data["max_score"], data["withheld_checks"], data["withheld_points"]) == (2, 2, 2, 4)
    text = grade_cli(LAB, "--reference", "--student", cwd=tmp_path, env={"GRADE_COURSE": str(course)})
    assert "2 more checks worth 4 points are graded by your instructor" in " ".join(text.stdout.split())
