"""The fast tier stays fast: a test without ``@pytest.mark.slow`` that runs long or starts many workers is named.

Loaded by tests/conftest.py.  For each test, the seconds its body took and the workers it
started in this process (``WorkerSession.start``, which every grading run and worker test
goes through; workers of a ``grade`` subprocess show in the seconds) are noted; at the
end of the run, the tests over budget that carry no ``slow`` marker are listed with the
machine's load, so a newcomer sees which test to mark or to share a fixture with.
A report, not a failure: the seconds depend on the machine's load.
"""

from __future__ import annotations

import os
import time

import pytest

from grader.grading.session import WorkerSession

SECONDS = 10.0    # a test body longer than this belongs to the slow tier
WORKERS = 3       # so does one that starts more workers than this (share a fixture instead)

_started = 0
_over: dict[str, tuple[float, int]] = {}


@pytest.fixture(scope="session", autouse=True)
def count_worker_starts():
    """Count the workers this process starts, without changing what starting one does."""
    real_start = WorkerSession.start

    def counted(self: WorkerSession) -> None:
        global _started
        if self.process is None:
            _started += 1
        real_start(self)

    WorkerSession.start = counted
    yield
    WorkerSession.start = real_start


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_call(item: pytest.Item):
    workers, started = _started, time.perf_counter()
    yield
    seconds, workers = time.perf_counter() - started, _started - workers
    if item.get_closest_marker("slow") is None and (seconds > SECONDS or workers > WORKERS):
        _over[item.nodeid] = (seconds, workers)


def pytest_terminal_summary(terminalreporter) -> None:
    if not _over:
        return
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    terminalreporter.section("fast tier budget")
    terminalreporter.write_line(f"{len(_over)} test(s) without @pytest.mark.slow took over {SECONDS:g} s or started "
                                f"over {WORKERS} workers (load average {load}): mark them slow, or share a fixture")
    for nodeid, (seconds, workers) in sorted(_over.items(), key=lambda kv: -kv[1][0]):
        terminalreporter.write_line(f"  {seconds:6.1f} s  {workers:3d} workers  {nodeid}")
