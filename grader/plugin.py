"""The pytest plugin that turns a lab's suite into a grade.

Markers: ``points(n)`` weighs a check (every check must have one), ``cuda``
marks a check that needs a GPU and is skipped (and left out of the maximum)
without one.  Fixtures: ``submission`` (the student's module, in the worker),
``reference`` (the instructor's module, here), ``clips`` (generated audio).
Outcomes are collected as :class:`grader.results.CheckResult`, the way
junitxml collects its XML: one report hook, small functions.
"""

from __future__ import annotations

import dataclasses
import importlib.util
import time
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from grader import fixtures, side_checks
from grader.checks import CheckFailed, Feedback, student_raised
from grader.labs import Lab
from grader.remote import RemoteModule, StudentError, SubmissionImportError, WorkerCrash, WorkerSession
from grader.results import CheckResult

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


def load_reference(lab: Lab) -> ModuleType:
    spec = importlib.util.spec_from_file_location(f"grade_reference_{lab.name}", lab.reference_file)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def cuda_available() -> bool:
    import torch

    return torch.cuda.is_available()


class GradingPlugin:
    def __init__(self, lab: Lab, session: WorkerSession | None, clips_dir: Path | None) -> None:
        self.lab, self.session, self.clips_dir = lab, session, clips_dir
        self.results: list[CheckResult] = []
        self.collected: list[CheckResult] = []
        self.errors: list[str] = []
        self._pending: dict[str, CheckResult] = {}
        self._started: dict[str, tuple[float, int]] = {}
        self._side_of: dict[str, tuple[str, ...]] = {}   # side check -> the main checks it needs
        self._titles: dict[str, str] = {}

    # ------------------------------------------------------------ fixtures
    @pytest.fixture(scope="session")
    def submission(self) -> RemoteModule:
        return RemoteModule(self.session)

    @pytest.fixture(scope="session")
    def reference(self) -> ModuleType:
        return load_reference(self.lab)

    @pytest.fixture(scope="session")
    def clips(self) -> dict[str, Path]:
        return fixtures.standard_clips(self.clips_dir)

    # ------------------------------------------------------------ hooks
    def pytest_configure(self, config: pytest.Config) -> None:
        config.addinivalue_line("markers", "points(n): what the check is worth")
        config.addinivalue_line("markers", "cuda: the check needs a CUDA GPU")
        config.addinivalue_line("markers", side_checks.DESCRIPTION)
        register_hypothesis_profile()

    def pytest_collection_modifyitems(self, items: list[pytest.Item]) -> None:
        has_cuda = None
        for item in items:
            if item.get_closest_marker("points") is None:
                self.errors.append(f"{item.nodeid} has no points marker")
            self.collected.append(self._new_result(item))
            if item.get_closest_marker("cuda"):
                has_cuda = cuda_available() if has_cuda is None else has_cuda
                if not has_cuda:
                    item.add_marker(pytest.mark.skip(reason="needs a CUDA GPU, and none is available here"))

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

    def pytest_sessionfinish(self) -> None:
        side_checks.settle(self.results, self._side_of, self._titles)

    def pytest_collectreport(self, report: pytest.CollectReport) -> None:
        if report.failed:
            self.errors.append(f"could not load {report.nodeid}: {report.longreprtext.strip().splitlines()[-1]}")

    def pytest_runtest_setup(self, item: pytest.Item) -> None:
        self.session.begin_check()
        self._started[item.nodeid] = (time.perf_counter(), self.session.output_offset())

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_makereport(self, item: pytest.Item, call: pytest.CallInfo) -> Any:
        report = yield
        result = self._pending.setdefault(item.nodeid, self._new_result(item))
        if report.skipped and result.status != "failed":
            result.status, result.skip_reason = "skipped", _skip_reason(report)
        elif report.failed:
            result.status = "failed"
            if result.feedback is None:
                result.feedback = dataclasses.asdict(feedback_for(call.excinfo.value if call.excinfo else None, report))
        elif report.when == "call" and result.status == "pending":
            result.status = "passed"
        if report.when == "teardown":
            self._finish(item, result)
        return report

    def _new_result(self, item: pytest.Item) -> CheckResult:
        points = float(item.get_closest_marker("points").args[0]) if item.get_closest_marker("points") else 0.0
        doc = (getattr(item, "function", None).__doc__ or "").strip().splitlines()
        title = doc[0] if doc else item.name.removeprefix("test_").replace("_", " ")
        return CheckResult(name=item.name, title=title, points=points, status="pending")

    def _finish(self, item: pytest.Item, result: CheckResult) -> None:
        started, offset = self._started.pop(item.nodeid, (time.perf_counter(), 0))
        result.seconds = time.perf_counter() - started
        result.output = self.session.output_since(offset)
        if result.status == "pending":
            result.status = "failed"
            result.feedback = dataclasses.asdict(Feedback("the check did not complete"))
        result.score = result.points if result.status == "passed" else 0.0
        self.results.append(self._pending.pop(item.nodeid))


def _skip_reason(report: pytest.TestReport) -> str:
    if isinstance(report.longrepr, tuple):
        return str(report.longrepr[2]).removeprefix("Skipped: ")
    return "skipped"


def feedback_for(error: BaseException | None, report: pytest.TestReport) -> Feedback:
    """Turn whatever ended a check into feedback a student can act on."""
    while isinstance(error, BaseExceptionGroup):  # hypothesis found several distinct failures
        error = error.exceptions[0]
    if isinstance(error, CheckFailed):
        return error.feedback
    if isinstance(error, SubmissionImportError):
        return Feedback(f"your file could not be imported: {error}",
                        hint="run `python yourfile.py` to see the full error, fix it, and grade again")
    if isinstance(error, StudentError):
        return student_raised(error, "your code", "")
    if isinstance(error, WorkerCrash):
        return Feedback(str(error), hint="look for an endless loop, a crash or a call to exit in your code")
    if isinstance(error, AssertionError):
        return Feedback(str(error).split("\n")[0] or "a check failed")
    if error is None:
        return Feedback("the check failed")
    name = type(error).__name__
    return Feedback(f"grader error ({name}: {error}); please tell your instructor",
                    hint="this is a problem in the grader, not in your code")
