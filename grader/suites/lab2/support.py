"""Lab 2 suite helpers: comparisons where the stub leaves the float dtype free."""

from __future__ import annotations

from typing import Any

import numpy as np

from grader.checks import call_student, describe_call, expect_match
from grader.remote import RemoteModule


def as_expected_float(got: Any, expected: Any) -> Any:
    """``got`` cast to the expected float dtype when both are float arrays: the values are what count."""
    if isinstance(got, np.ndarray) and isinstance(expected, np.ndarray) and got.dtype.kind == "f" \
            and expected.dtype.kind == "f" and got.dtype != expected.dtype:
        return got.astype(expected.dtype)
    return got


def values_match(submission: RemoteModule, reference: Any, function: str, *args: Any, hint: str = "",
                 rtol: float = 1e-5, atol: float = 1e-6, **kwargs: Any) -> Any:
    """Like :func:`grader.checks.compare`, but any floating dtype is accepted."""
    expected = getattr(reference, function)(*args, **kwargs)
    got = call_student(submission, function, *args, hint=hint, **kwargs)
    expect_match(as_expected_float(got, expected), expected, function=function,
                 input=describe_call(function, args, kwargs), hint=hint, rtol=rtol, atol=atol)
    return got
