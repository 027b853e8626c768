"""Which launcher grades here: the strongest isolation that works, or the one ``$GRADE_SANDBOX`` asks for.

Namespaces, then Landlock, then the portable launcher, which works on every
system Python runs on: where neither namespaces nor Landlock exist (macOS,
Windows, most hosted notebooks' containers) it is chosen without a word of
error, and the report says once what that means.
"""

from __future__ import annotations

import os

from grader.isolation.launchers import ALIASES, KINDS, IsolationError, LandlockLauncher, Launcher
from grader.isolation.namespaces import NamespaceLauncher
from grader.isolation.portable import PortableLauncher
from grader.isolation.system import System

MAKERS = {"namespaces": NamespaceLauncher, "landlock": LandlockLauncher, "portable": PortableLauncher}


def choose_launcher(kind: str | None = None, *, system: System | None = None) -> Launcher:
    """The strongest isolation that works here, or ``kind`` (else $GRADE_SANDBOX) when given.

    ``system``: what this system offers (default: found now; tests give the system they stand for).
    Raises IsolationError when the kind asked for is unknown or not available.
    """
    system = system or System.detect()
    kind = kind or os.environ.get("GRADE_SANDBOX") or None
    if kind is not None:
        kind = ALIASES.get(kind.strip().lower(), kind.strip().lower())
        if kind not in MAKERS:
            raise IsolationError(f"unknown sandbox {kind!r} (GRADE_SANDBOX: {', '.join(KINDS)})")
        launcher = MAKERS[kind](system=system)
        if not launcher.available():
            raise IsolationError(f"sandbox {kind!r} is not available here: {launcher.unavailable_reason()}")
        return launcher
    for make in MAKERS.values():
        launcher = make(system=system)
        if launcher.available():
            return launcher
    return PortableLauncher(system=system)
