"""The class report and the LMS files, from hand-made results in a gradebook (no grading)."""

from __future__ import annotations

import csv
import json
import re

import pytest

from grader.cli import main
from grader.instructor.gradebook import Gradebook
from grader.instructor.gradebook.class_report import class_report
from grader.instructor.gradebook.exports import ExportOptions, export, gradescope_results, student_folders
from grader.instructor.gradebook.lateness import Lateness, late_policy, lateness
from grader.instructor.gradebook.lms import CANVAS_COLUMNS
from grader.instructor.gradebook.store import Handin
from grader.results import CheckResult, GradeResult

FUNCTIONS = ["select_device", "to_unet_input", "audio_to_tensor"]
CUDA = "Torch not compiled with CUDA enabled"
FORMULA = "=HYPERLINK(\"http://evil\",\"x\")"


def frame(function: str, line: int, code: str) -> dict:
    return {"file": "pytorch_basics.py", "line": line, "function": function, "code": code}


def failed(name: str, function: str, points: float = 1, summary: str = "", error: dict | None = None,
           **more) -> CheckResult:
    return CheckResult(name, f"{function} check {name}", points, "failed", 0.0,
                       {"summary": summary or f"{function}: wrong", "hint": more.pop("hint", "")},
                       function=function, error=error, **more)


def passed(name: str, function: str, points: float = 1) -> CheckResult:
    return CheckResult(name, f"{function} check {name}", points, "passed", points, function=function)


def cuda_error(line: int, code: str) -> dict:
    return {"type": "AssertionError", "message": CUDA, "frames": [frame("audio_to_tensor", line, code)]}


def not_implemented(function: str) -> dict:
    return {"type": "NotImplementedError", "message": "write me", "frames": [frame(function, 9, "raise ...")]}


def lab4(student: str, checks: list[CheckResult]) -> GradeResult:
    """A Lab 4 result over three functions, with the GPU check skipped (no CUDA here), in the suite's
    file order (audio first: the report and the exports follow the lab's order instead)."""
    checks = checks + [CheckResult("test_on_gpu", "audio_to_tensor on a real GPU", 1, "skipped",
                                   skip_reason="needs a CUDA GPU", function="audio_to_tensor")]
    return GradeResult("lab4", "PyTorch Essentials", student, checks, 2.5, "namespaces", functions=FUNCTIONS)


def cuda_student(student: str, line: int, code: str) -> GradeResult:
    return lab4(student, [failed("test_audio_shape", "audio_to_tensor", 2, error=cuda_error(line, code),
                                 hint="use the device argument"),
                          failed("test_audio_values", "audio_to_tensor", error=cuda_error(line, code)),
                          passed("test_device", "select_device", 3), passed("test_unet", "to_unet_input", 2)])


CLASS = {
    "alice": lab4("alice", [passed("test_audio_shape", "audio_to_tensor", 2),
                            passed("test_audio_values", "audio_to_tensor"),
                            passed("test_device", "select_device", 3), passed("test_unet", "to_unet_input", 2)]),
    "bob": cuda_student("bob", 175, 'return tensor.to("cuda")'),
    "carol": cuda_student("carol", 88, "return spec.cuda()"),
    FORMULA: cuda_student(FORMULA, 12, 'x = x.to("cuda")  # <b>bold</b>'),
    "dave": lab4("dave", [failed("test_audio_shape", "audio_to_tensor", 2, error=not_implemented("audio_to_tensor")),
                          failed("test_audio_values", "audio_to_tensor", error=not_implemented("audio_to_tensor")),
                          passed("test_device", "select_device", 3),
                          failed("test_unet", "to_unet_input", 2, summary="to_unet_input: wrong shape (1, 5, 7)"),
                          failed("test_unet_side", "to_unet_input", summary="this check passed, but it counts once "
                                                                            "“x” passes")]),
    "erin": lab4("erin", [failed("test_audio_shape", "audio_to_tensor", 2, summary="to_unet_input: wrong shape (3, 4)",
                                 explained_by=["to_unet_input"]),
                          failed("test_audio_values", "audio_to_tensor", error=not_implemented("audio_to_tensor")),
                          passed("test_device", "select_device", 3),
                          failed("test_unet", "to_unet_input", 2, summary="to_unet_input: wrong shape (9, 9, 9)")]),
}


@pytest.fixture
def book(tmp_path):
    with Gradebook(tmp_path / "grades.db") as book:
        for student, result in CLASS.items():
            book.record(student, "lab4", f"h-{student}", "v1", result, source=f"subs/{student}/pytorch_basics.py")
        book.record_failure("zoe", "lab4", "hz", "v1", "timeout", "took longer than its 900 s budget")
        book.set_problems("lab4", [("yann", "subs/yann", "missing", "no pytorch_basics.py (found: notes.txt)")])
        book.set_handins("lab4", [
            ("alice", Handin(submitted_at="2024-03-01T20:00:00+00:00", sis_id="1001", email="alice@uni.edu",
                             name="Alice A"), "code a"),
            ("bob", Handin(submitted_at="2024-03-03T01:00:00+00:00", sis_id="1002"), "code b"),   # 1 d 1 h late
            ("carol", Handin(name="carol", lms_id="555", late=True), "code c"),                     # Canvas _late
        ])
        book.set_due("lab4", "2024-03-02T00:00:00+00:00")
        yield book


def report_of(book):
    return class_report(book, "lab4", student_folders(book, "lab4"))


# ------------------------------------------------------------------ the content
def test_checks_that_ran_for_no_one_are_apart_and_never_passed(book):
    report = report_of(book)
    assert [c.name for c in report.skipped] == ["test_on_gpu"]
    assert "test_on_gpu" not in [c.name for c in report.checks]
    assert all(c.ran > 0 for c in report.checks)
    rates = [c.rate for c in report.checks]
    assert rates == sorted(rates) and rates[0] == 0                         # hardest first
    assert {c.name: c.rate for c in report.checks}["test_audio_values"] == pytest.approx(1 / 6)


def test_common_mistakes_group_the_class_by_cause_most_common_first(book):
    mistakes = report_of(book).mistakes
    first = mistakes[0]
    assert first.what == f"AssertionError: {CUDA}"
    assert sorted(first.students) == sorted(["bob", "carol", FORMULA]) and first.functions == ["audio_to_tensor"]
    assert (first.checks, first.points) == (6, 9) and first.hint == "use the device argument"
    assert sorted(first.lines) == ['return spec.cuda()', 'return tensor.to("cuda")', 'x = x.to("cuda")  # <b>bold</b>']
    shapes = {m.what: m.students for m in mistakes if "wrong shape" in m.what}
    assert shapes == {"to_unet_input: wrong shape (N, N, N)": ["dave", "erin"]}   # numbers aside: one kind
    said = " ".join(m.what for m in mistakes)
    assert "write me" not in said            # a function not started yet is no mistake
    assert "counts once" not in said         # nor a side check waiting on its main one
    assert "wrong shape (N, N)" not in said          # erin's audio_to_tensor failure is explained by to_unet_input


def test_by_function_in_the_labs_order(book):
    rows = {r.name: (r.right, r.partly, r.wrong, r.not_started) for r in report_of(book).functions}
    assert list(rows) == FUNCTIONS
    assert rows["select_device"] == (6, 0, 0, 0)
    assert rows["to_unet_input"] == (4, 0, 2, 0)
    assert rows["audio_to_tensor"] == (1, 0, 4, 1)   # erin: one explained failure, one not started: started


def test_summary_counts_and_who_could_not_be_graded(book):
    s = report_of(book).summary
    assert (s.submissions, s.graded) == (7, 6)
    assert s.highest == 100 and s.lowest == pytest.approx(100 * 3 / 9)      # dave: 3 of 9
    assert s.median == pytest.approx(100 * 5 / 8) and s.quartiles is not None
    assert [(who, kind) for who, kind, _ in s.not_graded] == [("zoe", "timeout"), ("yann", "missing")]


def test_lateness_from_the_due_time_and_the_lms_mark(book):
    students = {s.student: s for s in report_of(book).students}
    assert students["alice"].late == Lateness(False, None)
    assert students["bob"].late.late and students["bob"].late.days == 2
    assert students["bob"].late.label() == "late by 1 d 1 h"
    assert students["carol"].late == Lateness(True, None) and students["carol"].late.label() == "late"
    assert not students["dave"].late.late                       # nothing said: on time


def test_late_policy_parses_and_deducts_per_day_started():
    policy = late_policy("10%/day")
    assert policy.apply(8, Lateness(True, 3600 * 25), 8) == pytest.approx(8 - 1.6)
    assert policy.apply(8, Lateness(True, None), 8) == pytest.approx(7.2)   # a mark without a time: one day
    assert policy.apply(1, Lateness(True, 86400 * 30), 8) == 0               # never below 0
    assert policy.apply(8, Lateness(), 8) == 8
    for bad in ("ten", "-5", "150%", ""):
        with pytest.raises(ValueError, match="late-policy"):
            late_policy(bad)
    assert lateness(Handin(submitted_at="2024-03-01T23:00:00-08:00"), "2024-03-02T06:30:00+00:00").late
    assert not lateness(Handin(submitted_at="2024-03-01T23:00:00-08:00"), "2024-03-02T07:30:00+00:00").late


# ------------------------------------------------------------------ the files
def test_class_report_files_show_every_section(book, tmp_path):
    export(book, tmp_path, ("html", "reports"), options=ExportOptions(stubs={"lab4": "def f():\n    pass\n"}))
    page = (tmp_path / "report.html").read_text()
    text = (tmp_path / "report.txt").read_text()
    for section in ("Summary", "By function", "Common mistakes", "Checks, hardest first", "Students",
                    "Similar submissions"):
        assert section in page and section in text, section
    assert page.count("<svg") == 3 and "<img" not in page                 # plots inline: one file, offline
    assert re.findall(r"(?:src|href)\s*=\s*['\"]?(?:[a-z]+:|//)", page) == []   # nothing loaded from anywhere
    skipped = page.split("id='skipped-checks'")[1].split("</ul>")[0]
    assert "audio_to_tensor on a real GPU" in skipped
    table = page.split("id='checks-table'")[1].split("</table>")[0]
    assert "audio_to_tensor on a real GPU" not in table
    assert text.index(f"AssertionError: {CUDA}") < text.index("wrong shape")
    assert "3 students" in text.split(CUDA)[1].splitlines()[0]
    links = [f"students/{folder}/report.html" for folder in student_folders(book, "lab4").values()]
    assert all(link in page for link in links) and all((tmp_path / link).is_file() for link in links)


def test_student_text_is_escaped_in_the_class_report(book, tmp_path):
    export(book, tmp_path, ("html",))
    page = (tmp_path / "report.html").read_text()
    assert "<b>bold</b>" not in page and "&lt;b&gt;bold&lt;/b&gt;" in page
    assert page.count("<script") == 1   # the page's own


def test_canvas_csv_has_canvas_columns_and_matches_students_by_the_layouts_ids(book, tmp_path):
    export(book, tmp_path, ("canvas",), options=ExportOptions(assignment="Lab 4 (1234)"))
    with open(tmp_path / "canvas.csv", newline="", encoding="utf-8") as handle:
        rows = list(csv.reader(handle))
    assert rows[0] == [*CANVAS_COLUMNS, "Lab 4 (1234)"]                 # Canvas's gradebook import columns
    assert rows[1][0] == "Points Possible" and rows[1][5] == "8"
    by = {r[0]: r for r in rows[2:]}
    assert by["Alice A"][1:6] == ["", "1001", "alice@uni.edu", "", "8"]
    assert by["carol"][1] == "555"                                      # Canvas's user id from the file name
    assert by["zoe"][5] == ""                                           # not graded: empty, never 0
    assert by["'" + FORMULA][5] == "5"                                  # never a formula
    assert len(rows) == 2 + 7 and all(len(r) == 6 for r in rows)


def test_plain_grades_and_the_late_policy(book, tmp_path):
    export(book, tmp_path, ("grades", "canvas"), options=ExportOptions(policy=late_policy("10")))
    with open(tmp_path / "scores.csv", newline="") as handle:
        rows = {r["id"]: r for r in csv.DictReader(handle)}
    assert list(next(iter(rows.values()))) == ["id", "score", "max", "percent"]
    assert (rows["alice"]["score"], rows["alice"]["max"], rows["alice"]["percent"]) == ("8", "8", "100.0")
    assert rows["bob"]["score"] == f"{5 - 2 * 0.8:g}"                   # two days started: 20% of 8 off
    assert rows["carol"]["score"] == f"{5 - 0.8:g}"                     # late mark: one day
    assert rows["zoe"]["score"] == "" and "yann" not in rows


def test_grades_csv_shows_lateness_and_escapes_formulas(book, tmp_path):
    export(book, tmp_path, ("csv",))
    with open(tmp_path / "grades.csv", newline="") as handle:
        rows = {r["student"]: r for r in csv.DictReader(handle)}
    assert rows["bob"]["late"] == "late by 1 d 1 h" and rows["carol"]["late"] == "late"
    assert rows["bob"]["submitted_at"] == "2024-03-03T01:00:00+00:00"
    assert "'" + FORMULA in rows and FORMULA not in rows


def test_gradescope_results_follow_the_labs_order(book):
    tests = gradescope_results(next(r for r in book.submissions("lab4") if r.student == "alice"))["tests"]
    assert [t["name"].split(" check ")[0] for t in tests] == ["select_device", "to_unet_input", "audio_to_tensor",
                                                              "audio_to_tensor"]


def test_export_command_options(book, tmp_path, capsys):
    assert main(["export", str(tmp_path), "--format", "canvas", "--late-policy", "5%/day",
                 "--assignment", "Lab 4"]) == 0
    assert (tmp_path / "canvas.csv").read_text().startswith("Student,ID,SIS User ID,SIS Login ID,Section,Lab 4")
    with pytest.raises(SystemExit) as exited:
        main(["export", str(tmp_path), "--late-policy", "lots"])
    assert exited.value.code == 2
    assert "late-policy" in capsys.readouterr().err
    data = json.loads(json.dumps(gradescope_results(book.submissions("lab4")[0])))
    assert data["extra_data"]["lab"] == "lab4"


def test_report_txt_holds_no_terminal_escape_from_a_student(book, tmp_path):
    book.record("evil\x1b[2J\x1b]0;owned\x07", "lab4", "he", "v1", cuda_student("evil", 3, 'x.to("cuda")\x1b[31m'))
    export(book, tmp_path, ("html",))
    text = (tmp_path / "report.txt").read_text()
    assert "\x1b" not in text and "\x07" not in text and "evil" in text
