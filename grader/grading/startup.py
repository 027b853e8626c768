"""Why a worker could not start, in the grader's words (see :class:`~grader.errors.WorkerStartError`).

Everything a worker prints before its hello is the grader's own code (no
student code has run), so its last line says what failed.  A submission's
``ModuleNotFoundError`` is the grader's problem only when this Python has the
module and a fresh worker, running no student code, cannot import it either
(a sandbox that hides the environment, a library outside site-packages): a
student who raises that error by hand stays the student's.
"""

from __future__ import annotations

import importlib.util
import os
import re
import tempfile
from pathlib import Path

from grader import inert
from grader.isolation import IsolationError, Launcher, WorkerSpec
from grader.isolation.cache import hello_without_submission
from grader.isolation.spec import GRADER

_MISSING = re.compile(r"No module named '([\w.]+)'")


def last_words(log: Path, offset: int) -> str:
    """The last line written to ``log`` from byte ``offset`` on (cleaned, one line), or ''."""
    try:
        with open(log, "rb") as handle:
            handle.seek(max(offset, 0))
            text = handle.read()[-8192:].decode("utf-8", "replace")
    except OSError:
        return ""
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return inert.line(lines[-1], 500) if lines else ""


def hidden_library(message: str, launcher: Launcher, spec: WorkerSpec, seconds: float) -> str:
    """Why an ImportError saying ``message`` is the grader's problem, or '' (it is the student's)."""
    found = _MISSING.search(message)
    if found is None:
        return ""
    name = found.group(1).split(".")[0]
    where = installed_here(name)
    if not where:
        return ""
    with tempfile.TemporaryDirectory(prefix="grade-probe-") as folder:
        (Path(folder) / "nothing.py").write_text("")
        probe = WorkerSpec(Path(folder), "nothing", preload=[*spec.preload, name], warm_up_only=True,
                           environment=dict(spec.environment))
        try:
            hello_without_submission(launcher, probe, seconds)
        except (RuntimeError, OSError, IsolationError) as exc:
            return f"its workers cannot import {name}, which this Python has ({where}): {inert.line(str(exc), 400)}"
    return ""


def installed_here(module: str) -> str:
    """Where this Python finds top-level ``module`` (without importing it), or '' (absent, or the
    grader's own code, which workers never see on purpose)."""
    try:
        spec = importlib.util.find_spec(module)
    except (ImportError, ValueError):
        return ""
    if spec is None:
        return ""
    where = spec.origin if spec.origin not in (None, "built-in", "frozen") else \
        next(iter(spec.submodule_search_locations or []), spec.origin or module)
    grader = str(GRADER)
    return "" if where == grader or str(where).startswith(grader + os.sep) else str(where)
