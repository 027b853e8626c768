"""Live progress while a grade runs: one transient line on a terminal, nothing anywhere else.

The line names the function being checked, checks done out of the total and
the time so far; it disappears when the report is printed.  It is shown
only when both output streams are a terminal, colour is allowed
(``NO_COLOR`` unset) and the report is text: piped output, files and JSON
stay exactly what they were.
"""

from __future__ import annotations

import os
from typing import IO, Any, Mapping

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn


def wanted(report_format: str, stdout: IO[str], stderr: IO[str], environ: Mapping[str, str] = os.environ) -> bool:
    """Whether a live line belongs on this terminal."""
    def tty(stream: IO[str]) -> bool:
        return bool(getattr(stream, "isatty", lambda: False)())

    return report_format == "text" and not environ.get("NO_COLOR") and tty(stdout) and tty(stderr)


class LiveProgress:
    """A grader.grading.plugin.Progress drawn with rich on ``console`` (stderr by default)."""

    def __init__(self, console: Console | None = None) -> None:
        self.console = console or Console(stderr=True)
        self._bar = Progress(SpinnerColumn(), TextColumn("{task.description}", markup=False), BarColumn(),
                             MofNCompleteColumn(), TextColumn("checks"), TimeElapsedColumn(),
                             console=self.console, transient=True)
        self._task = self._bar.add_task("starting the worker and importing your file", total=None)

    def __enter__(self) -> "LiveProgress":
        self._bar.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self._bar.stop()

    def begin(self, total: int) -> None:
        self._bar.update(self._task, total=total)

    def checking(self, function: str, title: str) -> None:
        self._bar.update(self._task, description=f"checking {function or title}")

    def advance(self) -> None:
        self._bar.advance(self._task)
