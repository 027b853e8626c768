"""Live progress: on a terminal only, told by the plugin about every check."""

from __future__ import annotations

import io

from rich.console import Console

from grader.feedback.progress import LiveProgress, wanted
from grader.grading.run import grade


class Stream(io.StringIO):
    def __init__(self, tty: bool) -> None:
        super().__init__()
        self._tty = tty

    def isatty(self) -> bool:
        return self._tty


def test_shown_only_on_a_terminal_with_colour_for_a_text_report():
    terminal = Stream(True)
    assert wanted("text", terminal, terminal, environ={})
    assert not wanted("json", terminal, terminal, environ={})
    assert not wanted("text", Stream(False), terminal, environ={})  # piped
    assert not wanted("text", terminal, Stream(False), environ={})
    assert not wanted("text", terminal, terminal, environ={"NO_COLOR": "1"})


def test_the_line_names_the_function_and_counts_checks():
    screen = io.StringIO()
    console = Console(file=screen, force_terminal=True, width=100)
    with LiveProgress(console) as live:
        live.begin(5)
        live.checking("numpy_to_tensor", "numpy_to_tensor turns [a] into a tensor")
        live.advance()
        live.advance()
        console.file.flush()
        live._bar.refresh()
    shown = screen.getvalue()
    assert "checking numpy_to_tensor" in shown and "2/5" in shown and "checks" in shown


class Recorder:
    def __init__(self) -> None:
        self.events: list[tuple] = []

    def begin(self, total: int) -> None:
        self.events.append(("begin", total))

    def checking(self, function: str, title: str) -> None:
        self.events.append(("checking", function))

    def advance(self) -> None:
        self.events.append(("advance",))


def test_grading_tells_the_progress_about_every_check(warm_launcher):
    recorder = Recorder()
    result = grade("lab4", reference=True, keyword="to_unet_input", progress=recorder, launcher=warm_launcher)
    total = len(result.checks)
    assert recorder.events[0] == ("begin", total)
    assert recorder.events.count(("advance",)) == total
    assert {e[1] for e in recorder.events if e[0] == "checking"} == {"to_unet_input"}
