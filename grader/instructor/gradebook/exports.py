"""What leaves the gradebook: grades.csv, per-student results.json and reports, JUnit XML, report.html.

Every export is computed from the gradebook alone (no grading), so it can be
rerun at will. Student ids become file names only through :func:`safe_name`.
"""

from __future__ import annotations

import base64
import csv
import html
import io
import json
import re
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any, Callable

from rich.console import Console

from grader.feedback import report
from grader.instructor.gradebook.stats import CheckRate, check_order, check_rates, histogram
from grader.instructor.gradebook.store import Gradebook, SubmissionRow

FORMATS = ("csv", "json", "reports", "junit", "html")


def export(book: Gradebook, out: Path, formats: tuple[str, ...] = FORMATS, lab: str | None = None) -> list[Path]:
    """Write the chosen formats for each lab (or ``lab``) under ``out``; returns the files written."""
    labs = [lab] if lab else book.labs()
    written: list[Path] = []
    for name in labs:
        target = out if len(labs) == 1 else out / name
        target.mkdir(parents=True, exist_ok=True)
        for fmt in formats:
            written += WRITERS[fmt](book, name, target)
    return written


# ------------------------------------------------------------------ csv
def write_csv(book: Gradebook, lab: str, out: Path) -> list[Path]:
    """One row per student: id, score, max, percent, status, note, then each check's score."""
    checks = check_order(book, lab)
    path = out / "grades.csv"
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["student", "score", "max_score", "percent", "status", "note", *checks])
        for row in book.submissions(lab):
            scores = {c["name"]: c["score"] if c["status"] != "skipped" else "" for c in book.checks(row.student, lab)}
            writer.writerow([row.student, _num(row.score if row.graded else None), _num(row.max_score),
                             "" if row.percent is None else f"{row.percent:.1f}", row.status, row.note,
                             *(_num(scores.get(name, "")) for name in checks)])
        for problem in book.problems(lab):
            writer.writerow([problem["student"], "", "", "", problem["kind"], problem["detail"], *[""] * len(checks)])
    return [path]


def _num(value: Any) -> str:
    if value in ("", None):
        return ""
    return f"{value:g}" if isinstance(value, float) else str(value)


# ------------------------------------------------------------------ per student
def gradescope_results(row: SubmissionRow) -> dict[str, Any]:
    """Gradescope's results.json for one student (only keys its specification defines)."""
    result = row.grade_result()
    extra = {"student": row.student, "lab": row.lab, "status": row.status, "graded_at": row.graded_at,
             "max_score": row.max_score, "content_hash": row.content_hash, "grader_version": row.grader_version}
    if result is None:
        return {"score": 0.0, "execution_time": round(row.seconds, 3), "output": f"not graded: {row.note}",
                "visibility": "visible", "extra_data": extra, "tests": []}
    tests = []
    for number, (check, test) in enumerate(zip(result.checks, result.to_dict()["tests"]), start=1):
        entry = {"name": check.title, "number": str(number), "score": check.score,
                 "max_score": 0.0 if check.status == "skipped" else check.points, "output": test["output"],
                 "visibility": getattr(check, "visibility", None) or "visible", "extra_data": {"check": check.name}}
        if check.status in ("passed", "failed"):
            entry["status"] = check.status
        tests.append(entry)
    output = f"could not import the file: {result.import_error}" if result.import_error else ""
    return {"score": result.score, "execution_time": round(result.execution_time, 3), "output": output,
            "visibility": "visible", "extra_data": extra, "tests": tests}


def write_json(book: Gradebook, lab: str, out: Path) -> list[Path]:
    written = []
    for row, folder in _student_folders(book, lab, out):
        path = folder / "results.json"
        path.write_text(json.dumps(gradescope_results(row), indent=2))
        written.append(path)
    return written


def write_reports(book: Gradebook, lab: str, out: Path) -> list[Path]:
    """The report ``grade labN`` shows, as plain text and as HTML, per student."""
    written = []
    for row, folder in _student_folders(book, lab, out):
        result = row.grade_result()
        if result is None:
            (folder / "report.txt").write_text(f"{row.student}: not graded ({row.status}): {row.note}\n")
            written.append(folder / "report.txt")
            continue
        (folder / "report.txt").write_text(report.as_text(result))
        console = Console(width=100, record=True, file=io.StringIO(), force_terminal=True)
        console.print(report.render(result))
        (folder / "report.html").write_text(console.export_html(inline_styles=True))
        written += [folder / "report.txt", folder / "report.html"]
    return written


def _student_folders(book: Gradebook, lab: str, out: Path) -> list[tuple[SubmissionRow, Path]]:
    used: set[str] = set()
    pairs = []
    for row in book.submissions(lab):
        name = safe_name(row.student, used)
        folder = out / "students" / name
        folder.mkdir(parents=True, exist_ok=True)
        pairs.append((row, folder))
    return pairs


def safe_name(student: str, used: set[str]) -> str:
    """A file name for ``student``: only letters, digits, ``_ - .``; never ``.``/``..``; unique."""
    base = re.sub(r"[^\w.-]", "_", student, flags=re.ASCII).strip(".") or "student"
    name, n = base, 1
    while name.lower() in used:
        n += 1
        name = f"{base}-{n}"
    used.add(name.lower())
    return name


# ------------------------------------------------------------------ junit
def write_junit(book: Gradebook, lab: str, out: Path) -> list[Path]:
    """One testsuite per student, one testcase per check (CI dashboards read this)."""
    suites = ET.Element("testsuites", name=f"grade {lab}")
    for row in book.submissions(lab):
        checks = book.checks(row.student, lab)
        suite = ET.SubElement(suites, "testsuite", name=row.student, tests=str(len(checks)),
                              failures=str(sum(c["status"] == "failed" for c in checks)),
                              skipped=str(sum(c["status"] == "skipped" for c in checks)),
                              errors=str(int(row.status != "graded")), time=f"{row.seconds:.3f}")
        ET.SubElement(ET.SubElement(suite, "properties"), "property", name="score",
                      value=f"{_num(row.score)}/{_num(row.max_score)}")
        if row.status != "graded":
            case = ET.SubElement(suite, "testcase", classname=f"{lab}.{row.student}", name="grading", time="0")
            ET.SubElement(case, "error", message=_xml_text(row.note), type=row.status)
        for check in checks:
            case = ET.SubElement(suite, "testcase", classname=f"{lab}.{row.student}", name=check["name"],
                                 time=f"{check['seconds']:.3f}")
            if check["status"] == "failed":
                feedback = json.loads(check["feedback"]) if check["feedback"] else {}
                failure = ET.SubElement(case, "failure", message=_xml_text(feedback.get("summary", "failed")))
                failure.text = _xml_text(json.dumps(feedback, indent=1))
            elif check["status"] == "skipped":
                ET.SubElement(case, "skipped")
            if check["output"]:
                ET.SubElement(case, "system-out").text = _xml_text(check["output"])
    path = out / "junit.xml"
    ET.ElementTree(suites).write(path, encoding="utf-8", xml_declaration=True)
    return [path]


_XML_INVALID = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def _xml_text(text: str) -> str:
    """XML 1.0 cannot hold control characters at all, escaped or not."""
    return _XML_INVALID.sub("?", text or "")


# ------------------------------------------------------------------ class report
def write_html(book: Gradebook, lab: str, out: Path) -> list[Path]:
    """report.html: score histogram and per-check pass rates (hardest first) as embedded plots."""
    rows = book.submissions(lab)
    rates = check_rates(book, lab)
    percents = [r.percent or 0.0 for r in rows]
    mean = sum(percents) / len(percents) if percents else 0.0
    body = [f"<h1>{html.escape(lab)}: class report</h1>",
            f"<p>{len(rows)} submission(s) graded; mean {mean:.1f}%; "
            f"{sum(r.status != 'graded' for r in rows)} crashed or timed out; "
            f"{len(book.problems(lab))} entries not graded.</p>",
            "<h2>Scores</h2>", _img(_histogram_png(rows), "score histogram"),
            "<h2>Checks, hardest first</h2>", _img(_rates_png(rates), "pass rate per check"),
            _rates_table(rates)]
    page = ("<!DOCTYPE html>\n<html><head><meta charset='utf-8'><title>" + html.escape(lab) +
            " class report</title><style>body{font-family:sans-serif;max-width:60em;margin:auto}"
            "td,th{padding:2px 8px;text-align:left}</style></head><body>\n" + "\n".join(body) + "\n</body></html>\n")
    path = out / "report.html"
    path.write_text(page)
    return [path]


def _img(png: bytes, alt: str) -> str:
    return f"<img alt='{alt}' src='data:image/png;base64,{base64.b64encode(png).decode()}'>"


def _figure(height: float) -> Any:
    from matplotlib.figure import Figure   # no pyplot: no global figure state

    return Figure(figsize=(8, height), dpi=100, layout="constrained")


def _png(figure: Any) -> bytes:
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    return buffer.getvalue()


def _histogram_png(rows: list[SubmissionRow]) -> bytes:
    figure = _figure(3.5)
    axes = figure.add_subplot()
    counts = histogram(rows)
    axes.bar([label for label, _ in counts], [c for _, c in counts], color="#4477aa")
    axes.set_xlabel("score")
    axes.set_ylabel("students")
    axes.tick_params(axis="x", labelrotation=45)
    return _png(figure)


def _rates_png(rates: list[CheckRate]) -> bytes:
    figure = _figure(max(2.5, 0.25 * len(rates) + 1))
    axes = figure.add_subplot()
    shown = list(reversed(rates))     # barh draws bottom-up: hardest at the top
    axes.barh([r.name.removeprefix("test_")[:50] for r in shown], [100 * r.rate for r in shown], color="#cc6677")
    axes.set_xlim(0, 100)
    axes.set_xlabel("% of students passing")
    axes.tick_params(axis="y", labelsize=7)
    return _png(figure)


def _rates_table(rates: list[CheckRate]) -> str:
    rows = "".join(f"<tr><td>{html.escape(r.title)}</td><td>{r.passed}/{r.passed + r.failed}</td>"
                   f"<td>{100 * r.rate:.0f}%</td></tr>" for r in rates)
    return f"<table><tr><th>check</th><th>passed</th><th>rate</th></tr>{rows}</table>"


WRITERS: dict[str, Callable[[Gradebook, str, Path], list[Path]]] = {
    "csv": write_csv, "json": write_json, "reports": write_reports, "junit": write_junit, "html": write_html,
}
