"""Names a student controls, through a whole batch (fake grading): the layout, the gradebook,
the summary on a terminal, and every export (issue 20, item 1)."""

from __future__ import annotations

import csv
import io
import os
import xml.etree.ElementTree as ET
from pathlib import Path

from rich.console import Console

from grader.instructor.batch.controller import Controller
from grader.instructor.batch.layouts import discover
from grader.instructor.batch.progress import summary
from grader.instructor.batch.schedulers import LocalScheduler
from grader.instructor.gradebook import Gradebook
from grader.instructor.gradebook.exports import export
from tests.test_batch_controller import FAKE, LAB

# What a name may try: clear the screen and set the title, fake a line, read backwards, be a
# formula, or not be UTF-8 at all (a Windows zip unpacked by unzip).
NAMES = [b"Jos\xe9", b"esc\x1b[2J\x1b]0;pwned\x07", "nl\u2028Score 58 (100%)".encode(),
         "rtl\u202eyp.exe".encode(), b"=HYPERLINK(\"evil\")", b"@SUM(1)", b"zw\xe2\x80\x8bsp"]
SEQUENCES = ["\x1b[2J", "\x1b]0;", "\x07", "\u2028", "\u202e", "\u200b", "\udce9"]


def hostile_class(folder: Path) -> Path:
    base = os.fsencode(folder)
    for name in NAMES:
        os.makedirs(base + b"/" + name)
        with open(base + b"/" + name + b"/pytorch_basics.py", "w") as handle:
            handle.write("SCORE 1 0\n")
    os.makedirs(base + b"/honest")
    with open(base + b"/honest/pytorch_basics.py", "w") as handle:
        handle.write("SCORE 1 1\n")
    os.symlink("/etc/passwd", base + b"/link\x1b[31m.py")              # listed, with its name
    with open(base + b"/=cmd|' -C calc'!A0\x1b[8m.txt", "w") as handle:  # listed as ignored
        handle.write("x")
    return folder


def test_hostile_names_are_graded_listed_and_escaped_in_every_output(tmp_path):
    subs = hostile_class(tmp_path / "subs")
    roster = discover(LAB, subs, tmp_path / "staging")
    (tmp_path / "out").mkdir()
    with Gradebook(tmp_path / "out" / "grades.db") as book:
        report = Controller(LAB, roster, book, LocalScheduler("lab4", 2, **FAKE), jobs=2).run()
        terminal = io.StringIO()
        Console(file=terminal, width=120, force_terminal=True, color_system="truecolor").print(
            summary(book, "lab4", roster, report))
        rows = {r.student: r for r in book.submissions("lab4")}
        export(book, tmp_path / "out")
    assert len(rows) == len(NAMES) + 1 and not report.crashed
    assert rows["honest"].score == 2 and rows["Jos\\xe9"].score == 1
    assert "esc\\x1b[2J\\x1b]0;pwned\\x07" in rows and "nl\\u2028Score 58 (100%)" in rows
    assert sorted(p.kind for p in roster.problems) == ["ignored", "unreadable"]
    outputs = {"summary": terminal.getvalue()}
    out = tmp_path / "out"
    with open(out / "grades.csv", newline="") as handle:
        cells = [cell for row in csv.reader(handle) for cell in row]
    assert not [c for c in cells if c.startswith(("=", "+", "-", "@", "\t", "\r"))]
    outputs["csv"] = "\n".join(cells)
    junit = ET.parse(out / "junit.xml").getroot()                       # it parses
    assert len(list(junit.iter("testsuite"))) == len(rows)
    outputs["junit"] = "\n".join(v for e in junit.iter() for v in [*e.attrib.values(), e.text or ""])
    for path in (out / "students").rglob("*"):
        if path.is_file():
            outputs[str(path.relative_to(out))] = path.read_text(encoding="utf-8")
    outputs["report.html"] = (out / "report.html").read_text(encoding="utf-8")
    for output, text in outputs.items():
        found = [repr(s) for s in SEQUENCES if s in text]
        assert not found, f"{output} carries {found}"
        assert not any(line.startswith("Score 58") for line in text.split("\n")), output   # a line of its own
    assert "Jos\\xe9" in outputs["summary"] and "link\\x1b[31m.py" in outputs["summary"]
