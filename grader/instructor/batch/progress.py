"""What the instructor sees during and after a batch: a progress bar, then a summary.

Student-derived strings (ids, file names, notes) are rendered through
:func:`grader.instructor.gradebook.escape.terminal`: ``Text``, never rich
markup, with no escape sequence or line-breaking character of theirs.
"""

from __future__ import annotations

from rich import box
from rich.console import Console, Group, RenderableType
from rich.progress import (BarColumn, MofNCompleteColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn,
                           TimeRemainingColumn)
from rich.table import Table
from rich.text import Text

from grader import inert
from grader.instructor.batch.controller import BatchReport
from grader.instructor.batch.layouts import Roster
from grader.instructor.gradebook import Gradebook
from grader.instructor.gradebook.escape import printable, terminal
from grader.instructor.gradebook.stats import check_rates, histogram


class RichProgress:
    """The controller's progress sink: count, failures so far, elapsed, ETA."""

    def __init__(self, console: Console) -> None:
        self.console = console
        self.bar = Progress(SpinnerColumn(), TextColumn("[bold]grading"), BarColumn(), MofNCompleteColumn(),
                            TextColumn("{task.fields[failures]} below full marks · {task.fields[crashes]} crashed"),
                            TimeElapsedColumn(), TextColumn("ETA"), TimeRemainingColumn(),
                            console=console, transient=False)
        self.task = None
        self.failures = self.crashes = 0

    def begin(self, total: int, skipped: int) -> None:
        if skipped:
            self.console.print(f"{skipped} submission(s) already graded with this content and grader: skipped "
                               f"(--regrade grades them again)")
        if total:
            self.bar.start()
            self.task = self.bar.add_task("grading", total=total, failures=0, crashes=0)

    def started(self, key: str) -> None:
        pass

    def check(self, key: str, check: dict) -> None:
        pass

    def finished(self, key: str, outcome: str) -> None:
        self.failures += outcome != "full"
        self.crashes += outcome == "crashed"
        self.bar.update(self.task, advance=1, failures=self.failures, crashes=self.crashes)

    def note(self, line: str) -> None:
        self.bar.console.print(terminal(line, style="yellow"))

    def end(self) -> None:
        self.bar.stop()


def summary(book: Gradebook, lab: str, roster: Roster, report: BatchReport, slowest: int = 5,
            hardest: int = 12) -> RenderableType:
    rows = book.submissions(lab)
    parts: list[RenderableType] = [_headline(rows, roster, report), _histogram(rows)]
    rates = check_rates(book, lab)
    if rates:
        parts.append(_rates(rates[:hardest], len(rates)))
    failures = [r for r in rows if r.status != "graded"]
    if failures:
        parts.append(_table("timeouts and crashes", ["student", "status", "why"],
                            [[r.student, r.status, r.note] for r in failures]))
    if report.seconds:
        slow = sorted(report.seconds.items(), key=lambda kv: -kv[1])[:slowest]
        parts.append(_table("slowest submissions (this run)", ["student", "seconds"],
                            [[k, f"{s:.1f}"] for k, s in slow]))
    notes = [(e.student, e.note) for e in roster.entries if e.note]
    if notes:
        parts.append(_table("renamed files (graded)", ["student", "note"], [list(n) for n in notes]))
    if roster.problems:
        parts.append(_table("not graded", ["student", "problem", "detail", "path"],
                            [[p.student, p.kind, p.detail, printable(str(p.path), 4096)] for p in roster.problems]))
    return Group(*parts)


def _headline(rows, roster: Roster, report: BatchReport) -> Text:
    line = (f"{roster.layout}: {len(roster.entries)} submission(s); graded {len(report.graded)} this run, "
            f"{len(report.skipped)} unchanged, {len(report.crashed)} crashed or timed out, "
            f"{len(roster.problems)} problem(s); {report.elapsed:.0f} s")
    if report.interrupted:
        line += "\ninterrupted: run the same command again to continue where it stopped"
    if report.aborted:
        line += f"\nstopped early: {report.aborted}"
    return Text(inert.clean(line), style="bold")   # a stop's reason may quote a grader's last words


def _histogram(rows) -> Table:
    table = Table(title="scores", box=box.SIMPLE_HEAD, show_edge=False)
    table.add_column("percent")
    table.add_column("students", justify="right")
    table.add_column("")
    counts = histogram(rows)
    top = max((c for _, c in counts), default=0) or 1
    for label, count in counts:
        table.add_row(label, str(count), "█" * round(30 * count / top))
    return table


def _rates(rates, total: int) -> Table:
    table = Table(title=f"hardest checks ({min(len(rates), total)} of {total})", box=box.SIMPLE_HEAD,
                  show_edge=False)
    for name, justify in (("check", "left"), ("passed", "right"), ("rate", "right")):
        table.add_column(name, justify=justify)
    for rate in rates:
        table.add_row(terminal(rate.title), f"{rate.passed}/{rate.passed + rate.failed}", f"{100 * rate.rate:.0f}%")
    return table


def _table(title: str, columns: list[str], rows: list[list[str]]) -> Table:
    table = Table(title=title, box=box.SIMPLE_HEAD, show_edge=False)
    for column in columns:
        table.add_column(column, overflow="fold")
    for row in rows:
        table.add_row(*(terminal(cell) for cell in row))
    return table
