"""``grade check``: references earn full marks, stubs 0, one line per lab, JUnit XML."""

from __future__ import annotations

import xml.etree.ElementTree as ET

from grader.results import CheckResult, GradeResult
from grader.instructor.selfcheck import judge
from tests.test_course import grade_cli
from tests.toy_course import LAB, MODULE, STUB, make_course


def result(*statuses: str) -> GradeResult:
    return GradeResult(lab=LAB, title="Toy", submission="", checks=[
        CheckResult(name=f"test_{i}", title="t", points=1, status=s, score=1.0 if s == "passed" else 0.0)
        for i, s in enumerate(statuses)])


def test_the_reference_must_pass_every_check_that_ran_and_the_stub_none():
    assert judge(LAB, "reference", result("passed", "skipped")) == ""
    assert "fails 1 check(s): test_1" in judge(LAB, "reference", result("passed", "failed"))
    assert judge(LAB, "reference", result("skipped")) == "no check ran"
    assert judge(LAB, "stub", result("failed", "skipped")) == ""
    assert "passes 1 check(s): test_0" in judge(LAB, "stub", result("passed", "failed"))


def test_grade_check_passes_a_sound_course_and_writes_junit(tmp_path):
    course = make_course(tmp_path / "course")
    run = grade_cli("check", "--junit", str(tmp_path / "check.xml"), LAB, cwd=tmp_path,
                    env={"GRADE_COURSE": str(course)})
    assert run.returncode == 0, run.stdout + run.stderr
    assert run.stdout.startswith(f"✔ {LAB}: reference 2/2 ✔ · stub 0/2 ✔")
    suite = ET.parse(tmp_path / "check.xml").getroot().find("testsuite")
    assert (suite.get("tests"), suite.get("failures")) == ("2", "0")


def test_grade_check_fails_when_the_reference_is_the_stub(tmp_path):
    course = make_course(tmp_path / "course")
    (course / "reference" / LAB / f"{MODULE}.py").write_text(STUB)
    run = grade_cli("check", LAB, "--course", str(course), "--junit", str(tmp_path / "check.xml"), cwd=tmp_path)
    assert run.returncode == 1, run.stdout + run.stderr
    assert "the reference fails 1 check(s): test_add" in run.stdout
    failures = ET.parse(tmp_path / "check.xml").getroot().iter("failure")
    assert [f.get("message") for f in failures] == ["the reference fails 1 check(s): test_add"]


def test_grade_check_refuses_an_unknown_lab_in_one_line(tmp_path):
    run = grade_cli("check", "lab99", cwd=tmp_path)
    assert run.returncode == 2 and run.stderr.startswith("grade: error: unknown lab 'lab99'")
