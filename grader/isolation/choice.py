"""Which launcher grades here: the strongest isolation that works, or the one ``$GRADE_SANDBOX`` asks for."""

from __future__ import annotations

import os

from grader.isolation.launchers import KINDS, IsolationError, LandlockLauncher, Launcher, NoIsolation
from grader.isolation.namespaces import NamespaceLauncher


def choose_launcher(kind: str | None = None) -> Launcher:
    """The strongest isolation that works here, or ``kind`` (else $GRADE_SANDBOX) when given.

    Raises IsolationError when the kind asked for is unknown or not available.
    """
    kind = kind or os.environ.get("GRADE_SANDBOX") or None
    makers = {"namespaces": NamespaceLauncher, "landlock": LandlockLauncher, "none": NoIsolation}
    if kind is not None:
        if kind not in makers:
            raise IsolationError(f"unknown sandbox {kind!r} (GRADE_SANDBOX: {', '.join(KINDS)})")
        launcher = makers[kind]()
        if not launcher.available():
            raise IsolationError(f"sandbox {kind!r} is not available here: {launcher.unavailable_reason()}")
        return launcher
    for make in makers.values():
        launcher = make()
        if launcher.available():
            return launcher
    return NoIsolation()
