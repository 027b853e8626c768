"""What travels between the batch controller and its graders: jobs out, events back.

Both are plain data, so they cross a process pipe or a Dask cluster alike.
The protocol is small, like pytest-xdist's: a grader says it is ``ready``,
that it ``started`` a submission, that a check ``finished``, that the
submission is ``done`` (a ``GradeResult.to_dict()``, or an ``error``), and
the scheduler adds ``grader_down`` when a grader process died or was stopped.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

from grader.errors import WorkerStartError

READY, STARTED, CHECK_FINISHED, DONE, GRADER_DOWN = "ready", "started", "check_finished", "done", "grader_down"
GRADER_PROBLEM = "grader problem"   # a submission's status when no worker could start for it: not a grade


def failure(error: BaseException) -> dict[str, Any]:
    """A job that raised instead of giving a result, as a ``done`` event's data; a worker that could not
    start (:class:`~grader.errors.WorkerStartError`) is the grader's problem, not the submission's."""
    return {"error": f"{type(error).__name__}: {error}", "grader_problem": isinstance(error, WorkerStartError)}


@dataclass(frozen=True)
class Job:
    """One submission to grade, as everything a grader on any machine needs."""

    key: str                      # the student id, unique in the batch
    lab: str
    code: str                     # the staged file (on a cluster: a path every node sees, or ``source``)
    source: str = ""              # the file's bytes (decoded utf-8 + surrogateescape), when graders share no disk
    keyword: str | None = None
    call_timeout: float = 10.0
    import_timeout: float = 60.0
    attempt: int = 1

    def retry(self) -> "Job":
        return replace(self, attempt=self.attempt + 1)


@dataclass(frozen=True)
class Event:
    kind: str                     # one of the constants above
    grader: str                   # which grader process (local index, or Dask worker)
    key: str = ""                 # the job's key ('' for grader-level events)
    attempt: int = 0
    data: dict[str, Any] = field(default_factory=dict)
