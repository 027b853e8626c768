"""``grade export`` against what students named and wrote, on the machines instructors use (the second
red team of issue 20).

The promises: every file an export writes is UTF-8 whatever the machine's locale (Windows writes
cp1252 by default, where a student's name in Hangul or the report's own ✔ cannot be written: the
export stopped with a traceback); a student's folder under ``students/`` is a name every system can
create (``CON`` or ``aux.txt`` cannot be one on Windows); and a class of no one or of one student
still gets every file.
"""

from __future__ import annotations

import csv
import os
import subprocess
import sys
import unicodedata
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from grader.instructor.gradebook import Gradebook
from grader.instructor.gradebook.exports import ExportOptions, export, safe_name
from grader.instructor.gradebook.store import Handin
from tests.corpus import STUB, solution
from tests.helpers import REPO
from tests.test_class_report import CLASS

HANGUL = "김민준"


def gradebook(folder: Path, students: dict[str, str]) -> Path:
    """A gradebook of ``students`` (id -> a result of tests/test_class_report.py's class)."""
    with Gradebook(folder / "grades.db") as book:
        for student, like in students.items():
            book.record(student, "lab4", f"h-{student}", "v1", CLASS[like], source=f"subs/{student}/pytorch_basics.py")
        book.set_handins("lab4", [(student, Handin(name=f"{student} ✔"), solution("careful"))
                                  for student in students])
    return folder


def test_every_export_is_utf8_whatever_the_locale(tmp_path):
    """Python writes a file in the locale's encoding unless told: ASCII here, as cp1252 on Windows."""
    folder = gradebook(tmp_path, {HANGUL: "bob", "alice": "alice"})
    environment = {**os.environ, "LC_ALL": "C", "LANG": "C", "PYTHONCOERCECLOCALE": "0", "PYTHONUTF8": "0",
                   "PYTHONIOENCODING": "utf-8", "GRADE_COURSE": str(REPO)}
    run = subprocess.run([sys.executable, "-m", "grader.cli", "export", str(folder)], env=environment,
                         capture_output=True, text=True, encoding="utf-8", timeout=300)
    assert run.returncode == 0, run.stderr[-2000:]
    with (folder / "grades.csv").open(encoding="utf-8") as handle:
        assert HANGUL in [row[0] for row in csv.reader(handle)]
    for written in folder.rglob("*"):
        if written.is_file() and written.suffix in (".csv", ".txt", ".html", ".json", ".xml"):
            written.read_bytes().decode("utf-8")
    assert "✔" in next(folder.glob("students/*/report.txt")).read_text(encoding="utf-8")


@pytest.mark.parametrize("student", ["CON", "con", "Aux", "nul.txt", "COM1", "lpt9.py", "PRN "])
def test_a_student_named_as_a_windows_device_gets_a_folder_windows_can_make(student):
    name = safe_name(student, set())
    stem = name.split(".")[0].rstrip(" ").upper()
    assert stem not in {"CON", "PRN", "AUX", "NUL", *(f"COM{i}" for i in range(10)), *(f"LPT{i}" for i in range(10))}
    assert name == safe_name(name, set())   # and it stays what it is


@pytest.mark.parametrize("students", [{}, {"alice": "alice"}, {"bob": "bob"}])
def test_a_class_of_no_one_or_one_student_gets_every_file(tmp_path, students):
    folder = gradebook(tmp_path, students)
    with Gradebook(folder / "grades.db") as book:
        book.record_failure("zoe", "lab4", "hz", "v1", "timeout", "took longer than its budget")
        written = export(book, folder / "out", lab="lab4", options=ExportOptions(stubs={"lab4": STUB}))
    assert {path.name for path in written} >= {"grades.csv", "junit.xml", "report.html", "report.txt", "canvas.csv",
                                                "scores.csv"}
    ET.parse(folder / "out" / "junit.xml")


def test_every_html_page_loads_and_runs_nothing_of_its_own_accord(tmp_path):
    """The class report had a Content-Security-Policy; each student's report (rich's HTML) had none."""
    folder = gradebook(tmp_path, {"<img src=x onerror=alert(1)>": "bob", "alice": "alice"})
    with Gradebook(folder / "grades.db") as book:
        export(book, folder / "out", ("reports", "html"), "lab4", ExportOptions(stubs={"lab4": STUB}))
    pages = list((folder / "out").rglob("*.html"))
    assert len(pages) == 3
    for page in pages:
        text = page.read_text(encoding="utf-8")
        assert "Content-Security-Policy" in text and "default-src 'none'" in text, page
        assert "<img src=x" not in text, page


# ------------------------------------------------------------------ red team 3: gradebooks that are not ours
FOREIGN = {
    "another program's database": "CREATE TABLE submission (x TEXT); INSERT INTO submission VALUES ('a');",
    "a meta table whose schema is not a number": "CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);"
                                                 "INSERT INTO meta VALUES ('schema', 'abc');",
    "a schema row over tables of other columns": "CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);"
                                                 "INSERT INTO meta VALUES ('schema', '1');"
                                                 "CREATE TABLE submission (who TEXT); INSERT INTO submission VALUES ('a');",
    "a table no gradebook has": "CREATE TABLE users (name TEXT); INSERT INTO users VALUES ('a');",
    "a meta table of other keys": "CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);"
                                  "INSERT INTO meta VALUES ('owner', 'someone');",
}


def test_a_gradebook_whose_creation_was_cut_short_is_made_one(tmp_path):
    """Killed while its tables were being made: some of ours, no schema row yet. Not someone else's."""
    import sqlite3

    database = sqlite3.connect(tmp_path / "grades.db")
    database.executescript("CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);")
    database.close()
    with Gradebook(tmp_path / "grades.db") as book:
        book.record("alice", "lab4", "h", "v1", CLASS["alice"])
        assert [row.student for row in book.submissions("lab4")] == ["alice"]


@pytest.mark.parametrize("sql", FOREIGN.values(), ids=FOREIGN.keys())
@pytest.mark.parametrize("command", ["export", "batch"])
def test_an_sqlite_file_of_something_else_is_one_line_and_left_as_it_was(tmp_path, capsys, sql, command):
    """It was opened as a gradebook: tables created in it, switched to WAL (its header rewritten), and the
    export stopped with a traceback (no such column: lab; int('abc'))."""
    import sqlite3

    from grader.cli import main

    database = sqlite3.connect(tmp_path / "grades.db")
    database.executescript(sql)
    database.close()
    before = (tmp_path / "grades.db").read_bytes()
    (tmp_path / "subs" / "alice").mkdir(parents=True)
    (tmp_path / "subs" / "alice" / "pytorch_basics.py").write_text("x = 1\n")
    argv = ["export", str(tmp_path)] if command == "export" else ["batch", "lab4", str(tmp_path / "subs"),
                                                                    "--out", str(tmp_path), "--quiet"]
    assert main(argv) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "is not a gradebook" in err[0], err
    assert (tmp_path / "grades.db").read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["grades.db", "subs"]


@pytest.mark.parametrize("command", [["export", "{dir}", "--format", "csv"], ["similarity", "{dir}"],
                                     ["batch", "lab4", "{dir}/subs", "--out", "{dir}", "--quiet", "-k", "nothing"]])
def test_a_gradebook_damaged_past_its_header_is_one_line(tmp_path, capsys, command):
    """The header opens; a page read later raised sqlite3.DatabaseError out of the export (and similarity)."""
    from grader.cli import main

    with Gradebook(tmp_path / "grades.db") as book:
        for n in range(200):
            book.record(f"s{n}", "lab4", "h", "v1", CLASS["alice"])
        book.db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    data = bytearray((tmp_path / "grades.db").read_bytes())
    for page in range(3, len(data) // 4096):
        data[page * 4096: page * 4096 + 100] = b"\xff" * 100
    (tmp_path / "grades.db").write_bytes(bytes(data))
    (tmp_path / "subs" / "alice").mkdir(parents=True)
    (tmp_path / "subs" / "alice" / "pytorch_basics.py").write_text("x = 1\n")
    assert main([part.format(dir=tmp_path) for part in command]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "is damaged" in err[0], err


@pytest.mark.parametrize("lab", ["../../escaped", "..", "{tmp}/absolute", "lab4/../../x"])
def test_a_lab_named_as_a_path_in_the_gradebook_writes_nothing_outside(tmp_path, capsys, lab):
    """A gradebook of two labs exports each under ``DIR/LAB/``: a lab named ``../../escaped`` (a gradebook
    edited by hand, or written by something else) wrote ``grades.csv`` two folders above DIR."""
    from grader.cli import main

    folder = tmp_path / "a" / "b"
    folder.mkdir(parents=True)
    with Gradebook(folder / "grades.db") as book:
        book.record("alice", lab.format(tmp=tmp_path), "h", "v1", CLASS["alice"])
        book.record("bob", "lab4", "h", "v1", CLASS["bob"])
    assert main(["export", str(folder), "--format", "csv"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "not a lab's name" in err[0], err
    written = sorted(p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*") if p.is_file())
    assert [p for p in written if not p.startswith("a/b/grades.db")] == [], written


# ------------------------------------------------------------------ red team 3: formulas the first round let through
FORMULAS = ["\u00a0=HYPERLINK(\"http://x\",\"y\")", "\u3000=1+1", "\u2003-2+3", "\ufe66cmd|' /C calc'!A0",
            "\ufe62SUM(A1)", "|calc", " \u00a0\uff20SUM(A1)"]


@pytest.mark.parametrize("name", FORMULAS)
def test_a_name_that_a_spreadsheet_reads_as_a_formula_is_text_in_every_csv(tmp_path, name):
    """Only spaces were stripped before looking for ``=``: a no-break, ideographic or em space, a small ``﹦``
    (NFKC: ``=``) or a ``|`` started the cell; a Gradescope submitter's name reaches canvas.csv whole."""
    with Gradebook(tmp_path / "grades.db") as book:
        book.record(name, "lab4", "h", "v1", CLASS["alice"])
        book.set_handins("lab4", [(name, Handin(name=name, sis_id=name, email=name), "x = 1\n")])
        export(book, tmp_path, ("csv", "canvas", "grades"), "lab4")
    for written in ("grades.csv", "canvas.csv", "scores.csv"):
        with (tmp_path / written).open(encoding="utf-8", newline="") as handle:
            cells = [cell for row in csv.reader(handle) for cell in row]
        for cell in cells:
            seen = unicodedata.normalize("NFKC", cell).lstrip()
            assert cell.startswith("'") or not seen.startswith(tuple("=+-@|")), (written, cell)
        if written == "canvas.csv":
            assert any(cell.startswith("'") and name.strip() in cell for cell in cells)   # the name, whole


def test_two_students_carrying_one_canvas_id_never_share_a_grade_in_canvas_csv(tmp_path):
    """Red team 3: a hand-in named ``zzz_99999_2_pytorch_basics.py`` in a folder of files reads as Canvas's
    user 99999; canvas.csv had two rows with ID 99999, and Canvas keeps one grade for the student: the
    last row's. Rows sharing an ID now carry none (Canvas shows them unmatched) and say whose it also is;
    the rest of the class is matched as before."""

    subs = tmp_path / "subs"
    subs.mkdir()
    for name, code in {"smithjane_99999_1_pytorch_basics.py": "x = 1\n", "zzz_99999_2_pytorch_basics.py": "x = 2\n",
                       "doejohn_55555_3_pytorch_basics.py": "x = 3\n"}.items():
        (subs / name).write_text(code)
    rows, _ = canvas_export(subs, tmp_path)
    ids = {row[0].split(" ")[0]: row[1] for row in rows}
    assert ids == {"doejohn": "55555", "smithjane": "", "zzz": ""}, rows
    assert "smithjane_99999" in next(row[0] for row in rows if row[0].startswith("zzz")), rows


def test_each_member_of_a_gradescope_group_submission_gets_a_canvas_row_of_their_own(tmp_path):
    """A group submission (two submitters in ``submission_metadata.yml``) was one canvas.csv row whose SIS
    User ID was ``111, 222``: Canvas matched neither member. Each member now has a row with the group's
    score; a member of two groups is still caught (no ID: two grades would land on one student)."""

    subs = tmp_path / "gs"
    for folder in ("submission_101", "submission_102", "submission_103"):
        (subs / folder).mkdir(parents=True)
        (subs / folder / "pytorch_basics.py").write_text(f"# {folder}\n")

    def submitters(*people: tuple[str, str]) -> str:
        return "".join(f"  - ':name': {name}\n    ':sid': '{sid}'\n    ':email': {name.lower()}@uni.edu\n"
                       for name, sid in people)

    (subs / "submission_metadata.yml").write_text(
        f"submission_101:\n  ':submitters':\n{submitters(('Ann', '111'), ('Ben', '222'))}"
        f"submission_102:\n  ':submitters':\n{submitters(('Cal', '333'))}"
        f"submission_103:\n  ':submitters':\n{submitters(('Dee', '444'), ('Eve', '555'), ('Dee', '444'))}")
    listed, score = canvas_export(subs, tmp_path)
    rows = {row[0]: (row[2], row[3], row[5]) for row in listed}
    group, cal = f"{score['submission_101']:g}", f"{score['submission_102']:g}"
    assert rows == {"Ann": ("111", "ann@uni.edu", group), "Ben": ("222", "ben@uni.edu", group),
                    "Cal": ("333", "cal@uni.edu", cal), "Dee": ("444", "dee@uni.edu", group),
                    "Eve": ("555", "eve@uni.edu", group)}, rows


def test_a_member_of_two_group_submissions_is_matched_by_hand(tmp_path):
    """The shared-ID protection holds for group members: Ben in two groups gets no ID in either row."""
    from grader.instructor.gradebook.store import Handin

    ann, ben, cal = (Handin(name=n, sis_id=s) for n, s in (("Ann", "111"), ("Ben", "222"), ("Cal", "333")))
    with Gradebook(tmp_path / "grades.db") as book:
        for student, members in (("submission_1", (ann, ben)), ("submission_2", (ben, cal))):
            book.record(student, "lab4", student, "v1", CLASS["alice"])
            book.set_handins("lab4", [(student, Handin(name="x", sis_id="y", members=members), "x = 1\n")])
        export(book, tmp_path, ("canvas",), "lab4")
    with (tmp_path / "canvas.csv").open(encoding="utf-8", newline="") as handle:
        rows = {row[0].split(" ")[0]: (row[0], row[2]) for row in list(csv.reader(handle))[2:]}
    assert {name: sid for name, (_, sid) in rows.items()} == {"Ann": "111", "Ben": "", "Cal": "333"}, rows
    ben_rows = [row for row in csv.reader((tmp_path / "canvas.csv").open(encoding="utf-8")) if row[0].startswith("Ben")]
    assert len(ben_rows) == 2 and {r[0] for r in ben_rows} == {"Ben (its ID is also submission_2's: match by hand)",
                                                               "Ben (its ID is also submission_1's: match by hand)"}


def test_a_gradebook_of_schema_1_gains_the_members_column_and_keeps_its_handins(tmp_path):
    import sqlite3

    from grader.instructor.gradebook.store import Handin

    with Gradebook(tmp_path / "grades.db") as book:
        book.set_handins("lab4", [("alice", Handin(name="Alice", sis_id="111"), "x = 1\n")])
    database = sqlite3.connect(tmp_path / "grades.db")
    database.executescript("ALTER TABLE handin DROP COLUMN members; UPDATE meta SET value='1' WHERE key='schema';")
    database.close()
    with Gradebook(tmp_path / "grades.db") as book:
        assert book.handins("lab4") == {"alice": Handin(name="Alice", sis_id="111")}
        book.set_handins("lab4", [("bob", Handin(members=(Handin(name="B"), Handin(name="C"))), "x = 2\n")])
        assert book.handins("lab4")["bob"].members == (Handin(name="B"), Handin(name="C"))
        assert book.db.execute("SELECT value FROM meta WHERE key='schema'").fetchone() == ("2",)


def test_a_result_holding_lone_surrogates_exports_every_format(tmp_path):
    """Red team 3: the gradebook stored a result as JSON, which spells a lone surrogate ``\\ud800`` and loads
    it back as one; the student's report.txt then could not be written (UnicodeEncodeError, export
    stopped). Fields a report shows raw (output, warnings, a frame's line) now come back as U+FFFD."""
    from grader.results import CheckResult, ErrorRecord, Frame, GradeResult

    lone = "\ud800"
    check = CheckResult("test_x", "x", 1, "failed", 0.0, output=f"printed {lone}", warnings=f"warned {lone}",
                        error=ErrorRecord("ValueError", f"said {lone}", frames=[Frame("f.py", 3, "f", f"x = '{lone}'")]))
    with Gradebook(tmp_path / "grades.db") as book:
        book.record("alice", "lab4", "h", "v1", GradeResult("lab4", "PyTorch", "alice.py", [check]))
        written = export(book, tmp_path, lab="lab4")
    for path in written:
        path.read_bytes().decode("utf-8")
    assert "printed \ufffd" in (tmp_path / "students" / "alice" / "report.txt").read_text(encoding="utf-8")


def test_a_file_where_an_export_makes_a_folder_is_one_line_and_kept(tmp_path, capsys):
    """Red team 3: ``DIR/students`` a file of the user's: FileExistsError out of the export, a traceback."""
    from grader.cli import main

    gradebook(tmp_path, {"alice": "alice"})
    (tmp_path / "students").write_text("my notes\n")
    assert main(["export", str(tmp_path), "--format", "reports"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "cannot write" in err[0] and "students" in err[0], err
    assert (tmp_path / "students").read_text() == "my notes\n"


def canvas_export(subs, tmp_path) -> tuple[list[list[str]], dict[str, float]]:
    """The hand-ins under ``subs`` discovered, recorded (graded alternately like alice, bob, alice) and
    exported as canvas.csv: its student rows, and each student's score as the gradebook has it."""
    from grader.course.folder import find_lab
    from grader.instructor.batch.layouts import discover

    roster = discover(find_lab("lab4"), subs, tmp_path / "staging")
    with Gradebook(tmp_path / "grades.db") as book:
        for entry, like in zip(roster.entries, ("alice", "bob", "alice")):
            book.record(entry.student, "lab4", entry.content_hash, "v1", CLASS[like])
        book.set_handins("lab4", [(entry.student, entry.handin, entry.text) for entry in roster.entries])
        export(book, tmp_path, ("canvas",), "lab4")
        score = {entry.student: row.score for entry, row in zip(roster.entries, book.submissions("lab4"))}
    with (tmp_path / "canvas.csv").open(encoding="utf-8", newline="") as handle:
        return list(csv.reader(handle))[2:], score
