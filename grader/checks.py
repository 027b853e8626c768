"""Checks shared by every lab: call the student and the reference, compare, explain.

A failing check raises :class:`CheckFailed`, which carries what the report
shows a student: the function, the input, expected against got (shape,
dtype, device, values), and a hint.  Comparisons run here, in the grader,
on plain values rebuilt from the wire; no student object is ever asked
whether it is equal to anything.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np
import torch

from grader.remote import RemoteModule, StudentError, SubmissionImportError, WorkerCrash
from grader.wire import Handle, TensorValue


@dataclass
class Feedback:
    """What went wrong, as the report shows it."""

    summary: str
    function: str = ""
    input: str = ""
    rows: list[tuple[str, str, str]] = field(default_factory=list)  # (what, expected, got)
    hint: str = ""

    def as_text(self) -> str:
        lines = [self.summary]
        if self.function:
            lines.append(f"function: {self.function}")
        if self.input:
            lines.append(f"input: {self.input}")
        lines += [f"{what}: expected {exp}, got {got}" for what, exp, got in self.rows]
        if self.hint:
            lines.append(f"hint: {self.hint}")
        return "\n".join(lines)


class CheckFailed(AssertionError):
    def __init__(self, feedback: Feedback) -> None:
        self.feedback = feedback
        super().__init__(feedback.as_text())


# ------------------------------------------------------------------ describing
def describe(value: Any) -> str:
    """A short, student-readable description of a value."""
    if isinstance(value, TensorValue):
        return f"{_dtype(value.dtype)} tensor of shape {tuple(value.shape)} on {value.device}"
    if isinstance(value, torch.Tensor):
        grad = ", requires_grad" if value.requires_grad else ""
        return f"{_dtype(value.dtype)} tensor of shape {tuple(value.shape)} on {value.device}{grad}"
    if isinstance(value, np.ndarray):
        layout = "" if value.flags.c_contiguous else (" (Fortran order)" if value.flags.f_contiguous else " (strided view)")
        return f"{value.dtype} array of shape {value.shape}{layout}"
    if isinstance(value, Handle):
        return f"a {value.type_name.rpartition('.')[2]} object"
    if isinstance(value, (list, tuple)) and len(value) > 3:
        return f"{type(value).__name__} of {len(value)} items"
    if isinstance(value, (list, tuple)):
        inner = ", ".join(describe(v) for v in value)
        return f"[{inner}]" if isinstance(value, list) else f"({inner})"
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def describe_call(function: str, args: tuple, kwargs: dict) -> str:
    parts = [describe(a) for a in args] + [f"{k}={describe(v)}" for k, v in kwargs.items()]
    return f"{function}({', '.join(parts)})"


def _dtype(dtype: Any) -> str:
    return str(dtype).removeprefix("torch.")


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
    """Run a probe (grader/probes.py) that calls the student's ``function``."""
    return attempt(lambda: submission.probe(probe, function, *args, **kwargs), function=function,
                   input=input or describe_call(function, args, kwargs), hint=hint)


def student_raised(exc: StudentError, function: str, given: str, hint: str = "") -> Feedback:
    if exc.type_name == "NotImplementedError":
        return Feedback(f"{function} is not implemented yet", function, given,
                        hint=hint or "replace the `raise NotImplementedError` with your code")
    at = f" at {exc.where}" if exc.where else ""
    return Feedback(f"{function} raised {exc.type_name}: {exc.message}{at}", function, given, hint=hint)


def compare(submission: RemoteModule, reference: Any, function: str, *args: Any,
            hint: str = "", rtol: float = 1e-5, atol: float = 1e-6, **kwargs: Any) -> Any:
    """Call ``function`` in both, compare the results, return the student's."""
    expected = getattr(reference, function)(*args, **kwargs)
    got = call_student(submission, function, *args, hint=hint, **kwargs)
    expect_match(got, expected, function=function, input=describe_call(function, args, kwargs),
                 hint=hint, rtol=rtol, atol=atol)
    return got


def expect_raises(submission: RemoteModule, function: str, error: str, *args: Any,
                  hint: str = "", match: str = "", **kwargs: Any) -> StudentError:
    """The student's function must raise ``error`` (or a subclass) for this input."""
    given = describe_call(function, args, kwargs)
    try:
        got = getattr(submission, function)(*args, **kwargs)
    except SubmissionImportError:
        raise
    except StudentError as exc:
        if exc.type_name == "NotImplementedError" and error != "NotImplementedError":
            raise CheckFailed(student_raised(exc, function, given, hint)) from None
        if not exc.is_a(error):
            raise CheckFailed(Feedback(f"{function} raised {exc.type_name}, expected {error}",
                                       function, given, [("exception", error, str(exc))], hint)) from None
        if match and match.lower() not in exc.message.lower():
            raise CheckFailed(Feedback(f"the {error} message should mention {match!r}",
                                       function, given, [("message", f"mentions {match!r}", exc.message)],
                                       hint)) from None
        return exc
    except WorkerCrash as exc:
        raise CheckFailed(Feedback(str(exc), function, given, hint=hint)) from None
    raise CheckFailed(Feedback(f"{function} should raise {error} for this input", function, given,
                               [("result", f"raises {error}", describe(got))], hint))


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
        what = rows[0][0]
        raise CheckFailed(Feedback(f"{function or 'the result'}: wrong {what}", function, input, rows, hint))


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
    if type(expected) is float and type(got) in (float, int):
        if not math.isclose(got, expected, rel_tol=rtol, abs_tol=atol) and not (math.isnan(got) and math.isnan(expected)):
            return [(label("value"), repr(expected), repr(got))]
        return []
    if isinstance(expected, (np.generic,)):
        return _array_rows(np.asarray(got) if isinstance(got, np.ndarray) else got, np.asarray(expected), label, rtol, atol)
    if type(got) is not type(expected) or got != expected:
        return [(label("value"), describe(expected), describe(got))]
    return []


def _kind(value: Any) -> str:
    if isinstance(value, (list, tuple)):
        return f"{type(value).__name__} of {len(value)}"
    return describe(value)


def _tensor_rows(got, expected: torch.Tensor, label, rtol, atol, device) -> list:
    if not isinstance(got, TensorValue):
        return [(label("type"), "a torch.Tensor", describe(got))]
    rows = []
    want_device = device or str(expected.device)
    if tuple(got.shape) != tuple(expected.shape):
        rows.append((label("shape"), str(tuple(expected.shape)), str(tuple(got.shape))))
    if got.dtype != expected.dtype:
        rows.append((label("dtype"), _dtype(expected.dtype), _dtype(got.dtype)))
    if _device_kind(got.device) != _device_kind(want_device):
        rows.append((label("device"), want_device, got.device))
    if rows or got.data is None or expected.device.type == "meta":
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
    if torch.allclose(got, expected, rtol=rtol, atol=atol, equal_nan=True):
        return []
    diff = (got.to(torch.complex128 if got.is_complex() else torch.float64)
            - expected.to(torch.complex128 if got.is_complex() else torch.float64)).abs()
    diff = torch.nan_to_num(diff, nan=float("inf"))
    worst = int(torch.argmax(diff))
    index = tuple(int(i) for i in np.unravel_index(worst, tuple(got.shape)))
    return [(label("values"), f"within atol={atol:g}, rtol={rtol:g}",
             f"max abs difference {float(diff.max()):.3g} at index {index} "
             f"(expected {expected.flatten()[worst].item():.6g}, got {got.flatten()[worst].item():.6g})")]
