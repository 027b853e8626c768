"""Submission layouts: who handed in what, without grading anything."""

from __future__ import annotations

import hashlib
import os
import zipfile
from pathlib import Path

import pytest

from grader.instructor.batch.layouts import LayoutError, discover, normal_stem
from grader.course.folder import find_lab

LAB = find_lab("lab4")
CODE = "def numpy_to_tensor(a):\n    return a\n"


def write(path: Path, text: str | bytes = CODE) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(text.encode() if isinstance(text, str) else text)
    return path


def notebook(cells: list[tuple[str, str]]) -> str:
    import nbformat

    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(src) if kind == "code" else nbformat.v4.new_markdown_cell(src)
                for kind, src in cells]
    return nbformat.writes(nb)


def by_student(roster):
    return {e.student: e for e in roster.entries}


def kinds(roster):
    return sorted((p.student, p.kind) for p in roster.problems)


def test_folder_per_student(tmp_path):
    subs = tmp_path / "subs"
    write(subs / "alice" / "pytorch_basics.py")
    write(subs / "bob" / "assignments" / "lab4" / "pytorch_basics.py", CODE + "# bob\n")
    write(subs / "bob" / "helper.py", "x = 1\n")
    roster = discover(LAB, subs, tmp_path / "staging")
    entries = by_student(roster)
    assert sorted(entries) == ["alice", "bob"] and roster.problems == []
    assert entries["bob"].code.read_text().endswith("# bob\n")
    assert entries["bob"].code.name == "pytorch_basics.py"
    assert entries["bob"].content_hash == hashlib.sha256((CODE + "# bob\n").encode()).hexdigest()
    assert entries["alice"].note == "" and roster.layout == "a folder per student"


def test_file_per_student_and_notebook(tmp_path):
    subs = tmp_path / "subs"
    write(subs / "alice.py")
    write(subs / "carol.ipynb", notebook([("markdown", "# hi"), ("code", "%matplotlib inline\nimport numpy"),
                                          ("code", "if True:\n    !pip install x\ndef f():\n    return 2"),
                                          ("code", "%%bash\nrm -rf /")]))
    roster = discover(LAB, subs, tmp_path / "staging")
    entries = by_student(roster)
    assert sorted(entries) == ["alice", "carol"]
    assert entries["carol"].code.name == "pytorch_basics.ipynb"   # graded as a notebook, as grade does
    assert entries["carol"].code.read_bytes() == (subs / "carol.ipynb").read_bytes()
    code = entries["carol"].text
    compile(code, "carol", "exec")          # magics and shell escapes are gone, blocks still parse
    assert "import numpy" in code and "def f():" in code
    assert "!pip" not in code.replace("removed: !pip", "") and "rm -rf" not in code
    assert "code cells of carol.ipynb" in entries["carol"].note


def test_canvas_flat_names_and_renaming(tmp_path):
    subs = tmp_path / "subs"
    write(subs / "smithjane_12345_67890_pytorch_basics-1.py")
    write(subs / "doejohn_late_222_333_Pytorch_Basics.py")
    write(subs / "leeann_444_555_pytorch_basics.py")
    roster = discover(LAB, subs, tmp_path / "staging")
    entries = by_student(roster)
    assert sorted(entries) == ["doejohn_222", "leeann_444", "smithjane_12345"]
    assert entries["smithjane_12345"].note == "graded pytorch_basics-1.py as pytorch_basics.py"
    assert entries["doejohn_222"].note == "graded Pytorch_Basics.py as pytorch_basics.py"
    assert entries["leeann_444"].note == ""
    assert roster.layout == "Canvas files"


def test_gradescope_and_github_classroom_folders(tmp_path):
    gs = tmp_path / "gs"
    write(gs / "submission_101" / "pytorch_basics.py")
    write(gs / "submission_102" / "pytorch_basics.py")
    write(gs / "submission_metadata.yml", "x: 1\n")
    roster = discover(LAB, gs, tmp_path / "s1")
    assert sorted(by_student(roster)) == ["submission_101", "submission_102"]
    assert roster.layout == "Gradescope folders"
    assert kinds(roster) == []          # the metadata file is read (it says nothing here), not graded
    gh = tmp_path / "gh"
    write(gh / "lab4-pytorch-alice" / "assignments" / "lab4" / "pytorch_basics.py")
    write(gh / "lab4-pytorch-bob" / "assignments" / "lab4" / "pytorch_basics.py")
    assert sorted(by_student(discover(LAB, gh, tmp_path / "s2"))) == ["alice", "bob"]


def test_duplicates_empty_unreadable_missing_are_listed(tmp_path):
    subs = tmp_path / "subs"
    write(subs / "dup" / "pytorch_basics.py")
    write(subs / "dup" / "pytorch_basics-1.py")           # exact name wins, the copy is listed
    write(subs / "dup.py")                                # same student as the folder
    write(subs / "twins" / "Pytorch_basics.py")
    write(subs / "twins" / "pytorch-basics.py")           # two renamed candidates: which one? ask
    write(subs / "empty" / "pytorch_basics.py", "\n  \n")
    write(subs / "latin" / "pytorch_basics.py", b"x = '\xe9'\n")
    write(subs / "broken.ipynb", "{not json")
    write(subs / "nothing" / "notes.txt", "hi")
    write(subs / "two" / "a.py")
    write(subs / "two" / "b.py")
    roster = discover(LAB, subs, tmp_path / "staging")
    assert sorted(by_student(roster)) == ["dup"]
    assert kinds(roster) == [("broken", "unreadable"), ("dup", "duplicate"), ("dup", "duplicate"),
                             ("empty", "empty"), ("latin", "unreadable"), ("nothing", "missing"),
                             ("twins", "ambiguous"), ("two", "missing")]


def test_single_renamed_file_is_graded_with_a_note(tmp_path):
    subs = tmp_path / "subs"
    write(subs / "eve" / "lab4 solution.py")
    entry = by_student(discover(LAB, subs, tmp_path / "staging"))["eve"]
    assert entry.note == "graded lab4 solution.py as pytorch_basics.py"


def test_symlinks_are_never_followed(tmp_path):
    reference = write(tmp_path / "reference.py", "print('reference')\n")
    subs = tmp_path / "subs"
    (subs / "mallory").mkdir(parents=True)
    os.symlink(reference, subs / "mallory" / "pytorch_basics.py")
    os.symlink(reference, subs / "oscar.py")
    os.symlink(tmp_path, subs / "trudy")
    roster = discover(LAB, subs, tmp_path / "staging")
    assert roster.entries == []
    assert kinds(roster) == [("mallory", "unreadable"), ("oscar", "unreadable"),
                             ("trudy", "unreadable")]
    assert {p.path.name for p in roster.problems if p.kind == "unreadable"} >= {"pytorch_basics.py", "oscar.py", "trudy"}


def test_zip_of_folders_is_entered_and_unsafe_members_refused(tmp_path):
    archive = tmp_path / "class.zip"
    with zipfile.ZipFile(archive, "w") as z:
        z.writestr("export/alice/pytorch_basics.py", CODE)
        z.writestr("export/bob/pytorch_basics.py", CODE + "#b\n")
        z.writestr("../escape.py", CODE)
        link = zipfile.ZipInfo("export/carol/pytorch_basics.py")
        link.external_attr = (0o120777 << 16)
        z.writestr(link, "/etc/passwd")
    roster = discover(LAB, archive, tmp_path / "staging")
    assert sorted(by_student(roster)) == ["alice", "bob"]
    assert roster.layout.startswith("zip of")
    refused = {p.path.name: p.detail for p in roster.problems if p.kind == "unreadable"}
    assert "escape.py" in refused and "pytorch_basics.py" in refused
    assert not (tmp_path / "escape.py").exists() and not (tmp_path / "staging" / "escape.py").exists()


def test_bad_input_is_one_clear_error(tmp_path):
    with pytest.raises(LayoutError, match="neither a folder"):
        discover(LAB, tmp_path / "missing", tmp_path / "staging")
    bad = write(tmp_path / "bad.zip", "not a zip")
    with pytest.raises(LayoutError, match="not a readable zip"):
        discover(LAB, bad, tmp_path / "staging")


@pytest.mark.parametrize("name", ["pytorch_basics.py", "Pytorch_Basics.py", "pytorch_basics-1.py",
                                  "pytorch_basics (2).py", "pytorch-basics.ipynb", "PYTORCH BASICS.py"])
def test_normal_stem_forgives_case_copies_and_separators(name):
    assert normal_stem(name) == "pytorch_basics"


def test_normal_stem_keeps_different_names_apart():
    assert normal_stem("pytorch_basics2.py") != "pytorch_basics"
    assert normal_stem("audio_io.py") != "pytorch_basics"


GRADESCOPE_METADATA = """\
submission_101:
  :submitters:
  - :name: Jane Smith
    :sid: '1001'
    :email: jane@example.edu
  :created_at: 2024-03-01 23:30:00.123456789 -08:00
  :score: 0.0
submission_102:
  :submitters:
  - :name: "<script>alert(1)</script>"
    :sid: '1002'
    :email: bob@example.edu
  - :name: Ann Lee
    :sid: '1003'
  :created_at: 2024-03-02 09:15:00.000000000 -08:00
"""


def test_gradescope_metadata_says_who_and_when(tmp_path):
    gs = tmp_path / "gs"
    write(gs / "submission_101" / "pytorch_basics.py")
    write(gs / "submission_102" / "pytorch_basics.py")
    write(gs / "submission_metadata.yml", GRADESCOPE_METADATA)
    entries = by_student(discover(LAB, gs, tmp_path / "staging"))
    jane, pair = entries["submission_101"].handin, entries["submission_102"].handin
    assert (jane.name, jane.sis_id, jane.email) == ("Jane Smith", "1001", "jane@example.edu")
    assert jane.submitted_at == "2024-03-01T23:30:00.123456-08:00" and not jane.late
    assert (pair.name, pair.sis_id) == ("<script>alert(1)</script>, Ann Lee", "1002, 1003")   # data, as given
    assert pair.submitted_at == "2024-03-02T09:15:00-08:00"


def test_unreadable_gradescope_metadata_is_listed_and_the_class_still_graded(tmp_path):
    gs = tmp_path / "gs"
    write(gs / "submission_101" / "pytorch_basics.py")
    write(gs / "submission_metadata.yml", "submission_101: [unclosed\n")
    roster = discover(LAB, gs, tmp_path / "staging")
    assert sorted(by_student(roster)) == ["submission_101"] and kinds(roster) == [("", "unreadable")]


def test_canvas_late_mark_and_user_id(tmp_path):
    subs = tmp_path / "subs"
    write(subs / "doejohn_late_222_333_pytorch_basics.py")
    write(subs / "leeann_444_555_pytorch_basics.py")
    entries = by_student(discover(LAB, subs, tmp_path / "staging"))
    assert (entries["doejohn_222"].handin.late, entries["doejohn_222"].handin.lms_id) == (True, "222")
    assert (entries["leeann_444"].handin.late, entries["leeann_444"].handin.name) == (False, "leeann")


# ------------------------------------------------------------------ names a student controls (issue 20, item 1)
HOSTILE_FOLDERS = [b"Jos\xe9", b"esc\x1b[2J\x1b]0;title\x07", "line\u2028Score 58/58".encode(),
                   "bidi\u202eyp.exe".encode(), b"=HYPERLINK(1)", b"tab\there"]


def test_ids_are_printable_utf8_whatever_the_folder_or_file_is_called(tmp_path):
    subs = tmp_path / "subs"
    for raw in HOSTILE_FOLDERS:
        write(Path(os.fsdecode(os.fsencode(subs) + b"/" + raw)) / "pytorch_basics.py")
    write(Path(os.fsdecode(os.fsencode(subs) + b"/Ren\xe9e.py")))                 # a file per student
    write(Path(os.fsdecode(os.fsencode(subs) + b"/nobody\x1b[8m")) / "notes.txt")  # listed, with its id
    roster = discover(LAB, subs, tmp_path / "staging")
    ids = sorted(by_student(roster))
    assert len(ids) == len(HOSTILE_FOLDERS) + 1
    assert "Jos\\xe9" in ids and "Ren\\xe9e" in ids and "esc\\x1b[2J\\x1b]0;title\\x07" in ids
    assert "=HYPERLINK(1)" in ids          # printable as it is: the CSV writer escapes it for spreadsheets
    for student in [*ids, *(p.student for p in roster.problems)]:
        assert student.isprintable() and student.encode("utf-8")
    (problem,) = roster.problems
    assert (problem.student, problem.kind) == ("nobody\\x1b[8m", "missing")
    assert by_student(roster)["Jos\\xe9"].raw == "Jos\\xe9"          # the whole raw name, escaped
    assert all(entry.raw.isprintable() for entry in roster.entries)


def test_names_in_notes_and_problems_are_printable(tmp_path):
    subs = tmp_path / "subs"
    write(subs / "alice" / "Pytorch_Basics\x1b[2J.py")
    write(subs / "bob" / "a\u2028.py")
    write(subs / "bob" / "b\u202e.py")
    roster = discover(LAB, subs, tmp_path / "staging")
    assert by_student(roster)["alice"].note == "graded Pytorch_Basics\\x1b[2J.py as pytorch_basics.py"
    (problem,) = roster.problems
    assert problem.kind == "missing" and "a\\u2028.py" in problem.detail and problem.detail.isprintable()


# ------------------------------------------------------------------ archives (issue 20, item 3)
def forged_zip(path: Path, members: list[tuple[str, bytes]], changes: dict[str, dict] | None = None) -> Path:
    """A zip of ``members``; then, for the members named in ``changes`` ({name: {"flag": bits to set,
    "method": number, "crc": number}}), both headers rewritten as a hostile tool would write them."""
    import io
    import struct
    import warnings

    buffer = io.BytesIO()
    with warnings.catch_warnings(), zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        warnings.simplefilter("ignore")          # "Duplicate name": a duplicate is one of the attacks
        for name, data in members:
            archive.writestr(name, data)
    raw = bytearray(buffer.getvalue())
    with zipfile.ZipFile(io.BytesIO(bytes(raw))) as archive:
        infos, central = archive.infolist(), archive.start_dir
    for info in infos:
        change = (changes or {}).get(info.filename, {})
        for header, (flag, method, crc) in ((central, (8, 10, 16)), (info.header_offset, (6, 8, 14))):
            if "flag" in change:
                bits = struct.unpack_from("<H", raw, header + flag)[0] | change["flag"]
                struct.pack_into("<H", raw, header + flag, bits)
            if "method" in change:
                struct.pack_into("<H", raw, header + method, change["method"])
            if "crc" in change:
                struct.pack_into("<I", raw, header + crc, change["crc"])
        central += 46 + sum(struct.unpack_from("<HHH", raw, central + 28))
    path.write_bytes(bytes(raw))
    return path


def test_a_duplicate_member_is_listed_and_neither_copy_graded(tmp_path):
    other = b"def numpy_to_tensor(a):\n    return 1\n"
    archive = forged_zip(tmp_path / "class.zip", [("alice/pytorch_basics.py", CODE.encode()),
                                                  ("alice/pytorch_basics.py", other),
                                                  ("bob/pytorch_basics.py", CODE.encode())])
    roster = discover(LAB, archive, tmp_path / "staging")
    assert sorted(by_student(roster)) == ["bob"]
    assert kinds(roster) == [("alice", "duplicate")]
    assert "appears 2 times" in roster.problems[0].detail


@pytest.mark.parametrize("change, why", [({"flag": 1}, "encrypted"), ({"method": 99}, "compression method 99"),
                                         ({"method": 9}, "compression method 9"), ({"crc": 1234}, "CRC")])
def test_members_zipfile_cannot_read_are_listed_and_the_rest_graded(tmp_path, change, why):
    archive = forged_zip(tmp_path / "class.zip", [("alice/pytorch_basics.py", CODE.encode()),
                                                  ("bob/pytorch_basics.py", CODE.encode() * 50),
                                                  ("carol/pytorch_basics.py", CODE.encode())],
                         {"bob/pytorch_basics.py": change})
    roster = discover(LAB, archive, tmp_path / "staging")
    assert sorted(by_student(roster)) == ["alice", "carol"]
    (problem,) = roster.problems
    assert (problem.student, problem.kind) == ("bob", "unreadable") and why in problem.detail, problem


def test_only_what_is_graded_is_extracted(tmp_path):
    """A zip of large members no grade needs (data, a nested zip, a second copy) puts only the
    graded files on disk; a code file over the per-file limit is listed."""
    big = bytes(8 << 20)                        # 8 MiB of zeros: a few KiB compressed
    archive = forged_zip(tmp_path / "class.zip", [
        *[(f"alice/data{n}.bin", big) for n in range(4)], ("alice/pytorch_basics.py", CODE.encode()),
        ("alice/nested.zip", big), ("alice/old/pytorch_basics.py", big[: 1 << 20]),
        ("bob/pytorch_basics.py", bytes(9 << 20))])
    assert archive.stat().st_size < 1 << 20
    roster = discover(LAB, archive, tmp_path / "staging")
    assert sorted(by_student(roster)) == ["alice"]
    assert kinds(roster) == [("alice", "duplicate"), ("bob", "unreadable")]   # the deeper copy: listed, not read
    assert "too large" in next(p.detail for p in roster.problems if p.student == "bob")
    on_disk = sum(p.stat().st_size for p in (tmp_path / "staging").rglob("*") if p.is_file())
    assert on_disk == len(CODE)


def test_a_member_that_lies_about_its_size_is_listed(tmp_path):
    archive = forged_zip(tmp_path / "class.zip", [("alice/pytorch_basics.py", CODE.encode()),
                                                  ("bob/pytorch_basics.py", CODE.encode())])
    raw = bytearray(archive.read_bytes())
    with zipfile.ZipFile(archive) as z:
        central = z.start_dir + 46 + len("alice/pytorch_basics.py")     # bob's central record
    import struct
    struct.pack_into("<I", raw, central + 24, 5)                           # "5 bytes", holding more
    archive.write_bytes(bytes(raw))
    roster = discover(LAB, archive, tmp_path / "staging")
    assert sorted(by_student(roster)) == ["alice"] and kinds(roster) == [("bob", "unreadable")]


# ------------------------------------------------------------------ notebooks (issue 20, item 4)
@pytest.mark.parametrize("source", [12, {"a": 1}, None, ["x = 1\n", 3]])
def test_a_notebook_whose_cell_source_is_not_text_is_listed_naming_the_cell(tmp_path, source):
    import json

    cells = [{"cell_type": "code", "id": name, "execution_count": None, "metadata": {}, "outputs": [], "source": text}
             for name, text in (("a", "x = 1"), ("b", source))]
    document = {"cells": cells, "metadata": {}, "nbformat": 4, "nbformat_minor": 5}
    write(tmp_path / "subs" / "mallory.ipynb", json.dumps(document))
    write(tmp_path / "subs" / "alice.py")
    roster = discover(LAB, tmp_path / "subs", tmp_path / "staging")
    assert sorted(by_student(roster)) == ["alice"]
    (problem,) = roster.problems
    assert (problem.student, problem.kind) == ("mallory", "unreadable")
    assert "cell 2" in problem.detail and "\n" not in problem.detail, problem.detail
