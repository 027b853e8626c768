"""The grader's side of a worker: calls with deadlines, results as data.

A :class:`WorkerSession` owns one submission's worker.  Each call is a
request on the socket and a reply decoded with :mod:`grader.wire`; the
deadline is enforced here, outside the worker, and ends in killing the
worker's whole process group.  A worker that dies costs the current check
only: the next check gets a fresh worker.  A submission that cannot even be
imported fails every check with the same one-line reason, without retrying.
"""

from __future__ import annotations

import os
import select
import shutil
import signal
import socket
import tempfile
import time
from pathlib import Path
from typing import Any

from grader import sandbox, wire
from grader.sandbox import WorkerSpec

OUTPUT_SHOWN = 4000  # characters of a check's worker output kept for its report
LOG_KEPT = 1 << 20   # a log larger than this at the start of a check is emptied first
CRASH_BUDGET = 3     # after this many checks in a row timed out or crashed, the remaining ones fail at once


class StudentError(Exception):
    """The student's code raised; carries the exception as plain strings."""

    def __init__(self, error: dict) -> None:
        self.type_name: str = str(error.get("type", "Exception"))
        self.mro: list[str] = [str(n) for n in error.get("mro", [])]
        self.message: str = str(error.get("message", ""))
        self.where: str = str(error.get("where", ""))
        self.lines: list[str] = [str(n) for n in error.get("lines", [])]
        super().__init__(str(self))

    def is_a(self, name: str) -> bool:
        return name in self.mro

    def __str__(self) -> str:
        at = f" ({self.where})" if self.where else ""
        return f"{self.type_name}: {self.message}{at}"


class SubmissionImportError(StudentError):
    """Importing the submission failed, so no check can run."""

    def __str__(self) -> str:
        at = f"{self.where}: " if self.where else ""
        return f"{at}{self.type_name}: {self.message}"


class WorkerCrash(Exception):
    """The worker timed out, died or sent something malformed."""


_SIGNALS = {
    signal.SIGSEGV: "segmentation fault",
    signal.SIGABRT: "aborted",
    signal.SIGBUS: "bus error",
    signal.SIGFPE: "floating-point exception",
    signal.SIGKILL: "killed (out of memory, or killed by a signal)",
    signal.SIGXFSZ: "wrote more than the output/file size limit",
    signal.SIGXCPU: "used too much CPU time",
}


def describe_exit(returncode: int) -> str:
    if returncode < 0:
        sig = signal.Signals(-returncode)
        return f"worker died: {_SIGNALS.get(sig, sig.name)} ({sig.name})"
    return f"worker exited with status {returncode} in the middle of a call (os._exit?)"


class WorkerSession:
    """One submission's worker, restarted after a crash, closed at the end."""

    def __init__(self, spec: WorkerSpec, *, call_timeout: float = 10.0,
                 import_timeout: float = 60.0, crash_budget: int = CRASH_BUDGET) -> None:
        self.spec = spec
        self.call_timeout, self.import_timeout = call_timeout, import_timeout
        self.log_dir = Path(tempfile.mkdtemp(prefix="grade-log-"))
        self.log_path = self.log_dir / "worker.log"
        self.log_path.touch()
        self.log_emptied = 0  # bytes dropped from the front of the log: offsets stay comparable
        self.process = None
        self.token = ""
        self.channel: socket.socket | None = None
        self.generation = 0
        self.ready = False
        self.import_failure: Exception | None = None
        self.check_failure: Exception | None = None
        self.sandbox = "not started"
        self.starts = 0
        self.crash_budget, self.crashes_in_a_row, self.crashed, self.gave_up = crash_budget, 0, False, False

    # ------------------------------------------------------------ lifecycle
    def start(self) -> None:
        """Launch the worker without waiting for it (it imports torch meanwhile)."""
        if self.process is not None:
            return
        ours, theirs = socket.socketpair()
        with open(self.log_path, "ab") as log:
            self.process, self.token = sandbox.launch_worker(self.spec, theirs.fileno(), log.fileno())
        theirs.close()
        self.channel, self.ready = ours, False
        self.generation += 1
        self.starts += 1

    def ensure_ready(self) -> None:
        if self.import_failure is not None:
            raise _fresh(self.import_failure)  # one object raised again and again grows its traceback
        if self.gave_up:
            raise WorkerCrash(f"not run: your code timed out or crashed in {self.crash_budget} checks in a row, "
                              "so the remaining checks fail at once (fix those first, then grade again)")
        if self.ready:
            return
        self.start()
        what = f"importing {self.spec.module}.py"
        try:
            hello = self._receive(self.import_timeout, what)
            self.sandbox = str(hello.get("sandbox", "unknown")) if isinstance(hello, dict) else "unknown"
            self._send({"op": "import"}, self.import_timeout)
            self._receive(self.import_timeout, what)
        except StudentError as exc:
            self.import_failure = SubmissionImportError(
                {"type": exc.type_name, "mro": exc.mro, "message": exc.message,
                 "where": exc.where, "lines": exc.lines})
            raise self.import_failure from None
        except WorkerCrash as exc:
            self.import_failure = exc
            raise
        self.ready = True

    def stop(self) -> None:
        """Stop the current worker and everything it started."""
        if self.process is None:
            return
        if self.process.poll() is None and self.ready:
            try:
                wire.send_frame(self.channel, wire.dumps(wire.encode({"op": "exit"})))
                self.process.wait(timeout=1)
            except Exception:
                pass
        sandbox.kill_worker(self.process, self.token)
        self.channel.close()
        self.process, self.channel, self.ready = None, None, False

    def close(self) -> None:
        self.stop()
        shutil.rmtree(self.log_dir, ignore_errors=True)

    # ------------------------------------------------------------ checks
    def begin_check(self) -> None:
        """A new check starts: earlier crashes and earlier output no longer count against it.

        The worker's output shares its file size limit (RLIMIT_FSIZE) over the
        whole run, so a check that flooded it would leave every later check
        unable to print (OSError: File too large) and without output shown.
        """
        self.check_failure = None
        self.crashes_in_a_row = self.crashes_in_a_row + 1 if self.crashed else 0
        self.crashed, self.gave_up = False, self.gave_up or self.crashes_in_a_row >= self.crash_budget
        size = self.log_path.stat().st_size
        if size > LOG_KEPT:
            os.truncate(self.log_path, 0)  # the worker appends (O_APPEND): it writes at the new end
            self.log_emptied += size

    def output_offset(self) -> int:
        return self.log_emptied + self.log_path.stat().st_size

    def output_since(self, offset: int) -> str:
        with open(self.log_path, "rb") as log:
            log.seek(max(offset - self.log_emptied, 0))
            data = log.read(OUTPUT_SHOWN + 1)
        text = data.decode("utf-8", "replace")
        return text if len(text) <= OUTPUT_SHOWN else text[:OUTPUT_SHOWN] + "\n… (output truncated)"

    # ------------------------------------------------------------ calls
    def call(self, target: tuple, args: tuple = (), kwargs: dict | None = None,
             timeout: float | None = None) -> Any:
        """Run ``target`` in the worker; return its result as data.

        Raises StudentError when the student's code raised, WorkerCrash when
        the worker hung, died or answered with something malformed.
        """
        if self.check_failure is not None:
            raise _fresh(self.check_failure)
        self.ensure_ready()
        limit = self.call_timeout if timeout is None else timeout
        request = {"op": "call", "target": list(target), "args": list(args), "kwargs": kwargs or {}}
        try:
            self._send(request, limit)
            return self._receive(limit, f"calling {describe_target(target)}")
        except WorkerCrash as exc:
            self.check_failure = exc
            raise

    def release(self, handle: "RemoteObject") -> None:
        if handle.generation == self.generation and self.ready:
            self._send({"op": "release", "id": handle.id}, self.call_timeout)
            self._receive(self.call_timeout, "releasing an object")

    def _send(self, request: dict, limit: float) -> None:
        try:
            payload = wire.dumps(wire.encode(request))
        except wire.WireError as exc:
            raise TypeError(f"grader bug: cannot send {exc}") from None
        self.channel.settimeout(limit)
        try:
            wire.send_frame(self.channel, payload)
        except (OSError, socket.timeout):
            self._crash(f"could not send the request ({self._why_dead()})")

    def _receive(self, limit: float, doing: str) -> Any:
        deadline = time.monotonic() + limit
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                self._crash(f"timed out after {limit:g} s while {doing}")
            readable, _, _ = select.select([self.channel], [], [], min(remaining, 0.25))
            if readable:
                break
            if self.process.poll() is not None:
                self._crash(f"{describe_exit(self.process.returncode)} while {doing}")
        self.channel.settimeout(max(deadline - time.monotonic(), 0.5))
        try:
            reply = wire.decode(wire.loads(wire.recv_frame(self.channel)), self._handle)
        except (EOFError, OSError, socket.timeout):
            self._crash(f"{self._why_dead()} while {doing}")
        except wire.WireError as exc:
            self._crash(f"the worker sent a malformed reply ({exc}) while {doing}")
        if not isinstance(reply, dict) or reply.get("ok") not in (True, False):
            self._crash(f"the worker sent a malformed reply while {doing}")
        if reply["ok"] is False:
            error = reply.get("error")
            raise StudentError(error if isinstance(error, dict) else {})
        return reply.get("value")

    def _why_dead(self) -> str:
        try:
            returncode = self.process.wait(timeout=2)
        except Exception:
            return "the worker closed its channel"
        return describe_exit(returncode)

    def _crash(self, reason: str) -> None:
        self.crashed = True
        self.ready = False  # a hung or broken worker gets no polite "exit" and second of grace: just the kill
        self.stop()
        raise WorkerCrash(reason)

    def _handle(self, handle_id: int, type_name: str) -> "RemoteObject":
        return RemoteObject(self, handle_id, type_name, self.generation)


def _fresh(error: Exception) -> Exception:
    """A new exception with the same content, for raising a remembered failure again."""
    if isinstance(error, StudentError):
        return type(error)({"type": error.type_name, "mro": error.mro, "message": error.message,
                            "where": error.where, "lines": error.lines})
    return WorkerCrash(str(error))


def describe_target(target: tuple) -> str:
    kind, name = target[0], target[1]
    if kind == "module":
        return f"{name}()"
    if kind == "probe":
        return f"probe {name}"
    return f"method {target[2]}()" if target[2] else "a worker object"


class RemoteFunction:
    """A student function, called in the worker."""

    def __init__(self, session: WorkerSession, name: str) -> None:
        self.session, self.name = session, name

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self.session.call(("module", self.name), args, kwargs)


class RemoteModule:
    """The student's module as seen from the grader: attribute access calls into the worker."""

    def __init__(self, session: WorkerSession) -> None:
        self._session = session

    def __getattr__(self, name: str) -> RemoteFunction:
        if name.startswith("_"):
            raise AttributeError(name)
        return RemoteFunction(self._session, name)

    def probe(self, name: str, *args: Any, **kwargs: Any) -> Any:
        """Run a trusted probe (grader/probes.py) next to the student's objects."""
        return self._session.call(("probe", name), args, kwargs)


class RemoteObject(wire.Handle):
    """An object that lives in the worker (a model, a dataset), used through calls."""

    __slots__ = ("session", "generation")

    def __init__(self, session: WorkerSession, id: int, type_name: str, generation: int) -> None:
        super().__init__(id, type_name)
        self.session, self.generation = session, generation

    def call(self, method: str, *args: Any, **kwargs: Any) -> Any:
        self._check_alive()
        return self.session.call(("object", self.id, method), args, kwargs)

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        self._check_alive()
        return self.session.call(("object", self.id, None), args, kwargs)

    def _check_alive(self) -> None:
        if self.generation != self.session.generation:
            raise WorkerCrash(f"this {self.type_name} was lost when the worker restarted")
