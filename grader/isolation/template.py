"""Workers forked from a warm template: the namespace sandbox without paying the imports per submission.

A :class:`TemplateLauncher` is a :class:`NamespaceLauncher` that keeps, per
kind of worker (the lab's preloads, warm-ups, probes, environment, cache), one
template process (``zygote.py``) in a bubblewrap sandbox of its own.  The
template imports the lab's libraries and runs its warm-ups once, runs no
student code, and forks one worker per submission; the worker makes its own
namespaces, private tmpfs, drops every capability, applies Landlock and the
rlimits before it reads the submission (see ``zygote.py`` for the steps).

What each guarantee rests on, per submission:

- nothing written survives: fresh tmpfs over ``/tmp``, ``/dev/shm``, the
  scratch and cache folders, mounted by the child in its own mount namespace;
  everything else is read-only (bubblewrap's view, locked in the child's
  less privileged namespace) and Landlock limits writes to those tmpfs;
- processes killed exactly: each submission is its own PID namespace, whose
  PID 1 the template kills and reaps on the grader's ``kill`` request; the
  kernel empties the namespace before ``waitpid`` returns; the template's
  sandbox dies with the grader (``--die-with-parent``);
- no network: a new, empty network namespace per submission (no loopback up);
- no capabilities, ``no_new_privs``, Landlock, rlimits: exactly ``worker.py``'s
  code, in the child, before the submission is read;
- no nested user namespaces: the child's user namespace allows none
  (``max_user_namespaces`` = 0, set from inside it, where the worker has no
  capability to change it back);
- tasks bounded: the template's sandbox is in a pids cgroup that holds one
  submission at a time (the next is forked only once the last is reaped).

Weaker than a fresh sandbox: ``/proc`` is the template sandbox's (it shows the
template and this submission's processes, under the template's PIDs; the
kernel refuses a fresh ``/proc`` below bubblewrap's), and every worker starts
with the template's memory layout (as Android's zygote).  Where the template
cannot work here (no bubblewrap, nested user namespaces refused), or for a
worker it cannot serve (a warm-up-only worker, files outside its exchange
folder), it starts the worker the ordinary way, and says so.
"""

from __future__ import annotations

import json
import os
import secrets
import select
import shutil
import socket
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Callable

from grader.isolation.launchers import IsolationError, WorkerHandle
from grader.isolation.namespaces import (CACHE, NAMESPACES, SCRATCH, WORKER, NamespaceLauncher, below,
                                         bwrap_filesystem)
from grader.isolation.processes import PidsCgroup
from grader.isolation.spec import INSIDE, WorkerSpec, python_roots, staged_files, worker_config, worker_environment

TEMPLATE_UID = 1000   # the template's uid inside its sandbox (mapped to ours): the kernel lets a child
                      # map its new namespace's root to it, which it refuses for a uid-0 template
START_TIMEOUT, REPLY_TIMEOUT = 300.0, 60.0


class TemplateError(Exception):
    """The template died or did not answer: a worker it forked may have run."""


class TemplateRefused(TemplateError):
    """The template answered that it could not do it (no worker ran)."""


class Template:
    """One template process in its sandbox, and the control socket to it."""

    def __init__(self, command: Callable[[int], list[str]], env: dict[str, str], log: Path,
                 cgroup: PidsCgroup | None, shell: str | None = None) -> None:
        """Start ``command(control_fd)`` (the sandboxed template) with ``env``, printing to ``log``
        (moved into ``cgroup`` first by ``shell``, the launcher's checked one)."""
        self.cgroup, self.log = cgroup, log
        self.control, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        argv = command(theirs.fileno())
        if cgroup is not None:
            argv = cgroup.enter(argv, shell or "/bin/sh")
        with open(log, "ab") as output:
            self.process = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=output, stderr=subprocess.STDOUT,
                                            env=env, cwd="/", pass_fds=(theirs.fileno(),), start_new_session=True)
        theirs.close()
        self.threads = 0

    def wait_ready(self, seconds: float = START_TIMEOUT) -> None:
        hello = self.receive(seconds, "starting")
        self.threads = hello.get("threads", 0)

    def request(self, message: dict, fds: tuple[int, ...] = (), seconds: float = REPLY_TIMEOUT) -> dict:
        try:
            socket.send_fds(self.control, [json.dumps(message).encode()], list(fds))
        except OSError as exc:
            raise TemplateError(f"the template is gone ({exc}); {self.last_words()}") from None
        return self.receive(seconds, message.get("op", "?"))

    def receive(self, seconds: float, doing: str) -> dict:
        readable, _, _ = select.select([self.control], [], [], seconds)
        if not readable:
            raise TemplateError(f"the template did not answer within {seconds:g} s while {doing}")
        data = self.control.recv(1 << 20)
        if not data:
            raise TemplateError(f"the template died while {doing}; {self.last_words()}")
        reply = json.loads(data)
        if not reply.get("ok"):
            raise TemplateRefused(str(reply.get("error", "refused")))
        return reply

    def last_words(self) -> str:
        try:
            text = self.log.read_text(errors="replace").strip().splitlines()
        except OSError:
            text = []
        return f"its last output: {text[-1][:300]}" if text else "it printed nothing"

    def alive(self) -> bool:
        return self.process.poll() is None

    def stop(self) -> None:
        """Kill the template's sandbox and everything in it (its PID namespace)."""
        try:
            os.killpg(self.process.pid, 9)
        except (ProcessLookupError, PermissionError):
            pass
        self.process.kill()
        self.process.wait()
        if self.cgroup is not None:
            self.cgroup.kill()
            self.cgroup.remove()
        self.control.close()


class TemplateHandle(WorkerHandle):
    """A worker forked by a template: its status arrives on a pipe, the template kills it."""

    def __init__(self, template: Template, pid: int, status_fd: int, launcher: "TemplateLauncher") -> None:
        self.template, self.pid, self.status_fd, self.launcher = template, pid, status_fd, launcher
        self.box, self.cgroup, self._code, self._killed = None, None, None, False

    @property
    def returncode(self) -> int | None:
        return self._code

    def poll(self) -> int | None:
        return self._read_status(0.0)

    def wait(self, timeout: float | None = None) -> int:
        code = self._read_status(timeout)
        if code is None:
            raise subprocess.TimeoutExpired(f"worker {self.pid}", timeout or 0)
        return code

    def _read_status(self, timeout: float | None) -> int | None:
        if self._code is not None or self.status_fd is None:
            return self._code
        readable, _, _ = select.select([self.status_fd], [], [], timeout)
        if readable:
            data = os.read(self.status_fd, 64)
            try:
                self._code = int(data.decode()) if data else -9   # no status: killed from outside
            except ValueError:
                self._code = -9
        return self._code

    def kill(self) -> None:
        """Ask the template to end this worker's namespace and wait until it is empty. Idempotent."""
        if not self._killed:
            self._killed = True
            try:
                self.template.request({"op": "kill", "pid": self.pid})
            except TemplateError:
                self.launcher._discard(self.template)   # killing its whole sandbox kills this worker too
            if self._code is None:
                self._read_status(0.0)
                self._code = -9 if self._code is None else self._code
            os.close(self.status_fd)
            self.status_fd = None
        self.launcher._forget(self)


class TemplateLauncher(NamespaceLauncher):
    """Namespace-sandboxed workers forked from warm templates (one per kind of worker).

    ``grade()`` puts its run folder in :meth:`run_folder`, which the templates
    see read-only: the submission and the clips it writes reach the worker there.
    """

    def __init__(self, **kwargs) -> None:
        super().__init__(tool="bwrap", **kwargs)
        self._templates: dict[tuple, Template] = {}
        self._failures: dict[tuple, str] = {}
        self.fallback_reason = ""   # why the last worker was started the ordinary way ("" if none was)
        self._template_probe: tuple[bool, str] | None = None

    # ------------------------------------------------------------ what it offers
    def template_available(self) -> bool:
        """Whether workers can be forked from a template here (probed once); else they start fresh."""
        if self._template_probe is None:
            self._template_probe = self._probe_template() if self.available() else (False, self.unavailable_reason())
        return self._template_probe[0]

    def template_unavailable_reason(self) -> str:
        self.template_available()
        return self._template_probe[1]

    def _probe_template(self) -> tuple[bool, str]:
        stage = Path(tempfile.mkdtemp(prefix="probe-", dir=self.folder()))
        shutil.copyfile(INSIDE / "zygote.py", stage / "zygote.py")
        under_tmp = [arg for root in python_roots() if below(root, ["/tmp"]) for arg in ("--ro-bind", root, root)]
        argv = _template_bwrap(self.bwrap, ["--ro-bind", "/", "/", "--proc", "/proc", "--bind", "/proc/sys/user",
                                            "/proc/sys/user", "--dev", "/dev", "--tmpfs", "/tmp", *under_tmp,
                                            "--ro-bind", str(stage), "/tmp/zygote"])
        try:
            done = subprocess.run([*argv, "--", sys.executable, "-I", "-S", "/tmp/zygote/zygote.py", "--probe"],
                                  capture_output=True, text=True, timeout=30)
        except (OSError, subprocess.TimeoutExpired) as exc:
            return False, f"the template probe failed ({exc})"
        finally:
            shutil.rmtree(stage, ignore_errors=True)
        answer = (done.stdout.strip() or done.stderr.strip() or "no answer").splitlines()[-1]
        if answer != "ok":
            return False, f"a worker cannot make its own namespaces inside the template's sandbox ({answer})"
        return True, ""

    def describe(self) -> str:
        if not self.template_available():
            return super().describe()
        return (f"namespaces ({self.version or 'bubblewrap'}, forked from a warm template: per submission its own "
                "user, pid, net, mount, ipc, uts namespaces, no user namespaces below, private /tmp, /dev/shm and "
                "scratch; no capabilities; /proc of the template's sandbox); " + self._task_bound())

    def run_folder(self) -> Path | None:
        """Where ``grade()`` makes its run folder (the templates see it read-only)."""
        folder = self.folder() / "runs"
        folder.mkdir(mode=0o700, exist_ok=True)
        return folder

    # ------------------------------------------------------------ workers
    def launch(self, spec: WorkerSpec, channel_fd: int, output: int) -> WorkerHandle:
        why = self._cannot_serve(spec)
        template = None
        if not why:
            try:
                template = self._template(spec)
            except (TemplateError, OSError, IsolationError) as exc:
                why = f"the template could not start: {exc}"
        if template is not None:
            try:
                return self._spawn(template, spec, channel_fd, output)
            except TemplateRefused as exc:   # nothing ran: a fresh worker may take its place
                why = f"the template could not fork a worker: {exc}"
            except TemplateError as exc:     # a worker may have written on the channel: no second one there
                self._discard(template)
                self._failures[template_key(spec)] = f"the template failed: {exc}"
                raise IsolationError(f"the worker template failed: {exc}") from None
        self.fallback_reason = why
        return super().launch(spec, channel_fd, output)

    def _cannot_serve(self, spec: WorkerSpec) -> str:
        if not self.template_available():
            return self.template_unavailable_reason()
        if spec.warm_up_only:
            return "a warm-up worker starts fresh"
        runs = str(self.run_folder()) + "/"
        outside = [p for p in [spec.submission_dir, *spec.readable] if not str(p).startswith(runs)]
        if outside:
            return f"{outside[0]} is outside the template's run folder"
        return self._failures.get(template_key(spec), "")

    def _spawn(self, template: Template, spec: WorkerSpec, channel_fd: int, output: int) -> TemplateHandle:
        view = self._view(spec, self.folder())
        status_read, status_write = os.pipe()
        try:
            reply = template.request({"op": "spawn", "config": worker_config(spec, view, -1),
                                      "mounts": child_mounts(spec)}, (channel_fd, output, status_write))
        except BaseException:
            os.close(status_read)
            raise
        finally:
            os.close(status_write)
        handle = TemplateHandle(template, int(reply["pid"]), status_read, self)
        self._handles.append(handle)
        return handle

    def _template(self, spec: WorkerSpec) -> Template:
        key = template_key(spec)
        template = self._templates.get(key)
        if template is not None and template.alive():
            return template
        if template is not None:
            self._discard(template)
        template = self._start(spec)
        try:
            template.wait_ready()
        except TemplateError as exc:
            template.stop()
            self._failures[key] = f"the template failed to start: {exc}"
            raise
        self._templates[key] = template
        return template

    def _start(self, spec: WorkerSpec) -> Template:
        stage = self.stage(spec)
        view = self._view(spec, self.folder())
        mounts = bwrap_filesystem(template_spec(spec, self.run_folder()), stage)
        mounts[mounts.index("--dev"):mounts.index("--dev")] = ["--bind", "/proc/sys/user", "/proc/sys/user"]

        def command(control_fd: int) -> list[str]:
            config = {**worker_config(spec, view, -1), "control_fd": control_fd}
            return [*_template_bwrap(self.bwrap, mounts), "--", sys.executable, "-I", "-S", "-u", f"{WORKER}/zygote.py",
                    json.dumps(config)]

        log = Path(tempfile.mkdtemp(prefix="template-", dir=self.folder())) / "template.log"
        limit = (spec.max_processes + 2) if spec.max_processes else None   # + the template and bubblewrap's init
        cgroup = PidsCgroup.create(self._pids_base, f"grade-template-{secrets.token_hex(6)}", limit) if limit else None
        return Template(command, worker_environment(view, spec), log, cgroup, self._shell)

    def _discard(self, template: Template) -> None:
        template.stop()
        for key, known in list(self._templates.items()):
            if known is template:
                del self._templates[key]

    # ------------------------------------------------------------ for tests and ``grade doctor``
    def template_for(self, spec: WorkerSpec) -> Template:
        """The running template that serves ``spec`` (started if need be)."""
        return self._template(spec)

    def close(self) -> None:
        """Its workers first (each template kills its own), then the templates, then the folder."""
        for handle in list(self._handles):
            handle.kill()
        for template in list(self._templates.values()):
            self._discard(template)
        super().close()


def _template_bwrap(bwrap: str, mounts: list[str]) -> list[str]:
    """bubblewrap (by its checked, absolute path) for a template: as a worker's, but a child may make
    one user namespace of its own (no ``--disable-userns``; the child forbids more itself) and
    ``/proc/sys/user`` is writable from such a namespace (its limits are that namespace's own)."""
    namespaces = [flag for flag in NAMESPACES if flag != "--disable-userns"]
    return [bwrap, *namespaces, "--uid", str(TEMPLATE_UID), "--gid", str(TEMPLATE_UID), "--die-with-parent",
            "--new-session", "--cap-drop", "ALL", "--hostname", "grade", *mounts, "--chdir", "/"]


def template_key(spec: WorkerSpec) -> tuple:
    """What a template is made of: two specs with the same key can share one."""
    return (staged_files(spec), tuple(spec.preload), tuple(sorted(spec.environment.items())),
            tuple(sorted(spec.cache_dirs.items())), str(spec.cache))


def template_spec(spec: WorkerSpec, runs: Path) -> WorkerSpec:
    """The spec bubblewrap builds the template's view from: the run folder read-only instead of
    one submission; its own small scratch."""
    from dataclasses import replace

    placeholder = runs.parent / "template-placeholder"
    placeholder.mkdir(exist_ok=True)
    (placeholder / spec.filename).touch()
    return replace(spec, submission_dir=placeholder, readable=[runs], scratch_bytes=1 << 20)


def child_mounts(spec: WorkerSpec) -> dict:
    """What the child mounts for itself: fresh tmpfs, and the submission file read-only."""
    tmpfs = [["/tmp", spec.tmp_bytes, "1777"], ["/dev/shm", spec.shm_bytes, "1777"],
             [SCRATCH, spec.scratch_bytes, "0755"]]
    if spec.cache:
        tmpfs.append([CACHE, spec.tmp_bytes, "0755"])
    keep = [[str(spec.submission_dir / spec.filename), f"{SCRATCH}/{spec.filename}"]]
    keep += [[str(path), str(path)] for path in spec.readable]
    keep += [[root, root] for root in python_roots() if below(root, [path for path, _, _ in tmpfs])]
    return {"tmpfs": tmpfs, "keep": keep}


__all__ = ["TemplateLauncher", "TemplateHandle", "Template", "TemplateError"]
