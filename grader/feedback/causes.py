"""Root causes: one student mistake, said once.

A check that ends in the student's exception carries it as data
(:func:`grader.grading.outcomes.error_record`): type, message, the student's own
frames.  Failures that share the same exception type at the same line of the
student's file are one mistake (:func:`root_causes`), whatever the inputs and
messages of the checks were.  Reads results only: no worker, no torch.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Iterable

from grader.results import CheckResult, ErrorRecord


def cause_key(error: ErrorRecord) -> tuple:
    """Same type at the same line of the student's file; a crash by its message."""
    frame = error.innermost
    if frame.line:
        return (error.type, frame.file, frame.line)
    return (error.type, error.message)


def not_started(check: CheckResult) -> bool:
    """The check failed on the stub's own ``raise NotImplementedError`` in the function it grades."""
    error = check.error
    if check.status != "failed" or not error or error.type != "NotImplementedError":
        return False
    raised_in = error.innermost.function
    return not check.function or raised_in == check.function or raised_in.startswith(check.function + ".")


@dataclass
class Cause:
    """One mistake and the checks it cost."""

    error: ErrorRecord
    checks: list[CheckResult] = field(default_factory=list)

    @property
    def points(self) -> float:
        return sum(c.points for c in self.checks)


def root_causes(checks: Iterable[CheckResult]) -> list[Cause]:
    """Failures sharing one student exception at one line, for causes that cost two checks or more."""
    causes: dict[tuple, Cause] = {}
    for check in checks:
        if check.status == "failed" and check.error and not not_started(check):
            causes.setdefault(cause_key(check.error), Cause(check.error)).checks.append(check)
    return [cause for cause in causes.values() if len(cause.checks) > 1]
