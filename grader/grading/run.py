"""One grading run as a plain function: a lab and a submission in, a GradeResult out.

The worker is launched first, so that it imports torch on one core while
this process imports pytest and the suite on the other.  Everything the run
writes lives in one private ``grade-run-*`` folder and the launcher's own,
removed when the run ends, however it ends short of SIGKILL (the CLI turns
SIGTERM and SIGHUP into KeyboardInterrupt, which unwinds through here).
"""

from __future__ import annotations

import contextlib
import io
import os
import tempfile
import time
from pathlib import Path
from typing import Any, Callable

from grader.course import edition
from grader.isolation import IsolationError, Launcher, WorkerSpec, choose_launcher
from grader.course.folder import Course, find
from grader.isolation.cache import TrustedCache, WarmUp
from grader.course.labs import BUILTIN_SUITES, Lab
from grader.errors import SetupError, WorkerStartError
from grader.grading.plugin import GradingPlugin
from grader.grading.reference import Reach
from grader.grading.files import LINK, is_link, read_no_follow
from grader.grading.notebooks import Converted, NotebookError, convert
from grader.grading.session import WorkerSession
from grader.results import CheckResult, GradeResult

SUITE_INI = BUILTIN_SUITES / "pytest.ini"  # the built-in suites' settings, for every suite


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


def grade(lab_name: str, submission: Path | None = None, *, reference: bool = False,
          course: Path | None = None, keyword: str | None = None,
          call_timeout: float = 10.0, import_timeout: float = 60.0, progress: Any = None,
          on_check: Callable[[CheckResult], None] | None = None, student: bool | None = None,
          launcher: Launcher | None = None, reach: Reach | None = None) -> GradeResult:
    """Grade one submission of one lab; raises SetupError when it cannot start.

    ``progress`` (see grader.grading.plugin.Progress) is told which check runs, e.g. to show it live;
    ``on_check`` is called with each check's result as soon as it is known
    (batch grading reports progress with it).  ``student``: a student-facing
    run, which runs only the checks students see (default: $GRADE_STUDENT).  ``launcher``: where
    workers come from (the caller's, left open: a batch grader's warm template; default: the
    strongest isolation here, for this run only).  ``reach``: how the reference's answers are
    reached (grader.grading.reference: live, record, replay, memo; default: what the course has).
    """
    student = student_run() if student is None else student
    started = time.perf_counter()
    found = find(course)
    lab = found.lab(lab_name)
    source = resolve_submission(lab, submission, found, reference)
    if found.missing_reference(lab):  # every check compares with it: stop before grading anything
        raise SetupError(found.missing_reference(lab))
    with contextlib.ExitStack() as stack:
        if launcher is None:
            launcher = stack.enter_context(_launcher())
        folder = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="grade-run-", dir=launcher.run_folder())))
        scratch, clips = folder / "submission", folder / "clips"
        scratch.mkdir()
        clips.mkdir()
        notebook = _write_submission(source, scratch / lab.filename, trusted=reference)
        spec = WorkerSpec(submission_dir=scratch, module=lab.module, preload=list(lab.preload), readable=[clips],
                          probes=list(lab.probes), warm_up=list(lab.warm_up), environment=dict(lab.environment),
                          cache_dirs=dict(lab.cache),
                          cache=trusted_cache(found).ensure(launcher))
        session = WorkerSession(spec, launcher=launcher, call_timeout=call_timeout, import_timeout=import_timeout,
                                reply_bytes=lab.reply_bytes)
        stack.callback(session.close)
        session.start()
        result = _run_suite(lab, session, clips, keyword, progress, on_check, student, reach)
        result.submission = "reference solution" if reference else str(source)
        if notebook is not None:
            point_into_cells(result, notebook, lab.filename)
    result.execution_time = time.perf_counter() - started
    return result


def _write_submission(source: Path, target: Path, trusted: bool = False) -> Converted | None:
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


def point_into_cells(result: GradeResult, notebook: Converted, filename: str) -> None:
    """Line numbers in the notebook's terms (cell and line), and a note on what was left out."""
    for check in result.checks:
        if check.feedback:
            check.feedback.summary = notebook.relabel(check.feedback.summary, prefix=filename)
            check.feedback.rows = [tuple(notebook.relabel(cell, prefix=filename) for cell in row)
                                   for row in check.feedback.rows]
        if check.error:
            check.error.where = notebook.relabel(check.error.where)
            for frame in check.error.frames:
                if frame.line:
                    frame.cell = notebook.place(frame.line)
    result.import_error = notebook.relabel(result.import_error)
    if notebook.dropped:
        result.notes.append("left out of your notebook (IPython magics and shell commands are not Python): "
                            + "; ".join(notebook.dropped[:5])
                            + (f"; and {len(notebook.dropped) - 5} more" if len(notebook.dropped) > 5 else ""))


def _launcher() -> Launcher:
    """The strongest isolation here ($GRADE_SANDBOX may ask for one), or a one-line WorkerStartError
    (the sandbox asked for is not here: the grader's problem, never a submission's)."""
    try:
        return choose_launcher()
    except IsolationError as exc:
        raise WorkerStartError(str(exc)) from None


def list_checks(lab_name: str, course: Path | None = None) -> list[CheckResult]:
    """The checks of a lab with their points, without grading anything."""
    return collect(find(course).lab(lab_name)).collected


def collect(lab: Lab, student: bool = False, shown: tuple[str, ...] | None = None) -> GradingPlugin:
    """Collect ``lab``'s suite without grading: the plugin holds its checks (``collected``) and,
    for a student-facing collection, those withheld from students (``withheld``; ``shown``: the
    visibilities students see, default this edition's)."""
    plugin = GradingPlugin(lab, None, None, student=student, shown=shown)
    _pytest(lab, plugin, ["--collect-only"])
    return plugin


def _run_suite(lab: Lab, session: WorkerSession, clips: Path, keyword: str | None,
               progress: Any = None, on_check: Callable[[CheckResult], None] | None = None,
               student: bool = False, reach: Reach | None = None) -> GradeResult:
    plugin = GradingPlugin(lab, session, clips, progress, student=student, reach=reach)
    plugin.expectations.prepare()   # a release's store that does not fit its suite: no grade (ReleaseMismatch)
    extra = [_CheckListener(plugin, on_check)] if on_check else []
    _pytest(lab, plugin, ["-k", keyword] if keyword else [], extra)
    left_out = edition.withheld(lab.name) if student else (0, 0.0)   # a student release holds none of them
    result = GradeResult(lab=lab.name, title=lab.title, submission="", checks=plugin.results,
                         sandbox=session.sandbox, functions=[d.name for d in plugin.definitions],
                         withheld_checks=len(plugin.withheld) + left_out[0],
                         withheld_points=sum(c.points for c in plugin.withheld) + left_out[1])
    if session.import_failure is not None:
        result.import_error = str(session.import_failure)
    return result


class _CheckListener:
    """Passes each check's result on once the grading plugin has finished it."""

    def __init__(self, plugin: GradingPlugin, on_check: Callable[[CheckResult], None]) -> None:
        self.plugin, self.on_check, self.seen = plugin, on_check, 0

    def pytest_runtest_logreport(self, report: object) -> None:
        while self.seen < len(self.plugin.results):
            self.seen += 1
            self.on_check(self.plugin.results[self.seen - 1])


def _pytest(lab: Lab, plugin: GradingPlugin, extra: list[str], listeners: list | None = None) -> None:
    import pytest

    args = [str(lab.suite_dir), "-c", str(SUITE_INI), "--rootdir", str(lab.suite_dir),
            "-p", "no:cacheprovider", "-p", "no:terminal", "-p", "no:warnings",
            "--import-mode=importlib", "--assert=plain", *extra]
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed), contextlib.redirect_stderr(printed):
        code = pytest.main(args, plugins=[plugin, *(listeners or [])])
    if plugin.expectations.mismatch is not None:   # the run was stopped on purpose: no grade, one line
        raise plugin.expectations.mismatch
    if plugin.session is not None and plugin.session.start_failure is not None:   # no worker here: the grader's
        raise plugin.session.start_failure                                          # problem, no grade
    if code == pytest.ExitCode.INTERRUPTED:  # pytest swallowed a KeyboardInterrupt: stop the run, clean up
        raise KeyboardInterrupt
    if code in (pytest.ExitCode.INTERNAL_ERROR, pytest.ExitCode.USAGE_ERROR):
        last = (printed.getvalue().strip().splitlines() or ["no message"])[-1]
        raise SetupError(f"the {lab.name} suite could not run: {last}")
    if plugin.errors:
        raise SetupError(f"the {lab.name} suite is broken: {plugin.errors[0]}")
