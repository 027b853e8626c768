"""Session set-up for the grader's own tests.

Every grading run of the session makes its scratch, clip and log folders in a
private temporary folder (``tempfile.tempdir`` points there), so a test can
list exactly what a run left behind without seeing anyone else's files.

Two tiers: ``python -m pytest -m "not slow"`` while working (unit tests and a few
whole gradings, sharing the fixtures below), ``-m slow`` for what starts many
workers, builds wheels or venvs, or runs mutation samples.  tests/tier_budget.py
names a test of the fast tier that runs long or starts many workers.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest

from grader.grading.run import grade
from grader.instructor.batch.job import worker_launcher
from grader.isolation import Launcher, choose_launcher
from grader.results import GradeResult
from tests.helpers import REPO

pytest_plugins = ("tests.tier_budget",)


@pytest.fixture(scope="session", autouse=True)
def private_tempdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Point ``tempfile`` at a folder of our own for the whole session."""
    path = tmp_path_factory.mktemp("tempdir")
    saved = tempfile.tempdir
    tempfile.tempdir = str(path)
    yield path
    tempfile.tempdir = saved


# ------------------------------------------------------------------ whole gradings, shared by the session
@pytest.fixture(scope="session")
def lab4_reference_run(private_tempdir: Path) -> GradeResult:
    """Lab 4's reference, every check, graded once for the session, as `grade lab4 --reference` does."""
    return grade("lab4", reference=True)


@pytest.fixture(scope="session")
def lab4_stub_run(private_tempdir: Path) -> GradeResult:
    """Lab 4's untouched stub, every check, graded once for the session (``execution_time``: its seconds)."""
    return grade("lab4", course=REPO)


@pytest.fixture(scope="session")
def warm_launcher(tmp_path_factory: pytest.TempPathFactory, private_tempdir: Path) -> Launcher:
    """One launcher for the session's gradings that are not about starting a worker: where templates
    work here, workers are forked from a warm template per lab (as batch graders do: 0.1 s instead of
    seconds), else it is the usual launcher.  Its folder lives apart from the session's temporary
    folder, so a test that lists what a run left behind does not see it."""
    saved = tempfile.tempdir
    tempfile.tempdir = str(tmp_path_factory.mktemp("warm-launcher"))
    try:
        launcher = worker_launcher() or choose_launcher()   # probing a template makes its folder
        launcher.folder()
    finally:
        tempfile.tempdir = saved
    with launcher:
        yield launcher
