"""A batch never aborts for one student (issue 20, item 5): one real ``grade batch`` of a class in which
every hostile input of issue 20 and of the project's hostile tests sits beside honest students.

Whatever a submission is, it ends as a graded row or a listed problem; the honest students' per-check
results equal their single runs (``grade lab4 --submission``); and the files the run leaves (the
gradebook and every export) carry nothing a student's name or output could use against a reader.
The same class as a zip, with the zip-only attacks added, is then read by a second run on the same
gradebook: nothing changed is graded again, and each broken member is a listed problem.
"""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
import xml.etree.ElementTree as ET
import zipfile
from pathlib import Path

import pytest

from grader.instructor.gradebook import Gradebook
from tests.helpers import LAB4_REFERENCE, REPO
from tests.hostile_class import hostile_submissions
from tests.test_batch_layouts import forged_zip

pytestmark = pytest.mark.slow

KEYWORD = "numpy_to_tensor or to_numpy or to_unet_input or mse_gradient or setup_report"
REFERENCE = LAB4_REFERENCE.read_text()
STUB = (REPO / "assignments" / "lab4" / "pytorch_basics.py").read_text()
PARTIAL = REFERENCE + "\n\ndef to_unet_input(x):\n    raise NotImplementedError('not done yet')\n"
HONEST = {"ref": ("pytorch_basics.py", REFERENCE), "stub": ("pytorch_basics.py", STUB),
          "partial": ("pytorch_basics.py", PARTIAL), "renamed": ("Pytorch_Basics-1.py", REFERENCE),
          os.fsdecode(b"Jos\xe9"): ("pytorch_basics.py", PARTIAL)}
HOSTILE_NAMES = {b"esc\x1b[2J\x1b]0;pwned\x07": REFERENCE, "nl\u2028Score 58 (100%)".encode(): STUB,
                 b"=HYPERLINK(\"evil\")": STUB, "rtl\u202eyp.exe".encode(): REFERENCE, b"@SUM(1)": PARTIAL}
NOT_TEXT_CELL = json.dumps({"cells": [{"cell_type": "code", "id": "a", "metadata": {}, "outputs": [],
                                       "execution_count": None, "source": 12}],
                            "metadata": {}, "nbformat": 4, "nbformat_minor": 5})
ESCAPES = ["\x1b[2J", "\x1b]0;", "\x07", "\u2028", "\u202e", "\udce9"]


def build_class(folder: Path) -> tuple[set[str], set[str]]:
    """The class on disk; (students expected as rows, students expected as problems)."""
    base = os.fsencode(folder)
    files = {name: (filename, text) for name, (filename, text) in HONEST.items()}
    files.update({name: ("pytorch_basics.py", text) for name, text in hostile_submissions().items()})
    files.update({os.fsdecode(name): ("pytorch_basics.py", text) for name, text in HOSTILE_NAMES.items()})
    files["notebook"] = ("pytorch_basics.ipynb", notebook(REFERENCE))
    for name, (filename, text) in files.items():
        (folder / name).mkdir(parents=True)
        (folder / name / filename).write_text(text, errors="surrogateescape")
    problems = {"mallory", "fifo", "not_text_cell", "not_utf8", "too_large", "empty", "twins"}
    (folder / "mallory").mkdir()
    os.symlink(LAB4_REFERENCE, folder / "mallory" / "pytorch_basics.py")
    (folder / "fifo").mkdir()
    os.mkfifo(folder / "fifo" / "pytorch_basics.py")
    (folder / "not_text_cell").mkdir()
    (folder / "not_text_cell" / "pytorch_basics.ipynb").write_text(NOT_TEXT_CELL)
    (folder / "not_utf8").mkdir()
    (folder / "not_utf8" / "pytorch_basics.py").write_bytes(b"x = '\xe9'\n")
    (folder / "too_large").mkdir()
    (folder / "too_large" / "pytorch_basics.py").write_bytes(b"#" * (9 << 20))
    (folder / "empty").mkdir()
    (folder / "empty" / "pytorch_basics.py").write_text("\n")
    (folder / "twins").mkdir()
    (folder / "twins" / "Pytorch_basics.py").write_text(REFERENCE)
    (folder / "twins" / "pytorch-basics.py").write_text(STUB)
    with open(base + b"/=cmd|' -C calc'!A0\x1b[8m.txt", "w") as handle:       # not a submission: listed
        handle.write("x")
    rows = {printable(name) for name in files}
    return rows, problems


def printable(name: str) -> str:
    from grader.instructor.gradebook.escape import printable as shown

    return shown(name)


def notebook(code: str) -> str:
    import nbformat

    head, _, tail = code.partition("\ndef select_device")
    book = nbformat.v4.new_notebook()
    book.cells = [nbformat.v4.new_markdown_cell("# Lab 4"), nbformat.v4.new_code_cell("%matplotlib inline\n" + head),
                  nbformat.v4.new_code_cell("def select_device" + tail)]
    return nbformat.writes(book)


def grade_batch(submissions: Path, out: Path) -> subprocess.CompletedProcess:
    command = [sys.executable, "-m", "grader", "batch", "lab4", str(submissions), "--out", str(out), "--jobs", "2",
               "-k", KEYWORD, "--timeout", "3", "--import-timeout", "60", "--submission-budget", "240"]
    return subprocess.run(command, cwd=REPO, capture_output=True, text=True, timeout=3600,
                          env={**os.environ, "COLUMNS": "160"})


def single_run(path: Path) -> dict:
    run = subprocess.run([sys.executable, "-m", "grader", "lab4", "--submission", str(path), "-k", KEYWORD,
                          "--timeout", "3", "--format", "json"], cwd=REPO, capture_output=True, text=True,
                         timeout=600)
    assert run.returncode in (0, 1), run.stderr[-2000:]
    return json.loads(run.stdout)


def outcomes(tests: list[dict]) -> list[tuple]:
    return [(t["name"], t["status"], t["score"], t["points"], json.dumps(t["feedback"], sort_keys=True))
            for t in tests]


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    root = tmp_path_factory.mktemp("hostile-class")
    rows, problems = build_class(root / "class")
    out = root / "out"
    run = grade_batch(root / "class", out)
    with Gradebook(out / "grades.db") as book:
        found = {r.student: r for r in book.submissions("lab4")}
        listed = book.problems("lab4")
    return {"root": root, "out": out, "run": run, "rows": found, "problems": listed,
            "expected_rows": rows, "expected_problems": problems}


def test_every_student_is_a_graded_row_or_a_listed_problem(graded):
    run = graded["run"]
    assert run.returncode == 0, run.stderr[-3000:]
    assert set(graded["rows"]) == graded["expected_rows"], sorted(set(graded["rows"]) ^ graded["expected_rows"])
    assert {p["student"] for p in graded["problems"]} == graded["expected_problems"] | {""}
    statuses = {}
    for row in graded["rows"].values():
        statuses[row.status] = statuses.get(row.status, 0) + 1
    print(f"\nhostile class: {len(graded['rows']) + len(graded['expected_problems'])} students, "
          f"{len(graded['rows'])} rows {statuses}, {len(graded['problems'])} problems listed")


@pytest.mark.parametrize("student", sorted(HONEST) + ["notebook"])
def test_honest_students_get_what_they_get_alone(graded, student):
    filename = HONEST[student][0] if student in HONEST else "pytorch_basics.ipynb"
    alone = single_run(graded["root"] / "class" / student / filename)
    row = graded["rows"][printable(student)]
    assert row.status == "graded"
    in_batch = row.grade_result().to_dict()
    assert outcomes(in_batch["tests"]) == outcomes(alone["tests"])


def test_the_files_the_run_leaves_carry_nothing_of_a_students_name_or_output(graded):
    out = graded["out"]
    export = subprocess.run([sys.executable, "-m", "grader", "export", str(out)], cwd=REPO, capture_output=True,
                            text=True, timeout=600)
    assert export.returncode == 0, export.stderr
    with open(out / "grades.csv", newline="") as handle:
        cells = [cell for row in csv.reader(handle) for cell in row]
    assert not [c for c in cells if c.startswith(("=", "+", "-", "@", "\t", "\r"))]
    ET.parse(out / "junit.xml")
    texts = {"summary": graded["run"].stderr, "report.html": (out / "report.html").read_text()}
    for path in (out / "students").rglob("*"):
        if path.is_file():
            texts[str(path.relative_to(out))] = path.read_text(encoding="utf-8")
    for name, text in texts.items():
        assert not [repr(s) for s in ESCAPES if s in text], name
    assert "mallory" in graded["run"].stderr and "symbolic link" in graded["run"].stderr


def test_the_class_as_a_zip_with_broken_members_grades_nothing_again_and_lists_them(graded):
    root, out = graded["root"], graded["out"]
    members = []
    for folder in sorted((root / "class").iterdir()):
        if folder.is_dir() and not folder.is_symlink() and folder.name.isprintable() and folder.name not in (
                "fifo", "mallory"):
            for path in folder.iterdir():
                if path.is_file():
                    members.append((f"export/{folder.name}/{path.name}", path.read_bytes()))
    broken = {"zip_duplicate": {}, "zip_encrypted": {"flag": 1}, "zip_method": {"method": 99},
              "zip_crc": {"crc": 1}}
    for name in broken:
        members.append((f"export/{name}/pytorch_basics.py", REFERENCE.encode()))
    members.append(("export/zip_duplicate/pytorch_basics.py", STUB.encode()))
    archive = forged_zip(root / "class.zip", members, {f"export/{name}/pytorch_basics.py": change
                                                       for name, change in broken.items() if change})
    run = grade_batch(archive, out)
    assert run.returncode == 0, run.stderr[-3000:]
    with Gradebook(out / "grades.db") as book:
        listed = {p["student"]: p["kind"] for p in book.problems("lab4")}
    assert {name: listed.get(name) for name in broken} == {"zip_duplicate": "duplicate", "zip_encrypted": "unreadable",
                                                           "zip_method": "unreadable", "zip_crc": "unreadable"}
    assert "graded 0 this run" in run.stderr, run.stderr[-2000:]
    assert zipfile.is_zipfile(archive)
