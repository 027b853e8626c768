"""The worker: the only process that runs student code.

Started by :func:`grader.sandbox.launch_worker` as ``python -I -S worker.py
CONFIG`` with one end of a socket pair.  It needs nothing else from the
grader: it loads ``wire.py``, ``probes.py`` and ``landlock.py`` by path (the
``grader`` package, the reference and the suites are not importable here),
limits itself (rlimits, Landlock), then answers requests until told to stop.
Everything it sends back is data; anything else stays here behind a handle.
"""

from __future__ import annotations

import importlib
import importlib.util
import json
import linecache
import os
import resource
import socket
import sys
import time
import traceback
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent


def _load(name: str) -> Any:
    spec = importlib.util.spec_from_file_location(f"_grade_{name}", HERE / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _warm_librosa() -> None:
    """Run librosa's numba-compiled paths once, before any deadline applies.

    The first run after an install compiles them (over 10 s here); numba then
    caches the machine code in NUMBA_CACHE_DIR, and later warm-ups only load it.
    """
    import io

    import numpy as np
    import librosa
    import soundfile

    signal = np.sin(np.arange(8192, dtype=np.float32) / 7.0)
    wav = io.BytesIO()
    soundfile.write(wav, signal, 44100, format="WAV")
    wav.seek(0)
    audio, _ = librosa.load(wav, sr=22050)
    librosa.istft(librosa.stft(audio, n_fft=512, hop_length=128), hop_length=128)
    librosa.feature.melspectrogram(y=audio, sr=22050, n_fft=512, hop_length=128)


def _set_limits(config: dict) -> None:
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    limits = {"memory_bytes": resource.RLIMIT_DATA, "file_bytes": resource.RLIMIT_FSIZE}
    for key, which in limits.items():
        if config.get(key):
            resource.setrlimit(which, (config[key], config[key]))
    if config.get("max_processes"):
        allowed = _tasks_of_this_user() + config["max_processes"]
        resource.setrlimit(resource.RLIMIT_NPROC, (allowed, allowed))


def _tasks_of_this_user() -> int:
    count, uid = 0, os.getuid()
    for entry in os.scandir("/proc"):
        if entry.name.isdigit():
            try:
                if entry.stat().st_uid == uid:
                    count += len(os.listdir(f"/proc/{entry.name}/task"))
            except OSError:
                pass
    return count


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
        """Type, message and the student's own line, as plain strings."""
        kind = type(exc)
        try:
            message = str(exc)[:2000]
        except BaseException:
            message = "<unprintable message>"
        if isinstance(exc, SystemExit):
            message = f"called sys.exit({exc.code!r})"
        where = ""
        if isinstance(exc, SyntaxError) and exc.filename:
            where = f"{Path(exc.filename).name} line {exc.lineno}"
            message = f"{exc.msg}: {(exc.text or '').strip()}"
        # the student's own frames, each named by its qualified name (UNet.forward, not forward)
        frames = [(f.f_code, line) for f, line in traceback.walk_tb(exc.__traceback__)
                  if f.f_code.co_filename.startswith(self.config["submission_dir"])][-5:]
        named = [(Path(code.co_filename).name, line, getattr(code, "co_qualname", code.co_name),
                  linecache.getline(code.co_filename, line).strip()) for code, line in frames]
        if named and not where:
            where = f"{named[-1][0]} line {named[-1][1]}, in {named[-1][2]}"
        return {
            "type": kind.__name__,
            "mro": [c.__name__ for c in kind.__mro__],
            "message": message,
            "where": where,
            "lines": [f"{file}:{line} {name}: {text}" for file, line, name, text in named],
        }


def main() -> None:
    config = json.loads(sys.argv[1])
    sys.path[:0] = config["library_paths"]
    sys.dont_write_bytecode = True
    for name in config["preload"]:
        importlib.import_module(name)
    if "librosa" in config["preload"]:
        _warm_librosa()
    wire, probes = _load("wire"), _load("probes")
    for extra in sorted(HERE.glob("probes_*.py")):  # a lab's own probes, e.g. probes_lab5.py
        vars(probes).update({k: v for k, v in vars(_load(extra.stem)).items() if not k.startswith("_")})
    channel = socket.socket(fileno=config["channel_fd"])
    sandbox = "none"
    if config.get("landlock"):
        sandbox = _load("landlock").restrict(config["read_paths"], config["write_paths"])
    _set_limits(config)
    os.chdir(config["submission_dir"])
    wire.send_frame(channel, wire.dumps(wire.encode({"ok": True, "value": {"sandbox": sandbox}})))
    Worker(channel, config, wire, probes).serve()
    os._exit(0)  # do not wait for threads the student left running


if __name__ == "__main__":
    main()
