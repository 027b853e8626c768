"""grader/suites/README.md's "Add a lab, step by step", done literally in a temporary folder.

The section's code blocks are its steps, in order.  A block whose first line is
``# PATH`` is a file: it is written to ``course/PATH``.  A shell block whose first
line is ``# in FOLDER/`` runs each of its lines in that folder (``course/`` or one
beside it), with ``grade`` and ``python`` the grader and interpreter under test;
a line's comment says what it exits with (``exit N``, 0 when it says nothing), and
each score it names (``4/4``) is the score the report prints.  So the guide cannot
drift from what works: change the engine, and this test says which step broke.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from grader.course.folder import ENVIRONMENT
from grader.grading.run import STUDENT_ENVIRONMENT
from tests.helpers import REPO

GUIDE = REPO / "grader" / "suites" / "README.md"
SECTION = "## Add a lab, step by step"
FENCE = re.compile(r"^```(\w*)\n(.*?)^```\n", re.M | re.S)
FILE = re.compile(r"# ([\w./-]+\.\w+)")
FOLDER = re.compile(r"# in ([\w.-]+)/")


@dataclass(frozen=True)
class File:
    path: str
    text: str


@dataclass(frozen=True)
class Command:
    folder: str
    line: str
    exit: int
    scores: tuple[str, ...]


def section(readme: str) -> str:
    start = readme.index(SECTION)
    end = readme.find("\n## ", start + len(SECTION))
    return readme[start:end if end >= 0 else None]


def steps(readme: str) -> list[File | Command]:
    """The section's blocks as files to write and commands to run, in the guide's order."""
    found: list[File | Command] = []
    for language, body in FENCE.findall(section(readme)):
        first, _, rest = body.partition("\n")
        if language == "bash":
            folder = FOLDER.fullmatch(first.strip())
            assert folder, f"a shell block must start with '# in FOLDER/': {first!r}"
            found += [command(folder.group(1), line) for line in rest.splitlines() if line.strip()]
        else:
            path = FILE.fullmatch(first.strip())
            assert path, f"a {language} block must start with '# PATH' (where the file goes): {first!r}"
            found.append(File(path.group(1), rest))
    return found


def command(folder: str, line: str) -> Command:
    """One shell line and what its comment promises."""
    code, _, said = line.partition("  #")
    status = re.search(r"\bexit (\d+)", said)
    return Command(folder, code.strip(), int(status.group(1)) if status else 0,
                   tuple(re.findall(r"\b\d+/\d+\b", said)))


def shims(folder: Path) -> Path:
    """``grade`` and ``python`` as the guide's commands call them: this checkout's grader, this interpreter."""
    folder.mkdir()
    (folder / "grade").write_text(f'#!/bin/sh\nPYTHONPATH="{REPO}" exec "{sys.executable}" -m grader "$@"\n')
    (folder / "python").write_text(f'#!/bin/sh\nexec "{sys.executable}" "$@"\n')
    for shim in folder.iterdir():
        shim.chmod(0o755)
    return folder


def run(step: Command, root: Path, env: dict[str, str]) -> subprocess.CompletedProcess:
    where = root / step.folder
    ran = subprocess.run(["bash", "-c", step.line], cwd=where, env=env, capture_output=True, text=True, timeout=600)
    said = f"`{step.line}` in {step.folder}/ exited {ran.returncode}:\n{ran.stdout[-3000:]}\n{ran.stderr[-3000:]}"
    assert ran.returncode == step.exit, said
    shown = " ".join(ran.stdout.split())
    for score in step.scores:
        assert f"Score {score}" in shown, said
    return ran


def test_the_guide_parses_into_files_and_commands():
    """Fast: the section has the steps the issue asks for, each block saying where it goes."""
    found = steps(GUIDE.read_text(encoding="utf-8"))
    files = [s.path for s in found if isinstance(s, File)]
    assert files == ["assignments/lab6/chunks.py", "reference/lab6/chunks.py", "suites/lab6/lab.toml",
                     "suites/lab6/test_chunks.py"]
    suite = next(s.text for s in found if isinstance(s, File) and s.path.startswith("suites/lab6/test_"))
    assert "@given(" in suite and "@pytest.mark.cuda" in suite     # a shape property, a CUDA check
    lines = [s.line for s in found if isinstance(s, Command)]
    assert any(line.startswith("grade release lab6") for line in lines)
    assert command("course", "grade lab6  # exit 1: earns 0/4") == Command("course", "grade lab6", 1, ("0/4",))


@pytest.mark.slow
def test_following_the_guide_adds_a_lab_that_grades_and_releases(tmp_path):
    """Slow (about 8 grading runs): every file written where the guide says, every command as it says."""
    root, course = tmp_path, tmp_path / "course"
    course.mkdir()
    env = {k: v for k, v in os.environ.items() if k not in (ENVIRONMENT, STUDENT_ENVIRONMENT, "PYTHONPATH")}
    env.update({"PATH": f"{shims(tmp_path / 'bin')}:{env.get('PATH', '')}", "NO_COLOR": "1", "COLUMNS": "100"})
    ran = {}
    for step in steps(GUIDE.read_text(encoding="utf-8")):
        if isinstance(step, File):
            (course / step.path).parent.mkdir(parents=True, exist_ok=True)
            (course / step.path).write_text(step.text, encoding="utf-8")
        else:
            ran[step.line] = run(step, root, env)
    listed = next(r.stdout for line, r in ran.items() if line == "grade list")
    assert re.search(r"lab6\s.*Chunks for the GPU.*\b3\b.*\b5\b", listed), listed
    release = root / "lab6-release"
    assert (release / "src" / "grader" / "suites" / "lab6" / "expected" / "index.json").is_file()
    assert not [p for p in release.rglob("*") if "reference" in p.parts]      # no solution in the release
    assert (release / "assignments" / "lab6" / "chunks.py").read_text() == \
        (course / "assignments" / "lab6" / "chunks.py").read_text()
