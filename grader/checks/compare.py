"""Checks shared by every lab: call the student and the reference, compare, explain.

A failing check raises :class:`CheckFailed`, which carries what the report
shows a student: the function, the input, expected against got (shape,
dtype, device, values), and a hint.  Comparisons run here, in the grader,
on plain values rebuilt from the wire; no student object is ever asked
whether it is equal to anything.
"""

from __future__ import annotations

import math
from typing import Any, Callable

import numpy as np
import torch

from grader.grading.describe import TENSOR_ROW, _describe_tensor, _dtype, describe, describe_call, tensor_problem
from grader.grading.outcomes import CheckFailed, student_raised
from grader.grading.session import RemoteModule, StudentError, SubmissionImportError, WorkerCrash
from grader.isolation.inside.wire import TensorValue
from grader.results import Feedback


# ------------------------------------------------------------------ calling
def attempt(run: Callable[[], Any], *, function: str, input: str = "", hint: str = "") -> Any:
    """Run something that executes student code; its exception or crash becomes feedback."""
    try:
        return run()
    except SubmissionImportError:
        raise
    except StudentError as exc:
        raise CheckFailed(student_raised(exc, function, input, hint)) from None
    except WorkerCrash as exc:
        raise CheckFailed(Feedback(str(exc), function, input, hint=hint)) from None


def call_student(submission: RemoteModule, function: str, *args: Any, hint: str = "", **kwargs: Any) -> Any:
    """Call a student function; turn its exception or crash into feedback."""
    return attempt(lambda: getattr(submission, function)(*args, **kwargs), function=function,
                   input=describe_call(function, args, kwargs), hint=hint)


def run_probe(submission: RemoteModule, probe: str, function: str, *args: Any, input: str = "",
              hint: str = "", **kwargs: Any) -> Any:
    """Run a probe (grader/isolation/inside/probes.py) that calls the student's ``function``."""
    return attempt(lambda: submission.probe(probe, function, *args, **kwargs), function=function,
                   input=input or describe_call(function, args, kwargs), hint=hint)


def compare(submission: RemoteModule, reference: Any, function: str, *args: Any,
            hint: str = "", rtol: float = 1e-5, atol: float = 1e-6, **kwargs: Any) -> Any:
    """Call ``function`` in both, compare the results, return the student's."""
    expected = getattr(reference, function)(*args, **kwargs)
    got = call_student(submission, function, *args, hint=hint, **kwargs)
    expect_match(got, expected, function=function, input=describe_call(function, args, kwargs),
                 hint=hint, rtol=rtol, atol=atol)
    return got


def expect_raises(submission: RemoteModule, function: str, error: str | tuple[str, ...], *args: Any,
                  hint: str = "", match: str = "", **kwargs: Any) -> StudentError:
    """The student's function must raise the documented ``error`` for this input.

    Accepted: that exception itself, or a subclass of it whose only built-in
    ancestry is that exception's (``class ShapeError(ValueError)``).  A class
    that also inherits other built-in exceptions is refused: one exception
    that is a TypeError, a ValueError and a FileNotFoundError at once is no
    error handling.  ``error`` may be a tuple where a docstring documents several.
    """
    names = (error,) if isinstance(error, str) else tuple(error)
    shown = " or ".join(names)
    given = describe_call(function, args, kwargs)
    try:
        got = getattr(submission, function)(*args, **kwargs)
    except SubmissionImportError:
        raise
    except StudentError as exc:
        if exc.type_name == "NotImplementedError" and "NotImplementedError" not in names:
            raise CheckFailed(student_raised(exc, function, given, hint)) from None
        if not any(exc.is_a(name) for name in names):
            raise CheckFailed(wrong_exception(exc, names, function, given, hint)) from None
        if match and match.lower() not in exc.message.lower():
            raise CheckFailed(Feedback(f"the {shown} message should mention {match!r}",
                                       function, given, [("message", f"mentions {match!r}", exc.message)],
                                       hint)) from None
        return exc
    except WorkerCrash as exc:
        raise CheckFailed(Feedback(str(exc), function, given, hint=hint)) from None
    raise CheckFailed(Feedback(f"{function} should raise {shown} for this input", function, given,
                               [("result", f"raises {shown}", describe(got))], hint))


def wrong_exception(exc: StudentError, names: tuple[str, ...], function: str, given: str, hint: str) -> Feedback:
    """Feedback for an exception of the wrong type, or of too many types at once."""
    shown = " or ".join(names)
    others = [n for name in names for n in exc.other_lines(name)]
    if others and any(f"builtins.{name}" in exc.mro for name in names):
        also = ", ".join(dict.fromkeys(others))
        return Feedback(f"{function} raised {exc.type_name}, which is a {shown} but also a {also}",
                        function, given, [("exception", f"{shown} (or your own subclass of it alone)",
                                           f"{exc.type_name}, also a {also}")],
                        hint or f"raise the documented {shown}: an exception that is every kind of error at once "
                                "does not say what went wrong")
    return Feedback(f"{function} raised {exc.type_name}, expected {shown}",
                    function, given, [("exception", shown, str(exc))], hint)


def expect(condition: bool, summary: str, *, function: str = "", input: str = "",
           rows: list[tuple[str, str, str]] | None = None, hint: str = "") -> None:
    """A property check: fail with this feedback unless ``condition`` holds."""
    if condition is not True:
        raise CheckFailed(Feedback(summary, function, input, rows or [], hint))


# ------------------------------------------------------------------ comparing
def expect_match(got: Any, expected: Any, *, function: str = "", input: str = "", hint: str = "",
                 rtol: float = 1e-5, atol: float = 1e-6, device: str | None = None) -> None:
    rows = mismatches(got, expected, rtol=rtol, atol=atol, device=device)
    if rows:
        what, wanted, seen = rows[0]
        summary = f"{function or 'the result'}: wrong {what}"
        if what.endswith(TENSOR_ROW):
            summary = f"{function or 'the result'} returned {seen}; expected {wanted}"
        raise CheckFailed(Feedback(summary, function, input, rows, hint))


def mismatches(got: Any, expected: Any, path: str = "", *, rtol: float, atol: float,
               device: str | None = None) -> list[tuple[str, str, str]]:
    """Rows (what, expected, got) where ``got`` differs from ``expected``."""
    label = (lambda what: f"{path} {what}".strip())
    if isinstance(expected, torch.Tensor):
        return _tensor_rows(got, expected, label, rtol, atol, device)
    if isinstance(expected, np.ndarray):
        return _array_rows(got, expected, label, rtol, atol)
    if isinstance(expected, (tuple, list)):
        if type(got) is not type(expected) or len(got) != len(expected):
            return [(label("type") if path else "type", _kind(expected), _kind(got))]
        rows = []
        for i, (g, e) in enumerate(zip(got, expected)):
            rows += mismatches(g, e, f"{path}[{i}]", rtol=rtol, atol=atol, device=device)
        return rows
    if isinstance(expected, dict):
        if type(got) is not dict or set(got) != set(expected):
            return [(label("keys"), str(sorted(expected)), str(sorted(got)) if type(got) is dict else _kind(got))]
        rows = []
        for key in expected:
            rows += mismatches(got[key], expected[key], f"{path}[{key!r}]", rtol=rtol, atol=atol, device=device)
        return rows
    if isinstance(expected, float) and not isinstance(expected, np.generic) and (
            type(got) is int or isinstance(got, float)):  # np.float64 is a float: judged by value
        got, expected = float.__float__(got) if isinstance(got, float) else got, float.__float__(expected)
        if not math.isclose(got, expected, rel_tol=rtol, abs_tol=atol) and not (math.isnan(got) and math.isnan(expected)):
            return [(label("value"), repr(expected), repr(got))]
        return []
    if isinstance(expected, (np.generic,)):
        return _array_rows(np.asarray(got) if isinstance(got, np.ndarray) else got, np.asarray(expected), label, rtol, atol)
    base = _documented_type(expected)
    if base is not None:
        same = _documented_type(got) is base and base(got) == base(expected)
        return [] if same else [(label("value"), describe(base(expected)), describe(got))]
    if type(got) is not type(expected) or got != expected:
        return [(label("value"), describe(expected), describe(got))]
    return []


def _documented_type(value: Any) -> type | None:
    """The built-in type a value is judged as: an instance of a ``str`` or ``int`` subclass
    is judged by its value, as the ``str``/``int`` it is; a bool is a bool, not an int."""
    if isinstance(value, bool) or isinstance(value, np.generic):
        return bool if type(value) is bool else None
    for base in (str, int):
        if isinstance(value, base):
            return base
    return None


def _kind(value: Any) -> str:
    if isinstance(value, (list, tuple)):
        return f"{type(value).__name__} of {len(value)}"
    return describe(value)


def expect_plain_tensor(got: Any, *, function: str, input: str = "", hint: str = "", dtype: Any = None) -> None:
    """``got`` must be a plain dense tensor with values (what a ``-> torch.Tensor`` function documents)."""
    wanted = f"a dense {_dtype(dtype) + ' ' if dtype is not None else ''}torch.Tensor"
    if not isinstance(got, TensorValue):
        raise CheckFailed(Feedback(f"{function} should return a torch.Tensor", function, input,
                                   [("result", "a torch.Tensor", describe(got))], hint))
    if tensor_problem(got):
        seen = _describe_tensor(got, allow_meta=False)
        raise CheckFailed(Feedback(f"{function} returned {seen}; expected {wanted}", function, input,
                                   [(TENSOR_ROW, wanted, seen)], hint))


def _tensor_rows(got, expected: torch.Tensor, label, rtol, atol, device) -> list:
    if not isinstance(got, TensorValue):
        return [(label("type"), "a torch.Tensor", describe(got))]
    problem = tensor_problem(got, allow_meta=True)  # a meta result where none is expected: wrong device, below
    if problem:
        return [(label(TENSOR_ROW), f"a dense {_dtype(expected.dtype)} tensor", describe(got))]
    rows = []
    want_device = device or str(expected.device)
    if tuple(got.shape) != tuple(expected.shape):
        rows.append((label("shape"), str(tuple(expected.shape)), str(tuple(got.shape))))
    if got.dtype != expected.dtype:
        rows.append((label("dtype"), _dtype(expected.dtype), _dtype(got.dtype)))
    if _device_kind(got.device) != _device_kind(want_device):
        rows.append((label("device"), want_device, got.device))
    if rows or expected.device.type == "meta":
        return rows
    return _value_rows(got.data, expected.detach().cpu(), label, rtol, atol)


def _device_kind(device: str) -> str:
    """cuda and cuda:0 name the same device when there is one GPU."""
    return device.replace(":0", "") if device.endswith(":0") else device


def _array_rows(got, expected: np.ndarray, label, rtol, atol) -> list:
    if not isinstance(got, np.ndarray):
        return [(label("type"), "a numpy.ndarray", describe(got))]
    rows = []
    if got.shape != expected.shape:
        rows.append((label("shape"), str(expected.shape), str(got.shape)))
    if got.dtype != expected.dtype:
        rows.append((label("dtype"), str(expected.dtype), str(got.dtype)))
    if rows:
        return rows
    return _value_rows(torch.from_numpy(np.ascontiguousarray(got)), torch.from_numpy(np.ascontiguousarray(expected)),
                       label, rtol, atol)


def _value_rows(got: torch.Tensor, expected: torch.Tensor, label, rtol, atol) -> list:
    if got.numel() == 0:
        return []
    if got.dtype == torch.bool or not (got.is_floating_point() or got.is_complex()):
        same = torch.equal(got, expected)
        return [] if same else [(label("values"), "exactly equal", f"{int((got != expected).sum())} elements differ")]
    if torch.equal(got, expected) or torch.allclose(got, expected, rtol=rtol, atol=atol, equal_nan=True):
        return []   # equal first: a memory compare, where allclose takes 0.1 s for a spectrogram
    diff = (got.to(torch.complex128 if got.is_complex() else torch.float64)
            - expected.to(torch.complex128 if got.is_complex() else torch.float64)).abs()
    diff = torch.nan_to_num(diff, nan=float("inf"))
    worst = int(torch.argmax(diff))
    index = tuple(int(i) for i in np.unravel_index(worst, tuple(got.shape)))
    return [(label("values"), f"within atol={atol:g}, rtol={rtol:g}",
             f"max abs difference {float(diff.max()):.3g} at index {index} "
             f"(expected {expected.flatten()[worst].item():.6g}, got {got.flatten()[worst].item():.6g})")]
