"""Session set-up for the grader's own tests.

Every grading run of the session makes its scratch, clip and log folders in a
private temporary folder (``tempfile.tempdir`` points there), so a test can
list exactly what a run left behind without seeing anyone else's files.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest


@pytest.fixture(scope="session", autouse=True)
def private_tempdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Point ``tempfile`` at a folder of our own for the whole session."""
    path = tmp_path_factory.mktemp("tempdir")
    saved = tempfile.tempdir
    tempfile.tempdir = str(path)
    yield path
    tempfile.tempdir = saved
