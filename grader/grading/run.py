"""One grading run as a plain function: a lab and a submission in, a GradeResult out.

The worker is launched first (:mod:`grader.grading.prepare`, which needs no torch: the
command line launches it before it imports this module), so that it imports torch on one
core while this process imports torch, pytest and the suite on the other.  Everything the run
writes lives in one private ``grade-run-*`` folder and the launcher's own,
removed when the run ends, however it ends short of SIGKILL (the CLI turns
SIGTERM and SIGHUP into KeyboardInterrupt, which unwinds through here).
"""

from __future__ import annotations

import contextlib
import gc
import io
import time
from pathlib import Path
from typing import Any, Callable, Collection

from grader.course import edition
from grader.course.folder import find
from grader.course.labs import BUILTIN_SUITES, Lab
from grader.grading.budget import SECONDS, CrashBudget
from grader.grading.notebooks import Converted
from grader.grading.plugin import GradingPlugin
from grader.grading.prepare import (STUDENT_ENVIRONMENT, Prepared, prepare, resolve_submission,  # noqa: F401
                                    student_run, trusted_cache)
from grader.grading.reference import Reach, automatic
from grader.grading.session import WorkerSession
from grader.errors import SetupError
from grader.isolation import Launcher
from grader.results import CheckResult, GradeResult

SUITE_INI = BUILTIN_SUITES / "pytest.ini"  # the built-in suites' settings, for every suite


def grade(lab_name: str, submission: Path | None = None, *, reference: bool = False,
          course: Path | None = None, keyword: str | None = None,
          call_timeout: float = 10.0, import_timeout: float = 60.0, progress: Any = None,
          on_check: Callable[[CheckResult], None] | None = None, student: bool | None = None,
          launcher: Launcher | None = None, reach: Reach | None = None,
          prepared: Prepared | None = None, budget: float | None = SECONDS,
          first: Collection[str] = ()) -> GradeResult:
    """Grade one submission of one lab; raises SetupError when it cannot start.

    ``progress`` (see grader.grading.plugin.Progress) is told which check runs, e.g. to show it live;
    ``on_check`` is called with each check's result as soon as it is known
    (batch grading reports progress with it).  ``student``: a student-facing
    run, which runs only the checks students see (default: $GRADE_STUDENT).  ``launcher``: where
    workers come from (the caller's, left open: a batch grader's warm template; default: the
    strongest isolation here, for this run only).  ``reach``: how the reference's answers are
    reached (grader.grading.reference: live, record, replay, memo; default: what the course has).
    ``prepared``: the run's lab, file and worker, already made and launched by
    :func:`grader.grading.prepare.prepare` (the command line launches the worker before it
    imports this module); ``lab_name``, ``submission``, ``reference``, ``course`` and
    ``launcher`` are then ignored.  The run closes it either way.  ``budget``: the seconds the
    student's code may take over the whole run (grader/grading/budget.py; None: unbounded).  ``first``:
    stub names whose checks run before the others (watch mode: what was just changed).
    """
    student = student_run() if student is None else student
    started = time.perf_counter()
    with contextlib.ExitStack() as stack:
        if prepared is None:
            prepared = prepare(lab_name, submission, reference=reference, course=course, launcher=launcher)
        stack.enter_context(prepared)
        lab = prepared.lab
        session = WorkerSession(prepared.spec, launcher=prepared.launcher, call_timeout=call_timeout,
                                import_timeout=import_timeout, reply_bytes=lab.reply_bytes,
                                launched=prepared.take_launched(), crash_budget=CrashBudget(seconds=budget))
        stack.callback(session.close)
        session.start()
        result = _run_suite(lab, session, prepared.clips, keyword, progress, on_check, student, reach, first)
        result.submission = "reference solution" if prepared.reference else str(prepared.source)
        if prepared.notebook is not None:
            point_into_cells(result, prepared.notebook, lab.filename)
    result.execution_time = time.perf_counter() - started
    return result


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
               student: bool = False, reach: Reach | None = None, first: Collection[str] = ()) -> GradeResult:
    reach = reach or automatic(lab)
    plugin = GradingPlugin(lab, session, clips, progress, student=student, reach=reach, first=first)
    plugin.expectations.prepare()   # a release's store that does not fit its suite: no grade (ReleaseMismatch)
    extra = [_CheckListener(plugin, on_check)] if on_check else []
    _pytest(lab, plugin, ["-k", keyword] if keyword else [], extra)
    note = reach.finish(plugin.expectations)
    left_out = edition.withheld(lab.name) if student else (0, 0.0)   # a student release holds none of them
    result = GradeResult(lab=lab.name, title=lab.title, submission="", checks=plugin.results,
                         sandbox=session.sandbox, functions=[d.name for d in plugin.definitions],
                         withheld_checks=len(plugin.withheld) + left_out[0],
                         withheld_points=sum(c.points for c in plugin.withheld) + left_out[1])
    if session.import_failure is not None:
        result.import_error = str(session.import_failure)
    if note:
        result.notes.append(note)
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
            # the installed plugins are not the suite's: only hypothesis's; no gc.collect() per run
            "--disable-plugin-autoload", "-p", "_hypothesis_pytestplugin",
            "-p", "no:unraisableexception", "-p", "no:threadexception", "-p", "no:logging",
            "--import-mode=importlib", "--assert=plain", *extra]
    printed = io.StringIO()
    gc.freeze()   # what is alive now (torch, pytest) is not garbage: collections during the run skip it
    try:
        with contextlib.redirect_stdout(printed), contextlib.redirect_stderr(printed):
            code = pytest.main(args, plugins=[plugin, *(listeners or [])])
    finally:
        gc.unfreeze()
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
