"""Helpers for the grader's own tests: paths, Landlock detection, leftover checks, the CLI in this process."""

from __future__ import annotations

import contextlib
import io
import os
import signal
import site
import subprocess
import sys
import sysconfig
import tempfile
from pathlib import Path
from unittest import mock

import pytest

from grader.isolation import NamespaceLauncher, choose_launcher
from grader.isolation.inside import landlock

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
    """Skip where grading runs with no confinement at all (GRADE_SANDBOX=portable, or nothing available)."""
    return pytest.mark.skipif(SANDBOX == "portable", reason=f"needs a sandbox to {what}; grading here runs unconfined")


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


def packages_of_this_environment() -> list[str]:
    """The site-packages folders of the interpreter running the tests (a venv, conda or a plain
    interpreter alike), and the user's where Python reads it."""
    folders = {sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"], *site.getsitepackages()}
    if site.ENABLE_USER_SITE:
        folders.add(site.getusersitepackages())
    folders |= {str(Path(folder, line.strip())) for folder in list(folders) if os.path.isdir(folder)
                for pth in Path(folder).glob("*.pth") for line in pth.read_text(errors="replace").splitlines()
                if line.strip() and not line.startswith(("#", "import ")) and Path(folder, line.strip()).is_dir()}
    return sorted(f for f in folders if os.path.isdir(f))   # and the folders their .pth files name (a layered venv)


def venv_seeing_this_environment(venv: Path) -> Path:
    """A fresh venv at ``venv`` whose Python also finds the packages of the environment running the
    tests (torch and the rest, not installed again): a ``.pth`` names their folders.

    ``--system-site-packages`` would not do: inside a venv it reaches the base interpreter's
    packages, not the active environment's.  Their own ``.pth`` files are not read through it,
    so an editable install of this checkout there stays invisible to the new venv.
    """
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=300)
    purelib = subprocess.run([str(venv / "bin" / "python"), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                             check=True, capture_output=True, text=True, timeout=60).stdout.strip()
    Path(purelib, "_grade_test_environment.pth").write_text("\n".join(packages_of_this_environment()) + "\n")
    return venv


def grade_in_process(*args: str, cwd: Path | None = None, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    """`grade ARGS` run by ``grader.cli.main`` in this process, in ``cwd``, with ``GRADE_COURSE`` unset and
    ``env`` added: its exit status, stdout and stderr.  The working folder and the environment (which
    ``--course`` sets) are restored after.  The same code as the command, without a fresh
    interpreter's imports (seconds) per call; tests/test_cli.py runs the real command too."""
    from grader.cli import main
    from grader.course.folder import ENVIRONMENT

    out, err = io.StringIO(), io.StringIO()
    here = os.getcwd()
    with mock.patch.dict(os.environ), contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        os.environ.pop(ENVIRONMENT, None)
        os.environ.update(env or {})
        try:
            os.chdir(cwd or here)
            code = main(list(args))
        except SystemExit as exc:   # argparse's errors leave as the command does
            code = exc.code
        finally:
            os.chdir(here)
    return subprocess.CompletedProcess(["grade", *args], code, out.getvalue(), err.getvalue())
