"""What ended a check, as data: the feedback a student reads and the exception it came from.

A check that fails raises :class:`CheckFailed` with its :class:`~grader.results.Feedback`;
anything else that ends a check (the student's exception, a crashed worker, an import that
failed) becomes feedback here (:func:`feedback_for`), and the student's exception is kept
as a plain record (:func:`error_record`) for the report to find its root cause.
"""

from __future__ import annotations

import re

import pytest

from grader.grading.session import StudentError, SubmissionImportError, WorkerCrash
from grader.results import ErrorRecord, Feedback, Frame


class CheckFailed(AssertionError):
    def __init__(self, feedback: Feedback) -> None:
        self.feedback = feedback
        super().__init__(feedback.as_text())


def student_raised(exc: StudentError, function: str, given: str, hint: str = "") -> Feedback:
    if exc.type_name == "NotImplementedError":
        return Feedback(f"{function} is not implemented yet", function, given,
                        hint=hint or "replace the `raise NotImplementedError` with your code")
    at = f" at {exc.where}" if exc.where else ""
    return Feedback(f"{function} raised {exc.type_name}: {exc.message}{at}", function, given, hint=hint)


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


_FRAME = re.compile(r"^(?P<file>[^:\n]+):(?P<line>\d+) (?P<function>[^:\s]+): ?(?P<code>.*)$")


def error_record(error: BaseException | None) -> ErrorRecord | None:
    """The student's exception (or the worker's crash) that ended a check, as plain data.

    Suites turn a StudentError into feedback with ``raise CheckFailed(...) from None``;
    the original is still the exception's ``__context__``, so it is found there.
    """
    seen = 0
    while error is not None and seen < 20:
        if isinstance(error, BaseExceptionGroup):
            error = error.exceptions[0]
            continue
        if isinstance(error, SubmissionImportError):
            return None
        if isinstance(error, StudentError):
            return ErrorRecord(error.type_name, error.message, error.where, [parse_frame(line) for line in error.lines])
        if isinstance(error, WorkerCrash):
            return ErrorRecord("", str(error))
        error, seen = error.__cause__ or error.__context__, seen + 1
    return None


def parse_frame(line: str) -> Frame:
    """``model.py:42 Block.forward: return self.layers(x)`` as its parts."""
    match = _FRAME.match(line)
    if match is None:
        return Frame(code=line)
    return Frame(match["file"], int(match["line"]), match["function"], match["code"].strip())
