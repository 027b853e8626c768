"""Each output format's escape (grader/instructor/gradebook/escape.py), on what students can put in a name."""

from __future__ import annotations

import csv
import io
import os
import xml.etree.ElementTree as ET

import pytest

from grader.instructor.gradebook import escape

LATIN1 = os.fsdecode(b"Jos\xe9")          # a folder name a Windows zip leaves after unzip: not UTF-8
HOSTILE_NAMES = [
    "=HYPERLINK(\"http://x\",\"y\")", "+1+cmd|' /C calc'!A0", "-2+3", "@SUM(A1)", "\t=1", "\r=1", " =1",
    "esc\x1b[2Jclear", "bell\x07", "nul\x00byte", "line\u2028Score 58/58", "para\u2029x", "nel\x85x", "vt\x0bx",
    "zero\u200bwidth", "bidi\u202eevil", "bom\ufeff", LATIN1, "ok name", "音楽", "a" * 500,
]


@pytest.mark.parametrize("name", HOSTILE_NAMES)
def test_printable_shows_every_name_as_one_visible_line_of_utf8(name):
    text = escape.printable(name)
    text.encode("utf-8")                                  # valid UTF-8: no lone surrogate
    assert text.isprintable() and len(text) <= escape.ID_LENGTH
    assert escape.printable(text) == text                 # idempotent: the gradebook may apply it again
    if name.isprintable():
        assert text == name or len(name) > escape.ID_LENGTH


def test_printable_writes_hidden_characters_as_escapes_and_keeps_names_apart():
    assert escape.printable(LATIN1) == "Jos\\xe9"
    assert escape.printable("esc\x1b[2J") == "esc\\x1b[2J"
    assert escape.printable("a\u202eb\u2028c") == "a\\u202eb\\u2028c"
    assert escape.printable("a\U000e0041") == "a\\U000e0041"
    long_a, long_b = "x" * 300 + "a", "x" * 300 + "b"
    assert escape.printable(long_a) != escape.printable(long_b)
    assert len({escape.printable(n) for n in HOSTILE_NAMES}) == len(HOSTILE_NAMES)


@pytest.mark.parametrize("name", HOSTILE_NAMES)
def test_csv_cells_are_never_formulas(name):
    buffer = io.StringIO()
    escape.csv_writer(buffer).writerow(escape.csv_row([name, 3, 2.5, "-"]))
    (row,) = csv.reader(io.StringIO(buffer.getvalue()))
    cell = row[0]
    assert not cell.lstrip(" ").startswith(("=", "+", "-", "@", "\t", "\r", "\n")), cell
    assert "\x1b" not in cell and "\u2028" not in cell and "\u202e" not in cell and "\u200b" not in cell
    assert row[1:] == ["3", "2.5", "'-"]
    assert all(field.startswith('"') for field in buffer.getvalue().strip().split(","))   # every cell quoted


@pytest.mark.parametrize("name", HOSTILE_NAMES)
def test_xml_attributes_and_text_always_parse(name):
    root = ET.Element("testsuite", name=escape.xml_attribute(name))
    ET.SubElement(root, "system-out").text = escape.xml_text(name + "\nsecond line")
    parsed = ET.fromstring(ET.tostring(root, encoding="unicode"))
    assert "\x1b" not in parsed.get("name") and "\n" not in parsed.get("name")
    assert parsed.find("system-out").text.endswith("\nsecond line")


def test_html_and_terminal_text_are_inert():
    assert escape.html_text("<script>x</script>\x1b[2J\u2028'\"") == "&lt;script&gt;x&lt;/script&gt;&#x27;&quot;"
    text = escape.terminal("[bold]a[/bold]\x1b]0;title\x07\nb")
    assert text.plain == "[bold]a[/bold] b" and not text.spans
