"""The warm template (zygote): imports the lab's libraries once, forks one sandbox per submission.

Started by :class:`grader.isolation.template.TemplateLauncher` as ``python -I
-S -u zygote.py CONFIG`` inside a bubblewrap sandbox of its own, loaded by path
like ``worker.py``.  It imports the preloads and runs the warm-ups
(:func:`worker.prepare`), checks it has exactly one thread, says ready, and
then serves requests on its control socket.  It never imports a submission
and never runs student code.

For each ``spawn`` it forks, and the child, before anything else, makes a
sandbox of its own inside the template's (the way bubblewrap does, in steps):

1. ``C`` enters a new user namespace (root there, with capabilities over it
   only), sets that namespace's ``max_user_namespaces`` to 0 (what
   bubblewrap's ``--disable-userns`` achieves), enters new mount, PID, IPC,
   UTS and network namespaces, mounts fresh size-bounded tmpfs over ``/tmp``,
   ``/dev/shm``, the scratch and cache folders, shows the submission file
   read-only, forks ``G`` and exits (``G`` is then the template's child);
2. ``G`` is PID 1 of the new PID namespace: it forks the worker ``W``, reaps
   orphans, and when ``W`` ends writes its exit status on the status pipe and
   exits, which ends every process of the namespace;
3. ``W`` drops every capability, sets ``no_new_privs``, applies Landlock and
   the rlimits exactly as ``worker.py`` does, and only then serves the grader
   (import the submission, calls) on the channel it was given.

Killing ``G`` (``kill`` request) ends the whole namespace: ``waitpid`` on it
returns only once the kernel has killed and reaped everything inside.
Standard library only (and what ``worker.py`` loads).
"""

from __future__ import annotations

import builtins
import ctypes
import importlib.util
import json
import os
import random
import signal
import socket
import sys
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
CLONE_NEWUSER, CLONE_NEWNS, CLONE_NEWPID = 0x10000000, 0x00020000, 0x20000000
CLONE_NEWIPC, CLONE_NEWUTS, CLONE_NEWNET = 0x08000000, 0x04000000, 0x40000000
MS_RDONLY, MS_NOSUID, MS_NODEV, MS_REMOUNT, MS_BIND, MS_REC, MS_PRIVATE = 1, 2, 4, 32, 4096, 16384, 1 << 18
_PR_SET_CHILD_SUBREAPER = 36
_SYS_OPEN_TREE, _SYS_MOVE_MOUNT = 428, 429   # x86-64 and arm64 alike (new syscalls share one table)
_OPEN_TREE_CLONE, _MOVE_MOUNT_F_EMPTY_PATH, _AT_FDCWD, _AT_RECURSIVE = 1, 4, -100, 0x8000
MAX_FDS = 8

_libc = ctypes.CDLL(None, use_errno=True)


def _load(name: str) -> Any:
    """A module of this folder by path, with a private copy of the built-ins (as worker.py loads them)."""
    spec = importlib.util.spec_from_file_location(f"_grade_{name}", HERE / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    module.__builtins__ = dict(vars(builtins))
    spec.loader.exec_module(module)
    return module


def _check(result: int, what: str) -> None:
    if result != 0:
        errno = ctypes.get_errno()
        raise OSError(errno, f"{what}: {os.strerror(errno)}")


def _write(path: str, text: str) -> None:
    fd = os.open(path, os.O_WRONLY)
    try:
        os.write(fd, text.encode())
    finally:
        os.close(fd)


def threads() -> int:
    return len(os.listdir("/proc/self/task"))


# ------------------------------------------------------------------ the child's own sandbox
def enter_namespaces() -> None:
    """Step 1: a user namespace where no further one can be made, then the others."""
    uid, gid = os.geteuid(), os.getegid()
    _check(_libc.unshare(CLONE_NEWUSER), "unshare(user)")
    _write("/proc/self/setgroups", "deny")
    _write("/proc/self/uid_map", f"0 {uid} 1")
    _write("/proc/self/gid_map", f"0 {gid} 1")
    _write("/proc/sys/user/max_user_namespaces", "0")   # ours, not the host's: the limit is per namespace
    _check(_libc.unshare(CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWIPC | CLONE_NEWUTS | CLONE_NEWNET),
           "unshare(mount, pid, ipc, uts, net)")
    name = b"grade"
    _check(_libc.sethostname(name, len(name)), "sethostname")


def _mount(source: str | None, target: str, fstype: str | None, flags: int, data: str | None = None) -> None:
    _check(_libc.mount(source and source.encode(), target.encode(), fstype and fstype.encode(), flags,
                       data and data.encode()), f"mount {target}")


def private_mounts(mounts: dict) -> None:
    """Fresh tmpfs over every place a worker may write; what it must read of the grader's
    (the submission file, the clips folder) kept, read-only, at the same place.

    What is kept is cloned first (``open_tree``): the tmpfs then hide the rest of the
    template's ``/tmp``, and the clones are moved onto the new, empty tmpfs.
    """
    _mount(None, "/", None, MS_REC | MS_PRIVATE)
    kept = [(_clone(source), target) for source, target in mounts["keep"]]
    for path, size, mode in mounts["tmpfs"]:
        _mount("tmpfs", path, "tmpfs", MS_NOSUID | MS_NODEV, f"size={int(size)},mode={mode}")
    for (fd, is_dir), target in kept:
        if is_dir:
            os.makedirs(target, exist_ok=True)
        else:
            os.makedirs(os.path.dirname(target), exist_ok=True)
            os.close(os.open(target, os.O_CREAT | os.O_WRONLY, 0o644))
        _check(_libc.syscall(_SYS_MOVE_MOUNT, fd, b"", _AT_FDCWD, target.encode(), _MOVE_MOUNT_F_EMPTY_PATH),
               f"move_mount {target}")
        os.close(fd)
        _mount(None, target, None, MS_BIND | MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV)


def _clone(path: str) -> tuple[int, bool]:
    """A detached copy of the mount at ``path`` (a bind of it, with the mounts below it: a Python
    environment kept under /tmp keeps the grader hidden inside it), to attach elsewhere later."""
    fd = _libc.syscall(_SYS_OPEN_TREE, _AT_FDCWD, path.encode(), _OPEN_TREE_CLONE | _AT_RECURSIVE | os.O_CLOEXEC)
    if fd < 0:
        errno = ctypes.get_errno()
        raise OSError(errno, f"open_tree {path}: {os.strerror(errno)}")
    return fd, os.path.isdir(path)


def run_init(worker_pid: int, status_fd: int) -> None:
    """Step 2 (``G``, PID 1): reap everything; when the worker ends, report its status and go."""
    while True:
        try:
            pid, status = os.wait()
        except ChildProcessError:
            os._exit(0)
        except InterruptedError:
            continue
        if pid == worker_pid:
            os.write(status_fd, f"{os.waitstatus_to_exitcode(status)}\n".encode())
            os._exit(0)  # PID 1 leaving ends every other process of the namespace


def run_worker(config: dict, worker: Any, wire: Any, probes: Any) -> None:
    """Step 3 (``W``): confine exactly as worker.py does, then serve the grader."""
    sys.argv[1:] = [json.dumps(config)]   # its own configuration, as a fresh worker's argument
    with worker.startup_step("confining itself"):
        sandbox = worker.confine(config)
    with worker.startup_step("copying the trusted cache"):
        worker._private_cache(config)
    _fresh_state()
    worker.serve_grader(config, wire, probes, sandbox)
    os._exit(0)


def _fresh_state() -> None:
    """What a fresh interpreter would have: its own random seeds, thread pools started here."""
    random.seed()
    numpy = sys.modules.get("numpy")
    if numpy is not None:
        numpy.random.seed(int.from_bytes(os.urandom(4), "little"))
    torch = sys.modules.get("torch")
    if torch is not None:
        torch.seed()
        torch.set_num_threads(max(1, int(os.environ.get("OMP_NUM_THREADS", "1") or 1)))


def spawn(request: dict, fds: list[int], loaded: tuple[Any, Any, Any], report: int) -> None:
    """The forked child ``C``: steps 1 to 3; writes ``pid N`` (G's PID) or an error on ``report``."""
    channel, output, status = fds
    try:
        enter_namespaces()
        private_mounts(request["mounts"])
        init = os.fork()
    except BaseException as exc:
        os.write(report, f"error {type(exc).__name__}: {exc}".encode()[:4000])
        os._exit(1)
    if init == 0:   # G
        try:
            os.close(report)   # the template reads it to its end: only C may hold it
            worker = os.fork()
            if worker == 0:   # W
                os.close(status)
                os.dup2(output, 1)
                os.dup2(output, 2)
                os.close(output)
                null = os.open("/dev/null", os.O_RDONLY)
                os.dup2(null, 0)
                os.close(null)
                run_worker({**request["config"], "channel_fd": channel}, *loaded)
            os.close(channel)
            os.close(output)
            run_init(worker, status)
        finally:
            os._exit(1)
    os.write(report, f"pid {init}".encode())
    os._exit(0)


# ------------------------------------------------------------------ the template
class Template:
    """Serves ``spawn``, ``kill``, ``threads`` and ``modules`` on the control socket."""

    def __init__(self, control: socket.socket, loaded: tuple[Any, Any, Any]) -> None:
        self.control, self.loaded = control, loaded   # worker.py, wire.py and probes.py, loaded
        self.children: set[int] = set()

    def send(self, message: dict) -> None:
        self.control.send(json.dumps(message).encode())

    def serve(self) -> None:
        while True:
            try:
                data, fds, _, _ = socket.recv_fds(self.control, 1 << 20, MAX_FDS)
            except InterruptedError:
                continue
            if not data:
                return   # the grader is gone
            try:
                self.send(self.handle(json.loads(data), fds))
            finally:
                for fd in fds:
                    os.close(fd)

    def handle(self, request: dict, fds: list[int]) -> dict:
        op = request.get("op")
        if op == "spawn":
            return self.spawn(request, fds)
        if op == "kill":
            return self.kill(int(request["pid"]))
        if op == "threads":
            return {"ok": True, "threads": threads()}
        if op == "modules":
            return {"ok": True, "modules": sorted(sys.modules)}
        return {"ok": False, "error": f"unknown request {op!r}"}

    def spawn(self, request: dict, fds: list[int]) -> dict:
        if len(fds) != 3:
            return {"ok": False, "error": f"spawn needs 3 descriptors, got {len(fds)}"}
        if threads() != 1:   # a fork would copy locks held by threads that do not exist in the child
            return {"ok": False, "error": f"the template has {threads()} threads; it forks only with one"}
        read, write = os.pipe()
        sys.stdout.flush()
        child = os.fork()
        if child == 0:
            try:
                os.close(read)
                self.control.close()
                spawn(request, fds, self.loaded, write)
            finally:
                os._exit(1)
        os.close(write)
        answer = b""
        while chunk := os.read(read, 4096):
            answer += chunk
        os.close(read)
        os.waitpid(child, 0)   # C has exited: G is now our child (we are a subreaper)
        text = answer.decode("utf-8", "replace")
        if not text.startswith("pid "):
            return {"ok": False, "error": text.removeprefix("error ") or "the child died while setting up"}
        pid = int(text.split()[1])
        self.children.add(pid)
        return {"ok": True, "pid": pid}

    def kill(self, pid: int) -> dict:
        """End one submission: SIGKILL its PID 1, and wait until the kernel has emptied its namespace."""
        if pid not in self.children:
            return {"ok": False, "error": f"{pid} is not a worker of this template"}
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        try:
            os.waitpid(pid, 0)
        except ChildProcessError:
            pass
        self.children.discard(pid)
        return {"ok": True}


def probe() -> None:
    """Can a child make its own sandbox here?  Prints ``ok`` or the reason, runs nothing else."""
    read, write = os.pipe()
    child = os.fork()
    if child == 0:
        try:
            enter_namespaces()
            _mount(None, "/", None, MS_REC | MS_PRIVATE)
            _mount("tmpfs", "/tmp", "tmpfs", MS_NOSUID | MS_NODEV, "size=65536")
            nested = _libc.unshare(CLONE_NEWUSER)
            os.write(write, b"ok" if nested != 0 else b"a nested user namespace could still be made")
        except BaseException as exc:
            os.write(write, f"{exc}".encode())
        os._exit(0)
    os.close(write)
    answer = os.read(read, 4096).decode()
    os.waitpid(child, 0)
    print(answer or "the probe died")


def main() -> None:
    if sys.argv[1] == "--probe":
        probe()
        return
    config = json.loads(sys.argv[1])
    _libc.prctl(_PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)   # inside our sandbox: G is adopted by us
    worker = _load("worker")
    worker._private_cache(config)   # the template's own copy (numba writes where it loads from)
    wire, probes = worker.prepare(config)
    control = socket.socket(fileno=config["control_fd"])
    ready = {"ok": True, "ready": True, "threads": threads()}
    if ready["threads"] != 1:
        ready = {"ok": False, "error": f"the template has {ready['threads']} threads after its imports"}
    control.send(json.dumps(ready).encode())
    if ready["ok"]:
        Template(control, (worker, wire, probes)).serve()
    os._exit(0)


if __name__ == "__main__":
    main()
