"""The instructor's install works anywhere: a wheel (not editable) in a fresh virtual environment
grades a course given by --course from another folder, and stops with one line without it.

Slow (a wheel build and a venv: ~30 s here); the venv sees the packages of the environment running
the tests (tests.helpers.venv_seeing_this_environment), so torch is not installed again.  It lives outside /tmp: the namespace sandbox gives the worker a private
/tmp, which would hide a Python installed there.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from tests.helpers import REPO, venv_seeing_this_environment
from tests.toy_course import LAB, make_course

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def installed(tmp_path_factory) -> Path:
    wheels = tmp_path_factory.mktemp("wheels")
    subprocess.run([sys.executable, "-m", "pip", "wheel", str(REPO), "--no-deps", "--no-build-isolation",
                    "-q", "-w", str(wheels)], check=True, cwd=wheels, timeout=300)
    shutil.rmtree(REPO / "build", ignore_errors=True)
    home = Path(tempfile.mkdtemp(prefix="grade-wheel-test-", dir="/var/tmp" if os.path.isdir("/var/tmp") else None))
    venv = venv_seeing_this_environment(home / "venv")
    (wheel,) = wheels.glob("grade-*.whl")
    subprocess.run([venv / "bin" / "python", "-m", "pip", "install", "-q", "--no-deps", str(wheel)],
                   check=True, timeout=300)
    yield venv
    shutil.rmtree(home, ignore_errors=True)


def run_grade(venv: Path, *args: str, cwd: Path) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in ("GRADE_COURSE", "PYTHONPATH")}
    return subprocess.run([venv / "bin" / "grade", *args], cwd=cwd, env=env, capture_output=True, text=True,
                          timeout=300)


def test_the_installed_grader_is_the_wheel_not_this_checkout(installed, tmp_path):
    where = subprocess.run([installed / "bin" / "python", "-c", "import grader; print(grader.__file__)"],
                           cwd=tmp_path, capture_output=True, text=True, check=True).stdout
    assert str(installed) in where and str(REPO) not in where


def test_a_wheel_install_grades_a_course_given_by_option(installed, tmp_path):
    course = make_course(tmp_path / "course")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    graded = run_grade(installed, LAB, "--reference", "--course", str(course), "--format", "json", cwd=elsewhere)
    assert graded.returncode == 0, graded.stderr
    assert '"score": 2' in graded.stdout


def test_a_wheel_install_without_a_course_stops_before_grading(installed, tmp_path):
    graded = run_grade(installed, "lab4", "--reference", cwd=tmp_path)
    assert graded.returncode == 2 and graded.stdout == ""
    assert graded.stderr.strip() == ("grade: error: no course folder found for lab4's reference solution: "
                                     "pass --course DIR or set GRADE_COURSE")

