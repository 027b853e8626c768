"""A real class through ``grade batch`` and ``grade export``: the students' reports are the ones ``grade`` prints,
and the class report names the class's mistakes with the right counts (slow: grades eleven hand-ins twice)."""

from __future__ import annotations

import csv
import json

import pytest

from grader.cli import main
from grader.instructor.gradebook import Gradebook
from grader.instructor.gradebook.exports import student_folders
from tests.classroom import HOSTILE_ID, KEYWORD, write_class

pytestmark = pytest.mark.slow
CUDA = "AssertionError: Torch not compiled with CUDA enabled"
CORRECT = ("alice", "bob", "carol", "grace", "heidi")


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    root = tmp_path_factory.mktemp("class")
    subs, out = write_class(root / "subs"), root / "out"
    assert main(["batch", "lab4", str(subs), "--out", str(out), "--jobs", "2", "-k", KEYWORD, "--quiet",
                 "--due", "2024-03-01T23:59:00+00:00"]) == 0
    assert main(["export", str(out)]) == 0
    with Gradebook(out / "grades.db") as book:
        rows = {row.student: row for row in book.submissions("lab4")}
        folders = student_folders(book, "lab4")
    return out, rows, folders


def up_to_the_time_line(text: str) -> str:
    return text.split("\ngraded in ")[0]


def test_every_students_report_is_what_grade_prints_for_their_file(graded, capsys):
    out, rows, folders = graded
    assert len(rows) == 11
    for student, row in rows.items():
        capsys.readouterr()
        main(["lab4", "--submission", row.source, "-k", KEYWORD])
        printed = capsys.readouterr().out
        exported = (out / "students" / folders[student] / "report.txt").read_text()
        assert up_to_the_time_line(exported) == up_to_the_time_line(printed), student
        assert "graded in " in exported and len(exported.splitlines()) > 10


def test_the_class_report_names_the_hard_coded_cuda_with_its_count(graded):
    out, rows, _ = graded
    text = (out / "report.txt").read_text()
    mistakes = text.split("Common mistakes, most common first\n")[1]
    assert mistakes.startswith(f"1. {CUDA}  (3 students, in audio_to_tensor;")
    assert "dave, erin, smithjane_12345" in mistakes.split("\n2. ")[0]
    page = (out / "report.html").read_text()
    assert f"<b>{CUDA}</b> — 3 students" in page
    assert HOSTILE_ID not in page and "&lt;img src=x onerror=alert(1)&gt;" in page


def test_checks_that_did_not_run_are_apart_never_passed(graded):
    out, rows, _ = graded
    skipped = [c for c in json.loads(rows["alice"].result)["extra_data"]["checks"] if c["status"] == "skipped"]
    if not skipped:
        pytest.skip("this machine has a CUDA GPU: nothing was skipped")
    page = (out / "report.html").read_text()
    table = page.split("id='checks-table'")[1].split("</table>")[0]
    listed = page.split("id='skipped-checks'")[1].split("</ul>")[0]
    for check in skipped:
        assert check["title"].replace('"', "&quot;") in listed and check["title"].replace('"', "&quot;") not in table


def test_correct_hand_ins_carry_no_warning_in_any_check(graded):
    _, rows, _ = graded
    for student in CORRECT:
        result = json.loads(rows[student].result)
        noisy = [(t["name"], t["output"]) for t in result["tests"] if t["output"] and t["status"] != "skipped"]
        assert noisy == [], student
        assert result["score"] == result["max_score"] > 0, student


def test_late_flags_reach_the_csv_and_canvas(graded):
    out, _, _ = graded
    with open(out / "grades.csv", newline="") as handle:
        late = {row["student"]: row["late"] for row in csv.DictReader(handle)}
    assert late["smithjane_12345"] == "late" and late["alice"] == ""
    with open(out / "canvas.csv", newline="") as handle:
        canvas = list(csv.reader(handle))
    assert canvas[0][:5] == ["Student", "ID", "SIS User ID", "SIS Login ID", "Section"]
    jane = next(r for r in canvas if r[1] == "12345")
    assert jane[0] == "smithjane" and float(jane[5]) > 0
