"""The environment the slow install tests build (tests/test_wheel.py, tests/test_release.py) sees the
packages of the one running the tests, whatever it is: a venv, conda, a plain interpreter."""

from __future__ import annotations

import re
import subprocess

import pytest

from tests.helpers import REPO, venv_seeing_this_environment

pytestmark = pytest.mark.slow   # builds a venv


def dependencies() -> list[str]:
    """The import names of the project's dependencies (pyproject.toml), as a wheel test's venv must find them."""
    import tomllib

    names = {"mir_eval": "mir_eval", "distributed": "distributed"}
    declared = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["dependencies"]
    return [names.get(d, d) for d in (re.split(r"[<>=!~ \[]", spec)[0] for spec in declared)]


def test_a_venv_of_the_wheel_tests_imports_every_dependency(tmp_path):
    """What the wheel tests stand on: a venv made as they make theirs imports every
    dependency of pyproject.toml from the environment running the tests, in the grader and in a
    worker (``python -I -S`` with the paths the grader gives it)."""
    venv = venv_seeing_this_environment(tmp_path / "venv")
    wanted = dependencies()
    assert {"torch", "numpy", "librosa", "rich", "pytest"} <= set(wanted)
    imported = subprocess.run([venv / "bin" / "python", "-c", "import " + ", ".join(wanted)],
                              capture_output=True, text=True, timeout=300)
    assert imported.returncode == 0, imported.stderr[-2000:]
    probe = ("import sys; sys.path[:0] = " + "__import__('json').loads(sys.argv[1]); import " + ", ".join(wanted))
    paths = subprocess.run([venv / "bin" / "python", "-c",
                            "import json, sys; sys.path.insert(0, sys.argv[1]); "
                            "from grader.isolation.spec import library_paths; print(json.dumps(library_paths()))",
                            str(REPO)], capture_output=True, text=True, timeout=120, check=True).stdout
    worker = subprocess.run([venv / "bin" / "python", "-I", "-S", "-c", probe, paths],
                            capture_output=True, text=True, timeout=300)
    assert worker.returncode == 0, worker.stderr[-2000:]
