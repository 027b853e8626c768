"""Rendering a GradeResult: a rich report for people, JSON for machines.

The report is composed of small renderables (header, score table, one panel
per failure, footer) so each reads on its own, stays within 80 columns and
degrades to plain text without colour (piped output, NO_COLOR).
"""

from __future__ import annotations

import json
from typing import Any, Iterable

from rich import box
from rich.console import Console, Group, RenderableType
from rich.panel import Panel
from rich.progress_bar import ProgressBar
from rich.table import Table
from rich.text import Text

from grader.results import CheckResult, GradeResult

_STATUS = {"passed": ("✔", "green"), "failed": ("✘", "red"), "skipped": ("–", "yellow")}


def to_json(result: GradeResult) -> str:
    return json.dumps(result.to_dict(), indent=2)


def render(result: GradeResult) -> RenderableType:
    parts: list[RenderableType] = [header(result), score_table(result.checks), total(result)]
    if result.import_error:
        parts.append(Panel(Text(result.import_error), title="your file could not be imported",
                           border_style="red", box=box.ROUNDED))
    parts += [failure_panel(c) for c in result.checks if c.status == "failed" and not result.import_error]
    if result.import_error:
        parts.append(Text("Every check failed because the file could not be imported; "
                          "fix the error above and grade again.", style="red"))
    skipped = [c for c in result.checks if c.status == "skipped"]
    if skipped:
        parts.append(skipped_note(skipped))
    parts.append(footer(result))
    return Group(*parts)


def header(result: GradeResult) -> RenderableType:
    title = Text.assemble((f"{result.lab.replace('lab', 'Lab ')} · ", "bold"), (result.title, "bold cyan"))
    return Panel(Text.assemble(title, "\n", (result.submission, "dim")), box=box.ROUNDED, expand=True)


def score_table(checks: Iterable[CheckResult]) -> Table:
    table = Table(box=box.SIMPLE_HEAD, expand=True, show_edge=False, pad_edge=False)
    table.add_column("", width=1, no_wrap=True)
    table.add_column("check", ratio=1, overflow="fold")
    table.add_column("points", justify="right", no_wrap=True)
    for check in checks:
        mark, colour = _STATUS.get(check.status, ("?", "white"))
        points = "skipped" if check.status == "skipped" else f"{check.score:g}/{check.points:g}"
        table.add_row(Text(mark, style=colour), Text(check.title), Text(points, style=colour))
    return table


def total(result: GradeResult) -> RenderableType:
    maximum = result.max_score
    percent = 100.0 * result.score / maximum if maximum else 0.0
    colour = "green" if result.all_passed else ("yellow" if percent >= 50 else "red")
    line = Text.assemble(("Score ", "bold"), (f"{result.score:g}/{maximum:g}", f"bold {colour}"),
                         (f"  ({percent:.0f}%)", colour))
    bar = ProgressBar(total=maximum or 1, completed=result.score, width=40,
                      complete_style=colour, finished_style=colour)
    return Group(line, bar, Text(""))


def failure_panel(check: CheckResult) -> RenderableType:
    feedback = check.feedback or {"summary": "failed"}
    body: list[RenderableType] = [Text(feedback["summary"], style="bold")]
    for label in ("function", "input"):
        if feedback.get(label):
            body.append(Text.assemble((f"{label}: ", "dim"), feedback[label]))
    rows = feedback.get("rows") or []
    if rows:
        table = Table(box=box.MINIMAL, show_edge=False, pad_edge=False, expand=True)
        table.add_column("", style="dim", no_wrap=True)
        table.add_column("expected", style="green", overflow="fold")
        table.add_column("got", style="red", overflow="fold")
        for what, expected, got in rows:  # Text, not str: a str cell would be parsed as rich markup
            table.add_row(Text(what), Text(expected), Text(got))
        body.append(table)
    if feedback.get("hint"):
        body.append(Text.assemble(("hint: ", "bold yellow"), feedback["hint"]))
    if check.output.strip():
        body.append(Text.assemble(("your code printed:\n", "dim"), _clip(check.output)))
    title = Text(f"✘ {check.title} ({check.points:g} pts)")
    return Panel(Group(*body), title=title, title_align="left", border_style="red", box=box.ROUNDED)


def skipped_note(skipped: list[CheckResult]) -> RenderableType:
    points = sum(c.points for c in skipped)
    reasons = sorted({c.skip_reason for c in skipped})
    return Text.assemble(("– ", "yellow"), f"{len(skipped)} check(s) worth {points:g} points skipped "
                         f"({'; '.join(reasons)}); they are left out of the maximum.")


def footer(result: GradeResult) -> RenderableType:
    return Text(f"graded in {result.execution_time:.1f} s · sandbox: {result.sandbox or 'none'}", style="dim")


def _clip(text: str, lines: int = 12) -> str:
    kept = text.rstrip().splitlines()
    return "\n".join(kept[:lines] + ([f"… ({len(kept) - lines} more lines)"] if len(kept) > lines else []))


def print_report(result: GradeResult, console: Console | None = None) -> None:
    (console or Console()).print(render(result))


def as_text(result: GradeResult, width: int = 80) -> str:
    """The report as plain text, e.g. for a file."""
    console = Console(width=width, no_color=True, record=True, file=_Null(), force_terminal=False)
    console.print(render(result))
    return console.export_text()


class _Null:
    def write(self, _: str) -> int:
        return 0

    def flush(self) -> None:
        pass


def lab_table(rows: list[dict[str, Any]]) -> Table:
    """``grade list``: each lab with its checks and points."""
    table = Table(box=box.SIMPLE_HEAD, show_edge=False)
    for name, justify in (("lab", "left"), ("title", "left"), ("file", "left"), ("checks", "right"), ("points", "right")):
        table.add_column(name, justify=justify)
    for row in rows:
        table.add_row(row["lab"], row["title"], row["file"], str(row["checks"]), f"{row['points']:g}")
    return table
