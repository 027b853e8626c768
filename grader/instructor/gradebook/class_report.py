"""The class report's content, computed from the gradebook alone: what ``report.html`` and ``report.txt`` show.

- summary: how many, mean, median, quartiles and the histogram of the graded
  submissions' percentages; who could not be graded and why;
- by function, in the lab's order: how many students have it fully right,
  partly, no check passing, not started (:func:`grader.feedback.report.function_groups`,
  the students' own report's grouping);
- common mistakes: the root causes of the class, grouped across students by
  the exception and its message (numbers and paths aside), or for a failure
  without one by the function and the kind of message; how many students made
  each, in which functions, most common first;
- checks, hardest first, by title, over the students they ran for; checks
  that ran for no one (skipped: no GPU) apart, never counted as passed;
- students: score, status, time, lateness, and where their own report is.

Rendering is elsewhere (class_page for HTML, class_text for text): both show this.
"""

from __future__ import annotations

import re
import statistics
from collections import Counter
from dataclasses import dataclass, field

from grader.feedback.causes import not_started
from grader.feedback.report import function_groups, in_lab_order
from grader.instructor.gradebook.lateness import NO_POLICY, LatePolicy, Lateness, lateness
from grader.instructor.gradebook.stats import histogram
from grader.instructor.gradebook.store import Gradebook, SubmissionRow
from grader.results import CheckResult, GradeResult

WAITING = "this check passed, but it counts once"   # a side check waiting on its main one (side_checks.py)
EXAMPLES = 3   # lines of students' code shown per mistake


@dataclass(frozen=True)
class Summary:
    submissions: int               # graded, timed out or crashed (not: entries that could not be graded)
    graded: int
    mean: float | None             # percent, over the graded ones
    median: float | None
    quartiles: tuple[float, float] | None
    lowest: float | None
    highest: float | None
    histogram: list[tuple[str, int]]
    not_graded: list[tuple[str, str, str]]   # (student, status or problem kind, why)
    not_imported: list[tuple[str, str]] = field(default_factory=list)   # (student, why): graded 0 all the same


@dataclass(frozen=True)
class FunctionRow:
    name: str
    points: float
    right: int                     # every check passes
    partly: int                    # some pass
    wrong: int                     # started, no check passes
    not_started: int


@dataclass
class Mistake:
    what: str                      # "AssertionError: Torch not compiled with CUDA enabled", "f: wrong shape"
    students: list[str] = field(default_factory=list)
    functions: list[str] = field(default_factory=list)
    checks: int = 0                # failed checks it accounts for, over the class
    points: float = 0.0            # points it cost, over the class
    lines: list[str] = field(default_factory=list)   # what the students' code said there (a few, distinct)
    hint: str = ""


@dataclass(frozen=True)
class CheckRow:
    name: str
    title: str
    function: str
    points: float
    passed: int
    failed: int
    skipped: int

    @property
    def ran(self) -> int:
        return self.passed + self.failed

    @property
    def rate(self) -> float:
        return self.passed / self.ran if self.ran else 0.0


@dataclass(frozen=True)
class StudentRow:
    student: str
    score: float
    max_score: float | None
    percent: float | None
    status: str                    # graded | timeout | crashed
    seconds: float
    late: Lateness
    final: float                   # after the late policy (= score without one)
    note: str
    folder: str                    # students/<folder>/report.html


@dataclass(frozen=True)
class ClassReport:
    lab: str
    title: str
    summary: Summary
    functions: list[FunctionRow]
    mistakes: list[Mistake]
    checks: list[CheckRow]         # ran for someone: hardest first
    skipped: list[CheckRow]        # ran for no one
    students: list[StudentRow]
    due: str = ""
    policy: LatePolicy = NO_POLICY


def class_report(book: Gradebook, lab: str, folders: dict[str, str],
                 policy: LatePolicy = NO_POLICY) -> ClassReport:
    """Everything the class report shows for ``lab``; ``folders`` maps students to their report folders."""
    rows = book.submissions(lab)
    results = {row.student: row.grade_result() for row in rows}
    graded = {student: result for student, result in results.items() if result is not None}
    title = next((r.title for r in graded.values() if r.title), lab)
    handins, due = book.handins(lab), book.due(lab)
    students = [_student_row(row, lateness(handins.get(row.student), due), policy, folders.get(row.student, ""))
                for row in rows]
    checks = check_rows(graded.values())
    not_imported = [(s, r.import_error.splitlines()[0]) for s, r in graded.items() if r.import_error]
    return ClassReport(lab, title, summary(rows, book.problems(lab), not_imported), function_rows(graded.values()),
                       mistakes(graded), [c for c in checks if c.ran], [c for c in checks if not c.ran],
                       students, due, policy)


# ------------------------------------------------------------------ summary
def summary(rows: list[SubmissionRow], problems: list[dict[str, str]],
            not_imported: list[tuple[str, str]] = ()) -> Summary:
    graded = [r for r in rows if r.status == "graded" and r.percent is not None]
    percents = sorted(r.percent for r in graded)
    quartiles = None
    if len(percents) >= 2:
        q1, _, q3 = statistics.quantiles(percents, n=4, method="inclusive")
        quartiles = (q1, q3)
    not_graded = [(r.student, r.status, r.note) for r in rows if r.status != "graded"]
    not_graded += [(p["student"] or p["path"], p["kind"], p["detail"]) for p in problems]
    return Summary(len(rows), len(graded), statistics.fmean(percents) if percents else None,
                   statistics.median(percents) if percents else None, quartiles,
                   percents[0] if percents else None, percents[-1] if percents else None,
                   histogram(graded), not_graded, list(not_imported))


# ------------------------------------------------------------------ by function
def function_rows(results) -> list[FunctionRow]:
    """One row per function of the lab, in the lab's order (the first result that lists them)."""
    counts: dict[str, Counter] = {}
    points: dict[str, float] = {}
    for result in results:
        for group in function_groups(result):
            state = group.state
            if state == "skipped":
                continue
            if state == "failed":
                state = "partly" if any(c.status == "passed" for c in group.ran) else "wrong"
            counts.setdefault(group.name, Counter())[state] += 1
            points[group.name] = max(points.get(group.name, 0.0), sum(c.points for c in group.ran))
    return [FunctionRow(name, points[name], c["passed"], c["partly"], c["wrong"], c["not started"])
            for name, c in counts.items()]


# ------------------------------------------------------------------ common mistakes
def mistakes(results: dict[str, GradeResult]) -> list[Mistake]:
    """The class's root causes, most common first (students, then points lost)."""
    found: dict[tuple, Mistake] = {}
    for student, result in sorted(results.items()):
        for check in _mistaken(result):
            key, what = mistake_key(check)
            mistake = found.setdefault(key, Mistake(what))
            if student not in mistake.students:
                mistake.students.append(student)
            if check.function and check.function not in mistake.functions:
                mistake.functions.append(check.function)
            mistake.checks += 1
            mistake.points += check.points
            line = check.error.innermost.code.strip() if check.error else ""
            if line and line not in mistake.lines and len(mistake.lines) < EXAMPLES:
                mistake.lines.append(line)
            if not mistake.hint and check.feedback and check.feedback.hint:
                mistake.hint = check.feedback.hint
    order = {name: i for result in results.values() for i, name in enumerate(result.functions)}
    for mistake in found.values():
        mistake.functions.sort(key=lambda name: order.get(name, len(order)))
    return sorted(found.values(), key=lambda m: (-len(m.students), -m.points, m.what))


def _mistaken(result: GradeResult) -> list[CheckResult]:
    """The failures that are mistakes of their own: not a function not started yet, not a failure another
    function's explains, not a side check waiting on its main one."""
    if result.import_error:
        return []
    return [c for c in result.checks if c.status == "failed" and not not_started(c) and not c.explained_by
            and not (c.feedback and c.feedback.summary.startswith(WAITING))]


def mistake_key(check: CheckResult) -> tuple[tuple, str]:
    """(what makes two students' failures the same mistake, how to name it)."""
    error = check.error
    if error is not None and (error.type or error.message):
        message = _kind(error.message)
        what = f"{error.type}: {message}" if error.type else message
        return ("error", error.type, message), what
    summary = _kind(check.feedback.summary if check.feedback else "failed")
    return ("failure", check.function, summary), summary


_PATH = re.compile(r"(?:[A-Za-z]:)?[/\\][^\s'\"]*[/\\][^\s'\"]*")
_NUMBER = re.compile(r"(?<![A-Za-z_])\d+(?:\.\d+)?(?:e[-+]?\d+)?")


def _kind(message: str) -> str:
    """A message without what differs from student to student: paths, numbers; its first line only."""
    first = (message.strip().splitlines() or [""])[0]
    return _NUMBER.sub("N", _PATH.sub("…", first))[:200]


# ------------------------------------------------------------------ checks
def check_rows(results) -> list[CheckRow]:
    """Every check, hardest first over the students it ran for (ties: the lab's order); skipped
    counts apart, never as passed."""
    counts: dict[str, Counter] = {}
    first: dict[str, CheckResult] = {}
    for result in results:
        for check in in_lab_order(result):
            first.setdefault(check.name, check)
            counts.setdefault(check.name, Counter())[check.status] += 1
    rows = [CheckRow(name, c.title, c.function, c.points, counts[name]["passed"], counts[name]["failed"],
                     counts[name]["skipped"]) for name, c in first.items()]
    return sorted(rows, key=lambda r: r.rate)


# ------------------------------------------------------------------ students
def _student_row(row: SubmissionRow, late: Lateness, policy: LatePolicy, folder: str) -> StudentRow:
    return StudentRow(row.student, row.score, row.max_score, row.percent, row.status, row.seconds, late,
                      policy.apply(row.score, late, row.max_score), row.note, folder)
