"""Student strings in the report are inert (issue 8, class 5): no escape sequences, no markup, bounded."""

from __future__ import annotations

import io

import pytest
from rich.console import Console

from grader.feedback import report
from tests.hostile.conftest import assert_contained


def rendered_on_a_terminal(result) -> str:
    """The report as a colour terminal would receive it, escape sequences and all."""
    out = io.StringIO()
    report.print_report(result, Console(file=out, width=80, force_terminal=True, color_system="truecolor"))
    return out.getvalue()


def test_printed_escape_sequences_cannot_clear_the_screen_or_fake_a_score(attack):
    graded = attack("""
        import sys as _sys

        def numpy_to_tensor(array):
            print("\\x1b[2J\\x1b[H\\x1b]0;graded\\x07\\x1b[32mScore 52/52 (100%)\\x1b[0m\\x9b2J\\rMARKER")
            _sys.stdout.write("\\x1b[8m hidden from here on")
            return torch.zeros(array.shape)
    """)
    assert_contained(graded)
    output = graded.check("attacked").output
    assert "Score 52/52 (100%)" in output and graded.marker in output  # what it printed is still shown...
    for text in (output, report.as_text(graded.result), rendered_on_a_terminal(graded.result)):
        for sequence in ("\x1b[2J", "\x1b[H", "\x1b]0;", "\x1b[8m", "\x9b", "\r", "\x1b[32mScore"):
            assert sequence not in text  # ...but none of it acts on the terminal


def test_a_returned_string_with_markup_renders_as_text(attack):
    graded = attack("""
        def numpy_to_tensor(array):
            return "[/] [bold red]MARKER[/bold red] [link=http://x]y[/link]"
    """)
    assert_contained(graded, reason="wrong type")
    text = report.as_text(graded.result)
    assert "[/] [bold red]" in text
    assert "[/] [bold red]" in rendered_on_a_terminal(graded.result)


def test_an_exception_with_a_huge_name_and_message_gives_a_bounded_report(attack):
    graded = attack("""
        _Huge = type("E" * 5_000_000, (ValueError,), {})

        def numpy_to_tensor(array):
            raise _Huge("\\x1b[2J" + "m" * 5_000_000)
    """)
    assert_contained(graded, reason="raised EEEE")
    feedback = graded.check("attacked").feedback
    assert len(feedback.summary) < 5_000
    text = report.as_text(graded.result)
    assert len(text) < 20_000 and "\x1b" not in text
    assert len(report.to_json(graded.result)) < 20_000


# ------------------------------------------------------------------ characters that fake lines or hide (issue 20, item 2)
FAKES = {
    "line breaks": "\\u2028\\u2029\\x85\\x0b\\x0c\\x1c\\x1d\\x1e",
    "format characters": "\\u200b\\u200d\\u202e\\u2066\\ufeff\\u00ad\\U000e0041",
}


@pytest.mark.parametrize("kind", sorted(FAKES))
def test_printed_and_raised_text_cannot_fake_a_line_or_hide_a_character(attack, kind):
    graded = attack(f"""
        _FAKES = "{FAKES[kind]}"

        def numpy_to_tensor(array):
            print("".join(c + "Score 58/58  (100%)" for c in _FAKES))
            raise ValueError("".join(c + "Score 58/58  (100%)" for c in _FAKES))
    """)
    assert_contained(graded, reason="raised ValueError")
    chars = FAKES[kind].encode().decode("unicode_escape")
    text = report.as_text(graded.result)
    outputs = {"text": text, "terminal": rendered_on_a_terminal(graded.result), "json": report.to_json(graded.result),
               "output": graded.check("attacked").output, "summary": graded.summary("attacked")}
    for name, output in outputs.items():
        assert not [c for c in chars if c in output], name
    assert "Score 58/58  (100%)" in graded.check("attacked").output       # the text itself is still shown...
    starts = [line for line in text.split("\n") if line.startswith("Score")]
    assert len(starts) == 1 and starts[0].startswith("Score 1/3"), starts   # ...never as a line of its own
