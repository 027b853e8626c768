"""Launchers: one object per kind of isolation, owning the workers it started.

A launcher turns a :class:`WorkerSpec` into a running worker and hands back
a :class:`WorkerHandle`; ``handle.kill()`` ends exactly that worker's
processes and removes every writable place it had.  ``launcher.close()`` does
that for all its workers and removes its folder.  Nothing lives in module
state and nothing is set on the grader's own process (no subreaper, no
signal handlers), so several launchers can run in one process, inside
someone else's program, beside its own children.

Kinds, strongest first (:func:`grader.isolation.choice.choose_launcher` picks the strongest that works):
``namespaces`` (:mod:`grader.isolation.namespaces`), ``landlock`` (Landlock,
capabilities dropped, rlimits; weaker: same PID space, network but TCP open,
``/proc`` of the host) and ``portable`` (:mod:`grader.isolation.portable`: a
plain process with what the system offers, on Linux, macOS and Windows;
``none`` is its old name, and it is also what tests of the session logic use).

What a system offers comes from a :class:`~grader.isolation.system.System`
value given to the launcher (found once; tests give their own), so the
Linux-only steps below are taken only where they exist.
"""

from __future__ import annotations

import os
import secrets
import shutil
import signal
import socket
import subprocess
import tempfile
from pathlib import Path

from grader.isolation.processes import PidsCgroup, kill_descendants
from grader.isolation.spec import (View, WorkerSpec, gpu_devices, nproc_allowance,
                                   python_roots, staged_files, worker_command, worker_environment)
from grader.isolation.system import System

KINDS = ("namespaces", "landlock", "portable")
ALIASES = {"none": "portable"}   # GRADE_SANDBOX=none, the portable launcher's old name


class IsolationError(Exception):
    """The isolation asked for cannot be had here (one line, says why)."""


class WorkerHandle:
    """One running worker.  ``kill()`` ends exactly its processes, then removes its private folder."""

    def __init__(self, process: subprocess.Popen, box: Path, cgroup: PidsCgroup | None,
                 launcher: "Launcher") -> None:
        self.process, self.box, self.cgroup, self.launcher = process, box, cgroup, launcher

    @property
    def returncode(self) -> int | None:
        return self.process.returncode

    def poll(self) -> int | None:
        return self.process.poll()

    def wait(self, timeout: float | None = None) -> int:
        return self.process.wait(timeout)

    def kill(self) -> None:
        """SIGKILL the worker and all it started, and wait until they are gone; reap it;
        drop its folder.  Idempotent."""
        self._kill_processes()
        if self.cgroup is not None:  # exact, and catches what forked while we looked
            self.cgroup.kill()
            self.cgroup.remove()
        self.process.wait()
        shutil.rmtree(self.box, ignore_errors=True)
        self.launcher._forget(self)

    def _kill_processes(self) -> None:
        """Descendants first (the worker adopts orphans, so they are below it), then the worker."""
        if self.process.poll() is None:
            kill_descendants(self.process.pid)
        for target in (lambda: os.killpg(self.process.pid, signal.SIGKILL), self.process.kill):
            try:
                target()
            except (ProcessLookupError, PermissionError):
                pass


class Launcher:
    """Starts workers with one kind of isolation; owns them, and a private folder for them.

    The base class is the Linux way (pass the channel's descriptor, SIGKILL the
    process group and what ``/proc`` shows below the worker); a kind that works
    elsewhere overrides the hooks (:class:`grader.isolation.portable.PortableLauncher`).
    """

    kind = "none"

    def __init__(self, *, cgroups: bool = True, system: System | None = None) -> None:
        self.system = system or System.detect()
        self._folder: Path | None = None
        self._stages: dict[tuple[str, ...], Path] = {}
        self._handles: list[WorkerHandle] = []
        self._probed: tuple[bool, str] | None = None
        self._shell = self.system.tool("sh")
        usable = cgroups and self.system.linux and self.system.proc and self._shell is not None
        self._pids_base = PidsCgroup.base() if usable else None
        PidsCgroup.sweep(self._pids_base)

    # ------------------------------------------------------------ what it offers
    def available(self) -> bool:
        """Whether this isolation works here (probed once per launcher object)."""
        if self._probed is None:
            self._probed = self._probe()
        return self._probed[0]

    def unavailable_reason(self) -> str:
        self.available()
        return self._probed[1]

    def describe(self) -> str:
        """One line starting with the kind: what confines a worker started here."""
        return f"none: no confinement; {self._task_bound()}"

    def _probe(self) -> tuple[bool, str]:
        return True, ""

    def _task_bound(self) -> str:
        if self._pids_base is not None:
            return "tasks bounded by a pids cgroup"
        if hasattr(os, "getuid") and os.getuid() != 0:
            return "tasks bounded by RLIMIT_NPROC"
        return "tasks unbounded (root without a writable pids cgroup)"

    # ------------------------------------------------------------ workers
    def start(self, spec: WorkerSpec, output: int) -> tuple[WorkerHandle, socket.socket]:
        """Start a worker for ``spec`` printing to ``output``: its handle, and the grader's end of
        its channel (a socket pair; a kind without descriptor passing connects another way)."""
        ours, theirs = socket.socketpair()
        try:
            handle = self.launch(spec, theirs.fileno(), output)
        except BaseException:
            ours.close()
            raise
        finally:
            theirs.close()
        return handle, ours

    def launch(self, spec: WorkerSpec, channel_fd: int, output: int) -> WorkerHandle:
        """Start a worker for ``spec``: it talks on ``channel_fd``, prints to ``output``."""
        return self._launch(spec, output, channel_fd)

    def _launch(self, spec: WorkerSpec, output: int, channel_fd: int, connect_port: int | None = None,
                token: bytes = b"") -> WorkerHandle:
        """Start a worker: on ``channel_fd``, or (``connect_port``) connecting to the grader's
        localhost port and proving itself with ``token``, which it reads on its standard input."""
        if not self.available():
            raise IsolationError(f"{self.kind} isolation is not available here: {self.unavailable_reason()}")
        box = Path(tempfile.mkdtemp(prefix="box-", dir=self.folder()))
        view = self._view(spec, box)
        view.connect_port = connect_port
        command = worker_command(spec, view, channel_fd)
        cgroup = self._cgroup(spec, box)
        argv, fds, kept = self._wrap(command, spec, box)
        if cgroup is not None:
            argv = cgroup.enter(argv, self._shell)
        try:
            process = subprocess.Popen(
                argv, stdin=subprocess.PIPE if token else subprocess.DEVNULL, stdout=output,
                stderr=subprocess.STDOUT, env=self._environment(view, spec), cwd=self._cwd(spec), close_fds=True,
                **self._process_options(() if channel_fd < 0 else (channel_fd, *fds)))
        except BaseException:
            for fd in ([kept] if kept is not None else []):
                os.close(fd)
            if cgroup is not None:
                cgroup.remove()
            shutil.rmtree(box, ignore_errors=True)
            raise
        finally:
            for fd in fds:  # the child has its copies
                os.close(fd)
        handle = self._handle(process, box, cgroup, kept, spec)
        self._handles.append(handle)
        if token:
            try:
                process.stdin.write(token + b"\n")
                process.stdin.close()
            except BaseException:
                handle.kill()
                raise
        return handle

    def close(self) -> None:
        """Kill every worker still running and remove the launcher's folder."""
        for handle in list(self._handles):
            handle.kill()
        if self._folder is not None:
            shutil.rmtree(self._folder, ignore_errors=True)
            self._folder, self._stages = None, {}

    def __enter__(self) -> "Launcher":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def folder(self) -> Path:
        """The launcher's private folder (staged worker files, one box per worker)."""
        if self._folder is None:
            self._folder = Path(tempfile.mkdtemp(prefix="grade-box-"))
        return self._folder

    def stage(self, spec: WorkerSpec) -> Path:
        """A private copy of the worker's own files and this lab's probes, nothing else of the grader."""
        files = staged_files(spec)
        if files not in self._stages:
            stage = Path(tempfile.mkdtemp(prefix="worker-", dir=self.folder()))
            for path, name in files:
                shutil.copyfile(path, stage / name)
            stage.chmod(0o755)
            self._stages[files] = stage
        return self._stages[files]

    def run_folder(self) -> Path | None:
        """Where a grading run should make its folder (None: the system's temporary folder)."""
        return None

    def view(self, spec: WorkerSpec) -> View:
        """What a worker of ``spec`` would see (for ``grade doctor``); starts nothing."""
        return self._view(spec, self.folder() / "box-example")

    # ------------------------------------------------------------ hooks
    def _view(self, spec: WorkerSpec, box: Path) -> View:
        """Host paths as they are: the worker's private cache copy lives in its box."""
        cache_dir = spec.cache_build if spec.warm_up_only else (box / "cache" if spec.cache else None)
        if cache_dir is not None:
            cache_dir.mkdir(exist_ok=True)  # before the worker starts: Landlock only grants what exists
        return View(
            scratch=str(spec.submission_dir), worker_dir=str(self.stage(spec)),
            cache_dir=str(cache_dir) if cache_dir else None,
            cache_source=None if spec.warm_up_only or not spec.cache else str(spec.cache),
            tmp=str(spec.submission_dir), read=[], write=[], landlock=False,
            parent_pid=os.getpid(), subreaper=True, max_tasks=nproc_allowance(spec))

    def _wrap(self, command: list[str], spec: WorkerSpec, box: Path) -> tuple[list[str], tuple[int, ...], int | None]:
        """The command line that starts ``command`` isolated, the fds it inherits
        (closed here once it runs), and one fd its handle keeps (or None)."""
        return command, (), None

    def _cwd(self, spec: WorkerSpec) -> str:
        return str(spec.submission_dir)

    def _environment(self, view: View, spec: WorkerSpec) -> dict[str, str]:
        return worker_environment(view, spec)

    def _process_options(self, fds: tuple[int, ...]) -> dict:
        """Popen's options for passing ``fds`` and detaching from the terminal (POSIX here)."""
        return {"pass_fds": fds, "start_new_session": True}

    def _handle(self, process: subprocess.Popen, box: Path, cgroup: PidsCgroup | None,
                kept: int | None, spec: WorkerSpec) -> WorkerHandle:
        return WorkerHandle(process, box, cgroup, self)

    def _cgroup(self, spec: WorkerSpec, box: Path) -> PidsCgroup | None:
        limit = spec.max_processes
        return PidsCgroup.create(self._pids_base, f"grade-{box.name}-{secrets.token_hex(4)}", limit) \
            if limit else None

    def _forget(self, handle: WorkerHandle) -> None:
        if handle in self._handles:
            self._handles.remove(handle)


class LandlockLauncher(Launcher):
    """Landlock, capabilities dropped and rlimits, applied by the worker to itself.

    Weaker than namespaces: the worker shares the host's PID space (an orphan
    that leaves the worker's subreaper can escape the kill without a pids
    cgroup), its network (UDP, unix sockets by path) and ``/proc``; files are
    limited to reading the system and writing its scratch folder.
    """

    kind = "landlock"

    def _probe(self) -> tuple[bool, str]:
        if self.system.landlock_abi < 1:
            return False, "the kernel has no Landlock" if self.system.linux else f"{self.system.name} has no Landlock"
        missing = [call for call in ("prctl", "capset") if call not in self.system.linux_calls]
        if missing:
            return False, f"the C library has no {' or '.join(missing)}"
        return True, ""

    def describe(self) -> str:
        return (f"landlock: Landlock ABI {self.system.landlock_abi} (files, TCP, signals), no capabilities, "
                f"rlimits; host PID space and network; {self._task_bound()}")

    def _view(self, spec: WorkerSpec, box: Path) -> View:
        return with_landlock(super()._view(spec, box), spec)


def with_landlock(view: View, spec: WorkerSpec) -> View:
    """``view`` (host paths) with Landlock rules: read the system, write only what is the worker's own.

    Not ``/dev/shm`` nor ``/tmp``: shared with every other process, they would
    keep what one submission leaves there for the next.
    """
    view.landlock = True
    view.read = ["/usr", "/lib", "/lib64", "/lib32", "/bin", "/sbin", "/etc", "/proc", "/sys", "/dev",
                 *python_roots(), view.worker_dir, *[str(p) for p in spec.readable],
                 *([view.cache_source] if view.cache_source else [])]
    view.write = [view.scratch, "/dev/null", *gpu_devices(), *([view.cache_dir] if view.cache_dir else [])]
    return view


