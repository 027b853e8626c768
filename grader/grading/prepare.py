"""Everything a grading run needs before its first check, without torch: the lab, the student's
file, the launcher, the run folder, the worker's spec, and the worker itself, launched.

A run's critical path is the worker's start (a sandbox, then torch, librosa and the lab's
warm-ups).  :func:`prepare` does all of it with the standard library and the grader's
torch-free modules, so that ``grade`` launches the worker first and imports torch, pytest
and the suite (:mod:`grader.grading.run`) on the other core while the worker starts.

A :class:`Prepared` run owns what it made: entering it makes the run folder, leaving it
kills the worker (if no session adopted it) and removes the folder, and closes a launcher it
chose itself.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from grader.course import edition
from grader.course.folder import Course, find
from grader.course.labs import Lab
from grader.errors import SetupError, WorkerStartError
from grader.grading.files import LINK, is_link, read_no_follow
from grader.grading.notebooks import Converted, NotebookError, convert
from grader.isolation import IsolationError, Launcher, WorkerHandle, WorkerSpec, choose_launcher
from grader.isolation.cache import TrustedCache, WarmUp

SINGLE_RUN_BYTES = 64 << 20   # a student's own notebook, outputs and all (a batch allows 8 MiB per file)
STUDENT_ENVIRONMENT = "GRADE_STUDENT"   # set (to 1) where students grade: the release, their machines


def student_run() -> bool:
    """A student-facing run: asked for, or this grader is a student release (grader/course/edition.py)."""
    return os.environ.get(STUDENT_ENVIRONMENT, "").strip().lower() in ("1", "true", "yes") or \
        edition.is_student_release()


def trusted_cache(course: Course) -> TrustedCache:
    """The trusted cache of this course's warm-ups (one for all its labs)."""
    return TrustedCache.default(WarmUp.of(course.labs()))


def resolve_submission(lab: Lab, path: Path | None, course: Course, reference: bool) -> Path:
    """The student's file for ``lab``, from a folder, a file, or the course layout."""
    if reference:
        if course.missing_reference(lab, replayable=False):
            raise SetupError(course.missing_reference(lab, replayable=False))
        return lab.reference_file
    if path is None:
        folder = course.here or Path.cwd()
        path = lab.assignment_file(folder)
        if not path.is_file() and not is_link(path):
            raise SetupError(f"no {path.relative_to(folder)} here: run grade from the course folder, "
                             f"or pass --submission PATH")
        return _not_a_link(path)
    if not path.exists() and not is_link(path):
        raise SetupError(f"submission not found: {path}")
    if path.is_dir() and not is_link(path / lab.filename):
        notebook = path / f"{lab.module}.ipynb"
        path = path / lab.filename if (path / lab.filename).is_file() or not notebook.is_file() else notebook
        if not path.is_file() and not is_link(path):
            raise SetupError(f"{path.parent} has no {lab.filename}")
    elif path.is_dir():
        path = path / lab.filename
    if path.suffix not in (".py", ".ipynb"):
        raise SetupError(f"{path} is not a Python file or a notebook (expected {lab.filename})")
    return _not_a_link(path)


def _not_a_link(path: Path) -> Path:
    """``path``, unless it is a symbolic link: the grader reads what its worker cannot (the reference,
    the suites), so a link is never followed to a submission (grader.grading.files)."""
    if is_link(path):
        raise SetupError(f"{path} is {LINK}")
    return path


def choose() -> Launcher:
    """The strongest isolation here ($GRADE_SANDBOX may ask for one), or a one-line WorkerStartError
    (the sandbox asked for is not here: the grader's problem, never a submission's)."""
    try:
        return choose_launcher()
    except IsolationError as exc:
        raise WorkerStartError(str(exc)) from None


@dataclass
class Launched:
    """A worker started before anyone talks to it: its process, the grader's end of its
    channel, and the folder of its output log.  A session adopts it (grader.grading.session)."""

    handle: WorkerHandle
    channel: socket.socket
    log_dir: Path

    @property
    def log_path(self) -> Path:
        return self.log_dir / "worker.log"

    def discard(self) -> None:
        self.handle.kill()
        self.channel.close()
        shutil.rmtree(self.log_dir, ignore_errors=True)


def launch(launcher: Launcher, spec: WorkerSpec) -> Launched | None:
    """Start a worker for ``spec`` now; it imports its libraries while the caller does other work.
    None when it cannot start here: the session then starts one itself, and says why it cannot."""
    log_dir = Path(tempfile.mkdtemp(prefix="grade-log-"))
    (log_dir / "worker.log").touch()
    try:
        with open(log_dir / "worker.log", "ab") as log:
            handle, channel = launcher.start(spec, log.fileno())
    except (OSError, IsolationError):
        shutil.rmtree(log_dir, ignore_errors=True)
        return None
    except BaseException:
        shutil.rmtree(log_dir, ignore_errors=True)
        raise
    return Launched(handle, channel, log_dir)


@dataclass
class Prepared:
    """One run's lab, file, launcher, folder and spec; ``launched`` until a session adopts it."""

    lab: Lab
    course: Course
    source: Path
    reference: bool
    launcher: Launcher | None = None
    folder: Path | None = None
    spec: WorkerSpec | None = None
    notebook: Converted | None = None
    launched: Launched | None = None
    _stack: contextlib.ExitStack = field(default_factory=contextlib.ExitStack, repr=False)

    @property
    def clips(self) -> Path:
        return self.folder / "clips"

    def __enter__(self) -> "Prepared":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Kill a worker no session adopted, remove the run folder, close a launcher made here."""
        if self.launched is not None:
            self.launched.discard()
            self.launched = None
        self._stack.close()

    def take_launched(self) -> Launched | None:
        """The early worker, handed over once (the session then owns it)."""
        launched, self.launched = self.launched, None
        return launched


def prepare(lab_name: str, submission: Path | None = None, *, reference: bool = False,
            course: Path | None = None, launcher: Launcher | None = None, start: bool = True,
            say: Callable[[str], None] | None = None) -> Prepared:
    """Find the lab and the file, make the run folder and the worker's spec, warm the trusted cache
    if needed, and (``start``) launch the worker.  Raises SetupError when the run cannot start.

    ``launcher``: the caller's, left open (a batch grader's warm template); default: the strongest
    isolation here, closed with the run.  ``say``: told in a line what the first run after an install
    does meanwhile (grader.isolation.cache.TrustedCache.ensure), and how long it took.
    """
    found = find(course)
    lab = found.lab(lab_name)
    source = resolve_submission(lab, submission, found, reference)
    if found.missing_reference(lab):  # every check compares with it: stop before grading anything
        raise SetupError(found.missing_reference(lab))
    run = Prepared(lab, found, source, reference)
    try:
        if launcher is None:
            launcher = run._stack.enter_context(choose())
        run.launcher = launcher
        run.folder = Path(run._stack.enter_context(
            tempfile.TemporaryDirectory(prefix="grade-run-", dir=launcher.run_folder())))
        scratch = run.folder / "submission"
        scratch.mkdir()
        run.clips.mkdir()
        run.notebook = write_submission(source, scratch / lab.filename, trusted=reference)
        run.spec = WorkerSpec(submission_dir=scratch, module=lab.module, preload=list(lab.preload),
                              readable=[run.clips], probes=list(lab.probes), warm_up=list(lab.warm_up),
                              environment=dict(lab.environment), cache_dirs=dict(lab.cache),
                              cache=trusted_cache(found).ensure(launcher, say=say))
        if lab.memory_bytes is not None:
            run.spec.memory_bytes = lab.memory_bytes
        if start:
            run.launched = launch(launcher, run.spec)
    except BaseException:
        run.close()
        raise
    return run


def write_submission(source: Path, target: Path, trusted: bool = False) -> Converted | None:
    """The student's file as the module the worker imports; a notebook's code cells become one.
    A student's file is read as itself, never through a link (``trusted``: the reference)."""
    try:
        raw = source.read_bytes() if trusted else read_no_follow(source, SINGLE_RUN_BYTES)
        if source.suffix != ".ipynb":
            target.write_bytes(raw)
            return None
        converted = convert(raw)
    except (NotebookError, OSError) as exc:
        raise SetupError(f"{source}: {exc}") from None
    target.write_text(converted.source, encoding="utf-8")
    return converted
