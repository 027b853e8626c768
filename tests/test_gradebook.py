"""The SQLite gradebook and its exports, from hand-made results (no grading)."""

from __future__ import annotations

import csv
import json
import os
import sqlite3
import xml.etree.ElementTree as ET

import pytest

from grader.cli import main
from grader.instructor.gradebook import Gradebook
from grader.instructor.gradebook.exports import export, safe_name
from grader.instructor.gradebook.stats import check_rates
from grader.instructor.gradebook.store import GradebookError
from grader.results import CheckResult, GradeResult

# Gradescope's results.json specification (https://gradescope-autograders.readthedocs.io/en/latest/specs/),
# written out as a JSON Schema: only these keys, with these types and values.
VISIBILITY = {"enum": ["hidden", "after_due_date", "after_published", "visible"]}
GRADESCOPE = {
    "type": "object", "additionalProperties": False,
    "properties": {
        "score": {"type": "number"}, "execution_time": {"type": "number"}, "output": {"type": "string"},
        "output_format": {"type": "string"}, "test_output_format": {"type": "string"},
        "test_name_format": {"type": "string"}, "visibility": VISIBILITY, "stdout_visibility": VISIBILITY,
        "extra_data": {"type": "object"}, "leaderboard": {"type": "array"},
        "tests": {"type": "array", "items": {
            "type": "object", "additionalProperties": False, "required": ["score", "max_score"],
            "properties": {
                "score": {"type": "number"}, "max_score": {"type": "number"},
                "status": {"enum": ["passed", "failed"]}, "name": {"type": "string"},
                "name_format": {"type": "string"}, "number": {"type": "string"}, "output": {"type": "string"},
                "output_format": {"type": "string"}, "tags": {"type": "array"}, "visibility": VISIBILITY,
                "extra_data": {"type": "object"}}}},
    },
}


def result(student: str, passed: tuple[bool, bool], cuda_skipped: bool = True) -> GradeResult:
    checks = [
        CheckResult("test_easy", "easy check", 2.0, "passed" if passed[0] else "failed", 2.0 if passed[0] else 0.0,
                    None if passed[0] else {"summary": "wrong shape", "rows": [["shape", "(1,)", "(2,)"]]}),
        CheckResult("test_hard", "hard check", 3.0, "passed" if passed[1] else "failed", 3.0 if passed[1] else 0.0,
                    None if passed[1] else {"summary": "wrong \x07value"}, output="printed <b>&\n"),
    ]
    if cuda_skipped:
        checks.append(CheckResult("test_cuda", "needs a GPU", 1.0, "skipped", skip_reason="needs a CUDA GPU"))
    return GradeResult("lab4", "PyTorch Essentials", student, checks, 1.25, "landlock")


@pytest.fixture
def book(tmp_path):
    with Gradebook(tmp_path / "grades.db") as book:
        book.record("alice", "lab4", "h1", "v1", result("alice", (True, True)), source="subs/alice/x.py")
        book.record("bob", "lab4", "h2", "v1", result("bob", (True, False)), note="graded X.py as pytorch_basics.py")
        book.record("carol", "lab4", "h3", "v1", result("carol", (False, False)))
        book.record_failure("dave", "lab4", "h4", "v1", "timeout", "took longer than its 900 s budget")
        book.set_problems("lab4", [("eve", "subs/eve", "missing", "no pytorch_basics.py (found: nothing)")])
        yield book


def test_records_round_trip_and_use_wal(book, tmp_path):
    rows = {r.student: r for r in book.submissions("lab4")}
    assert {k: (r.score, r.max_score, r.status) for k, r in rows.items()} == {
        "alice": (5, 5, "graded"), "bob": (2, 5, "graded"), "carol": (0, 5, "graded"), "dave": (0, None, "timeout")}
    assert rows["bob"].grade_result() == result("bob", (True, False))
    assert book.db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    checks = book.checks("bob", "lab4")
    assert [(c["name"], c["status"], c["visibility"]) for c in checks] == [
        ("test_easy", "passed", "visible"), ("test_hard", "failed", "visible"), ("test_cuda", "skipped", "visible")]


def test_current_means_same_content_same_grader_and_not_crashed(book):
    assert book.is_current("alice", "lab4", "h1", "v1")
    assert not book.is_current("alice", "lab4", "h1-changed", "v1")
    assert not book.is_current("alice", "lab4", "h1", "v2")
    assert book.is_current("dave", "lab4", "h4", "v1")           # a timeout is a result
    book.record_failure("dave", "lab4", "h4", "v1", "crashed", "grader died")
    assert not book.is_current("dave", "lab4", "h4", "v1")       # a crash is tried again


def test_a_failed_write_leaves_the_previous_grade(book):
    broken = result("alice", (False, False))
    broken.checks.append(broken.checks[0])                        # duplicate check name: the insert fails
    with pytest.raises(sqlite3.IntegrityError):
        book.record("alice", "lab4", "h9", "v1", broken)
    row = {r.student: r for r in book.submissions("lab4")}["alice"]
    assert (row.content_hash, row.score) == ("h1", 5) and len(book.checks("alice", "lab4")) == 3


def test_not_a_gradebook_is_one_clear_error(tmp_path):
    (tmp_path / "grades.db").write_text("this is not sqlite" * 100)
    with pytest.raises(GradebookError, match="not a gradebook"):
        Gradebook(tmp_path / "grades.db")


def test_pass_rates_hardest_first_skips_not_counted(book):
    rates = check_rates(book, "lab4")
    assert [(r.name, r.passed, r.failed) for r in rates] == [
        ("test_hard", 1, 2), ("test_easy", 2, 1), ("test_cuda", 0, 0)]


def test_csv_has_a_row_per_student_and_a_column_per_check(book, tmp_path):
    export(book, tmp_path / "out", ("csv",))
    with open(tmp_path / "out" / "grades.csv", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert list(rows[0]) == ["student", "score", "max_score", "percent", "status", "late", "submitted_at", "note",
                             "test_easy", "test_hard", "test_cuda"]
    by = {r["student"]: r for r in rows}
    assert (by["bob"]["score"], by["bob"]["max_score"], by["bob"]["percent"]) == ("2", "5", "40.0")
    assert (by["bob"]["test_easy"], by["bob"]["test_hard"], by["bob"]["test_cuda"]) == ("2", "0", "")
    assert by["bob"]["note"] == "graded X.py as pytorch_basics.py"
    assert (by["dave"]["status"], by["dave"]["score"]) == ("timeout", "0")
    assert (by["eve"]["status"], by["eve"]["score"]) == ("missing", "")      # listed, never dropped


def test_results_json_follows_gradescopes_specification(book, tmp_path):
    jsonschema = pytest.importorskip("jsonschema")
    export(book, tmp_path / "out", ("json",))
    files = sorted((tmp_path / "out" / "students").glob("*/results.json"))
    assert [f.parent.name for f in files] == ["alice", "bob", "carol", "dave"]
    for path in files:
        jsonschema.validate(json.loads(path.read_text()), GRADESCOPE)
    bob = json.loads((tmp_path / "out" / "students" / "bob" / "results.json").read_text())
    assert bob["score"] == 2 and [t["max_score"] for t in bob["tests"]] == [2, 3]   # skipped: said, not a test
    assert [t.get("status") for t in bob["tests"]] == ["passed", "failed"] and "skipped" in bob["output"]
    assert "wrong" in bob["tests"][1]["output"] and "printed <b>&" in bob["tests"][1]["output"]
    dave = json.loads((tmp_path / "out" / "students" / "dave" / "results.json").read_text())
    assert dave["tests"] == [] and "900 s budget" in dave["output"]


def test_junit_parses_with_failures_and_skips(book, tmp_path):
    export(book, tmp_path / "out", ("junit",))
    root = ET.parse(tmp_path / "out" / "junit.xml").getroot()
    suites = {s.get("name"): s for s in root.iter("testsuite")}
    assert sorted(suites) == ["alice", "bob", "carol", "dave"]
    bob = suites["bob"]
    assert (bob.get("tests"), bob.get("failures"), bob.get("skipped")) == ("3", "1", "1")
    hard = next(c for c in bob.iter("testcase") if c.get("name") == "test_hard")
    assert hard.find("failure").get("message") == "wrong value"     # a control character never reaches a result
    assert hard.find("system-out").text == "printed <b>&\n"
    assert suites["dave"].find("testcase/error").get("type") == "timeout"


def test_class_report_embeds_plots_and_student_reports_exist(book, tmp_path):
    export(book, tmp_path / "out", ("html", "reports"))
    page = (tmp_path / "out" / "report.html").read_text()
    assert page.count("<svg") == 3 and "<img" not in page                     # inline: one file, offline
    table = page.split("id='checks-table'")[1]
    assert table.index("hard check") < table.index("easy check")              # hardest first
    assert "needs a GPU" not in table.split("</table>")[0]                    # skipped: apart, never passed
    text = (tmp_path / "out" / "students" / "bob" / "report.txt").read_text()
    assert "hard check" in text and "wrong shape" not in text and "wrong" in text
    assert "<html" in (tmp_path / "out" / "students" / "bob" / "report.html").read_text().lower()


def test_safe_names_cannot_escape_or_collide():
    used: set[str] = set()
    names = [safe_name(s, used) for s in ["../etc", "..", "a/b", "A/B", "ok"]]
    assert names == ["_etc", "student", "a_b", "A_B-2", "ok"]
    assert all("/" not in n and n not in (".", "..") for n in names)


def test_export_command_writes_all_formats_and_reports_missing_gradebook(book, tmp_path, capsys):
    out = tmp_path                                    # the gradebook fixture lives in tmp_path
    assert main(["export", str(out), "--format", "csv", "--format", "junit"]) == 0
    assert (out / "grades.csv").exists() and (out / "junit.xml").exists() and not (out / "report.html").exists()
    assert main(["export", str(tmp_path / "nowhere")]) == 2
    assert "no gradebook" in capsys.readouterr().err


# ------------------------------------------------------------------ names a student controls (issue 20, item 1)
HOSTILE_IDS = ["=HYPERLINK(\"http://evil\",\"x\")", "+cmd|' /C calc'!A0", "-1+1", "@SUM(A1)", "\t=1",
               "esc\x1b[2J\x1b]0;title\x07", "line\u2028Score 58/58", "bidi\u202eevil", os.fsdecode(b"Jos\xe9")]


def test_hostile_student_ids_reach_no_export_raw(tmp_path):
    """Ids as an older layout or another writer may hand them over: the gradebook stores them
    printable, and every export escapes for its format."""
    with Gradebook(tmp_path / "grades.db") as book:
        for number, student in enumerate(HOSTILE_IDS):
            book.record(student, "lab4", f"h{number}", "v1", result(student, (True, False)),
                        source=f"subs/{student}/x.py", note=f"graded {student}.py as pytorch_basics.py")
        book.record_failure("=1+2\x1b[31m", "lab4", "h", "v1", "crashed", "grader died \x1b[2J")
        book.set_problems("lab4", [("@evil\x1b", "subs/@evil\x1b", "missing", "no file\u2028Score 1/1")])
        export(book, tmp_path / "out")
    with open(tmp_path / "out" / "grades.csv", newline="") as handle:
        cells = [cell for row in csv.reader(handle) for cell in row]
    for cell in cells:
        assert not cell.startswith(("=", "+", "-", "@", "\t", "\r")), cell
        assert cell.isprintable(), cell
    root = ET.parse(tmp_path / "out" / "junit.xml").getroot()        # parses: nothing XML forbids
    names = [s.get("name") for s in root.iter("testsuite")]
    assert len(names) == len(HOSTILE_IDS) + 1 and all(name.isprintable() for name in names)
    assert "Jos\\xe9" in names and "esc\\x1b[2J\\x1b]0;title\\x07" in names
    for report in (tmp_path / "out" / "students").glob("*/report.*"):
        text = report.read_text(encoding="utf-8")
        assert not {"\x1b", "\u2028", "\u202e", "\x07"} & set(text), report
    page = (tmp_path / "out" / "report.html").read_text()
    assert "\x1b" not in page


def test_what_an_lms_says_is_stored_valid_and_exported_escaped(tmp_path):
    """A metadata file's names and e-mails are student-controlled too (a lone surrogate, a formula)."""
    from grader.instructor.gradebook.store import Handin

    with Gradebook(tmp_path / "grades.db") as book:
        book.record("alice", "lab4", "h1", "v1", result("alice", (True, True)))
        book.set_handins("lab4", [("alice", Handin(name="=cmd|' -C calc'!A0\udce9\x1b[2J", email="@x\u2028y"),
                                   "x = '\ud800'\n")])
        export(book, tmp_path / "out", ("canvas", "grades", "csv"))
    for name in ("canvas.csv", "scores.csv", "grades.csv"):
        with open(tmp_path / "out" / name, newline="", encoding="utf-8") as handle:
            cells = [cell for row in csv.reader(handle) for cell in row]
        assert not [c for c in cells if c.startswith(("=", "+", "-", "@", "\t", "\r"))], name
        assert all(c.isprintable() for c in cells), name
