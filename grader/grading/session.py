"""The grader's side of a worker: calls with deadlines, results as data.

A :class:`WorkerSession` owns one submission's worker.  Each call is a
request on the socket and a reply decoded with :mod:`grader.isolation.inside.wire`; the
deadline is enforced here, outside the worker, and ends in killing the
worker and everything it started (its launcher knows exactly what that is).
A worker that dies costs the current check only: the next check gets a
fresh worker.  A submission that cannot even be imported fails every check
with the same one-line reason, without retrying.

A worker that cannot start (it exits, or says what failed, before its hello:
a sandbox tool, a confinement step, a library of the lab; or it cannot import
a library this Python has) is the grader's problem, never the student's: a
:class:`~grader.errors.WorkerStartError`, remembered in ``start_failure``, and
no grade (:mod:`grader.grading.startup` finds the words).
"""

from __future__ import annotations

import builtins
import contextlib
import os
import select
import shutil
import signal
import socket
import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterator

from grader import inert
from grader.errors import WorkerStartError
from grader.isolation.inside import wire
from grader.grading.budget import CrashBudget
from grader.grading import startup
from grader.isolation import IsolationError, Launcher, WorkerHandle, WorkerSpec, choose_launcher

if TYPE_CHECKING:
    from grader.grading.prepare import Launched

START_TIMEOUT = 120.0   # seconds a new worker may take to say hello (its imports, the lab's warm-ups): the grader's
OUTPUT_SHOWN = inert.OUTPUT  # characters of a check's worker output kept for its report
LOG_KEPT = 1 << 20   # a log larger than this at the start of a check is emptied first


class StudentError(Exception):
    """The student's code raised; carries the exception as plain, inert strings.

    ``mro`` names every class of the exception with its module
    (``builtins.ValueError``, ``pytorch_basics.ShapeError``), as the worker saw it.
    """

    def __init__(self, error: dict) -> None:
        self.type_name: str = inert.line(error.get("type", "Exception"), inert.NAME) or "Exception"
        mro = error.get("mro")
        self.mro: list[str] = [inert.line(n, inert.NAME) for n in mro[:64]] if type(mro) is list else []
        self.message: str = inert.clean(error.get("message", ""), inert.MESSAGE)
        self.where: str = inert.line(error.get("where", ""), inert.WHERE)
        self.lines: list[str] = inert.lines(error.get("lines"))
        super().__init__(str(self))

    def is_a(self, name: str) -> bool:
        """Whether this is the built-in exception ``name`` or has it as its one line of ancestry.

        A class that also inherits other built-in exceptions (one class that is
        a TypeError, a ValueError and a FileNotFoundError at once) is none of them.
        """
        return single_line_of(self.mro, name)

    def other_lines(self, name: str) -> list[str]:
        """Built-in exceptions this one also inherits, besides ``name``'s own line."""
        return unrelated_builtins(self.mro, name)

    def __str__(self) -> str:
        at = f" ({self.where})" if self.where else ""
        return f"{self.type_name}: {self.message}{at}"


def _builtin_class(name: str) -> type | None:
    found = getattr(builtins, name.removeprefix("builtins."), None)
    return found if isinstance(found, type) else None


def _builtins_in(mro: list[str]) -> list[str]:
    return [n.removeprefix("builtins.") for n in mro if n.startswith("builtins.")]


def single_line_of(mro: list[str], name: str) -> bool:
    """``mro`` (qualified class names) is ``name`` or a subclass of it, with one line of
    built-in ancestry: the built-ins in it are exactly the most derived one's own ancestors.

    ``name`` is a built-in (``"ValueError"``) or a qualified library class
    (``"librosa.util.exceptions.ParameterError"``).
    """
    seen = _builtins_in(mro)
    first = _builtin_class(seen[0]) if seen else None
    if first is None or set(seen) != {c.__name__ for c in first.__mro__}:
        return False
    wanted = _builtin_class(name) if "." not in name.removeprefix("builtins.") else None
    if wanted is not None:
        return wanted in first.__mro__
    return name in mro


def unrelated_builtins(mro: list[str], name: str) -> list[str]:
    """The built-in exceptions in ``mro`` that are neither ancestors nor descendants of ``name``."""
    wanted = _builtin_class(name)
    found = [_builtin_class(n) for n in _builtins_in(mro)]
    if wanted is None:
        return []
    return [c.__name__ for c in found
            if c is not None and not issubclass(c, wanted) and not issubclass(wanted, c)]


class SubmissionImportError(StudentError):
    """Importing the submission failed, so no check can run."""

    def __str__(self) -> str:
        at = f"{self.where}: " if self.where else ""
        return f"{at}{self.type_name}: {self.message}"


class WorkerCrash(Exception):
    """The worker timed out, died or sent something malformed (``timed_out``: it ran out of time)."""

    def __init__(self, message: str, timed_out: bool = False) -> None:
        super().__init__(message)
        self.timed_out = timed_out


SIGNAL_WORDS = {   # by name: a system without one of them (Windows has no SIGBUS) just never reports it
    "SIGSEGV": "segmentation fault",
    "SIGABRT": "aborted",
    "SIGBUS": "bus error",
    "SIGFPE": "floating-point exception",
    "SIGKILL": "killed (out of memory, or killed by a signal)",
    "SIGXFSZ": "wrote more than the output/file size limit",
    "SIGXCPU": "used too much CPU time",
}
WINDOWS_STATUS = {   # NTSTATUS exit codes of a Windows process that crashed
    0xC0000005: "access violation (segmentation fault)",
    0xC00000FD: "stack overflow",
    0xC0000409: "aborted (stack buffer overrun or abort())",
    0xC0000017: "out of memory",
    0xC000013A: "interrupted (Ctrl-C)",
}


def signal_name(number: int) -> str:
    try:
        return signal.Signals(number).name
    except ValueError:
        return f"signal {number}"


def describe_exit(returncode: int, starting: bool = False) -> str:
    """Why a worker ended, from its exit status (a negative one is a POSIX signal)."""
    if returncode < 0:
        name = signal_name(-returncode)
        return f"worker died: {SIGNAL_WORDS.get(name, name)} ({name})"
    if returncode in WINDOWS_STATUS:
        return f"worker died: {WINDOWS_STATUS[returncode]} (status {returncode:#x})"
    if starting:
        return f"worker exited with status {returncode}"
    return f"worker exited with status {returncode} in the middle of a call (os._exit?)"


class WorkerSession:
    """One submission's worker, restarted after a crash, closed at the end.

    Workers come from ``launcher`` (the strongest isolation available when
    none is given; the session then owns it and closes it with itself).
    """

    def __init__(self, spec: WorkerSpec, *, launcher: Launcher | None = None, call_timeout: float = 10.0,
                 import_timeout: float = 60.0, reply_bytes: int = 8 << 20,
                 crash_budget: CrashBudget | None = None, launched: Launched | None = None) -> None:
        """``launched``: a worker for ``spec`` already started (grader.grading.prepare.launch), adopted
        as this session's first worker: it has been importing its libraries meanwhile."""
        self.spec = spec
        self.launcher = launcher or choose_launcher()
        self.owns_launcher = launcher is None
        self.call_timeout, self.import_timeout = call_timeout, import_timeout
        self.start_timeout = max(import_timeout, START_TIMEOUT)   # the grader's part: not the student's to pay
        self.limits = wire.reply_limits(reply_bytes)
        self.log_dir = launched.log_dir if launched is not None else Path(tempfile.mkdtemp(prefix="grade-log-"))
        self.log_path = self.log_dir / "worker.log"
        self.log_path.touch()
        self._launched = launched
        self.log_emptied = 0  # bytes dropped from the front of the log: offsets stay comparable
        self.process: WorkerHandle | None = None
        self.channel: socket.socket | None = None
        self.generation = 0
        self.ready = False
        self.greeted = False   # the current worker said hello: what it does from now on is the student's
        self.started_at = 0    # where the current worker's output starts in the log
        self.start_failure: WorkerStartError | None = None
        self.import_failure: Exception | None = None
        self.check_failure: Exception | None = None
        self.sandbox = self.launcher.describe()  # the worker adds what it enforces itself, when it says hello
        self.starts = 0
        self.budget = crash_budget or CrashBudget()
        self.crashed, self.function = False, ""  # did the current check crash; the function it grades

    # ------------------------------------------------------------ lifecycle
    def start(self) -> None:
        """Launch the worker without waiting for it (it imports torch meanwhile).
        WorkerStartError when the launcher cannot start one here."""
        if self.start_failure is not None:
            raise WorkerStartError(str(self.start_failure))
        if self.process is not None:
            return
        self.started_at = self.output_offset()
        if self._launched is not None:   # started early, before this process imported torch
            self.process, self.channel, self._launched = self._launched.handle, self._launched.channel, None
        else:
            with open(self.log_path, "ab") as log:
                try:
                    self.process, self.channel = self.launcher.start(self.spec, log.fileno())
                except (OSError, IsolationError) as exc:
                    raise self._start_failed(str(exc)) from None
        self.ready = self.greeted = False
        self.generation += 1
        self.starts += 1

    def ensure_ready(self) -> None:
        if self.start_failure is not None:
            raise WorkerStartError(str(self.start_failure))
        if self.import_failure is not None:
            raise _fresh(self.import_failure)  # one object raised again and again grows its traceback
        refusal = self.budget.refusal(self.function)
        if refusal:
            raise WorkerCrash(refusal)
        if self.ready:
            return
        self.start()
        with self._spending(self.starts > 1):   # a restart after a crash: the student's code costs it too
            self._hello()
        what = f"importing {self.spec.module}.py"
        try:
            limit, doing = self._limited(self.import_timeout, what)
            deadline = time.monotonic() + limit
            with self._spending():
                self._send({"op": "import"}, deadline)
                self._receive(deadline, doing, limit)
        except StudentError as exc:
            hidden = startup.hidden_library(exc.message, self.launcher, self.spec, self.start_timeout) \
                if exc.is_a("ImportError") else ""
            if hidden:
                raise self._start_failed(hidden) from None
            self.import_failure = SubmissionImportError(
                {"type": exc.type_name, "mro": exc.mro, "message": exc.message,
                 "where": exc.where, "lines": exc.lines})
            raise self.import_failure from None
        except WorkerCrash as exc:
            self.import_failure = exc
            raise
        self.ready = True

    def _hello(self) -> None:
        """Wait for the worker's hello: everything before it is the grader's (no student code ran)."""
        try:
            hello = self._receive(time.monotonic() + self.start_timeout, "starting", self.start_timeout)
        except WorkerCrash as exc:
            if exc.timed_out:
                preload = ", ".join(self.spec.preload) or "nothing"
                raise self._start_failed(f"the worker did not start within {self.start_timeout:g} s (it imports "
                                         f"{preload} first: a busy or slow machine?)") from None
            raise self._start_failed(str(exc)) from None
        except StudentError as exc:
            raise self._start_failed(f"the worker refused to start: {exc}") from None
        self.greeted = True
        reported = inert.line(hello.get("sandbox", "unknown"), 300) if isinstance(hello, dict) else "unknown"
        self.sandbox = f"{self.launcher.describe()}; {reported}"  # said before any student code ran

    def _start_failed(self, reason: str) -> WorkerStartError:
        """The one-line grader problem for a worker that could not start, remembered (no retry)."""
        said = startup.last_words(self.log_path, self.started_at - self.log_emptied)
        if said:
            reason += f"; it said: {said.removeprefix('grade worker: ')}"
        self.stop()
        self.start_failure = WorkerStartError(inert.line(
            f"grade could not start its worker on this system ({self.launcher.kind}): {reason} "
            "(a problem of the grader or its installation, not of the submission)", 1000))
        return self.start_failure

    def stop(self) -> None:
        """Stop the current worker and everything it started.

        No polite "exit" first: a worker that exits on its own orphans what it
        started before anyone could find it by its parent; the kill finds it all.
        """
        if self.process is None:
            return
        self.process.kill()
        self.channel.close()
        self.process, self.channel, self.ready = None, None, False

    def close(self) -> None:
        self.stop()
        if self._launched is not None:   # never adopted: no check ran
            self._launched.handle.kill()
            self._launched.channel.close()
            self._launched = None
        if self.owns_launcher:
            self.launcher.close()
        shutil.rmtree(self.log_dir, ignore_errors=True)

    # ------------------------------------------------------------ checks
    def begin_check(self, function: str = "") -> None:
        """A new check starts: earlier crashes and earlier output no longer count against it.

        The worker's output shares its file size limit (RLIMIT_FSIZE) over the
        whole run, so a check that flooded it would leave every later check
        unable to print (OSError: File too large) and without output shown.
        """
        self.check_failure = None
        if self.crashed:
            self.budget.record(self.function)
        self.crashed, self.function = False, function
        size = self.log_path.stat().st_size
        if size > LOG_KEPT:
            os.truncate(self.log_path, 0)  # the worker appends (O_APPEND): it writes at the new end
            self.log_emptied += size

    def output_offset(self) -> int:
        return self.log_emptied + self.log_path.stat().st_size

    def output_since(self, offset: int) -> str:
        with open(self.log_path, "rb") as log:
            log.seek(max(offset - self.log_emptied, 0))
            data = log.read(4 * OUTPUT_SHOWN)
        text = inert.clean(data.decode("utf-8", "replace"), OUTPUT_SHOWN + 1)
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
        limit, doing = self._limited(self.call_timeout if timeout is None else timeout,
                                     f"calling {describe_target(target)}")
        deadline = time.monotonic() + limit
        request = {"op": "call", "target": list(target), "args": list(args), "kwargs": kwargs or {}}
        try:
            with self._spending():
                self._send(request, deadline)
                return self._receive(deadline, doing, limit)
        except WorkerCrash as exc:
            self.check_failure = exc
            raise
        except StudentError as exc:
            if out_of_memory(exc):
                self.crashed = True   # counts like a crash (grader/grading/budget.py)
            raise

    def _limited(self, limit: float, doing: str) -> tuple[float, str]:
        """``limit``, or what is left of the run's time for the student's code when that is less."""
        left = self.budget.left()
        if left is None or left >= limit:
            return limit, doing
        return max(left, 0.001), f"{doing} (the last of the {self.budget.seconds:g} s a run allows your code)"

    @contextlib.contextmanager
    def _spending(self, charged: bool = True) -> Iterator[None]:
        """Charge the time inside to the run's budget for the student's code."""
        began = time.monotonic()
        try:
            yield
        finally:
            if charged:
                self.budget.spend(time.monotonic() - began)

    def release(self, handle: "RemoteObject") -> None:
        if handle.generation == self.generation and self.ready:
            deadline = time.monotonic() + self.call_timeout
            self._send({"op": "release", "id": handle.id}, deadline)
            self._receive(deadline, "releasing an object", self.call_timeout)

    def _send(self, request: dict, deadline: float) -> None:
        try:
            payload = wire.dumps(wire.encode(request))
        except wire.WireError as exc:
            raise TypeError(f"grader bug: cannot send {exc}") from None
        self.channel.settimeout(max(deadline - time.monotonic(), 0.001))
        try:
            wire.send_frame(self.channel, payload)
        except (OSError, socket.timeout):
            self._crash(f"could not send the request ({self._why_dead()})")

    def _receive(self, deadline: float, doing: str, seconds: float) -> Any:
        """The reply, received and decoded before ``deadline``; anything else ends the worker.

        The deadline covers waiting, reading and decoding: a worker that drips
        a frame byte by byte, or sends one that is slow to decode, is out of
        time like one that never answers.
        """
        limit = f"{seconds:g} s"
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                self._crash(f"timed out after {limit} while {doing}", timed_out=True)
            readable, _, _ = select.select([self.channel], [], [], min(remaining, 0.25))
            if readable:
                break
            if self.process.poll() is not None:
                self._crash(f"{describe_exit(self.process.returncode, not self.greeted)} while {doing}")
        try:
            frame = wire.recv_frame(self.channel, self.limits.frame_bytes, deadline)
            reply = wire.decode(wire.loads(frame, self.limits), self._handle, limits=self.limits)
        except TimeoutError:
            self._crash(f"timed out after {limit} while {doing} (the reply arrived too slowly)", timed_out=True)
        except (EOFError, OSError):
            self._crash(f"{self._why_dead()} while {doing}")
        except wire.WireError as exc:
            self._crash(f"the worker sent a reply the grader cannot accept ({exc}) while {doing}")
        if time.monotonic() > deadline:
            self._crash(f"timed out after {limit} while {doing} (reading the reply took too long)", timed_out=True)
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
        return describe_exit(returncode, not self.greeted)

    def _crash(self, reason: str, timed_out: bool = False) -> None:
        self.crashed = True
        self.ready = False  # a hung or broken worker gets no polite "exit" and second of grace: just the kill
        self.stop()
        raise WorkerCrash(inert.clean(reason, inert.MESSAGE), timed_out)  # it may quote what the worker sent

    def _handle(self, handle_id: int, type_name: str) -> "RemoteObject":
        return RemoteObject(self, handle_id, type_name, self.generation)


MEMORY_MESSAGES = ("can't allocate memory", "cannot allocate memory", "out of memory")


def out_of_memory(error: StudentError) -> bool:
    """The student's code ran out of memory: a MemoryError (NumPy's too), or torch's allocator failing
    (a RuntimeError naming ENOMEM)."""
    return error.is_a("MemoryError") or any(text in error.message.lower() for text in MEMORY_MESSAGES)


def _fresh(error: Exception) -> Exception:
    """A new exception with the same content, for raising a remembered failure again."""
    if isinstance(error, StudentError):
        return type(error)({"type": error.type_name, "mro": error.mro, "message": error.message,
                            "where": error.where, "lines": error.lines})
    return WorkerCrash(str(error), getattr(error, "timed_out", False))


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
        """Run a trusted probe (grader/isolation/inside/probes.py) next to the student's objects."""
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
