"""Where submissions are graded: behind one interface, local grader processes or a Dask cluster.

A scheduler takes jobs while it has free slots and hands back events; the
controller decides what an event means (record, retry, give up). Restarting a
dead grader is the controller's call too, as in pytest-xdist's ``DSession``.
"""

from __future__ import annotations

import atexit
import multiprocessing
from multiprocessing import connection
import os
import signal
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from grader.isolation import Launcher
from grader.instructor.batch.events import DONE, GRADER_DOWN, STARTED, Event, Job, failure
from grader.instructor.batch.grader_process import REACH_TARGET, resolve, serve

if TYPE_CHECKING:
    from grader.grading.reference import Reach

DEFAULT_GRADE = "grader.instructor.batch.job:run_job"
WARM_UP_ALLOWANCE = 600.0   # seconds a grader may take to warm up (torch, the suite, a template) before its first job
DEFAULT_WARM = "grader.instructor.batch.job:warm_up"
DEFAULT_LAUNCHER = "grader.instructor.batch.job:worker_launcher"


class Scheduler(Protocol):
    def start(self) -> None: ...
    def free_slots(self) -> int: ...
    def submit(self, job: Job) -> None: ...
    def poll(self, timeout: float) -> list[Event]: ...
    def restart(self, grader: str) -> None: ...
    def close(self, *, cancel: bool = False) -> None: ...


# ------------------------------------------------------------------ local
@dataclass
class _Grader:
    name: str
    process: Any
    conn: Any                     # our end of its private pipe: jobs out, events back
    job: Job | None = None
    since: float = 0.0            # when its job was sent, then when it started grading it
    started: bool = False
    down: bool = False


class LocalScheduler:
    """``jobs`` warm grader processes on this machine, one submission each at a time.

    Each grader has a private pipe: one that dies mid-message breaks only its
    own pipe (a queue shared by all graders could be left locked forever).
    A submission that runs longer than ``submission_budget`` seconds in total
    (from when its grader starts it, warm-up not counted) has its grader
    stopped (reported as ``grader_down``, cause ``budget``).
    """

    def __init__(self, lab: str, jobs: int, *, submission_budget: float | None = None,
                 grade_target: str = DEFAULT_GRADE, warm_target: str = DEFAULT_WARM) -> None:
        self.lab, self.jobs, self.budget = lab, jobs, submission_budget
        self.grade_target, self.warm_target = grade_target, warm_target
        self.context = multiprocessing.get_context("spawn")
        self.graders: dict[str, _Grader] = {}

    def start(self) -> None:
        for index in range(self.jobs):
            self._launch(f"g{index}")

    def _launch(self, name: str) -> None:
        ours, theirs = self.context.Pipe(duplex=True)
        process = self.context.Process(
            target=serve, name=f"grade-batch-{name}", daemon=True,
            args=(name, self.lab, theirs, self.grade_target, self.warm_target, os.getpid()))
        process.start()
        theirs.close()
        self.graders[name] = _Grader(name, process, ours)

    def free_slots(self) -> int:
        return sum(1 for g in self.graders.values() if g.job is None and not g.down)

    def submit(self, job: Job) -> None:
        grader = next(g for g in self.graders.values() if g.job is None and not g.down)
        grader.job, grader.since, grader.started = job, time.monotonic(), False
        try:
            grader.conn.send(job)
        except OSError:
            pass   # it died: the next poll reports it, with this job

    def poll(self, timeout: float) -> list[Event]:
        live = {g.conn: g for g in self.graders.values() if not g.down}
        found: list[Event] = []
        for conn in connection.wait(list(live), timeout) if live else []:
            grader = live[conn]
            try:
                while conn.poll():
                    found.append(self._received(grader, conn.recv()))
            except Exception:   # EOF, or a message cut off by its death: either way it is gone
                grader.process.kill()
                grader.process.join(5)
                found.append(self._down(grader, f"grader process died ({_exit_reason(grader.process.exitcode)})",
                                        "crash"))
        now = time.monotonic()
        for grader in live.values():
            if grader.down or not grader.job or not self.budget:
                continue
            if grader.started and now - grader.since > self.budget:
                self._stop([grader])
                found.append(self._down(grader, f"took longer than its {self.budget:g} s budget", "budget"))
            elif not grader.started and now - grader.since > self.budget + WARM_UP_ALLOWANCE:   # never the student's
                self._stop([grader])
                found.append(self._down(grader, "the grader process never started grading it", "crash"))
        if not live:
            time.sleep(min(timeout, 0.1))
        return found

    def _received(self, grader: _Grader, event: Event) -> Event:
        if event.kind == DONE and grader.job and grader.job.key == event.key:
            grader.job = None
        if event.kind == STARTED and grader.job and grader.job.key == event.key:
            grader.since, grader.started = time.monotonic(), True   # the budget is the submission's, not the warm-up's
        return event

    def _down(self, grader: _Grader, reason: str, cause: str) -> Event:
        job, grader.job, grader.down = grader.job, None, True
        grader.conn.close()  # its student workers die with it (grader.isolation: PDEATHSIG, PID namespace)
        return Event(GRADER_DOWN, grader.name, job.key if job else "", job.attempt if job else 0,
                     {"reason": reason, "cause": cause})

    def restart(self, grader: str) -> None:
        self._launch(grader)

    def close(self, *, cancel: bool = False) -> None:
        live = [g for g in self.graders.values() if g.process.is_alive()]
        if cancel:
            self._stop(live)
        else:
            for grader in live:
                try:
                    grader.conn.send(None)
                except OSError:
                    pass
            self._stop(live, grace=30.0, terminate=False)
        for grader in self.graders.values():
            grader.conn.close()  # its student workers die with it (grader.isolation: PDEATHSIG, PID namespace)

    def _stop(self, graders: list[_Grader], grace: float = 15.0, terminate: bool = True) -> None:
        """SIGTERM (the grader kills its worker and leaves), then SIGKILL after ``grace``."""
        if terminate:
            for grader in graders:
                grader.process.terminate()
        deadline = time.monotonic() + grace
        for grader in graders:
            grader.process.join(max(0.1, deadline - time.monotonic()))
            if grader.process.is_alive():
                grader.process.kill()
                grader.process.join(5)


def _exit_reason(code: int | None) -> str:
    if code is None:
        return "still running"
    if code < 0:
        try:
            return f"killed by {signal.Signals(-code).name}"
        except ValueError:
            return f"killed by signal {-code}"
    return f"exit status {code}"


# ------------------------------------------------------------------ Dask
class SchedulerUnavailable(Exception):
    """The cluster cannot be reached (one line for the instructor)."""


class DaskScheduler:
    """One Dask task per submission on an existing cluster (``--scheduler ADDRESS``).

    Each Dask worker process runs :func:`grader.instructor.batch.job.run_job` with its own
    local sandbox; imports stay warm in the worker between tasks. The file's
    text travels with the job, so workers need not share our disk. Use Dask
    workers with one thread each: a grading run owns its process's stdout.
    """

    def __init__(self, address: str, lab: str, *, grade_target: str = DEFAULT_GRADE,
                 connect_timeout: str = "30s") -> None:
        self.address, self.lab, self.grade_target = address, lab, grade_target
        self.connect_timeout = connect_timeout
        self.client: Any = None
        self.futures: dict[Any, Job] = {}
        self.slots = 1
        self._pending_events: list[Event] = []

    def start(self) -> None:
        from distributed import Client

        try:
            self.client = Client(self.address, timeout=self.connect_timeout)
        except OSError as exc:
            raise SchedulerUnavailable(f"could not reach the Dask scheduler at {self.address} ({exc})") from None
        self.slots = max(1, sum(self.client.nthreads().values()))

    def free_slots(self) -> int:
        return max(0, self.slots * 2 - len(self.futures))   # a little queued work hides latency

    def submit(self, job: Job) -> None:
        if not job.source:
            job = _with_source(job)
        future = self.client.submit(_dask_task, job, self.grade_target, pure=False,
                                    key=f"grade-{self.lab}-{job.key}-{job.attempt}-{os.getpid()}-{time.time_ns()}")
        self.futures[future] = job
        self._pending_events.append(Event("started", "dask", job.key, job.attempt))

    def poll(self, timeout: float) -> list[Event]:
        events, self._pending_events = self._pending_events, []
        deadline = time.monotonic() + (0.0 if events else timeout)
        while True:
            done = [f for f in self.futures if f.done()]
            if done or time.monotonic() >= deadline:
                break
            time.sleep(0.05)
        for future in done:
            events.append(self._event(future, self.futures.pop(future)))
        return events

    def _event(self, future: Any, job: Job) -> Event:
        worker = "dask"
        if future.status == "finished":
            result = future.result()
            return Event(DONE, result.pop("worker", worker), job.key, job.attempt, result)
        error = future.exception()
        if type(error).__name__ == "KilledWorker":
            return Event(GRADER_DOWN, worker, job.key, job.attempt,
                         {"reason": f"Dask worker died ({error})", "cause": "crash"})
        return Event(DONE, worker, job.key, job.attempt, failure(error))

    def restart(self, grader: str) -> None:
        """Dask restarts its own workers (the nanny)."""

    def close(self, *, cancel: bool = False) -> None:
        if self.client is None:
            return
        if cancel and self.futures:
            self.client.cancel(list(self.futures))
        self.client.close()


def _on_worker(worker: Any, lab: str) -> "tuple[Reach, Launcher | None]":
    """What a Dask worker keeps between its tasks, on the worker object: how the reference is reached
    (its answers read or computed once per lab there) and a warm template its sandboxes are forked from
    (None where templates do not work: each task's sandbox then starts fresh).  The template dies with the
    worker process (bubblewrap's --die-with-parent); its folder is removed at the worker's exit."""
    if worker is None:
        return resolve(REACH_TARGET)(lab), None
    kept = getattr(worker, "_grade_kept", None)
    if not isinstance(kept, dict):
        kept = worker._grade_kept = {}
    if lab not in kept:
        launcher = resolve(DEFAULT_LAUNCHER)()
        if launcher is not None:
            atexit.register(launcher.close)
        kept[lab] = (resolve(REACH_TARGET)(lab), launcher)
    return kept[lab]


def _with_source(job: Job) -> Job:
    from dataclasses import replace

    # the staged bytes as text that gives them back (a file whose coding line says latin-1 is not UTF-8)
    return replace(job, source=Path(job.code).read_bytes().decode("utf-8", "surrogateescape"))


def _dask_task(job: Job, grade_target: str) -> dict[str, Any]:
    """Runs inside a Dask worker: grade and return data (never raise for a student's sake)."""
    try:
        from distributed import get_worker

        here = get_worker()
        worker = here.address
    except (ImportError, ValueError):
        here, worker = None, "dask"
    try:
        reach, launcher = _on_worker(here, job.lab)
        return {"result": resolve(grade_target)(job, None, launcher=launcher, reach=reach), "worker": worker}
    except Exception as exc:
        return {**failure(exc), "worker": worker}
