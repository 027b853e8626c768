"""Stand-ins for macOS and Windows on Linux, for the project's tests (see ``grade_standin.py``).

:func:`interpreter` writes an executable that runs ``python`` as the system
``kind`` would: the grader run with it, and every worker the grader starts
(workers are started with ``sys.executable``, which is that executable), lack
what that system lacks.
"""

from __future__ import annotations

import shlex
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
KINDS = ("macos", "windows")


def interpreter(kind: str, folder: Path, python: str | Path = sys.executable) -> Path:
    """An executable at ``folder/python-KIND`` that is ``python`` standing in for ``kind``."""
    if kind not in KINDS:
        raise ValueError(f"no stand-in for {kind!r}")
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"python-{kind}"
    boot = (f"import sys; sys.path.insert(0, {str(HERE)!r}); import grade_standin; del sys.path[0]; "
            f"grade_standin.boot({kind!r}, {str(path)!r})")
    path.write_text(f'#!/bin/sh\nexec {shlex.quote(str(python))} -I -S -c {shlex.quote(boot)} "$@"\n')
    path.chmod(0o755)
    return path
