"""Rendering a GradeResult: a rich report for people, JSON for machines.

The report follows the lab: one row per function of the stub, in the stub's
order, with its points; functions not started fold into one line each and
one summary line; each mistake is said once (one panel per root cause, with
the student's own frames and the checks it cost), then one panel per other
failure.  It is composed of small renderables that each read on their own,
stay within 80 columns and degrade to plain text (piped output, NO_COLOR).
Every string that comes from the student's run is shown as ``Text``, never
parsed as markup.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Iterable

from rich import box
from rich.console import Console, Group, RenderableType
from rich.panel import Panel
from rich.progress_bar import ProgressBar
from rich.table import Table
from rich.text import Text

from grader import inert
from grader.feedback.causes import Cause, not_started, root_causes
from grader.results import CheckResult, ErrorRecord, Feedback, GradeResult, also_fails, plural

_STATUS = {"passed": ("✔", "green"), "failed": ("✘", "red"), "skipped": ("–", "yellow")}
OTHER = "other checks"
LISTED = 8  # checks listed by name in a root cause's panel


def to_json(result: GradeResult) -> str:
    return json.dumps(result.to_dict(), indent=2)


# ------------------------------------------------------------------ the lab's functions
@dataclass
class FunctionGroup:
    """The checks of one stub function."""

    name: str
    checks: list[CheckResult] = field(default_factory=list)

    @property
    def ran(self) -> list[CheckResult]:
        return [c for c in self.checks if c.status != "skipped"]

    @property
    def score(self) -> float:
        return sum(c.score for c in self.checks)

    @property
    def points(self) -> float:
        return sum(c.points for c in self.ran)

    @property
    def state(self) -> str:
        """passed | failed | not started | skipped."""
        ran = self.ran
        if not ran:
            return "skipped"
        if all(c.status == "passed" for c in ran):
            return "passed"
        if all(not_started(c) for c in ran):
            return "not started"
        return "failed"


def function_groups(result: GradeResult) -> list[FunctionGroup]:
    """The checks grouped by the function they grade, in the order the stub defines the functions."""
    groups = {name: FunctionGroup(name) for name in result.functions}
    other = FunctionGroup(OTHER)
    for check in result.checks:
        groups.get(check.function, other).checks.append(check)
    ordered = [g for g in groups.values() if g.checks]
    return ordered + ([other] if other.checks else [])


def in_lab_order(result: GradeResult) -> list[CheckResult]:
    """Every check in the order the report lists them: by function, in the lab's order
    (Gradescope's tests and every export follow it too)."""
    return [check for group in function_groups(result) for check in group.checks]


# ------------------------------------------------------------------ the whole report
def render(result: GradeResult, verbose: bool = False) -> RenderableType:
    groups = function_groups(result)
    shown_below = set() if result.import_error else {id(c) for cause in root_causes(_to_fix(groups))
                                                     for c in cause.checks}
    parts: list[RenderableType] = [header(result), total(result), Text(""),
                                   overview(groups, verbose, shown_below, expand=not result.import_error), Text("")]
    if result.import_error:
        parts.append(import_panel(result))
    else:
        parts += failure_panels(groups)
    parts += [line for line in (not_started_line(groups), skipped_line(result.checks), withheld_line(result))
              if line is not None]
    parts += [Text.assemble(("note: ", "dim"), Text(inert.clean(note))) for note in result.notes]
    parts += footer(result, verbose)
    return Group(*parts)


def header(result: GradeResult) -> RenderableType:
    title = Text.assemble((f"{result.lab.replace('lab', 'Lab ')} · ", "bold"), (result.title, "bold cyan"))
    submission = inert.line(result.submission, inert.WHERE)   # a path or a student's id: text they chose
    return Panel(Text.assemble(title, "\n", (submission, "dim")), box=box.ROUNDED, expand=True)


def total(result: GradeResult) -> RenderableType:
    maximum = result.max_score
    percent = 100.0 * result.score / maximum if maximum else 0.0
    colour = "green" if result.all_passed else ("yellow" if percent >= 50 else "red")
    line = Text.assemble(("Score ", "bold"), (f"{result.score:g}/{maximum:g}", f"bold {colour}"),
                         (f"  ({percent:.0f}%)", colour))
    grid = Table.grid(expand=True, padding=(0, 2))
    grid.add_column(no_wrap=True)
    grid.add_column(ratio=1)
    grid.add_row(line, ProgressBar(total=maximum or 1, completed=result.score, complete_style=colour,
                                   finished_style=colour))
    return grid


def overview(groups: list[FunctionGroup], verbose: bool = False, shown_below: set[int] = frozenset(),
             expand: bool = True) -> Table:
    """One row per function with its points; the checks of a function that fails, one row each,
    unless every failure of it is listed below with its root cause."""
    table = Table.grid(expand=True, padding=(0, 1))
    table.add_column(width=1, no_wrap=True)
    table.add_column(ratio=1)
    table.add_column(justify="right", no_wrap=True)
    for group in groups:
        state = group.state
        mark, colour = {"passed": ("✔", "green"), "failed": ("✘", "red"), "not started": ("·", "dim"),
                        "skipped": ("–", "yellow")}[state]
        points = "skipped" if state == "skipped" else f"{group.score:g}/{group.points:g}"
        table.add_row(Text(mark, style=colour), _group_label(group, state), Text(points, style=colour))
        failed = [c for c in group.ran if c.status == "failed"]
        listed_below = all(id(c) in shown_below for c in failed)
        if expand and ((state == "failed" and not listed_below) or (verbose and state != "not started")):
            for check in group.checks:
                table.add_row("", _check_cell(check), _check_points(check))
    return table


def _group_label(group: FunctionGroup, state: str) -> Text:
    label = Text(group.name, style="bold" if group.name != OTHER else "bold dim")
    ran = len(group.ran)
    if state == "not started":
        label.append(" · not started yet", style="dim")
    elif state == "passed":
        label.append(" · " + {1: "the check passes", 2: "both checks pass"}.get(ran, f"all {ran} checks pass"),
                     style="dim")
    elif state == "failed":
        passed = sum(c.status == "passed" for c in group.ran)
        said = ({1: "the check fails", 2: "both checks fail"}.get(ran, f"all {ran} checks fail") if passed == 0
                else f"{passed} of {ran} checks pass")
        label.append(f" · {said}", style="dim")
    return label


def _check_cell(check: CheckResult) -> Table:
    mark, colour = _STATUS.get(check.status, ("?", "white"))
    cell = Table.grid(expand=True, padding=(0, 1))
    cell.add_column(width=3, no_wrap=True)
    cell.add_column(ratio=1)
    cell.add_row(Text(f"  {mark}", style=colour), Text(check.title))
    return cell


def _check_points(check: CheckResult) -> Text:
    colour = _STATUS.get(check.status, ("?", "white"))[1]
    return Text("skipped" if check.status == "skipped" else f"{check.score:g}/{check.points:g}", style=colour)


# ------------------------------------------------------------------ what to fix
def failure_panels(groups: list[FunctionGroup]) -> list[RenderableType]:
    """One panel per root cause and per other failure, in the lab's order; not-started functions have none."""
    ordered = _to_fix(groups)
    causes = root_causes(ordered)
    owner = {id(check): cause for cause in causes for check in cause.checks}
    panels: list[RenderableType] = []
    for check in ordered:
        cause = owner.get(id(check))
        if cause is not None:
            if check is cause.checks[0]:
                panels.append(cause_panel(cause))
        elif check.status == "failed" and not not_started(check):
            panels.append(failure_panel(check))
    return panels


def _to_fix(groups: list[FunctionGroup]) -> list[CheckResult]:
    return [check for group in groups if group.state != "not started" for check in group.checks]


def failure_panel(check: CheckResult) -> RenderableType:
    feedback = check.feedback or Feedback("failed")
    body: list[RenderableType] = [
        Text.assemble(("✘ ", "bold red"), (check.title, "bold"), (f"  ·  0/{plural(check.points, 'point')}", "red")),
        Text(feedback.summary),
    ]
    for label, text in (("function", feedback.function), ("input", feedback.input)):
        if text:
            body.append(labelled(f"{label}:", Text(text)))
    if check.error and check.error.frames:
        body += frames_lines(check.error)
    if feedback.rows:
        body.append(_rows_table(feedback.rows))
    body += _hint(check.explained_by, feedback.hint)
    body += _printed(check)
    return Panel(Group(*body), border_style="red", box=box.ROUNDED, expand=True)


def cause_panel(cause: Cause) -> RenderableType:
    """One mistake: the exception, where it happened in the student's code, and every check it cost."""
    error, first = cause.error, cause.checks[0]
    what = f"{error.type}: {error.message}" if error.type else error.message
    body: list[RenderableType] = [
        Text.assemble(("✘ ", "bold red"), (_clip_line(what, 300), "bold")),
        Text(f"one mistake, {plural(len(cause.checks), 'check')} ({plural(cause.points, 'point')}) lost to it",
             style="red"),
    ]
    body += frames_lines(error)
    given = first.feedback.input if first.feedback else ""
    if given:
        body.append(labelled("first seen with:", Text(given)))
    body.append(Text("it cost:", style="dim"))
    for check in cause.checks[:LISTED]:
        body.append(labelled("  •", Text(f"{check.title} ({plural(check.points, 'point')})")))
    if len(cause.checks) > LISTED:
        body.append(labelled("  …", Text(f"and {plural(len(cause.checks) - LISTED, 'more check')}")))
    explained = [name for c in cause.checks for name in c.explained_by]
    body += _hint(list(dict.fromkeys(explained)) if all(c.explained_by for c in cause.checks) else [],
                  first.feedback.hint if first.feedback else "")
    body += _printed(first)
    return Panel(Group(*body), border_style="red", box=box.ROUNDED, expand=True)


def frames_lines(error: ErrorRecord) -> list[RenderableType]:
    """``where: UNet.forward line 98 → Up.forward line 79 → DoubleConv.forward line 42`` and that line."""
    frames = [f for f in error.frames if f.line]
    if not frames:
        return []
    chain = " → ".join(f"{f.function} {f.cell or 'line ' + str(f.line)}" for f in frames)
    lines: list[RenderableType] = [labelled("where:", Text(chain))]
    inner = error.innermost
    if inner.code:
        number = inner.cell.rpartition("line ")[2] if inner.cell else inner.line   # a notebook: the cell's line
        lines.append(labelled(f"  {number} │", Text(_clip_line(inner.code, 200))))
    return lines


def labelled(label: str, value: Text) -> Table:
    """``label value``, the value's wrapped lines indented under its first."""
    grid = Table.grid(expand=True, padding=(0, 1))
    grid.add_column(no_wrap=True, style="dim")
    grid.add_column(ratio=1)
    grid.add_row(label, value)
    return grid


def _rows_table(rows: list) -> Table:
    table = Table(box=None, show_edge=False, pad_edge=False, header_style="dim", padding=(0, 2, 0, 0))
    table.add_column("", style="dim", no_wrap=True)
    table.add_column("expected", style="green", overflow="fold")
    table.add_column("got", style="red", overflow="fold")
    for what, expected, got in rows:
        table.add_row(Text(str(what)), Text(str(expected)), Text(str(got)))
    return table


def _hint(explained_by: list[str], hint: str) -> list[RenderableType]:
    if explained_by:
        return [Text.assemble(("why: ", "bold yellow"), also_fails(explained_by))]
    return [Text.assemble(("hint: ", "bold yellow"), hint)] if hint else []


def _printed(check: CheckResult) -> list[RenderableType]:
    shown: list[RenderableType] = []
    if check.output.strip():
        shown.append(Text.assemble(("your code printed:\n", "dim"), _clip(check.output)))
    if check.warnings.strip():
        shown.append(Text.assemble(("warnings from libraries (not from your code):\n", "dim"),
                                   (_clip(check.warnings, 4), "dim")))
    return shown


def import_panel(result: GradeResult) -> RenderableType:
    body = Group(Text("✘ your file could not be imported", style="bold red"), Text(result.import_error),
                 Text.assemble(("hint: ", "bold yellow"), "run `python yourfile.py` to see the whole error, "
                               "fix it, and grade again"),
                 Text(f"Every check failed because of this "
                      f"({plural(sum(c.status == 'failed' for c in result.checks), 'check')}).", style="red"))
    return Panel(body, border_style="red", box=box.ROUNDED, expand=True)


# ------------------------------------------------------------------ closing lines
def not_started_line(groups: list[FunctionGroup]) -> RenderableType | None:
    named = [g for g in groups if g.name != OTHER]
    waiting = [g.name for g in named if g.state == "not started"]
    if not waiting:
        return None
    start = f"start with `{waiting[0]}`" if len(waiting) > 1 else f"`{waiting[0]}`"
    return Text.assemble(("· ", "dim"), f"{len(waiting)} of {plural(len(named), 'function')} not started yet: "
                                        f"{start}.")


def withheld_line(result: GradeResult) -> RenderableType | None:
    """A student-facing run: what the instructor grades besides (checks students do not see)."""
    if not result.withheld_checks:
        return None
    more = "1 more check" if result.withheld_checks == 1 else f"{result.withheld_checks} more checks"
    verb = "is" if result.withheld_checks == 1 else "are"
    return Text(f"{more} worth {plural(result.withheld_points, 'point')} {verb} graded by your instructor.")


def skipped_line(checks: Iterable[CheckResult]) -> RenderableType | None:
    skipped = [c for c in checks if c.status == "skipped"]
    if not skipped:
        return None
    points = sum(c.points for c in skipped)
    reasons = "; ".join(sorted({c.skip_reason for c in skipped}))
    verb = "was" if len(skipped) == 1 else "were"
    return Text.assemble(("– ", "yellow"), f"{plural(len(skipped), 'check')} ({plural(points, 'point')}) {verb} "
                                           f"skipped ({reasons}); they are left out of the maximum.")


SANDBOX_WORDS = {
    "namespaces": ("your code ran in a sandbox: it could not see your other files or use the network", ""),
    "landlock": ("your code ran in a partial sandbox: limited files, no network",
                 "⚠ a weaker sandbox than usual on this machine: fine for your own code, "
                 "not for grading other people's"),
    "portable": ("your code ran as a plain process (no sandbox on this system): it could see your files "
                 "and the network; time limits held",
                 "⚠ no sandbox on this machine: fine for your own code, not for grading other people's"),
}
SANDBOX_WORDS["none"] = SANDBOX_WORDS["portable"]   # the portable launcher's old name, in older results


def sandbox_words(sandbox: str) -> tuple[str, str]:
    """(what the sandbox did, a warning or '') in a student's words, from the technical line."""
    keyword = (sandbox.split() or [""])[0].strip(":,;").lower()
    return SANDBOX_WORDS.get(keyword, ("", ""))


def footer(result: GradeResult, verbose: bool = False) -> list[RenderableType]:
    said, warning = sandbox_words(result.sandbox)
    lines: list[RenderableType] = []
    if warning:
        lines.append(Text(warning, style="yellow"))
    lines.append(Text(f"graded in {result.execution_time:.1f} s" + (f" · {said}" if said else ""), style="dim"))
    if verbose:
        lines.append(Text(f"sandbox: {result.sandbox or 'unknown'}", style="dim"))
    return lines


# ------------------------------------------------------------------ output
def _clip(text: str, lines: int = 12) -> str:
    kept = text.rstrip().splitlines()
    return "\n".join(kept[:lines] + ([f"… ({len(kept) - lines} more lines)"] if len(kept) > lines else []))


def _clip_line(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[:limit - 1] + "…"


def print_report(result: GradeResult, console: Console | None = None, verbose: bool = False) -> None:
    (console or Console()).print(render(result, verbose))


def as_text(result: GradeResult, width: int = 80, verbose: bool = False) -> str:
    """The report as plain text, e.g. for a file."""
    console = Console(width=width, no_color=True, record=True, file=_Null(), force_terminal=False,
                      force_jupyter=False)   # text only: in a notebook, rich would also display it
    console.print(render(result, verbose))
    return "\n".join(line.rstrip() for line in console.export_text().splitlines()) + "\n"


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
