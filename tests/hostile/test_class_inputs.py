"""A class's hand-ins and what the LMS says of them, as a hostile student or tool would make them
(the second red team of issue 20: layouts, zips, ``submission_metadata.yml``).

Nothing here grades: each attack is on what the grader reads before any worker starts. The
promises: reading a class takes time and memory bounded by what is handed in, never more than
linear in it; whatever one student's folder holds costs that student only, and says so in a
bounded number of lines; the LMS's metadata is data, read as text or a time, never expanded,
and what it cannot be read as is a listed problem while the class is graded all the same.
"""

from __future__ import annotations

import time
import zipfile
from pathlib import Path

import pytest

from grader.course.folder import find_lab
from grader.instructor.batch.layouts import discover
from grader.instructor.gradebook.lateness import lateness

LAB = find_lab("lab4")
CODE = b"def numpy_to_tensor(a):\n    return a\n"


def write(path: Path, data: bytes | str = CODE) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data.encode() if isinstance(data, str) else data)
    return path


def by_student(roster):
    return {e.student: e for e in roster.entries}


# ------------------------------------------------------------------ one student's folder, many files
def test_a_students_zip_of_8000_copies_of_the_labs_file_is_read_in_linear_time(tmp_path):
    """Every candidate used to be compared with every copy named as the lab's file (a Node equality per
    pair): 10 000 copies in one student's folder took 100 s, 100 000 took hours, and the batch waited."""
    archive = tmp_path / "class.zip"
    with zipfile.ZipFile(archive, "w") as z:
        z.writestr("alice/pytorch_basics.py", CODE)
        z.writestr("mallory/pytorch_basics.py", CODE)
        for i in range(8_000):
            z.writestr(f"mallory/copy{i}/pytorch_basics.py", CODE)
    started = time.monotonic()
    roster = discover(LAB, archive, tmp_path / "staging")
    assert time.monotonic() - started < 20
    assert sorted(by_student(roster)) == ["alice", "mallory"]


def test_one_students_problems_are_a_bounded_number_of_lines(tmp_path):
    """20 000 copies of the lab's file beside the graded one: one listed problem each used to flood the
    summary, the gradebook and the class report. A few are listed, then how many more."""
    subs = tmp_path / "subs"
    write(subs / "alice" / "pytorch_basics.py")
    write(subs / "mallory" / "pytorch_basics.py")
    for i in range(2_000):
        (subs / "mallory" / f"Pytorch_Basics-{i}.py").write_bytes(CODE)
    roster = discover(LAB, subs, tmp_path / "staging")
    assert sorted(by_student(roster)) == ["alice", "mallory"]
    mallory = [p for p in roster.problems if p.student == "mallory"]
    assert 1 < len(mallory) <= 21, len(mallory)
    assert "1980 more" in mallory[-1].detail, mallory[-1]


# ------------------------------------------------------------------ submission_metadata.yml
def gradescope_class(tmp_path: Path, metadata: str) -> Path:
    gs = tmp_path / "gs"
    write(gs / "submission_101" / "pytorch_basics.py")
    write(gs / "submission_102" / "pytorch_basics.py")
    write(gs / "submission_metadata.yml", metadata)
    return gs


def laughs(levels: int) -> str:
    """A billion laughs: each anchor a list of nine aliases of the one before; str() of the last one
    is 9**levels times as long as the first."""
    lines = ["a0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]"]
    lines += [f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 9)}]" for i in range(1, levels)]
    return "\n".join(lines) + "\n"


def test_metadata_whose_aliases_would_expand_is_read_as_nothing_more(tmp_path):
    """An alias is a reference: harmless until something turns it into text. A submitter's name that is
    a billion laughs became a 2.8 GB string at 9 levels (and a MemoryError at 10); here 6 levels, which
    would be 5.7 MB: fields are text of bounded length or nothing."""
    metadata = laughs(6) + """\
submission_101:
  :submitters:
  - &who
    :name: *a5
    :sid: *a5
    :email: [*a5, *a5]
  - *who
  - *who
  :created_at: *a5
submission_102:
  :submitters: *a5
"""
    roster = discover(LAB, gradescope_class(tmp_path, metadata), tmp_path / "staging")
    entries = by_student(roster)
    assert sorted(entries) == ["submission_101", "submission_102"]
    for entry in entries.values():
        handin = entry.handin
        assert all(len(text) <= 1000 for text in (handin.name, handin.sis_id, handin.email, handin.submitted_at))


@pytest.mark.parametrize("value", ["1" * 5000, "2024-13-45 10:00:00", "!!timestamp yesterday", "!!int x"])
def test_metadata_yaml_cannot_construct_is_listed_and_the_class_graded(tmp_path, value):
    """A scalar that YAML's constructors turn into an exception that is no YAMLError (ValueError for an
    int of 5000 digits or a 13th month, AttributeError for a tagged timestamp) aborted the whole batch
    with a traceback."""
    metadata = f"submission_101:\n  :created_at: {value}\n  :submitters:\n  - :name: Jane\n"
    roster = discover(LAB, gradescope_class(tmp_path, metadata), tmp_path / "staging")
    assert sorted(by_student(roster)) == ["submission_101", "submission_102"]
    assert [(p.student, p.kind) for p in roster.problems] == [("", "unreadable")]


def test_metadata_fields_that_are_not_text_are_left_out(tmp_path):
    """A 5000-digit hex SID is an int that str() refuses (ValueError), a name may be a list or a
    mapping: only text, numbers and times are read; the rest is as if the field were absent."""
    metadata = f"""\
submission_101:
  :submitters:
  - :name: {{first: Jane}}
    :sid: 0x{'f' * 5000}
    :email: [a@b.c]
  - :name: Ann Lee
    :sid: 1003
  :created_at: [2024-03-01]
"""
    entries = by_student(discover(LAB, gradescope_class(tmp_path, metadata), tmp_path / "staging"))
    handin = entries["submission_101"].handin
    assert (handin.name, handin.sis_id, handin.email, handin.submitted_at) == ("Ann Lee", "1003", "", "")


def test_a_time_without_an_offset_is_utc_and_compares_with_the_due_time(tmp_path):
    """YAML reads ``2024-03-02 09:15:00`` as a time without a zone (UTC, says YAML's spec); kept so,
    it could not be compared with an aware due time: grade export stopped with a TypeError."""
    metadata = "submission_101:\n  :created_at: 2024-03-02 09:15:00\n"
    entries = by_student(discover(LAB, gradescope_class(tmp_path, metadata), tmp_path / "staging"))
    handin = entries["submission_101"].handin
    assert handin.submitted_at == "2024-03-02T09:15:00+00:00"
    late = lateness(handin, "2024-03-02T01:00:00-08:00")   # 09:00 UTC
    assert late.late and late.seconds == 15 * 60


@pytest.mark.parametrize("submitted_at", ["2024-03-02T09:15:00", "yesterday", "2024-03-02T09:15:00+99:00"])
def test_lateness_of_a_time_that_is_not_iso_with_an_offset_is_unknown_not_a_crash(submitted_at):
    """A gradebook written before the fix (or by hand) may hold a time without an offset, or no time."""
    from grader.instructor.gradebook.store import Handin

    assert lateness(Handin(submitted_at=submitted_at, late=True), "2024-03-02T01:00:00-08:00").late
    assert not lateness(Handin(submitted_at=submitted_at), "2024-03-02T01:00:00-08:00").late


# ------------------------------------------------------------------ what is graded is what was handed in
def test_a_file_whose_coding_line_says_latin_1_is_graded_as_python_reads_it(tmp_path):
    """The staged copy was the text re-encoded as UTF-8 under the same ``coding: latin-1`` line: the
    worker read 'é' as 'Ã©', where ``grade lab4 --submission`` (which copies the bytes) read 'é'."""
    handed = b"# -*- coding: latin-1 -*-\nx = '\xe9'\n"
    write(tmp_path / "subs" / "alice" / "pytorch_basics.py", handed)
    (entry,) = discover(LAB, tmp_path / "subs", tmp_path / "staging").entries
    assert entry.code.read_bytes() == handed and entry.text == "# -*- coding: latin-1 -*-\nx = 'é'\n"
    namespace: dict = {}
    exec(compile(entry.code.read_bytes(), str(entry.code), "exec"), namespace)
    assert namespace["x"] == "é"


def test_a_job_carries_the_staged_bytes_to_a_grader_that_shares_no_disk(tmp_path):
    """A Dask grader gets the file as text: the latin-1 bytes must come out as they went in."""
    from grader.instructor.batch.events import Job
    from grader.instructor.batch.schedulers import _with_source

    handed = b"# -*- coding: latin-1 -*-\nx = '\xe9'\n"
    code = write(tmp_path / "staged" / "pytorch_basics.py", handed)
    job = _with_source(Job(key="alice", lab="lab4", code=str(code)))
    assert job.source.encode("utf-8", "surrogateescape") == handed


def test_a_zip_member_thousands_of_folders_deep_is_listed_in_bounded_time(tmp_path):
    """A member name may be 64 KiB long: 30 000 folders deep, each made with its whole path, took
    minutes (quadratic in the depth). No submission is that deep: the member is listed, unread."""
    archive = tmp_path / "class.zip"
    with zipfile.ZipFile(archive, "w") as z:
        z.writestr("alice/pytorch_basics.py", CODE)
        for top in ("mallory", "trudy"):
            z.writestr(f"{top}/" + "a/" * 30_000 + "pytorch_basics.py", CODE)
    started = time.monotonic()
    roster = discover(LAB, archive, tmp_path / "staging")
    assert time.monotonic() - started < 10
    assert sorted(by_student(roster)) == ["alice"]
    deep = [p for p in roster.problems if "folders deep" in p.detail]
    assert len(deep) == 2 and all(len(p.detail) < 5000 for p in deep), roster.problems


def test_two_students_whose_names_differ_only_in_composition_are_told_apart(tmp_path):
    """Red team 3: ``José`` composed (NFC, as Windows and Linux write it) and decomposed (NFD, as a macOS
    zip holds it) were two ids that print the same: two rows no one could tell apart in any export; so were
    ``alice`` and ``alice `` (a trailing space). The second is now ``José~2`` (``alice ~2``), as two names
    that print alike always were."""
    import unicodedata
    import zipfile

    from grader.course.folder import find_lab
    from grader.instructor.batch.layouts import discover

    archive = tmp_path / "class.zip"
    with zipfile.ZipFile(archive, "w") as handle:
        for form in ("NFC", "NFD"):
            handle.writestr(f"{unicodedata.normalize(form, 'José')}/pytorch_basics.py", f"FORM = {form!r}\n")
        handle.writestr("alice/pytorch_basics.py", "x = 1\n")
        handle.writestr("alice /pytorch_basics.py", "x = 2\n")   # a trailing space no table shows
    roster = discover(find_lab("lab4"), archive, tmp_path / "staging")
    shown = sorted(unicodedata.normalize("NFC", entry.student).strip() for entry in roster.entries)
    assert shown == ["José", "José~2", "alice", "alice ~2"], shown


def _zip_without_utf8_flag(path: Path, names: dict[str, bytes]) -> None:
    """A zip whose member names are these bytes, the UTF-8 flag unset (as macOS's Archive Utility writes):
    written under ASCII stand-ins of the same length, then patched."""
    import zipfile

    stand_ins = {"abcdefgh"[n] * len(raw): raw for n, raw in enumerate(names)}
    with zipfile.ZipFile(path, "w") as handle:
        for stand_in, raw in stand_ins.items():
            handle.writestr(stand_in, names[raw])
    data = path.read_bytes()
    for stand_in, raw in stand_ins.items():
        data = data.replace(stand_in.encode("ascii"), raw)
    path.write_bytes(data)


def test_a_macos_zip_names_students_as_they_are_named_not_in_cp437(tmp_path):
    """Red team 3: Archive Utility writes UTF-8 names without the UTF-8 flag; zipfile reads those as cp437,
    and ``José`` became the student ``Jos├⌐`` (``Zoë``: ``Zo├½``). Valid UTF-8 is read as UTF-8, as unzip
    does; bytes that are not (a cp437 name from an old Windows zip) keep their cp437 reading."""
    from grader.course.folder import find_lab
    from grader.instructor.batch.layouts import discover

    archive = tmp_path / "class.zip"
    _zip_without_utf8_flag(archive, {"José/pytorch_basics.py".encode(): b"x = 1\n",
                                     "Zoë/pytorch_basics.py".encode(): b"x = 2\n",
                                     b"M\x81ller/pytorch_basics.py": b"x = 3\n"})   # cp437's ü, not UTF-8
    roster = discover(find_lab("lab4"), archive, tmp_path / "staging")
    assert sorted(entry.student for entry in roster.entries) == ["José", "Müller", "Zoë"], roster


def test_a_zip_written_with_backslashes_has_its_folders_on_every_system(tmp_path):
    """Red team 3: Windows PowerShell's Compress-Archive writes ``alice\\pytorch_basics.py``. zipfile turns
    ``\\`` into ``/`` on Windows only: elsewhere each member was one file at the top, so every file was a
    student of its own (``alice\\helpers`` graded as the lab's file, a phantom 0) and the grades depended
    on the system. A backslash now separates folders everywhere; ``..\\`` is outside, as ``../`` is."""
    import zipfile

    from grader.course.folder import find_lab
    from grader.instructor.batch.layouts import discover

    archive = tmp_path / "class.zip"
    with zipfile.ZipFile(archive, "w") as handle:
        handle.writestr("alice\\pytorch_basics.py", "x = 1\n")
        handle.writestr("alice\\helpers.py", "y = 1\n")
        handle.writestr("bob\\lab4\\pytorch_basics.py", "x = 2\n")
        handle.writestr("..\\..\\mallory.py", "x = 3\n")
        handle.writestr("carol\\", "")   # a folder's own entry
        handle.writestr("carol\\pytorch_basics.py", "x = 4\n")
    roster = discover(find_lab("lab4"), archive, tmp_path / "staging")
    assert sorted(entry.student for entry in roster.entries) == ["alice", "bob", "carol"], roster.entries
    assert [p.kind for p in roster.problems if "mallory" in str(p.path)] == ["unreadable"], roster.problems


def test_two_students_whose_names_differ_only_in_case_are_two_ids_and_two_report_folders(tmp_path):
    """``Alice`` and ``alice`` were two ids that an LMS matching names case-insensitively, or a macOS or
    Windows disk (where ``students/Alice`` and ``students/alice`` are one folder), merges. The second is now
    ``alice~2``, as two names that print alike are; an export keeps a report folder for each."""
    import zipfile

    from grader.course.folder import find_lab
    from grader.instructor.batch.layouts import discover
    from grader.instructor.gradebook import Gradebook
    from grader.instructor.gradebook.exports import export
    from grader.results import GradeResult

    archive = tmp_path / "class.zip"
    with zipfile.ZipFile(archive, "w") as handle:
        handle.writestr("Alice/pytorch_basics.py", "x = 1\n")
        handle.writestr("alice/pytorch_basics.py", "x = 2\n")
    roster = discover(find_lab("lab4"), archive, tmp_path / "staging")
    ids = sorted(entry.student for entry in roster.entries)
    assert ids == ["Alice", "alice~2"], ids
    with Gradebook(tmp_path / "grades.db") as book:
        for student in ids:
            book.record(student, "lab4", student, "v1", GradeResult("lab4", "PyTorch Essentials", student, [], 0.1))
        export(book, tmp_path / "out", ("reports",))
    folders = sorted(p.name for p in (tmp_path / "out" / "students").iterdir())
    assert len({name.casefold() for name in folders}) == 2, folders
