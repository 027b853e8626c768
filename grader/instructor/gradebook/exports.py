"""What leaves the gradebook: grades.csv, per-student results.json and reports, JUnit XML, the class
report (report.html, report.txt), and the LMS's files (Canvas's gradebook CSV, a plain grades CSV).

Every export is computed from the gradebook alone (no grading), so it can be
rerun at will, and written as UTF-8 whatever the machine's locale (Windows would write cp1252,
which holds neither a student's name in Hangul nor the report's ✔). Student ids become file names only through :func:`safe_name`;
a student's report is the report ``grade labN --submission`` prints for the
same file (one renderer, :mod:`grader.feedback.report`), and their results.json
is Gradescope's (:func:`grader.instructor.gradescope.results`), tests in the lab's order.
Every text cell or field goes through its format's function in
:mod:`grader.instructor.gradebook.escape` (whatever wrote the gradebook).
"""

from __future__ import annotations

import dataclasses
import io
import json
import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

from rich.console import Console

from grader import inert
from grader.feedback import report
from grader.instructor.gradebook import FORMATS, class_page, class_text, escape, lms
from grader.instructor.gradebook.class_report import class_report
from grader.instructor.gradebook.lateness import NO_POLICY, LatePolicy, lateness
from grader.instructor.gradebook.stats import check_order
from grader.instructor.gradebook.store import Gradebook, GradebookError, SubmissionRow
from grader.feedback.gradescope import results as gradescope_json
from grader.instructor.similarity.detect import THRESHOLD, not_compared_whole, similar_pairs


_LAB_NAME = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_-]*")


@dataclass(frozen=True)
class ExportOptions:
    policy: LatePolicy = NO_POLICY       # --late-policy: applied to the LMS files and shown beside the scores
    assignment: str = ""                 # Canvas's assignment column (default: the lab's title)
    threshold: float = THRESHOLD         # the class report's similar pairs
    stubs: dict[str, str] | None = None  # lab -> its stub, the similarity's boilerplate (None: no similarity)


def export(book: Gradebook, out: Path, formats: tuple[str, ...] = FORMATS, lab: str | None = None,
           options: ExportOptions = ExportOptions()) -> list[Path]:
    """Write the chosen formats for each lab (or ``lab``) under ``out``; returns the files written."""
    labs = [lab] if lab else book.labs()
    for name in labs:   # a lab names a folder under ``out``: never ``..`` or a path (a gradebook edited by hand)
        if not _LAB_NAME.fullmatch(name):
            raise GradebookError(f"{book.path} holds a lab named {escape.printable(name)!r}, which is not a lab's name")
    written: list[Path] = []
    for name in labs:
        target = out if len(labs) == 1 else out / name
        target.mkdir(parents=True, exist_ok=True)
        for fmt in formats:
            written += WRITERS[fmt](book, name, target, options)
    return written


# ------------------------------------------------------------------ csv
def write_csv(book: Gradebook, lab: str, out: Path, options: ExportOptions = ExportOptions()) -> list[Path]:
    """One row per student: id, score, max, percent, status, lateness, note, then each check's score."""
    checks = check_order(book, lab)
    handins, due = book.handins(lab), book.due(lab)
    path = out / "grades.csv"
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = escape.csv_writer(handle)
        writer.writerow(escape.csv_row(["student", "score", "max_score", "percent", "status", "late",
                                        "submitted_at", "note", *checks]))
        for row in book.submissions(lab):
            handin = handins.get(row.student)
            scores = {c["name"]: c["score"] if c["status"] != "skipped" else "" for c in book.checks(row.student, lab)}
            writer.writerow(escape.csv_row([row.student, _num(row.score if row.graded else None), _num(row.max_score),
                                            "" if row.percent is None else f"{row.percent:.1f}", row.status,
                                            lateness(handin, due).label(), handin.submitted_at if handin else "",
                                            row.note, *(_num(scores.get(name, "")) for name in checks)]))
        for problem in book.problems(lab):
            writer.writerow(escape.csv_row([problem["student"], "", "", "", problem["kind"], "", "",
                                            problem["detail"], *[""] * len(checks)]))
    return [path]


def _num(value: Any) -> str:
    if value in ("", None):
        return ""
    return f"{value:g}" if isinstance(value, float) else str(value)


# ------------------------------------------------------------------ per student
def shown(row: SubmissionRow):
    """The student's result as their report shows it: named by the file handed in, as ``grade`` names it."""
    result = row.grade_result()
    return dataclasses.replace(result, submission=row.source or row.student) if result is not None else None


def gradescope_results(row: SubmissionRow) -> dict[str, Any]:
    """Gradescope's results.json for one student: the autograder's (tests in the lab's order), with who and
    when in ``extra_data``."""
    result = shown(row)
    extra = {"student": row.student, "lab": row.lab, "status": row.status, "graded_at": row.graded_at,
             "max_score": row.max_score, "content_hash": row.content_hash, "grader_version": row.grader_version}
    if result is None:
        return {"score": 0.0, "execution_time": round(row.seconds), "output": f"not graded: {inert.clean(row.note)}",
                "output_format": "text", "visibility": "visible", "extra_data": extra, "tests": []}
    return gradescope_json(result, extra)


def write_json(book: Gradebook, lab: str, out: Path, options: ExportOptions = ExportOptions()) -> list[Path]:
    written = []
    for row, folder in _student_folders(book, lab, out):
        path = folder / "results.json"
        path.write_text(json.dumps(gradescope_results(row), indent=2), encoding="utf-8")
        written.append(path)
    return written


def write_reports(book: Gradebook, lab: str, out: Path, options: ExportOptions = ExportOptions()) -> list[Path]:
    """The report ``grade labN --submission FILE`` prints, as plain text and as HTML, per student."""
    written = []
    for row, folder in _student_folders(book, lab, out):
        result = shown(row)
        if result is None:
            student, status, why = inert.line(row.student), inert.line(row.status), inert.line(row.note, inert.MESSAGE)
            text = f"{student}: not graded ({status}): {why}\n"
            (folder / "report.txt").write_text(text, encoding="utf-8")
            (folder / "report.html").write_text(class_page.not_graded_page(row.student, text), encoding="utf-8")
            written += [folder / "report.txt", folder / "report.html"]
            continue
        (folder / "report.txt").write_text(report.as_text(result), encoding="utf-8")
        console = Console(width=report_width(), record=True, file=io.StringIO(), force_terminal=True)
        console.print(report.render(result))
        (folder / "report.html").write_text(student_page(console, row.student), encoding="utf-8")
        written += [folder / "report.txt", folder / "report.html"]
    return written


def report_width() -> int:
    return 80   # the width report.as_text and a piped ``grade`` print at: the same lines in both


def student_page(console: Console, student: str) -> str:
    """rich's HTML of the report (every student string escaped by rich), titled, with a way back; like the
    class report, it loads and runs nothing (its Content-Security-Policy), whatever slipped through."""
    page = console.export_html(inline_styles=True)
    title = (f"<meta http-equiv='Content-Security-Policy' content=\"{class_page.NOTHING_LOADS}\">\n"
             f"<title>{class_page.escape(student)}: report</title>")
    back = "<p><a href='../../report.html'>← class report</a></p>"
    return page.replace("<head>", "<head>\n" + title, 1).replace("<body>", "<body>\n" + back, 1)


def _student_folders(book: Gradebook, lab: str, out: Path) -> list[tuple[SubmissionRow, Path]]:
    folders = student_folders(book, lab)
    pairs = []
    for row in book.submissions(lab):
        folder = out / "students" / folders[row.student]
        folder.mkdir(parents=True, exist_ok=True)
        pairs.append((row, folder))
    return pairs


_WINDOWS_DEVICE = re.compile(r"(?:CON|PRN|AUX|NUL|COM\d|LPT\d)_*", re.IGNORECASE)   # "CON " became "CON_"


def student_folders(book: Gradebook, lab: str) -> dict[str, str]:
    """Each student's folder name under ``students/`` (the same in every export)."""
    used: set[str] = set()
    return {row.student: safe_name(row.student, used) for row in book.submissions(lab)}


def safe_name(student: str, used: set[str]) -> str:
    """A file name for ``student``: only letters, digits, ``_ - .``; never ``.``/``..`` nor a name Windows
    keeps for a device (``CON``, ``nul.txt``: prefixed with ``_``); unique."""
    base = re.sub(r"[^\w.-]", "_", student, flags=re.ASCII).strip(".") or "student"
    if _WINDOWS_DEVICE.fullmatch(base.split(".")[0]):
        base = "_" + base
    name, n = base, 1
    while name.lower() in used:
        n += 1
        name = f"{base}-{n}"
    used.add(name.lower())
    return name


# ------------------------------------------------------------------ junit
def write_junit(book: Gradebook, lab: str, out: Path, options: ExportOptions = ExportOptions()) -> list[Path]:
    """One testsuite per student, one testcase per check (CI dashboards read this)."""
    suites = ET.Element("testsuites", name=f"grade {lab}")
    for row in book.submissions(lab):
        checks = book.checks(row.student, lab)
        suite = ET.SubElement(suites, "testsuite", name=escape.xml_attribute(row.student), tests=str(len(checks)),
                              failures=str(sum(c["status"] == "failed" for c in checks)),
                              skipped=str(sum(c["status"] == "skipped" for c in checks)),
                              errors=str(int(row.status != "graded")), time=f"{row.seconds:.3f}")
        ET.SubElement(ET.SubElement(suite, "properties"), "property", name="score",
                      value=f"{_num(row.score)}/{_num(row.max_score)}")
        classname = escape.xml_attribute(f"{lab}.{row.student}")
        if row.status != "graded":
            case = ET.SubElement(suite, "testcase", classname=classname, name="grading", time="0")
            ET.SubElement(case, "error", message=escape.xml_attribute(row.note, escape.CELL),
                          type=escape.xml_attribute(row.status))
        for check in checks:
            case = ET.SubElement(suite, "testcase", classname=classname, name=escape.xml_attribute(check["name"]),
                                 time=f"{check['seconds']:.3f}")
            if check["status"] == "failed":
                feedback = json.loads(check["feedback"]) if check["feedback"] else {}
                summary = feedback.get("summary", "failed") if isinstance(feedback, dict) else "failed"
                failure = ET.SubElement(case, "failure", message=escape.xml_attribute(summary, escape.CELL))
                failure.text = escape.xml_text(json.dumps(feedback, indent=1, ensure_ascii=False),
                                               4 * inert.OUTPUT)
            elif check["status"] == "skipped":
                ET.SubElement(case, "skipped")
            if check["output"]:
                ET.SubElement(case, "system-out").text = escape.xml_text(check["output"])
    path = out / "junit.xml"
    ET.ElementTree(suites).write(path, encoding="utf-8", xml_declaration=True)
    return [path]


# ------------------------------------------------------------------ class report
def write_html(book: Gradebook, lab: str, out: Path, options: ExportOptions = ExportOptions()) -> list[Path]:
    """report.html (one self-contained page: styles, plots and script inline, opens offline) and report.txt,
    the same sections for a terminal."""
    content = class_report(book, lab, student_folders(book, lab), options.policy)
    stub = (options.stubs or {}).get(lab)
    codes = book.codes(lab) if stub is not None else {}
    pairs = similar_pairs(codes, stub, "submission.py", options.threshold) if stub is not None else None
    cut = not_compared_whole(codes)
    (out / "report.html").write_text(class_page.render(content, pairs, options.threshold, cut), encoding="utf-8")
    (out / "report.txt").write_text(class_text.render(content, pairs, options.threshold, cut), encoding="utf-8")
    return [out / "report.html", out / "report.txt"]


# ------------------------------------------------------------------ the LMS
def write_canvas(book: Gradebook, lab: str, out: Path, options: ExportOptions = ExportOptions()) -> list[Path]:
    return [lms.write_canvas(book, lab, out / "canvas.csv", options.assignment, options.policy)]


def write_grades(book: Gradebook, lab: str, out: Path, options: ExportOptions = ExportOptions()) -> list[Path]:
    return [lms.write_grades(book, lab, out / "scores.csv", options.policy)]


WRITERS: dict[str, Callable[[Gradebook, str, Path, ExportOptions], list[Path]]] = {
    "csv": write_csv, "json": write_json, "reports": write_reports, "junit": write_junit, "html": write_html,
    "canvas": write_canvas, "grades": write_grades,
}
