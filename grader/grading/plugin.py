"""The pytest plugin that turns a lab's suite into a grade.

Markers: ``points(n)`` weighs a check (every check must have one), ``cuda``
marks a check that needs a GPU and is skipped (and left out of the maximum)
without one, ``grades("f")`` names the stub function a check grades where its
name and title do not (see :func:`grader.course.stub.function_of`),
``builds_on("test_x", ...)`` explains a failure by a failed base check
(scores unchanged), and ``visibility("hidden" | "after_due_date" |
"after_published")`` says who sees a check (default: visible); a
student-facing run does not run the others, and counts them as withheld.  Fixtures: ``submission`` (the student's module, in the
worker), ``reference`` (the instructor's module, here), ``clips`` (generated
audio); they are plain module-level fixtures that find the plugin in the
config's stash.  Outcomes are collected as :class:`grader.results.CheckResult`,
the way junitxml collects its XML: one report hook, small functions.
"""

from __future__ import annotations

import dataclasses
import sys
import time
import warnings
from pathlib import Path
from types import ModuleType
from typing import Any, Collection, Protocol

import pytest

from grader.grading import reference as expectations
from grader.grading import fixtures
from grader.grading import side_checks
from grader.course import edition, stub
from grader.grading.hints import known_hint
from grader.grading.outcomes import error_record, feedback_for
from grader.results import Feedback
from grader.course.labs import Lab
from grader.errors import WorkerStartError
from grader.grading.outputs import split_warnings
from grader.grading.session import RemoteModule, WorkerSession
from grader.results import VISIBILITIES, CheckResult, explain_builds_on

HYPOTHESIS_PROFILE = "grading"


def register_hypothesis_profile() -> None:
    """Same examples on every run and machine: derandomised, no database.

    No shrinking: every example is a round trip to the worker, and the first
    failing example is already small enough to show a student.
    """
    from hypothesis import HealthCheck, Phase, settings

    settings.register_profile(
        HYPOTHESIS_PROFILE, derandomize=True, database=None, deadline=None, max_examples=15,
        print_blob=False, suppress_health_check=list(HealthCheck),
        phases=[Phase.explicit, Phase.generate],
    )
    settings.load_profile(HYPOTHESIS_PROFILE)
    _without_local_constants()


def _without_local_constants() -> None:
    """Hypothesis also draws literals found in the "local" modules this process has imported
    (hypothesis.internal.conjecture.providers): then the examples depend on which suites, helpers
    and reference ran before, and on whether they are installed (site-packages) or a checkout.
    Pin that pool empty, so that derandomised examples depend on the test alone (and a release,
    which has no reference module, replays exactly the recorded examples)."""
    try:
        from hypothesis.internal.conjecture import providers
    except ImportError:  # pragma: no cover - a hypothesis without the pool
        return
    if hasattr(providers, "_get_local_constants") and hasattr(providers, "CONSTANTS_CACHE"):
        providers._get_local_constants = _NoConstants
        providers.CONSTANTS_CACHE.cache.clear()


class _NoConstants:
    """An empty pool of local constants (see _without_local_constants)."""

    def set_for_type(self, choice_type: str) -> tuple:
        return ()

    def __len__(self) -> int:
        return 0


def cuda_available() -> bool:
    import torch

    return torch.cuda.is_available()


class Progress(Protocol):
    """Told how grading goes (grader.feedback.progress shows it on a terminal)."""

    def begin(self, total: int) -> None: ...
    def checking(self, function: str, title: str) -> None: ...
    def advance(self) -> None: ...


PLUGIN = pytest.StashKey["GradingPlugin"]()


# ------------------------------------------------------------ fixtures
@pytest.fixture(scope="session")
def submission(request: pytest.FixtureRequest) -> RemoteModule:
    return RemoteModule(request.config.stash[PLUGIN].session)


@pytest.fixture(scope="session")
def reference(request: pytest.FixtureRequest) -> ModuleType | expectations.RecordedReference:
    """The reference module (live), or its recorded calls (see grader.grading.reference)."""
    return request.config.stash[PLUGIN].expectations.reference()


@pytest.fixture(scope="session")
def lab(request: pytest.FixtureRequest) -> Lab:
    """The lab being graded (its course's reference and stub folders, its suite)."""
    return request.config.stash[PLUGIN].lab


@pytest.fixture(scope="session")
def clips(request: pytest.FixtureRequest) -> dict[str, Path]:
    return fixtures.standard_clips(request.config.stash[PLUGIN].clips_dir)


class GradingPlugin:
    def __init__(self, lab: Lab, session: WorkerSession | None, clips_dir: Path | None,
                 progress: Progress | None = None, student: bool = False,
                 reach: expectations.Reach | None = None, shown: tuple[str, ...] | None = None,
                 first: Collection[str] = ()) -> None:
        """``first``: stub names (``to_unet_input``, ``UNet.forward``, ``UNet``) whose checks run before the
        others (watch mode: the functions just changed); the grade does not depend on the order."""
        self.lab, self.session, self.clips_dir, self.progress = lab, session, clips_dir, progress
        self.first = frozenset(first)
        self.student = student               # a student-facing run: only the checks students see run
        self.shown = shown or edition.shown()   # what they see: visible (and after_due_date, past it)
        self.withheld: list[CheckResult] = []
        self.results: list[CheckResult] = []
        self.collected: list[CheckResult] = []
        self.errors: list[str] = []
        self.definitions = stub.lab_definitions(lab)
        self.expectations = (reach or expectations.automatic(lab)).book(lab, clips_dir)
        self._pending: dict[str, CheckResult] = {}
        self._started: dict[str, tuple[float, int]] = {}
        self._side_of: dict[str, tuple[str, ...]] = {}   # side check -> the main checks it needs
        self._titles: dict[str, str] = {}
        self._warning_filters: list = []

    # ------------------------------------------------------------ hooks
    def pytest_configure(self, config: pytest.Config) -> None:
        config.stash[PLUGIN] = self
        config.pluginmanager.register(sys.modules[__name__], "grading-fixtures")
        if self.first:
            config.pluginmanager.register(_FirstChecks(self), "grading-first")
        config.addinivalue_line("markers", "points(n): what the check is worth")
        config.addinivalue_line("markers", "cuda: the check needs a CUDA GPU")
        config.addinivalue_line("markers", side_checks.DESCRIPTION)
        config.addinivalue_line("markers", "grades(function): the stub function the check grades")
        config.addinivalue_line("markers", "builds_on(*checks): a failure of these explains this one's")
        config.addinivalue_line("markers", "visibility(level): who sees the check: " + ", ".join(VISIBILITIES))
        register_hypothesis_profile()
        # feedback is data and pytest's own tracebacks are never shown: one line per entry, no source read
        config.option.tbstyle = "line"
        # a deprecation in the grader's own code fails loudly instead of breaking grading one day
        self._warning_filters = warnings.filters[:]
        warnings.filterwarnings("error", category=DeprecationWarning, module=r"grader(\.|$)")

    def pytest_unconfigure(self) -> None:
        warnings.filters[:] = self._warning_filters

    @pytest.hookimpl(tryfirst=True)  # before -k deselects: it also matches titles and function names
    def pytest_collection_modifyitems(self, config: pytest.Config, items: list[pytest.Item]) -> None:
        has_cuda = None
        for item in items:
            if item.get_closest_marker("points") is None:
                self.errors.append(f"{item.nodeid} has no points marker")
            result = self._new_result(item)
            if result.visibility not in VISIBILITIES:
                self.errors.append(f"{item.nodeid} has visibility {result.visibility!r} "
                                   f"(one of {', '.join(VISIBILITIES)})")
            item.extra_keyword_matches.update(k for k in (result.title, result.function) if k)
            if item.get_closest_marker("cuda") and self.expectations.mode != "record":  # recorded for GPUs too
                has_cuda = cuda_available() if has_cuda is None else has_cuda
                if not has_cuda:
                    item.add_marker(pytest.mark.skip(reason="needs a CUDA GPU, and none is available here"))
        if self.student:
            self._withhold(config, items)

    def _withhold(self, config: pytest.Config, items: list[pytest.Item]) -> None:
        """Checks students do not see (a visibility not in ``shown``) are not run in their run: the instructor
        grades them.
        So is a visible side check of one (side_of): it could only count once a check they
        cannot run passes (the student release leaves out the same checks: grader/instructor/public_suite.py)."""
        withheld = {side_checks.base_name(item.name) for item in items
                    if self._new_result(item).visibility not in self.shown}
        while True:
            waiting = {side_checks.base_name(item.name) for item in items
                       if set(self._side_of.get(item.name, ())) & withheld} - withheld
            if not waiting:
                break
            withheld |= waiting
        hidden = [item for item in items if side_checks.base_name(item.name) in withheld]
        if hidden:
            self.withheld = [self._new_result(item) for item in hidden]
            items[:] = [item for item in items if item not in hidden]
            config.hook.pytest_deselected(items=hidden)

    def pytest_itemcollected(self, item: pytest.Item) -> None:
        """Every check, selected or not: what side checks need, and the titles to name them by."""
        self._titles[side_checks.base_name(item.name)] = self._new_result(item).title
        needs = side_checks.requirements(item)
        if needs:
            self._side_of[item.name] = needs

    def pytest_collection_finish(self, session: pytest.Session) -> None:
        for name, needs in self._side_of.items():
            typos = [n for n in needs if n not in self._titles]
            if typos:
                self.errors.append(f"{name} is a side_of {', '.join(typos)}, which is no check of the suite")
        self.collected = [self._new_result(item) for item in session.items]
        if self.progress is not None:
            self.progress.begin(len(session.items))

    def pytest_collectreport(self, report: pytest.CollectReport) -> None:
        if report.failed:
            self.errors.append(f"could not load {report.nodeid}: {report.longreprtext.strip().splitlines()[-1]}")

    def pytest_runtest_setup(self, item: pytest.Item) -> None:
        result = self._pending.setdefault(item.nodeid, self._new_result(item))
        self.expectations.check = item.nodeid
        if self.progress is not None:
            self.progress.checking(result.function, result.title)
        self.session.begin_check(result.function)
        self._started[item.nodeid] = (time.perf_counter(), self.session.output_offset())
        try:
            self.session.ensure_ready()  # a file that cannot be imported fails here, before the check's own work
        except WorkerStartError as exc:   # no grade at all: the run stops, run.py says why
            item.session.shouldstop = str(exc)
            raise

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_makereport(self, item: pytest.Item, call: pytest.CallInfo) -> Any:
        report = yield
        if self.expectations.mismatch is not None:   # no grade at all: the run stops, run.py says why
            item.session.shouldstop = str(self.expectations.mismatch)
        if self.session is not None and self.session.start_failure is not None:
            item.session.shouldstop = str(self.session.start_failure)
        result = self._pending.setdefault(item.nodeid, self._new_result(item))
        if report.skipped and result.status != "failed":
            result.status, result.skip_reason = "skipped", _skip_reason(report)
        elif report.failed:
            result.status = "failed"
            if result.feedback is None:
                error = call.excinfo.value if call.excinfo else None
                result.error = error_record(error)
                result.feedback = dataclasses.replace(feedback_for(error, report))   # the check's own, copied
                self._explain_known_cause(result)
        elif report.when == "call" and result.status == "pending":
            result.status = "passed"
        if report.when == "teardown":
            self._finish(item, result)
        return report

    def _new_result(self, item: pytest.Item) -> CheckResult:
        points = float(item.get_closest_marker("points").args[0]) if item.get_closest_marker("points") else 0.0
        doc = (getattr(item, "function", None).__doc__ or "").strip().splitlines()
        title = doc[0] if doc else item.name.removeprefix("test_").replace("_", " ")
        grades = item.get_closest_marker("grades")
        function = stub.function_of(item.name, title, grades.args[0] if grades and grades.args else None,
                                    [d.name for d in self.definitions])
        builds_on = [str(name) for mark in item.iter_markers("builds_on") for name in mark.args]
        visibility = item.get_closest_marker("visibility")
        return CheckResult(name=item.name, title=title, points=points, status="pending", function=function,
                           builds_on=builds_on,
                           visibility=str(visibility.args[0]) if visibility and visibility.args else "visible")

    def _explain_known_cause(self, result: CheckResult) -> None:
        """A mistake we recognise (a hard-coded "cuda", a shape that does not fit a layer) gets its own hint."""
        function = result.function or (result.feedback.function if result.feedback else "")
        hint = known_hint(result.error, function, self.definitions)
        if hint:
            result.feedback.hint = hint
        if result.error and result.error.type == "NotImplementedError" and result.feedback:
            raised_in = result.error.innermost.function
            if function and raised_in and raised_in != function and not raised_in.startswith(function + "."):
                result.feedback.summary = f"{raised_in} is not implemented yet (and {function} needs it)"

    def _finish(self, item: pytest.Item, result: CheckResult) -> None:
        # a check skipped before its setup ran (no GPU) printed nothing: its output starts now, not at 0
        started, offset = self._started.pop(item.nodeid, None) or (time.perf_counter(), self.session.output_offset())
        result.seconds = time.perf_counter() - started
        result.output, result.warnings = split_warnings(self.session.output_since(offset), self.lab.filename,
                                                        self.lab.expected_warnings)
        if result.status == "pending":
            result.status = "failed"
            result.feedback = Feedback("the check did not complete")
        result.score = result.points if result.status == "passed" else 0.0
        self.results.append(self._pending.pop(item.nodeid))
        if self.progress is not None:
            self.progress.advance()

    def pytest_sessionfinish(self) -> None:
        """Steps that need every check's outcome; order-independent, once, at the end."""
        names = {d.name for d in self.definitions}
        for result in self.results:
            said = result.feedback.function if result.feedback else ""
            if not result.function and said in names:
                result.function = said
        side_checks.settle(self.results, self._side_of, self._titles)
        explain_builds_on(self.results)


class _FirstChecks:
    """Runs the checks of ``plugin.first`` before the others (a hook of its own: the plugin's
    modifyitems hook runs first, this one last, after pytest's reordering by fixture scope)."""

    def __init__(self, plugin: GradingPlugin) -> None:
        self.plugin = plugin

    @pytest.hookimpl(trylast=True)
    def pytest_collection_modifyitems(self, items: list[pytest.Item]) -> None:
        items.sort(key=lambda item: not _among(self.plugin._new_result(item).function, self.plugin.first))


def _among(function: str, names: frozenset[str]) -> bool:
    """``function`` (a stub name) is one of ``names``, a method of one, or the class of one."""
    return bool(function) and any(function == name or function.startswith(name + ".") or name.startswith(function + ".")
                                  for name in names)


def _skip_reason(report: pytest.TestReport) -> str:
    if isinstance(report.longrepr, tuple):
        return str(report.longrepr[2]).removeprefix("Skipped: ")
    return "skipped"


