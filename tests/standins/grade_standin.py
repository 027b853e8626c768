"""A stand-in for macOS or Windows, applied to a Linux interpreter before anything else runs in it.

The stand-in's interpreter (``tests/standins/__init__.py`` writes it) is a
shell script that runs the real Python as ``python -I -S -c "...boot(kind)"
ARGS``; :func:`boot` reads ARGS as Python would (``-I``, ``-S``, ``-u``, ``-B``,
``-E``, ``-s``, ``-P``, ``-c``, ``-m``, a script), takes away what the system
it stands for lacks, makes itself ``sys.executable`` and runs the target.  A
worker is started as ``sys.executable -I -S ...``, so it goes through the
stand-in too: ``-I -S`` skip environment variables and ``sitecustomize``, not
this.

Whose view.  Both keep ``sys.platform == "linux"`` and ``os.name == "posix"``:
faking those sends the standard library and libraries down macOS or Windows
code paths that need the real system.  So what is taken away is taken from
*the project's code*: the grader (wherever it is installed), the worker's
files, the student's file, tests.  Code of the standard library and of
third-party libraries (site-packages) keeps the Linux names, because on the
real system it decides by ``sys.platform`` and takes its own way (torch calls
``os.register_at_fork``, platformdirs imports ``getuid``, psutil's Linux
backend reads ``/proc`` and sends signals, where on macOS and Windows psutil
uses sysctl and TerminateProcess).  The standard library counts as the
project when the project called it (``Path("/proc/...").read_text()`` from
the grader finds nothing): the caller is the first frame that is neither the
standard library nor this file.

What each takes away from the project's code:

- both: ``/proc`` is empty (``listdir`` gives nothing; opening or ``stat`` of
  anything below it: FileNotFoundError); ``bwrap``, ``unshare`` and
  ``setpriv`` are not installed (``shutil.which``);
- macOS: the C library has no ``prctl``, ``capset``, ``unshare``, ``mount``
  (nor ``umount2``, ``setns``, ``pivot_root``) and the Landlock syscalls fail
  with ENOSYS; ``resource``, ``fork`` and the signals stay;
- Windows: no ``resource``, ``fcntl``, ``termios``, ``pty``, ``tty`` modules;
  only Windows' signals (SIGABRT, SIGFPE, SIGILL, SIGINT, SIGSEGV, SIGTERM,
  SIGBREAK, CTRL_C_EVENT, CTRL_BREAK_EVENT; ``signal.Signals`` holds only
  those, for everyone); no ``os.fork``, ``killpg``, ``setsid``, ``getuid`` and
  the other POSIX process and user calls; ``ctypes.CDLL(None)`` refused
  (TypeError); ``Popen`` refuses ``pass_fds`` and ``preexec_fn`` as Windows'
  does, and its ``kill()`` needs no SIGKILL (Windows' terminates); no ``sh``;
  no ``socket.send_fds``/``recv_fds``.
"""

from __future__ import annotations

import builtins
import enum
import errno
import importlib.abc
import io
import os
import shutil
import sys
import sysconfig
import types

HIDDEN_TOOLS = {"macos": {"bwrap", "unshare", "setpriv"}, "windows": {"bwrap", "unshare", "setpriv", "sh"}}
MACOS_MISSING_CALLS = {"prctl", "capset", "unshare", "mount", "umount2", "setns", "pivot_root"}
LANDLOCK_SYSCALLS = {444, 445, 446}
WINDOWS_MODULES = {"resource", "fcntl", "termios", "pty", "tty"}
WINDOWS_SIGNALS = {"SIGABRT": 6, "SIGFPE": 8, "SIGILL": 4, "SIGINT": 2, "SIGSEGV": 11, "SIGTERM": 15,
                   "SIGBREAK": 21, "CTRL_C_EVENT": 0, "CTRL_BREAK_EVENT": 1}
SIGNAL_KEPT = {"SIG_DFL", "SIG_IGN", "NSIG", "Handlers", "Signals", "default_int_handler", "getsignal", "signal",
               "raise_signal", "set_wakeup_fd", "strsignal", "valid_signals"}
WINDOWS_OS_MISSING = {"fork", "forkpty", "killpg", "setsid", "getsid", "setpgid", "getpgid", "getpgrp", "setpgrp",
                      "getuid", "geteuid", "getgid", "getegid", "getgroups", "setuid", "seteuid", "setgid",
                      "setegid", "setreuid", "setregid", "getresuid", "getresgid", "register_at_fork", "wait3",
                      "wait4", "getloadavg", "nice", "sched_getaffinity", "sched_setaffinity"}
_STDLIB = tuple({os.path.join(os.path.normpath(sysconfig.get_paths()[key]), "")
                 for key in ("stdlib", "platstdlib")})
_LIBRARIES = ("site-packages", "dist-packages")


# ------------------------------------------------------------------ the interpreter's arguments
def parse(args: list[str]) -> tuple[dict, tuple[str, str], list[str]]:
    """Python's own options, the target (("code"|"module"|"script", text)) and its arguments."""
    flags = {"I": False, "S": False, "u": False, "B": False, "E": False, "s": False, "P": False}
    index = 0
    while index < len(args):
        word = args[index]
        if not word.startswith("-") or word == "-":
            return flags, ("script", word), args[index + 1:]
        for position, letter in enumerate(word[1:], start=1):
            if letter in "cm":
                value = word[position + 1:] or args[index + 1]
                rest = args[index + 1:] if word[position + 1:] else args[index + 2:]
                return flags, ("code" if letter == "c" else "module", value), rest
            if letter not in flags:
                raise SystemExit(f"grade stand-in: option -{letter} is not emulated")
            flags[letter] = True
        index += 1
    raise SystemExit("grade stand-in: no code, module or script to run")


def boot(kind: str, interpreter: str) -> None:
    """Start as Python would with ``sys.argv[1:]``, on a system that looks like ``kind``."""
    flags, (how, what), rest = parse(sys.argv[1:])
    if not flags["S"]:
        import site

        site.main()
    if not (flags["I"] or flags["E"]) and os.environ.get("PYTHONPATH"):
        sys.path[0:0] = os.environ["PYTHONPATH"].split(os.pathsep)
    if flags["u"]:
        for name, fd in (("stdout", 1), ("stderr", 2)):
            old = getattr(sys, name)
            setattr(sys, name, io.TextIOWrapper(io.FileIO(fd, "w", closefd=False), encoding=old.encoding,
                                                errors=old.errors, write_through=True))
    sys.dont_write_bytecode = sys.dont_write_bytecode or flags["B"]
    apply(kind)
    sys.executable = interpreter
    if not (flags["I"] or flags["P"]):
        sys.path.insert(0, {"code": "", "module": os.getcwd()}.get(how) or os.path.dirname(os.path.realpath(what)))
    import runpy

    if how == "code":
        sys.argv = ["-c", *rest]
        exec(compile(what, "<string>", "exec"), {"__name__": "__main__", "__builtins__": builtins})
    elif how == "module":
        sys.argv = ["-m", *rest]
        runpy._run_module_as_main(what, alter_argv=True)
    else:
        sys.argv = [what, *rest]
        runpy.run_path(what, run_name="__main__")


# ------------------------------------------------------------------ whose view
def by_project(start: int = 2) -> bool:
    """Whether the code asking (``start`` frames up, past the standard library and this file) is the
    project's (the grader, the worker, the student's file, tests), not a third-party library's."""
    frame = sys._getframe(start)
    grader = sys.modules.get("grader")
    grader_dir = os.path.join(os.path.dirname(grader.__file__), "") if getattr(grader, "__file__", None) else None
    while frame is not None:
        name = frame.f_code.co_filename
        if name.startswith("<frozen") or name == __file__:
            frame = frame.f_back
            continue
        if grader_dir and name.startswith(grader_dir):
            return True
        if any(part in name for part in _LIBRARIES):
            return False
        if name.startswith(_STDLIB):
            frame = frame.f_back
            continue
        return True
    return True


def hide_names(module: types.ModuleType, names: set[str]) -> None:
    """Take ``names`` out of ``module`` for the project's code; libraries still find them."""
    real = {name: module.__dict__.pop(name) for name in names if name in module.__dict__}
    previous = module.__dict__.get("__getattr__")

    def __getattr__(name: str):
        if name in real and not by_project():
            return real[name]
        if previous is not None:
            return previous(name)
        raise AttributeError(f"module {module.__name__!r} has no attribute {name!r}")

    module.__getattr__ = __getattr__


# ------------------------------------------------------------------ what each system lacks
def apply(kind: str) -> None:
    if kind not in HIDDEN_TOOLS:
        raise SystemExit(f"grade stand-in: unknown system {kind!r}")
    _hide_proc()
    _hide_tools(HIDDEN_TOOLS[kind])
    if kind == "macos":
        _macos_c_library()
    else:
        _windows_modules()
        _windows_signals()
        hide_names(os, WINDOWS_OS_MISSING)
        _windows_ctypes()
        _windows_subprocess()
        import socket

        hide_names(socket, {"send_fds", "recv_fds"})


def _where(path: object) -> str | None:
    """The normalised absolute path of ``path``; None for a descriptor."""
    if isinstance(path, int):
        return None
    try:
        text = os.fsdecode(os.fspath(path))
    except TypeError:
        return None
    return os.path.normpath(os.path.abspath(text)) if "proc" in text else None


def _hide_proc() -> None:
    """An empty /proc: nothing below it can be listed, opened or looked at by the project."""
    real_open, real_os_open = builtins.open, os.open
    real_listdir, real_scandir, real_stat, real_lstat = os.listdir, os.scandir, os.stat, os.lstat

    def guarded(real, empty=None):
        def call(path=".", *args, **kwargs):
            where = _where(path)
            if where is not None and (where == "/proc" or where.startswith("/proc/")) and by_project():
                if where == "/proc" and empty is not None:
                    return empty()
                if where != "/proc":
                    raise FileNotFoundError(errno.ENOENT, "No such file or directory (no /proc here)", str(path))
            return real(path, *args, **kwargs)
        return call

    builtins.open = io.open = guarded(real_open)
    os.open = guarded(real_os_open)
    os.listdir = guarded(real_listdir, lambda: [])
    os.scandir = guarded(real_scandir, lambda: real_scandir(_empty_folder()))
    os.stat = guarded(real_stat)
    os.lstat = guarded(real_lstat)


_EMPTY: list[str] = []


def _empty_folder() -> str:
    if not _EMPTY:
        import tempfile

        _EMPTY.append(tempfile.mkdtemp(prefix="grade-standin-empty-"))
    return _EMPTY[0]


def _hide_tools(names: set[str]) -> None:
    real_which = shutil.which

    def which(cmd, mode=os.F_OK | os.X_OK, path=None):
        if os.path.basename(os.fspath(cmd)) in names and by_project():
            return None
        return real_which(cmd, mode, path)

    shutil.which = which


def _macos_c_library() -> None:
    """The C library as macOS's: no Linux-only calls, no Landlock."""
    import ctypes

    class MacLibrary(ctypes.CDLL):
        def __init__(self, name, *args, **kwargs):
            super().__init__(name, *args, **kwargs)
            self._libc = name is None or "libc." in os.path.basename(str(name))

        def __getattr__(self, name):
            libc = self.__dict__.get("_libc", False)
            if libc and name in MACOS_MISSING_CALLS and by_project():
                raise AttributeError(f"dlsym(RTLD_DEFAULT, {name}): symbol not found")
            found = super().__getattr__(name)
            if libc and name in MACOS_MISSING_CALLS | {"syscall"}:
                self.__dict__.pop(name, None)   # looked up again each time: the caller decides
            return _without_landlock(found) if libc and name == "syscall" else found

    ctypes.CDLL = MacLibrary
    ctypes.cdll = ctypes.LibraryLoader(MacLibrary)


def _without_landlock(syscall):
    import ctypes

    def call(number, *args):
        if int(getattr(number, "value", number)) in LANDLOCK_SYSCALLS and by_project():
            ctypes.set_errno(errno.ENOSYS)
            return -1
        return syscall(number, *args)

    return call


class _Refuse(importlib.abc.MetaPathFinder):
    """Windows' missing modules, for an import by the project that goes through the import system."""

    def find_spec(self, name, path=None, target=None):
        if name.partition(".")[0] in WINDOWS_MODULES and by_project():
            raise ModuleNotFoundError(f"No module named '{name}'", name=name)
        return None


def _windows_modules() -> None:
    real_import = builtins.__import__

    def __import__(name, globals=None, locals=None, fromlist=(), level=0):
        if level == 0 and name.partition(".")[0] in WINDOWS_MODULES and by_project():
            raise ModuleNotFoundError(f"No module named '{name}'", name=name)
        return real_import(name, globals, locals, fromlist, level)

    builtins.__import__ = __import__
    sys.meta_path.insert(0, _Refuse())


def _windows_signals() -> None:
    import signal

    hide_names(signal, {name for name in vars(signal) if not name.startswith("_") and name not in SIGNAL_KEPT
                        and name not in WINDOWS_SIGNALS})
    signal.Signals = enum.IntEnum("Signals", WINDOWS_SIGNALS, module="signal")
    for name in WINDOWS_SIGNALS:
        setattr(signal, name, signal.Signals[name])


def _windows_ctypes() -> None:
    import ctypes

    real_init = ctypes.CDLL.__init__

    def init(self, name, *args, **kwargs):
        if name is None and by_project():
            raise TypeError("LoadLibrary() argument 1 must be str, not None")
        real_init(self, name, *args, **kwargs)

    ctypes.CDLL.__init__ = init


def _windows_subprocess() -> None:
    import inspect
    import subprocess

    real_init = subprocess.Popen.__init__
    signature = inspect.signature(real_init)

    def init(self, *args, **kwargs):
        bound = signature.bind(self, *args, **kwargs).arguments
        if by_project():
            if bound.get("preexec_fn") is not None:
                raise ValueError("preexec_fn is not supported on Windows platforms")
            if bound.get("pass_fds"):
                raise AssertionError("pass_fds not supported on Windows.")
        real_init(self, *args, **kwargs)

    subprocess.Popen.__init__ = init
    subprocess.Popen.kill = lambda self: self.send_signal(9)   # Windows': TerminateProcess, no SIGKILL needed
