"""Checks about what happens to arrays *inside* the worker, for any suite (Labs 1–3 use them).

The grader only ever sees copies of what the student's function returns,
so whether it scaled its argument in place, or copes with a strided view,
can only be seen by a probe next to the student's code
(:func:`grader.isolation.inside.probes.call_watching_arrays`).  The judgement is made here.
Also the comparison for results whose float dtype the stub leaves free.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from grader.checks.compare import (CheckFailed, Feedback, call_student, describe, describe_call, expect, expect_match,
                           run_probe, student_raised)
from grader.grading.session import RemoteModule, StudentError, SubmissionImportError, WorkerCrash

LAYOUTS = {"every_other": "a strided view audio[::2] (not contiguous)",
           "reversed": "a reversed view audio[::-1] (negative stride)",
           "transposed": "a transposed view (Fortran order)"}


def call_watching(submission: RemoteModule, function: str, *args: Any, views: dict[int, str] | None = None,
                  hint: str = "", **kwargs: Any) -> tuple[Any, list[str], str]:
    """Call the student's ``function`` in the worker, its array arguments watched.

    ``views`` hands argument ``i`` over as a view of the given array (see
    :data:`LAYOUTS`).  Returns (result, names of the arguments changed in
    place, the call as the report shows it).
    """
    call = describe_call(function, args, kwargs)
    for index, view in (views or {}).items():
        call += f", argument {index + 1} given as {LAYOUTS[view]}"
    seen = run_probe(submission, "call_watching_arrays", function, list(args), kwargs,
                     views={str(i): v for i, v in (views or {}).items()}, input=call, hint=hint)
    return seen["result"], _names(seen["changed"]), call


def _names(keys: list[str]) -> list[str]:
    return [f"argument {int(k) + 1}" if k.isdigit() else k for k in keys]


def expect_new_array(submission: RemoteModule, function: str, *args: Any, hint: str = "", **kwargs: Any) -> Any:
    """The function must return a new array: its array arguments left as they were, and
    no memory shared with them.  Returns its result."""
    call = describe_call(function, args, kwargs)
    seen = run_probe(submission, "call_watching_arrays", function, list(args), kwargs, views={}, input=call,
                     hint=hint)
    changed, shared = _names(seen["changed"]), _names(seen["shared"])
    hint = hint or "compute the result into a new array (x * k, not x *= k) and leave the caller's data alone"
    expect(not changed, f"{function} changed its input in place", function=function, input=call,
           rows=[("arrays passed in", "left as they were", "changed: " + ", ".join(changed))], hint=hint)
    expect(not shared, f"{function} returned its input (or a view of it), not a new array", function=function,
           input=call, rows=[("result", "a new array", "shares memory with " + ", ".join(shared))], hint=hint)
    return seen["result"]


def expect_raises_in_worker(submission: RemoteModule, probe: str, function: str, error: str, *args: Any,
                            input: str, hint: str = "", **kwargs: Any) -> None:
    """Like :func:`grader.checks.compare.expect_raises`, for an input that a probe builds in the
    worker (empty arrays cannot cross the wire)."""
    try:
        got = submission.probe(probe, function, *args, **kwargs)
    except SubmissionImportError:
        raise
    except StudentError as exc:
        if exc.type_name == "NotImplementedError" or not exc.is_a(error):
            feedback = student_raised(exc, function, input, hint)
            raise CheckFailed(Feedback(feedback.summary, function, input, [("exception", error, str(exc))],
                                       hint)) from None
        return
    except WorkerCrash as exc:
        raise CheckFailed(Feedback(str(exc), function, input, hint=hint)) from None
    expect(False, f"{function} should raise {error} for this input", function=function, input=input,
           rows=[("result", f"raises {error}", describe(got))], hint=hint)


def as_expected_float(got: Any, expected: Any) -> Any:
    """``got`` cast to the expected float dtype when both are float arrays: the values are what count."""
    if isinstance(got, np.ndarray) and isinstance(expected, np.ndarray) and got.dtype.kind == "f" \
            and expected.dtype.kind == "f" and got.dtype != expected.dtype:
        return got.astype(expected.dtype)
    return got


def values_match(submission: RemoteModule, reference: Any, function: str, *args: Any, hint: str = "",
                 rtol: float = 1e-5, atol: float = 1e-6, **kwargs: Any) -> Any:
    """Like :func:`grader.checks.compare.compare`, but any floating dtype is accepted."""
    expected = getattr(reference, function)(*args, **kwargs)
    got = call_student(submission, function, *args, hint=hint, **kwargs)
    expect_match(as_expected_float(got, expected), expected, function=function,
                 input=describe_call(function, args, kwargs), hint=hint, rtol=rtol, atol=atol)
    return got
