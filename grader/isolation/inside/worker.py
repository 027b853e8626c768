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

Every step before the hello is the grader's, not the student's: a step that
fails there prints one line (``grade worker: could not start: ...``) and exits
with :data:`STARTUP_FAILED`; the grader turns that into a grader problem.

Portable: the launcher says which steps this system has (``ties``,
``drop_privileges``, ``landlock``, ``connect_port``); Linux-only calls
(``prctl``, ``capset``) and the ``resource`` module are used only when asked for
or present, never at import.
"""

from __future__ import annotations

import ctypes
import importlib
import importlib.util
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

HERE = Path(__file__).resolve().parent
_PR_SET_PDEATHSIG, _PR_CAPBSET_DROP, _PR_SET_NO_NEW_PRIVS, _PR_SET_CHILD_SUBREAPER = 1, 24, 38, 36
_CAPABILITY_VERSION_3 = 0x20080522
STARTUP_FAILED = 3   # exit status of a worker that could not get as far as its hello
WATCH_SECONDS = 0.5  # how often a worker without PDEATHSIG looks for its parent


def _load(name: str) -> Any:
    spec = importlib.util.spec_from_file_location(f"_grade_{name}", HERE / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
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
    """Serves requests on ``channel``: import the submission, call, release."""

    def __init__(self, channel: socket.socket, config: dict, wire: Any, probes: Any) -> None:
        self.channel, self.config, self.wire, self.probes = channel, config, wire, probes
        self.module: Any = None
        self.objects: dict[int, Any] = {}
        self.next_id = 1

    def keep(self, value: Any) -> int:
        handle_id, self.next_id = self.next_id, self.next_id + 1
        self.objects[handle_id] = value
        return handle_id

    def resolve(self, handle_id: int, type_name: str = "") -> Any:
        if handle_id not in self.objects:
            raise LookupError(f"no object with handle {handle_id}")
        return self.objects[handle_id]

    def serve(self) -> None:
        while True:
            frame = self.wire.recv_frame(self.channel)
            request = self.wire.decode(self.wire.loads(frame), self.resolve, worker_side=True)
            if request["op"] == "exit":
                return
            reply = self.handle(request)
            for stream in (sys.stdout, sys.stderr):
                try:
                    stream.flush()
                except BaseException:
                    pass
            self.wire.send_frame(self.channel, self.wire.dumps(reply))

    def encode_reply(self, value: Any, started: float) -> Any:
        return self.wire.encode({"ok": True, "value": value,
                                 "seconds": time.perf_counter() - started}, self.keep)

    def handle(self, request: dict) -> dict:
        started = time.perf_counter()
        try:
            if request["op"] == "import":
                value = self.import_submission()
            elif request["op"] == "call":
                value = self.call(request["target"], request["args"], request["kwargs"])
            elif request["op"] == "release":
                value = self.objects.pop(request["id"], None) is not None
            else:
                raise ValueError(f"unknown request {request['op']!r}")
            return self.encode_reply(value, started)
        except BaseException as exc:  # student code may raise anything, SystemExit included
            reply = {"ok": False, "error": self.describe(exc), "seconds": time.perf_counter() - started}
            return self.wire.encode(reply)

    def import_submission(self) -> dict:
        sys.path.insert(0, self.config["submission_dir"])
        self.module = importlib.import_module(self.config["module"])
        return {"module": self.config["module"]}

    def call(self, target: tuple, args: list, kwargs: dict) -> Any:
        kind, name = target[0], target[1]
        if kind == "module":
            if self.module is None:
                raise RuntimeError("the submission is not imported")
            function = getattr(self.module, name)
        elif kind == "probe":
            function = getattr(self.probes, name)
            args = [self.module, *args]
        elif kind == "object":
            function = self.resolve(name) if target[2] is None else getattr(self.resolve(name), target[2])
        else:
            raise ValueError(f"unknown target {target!r}")
        return function(*args, **kwargs)

    def describe(self, exc: BaseException) -> dict:
        """Type, ancestry, message and the student's own lines, as plain strings (see wire.exception_info)."""
        return self.wire.exception_info(exc, self.config["submission_dir"])


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
