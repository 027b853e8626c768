"""Finding and killing exactly one worker's processes.

Two ways on Linux, strongest first: a pids cgroup (its member list is kept by
the kernel, and its ``pids.max`` bounds a fork bomb; needs a writable cgroup
hierarchy, as root usually has), else the worker's descendants in ``/proc``
(the worker makes itself a child subreaper, so a ``setsid`` daemon is
re-parented to it and stays a descendant).  A namespace launcher needs
neither to kill: ending its PID namespace's init ends every process in it.
On every system, :func:`end_tree` does it with psutil (the portable launcher).
"""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

import psutil


def parent_of(pid: int) -> int | None:
    """The parent from ``/proc/PID/stat``: the field after the last ')', which a
    process name (that the process chooses) cannot fake."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
        return int(stat.rsplit(")", 1)[1].split()[1])
    except (OSError, IndexError, ValueError):
        return None


def children_of(pid: int) -> list[int]:
    return [p for p in _all_pids() if parent_of(p) == pid]


def descendants(root: int) -> list[int]:
    """Every process below ``root`` (children, theirs, ...), from one scan of /proc."""
    parents = {pid: parent_of(pid) for pid in _all_pids()}
    found, frontier = [], {root}
    while frontier:
        frontier = {pid for pid, parent in parents.items() if parent in frontier and pid not in found}
        found += sorted(frontier)
    return found


def kill_descendants(root: int, rounds: int = 5) -> None:
    """SIGKILL what lives below ``root``, again while something forks meanwhile."""
    for _ in range(rounds):
        alive = [pid for pid in descendants(root) if _kill(pid)]
        if not alive:
            return


def end_tree(pid: int, rounds: int = 20) -> None:
    """End process ``pid`` and every process below it, on any system (psutil).

    Each one is suspended as it is found, so nothing found can start more
    while the rest are looked for; then all are killed, and waited for.  The
    root is only killed, not waited for: it is the caller's child to reap.
    """
    try:
        root = psutil.Process(pid)
    except psutil.Error:
        return
    found: dict[int, psutil.Process] = {}
    _quietly(root.suspend)
    for _ in range(rounds):
        try:
            below = root.children(recursive=True)
        except psutil.Error:
            below = []
        new = [p for p in below if p.pid not in found]
        if not new:
            break
        for process in new:
            _quietly(process.suspend)
            found[process.pid] = process
    for process in [*found.values(), root]:
        _quietly(process.kill)
    psutil.wait_procs(list(found.values()), timeout=2)


def _quietly(action) -> None:
    try:
        action()
    except psutil.Error:
        pass


def alive(pid: int) -> bool:
    """Running (zombies are dead)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state not in ("Z", "X")


def wait_gone(pid: int, seconds: float = 2.0) -> bool:
    """Wait until ``pid`` (not our child, so not waitable) is dead."""
    deadline = time.monotonic() + seconds
    while alive(pid):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.005)
    return True


def _kill(pid: int) -> bool:
    try:
        os.kill(pid, signal.SIGKILL)
        return True
    except (ProcessLookupError, PermissionError):
        return False


def _words(path: Path) -> list[str]:
    try:
        return path.read_text().split()
    except OSError:
        return []


def _all_pids() -> list[int]:
    try:
        return [int(name) for name in os.listdir("/proc") if name.isdigit()]
    except OSError:
        return []


class PidsCgroup:
    """A pids cgroup for one worker: a bound on its tasks and the exact list of them.

    RLIMIT_NPROC does not bind root (not even inside a user namespace), so
    this is what stops a fork bomb when grading as root.  ``None`` from
    :meth:`create` where no writable pids hierarchy exists (most non-root users).
    """

    def __init__(self, path: Path) -> None:
        self.path = path

    @staticmethod
    def base() -> Path | None:
        """Our own pids cgroup folder, when we may create children in it."""
        try:
            lines = Path("/proc/self/cgroup").read_text().splitlines()
            mounts = Path("/proc/self/mountinfo").read_text().splitlines()
        except OSError:
            return None
        for line in lines:
            _, controllers, path = line.split(":", 2)
            v1 = "pids" in controllers.split(",")
            if not v1 and controllers:
                continue
            for mount in mounts:
                fields = mount.split()
                fstype, options = fields[fields.index("-") + 1], fields[-1].split(",")
                if (fstype == "cgroup" and v1 and "pids" in options) or (fstype == "cgroup2" and not v1):
                    root = fields[3].rstrip("/")
                    inside = path[len(root):] if root and path.startswith(root) else path
                    folder = Path(fields[4] + inside.rstrip("/"))
                    if not v1 and "pids" not in _words(folder / "cgroup.subtree_control"):
                        continue  # v2: only where pids is already delegated to our children
                    if os.access(folder, os.W_OK):
                        return folder
        return None

    @classmethod
    def create(cls, base: Path | None, name: str, limit: int) -> "PidsCgroup | None":
        if base is None:
            return None
        path = base / name
        try:
            path.mkdir()
            (path / "pids.max").write_text(str(limit))
        except OSError:
            cls(path).remove()
            return None
        return cls(path)

    @classmethod
    def sweep(cls, base: Path | None, older_than: float = 600.0) -> None:
        """Remove empty worker cgroups left by a grader that was SIGKILLed (it could not).
        Only old ones: a young empty one may be about to receive its worker."""
        for path in base.glob("grade-*") if base is not None else []:
            try:
                old = time.time() - path.stat().st_mtime > older_than
            except OSError:
                continue
            if old and not cls(path).members():
                cls(path).remove()

    def enter(self, argv: list[str], shell: str = "/bin/sh") -> list[str]:
        """``argv`` run from inside the cgroup: a shell (by its absolute path, resolved once by the
        launcher) moves itself in, then becomes the command, so nothing the worker starts exists
        outside it, even for a moment."""
        return [shell, "-c", 'echo $$ > "$0" && exec "$@"', str(self.path / "cgroup.procs"), *argv]

    def members(self) -> list[int]:
        try:
            return [int(p) for p in (self.path / "cgroup.procs").read_text().split()]
        except (OSError, ValueError):
            return []

    def kill(self, seconds: float = 10.0) -> None:
        """SIGKILL every member until none is left: a killed process stays a member until it
        has exited, and a fork bomb keeps adding some (up to pids.max)."""
        deadline = time.monotonic() + seconds
        while (members := self.members()) and time.monotonic() < deadline:
            for pid in members:
                _kill(pid)
            time.sleep(0.005)

    def remove(self) -> None:
        try:
            self.path.rmdir()
        except OSError:
            pass
