"""The trusted cache: what the labs' libraries compile or index once (compiled code, font lists).

Filling it takes over 10 s, so it is done once per installation, by a warm-up
worker that imports the libraries and runs no student code, and published
under a name keyed on the versions that make it valid.  Student workers only
ever get it read-only and work on a private copy: nothing one submission
writes there reaches another.  (Before, every worker wrote one shared cache,
and a submission that rewrote numba's index ran its code in the next worker,
before its confinement.)
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import json
import os
import re
import shutil
import socket
import struct
import sys
import tempfile
import time
from dataclasses import dataclass, field
from typing import Callable
from importlib import metadata
from pathlib import Path

from grader.isolation.launchers import IsolationError
from grader.isolation.spec import INSIDE, WorkerSpec

STAMP = "stamp.json"
# numba compiles every signature librosa declares eagerly, used or not (its peak pickers, zero crossings,
# pitch tracking: three quarters of the warm-up), and LLVM's optimisations are most of that time: without
# them warming takes half as long; the code is the same (no fast-math either way), and the few functions
# the labs do call (istft's overlap-add) run in 50 ms instead of 30 ms on a 30 s clip.
WARM_ENVIRONMENT = {"NUMBA_OPT": "0"}


@dataclass(frozen=True)
class WarmUp:
    """What the trusted warm-up worker does: every lab's preloads and warm-up modules, once."""

    preload: tuple[str, ...] = ()
    files: tuple[Path, ...] = ()
    environment: dict[str, str] = field(default_factory=dict, hash=False)
    cache_dirs: dict[str, str] = field(default_factory=dict, hash=False)

    @classmethod
    def of(cls, labs) -> "WarmUp":
        """The union over ``labs`` (grader.course.labs.Lab): the cache is one per course, not per lab."""
        preload, files, environment, cache_dirs = [], [], {}, {}
        for lab in labs:
            preload += [m for m in lab.preload if m not in preload]
            files += [f for f in lab.warm_up if f not in files]
            environment.update(lab.environment)
            cache_dirs.update(lab.cache)
        return cls(tuple(preload), tuple(files), environment, cache_dirs)


def cache_root() -> Path:
    return Path(os.environ.get("GRADE_CACHE_DIR") or Path.home() / ".cache" / "grade")


def versions(warm: WarmUp = WarmUp()) -> dict[str, str]:
    """What the cache's content depends on: Python, the preloaded libraries (and what they
    require directly), the worker and the warm-up code."""
    code = hashlib.sha256((INSIDE / "worker.py").read_bytes())
    for path in warm.files:
        code.update(path.read_bytes())
    found = {"python": sys.version, "executable": sys.executable, "warm-up": code.hexdigest()[:16],
             "preload": ",".join(sorted(warm.preload)), "cache": json.dumps(warm.cache_dirs, sort_keys=True)}
    found.update(library_versions(tuple(sorted({m.split(".")[0] for m in warm.preload}))))
    return found


@functools.lru_cache(maxsize=None)
def library_versions(names: tuple[str, ...]) -> dict[str, str]:
    """The installed versions of ``names`` (distributions) and of what they require directly."""
    found: dict[str, str] = {}
    for name in names:
        try:
            found[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            found[name] = "absent"
            continue
        for requirement in metadata.requires(name) or []:
            if "extra ==" not in requirement:
                dependency = re.match(r"[A-Za-z0-9_.-]+", requirement).group(0)
                with contextlib.suppress(metadata.PackageNotFoundError):
                    found[dependency.lower()] = metadata.version(dependency)
    return found


@dataclass
class TrustedCache:
    """One installation's cache folder: ``warm-<key>/`` once published, never written after."""

    root: Path
    plan: WarmUp = WarmUp()

    @classmethod
    def default(cls, warm: WarmUp = WarmUp()) -> "TrustedCache":
        return cls(cache_root(), warm)

    @property
    def key(self) -> str:
        return hashlib.sha256(json.dumps(versions(self.plan), sort_keys=True).encode()).hexdigest()[:16]

    @property
    def master(self) -> Path:
        return self.root / f"warm-{self.key}"

    def ready(self) -> bool:
        return (self.master / STAMP).is_file()

    def describe(self) -> str:
        if self.ready():
            size = sum(f.stat().st_size for f in self.master.rglob("*") if f.is_file())
            return f"warmed, read-only for workers: {self.master} ({size / 2**20:.1f} MiB)"
        return f"not warmed yet (the first grading run fills {self.master})"

    def ensure(self, launcher, timeout: float = 300.0, say: Callable[[str], None] | None = None) -> Path | None:
        """The published cache, warming it first when needed; None when warming failed
        (workers then start with an empty private cache: slower, still correct).  ``say`` is told,
        in a line each, what warming does and how long it usually takes, and then how long it took."""
        if not self.ready():
            started = time.monotonic()
            if say is not None:
                say(f"preparing this installation, once: compiling what the labs' libraries cache "
                    f"({', '.join(sorted(set(self.plan.cache_dirs.values()))) or 'nothing'}) into {self.root}; "
                    f"{self.usually()}")
            try:
                self.warm(launcher, timeout)
            except (OSError, RuntimeError) as exc:
                if say is not None:
                    say(f"could not prepare it ({exc}); grading goes on, each run slower")
                return None
            if say is not None:
                say(f"prepared in {time.monotonic() - started:.0f} s; later runs start at once")
        return self.master

    def usually(self) -> str:
        """How long warming took the last time here (another version's cache), or what it usually takes."""
        seconds = []
        for stamp in self.root.glob(f"warm-*/{STAMP}"):
            with contextlib.suppress(OSError, ValueError, TypeError, AttributeError):
                seconds.append((stamp.stat().st_mtime, float(json.loads(stamp.read_text()).get("seconds"))))
        if seconds:
            return f"it took {max(seconds)[1]:.0f} s the last time here"
        return "this usually takes 15 to 60 s"

    def warm(self, launcher, timeout: float) -> None:
        """Fill a fresh folder with a trusted warm-up worker, then publish it atomically."""
        self.root.mkdir(parents=True, exist_ok=True)
        building = Path(tempfile.mkdtemp(prefix=".building-", dir=self.root))
        try:
            for sub in set(self.plan.cache_dirs.values()):
                (building / sub).mkdir()
            with tempfile.TemporaryDirectory(prefix="grade-warm-") as empty:
                (Path(empty) / "warm_up.py").write_text("")
                preload = [m for m in self.plan.preload if _installed(m)]
                spec = WorkerSpec(Path(empty), "warm_up", preload=preload, cache_build=building,
                                  warm_up_only=True, warm_up=list(self.plan.files),
                                  environment={**self.plan.environment, **WARM_ENVIRONMENT},
                                  cache_dirs=dict(self.plan.cache_dirs))
                started = time.monotonic()
                hello_without_submission(launcher, spec, timeout)
            (building / STAMP).write_text(json.dumps({"versions": versions(self.plan), "made": time.time(),
                                                      "seconds": round(time.monotonic() - started, 1)}, indent=1))
            building.chmod(0o755)
            try:
                os.rename(building, self.master)  # another run may have published first: keep theirs
            except OSError:
                pass
        finally:
            shutil.rmtree(building, ignore_errors=True)


def hello_without_submission(launcher, spec: WorkerSpec, timeout: float) -> bytes:
    """Start a worker that imports and warms up only, wait for its hello, and return that frame
    undecoded (:func:`grader.isolation.doctor.run_without_submission` reads it; warming needs no
    torch in the grader).  RuntimeError when it does not say hello in time."""
    with tempfile.TemporaryFile() as output:
        try:
            handle, ours = launcher.start(spec, output.fileno())
        except (OSError, IsolationError) as exc:
            raise RuntimeError(f"the worker could not start ({exc})") from None
        try:
            hello = _receive_frame(ours, time.monotonic() + timeout)
            handle.wait(timeout=timeout)
        except Exception as exc:
            output.seek(0)
            tail = output.read()[-400:].decode("utf-8", "replace").strip()
            raise RuntimeError(f"the warm-up worker failed ({exc}): {tail}") from None
        finally:
            handle.kill()
            ours.close()
    return hello


def _receive_frame(sock: socket.socket, deadline: float, limit: int = 1 << 20) -> bytes:
    """One frame as grader/isolation/inside/wire.py frames them (an 8-byte size, then the bytes)."""
    def exactly(n: int) -> bytes:
        data = b""
        while len(data) < n:
            sock.settimeout(max(deadline - time.monotonic(), 0.001))
            chunk = sock.recv(n - len(data))
            if not chunk:
                raise EOFError("channel closed")
            data += chunk
        return data
    (size,) = struct.unpack("!Q", exactly(8))
    if size > limit:
        raise ValueError(f"a hello of {size} bytes")
    return exactly(size)


def _installed(module: str) -> bool:
    from importlib.util import find_spec

    try:
        return find_spec(module.split(".")[0]) is not None
    except (ImportError, ValueError):
        return False
