"""Grading on macOS and Windows, as far as Linux can stand in for them (tests/standins).

Each stand-in takes away, in the grader and in every worker it starts, what that system lacks
(see tests/standins/grade_standin.py for exactly what, and why ``sys.platform`` stays "linux").
Fast here: the stand-ins themselves, checked in a grader and in a worker.  Slow: every module
on the student's path imports; the toy lab grades; and the student release of Labs 4, 5 and 1,
installed in a fresh venv, grades the reference at full public marks (exit 0) and the stub at 0
(exit 1), with no report blaming a file that imports.  What a stand-in cannot show (Windows Job
Objects, macOS's own rlimits) is the CI matrix's (.github/workflows/grade-everywhere.yml).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from tests.helpers import REPO, kill_processes_with, processes_with, venv_seeing_this_environment
from tests.standins import KINDS, interpreter
from tests.toy_course import LAB, MODULE, REFERENCE, make_course

BLAME = "could not be imported"
OBSERVE = r'''
import ctypes, json, os, signal, subprocess, sys
seen = {"executable": sys.executable, "proc": os.listdir("/proc"), "fork": hasattr(os, "fork"),
        "SIGKILL": hasattr(signal, "SIGKILL"), "getuid": hasattr(os, "getuid")}
try:
    import resource
    seen["resource"] = True
except ImportError:
    seen["resource"] = False
try:
    seen["prctl"] = hasattr(ctypes.CDLL(None), "prctl")
except TypeError:
    seen["prctl"] = "CDLL(None) refused"
try:
    subprocess.run([sys.executable, "-I", "-S", "-c", "pass"], pass_fds=(1,), check=True)
    seen["pass_fds"] = True
except AssertionError:
    seen["pass_fds"] = False
if sys.argv[1:] == ["worker"]:   # as a grading worker: python -I -S, no grader on its path
    print(json.dumps(seen))
    raise SystemExit
from grader.isolation import System, choose_launcher
seen["launcher"] = choose_launcher().kind
seen["system"] = {k: v for k, v in vars(System.detect()).items() if k in ("tools", "rlimits", "fd_passing")}
worker = subprocess.run([sys.executable, "-I", "-S", "-c", CODE, "worker"], capture_output=True, text=True)
print(json.dumps({"grader": seen, "worker": json.loads(worker.stdout or "null"), "stderr": worker.stderr[-2000:]}))
'''
EXPECTED = {
    "macos": {"proc": [], "fork": True, "SIGKILL": True, "getuid": True, "resource": True, "prctl": False,
              "pass_fds": True, "launcher": "portable"},
    "windows": {"proc": [], "fork": False, "SIGKILL": False, "getuid": False, "resource": False,
                "prctl": "CDLL(None) refused", "pass_fds": False, "launcher": "portable"},
}


@pytest.fixture(scope="module")
def standins(tmp_path_factory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("standins")
    return {kind: interpreter(kind, folder) for kind in KINDS}


def environment(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("GRADE_COURSE", "PYTHONPATH", "GRADE_STUDENT",
                                                             "GRADE_SANDBOX")}
    return {**env, **extra}


@pytest.mark.parametrize("kind", KINDS)
def test_the_standin_takes_away_what_the_system_lacks_in_the_grader_and_its_workers(standins, kind):
    """The worker runs with -I -S, as grading workers do: the stand-in still applies."""
    code = f"CODE = {OBSERVE!r}\n" + OBSERVE
    done = subprocess.run([standins[kind], "-c", code], cwd=REPO, env=environment(), capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    seen = json.loads(done.stdout)
    assert seen["worker"] is not None, seen["stderr"]
    for side in ("grader", "worker"):
        expected = {k: v for k, v in EXPECTED[kind].items() if side == "grader" or k != "launcher"}
        assert {k: v for k, v in seen[side].items() if k in expected} == expected, side
        assert seen[side]["executable"] == str(standins[kind])
    assert "bwrap" not in seen["grader"]["system"]["tools"]
    assert seen["grader"]["system"]["fd_passing"] is (kind == "macos")


@pytest.mark.slow
@pytest.mark.parametrize("kind", KINDS)
def test_every_module_on_the_students_path_imports(standins, kind):
    """Everything a student release holds (instructor/ is left out of it; zygote.py runs only in Linux's
    template sandbox, winjob.py only on Windows, where pywin32 is; __main__ runs the command)."""
    code = ("import importlib, pkgutil, grader\n"
            "skip = ('grader.instructor', 'grader.isolation.inside.zygote', 'grader.isolation.winjob',\n"
            "        'grader.__main__')\n"
            "failed = []\n"
            "for info in pkgutil.walk_packages(grader.__path__, 'grader.'):\n"
            "    if info.name.startswith(skip) or '.suites.' in info.name:\n"
            "        continue\n"
            "    try:\n"
            "        importlib.import_module(info.name)\n"
            "    except Exception as exc:\n"
            "        failed.append(f'{info.name}: {type(exc).__name__}: {exc}')\n"
            "print('\\n'.join(failed) or 'all imported')\n")
    done = subprocess.run([standins[kind], "-c", code], cwd=REPO, env=environment(), capture_output=True,
                          text=True, timeout=300)
    assert done.stdout.strip() == "all imported", done.stdout + done.stderr


@pytest.mark.slow
@pytest.mark.parametrize("kind", KINDS)
def test_the_toy_lab_grades_under_each_standin(standins, kind, tmp_path):
    course = make_course(tmp_path / "course")
    env = environment(GRADE_CACHE_DIR=str(tmp_path / "cache"))

    def run(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([standins[kind], "-m", "grader", LAB, "--course", str(course), "--format", "json",
                               *args], cwd=REPO, env=env, capture_output=True, text=True, timeout=300)

    stub = run()
    assert stub.returncode == 1, stub.stderr
    assert json.loads(stub.stdout)["score"] == 0
    (tmp_path / "mine").mkdir()
    marker = f"gs{uuid.uuid4().hex[:10]}"   # a child the submission leaves running: ended with the run
    child = (f"import subprocess, sys\nsubprocess.Popen([sys.executable, '-c', 'import time; time.sleep(120)', "
             f"{marker!r}])\n")
    (tmp_path / "mine" / f"{MODULE}.py").write_text(child + REFERENCE)
    try:
        done = run("--submission", str(tmp_path / "mine"))
        left = processes_with(marker)
    finally:
        kill_processes_with(marker)
    assert done.returncode == 0, done.stdout + done.stderr
    result = json.loads(done.stdout)
    assert result["score"] == result["max_score"] > 0
    assert result["sandbox"].startswith("portable:") and BLAME not in done.stdout
    assert left == []


# ------------------------------------------------------------------ the student release (slow)
RELEASED = ["lab1", "lab4", "lab5"]   # audio files, the plain PyTorch lab, the torch-heavy one


@pytest.fixture(scope="module")
def student_install(tmp_path_factory):
    """The release of Labs 1, 4 and 5, its wheel installed in a fresh venv (outside /tmp's private copy),
    as a student installs it; this environment's packages serve torch and the rest, offline."""
    from grader.instructor import release

    out = tmp_path_factory.mktemp("standin-release") / "course"
    built = release.build(RELEASED, out, course=REPO)
    source = tmp_path_factory.mktemp("standin-wheel-source") / "course"
    shutil.copytree(built.out, source)
    wheels = tmp_path_factory.mktemp("standin-wheels")
    subprocess.run([sys.executable, "-m", "pip", "wheel", str(source), "--no-deps", "--no-build-isolation", "-q",
                    "-w", str(wheels)], check=True, cwd=wheels, timeout=600)
    (wheel,) = wheels.glob("grade-*.whl")
    home = tmp_path_factory.mktemp("standin-student")
    venv = venv_seeing_this_environment(home / "venv")
    subprocess.run([venv / "bin" / "python", "-m", "pip", "install", "-q", "--no-deps", "--no-index", str(wheel)],
                   check=True, timeout=600)
    course = home / "course"
    shutil.copytree(built.out, course)
    return venv, course, home / "cache"


@pytest.mark.slow
@pytest.mark.parametrize("lab", RELEASED)
@pytest.mark.parametrize("kind", KINDS)
def test_the_release_grades_the_reference_fully_and_the_stub_zero_under_each_standin(student_install, kind, lab,
                                                                                   tmp_path):
    venv, course, cache = student_install
    python = interpreter(kind, tmp_path, venv / "bin" / "python")
    env = environment(GRADE_CACHE_DIR=str(cache / kind))

    def grade(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([python, venv / "bin" / "grade", lab, "--format", "json", *args], cwd=course, env=env,
                              capture_output=True, text=True, timeout=900)

    stub = grade()
    assert stub.returncode == 1, stub.stdout[-2000:] + stub.stderr[-2000:]
    stub_result = json.loads(stub.stdout)
    assert stub_result["score"] == 0 < stub_result["max_score"]
    mine = tmp_path / "mine"
    shutil.copytree(course / "assignments" / lab, mine)
    for solution in (REPO / "reference" / lab).glob("*.py"):
        shutil.copy(solution, mine)
    done = grade("--submission", str(mine))
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]
    result = json.loads(done.stdout)
    assert result["score"] == result["max_score"] == stub_result["max_score"]
    assert result["sandbox"].startswith("portable:")
    assert BLAME not in done.stdout + stub.stdout
