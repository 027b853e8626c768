"""The worker: the only process that runs student code.

Started by a launcher (:mod:`grader.isolation.launchers`) as ``python -I -S
worker.py CONFIG`` with one end of a socket pair, usually inside a namespace
sandbox.  It runs from a private copy of its own files (this one,
``landlock.py``, ``wire.py``, ``probes.py``, and the lab's probes and
warm-up modules as ``lab_probes_N.py`` / ``lab_warm_up_N.py``), loaded by
path: the ``grader`` package, the reference and the suites are not there.

Order matters.  It opens its channel, ties itself to the grader and drops every
privilege (capabilities, ``no_new_privs``, Landlock), and only then reads anything a
previous run could have touched: it copies the trusted cache into its private
cache folder, imports the lab's libraries and runs its warm-up modules, sets its rlimits,
says hello, and imports the submission.  Everything it sends back is data;
anything else stays here behind a handle.

Trusted code here cannot be lied to by patching what it uses: this file and
every module it loads (wire, probes, the lab's probes) keep a private copy of
the built-ins, and bind the NumPy and torch functions they call, before any
student code runs.  Student code runs in one place, :meth:`Worker.invoke`,
called from :meth:`Worker.serve`'s loop for a plain call and a probe's call
alike (a probe that wraps a call yields it, and observes once it returns):
what is on the stack above a student's function, the frames and their locals,
is the same whether a probe is watching or not.

Every step before the hello is the grader's, not the student's: a step that
fails there prints one line (``grade worker: could not start: ...``) and exits
with :data:`STARTUP_FAILED`; the grader turns that into a grader problem.

Portable: the launcher says which steps this system has (``ties``,
``drop_privileges``, ``landlock``, ``connect_port``); Linux-only calls
(``prctl``, ``capset``) and the ``resource`` module are used only when asked for
or present, never at import.

Nor does student code run *between* its calls, while a probe observes and the
reply is made: from the moment a call returns until the next one starts, the
worker clears the trace and profile functions a submission may have set (which
would run at every line of the probe), blocks every signal (a handler runs
between any two bytecodes), pauses the garbage collector (which runs finalizers
where it likes), and keeps what the call returned alive until the reply is sent
(its ``__del__`` would run when the last reference went).  What remains open is
what runs beside trusted code, not in it: a thread the submission started, and
the heap it can read and write during its own call (``gc.get_objects()`` finds
the probe that waits for the call): an observation made in the student's
process can be lied to by a determined submission (tests/hostile/test_probe_reach.py).
"""

from __future__ import annotations

import builtins
import ctypes
import gc
import importlib
import importlib.util
import inspect
import json
import os
import shutil
import signal as signals
import socket
import sys
import threading
import time
from pathlib import Path
from typing import Any

# This file's own view of the built-ins, taken before any student code runs (functions defined
# below use it): a submission that replaces builtins.getattr or isinstance changes nothing here.
__builtins__ = dict(vars(builtins))

HERE = Path(__file__).resolve().parent
# Bound now, before any student code runs: whose turn it is (Worker.invoke) is kept with these.
_settrace, _setprofile = sys.settrace, sys.setprofile
_gc_enable, _gc_disable, _gc_isenabled = gc.enable, gc.disable, gc.isenabled
# Windows has no signal mask (its few handlers run on console events only): there the mask is left alone.
_sigmask = getattr(signals, "pthread_sigmask", None)
_SIG_BLOCK, _SIG_SETMASK = getattr(signals, "SIG_BLOCK", 0), getattr(signals, "SIG_SETMASK", 2)
_EVERY_SIGNAL = signals.valid_signals()
_CO_GENERATOR = inspect.CO_GENERATOR
_PR_SET_PDEATHSIG, _PR_CAPBSET_DROP, _PR_SET_NO_NEW_PRIVS, _PR_SET_CHILD_SUBREAPER = 1, 24, 38, 36
_CAPABILITY_VERSION_3 = 0x20080522
STARTUP_FAILED = 3   # exit status of a worker that could not get as far as its hello
WATCH_SECONDS = 0.5  # how often a worker without PDEATHSIG looks for its parent


def _load(name: str) -> Any:
    """A trusted module of this folder, loaded by path, with a private copy of the built-ins."""
    spec = importlib.util.spec_from_file_location(f"_grade_{name}", HERE / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    module.__builtins__ = dict(vars(builtins))
    spec.loader.exec_module(module)
    return module


def _stay_tied_to_the_grader(config: dict) -> None:
    """Die with the grader (PDEATHSIG), and adopt orphans so they can be found and killed (Linux).

    A namespace sandbox does both from outside; without one, this is all
    there is.  The parent check closes the race where the grader died before
    PDEATHSIG was set.
    """
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(_PR_SET_PDEATHSIG, int(signals.SIGKILL), 0, 0, 0) != 0:
        raise OSError(ctypes.get_errno(), "prctl(PDEATHSIG) failed")
    _check_parent(config)
    if config.get("subreaper") and libc.prctl(_PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) != 0:
        raise OSError(ctypes.get_errno(), "prctl(CHILD_SUBREAPER) failed")


def _check_parent(config: dict) -> None:
    if config.get("parent_pid") and os.getppid() != config["parent_pid"]:
        raise RuntimeError(f"its parent is {os.getppid()}, not the grader ({config['parent_pid']}): "
                           "the grader is gone")


def _watch_the_grader(config: dict) -> None:
    """Where there is no PDEATHSIG (macOS): a thread that ends this process once the grader is gone
    (the worker is then re-parented).  Windows needs none: the grader's job object ends it."""
    _check_parent(config)
    parent = config.get("parent_pid")

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(WATCH_SECONDS)
        os._exit(1)

    if parent:
        threading.Thread(target=watch, name="grade-watch-parent", daemon=True).start()


def _drop_privileges() -> None:
    """No capabilities, now or after an exec, and no way to gain any (no_new_privs).

    As root without a namespace this is what stops raw sockets, ``mknod``,
    and reading the grader's ``/proc/PID/environ`` (CAP_SYS_PTRACE passes Landlock).
    """
    libc = ctypes.CDLL(None, use_errno=True)
    for capability in range(64):
        if libc.prctl(_PR_CAPBSET_DROP, capability, 0, 0, 0) != 0 and ctypes.get_errno() == 22:
            break  # EINVAL: past the last capability this kernel knows
    header = (ctypes.c_uint32 * 2)(_CAPABILITY_VERSION_3, 0)
    data = (ctypes.c_uint32 * 6)()
    if libc.capset(header, data) != 0:
        raise OSError(ctypes.get_errno(), "capset failed")
    if libc.prctl(_PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0:
        raise OSError(ctypes.get_errno(), "prctl(NO_NEW_PRIVS) failed")


def _private_cache(config: dict) -> None:
    """Copy the trusted cache into this worker's own cache folder (numba skips one it cannot write)."""
    source, target = config.get("cache_source"), config.get("cache_dir")
    if target:
        if source and os.path.isdir(source):
            shutil.copytree(source, target, dirs_exist_ok=True)
        for sub in config.get("cache_subdirs", []):
            os.makedirs(os.path.join(target, sub), exist_ok=True)


def _set_limits(config: dict) -> str:
    """The rlimits this system has (``resource``: Linux, macOS); what they are, in a few words.

    On Linux each must hold (a refusal stops the worker: a grader problem); elsewhere
    one the kernel refuses is left out of what is said (macOS may refuse RLIMIT_DATA).
    """
    try:
        import resource
    except ImportError:
        return "no rlimits on this system"
    strict = sys.platform.startswith("linux")
    said = []
    wanted = [("core files 0", resource.RLIMIT_CORE, 0),
              ("memory {} MiB", resource.RLIMIT_DATA, config.get("memory_bytes")),
              ("files {} MiB", resource.RLIMIT_FSIZE, config.get("file_bytes")),
              ("tasks {}", getattr(resource, "RLIMIT_NPROC", None), config.get("max_tasks"))]
    for words, which, value in wanted:
        if which is None or value is None:
            continue
        try:
            resource.setrlimit(which, (value, value))
        except (ValueError, OSError):
            if strict:
                raise
            continue
        said.append(words.format(value >> 20 if "MiB" in words else value))
    return "rlimits: " + ", ".join(said)


def open_channel(config: dict) -> socket.socket:
    """The grader's channel: the descriptor it passed, or (``connect_port``) a localhost connection
    on which this worker first presents the secret it read on its standard input."""
    port = config.get("connect_port")
    if not port:
        return socket.socket(fileno=config["channel_fd"])
    token = sys.stdin.buffer.readline().strip()
    channel = socket.create_connection(("127.0.0.1", port), timeout=60)
    channel.settimeout(None)
    channel.sendall(token + b"\n")
    return channel


class Worker:
    """Serves requests on ``channel``: import the submission, call, release.

    Each request is taken in three steps, :meth:`begin`, :meth:`invoke` and
    :meth:`finish`, in one expression of :meth:`serve`'s loop.  ``begin`` works
    out the call to make (a probe that is a generator is run up to the call it
    yields) and keeps it for ``invoke``, which alone calls student code;
    ``finish`` resumes the probe, if any, with what the call returned or raised,
    and makes the reply.  What a request is for lives on ``serve``'s evaluation
    stack only, never in a frame's locals, so a student's function that looks up
    its stack (``sys._getframe``, ``inspect.stack``) sees the same frames, lines
    and local names whether a probe called it or the grader did.
    """

    def __init__(self, channel: socket.socket, config: dict, wire: Any, probes: Any) -> None:
        self.channel, self.config, self.wire, self.probes = channel, config, wire, probes
        self.module: Any = None
        self.objects: dict[int, Any] = {}
        self.next_id = 1
        self.serving = True
        self.next_call: tuple | None = None   # (function, args, kwargs) for invoke: set only between steps
        self.students_signals: set = set()    # the signal mask and collector the submission had set, restored
        self.students_collector = True        # for its calls (see _students_turn)
        self._graders_turn()

    def keep(self, value: Any) -> int:
        handle_id, self.next_id = self.next_id, self.next_id + 1
        self.objects[handle_id] = value
        return handle_id

    def resolve(self, handle_id: int, type_name: str = "") -> Any:
        if handle_id not in self.objects:
            raise LookupError(f"no object with handle {handle_id}")
        return self.objects[handle_id]

    def serve(self) -> None:
        while self.serving:
            self.send(*self.finish(self.begin(self.receive()), self.invoke()))

    def receive(self) -> dict:
        return self.wire.decode(self.wire.loads(self.wire.recv_frame(self.channel)), self.resolve, worker_side=True)

    def send(self, reply: dict | None, kept: Any = None) -> None:
        """Send ``reply``; ``kept`` (what the call returned or raised) is released only after it is sent."""
        if reply is None:   # exit: no reply
            return
        for stream in (sys.stdout, sys.stderr):
            try:
                stream.flush()
            except BaseException:
                pass
        self.wire.send_frame(self.channel, self.wire.dumps(reply))

    # ------------------------------------------------------------ the three steps
    def begin(self, request: dict) -> _Pending | None:
        """What ``request`` asks for; the student call it needs is left in ``next_call``."""
        pending = _Pending(time.perf_counter())
        self.next_call = None
        try:
            op = request["op"]
            if op == "exit":
                self.serving = False
                return None
            if op == "release":
                pending.outcome = (True, self.objects.pop(request["id"], None) is not None)
            elif op == "import":
                sys.path.insert(0, self.config["submission_dir"])
                self._will_call(importlib.import_module, [self.config["module"]], {})
                pending.imported = True
            elif op == "call":
                self._begin_call(request["target"], request["args"], request["kwargs"], pending)
            else:
                raise ValueError(f"unknown request {op!r}")
        except BaseException as exc:  # a probe's own preparation may meet the student's objects
            self.next_call, pending.outcome = None, (False, exc)
        return pending

    def invoke(self) -> tuple[bool, Any]:
        """Make the call ``begin`` left, if any: (True, what it returned) or (False, what it raised).
        The only place student code runs, and only on its turn."""
        call, self.next_call = self.next_call, None
        if call is None:
            return True, None
        function, args, kwargs = call
        self._students_turn()
        try:
            return True, function(*args, **kwargs)
        except BaseException as exc:  # student code may raise anything, SystemExit included
            return False, exc
        finally:
            self._graders_turn()

    def _graders_turn(self) -> None:
        """No student code runs from here to the next call: no trace or profile function (they would run
        at every line a probe runs), no signal handler, no garbage collection (no finalizer)."""
        _settrace(None)
        _setprofile(None)
        if _sigmask is not None:
            self.students_signals = _sigmask(_SIG_BLOCK, _EVERY_SIGNAL)
        self.students_collector = _gc_isenabled()
        _gc_disable()

    def _students_turn(self) -> None:
        """The signal mask and the collector as the submission left them, for its call."""
        if _sigmask is not None:
            _sigmask(_SIG_SETMASK, self.students_signals)
        if self.students_collector:
            _gc_enable()

    def finish(self, pending: _Pending | None, outcome: tuple[bool, Any]) -> tuple[dict | None, Any]:
        """The reply: the call's outcome, or what the probe observed once it resumed; and the outcome,
        to be kept alive until the reply is sent."""
        if pending is None:
            return None, outcome
        ok, value = pending.outcome or outcome
        if pending.probe is not None:
            ok, value = _resume(pending.probe, ok, value)
        if ok and pending.imported:
            self.module, value = value, {"module": self.config["module"]}
        seconds = time.perf_counter() - pending.started
        if ok:
            try:
                return self.wire.encode({"ok": True, "value": value, "seconds": seconds}, self.keep), outcome
            except BaseException as exc:
                ok, value = False, exc
        return self.wire.encode({"ok": False, "error": self.describe(value), "seconds": seconds}), outcome

    def _begin_call(self, target: tuple, args: list, kwargs: dict, pending: _Pending) -> None:
        kind, name = target[0], target[1]
        if kind == "module":
            if self.module is None:
                raise RuntimeError("the submission is not imported")
            self._will_call(getattr(self.module, name), args, kwargs)
        elif kind == "probe":
            probe = getattr(self.probes, name)
            if not _is_generator_function(probe):   # a probe that must stay on the stack (it drives the call)
                self._will_call(probe, [self.module, *args], kwargs)
                return
            pending.probe = probe(self.module, *args, **kwargs)
            try:
                function, call_args, call_kwargs = next(pending.probe)
            except StopIteration as stop:   # it observed without calling anything
                pending.probe, pending.outcome = None, (True, stop.value)
                return
            self._will_call(function, call_args, call_kwargs)
        elif kind == "object":
            self._will_call(self.resolve(name) if target[2] is None else getattr(self.resolve(name), target[2]),
                            args, kwargs)
        else:
            raise ValueError(f"unknown target {target!r}")

    def _will_call(self, function: Any, args: Any, kwargs: Any) -> None:
        self.next_call = (function, list(args), dict(kwargs))   # the same types, whoever asks

    def describe(self, exc: BaseException) -> dict:
        """Type, ancestry, message and the student's own lines, as plain strings (see wire.exception_info)."""
        return self.wire.exception_info(exc, self.config["submission_dir"])


class _Pending:
    """A request between its steps (kept on :meth:`Worker.serve`'s evaluation stack only)."""

    __slots__ = ("started", "outcome", "probe", "imported")

    def __init__(self, started: float) -> None:
        self.started = started
        self.outcome: tuple[bool, Any] | None = None   # known without a call
        self.probe: Any = None                         # a probe waiting for its call's outcome
        self.imported = False


def _resume(probe: Any, ok: bool, value: Any) -> tuple[bool, Any]:
    """Hand the call's outcome to the probe that asked for it; what it observed, or what it raised."""
    try:
        probe.send(value) if ok else probe.throw(value)
    except StopIteration as stop:
        return True, stop.value
    except BaseException as exc:
        return False, exc
    probe.close()
    return False, RuntimeError("a probe may make one call")


def _is_generator_function(function: Any) -> bool:
    code = getattr(function, "__code__", None)
    return code is not None and bool(code.co_flags & _CO_GENERATOR)


def confine(config: dict) -> str:
    """The steps the launcher asked for: tie to the grader, drop every privilege, apply Landlock;
    says what is enforced."""
    ties = config.get("ties", "prctl")
    if ties == "prctl":
        _stay_tied_to_the_grader(config)
    elif ties == "watch":
        _watch_the_grader(config)
    if config.get("drop_privileges", True):
        _drop_privileges()
    if config.get("landlock"):
        return _load("landlock").restrict(config["read_paths"], config["write_paths"])
    return "no Landlock"


def prepare(config: dict) -> tuple[Any, Any]:
    """Import the lab's libraries and run its warm-ups; the wire and probe modules.

    Runs no student code: a warm template (``zygote.py``) calls it once and
    forks a worker per submission from the result.
    """
    sys.path[:0] = config["library_paths"]
    sys.dont_write_bytecode = True
    for name in config["preload"]:
        importlib.import_module(name)
    for warm in sorted(HERE.glob("lab_warm_up_*.py")):  # the lab's warm-up, before any deadline
        _load(warm.stem).warm_up()
    wire, probes = _load("wire"), _load("probes")
    for extra in sorted(HERE.glob("lab_probes_*.py")):  # the lab's own probes (its suite's probes.py)
        vars(probes).update({k: v for k, v in vars(_load(extra.stem)).items() if not k.startswith("_")})
    return wire, probes


def serve_grader(config: dict, wire: Any, probes: Any, sandbox: str, channel: socket.socket | None = None) -> None:
    """Set the rlimits, say hello, serve the grader's requests (on ``channel``, else the configured one)."""
    channel = channel or open_channel(config)
    with startup_step("setting its limits"):
        limits = _set_limits(config)
        os.chdir(config["submission_dir"])
    wire.send_frame(channel, wire.dumps(wire.encode({"ok": True, "value": {"sandbox": f"{sandbox}; {limits}"}})))
    if not config.get("warm_up_only"):
        Worker(channel, config, wire, probes).serve()


class startup_step:
    """``with startup_step("doing x"):`` a failure inside is the grader's: one line, exit STARTUP_FAILED."""

    def __init__(self, doing: str) -> None:
        self.doing = doing

    def __enter__(self) -> None:
        return None

    def __exit__(self, kind: type | None, exc: BaseException | None, _: object) -> bool:
        if exc is not None:
            startup_failed(self.doing, exc)
        return False


def startup_failed(doing: str, exc: BaseException) -> None:
    """Say what failed before any student code ran, on one line of output, and exit."""
    message = " ".join(str(exc).split())[:400] or type(exc).__name__
    try:
        sys.stderr.write(f"grade worker: could not start: {doing}: {type(exc).__name__}: {message}\n")
        sys.stderr.flush()
    finally:
        os._exit(STARTUP_FAILED)


def main() -> None:
    config = json.loads(sys.argv[1])
    with startup_step("connecting to the grader"):
        channel = open_channel(config)
    with startup_step("confining itself"):
        sandbox = confine(config)
    with startup_step("copying the trusted cache"):
        _private_cache(config)  # only now: nothing earlier reads what a previous run could have written
    with startup_step("importing the lab's libraries"):
        wire, probes = prepare(config)
    serve_grader(config, wire, probes, sandbox, channel)
    os._exit(0)  # do not wait for threads the student left running


if __name__ == "__main__":
    main()
