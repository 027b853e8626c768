"""What a worker is asked to be: the request (:class:`WorkerSpec`) and what it sees (:class:`View`).

The spec is written in the grader's terms (host paths, limits).  A launcher
turns it into a :class:`View`: the paths as the worker will see them inside
its sandbox, what Landlock lets it read and write there, and where its private
cache copy lives.  :func:`worker_config` and :func:`worker_environment` then
give the worker exactly that and nothing of the grader's.
"""

from __future__ import annotations

import json
import os
import site
import sys
import sysconfig
from dataclasses import dataclass, field
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent            # grader/isolation
GRADER = PACKAGE.parent                               # grader/
INSIDE = PACKAGE / "inside"                           # what runs in the sandbox: staged whole


def worker_files() -> list[Path]:
    """Every file that runs in the sandbox with the student's code: the ``inside`` folder, whole."""
    return sorted(p for p in INSIDE.glob("*.py") if p.name != "__init__.py")


@dataclass
class WorkerSpec:
    """Everything a worker needs, as plain data (host paths)."""

    submission_dir: Path          # the grader's copy of the submission (only ``module``.py is shown)
    module: str                   # module name to import from it
    preload: list[str] = field(default_factory=lambda: ["numpy", "torch"])
    readable: list[Path] = field(default_factory=list)   # extra read-only folders (fixtures), same path inside
    probes: list[Path] = field(default_factory=list)     # the lab's own probe files (its suite's probes.py)
    warm_up: list[Path] = field(default_factory=list)    # the lab's warm-up modules: warm_up() runs after preload
    environment: dict[str, str] = field(default_factory=dict)   # the lab's extra environment variables
    cache_dirs: dict[str, str] = field(default_factory=dict)    # VARIABLE -> its folder in the private cache
    cache: Path | None = None     # the trusted cache (read-only); each worker works on a private copy
    cache_build: Path | None = None   # a trusted warm-up's writable cache; only with warm_up_only
    warm_up_only: bool = False    # import, warm up, say hello, exit: runs no student code
    memory_bytes: int | None = 4 << 30
    file_bytes: int | None = 256 << 20
    max_processes: int | None = 64
    scratch_bytes: int = 256 << 20    # private tmpfs sizes, where the launcher makes tmpfs
    tmp_bytes: int = 256 << 20
    shm_bytes: int = 64 << 20

    @property
    def filename(self) -> str:
        return f"{self.module}.py"


@dataclass
class View:
    """The worker's side of the spec: paths as seen by the worker, and its Landlock rules."""

    scratch: str                  # its working folder (HOME, cwd); holds the submission
    worker_dir: str               # the private copy of worker.py and friends
    cache_dir: str | None         # where compiled code and font lists go: a private copy, or the build
    cache_source: str | None      # the trusted master it copies from (None: none, or warm-up)
    tmp: str                      # TMPDIR
    read: list[str]
    write: list[str]
    landlock: bool = True
    parent_pid: int | None = None     # die (PDEATHSIG) and check we still have this parent
    subreaper: bool = False           # adopt the student's orphans, so they can be found and killed
    max_tasks: int | None = None      # RLIMIT_NPROC, computed on the host (it counts the whole user)
    ties: str = "prctl"               # how it dies with the grader: "prctl" (PDEATHSIG), "watch" (a thread
                                      # that watches its parent), "" (the launcher does it from outside)
    drop_privileges: bool = True      # drop capabilities, set no_new_privs (Linux's prctl and capset)
    connect_port: int | None = None   # no inherited channel: connect to this localhost port instead


def library_paths() -> list[str]:
    """Where third-party packages live: site-packages, and the folders their ``.pth`` files name.

    The worker runs with ``-S`` (no ``site``), so it is given these as its path.  A ``.pth``
    folder counts (an environment layered over another one names the other's site-packages
    there), except one that holds the grader itself (an editable install's checkout, with the
    reference beside it): the worker never sees the grader.
    """
    sites = {sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"], *site.getsitepackages()}
    if site.ENABLE_USER_SITE:
        sites.add(site.getusersitepackages())
    sites = {p for p in sites if os.path.isdir(p)}
    named = {p for folder in sites for p in pth_folders(folder) if not _holds_grader(p)}
    return sorted(sites | named)


def pth_folders(site_dir: str) -> list[str]:
    """The existing folders that ``site_dir``'s ``.pth`` files add to the path, as ``site`` reads them
    (a line that starts with ``import`` is code, not a folder: skipped, never run)."""
    found = []
    for pth in sorted(Path(site_dir).glob("*.pth")):
        try:
            lines = pth.read_text(encoding="utf-8", errors="replace").splitlines()
        except OSError:
            continue
        for line in lines:
            line = line.rstrip()
            if not line or line.startswith("#") or line.startswith(("import ", "import\t")):
                continue
            folder = os.path.abspath(os.path.join(site_dir, line))
            if os.path.isdir(folder):
                found.append(folder)
    return found


def _holds_grader(folder: str) -> bool:
    grader = str(GRADER)
    return grader == folder or grader.startswith(folder.rstrip(os.sep) + os.sep)


def python_roots() -> list[str]:
    """The Python installation: prefixes (a venv and its base) and site-packages."""
    prefixes = {sys.prefix, sys.base_prefix, sys.exec_prefix, str(Path(sys.executable).resolve().parent.parent)}
    return _outermost(p for p in prefixes | set(library_paths()) if os.path.isdir(p))


def gpu_devices() -> list[str]:
    """Device files CUDA opens read-write (and ioctls) from the worker."""
    found = sorted(str(p) for p in Path("/dev").glob("nvidia*"))
    return found + (["/dev/dri"] if Path("/dev/dri").exists() else [])


def worker_config(spec: WorkerSpec, view: View, channel_fd: int) -> dict:
    """The worker's whole configuration (one JSON argument): paths as it sees them."""
    return {
        "channel_fd": channel_fd,
        "submission_dir": view.scratch,
        "module": spec.module,
        "preload": list(spec.preload),
        "cache_subdirs": sorted(set(spec.cache_dirs.values())),
        "library_paths": library_paths(),
        "landlock": view.landlock,
        "read_paths": view.read,
        "write_paths": view.write,
        "cache_dir": view.cache_dir,
        "cache_source": view.cache_source,
        "warm_up_only": spec.warm_up_only,
        "parent_pid": view.parent_pid,
        "subreaper": view.subreaper,
        "ties": view.ties,
        "drop_privileges": view.drop_privileges,
        "connect_port": view.connect_port,
        "memory_bytes": spec.memory_bytes,
        "file_bytes": spec.file_bytes,
        "max_tasks": view.max_tasks,
    }


def staged_files(spec: WorkerSpec) -> tuple[tuple[str, str], ...]:
    """(host file, name in the worker's folder): its own files, then the lab's probes and warm-ups,
    renamed so that no lab file can shadow one of the worker's."""
    files = [(str(p), p.name) for p in worker_files()]
    files += [(str(p), f"lab_probes_{i}.py") for i, p in enumerate(spec.probes)]
    files += [(str(p), f"lab_warm_up_{i}.py") for i, p in enumerate(spec.warm_up)]
    return tuple(files)


def worker_command(spec: WorkerSpec, view: View, channel_fd: int) -> list[str]:
    # -u: -I ignores PYTHONUNBUFFERED, and what a submission printed before it
    # hung or crashed would die in the worker's buffer instead of reaching the report.
    config = json.dumps(worker_config(spec, view, channel_fd))
    return [sys.executable, "-I", "-S", "-u", f"{view.worker_dir}/worker.py", config]


def worker_environment(view: View, spec: WorkerSpec) -> dict[str, str]:
    """A scrubbed environment: nothing of the grader's, the lab's own variables, its cache folders."""
    env = {**spec.environment,
        "PATH": "/usr/local/bin:/usr/bin:/bin",
        "HOME": view.scratch,
        "TMPDIR": view.tmp,
        "LANG": "C.UTF-8",
        "PYTHONHASHSEED": "0",
        "PYTHONDONTWRITEBYTECODE": "1",
        "PYTHONUNBUFFERED": "1",
        "OMP_NUM_THREADS": "1",  # the grader runs beside it: two busy pools thrash two cores
        # joblib (librosa imports it) runs serially, as told, instead of probing for a named semaphore,
        # which a sandbox without a shared /dev/shm refuses: it would warn under every check
        "JOBLIB_MULTIPROCESSING": "0",
    }
    if view.cache_dir:
        env.update({name: f"{view.cache_dir}/{sub}" for name, sub in spec.cache_dirs.items()})
    for name in ("CUDA_VISIBLE_DEVICES", "OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE"):
        if name in os.environ:
            env[name] = os.environ[name]
    return env


def tasks_of_user(uid: int) -> int:
    """Tasks (threads included) of ``uid`` on this host: RLIMIT_NPROC counts them all."""
    count = 0
    try:
        entries = list(os.scandir("/proc"))
    except OSError:
        return 0
    for entry in entries:
        if entry.name.isdigit():
            try:
                if entry.stat().st_uid == uid:
                    count += len(os.listdir(f"/proc/{entry.name}/task"))
            except OSError:
                pass
    return count


def nproc_allowance(spec: WorkerSpec) -> int | None:
    """RLIMIT_NPROC for a worker: what its user already runs plus its share.

    The kernel counts every task of the real user on the host (a user
    namespace does not change that), so the count is made here, outside any
    PID namespace.  Root is exempt from RLIMIT_NPROC (the kernel checks the
    real user, root even inside a user namespace): None, and the launcher
    bounds tasks with a pids cgroup where it can.
    """
    if spec.max_processes is None or not hasattr(os, "getuid") or os.getuid() == 0:
        return None
    return tasks_of_user(os.getuid()) + spec.max_processes


def _outermost(paths) -> list[str]:
    """Drop paths inside another one of the list."""
    kept: list[str] = []
    for path in sorted(set(paths), key=len):
        if not any(path == k or path.startswith(k.rstrip("/") + "/") for k in kept):
            kept.append(path)
    return sorted(kept)
