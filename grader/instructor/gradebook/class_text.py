"""``report.txt``: the class report for a terminal, the same sections as ``report.html``.

Rendered with ``rich`` to plain text (no colour, no markup: every string from
a student is ``Text``), 100 columns wide.
"""

from __future__ import annotations

from rich import box
from rich.console import Console, Group, RenderableType
from rich.table import Table
from rich.text import Text

from grader.instructor.gradebook.class_report import ClassReport, Summary
from grader.instructor.gradebook.escape import terminal
from grader.instructor.similarity.model import MAX_CHARACTERS, Pair
from grader.results import plural

WIDTH = 100
BAR = 40   # characters of the longest histogram bar


def render(report: ClassReport, pairs: list[Pair] | None = None, threshold: float = 0.0,
           cut: list[tuple[str, int]] = ()) -> str:
    parts: list[RenderableType] = [
        Text(f"{report.lab.replace('lab', 'Lab ')} · {report.title}: class report", style="bold"),
        Text(""), heading("Summary"), *summary(report.summary), Text(""),
        heading("By function, in the lab's order"), functions(report), Text(""),
        heading("Common mistakes, most common first"), *mistakes(report), Text(""),
        heading("Checks, hardest first"), checks(report), *skipped(report), Text(""),
        heading("Students"), students(report),
    ]
    if pairs is not None:
        parts += [Text(""), heading(f"Similar submissions (beyond the stub; {threshold:.0%} or more)"),
                  *similarity(pairs, cut)]
    console = Console(width=WIDTH, no_color=True, record=True, file=_Null(), force_terminal=False)
    console.print(Group(*parts))
    return "\n".join(line.rstrip() for line in console.export_text().splitlines()) + "\n"


def said(value: object, limit: int = 1000) -> Text:
    """Student text for a terminal: one line, no escape or control characters, never markup
    (grader.instructor.gradebook.escape.terminal)."""
    return terminal(value, limit)


def heading(text: str) -> Text:
    return Text(text, style="bold underline")


def _percent(value: float | None) -> str:
    return "–" if value is None else f"{value:.1f}%"


def summary(s: Summary) -> list[RenderableType]:
    lines: list[RenderableType] = [Text(
        f"{plural(s.submissions, 'submission')}, {s.graded} graded: mean {_percent(s.mean)}, "
        f"median {_percent(s.median)}"
        + (f", quartiles {_percent(s.quartiles[0])} – {_percent(s.quartiles[1])}" if s.quartiles else "")
        + (f", lowest {_percent(s.lowest)}, highest {_percent(s.highest)}" if s.lowest is not None else ""))]
    most = max((count for _, count in s.histogram), default=0) or 1
    grid = Table.grid(padding=(0, 1))
    for label, count in s.histogram:
        grid.add_row(Text(label, justify="right"), Text("█" * round(BAR * count / most)), Text(str(count)))
    lines.append(grid)
    if s.not_graded:
        lines.append(Text(f"could not be graded ({len(s.not_graded)}):"))
        for student, kind, why in s.not_graded:
            lines.append(Text.assemble("  • ", said(student), f" ({kind}): ", said(why)))
    if s.not_imported:
        lines.append(Text(f"graded 0: the file could not be imported ({len(s.not_imported)}):"))
        for student, why in s.not_imported:
            lines.append(Text.assemble("  • ", said(student), ": ", said(why)))
    return lines


def functions(report: ClassReport) -> Table:
    table = Table(box=box.SIMPLE_HEAD, show_edge=False)
    for name, justify in (("function", "left"), ("points", "right"), ("fully right", "right"),
                          ("partly", "right"), ("no check passes", "right"), ("not started", "right")):
        table.add_column(name, justify=justify)
    for row in report.functions:
        table.add_row(row.name, f"{row.points:g}", str(row.right), str(row.partly), str(row.wrong),
                      str(row.not_started))
    return table


def mistakes(report: ClassReport) -> list[RenderableType]:
    if not report.mistakes:
        return [Text("none: every failure was a function not started yet")]
    lines: list[RenderableType] = []
    for number, mistake in enumerate(report.mistakes, start=1):
        who = plural(len(mistake.students), "student")
        lines.append(Text.assemble(f"{number}. ", said(mistake.what), f"  ({who}, in "
                                   f"{', '.join(mistake.functions) or 'the file'}; "
                                   f"{plural(mistake.checks, 'check')}, {plural(mistake.points, 'point')} lost)"))
        for line in mistake.lines:
            lines.append(Text.assemble("     │ ", said(line)))
        if mistake.hint:
            lines.append(Text.assemble("     hint: ", said(mistake.hint, 4000)))
        lines.append(Text.assemble("     students: ", said(", ".join(mistake.students), 4000)))
    return lines


def checks(report: ClassReport) -> Table:
    table = Table(box=box.SIMPLE_HEAD, show_edge=False)
    for name, justify in (("check", "left"), ("function", "left"), ("points", "right"), ("passed", "right"),
                          ("rate", "right")):
        table.add_column(name, justify=justify, overflow="fold")
    for row in report.checks:
        ran = f"{row.passed}/{row.ran}" + (f" ({row.skipped} skipped)" if row.skipped else "")
        table.add_row(Text(row.title), Text(row.function), f"{row.points:g}", ran, f"{100 * row.rate:.0f}%")
    return table


def skipped(report: ClassReport) -> list[RenderableType]:
    if not report.skipped:
        return []
    lines: list[RenderableType] = [Text(f"skipped for every student, not counted ({len(report.skipped)}):")]
    lines += [Text.assemble("  – ", Text(row.title), f" ({plural(row.points, 'point')})") for row in report.skipped]
    return lines


def students(report: ClassReport) -> Table:
    table = Table(box=box.SIMPLE_HEAD, show_edge=False)
    columns = [("student", "left"), ("score", "right"), ("%", "right"), ("status", "left"), ("time", "right"),
               ("late", "left")]
    if report.policy.percent:
        columns.append((f"after late policy ({report.policy.percent:g}%/day)", "right"))
    columns.append(("report", "left"))
    for name, justify in columns:
        table.add_column(name, justify=justify, overflow="fold")
    for row in report.students:
        cells = [said(row.student), f"{row.score:g}/{row.max_score:g}" if row.max_score else f"{row.score:g}",
                 _percent(row.percent), row.status, f"{row.seconds:.1f} s", row.late.label()]
        if report.policy.percent:
            cells.append(f"{row.final:g}")
        cells.append(f"students/{row.folder}/report.txt" if row.folder else "")
        table.add_row(*cells)
    return table


def similarity(pairs: list[Pair], cut: list[tuple[str, int]] = ()) -> list[RenderableType]:
    lines: list[RenderableType] = [] if pairs else [Text("no pair above the threshold")]
    for student, size in cut:
        lines.append(Text.assemble(said(student), f": not compared whole: only its first {MAX_CHARACTERS:,} of "
                                                  f"{size:,} characters were read (what follows may be a copy)"))
    for pair in pairs:
        lines.append(Text.assemble(f"{pair.score:.0%}  ", said(pair.a), " ~ ", said(pair.b),
                                   f"  ({pair.a_share:.0%} of one's code, {pair.b_share:.0%} of the other's; "
                                   f"{plural(len(pair.fragments), 'shared fragment')})"))
    return lines


class _Null:
    def write(self, _: str) -> int:
        return 0

    def flush(self) -> None:
        pass
