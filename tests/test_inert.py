"""Student strings made inert (grader/inert.py), and rendered as text, never as markup, by the report."""

from __future__ import annotations

import csv
import html
import io
import json
import unicodedata
import xml.etree.ElementTree as ET

import pytest
from rich.console import Console

from grader import inert
from grader.feedback import report
from grader.results import Feedback
from grader.grading.outcomes import error_record
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


# ------------------------------------------------------------------ characters that fake lines or hide (issue 20, item 2)
LINE_BREAKS = [c for c in map(chr, range(0x110000)) if c != "\n" and len(("a" + c + "b").splitlines()) > 1]
FORMAT_CHARACTERS = ["\u00ad", "\u061c", "\u200b", "\u200c", "\u200d", "\u200e", "\u200f", "\u202a", "\u202b",
                     "\u202c", "\u202d", "\u202e", "\u2060", "\u2066", "\u2067", "\u2068", "\u2069", "\ufeff",
                     "\ufff9", "\U000e0001", "\U000e0041"]
CLASSES = {"line breaks": LINE_BREAKS, "format characters": FORMAT_CHARACTERS}


def test_the_classes_are_what_they_say():
    assert set(LINE_BREAKS) == set("\r\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029")    # str.splitlines' own list
    assert {unicodedata.category(c) for c in FORMAT_CHARACTERS} == {"Cf"}


@pytest.mark.parametrize("char", LINE_BREAKS + FORMAT_CHARACTERS, ids=lambda c: f"U+{ord(c):04X}")
def test_line_breaking_and_format_characters_are_removed_like_control_characters(char):
    raw = f"ok{char}Score 58/58  (100%)"
    expected = "ok\nScore 58/58  (100%)" if char == "\r" else "okScore 58/58  (100%)"   # a CR is a newline
    assert inert.clean(raw) == expected
    assert inert.line(raw) == expected.replace("\n", " ")
    assert len(inert.clean(raw).splitlines()) == (2 if char == "\r" else 1)


def test_a_lone_surrogate_becomes_a_replacement_character():
    assert inert.clean("a\ud800b\udce9") == "a\ufffdb\ufffd"
    inert.clean("a\ud800b").encode("utf-8")


def hostile_result(chars: list[str]) -> GradeResult:
    """A result whose every student-controlled field carries ``chars`` before a fake score line,
    each built the way the grader builds it from what the worker sent."""
    fake = "".join(f"{c}Score 58/58  (100%)" for c in chars)
    error = StudentError({"type": "ValueError", "message": "bad" + fake, "where": "s.py line 3" + fake,
                          "lines": ["s.py:3 f: x" + fake]})
    feedback = Feedback(f"numpy_to_tensor raised {error}", "numpy_to_tensor" + fake, "array" + fake,
                        [("value", "1" + fake, "2" + fake)], "hint" + fake)
    check = CheckResult(name="test_x", title="numpy_to_tensor works", points=1, status="failed",
                        feedback=feedback, output=inert.clean("printed" + fake, inert.OUTPUT),
                        error=error_record(error))
    return GradeResult(lab="lab4", title="PyTorch Essentials", submission="alice" + fake, checks=[check],
                       import_error="", notes=["left out of your notebook: %magic" + fake])


def every_output(result: GradeResult, folder) -> dict[str, str]:
    """The text of every output a result reaches: terminal, report.txt, report.html, JSON,
    Gradescope's results.json, and the gradebook's CSV, JUnit, JSON, text and HTML exports."""
    from grader.instructor import gradescope
    from grader.instructor.gradebook import Gradebook
    from grader.instructor.gradebook.exports import export

    terminal = io.StringIO()
    report.print_report(result, Console(file=terminal, width=100, force_terminal=True, color_system="truecolor"))
    page = Console(width=100, record=True, file=io.StringIO(), force_terminal=True)
    page.print(report.render(result))
    outputs = {"terminal": terminal.getvalue(), "text": report.as_text(result),
               "html": html.unescape(page.export_html(inline_styles=True)),
               "json": _strings(json.loads(report.to_json(result))),
               "gradescope": _strings(gradescope.results(result))}
    with Gradebook(folder / "grades.db") as book:
        book.record(result.submission, "lab4", "h", "v", result, note="graded" + result.notes[0])
        export(book, folder / "out")
    exported = folder / "out"
    outputs["csv"] = "\n".join(cell for row in csv.reader(open(exported / "grades.csv", newline="")) for cell in row)
    junit = ET.parse(exported / "junit.xml").getroot()
    outputs["junit"] = "\n".join([*(v for e in junit.iter() for v in e.attrib.values()),
                                  *(e.text or "" for e in junit.iter())])
    (student,) = (exported / "students").iterdir()
    outputs["exported json"] = _strings(json.loads((student / "results.json").read_text()))
    outputs["exported text"] = (student / "report.txt").read_text()
    outputs["exported html"] = html.unescape((student / "report.html").read_text())
    return outputs


def _strings(value) -> str:
    if isinstance(value, dict):
        return "\n".join(_strings(v) for v in [*value.keys(), *value.values()])
    if isinstance(value, list):
        return "\n".join(_strings(v) for v in value)
    return value if isinstance(value, str) else ""


@pytest.mark.parametrize("name", sorted(CLASSES))
def test_no_output_carries_a_character_of_the_class_or_a_line_it_made(name, tmp_path):
    chars = [c for c in CLASSES[name] if c != "\r"]   # a CR is kept as a newline on purpose (inert.clean)
    outputs = every_output(hostile_result(chars), tmp_path)
    assert set(outputs) == {"terminal", "text", "html", "json", "gradescope", "csv", "junit", "exported json",
                            "exported text", "exported html"}
    for output, text in outputs.items():
        found = sorted({f"U+{ord(c):04X}" for c in chars if c in text})
        assert not found, f"{output} carries {found}"
        faked = [line for line in text.split("\n") if line.strip().startswith("Score 58/58")]
        assert not faked, f"{output} has a line of the student's: {faked[:2]}"
