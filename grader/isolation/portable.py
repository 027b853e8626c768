"""The portable launcher: a worker as a plain process, wherever Python runs (Linux, macOS, Windows).

No sandbox: the worker can read and write what the student's user can, and
use the network.  What it does have, on every system: the grader's deadlines
(enforced here, on the channel), its whole process tree ended with the run
(psutil finds it; on Windows a Job Object holds it), and the limits the
system offers:

- Linux: it dies with the grader (PDEATHSIG) and adopts what it starts, so a
  detached daemon is still found and ended; capabilities dropped; rlimits on
  memory, file size and tasks; a pids cgroup where one is writable;
- macOS: rlimits on memory (which macOS may not enforce) and file size; it
  watches its parent and exits when the grader is gone; a process that
  detaches itself (``setsid`` and a double fork) can outlive the run;
- Windows: a Job Object bounds each process's memory and the number of
  processes and ends them all with the run or with the grader; file sizes are
  not bounded (no ``resource`` module).

The channel is the socket pair of the other launchers where descriptors can
be passed (POSIX), else (Windows) the worker connects to a localhost port
this launcher listens on and proves itself with a secret it read on its
standard input (never on its command line, which other users can see).

This is what ``none`` used to be: one unconfined launcher for every system,
rather than a Linux-only one beside a portable one (see README, "Every system").
"""

from __future__ import annotations

import hmac
import os
import secrets
import socket
import subprocess
import sys
import time
from pathlib import Path

from grader.isolation.launchers import IsolationError, Launcher, WorkerHandle
from grader.isolation.processes import PidsCgroup, end_tree
from grader.isolation.spec import View, WorkerSpec, nproc_allowance

if sys.platform == "win32":   # pywin32's job objects exist only there
    try:
        from grader.isolation import winjob
    except ImportError:
        winjob = None
else:
    winjob = None

CONNECT_TIMEOUT = 60.0   # seconds for a new worker to connect (a cold interpreter on a slow laptop)
WINDOWS_VARIABLES = ("SYSTEMROOT", "SYSTEMDRIVE", "WINDIR", "COMSPEC", "PATHEXT", "NUMBER_OF_PROCESSORS",
                     "PROCESSOR_ARCHITECTURE", "USERNAME")   # Python and its libraries need these there


class PortableHandle(WorkerHandle):
    """A plain worker process: ending it ends its job (Windows) and its whole tree (psutil)."""

    def __init__(self, process: subprocess.Popen, box: Path, cgroup: PidsCgroup | None, launcher: Launcher,
                 job: object | None) -> None:
        super().__init__(process, box, cgroup, launcher)
        self.job = job

    def _kill_processes(self) -> None:
        if self.job is not None:
            self.job.terminate()
        end_tree(self.process.pid)
        try:
            self.process.kill()
        except OSError:
            pass

    def kill(self) -> None:
        super().kill()
        if self.job is not None:
            self.job.close()
            self.job = None


class PortableLauncher(Launcher):
    """Workers as plain processes with what this system offers (see the module docstring)."""

    kind = "portable"

    # ------------------------------------------------------------ what it offers
    def describe(self) -> str:
        enforced, missing = self.enforcement()
        return (f"portable: a plain process, no sandbox; enforced: {', '.join(enforced)}; "
                f"not enforced: {', '.join(missing)}")

    def enforcement(self) -> tuple[list[str], list[str]]:
        """(what holds a worker here, what does not), in a few words each."""
        system, ties = self.system, self._ties()
        enforced, missing = ["call deadlines"], ["file access", "network"]
        if system.job_objects:
            enforced.append("its processes held in a job object and ended with the run")
        elif ties == "prctl":
            enforced.append("its processes, detached ones too, ended with the run")
        else:
            enforced.append("its child processes ended with the run")
            missing.append("processes that detach themselves")
        (enforced if ties or system.job_objects else missing).append("ending with the grader")
        if system.rlimits:
            enforced.append("memory (RLIMIT_DATA)" if system.linux else "memory (RLIMIT_DATA, if the kernel honours it)")
            enforced.append("file size (RLIMIT_FSIZE)")
        elif system.job_objects:
            enforced.append("memory (job object)")
            missing.append("file size")
        else:
            missing += ["memory", "file size"]
        if system.job_objects:
            enforced.append("number of processes (job object)")
        elif self._pids_base is not None or self._nproc():
            enforced.append(self._task_bound())
        else:
            missing.append("number of processes")
        return enforced, missing

    def _ties(self) -> str:
        """How a worker dies with the grader: PDEATHSIG, the job object ('' : from outside), or watching."""
        if "prctl" in self.system.linux_calls:
            return "prctl"
        if self.system.job_objects:
            return ""
        return "" if self.system.name == "windows" else "watch"   # Windows never re-parents: nothing to watch

    def _nproc(self) -> bool:
        """RLIMIT_NPROC, counted on the host: Linux only (it counts tasks there), and not as root."""
        system = self.system
        return system.linux and system.proc and system.rlimits and hasattr(os, "getuid") and os.getuid() != 0

    # ------------------------------------------------------------ workers
    def start(self, spec: WorkerSpec, output: int) -> tuple[WorkerHandle, socket.socket]:
        """A socket pair where descriptors can be passed; else an authenticated localhost connection."""
        if self.system.fd_passing:
            return super().start(spec, output)
        token = secrets.token_hex(32).encode()
        with socket.create_server(("127.0.0.1", 0)) as listener:
            handle = self._launch(spec, output, -1, listener.getsockname()[1], token)
            try:
                return handle, accept_worker(listener, token, handle, CONNECT_TIMEOUT)
            except BaseException:
                handle.kill()
                raise

    def _view(self, spec: WorkerSpec, box: Path) -> View:
        view = super()._view(spec, box)
        view.ties = self._ties()
        view.subreaper = view.ties == "prctl"
        view.drop_privileges = {"prctl", "capset"} <= self.system.linux_calls
        view.max_tasks = nproc_allowance(spec) if self._nproc() else None
        return view

    def _environment(self, view: View, spec: WorkerSpec) -> dict[str, str]:
        env = super()._environment(view, spec)
        if self.system.name == "windows":   # Windows' Python needs its system variables, and finds DLLs on PATH
            env.update({name: os.environ[name] for name in WINDOWS_VARIABLES if name in os.environ})
            env.update(PATH=os.environ.get("PATH", ""), TEMP=view.tmp, TMP=view.tmp, USERPROFILE=view.scratch)
        return env

    def _process_options(self, fds: tuple[int, ...]) -> dict:
        options: dict = {}
        if fds and self.system.fd_passing:
            options["pass_fds"] = fds
        if os.name == "posix":
            options["start_new_session"] = True   # its own process group, away from the terminal's Ctrl-C
        else:
            options["creationflags"] = getattr(subprocess, "CREATE_NEW_PROCESS_GROUP", 0)
        return options

    def _handle(self, process: subprocess.Popen, box: Path, cgroup: PidsCgroup | None, kept: int | None,
                spec: WorkerSpec) -> WorkerHandle:
        job = winjob.job_for(process.pid, spec.memory_bytes, spec.max_processes) \
            if winjob is not None and self.system.job_objects else None
        return PortableHandle(process, box, cgroup, self, job)


NoIsolation = PortableLauncher   # the old name: what tests of the session logic start workers with


def accept_worker(listener: socket.socket, token: bytes, handle: WorkerHandle, seconds: float) -> socket.socket:
    """The connection of the worker that presents ``token`` (others are closed unread beyond it);
    IsolationError when the worker exits or does not connect in time."""
    deadline = time.monotonic() + seconds
    while True:
        if handle.poll() is not None:
            raise IsolationError(f"the worker exited with status {handle.returncode} before it connected")
        left = deadline - time.monotonic()
        if left <= 0:
            raise IsolationError(f"the worker did not connect within {seconds:g} s")
        listener.settimeout(min(left, 0.25))
        try:
            connection, _ = listener.accept()
        except (socket.timeout, InterruptedError):
            continue
        if hmac.compare_digest(_first_line(connection, len(token) + 1, min(left, 10.0)), token):
            connection.settimeout(None)
            return connection
        connection.close()


def _first_line(connection: socket.socket, limit: int, seconds: float) -> bytes:
    connection.settimeout(max(seconds, 0.1))
    data = b""
    try:
        while not data.endswith(b"\n") and len(data) < limit:
            chunk = connection.recv(limit - len(data))
            if not chunk:
                break
            data += chunk
    except OSError:
        return b""
    return data.strip()
