"""Student strings made inert (grader/inert.py), and rendered as text, never as markup, by the report."""

from __future__ import annotations

import io

import pytest
from rich.console import Console

from grader import inert
from grader.feedback import report
from grader.results import Feedback
from grader.grading.session import StudentError
from grader.results import CheckResult, GradeResult


@pytest.mark.parametrize("raw, kept", [
    ("\x1b[2J\x1b[HScore 52/52 (100%)", "Score 52/52 (100%)"),          # clear screen, cursor home
    ("\x1b]0;a window title\x07after", "after"),                        # OSC, BEL-terminated
    ("\x1b]8;;http://x\x1b\\link\x1b]8;;\x1b\\", "link"),               # OSC hyperlink, ST-terminated
    ("\x1b[38;2;255;0;0mred\x1b[0m", "red"),                            # truecolour
    ("\x9b2J\x9b31mred", "red"),                                        # 8-bit CSI
    ("\x1bPdevice control\x1b\\text", "text"),                          # DCS
    ("\x1bc\x1b7\x1b8reset", "reset"),                                  # two-character sequences
    ("bell\x07 back\x08space nul\x00 del\x7f nel\x85", "bell backspace nul del nel"),
    ("abc\u202edcba\u2066", "abcdcba"),                                 # bidirectional overrides
    ("line\r\nnext\roverwrite", "line\nnext\noverwrite"),               # a bare CR cannot overwrite
    ("tab\tand\nnewline", "tab\tand\nnewline"),
    ("[/] [bold]not markup[/bold]", "[/] [bold]not markup[/bold]"),   # markup is the report's concern
    ("ünïcödé ✓ 音", "ünïcödé ✓ 音"),
])
def test_clean_removes_what_acts_on_a_terminal_and_keeps_the_text(raw, kept):
    assert inert.clean(raw) == kept


def test_line_makes_one_line():
    assert inert.line("a\nb\tc\rd") == "a b c d"


def test_fields_are_cut_with_an_ellipsis():
    assert inert.clean("x" * 10, 5) == "xxxx…" and inert.clean("x" * 5, 5) == "x" * 5
    assert len(inert.line("E" * 5_000_000)) == inert.NAME


def test_non_strings_become_text():
    assert inert.clean(12) == "12" and inert.lines(["a\x1b[2Jb", 3]) == ["ab", "3"] and inert.lines("x") == []


def test_student_errors_are_inert_at_ingress():
    error = StudentError({"type": "E" * 1_000_000 + "\x1b[2J", "mro": ["builtins.ValueError"] * 500,
                          "message": "\x1b]0;t\x07" + "m" * 10_000, "where": "f.py line 1\x1b[8m",
                          "lines": ["\x1b[2J"] * 100, "extra": object()})
    assert len(error.type_name) == inert.NAME and "\x1b" not in error.type_name
    assert len(error.message) == inert.MESSAGE and error.message.startswith("mmm")
    assert error.where == "f.py line 1" and len(error.lines) == inert.LINES and len(error.mro) == 64
    assert str(StudentError({"type": "ValueError", "message": "bad\x1b[2J", "where": "f.py line 3"})) == \
        "ValueError: bad (f.py line 3)"
    forged = StudentError({"type": None, "mro": "not a list", "message": b"\x1b"})
    assert forged.type_name == "None" and forged.mro == [] and "\x1b" not in forged.message


def test_feedback_fields_are_inert_whatever_they_were_built_from():
    feedback = Feedback("\x1b[2Jsummary", "f\nname", "x" * 100_000, [("what", "\x1b[31mexpected", "g" * 5000)], "h")
    assert feedback.summary == "summary" and feedback.function == "f name"
    assert len(feedback.input) <= 4000 and feedback.rows[0][1] == "expected" and len(feedback.rows[0][2]) <= 1000


def graded_with(feedback: Feedback, output: str = "") -> GradeResult:
    check = CheckResult(name="test_x", title="numpy_to_tensor [bold]title[/bold]", points=1, status="failed",
                        feedback=feedback, output=output)
    return GradeResult(lab="lab4", title="PyTorch Essentials", submission="s.py", checks=[check])


def test_the_report_renders_markup_like_student_text_as_text():
    result = graded_with(Feedback("wrong [/] value", "f", "f('[/]')", [("value", "'[/]'", "'[red]x[/red]'")]),
                         output="[/] printed [link=http://x]y[/link]\n")
    text = report.as_text(result)  # rich's MarkupError here before: "[/]" closes no tag
    assert "'[/]'" in text and "'[red]x[/red]'" in text and "[/] printed [link=http://x]y[/link]" in text
    assert "[bold]title[/bold]" in text


def test_the_report_on_a_terminal_carries_no_student_escape_sequences():
    printed = inert.clean("\x1b[2J\x1b[H\x1b[32mScore 52/52 (100%)\x1b[0m\n", inert.OUTPUT)
    result = graded_with(Feedback(StudentError({"type": "\x1b]0;t\x07E", "message": "\x1b[2J"}).message),
                         output=printed)
    out = io.StringIO()
    report.print_report(result, Console(file=out, width=80, force_terminal=True, color_system="truecolor"))
    rendered = out.getvalue()
    assert "Score 52/52 (100%)" in rendered
    for sequence in ("\x1b[2J", "\x1b[H", "\x1b]0;", "\x1b[32mScore"):
        assert sequence not in rendered
