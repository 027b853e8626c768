"""Helpers for the grader's own tests: paths, Landlock detection, leftover checks."""

from __future__ import annotations

import os
import signal
import tempfile
from pathlib import Path

import pytest

from grader.isolation import NamespaceLauncher, choose_launcher, landlock

REPO = Path(__file__).resolve().parent.parent
LAB4_REFERENCE = REPO / "reference" / "lab4" / "pytorch_basics.py"
LANDLOCK_ABI = landlock.abi_version()
SANDBOX = choose_launcher().kind          # what grade() uses here (GRADE_SANDBOX may ask for less)
NAMESPACES = NamespaceLauncher().available()


def needs_landlock(abi: int, what: str) -> pytest.MarkDecorator:
    """Skip (not fail) where the kernel cannot enforce what the test checks."""
    have = f"ABI {LANDLOCK_ABI}" if LANDLOCK_ABI else "no Landlock"
    return pytest.mark.skipif(LANDLOCK_ABI < abi,
                              reason=f"needs Landlock ABI {abi}+ to {what}; this kernel has {have}")


def needs_confinement(what: str) -> pytest.MarkDecorator:
    """Skip where grading runs with no confinement at all (GRADE_SANDBOX=none, or nothing available)."""
    return pytest.mark.skipif(SANDBOX == "none", reason=f"needs a sandbox to {what}; grading here runs unconfined")


def needs_namespaces(what: str) -> pytest.MarkDecorator:
    """Skip (not fail) where grading does not run in a namespace sandbox."""
    why = "GRADE_SANDBOX asks for less" if NAMESPACES else "no bubblewrap or unshare that works here"
    return pytest.mark.skipif(SANDBOX != "namespaces", reason=f"needs the namespace sandbox to {what}; {why}")


def grade_entries() -> set[str]:
    """The grader's folders (grade-run-*, grade-box-*, grade-log-*) in the temp folder."""
    return {name for name in os.listdir(tempfile.gettempdir()) if name.startswith("grade-")}


def processes_with(marker: str) -> list[str]:
    """Live processes whose command line or name contains ``marker`` (zombies excluded),
    as "pid name: command line"."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            status = (entry / "status").read_text()
            if "\nState:\tZ" in status:
                continue
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode("utf-8", "replace")
            name = (entry / "comm").read_text().strip()
        except OSError:
            continue
        if marker in cmdline or marker in name:
            found.append(f"{entry.name} {name}: {cmdline[:200]}")
    return found


def kill_processes_with(marker: str) -> None:
    """Clean up after a failed containment test: kill what carries our marker, by pid."""
    for line in processes_with(marker):
        try:
            os.kill(int(line.split()[0]), signal.SIGKILL)
        except OSError:
            pass
