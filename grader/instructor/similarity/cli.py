"""``grade similarity DIR``: the pairs of a class's submissions that are alike beyond the stub.

    grade similarity grades/                  a gradebook folder (grade batch --out): the code it graded
    grade similarity submissions/ --lab lab4  a folder (or .zip) of submissions, as grade batch reads it
    ... [--threshold 0.5] [--all]

Prints each pair at or above the threshold (the share of one's own code the
other has too, beyond what the stub gives everyone), most similar first, with
the shared fragments side by side.  Nothing is graded and no submission runs:
their code is only read as text.  Exit 0, whatever it finds.
"""

from __future__ import annotations

import argparse
import sqlite3
import tempfile
from pathlib import Path

from rich.console import Console, Group, RenderableType
from rich.table import Table
from rich.text import Text

from grader import inert
from grader.errors import EXIT_PASSED, SetupError
from grader.instructor.similarity.model import THRESHOLD, Pair

SHOWN_LINES = 12   # lines of each side of a fragment printed


def arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("dir", type=Path, help="a gradebook folder (grade batch --out), or a folder or .zip of "
                                          "submissions (with --lab)")
    p.add_argument("--lab", help="the lab (needed for a folder of submissions; default: the gradebook's only lab)")
    p.add_argument("--threshold", type=_fraction, default=THRESHOLD, metavar="F",
                   help=f"show pairs sharing at least this part of one's own code, 0-1 (default: {THRESHOLD})")
    p.add_argument("--fragments", type=int, default=3, metavar="N",
                   help="shared fragments printed per pair (default: 3; 0: none)")


def _fraction(text: str) -> float:
    try:
        value = float(text.rstrip("%")) / (100 if text.endswith("%") else 1)
    except ValueError:
        value = -1.0
    if not 0 <= value <= 1:
        raise argparse.ArgumentTypeError(f"{text!r} is not a fraction between 0 and 1 (or a percentage)")
    return value


def run(args: argparse.Namespace) -> int:
    from grader.instructor.similarity.detect import MAX_CHARACTERS, not_compared_whole, similar_pairs

    lab, codes = class_codes(args.dir, args.lab)
    pairs = similar_pairs(codes, lab.assignment_file().read_text(encoding="utf-8"), lab.filename, args.threshold)
    console = Console(highlight=False)
    console.print(Text(f"{lab.name}: {len(codes)} submissions, {len(codes) * (len(codes) - 1) // 2} pairs; "
                       f"{len(pairs)} share {args.threshold:.0%} or more of one's own code (beyond the stub)"))
    for pair in pairs:
        console.print(describe(pair, args.fragments))
    for student, size in not_compared_whole(codes):
        console.print(Text.assemble(inert.line(student), f": not compared whole: only its first {MAX_CHARACTERS:,} of "
                                                         f"{size:,} characters were read (what follows may be a copy)"))
    return EXIT_PASSED


def class_codes(folder: Path, lab_name: str | None) -> tuple:
    """(the lab, student -> code) from a gradebook folder or a folder/zip of submissions."""
    from grader.course import find_lab
    from grader.instructor.batch.layouts import LayoutError, discover
    from grader.instructor.gradebook.store import Gradebook, GradebookError

    if (folder / "grades.db").is_file():
        try:
            with Gradebook(folder / "grades.db") as book:
                labs = book.labs()
                name = lab_name or (labs[0] if len(labs) == 1 else "")
                if name not in labs:
                    raise SetupError(f"the gradebook has {', '.join(labs) or 'no lab'}: choose one with --lab"
                                     if not lab_name else f"the gradebook has no {lab_name}")
                return find_lab(name), book.codes(name)
        except GradebookError as exc:
            raise SetupError(str(exc)) from None
        except sqlite3.DatabaseError as exc:   # damaged past its header: found only when a page is read
            raise SetupError(f"{folder / 'grades.db'} is damaged ({exc})") from None
    if not lab_name:
        raise SetupError(f"{folder} holds no gradebook (grades.db): for a folder of submissions, give --lab")
    lab = find_lab(lab_name)
    with tempfile.TemporaryDirectory(prefix="grade-similarity-") as staging:
        try:
            roster = discover(lab, folder, Path(staging))
        except LayoutError as exc:
            raise SetupError(str(exc)) from None
        return lab, {entry.student: entry.text for entry in roster.entries}


def describe(pair: Pair, fragments: int) -> RenderableType:
    """One pair: its score and shares, and its first fragments side by side."""
    a, b = inert.line(pair.a), inert.line(pair.b)   # ids from file names: shown, never run as escapes
    parts: list[RenderableType] = [Text.assemble(
        (f"{pair.score:.0%}  ", "bold"), a, " ~ ", b,
        f"  ({pair.a_share:.0%} of {a}'s own code, {pair.b_share:.0%} of {b}'s; "
        f"{len(pair.fragments)} shared fragments)")]
    for fragment in pair.fragments[:fragments]:
        table = Table(show_edge=False, expand=True, padding=(0, 1))
        table.add_column(Text(f"{a}, lines {fragment.a_lines[0]}-{fragment.a_lines[1]}"), ratio=1,
                         overflow="fold")
        table.add_column(Text(f"{b}, lines {fragment.b_lines[0]}-{fragment.b_lines[1]}"), ratio=1,
                         overflow="fold")
        left, right = pair.texts(fragment)
        table.add_row(Text(inert.clean(_first_lines(left))), Text(inert.clean(_first_lines(right))))
        parts.append(table)
    return Group(*parts, Text(""))


def _first_lines(text: str) -> str:
    lines = text.splitlines()
    return "\n".join(lines[:SHOWN_LINES] + ([f"… ({len(lines) - SHOWN_LINES} more lines)"]
                                           if len(lines) > SHOWN_LINES else []))
