"""What this system offers a launcher, found once: tools, C calls, Landlock, rlimits, fd passing, /proc.

Launchers and :func:`grader.isolation.choice.choose_launcher` decide from a
:class:`System` value, never from module-level Linux names: the same code
imports and chooses on Linux, macOS and Windows, and tests hand it the
system they stand for (``System(name="windows", ...)``).  Everything is
found by what works, not by ``sys.platform`` alone, so a stand-in that takes
things away (``tests/standins``) is seen as the system it stands for.

Tools are resolved here, once, to absolute paths, from the grader's own
``PATH``: a worker never looks a tool up again (its ``PATH`` is shorter).
"""

from __future__ import annotations

import os
import shutil
import sys
from dataclasses import dataclass, field

from grader.isolation.inside import landlock

TOOLS = ("bwrap", "unshare", "setpriv", "sh")          # what the namespace sandbox and the pids cgroup run
LINUX_CALLS = ("prctl", "capset", "unshare", "mount")   # the C library's Linux-only calls a worker may use


@dataclass(frozen=True)
class System:
    """What grading can use here (see the module docstring)."""

    name: str                                            # linux | macos | windows | another sys.platform
    tools: dict[str, str] = field(default_factory=dict)  # tool -> absolute path, only those found
    linux_calls: frozenset[str] = frozenset()            # of LINUX_CALLS, those the C library has
    landlock_abi: int = 0                                 # 0: no Landlock
    rlimits: bool = False                                 # the ``resource`` module (Linux, macOS)
    fd_passing: bool = False                              # Popen(pass_fds=...): POSIX fork/exec
    proc: bool = False                                    # /proc lists this system's processes
    job_objects: bool = False                             # Windows Job Objects (pywin32)

    @classmethod
    def detect(cls) -> "System":
        """This system, as the running interpreter finds it (no traceback on any system)."""
        return cls(name=platform_name(), tools=resolve_tools(), linux_calls=linux_calls(),
                   landlock_abi=landlock.abi_version(), rlimits=_importable("resource"),
                   fd_passing=os.name == "posix" and hasattr(os, "fork"), proc=_proc_lists_processes(),
                   job_objects=sys.platform == "win32" and _importable("win32job"))

    def tool(self, name: str) -> str | None:
        return self.tools.get(name)

    @property
    def linux(self) -> bool:
        return self.name == "linux"


def platform_name() -> str:
    return {"darwin": "macos", "win32": "windows", "cygwin": "windows"}.get(sys.platform,
                                                                            "linux" if sys.platform.startswith("linux")
                                                                            else sys.platform)


def resolve_tools(path: str | None = None) -> dict[str, str]:
    """Each of TOOLS found on ``path`` (default: the grader's PATH), as an absolute path."""
    found = {}
    for name in TOOLS:
        where = shutil.which(name, path=path)
        if where:
            found[name] = os.path.abspath(where)
    return found


def linux_calls() -> frozenset[str]:
    """Which Linux-only calls the C library has (none where there is no C library to ask)."""
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
    except (OSError, TypeError, AttributeError, ImportError):
        return frozenset()
    return frozenset(name for name in LINUX_CALLS if _has_symbol(libc, name))


def _has_symbol(library: object, name: str) -> bool:
    try:
        getattr(library, name)
    except (AttributeError, OSError):
        return False
    return True


def _importable(name: str) -> bool:
    try:
        __import__(name)
    except ImportError:
        return False
    return True


def _proc_lists_processes() -> bool:
    try:
        return any(name.isdigit() for name in os.listdir("/proc"))
    except OSError:
        return False
