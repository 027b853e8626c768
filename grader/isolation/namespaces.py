"""The namespace sandbox: bubblewrap where installed, else util-linux ``unshare``.

Each worker gets new user, PID, network, mount, IPC, UTS and cgroup
namespaces, no capabilities and ``no_new_privs``.  With bubblewrap it sees a
filesystem built for it: the system and the Python installation read-only,
a few files of ``/etc``, a private ``/proc`` and a minimal ``/dev`` (plus the
GPU's device files), private size-bounded tmpfs for its scratch folder,
``/tmp``, ``/dev/shm`` and its cache copy, the trusted cache read-only, and
nothing of the grader (its own files are a private copy).  Landlock still
applies inside, as a second layer.  With ``unshare`` the namespaces are the
same but the files are the host's, limited by Landlock only.

The worker's PID namespace is its kill switch: ending the namespace's init
ends every process in it, whatever they did (``setsid``, double fork).  The
sandbox dies with the grader (``--die-with-parent`` / ``setpriv
--pdeathsig``): the kernel sends SIGKILL when the *thread* that started it
exits, so a worker must be started and stopped by the same thread, as
:func:`grader.grading.run.grade` does.  The network namespace has a loopback
interface (bubblewrap brings it up), reachable only from inside the sandbox.
"""

from __future__ import annotations

import json
import os
import select
import shutil
import signal
import subprocess
from pathlib import Path

from grader.isolation.launchers import Launcher, WorkerHandle, with_landlock
from grader.isolation.processes import children_of, wait_gone
from grader.isolation.spec import GRADER, View, WorkerSpec, gpu_devices, nproc_allowance, python_roots

SCRATCH, WORKER, CACHE, MASTER = "/grade/submission", "/grade/worker", "/grade/cache", "/grade/cache-master"
ETC = ("ld.so.cache", "ld.so.conf", "ld.so.conf.d", "alternatives", "localtime", "passwd", "group",
       "nsswitch.conf", "hosts")  # the dynamic linker, time zone and user names; not the rest of /etc
NAMESPACES = ["--unshare-user", "--unshare-pid", "--unshare-net", "--unshare-ipc", "--unshare-uts",
              "--unshare-cgroup-try", "--disable-userns"]
UNSHARE = ["--user", "--map-root-user", "--pid", "--fork", "--kill-child", "--mount", "--mount-proc",
           "--net", "--ipc", "--uts", "--cgroup"]


class NamespaceHandle(WorkerHandle):
    """A sandboxed worker: killing the PID namespace's init ends every process inside."""

    def __init__(self, *args, info_fd: int | None, signal_exit: bool) -> None:
        super().__init__(*args)
        self.info_fd, self.signal_exit = info_fd, signal_exit

    @property
    def returncode(self) -> int | None:
        return self._translate(self.process.returncode)

    def poll(self) -> int | None:
        return self._translate(self.process.poll())

    def wait(self, timeout: float | None = None) -> int:
        return self._translate(self.process.wait(timeout))

    def _translate(self, code: int | None) -> int | None:
        """bubblewrap exits with 128+N when its command died of signal N: report the signal."""
        if self.signal_exit and code is not None and code > 128:
            return -(code - 128)
        return code

    def _kill_processes(self) -> None:
        init = self._init_pid() if self.process.poll() is None else None
        if init is not None:
            try:
                os.kill(init, signal.SIGKILL)  # the kernel then kills everything in its namespace
            except (ProcessLookupError, PermissionError):
                pass
        try:
            self.process.kill()
        except ProcessLookupError:
            pass
        if init is not None:
            wait_gone(init)
        if self.info_fd is not None:
            os.close(self.info_fd)
            self.info_fd = None

    def _init_pid(self) -> int | None:
        """The host PID of the namespace's init: from bubblewrap's info, or unshare's one child."""
        if self.info_fd is None:
            children = children_of(self.process.pid)
            return children[0] if len(children) == 1 else None
        readable, _, _ = select.select([self.info_fd], [], [], 1.0)
        if not readable:
            return None
        try:
            return int(json.loads(os.read(self.info_fd, 65536))["child-pid"])
        except (OSError, ValueError, KeyError, TypeError):
            return None


class NamespaceLauncher(Launcher):
    """Workers in namespaces: bubblewrap where installed, else ``unshare``.

    Both are started by the absolute path the system found on the grader's PATH
    (:attr:`System.tools`), the one that was checked to work: a worker's own
    PATH is shorter, and a tool looked up there by name may not be found.
    """

    kind = "namespaces"

    def __init__(self, *, tool: str | None = None, **kwargs) -> None:
        super().__init__(**kwargs)
        self.tool = tool  # "bwrap" or "unshare"; None: the first that works
        self.version = ""

    @property
    def bwrap(self) -> str:
        return self.system.tool("bwrap") or "bwrap"

    def _probe(self) -> tuple[bool, str]:
        if not self.system.linux:
            return False, f"{self.system.name} has no Linux namespaces"
        reasons = []
        for tool in ([self.tool] if self.tool else ["bwrap", "unshare"]):
            ok, why = self._try(tool)
            if ok:
                self.tool = tool
                return True, ""
            reasons.append(why)
        return False, "; ".join(reasons)

    def _try(self, tool: str) -> tuple[bool, str]:
        true = shutil.which("true") or "/bin/true"
        tools = self.system.tools
        if tool == "bwrap":
            if "bwrap" not in tools:
                return False, "bubblewrap (bwrap) is not installed"
            argv = [tools["bwrap"], *NAMESPACES, "--cap-drop", "ALL", "--ro-bind", "/", "/", "--proc", "/proc",
                    "--dev", "/dev", "--", true]
        else:
            if not ("unshare" in tools and "setpriv" in tools):
                return False, "util-linux unshare/setpriv are not installed"
            argv = self._unshare([true])
        try:
            done = subprocess.run(argv, capture_output=True, text=True, timeout=10)
        except (OSError, subprocess.TimeoutExpired) as exc:
            return False, f"{tool}: {exc}"
        if done.returncode != 0:
            return False, f"{tool} cannot create namespaces here ({(done.stderr.strip() or '?').splitlines()[-1]})"
        if tool == "bwrap":
            version = subprocess.run([tools["bwrap"], "--version"], capture_output=True, text=True)
            self.version = version.stdout.strip()
        return True, ""

    def _unshare(self, command: list[str]) -> list[str]:
        tools = self.system.tools
        return [tools["setpriv"], "--pdeathsig", "KILL", "--", tools["unshare"], *UNSHARE, "--", *command]

    def describe(self) -> str:
        self.available()
        if self.tool == "bwrap":
            how = (f"{self.version or 'bubblewrap'}: user, pid, net, mount, ipc, uts, cgroup; no capabilities; "
                   "files: system and Python read-only, private /tmp, /dev/shm and scratch")
        else:
            how = "unshare: user, pid, net, mount, ipc, uts, cgroup; no capabilities; files: host's, by Landlock"
        return f"namespaces ({how}); {self._task_bound()}"

    # ------------------------------------------------------------ hooks
    def _view(self, spec: WorkerSpec, box: Path) -> View:
        if self.tool != "bwrap":  # unshare: the host's files, limited by Landlock as in landlock mode
            view = with_landlock(super()._view(spec, box), spec)
            view.parent_pid, view.subreaper = None, False  # its parent is outside the PID namespace
            return view
        cache_dir = CACHE if (spec.cache or (spec.warm_up_only and spec.cache_build)) else None
        readable = [str(p) for p in spec.readable]
        return View(
            scratch=SCRATCH, worker_dir=WORKER, cache_dir=cache_dir,
            cache_source=MASTER if spec.cache and not spec.warm_up_only else None, tmp="/tmp",
            read=["/usr", "/bin", "/sbin", "/lib", "/lib64", "/lib32", "/etc", "/proc", "/sys", "/dev",
                  *python_roots(), WORKER, MASTER, *readable],
            write=[SCRATCH, "/tmp", "/dev/shm", "/dev/null", *gpu_devices(), *([cache_dir] if cache_dir else [])],
            landlock=True, parent_pid=None, subreaper=False, max_tasks=nproc_allowance(spec))

    def _wrap(self, command: list[str], spec: WorkerSpec, box: Path) -> tuple[list[str], tuple[int, ...], int | None]:
        """bubblewrap writes its init's host PID to ``--info-fd``: the handle keeps the read end."""
        if self.tool != "bwrap":
            return self._unshare(command), (), None
        info_read, info_write = os.pipe()
        argv = [self.bwrap, *NAMESPACES, "--die-with-parent", "--new-session", "--cap-drop", "ALL",
                "--hostname", "grade", "--info-fd", str(info_write),
                *bwrap_filesystem(spec, self.stage(spec)), "--chdir", SCRATCH, "--", *command]
        return argv, (info_write,), info_read

    def _cwd(self, spec: WorkerSpec) -> str:
        return "/"

    def _handle(self, process: subprocess.Popen, box: Path, cgroup, kept: int | None,
                spec: WorkerSpec) -> WorkerHandle:
        return NamespaceHandle(process, box, cgroup, self, info_fd=kept, signal_exit=self.tool == "bwrap")


PRIVATE = ("/tmp", "/dev/shm")   # each worker gets a fresh tmpfs there, hiding what the host has


def bwrap_filesystem(spec: WorkerSpec, stage: Path) -> list[str]:
    """bubblewrap's mount arguments: the worker's whole view of the filesystem, in order
    (a later mount goes inside an earlier one: /tmp's tmpfs first, then clips below it, and a
    Python environment that lives under /tmp, as a venv a CI script makes there)."""
    roots = python_roots()
    hidden = [root for root in roots if below(root, PRIVATE)]
    return [*_system_mounts([r for r in roots if r not in hidden]), *_device_mounts(),
            *_private_mounts(spec, stage), *_python_mounts(hidden), "--remount-ro", "/"]


def below(path: str, folders) -> bool:
    """``path`` is one of ``folders`` or inside one."""
    return any(path == folder or path.startswith(folder.rstrip("/") + "/") for folder in folders)


def _system_mounts(roots: list[str]) -> list[str]:
    """The system, a few files of /etc and Python (``roots``), read-only; an installed grader hidden."""
    args = ["--ro-bind", "/usr", "/usr"]
    for top in ("/bin", "/sbin", "/lib", "/lib64", "/lib32"):
        if os.path.islink(top):
            args += ["--symlink", os.readlink(top), top]
        elif os.path.isdir(top):
            args += ["--ro-bind", top, top]
    for name in ETC:
        args += ["--ro-bind-try", f"/etc/{name}", f"/etc/{name}"]
    return args + _python_mounts([root for root in roots if not root.startswith("/usr/")], ["/usr"])


def _python_mounts(roots: list[str], also: list[str] = ()) -> list[str]:
    """Python's folders read-only, with the grader hidden where one of them (or ``also``) holds it."""
    args = []
    for root in roots:
        args += ["--ro-bind", root, root]
    if any(below(str(GRADER), [root]) and str(GRADER) != root for root in [*also, *roots]):
        args += ["--tmpfs", str(GRADER), "--remount-ro", str(GRADER)]  # suites and all labs' probes
    return args


def _device_mounts() -> list[str]:
    """Its own /proc, a minimal /dev, CPU topology; the GPU's device files where there is one."""
    args = ["--proc", "/proc", "--dev", "/dev", "--ro-bind-try", "/sys/devices/system/cpu", "/sys/devices/system/cpu"]
    devices = gpu_devices()
    for device in devices:
        args += ["--dev-bind", device, device]
    if devices:  # CUDA reads the PCI topology and driver state
        args += ["--ro-bind", "/sys", "/sys"]
    return args


def _private_mounts(spec: WorkerSpec, stage: Path) -> list[str]:
    """Size-bounded tmpfs that die with the sandbox, the submission and the worker's files
    read-only, the trusted cache read-only (or, for the warm-up only, the cache being built)."""
    args = _tmpfs("/tmp", spec.tmp_bytes) + _tmpfs("/dev/shm", spec.shm_bytes) + _tmpfs(SCRATCH, spec.scratch_bytes)
    args += ["--ro-bind", str(spec.submission_dir / spec.filename), f"{SCRATCH}/{spec.filename}"]
    args += ["--ro-bind", str(stage), WORKER]
    if spec.warm_up_only and spec.cache_build:
        args += ["--bind", str(spec.cache_build), CACHE]
    elif spec.cache:
        args += ["--ro-bind", str(spec.cache), MASTER] + _tmpfs(CACHE, spec.tmp_bytes)
    for path in spec.readable:
        args += ["--ro-bind", str(path), str(path)]
    return args


def mounts(args: list[str]) -> list[str]:
    """bubblewrap's mount arguments in words: "DEST (how)", for ``grade doctor``."""
    how = {"--ro-bind": "read-only", "--ro-bind-try": "read-only", "--bind": "writable", "--dev-bind": "device",
           "--tmpfs": "private tmpfs", "--proc": "private /proc", "--dev": "minimal /dev", "--symlink": "link"}
    takes = {"--size": 1, "--remount-ro": 1, "--proc": 1, "--dev": 1, "--tmpfs": 1}
    words, i = [], 0
    while i < len(args):
        flag = args[i]
        count = takes.get(flag, 2)
        if flag in how:
            words.append(f"{args[i + count]} ({how[flag]})")
        i += count + 1
    return words


def _tmpfs(path: str, size: int) -> list[str]:
    return ["--size", str(size), "--tmpfs", path]
