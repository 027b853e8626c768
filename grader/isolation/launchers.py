"""How a worker process is started, confined and cleaned up.

:func:`launch_worker` is the single place a worker comes to life: a future
namespace sandbox (bubblewrap, ``unshare``) or a warm fork server wraps it.
The worker needs only the socket it is handed and the configuration below.
"""

from __future__ import annotations

import ctypes
import json
import os
import secrets
import signal
import site
import subprocess
import sys
import sysconfig
from dataclasses import dataclass, field
from pathlib import Path

WORKER_SCRIPT = Path(__file__).resolve().with_name("worker.py")
_PR_SET_CHILD_SUBREAPER = 36
_live_workers: set[int] = set()  # our own workers are never strays


@dataclass
class WorkerSpec:
    """Everything a worker needs, as plain data."""

    submission_dir: Path          # the scratch folder holding the copied submission
    module: str                   # module name to import from it
    preload: list[str] = field(default_factory=lambda: ["numpy", "torch"])
    readable: list[Path] = field(default_factory=list)   # extra read-only folders (fixtures)
    writable: list[Path] = field(default_factory=list)   # extra writable folders (caches)
    memory_bytes: int | None = 4 << 30
    file_bytes: int | None = 256 << 20
    max_processes: int | None = 64
    landlock: bool = True


def library_paths() -> list[str]:
    """Where third-party packages live: site-packages, without .pth extras."""
    paths = {sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"], *site.getsitepackages()}
    if site.ENABLE_USER_SITE:
        paths.add(site.getusersitepackages())
    return sorted(p for p in paths if os.path.isdir(p))


def system_read_paths() -> list[str]:
    """What Python, its libraries and the C runtime need to read.

    Not the grader's own folder: the worker loads its few files from there
    before it confines itself, and submissions have no business reading the
    suites (or anything else a checkout keeps there).
    """
    prefixes = {sys.prefix, sys.base_prefix, sys.exec_prefix, str(Path(sys.executable).resolve().parent.parent)}
    system = ["/usr", "/lib", "/lib64", "/lib32", "/bin", "/sbin", "/etc", "/proc", "/sys", "/opt", "/dev", "/run"]
    return sorted(prefixes | set(system) | set(library_paths()))


def gpu_devices() -> list[str]:
    """Device files CUDA opens read-write (and ioctls) from the worker."""
    return sorted(str(p) for p in Path("/dev").glob("nvidia*")) + (["/dev/dri"] if Path("/dev/dri").exists() else [])


def worker_command(spec: WorkerSpec, channel_fd: int) -> list[str]:
    config = {
        "channel_fd": channel_fd,
        "submission_dir": str(spec.submission_dir),
        "module": spec.module,
        "preload": spec.preload,
        "library_paths": library_paths(),
        "landlock": spec.landlock,
        "read_paths": system_read_paths() + [str(p) for p in spec.readable],
        "write_paths": [str(spec.submission_dir), "/dev/null", "/dev/shm", *gpu_devices()]
        + [str(p) for p in spec.writable],
        "memory_bytes": spec.memory_bytes,
        "file_bytes": spec.file_bytes,
        "max_processes": spec.max_processes,
    }
    # -u: -I ignores PYTHONUNBUFFERED, and what a submission printed before it
    # hung or crashed would die in the worker's buffer instead of reaching the report.
    return [sys.executable, "-I", "-S", "-u", str(WORKER_SCRIPT), json.dumps(config)]


def worker_environment(spec: WorkerSpec, token: str) -> dict[str, str]:
    """A scrubbed environment: nothing of the grader's, plus cache locations."""
    scratch = str(spec.submission_dir)
    env = {
        "PATH": "/usr/local/bin:/usr/bin:/bin",
        "HOME": scratch,
        "TMPDIR": scratch,
        "LANG": "C.UTF-8",
        "PYTHONHASHSEED": "0",
        "PYTHONDONTWRITEBYTECODE": "1",
        "PYTHONUNBUFFERED": "1",
        "MPLBACKEND": "Agg",
        "GRADE_WORKER_TOKEN": token,
        "OMP_NUM_THREADS": "1",  # the grader runs beside it: two busy pools thrash two cores
    }
    cache = cache_dir()
    env["NUMBA_CACHE_DIR"] = str(cache / "numba")
    env["MPLCONFIGDIR"] = str(cache / "matplotlib")
    for name in ("CUDA_VISIBLE_DEVICES", "OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE"):
        if name in os.environ:
            env[name] = os.environ[name]
    return env


def cache_dir() -> Path:
    """Compiled-code caches shared by all runs, so numba compiles once, not per run."""
    root = Path(os.environ.get("GRADE_CACHE_DIR") or Path.home() / ".cache" / "grade")
    for sub in ("numba", "matplotlib"):
        (root / sub).mkdir(parents=True, exist_ok=True)
    return root


def launch_worker(spec: WorkerSpec, channel_fd: int, output: int) -> tuple[subprocess.Popen, str]:
    """Start a worker in its own session; returns the process and its token."""
    become_subreaper()
    token = secrets.token_hex(16)
    spec.writable = [*spec.writable, cache_dir()]
    process = subprocess.Popen(
        worker_command(spec, channel_fd),
        stdin=subprocess.DEVNULL, stdout=output, stderr=subprocess.STDOUT,
        env=worker_environment(spec, token), cwd=spec.submission_dir,
        pass_fds=(channel_fd,), start_new_session=True, close_fds=True,
    )
    _live_workers.add(process.pid)
    return process, token


def become_subreaper() -> None:
    """Adopt orphans of our workers (Linux), so a detached child can be found and killed."""
    if sys.platform.startswith("linux"):
        ctypes.CDLL(None).prctl(_PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)


def kill_worker(process: subprocess.Popen, token: str) -> None:
    """Kill the worker, its process group, and anything that carries its token
    or was orphaned to us: forks and ``setsid`` children do not outlive it."""
    for target in (lambda: os.killpg(process.pid, signal.SIGKILL), process.kill):
        try:
            target()
        except (ProcessLookupError, PermissionError):
            pass
    process.wait()
    _live_workers.discard(process.pid)
    for _ in range(3):  # a stray may fork again while we look
        strays = _strays(token)
        if not strays:
            break
        for pid in strays:
            try:
                os.kill(pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
        _reap(strays)


def _strays(token: str) -> list[int]:
    me, found = os.getpid(), []
    marker = f"GRADE_WORKER_TOKEN={token}".encode()
    for entry in Path("/proc").iterdir() if Path("/proc").is_dir() else []:
        if not entry.name.isdigit() or int(entry.name) == me or int(entry.name) in _live_workers:
            continue
        try:
            status = (entry / "status").read_text()
            ppid = int(status.split("PPid:")[1].split()[0])
            if ppid == me or marker in (entry / "environ").read_bytes():
                if "State:\tZ" not in status:
                    found.append(int(entry.name))
                elif ppid == me:
                    _reap([int(entry.name)])
        except (OSError, IndexError, ValueError):
            continue
    return found


def _reap(pids: list[int]) -> None:
    for pid in pids:
        try:
            os.waitpid(pid, 0)
        except ChildProcessError:
            pass
