"""The batch controller: feeds submissions to a scheduler and files every result as it comes.

Its loop is pytest-xdist's ``DSession.loop_once``: take one event, call the
``on_<kind>`` method for it. A grader that dies is replaced up to a restart
limit; the submission it held is tried again once, then recorded as crashed.
Each finished submission is written to the gradebook in its own transaction,
so stopping (Ctrl-C, kill -9) loses only what was in flight, and the next run
skips what is already graded with the same content and grader. Whatever one
submission does, it ends as a row (graded, timed out or crashed, with why):
it never stops the others.
"""

from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from grader.instructor.batch.events import GRADER_PROBLEM, Event, Job
from grader.instructor.batch.layouts import Entry, Roster
from grader.instructor.batch.schedulers import Scheduler
from grader.instructor.gradebook import Gradebook
from grader.course.labs import Lab
from grader.results import GradeResult


@dataclass(frozen=True)
class BatchOptions:
    keyword: str | None = None
    call_timeout: float = 10.0
    import_timeout: float = 60.0
    regrade: bool = False
    retries: int = 1                  # tries after the first when a grader dies on a submission
    max_restarts: int | None = None   # dead graders replaced before giving up (default: 4 per slot)
    due: str = ""                     # the lab's due time (ISO 8601): later submissions are late


class Progress(Protocol):
    def begin(self, total: int, skipped: int) -> None: ...
    def started(self, key: str) -> None: ...
    def check(self, key: str, check: dict) -> None: ...
    def finished(self, key: str, outcome: str) -> None: ...   # full | partial | failed | crashed
    def note(self, line: str) -> None: ...
    def end(self) -> None: ...


class QuietProgress:
    def begin(self, total: int, skipped: int) -> None: pass
    def started(self, key: str) -> None: pass
    def check(self, key: str, check: dict) -> None: pass
    def finished(self, key: str, outcome: str) -> None: pass
    def note(self, line: str) -> None: pass
    def end(self) -> None: pass


@dataclass
class BatchReport:
    """What this run did (the gradebook holds the grades themselves)."""

    graded: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    crashed: dict[str, str] = field(default_factory=dict)      # key -> why
    seconds: dict[str, float] = field(default_factory=dict)    # key -> grading time
    graded_by: dict[str, str] = field(default_factory=dict)    # key -> which grader (process, Dask worker)
    interrupted: bool = False
    aborted: str = ""                                          # why the batch gave up, if it did
    restarts: int = 0
    elapsed: float = 0.0


_NOT_GRADING = {"instructor", "feedback", "suites"}      # folders whose code cannot change a grade
_NOT_GRADING_FILES = {"cli.py", "__main__.py"}


PACKAGE = Path(__file__).resolve().parents[2]   # the grader package: its code is part of every grade


class BatchAborted(Exception):
    pass


def grader_version(lab: Lab, options: BatchOptions) -> str:
    """What a grade depends on besides the submission: the grader's code, the suite,
    the reference, and the options that change outcomes. Any change regrades."""
    digest = hashlib.sha256()
    engine = [p for p in sorted(PACKAGE.rglob("*.py"))
              if not set(p.relative_to(PACKAGE).parts[:-1]) & _NOT_GRADING and p.name not in _NOT_GRADING_FILES]
    suite = [*sorted(lab.suite_dir.rglob("*.py")), lab.suite_dir / "lab.toml", *lab.probes, *lab.warm_up]
    for path in [*engine, *suite, lab.reference_file]:
        if path.is_file():
            name = path.relative_to(PACKAGE) if path.is_relative_to(PACKAGE) else Path(path.name)
            digest.update(str(name).encode() + b"\0" + path.read_bytes())
    digest.update(repr((options.keyword, options.call_timeout, options.import_timeout)).encode())
    from importlib.metadata import PackageNotFoundError, version

    try:
        package = version("grade")
    except PackageNotFoundError:
        package = "0"
    return f"{package}+{digest.hexdigest()[:16]}"


class Controller:
    def __init__(self, lab: Lab, roster: Roster, book: Gradebook, scheduler: Scheduler,
                 options: BatchOptions = BatchOptions(), progress: Progress | None = None,
                 jobs: int = 1) -> None:
        self.lab, self.roster, self.book, self.scheduler = lab, roster, book, scheduler
        self.options, self.progress = options, progress or QuietProgress()
        self.version = grader_version(lab, options)
        self.max_restarts = options.max_restarts if options.max_restarts is not None else 4 * max(1, jobs)
        self.entries = {e.student: e for e in roster.entries}
        self.pending: list[Job] = []
        self.in_flight: dict[str, Job] = {}
        self.report = BatchReport()
        self.crashes = 0   # graders that died (not stopped for a submission's budget)

    def run(self) -> BatchReport:
        started = time.monotonic()
        self.book.set_problems(self.lab.name, [(p.student, str(p.path), p.kind, p.detail)
                                               for p in self.roster.problems])
        self.book.set_handins(self.lab.name, [(e.student, e.handin, e.text) for e in self.roster.entries])
        if self.options.due:
            self.book.set_due(self.lab.name, self.options.due)
        for entry in self.roster.entries:
            if not self.options.regrade and self.book.is_current(entry.student, self.lab.name,
                                                                 entry.content_hash, self.version):
                self.report.skipped.append(entry.student)
            else:
                self.pending.append(self._job(entry))
        self.progress.begin(len(self.pending), len(self.report.skipped))
        if self.pending:
            self._run_scheduler()
        self.progress.end()
        self.report.elapsed = time.monotonic() - started
        return self.report

    def _job(self, entry: Entry) -> Job:
        o = self.options
        return Job(entry.student, self.lab.name, str(entry.code), keyword=o.keyword,
                   call_timeout=o.call_timeout, import_timeout=o.import_timeout)

    def _run_scheduler(self) -> None:
        self.scheduler.start()
        cancel = True
        try:
            while self.pending or self.in_flight:
                self._fill()
                for event in self.scheduler.poll(0.5):
                    getattr(self, f"on_{event.kind}")(event)
            cancel = False
        except KeyboardInterrupt:
            self.report.interrupted = True
            self.progress.note("interrupted: stopping the graders; what is graded stays graded")
        except BatchAborted as exc:
            self.report.aborted = str(exc)
            self.progress.note(f"stopped: {exc}")
        finally:
            self.scheduler.close(cancel=cancel)

    def _fill(self) -> None:
        while self.pending and self.scheduler.free_slots() > 0:
            job = self.pending.pop(0)
            self.in_flight[job.key] = job
            self.scheduler.submit(job)

    def _current(self, event: Event) -> Job | None:
        """The job an event is about, if it is still the attempt we wait for."""
        job = self.in_flight.get(event.key)
        return job if job is not None and job.attempt == event.attempt else None

    # ------------------------------------------------------------ events
    def on_ready(self, event: Event) -> None:
        pass

    def on_started(self, event: Event) -> None:
        if self._current(event):
            self.progress.started(event.key)

    def on_check_finished(self, event: Event) -> None:
        if self._current(event):
            self.progress.check(event.key, event.data)

    def on_done(self, event: Event) -> None:
        job = self._current(event)
        if job is None:
            return
        del self.in_flight[job.key]
        entry = self.entries[job.key]
        if event.data.get("grader_problem"):   # no worker could start: listed as the grader's problem, no grade
            self._give_up(job, GRADER_PROBLEM, f"not graded, a problem of the grader: {event.data['error']}")
            return
        if "error" in event.data:
            self._give_up(job, "crashed", f"could not be graded: {event.data['error']}")
            return
        try:
            result = GradeResult.from_dict(event.data["result"])
            self.book.record(entry.student, self.lab.name, entry.content_hash, self.version, result,
                             source=str(entry.source), note=entry.note)
        except Exception as exc:   # one result that cannot be filed costs its student only
            self._give_up(job, "crashed", f"its result could not be recorded: {type(exc).__name__}: {exc}")
            return
        self.report.graded.append(job.key)
        self.report.seconds[job.key] = result.execution_time
        self.report.graded_by[job.key] = event.grader
        outcome = "full" if result.score >= result.max_score else "partial" if result.score > 0 else "failed"
        self.progress.finished(job.key, outcome)

    def on_grader_down(self, event: Event) -> None:
        self.report.restarts += 1
        budget = event.data.get("cause") == "budget"   # a submission's own doing: never counts towards giving up
        self.crashes += not budget
        job = self._current(event)
        if job is not None:
            del self.in_flight[job.key]
            if budget:
                self._give_up(job, "timeout", event.data["reason"])
            elif job.attempt <= self.options.retries:
                self.progress.note(f"{job.key}: {event.data['reason']}; trying again")
                self.pending.insert(0, job.retry())
            else:
                self._give_up(job, "crashed", event.data["reason"])
        if self.crashes > self.max_restarts:
            raise BatchAborted(f"{self.crashes} grader processes died "
                               f"(limit {self.max_restarts}); last: {event.data.get('reason')}")
        self.scheduler.restart(event.grader)

    def _give_up(self, job: Job, status: str, why: str) -> None:
        entry = self.entries[job.key]
        self.book.record_failure(entry.student, self.lab.name, entry.content_hash, self.version, status, why,
                                 source=str(entry.source))
        self.report.crashed[job.key] = why
        self.progress.finished(job.key, "crashed")
