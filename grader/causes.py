"""Root causes: one student mistake, said once, with a hint for the mistakes we know.

A check that ends in the student's exception carries it as data
(:func:`error_record`): type, message, the student's own frames.  Failures
that share the same exception type at the same line of the student's file
are one mistake (:func:`root_causes`), whatever the inputs and messages of
the checks were.  For a few mistakes that look alike in every lab the hint
is specific (:func:`known_hint`): a device hard-coded as ``"cuda"`` on a
machine without one, a shape that does not fit a layer, a function that
another one calls and that is not written yet.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Iterable

from grader.remote import StudentError, SubmissionImportError, WorkerCrash
from grader.results import CheckResult
from grader.stub import Definition

_FRAME = re.compile(r"^(?P<file>[^:\n]+):(?P<line>\d+) (?P<function>[^:\s]+): ?(?P<code>.*)$")


def error_record(error: BaseException | None) -> dict[str, Any] | None:
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
            return {"type": error.type_name, "message": error.message, "where": error.where,
                    "frames": [parse_frame(line) for line in error.lines]}
        if isinstance(error, WorkerCrash):
            return {"type": "", "message": str(error), "where": "", "frames": []}
        error, seen = error.__cause__ or error.__context__, seen + 1
    return None


def parse_frame(line: str) -> dict[str, Any]:
    """``model.py:42 Block.forward: return self.layers(x)`` as its parts."""
    match = _FRAME.match(line)
    if match is None:
        return {"file": "", "line": 0, "function": "", "code": line}
    return {"file": match["file"], "line": int(match["line"]), "function": match["function"],
            "code": match["code"].strip()}


def innermost(error: dict[str, Any]) -> dict[str, Any]:
    frames = error.get("frames") or []
    return frames[-1] if frames else {"file": "", "line": 0, "function": "", "code": ""}


def cause_key(error: dict[str, Any]) -> tuple:
    """Same type at the same line of the student's file; a crash by its message."""
    frame = innermost(error)
    if frame["line"]:
        return (error["type"], frame["file"], frame["line"])
    return (error["type"], error["message"])


def not_started(check: CheckResult) -> bool:
    """The check failed on the stub's own ``raise NotImplementedError`` in the function it grades."""
    error = check.error
    if check.status != "failed" or not error or error["type"] != "NotImplementedError":
        return False
    raised_in = innermost(error)["function"]
    return not check.function or raised_in == check.function or raised_in.startswith(check.function + ".")


@dataclass
class Cause:
    """One mistake and the checks it cost."""

    error: dict[str, Any]
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


# ------------------------------------------------------------------ known causes
_NO_CUDA = ("Torch not compiled with CUDA enabled", "Found no NVIDIA driver", "No CUDA GPUs are available",
            "CUDA driver initialization failed", "no CUDA-capable device")


def known_hint(error: dict[str, Any] | None, function: str, definitions: list[Definition]) -> str:
    """A hint for a mistake we recognise, or ''."""
    if not error or not error.get("type"):
        return ""
    for explain in (_hard_coded_cuda, _not_written_yet, _shape_mismatch):
        hint = explain(error, function, definitions)
        if hint:
            return hint
    return ""


def _hard_coded_cuda(error: dict, function: str, definitions: list[Definition]) -> str:
    if not any(text.lower() in error["message"].lower() for text in _NO_CUDA):
        return ""
    frame = innermost(error)
    asked = f'your line {frame["line"]} asks for "cuda"' if "cuda" in frame["code"] else "your code asks for the GPU"
    names = {d.name: d for d in definitions}
    params = names[function].params if function in names else ()
    if "device" in params:
        fix = f"use `{function}`'s `device` argument instead of a fixed device"
        if "select_device" in names and function != "select_device":
            fix += " (and `select_device()` when it is None, as the docstring says)"
    elif "select_device" in names:
        fix = "ask `select_device()` for the device instead of naming one"
    else:
        fix = "use the device of what you are given (a tensor's `.device`, a model's parameters' device)"
    return (f"{asked}, and this machine has no CUDA GPU (a grader, a laptop or a Mac may have none): "
            f"{fix}, so the same code runs everywhere")


def _not_written_yet(error: dict, function: str, definitions: list[Definition]) -> str:
    if error["type"] != "NotImplementedError":
        return ""
    raised_in = innermost(error)["function"]
    if not raised_in or raised_in == function or raised_in.startswith(function + "."):
        return ""
    return (f"`{raised_in}` is not written yet, and `{function}` needs it: write `{raised_in}` first "
            f"(replace its `raise NotImplementedError`)")


# torch's messages for tensors that do not fit a layer or each other
_SHAPES = (
    (re.compile(r"weight of size \[(?P<weight>[\d, ]+)\], expected input\[(?P<input>[\d, ]+)\] "
                r"to have (?P<want>\d+) channels, but got (?P<got>\d+) channels"),
     "a convolution with weight [{weight}] expects inputs with {want} channels, and got a tensor of "
     "shape [{input}] ({got} channels)"),
    (re.compile(r"mat1 and mat2 shapes cannot be multiplied \((?P<a>\d+x\d+) and (?P<b>\d+x\d+)\)"),
     "a matrix product (a Linear layer) got an input {a} that does not fit its weight {b}"),
    (re.compile(r"running_mean should contain (?P<want>\d+) elements not (?P<got>\d+)"),
     "a BatchNorm layer made for {want} channels got a tensor with {got} channels"),
    (re.compile(r"Sizes of tensors must match except in dimension (?P<dim>\d+)\. Expected size (?P<want>\d+) "
                r"but got size (?P<got>\d+)"),
     "torch.cat got tensors whose sizes differ outside dimension {dim} ({want} against {got})"),
    (re.compile(r"The size of tensor a \((?P<a>\d+)\) must match the size of tensor b \((?P<b>\d+)\) "
                r"at non-singleton dimension (?P<dim>\d+)"),
     "two tensors of different sizes ({a} against {b} in dimension {dim}) were combined element-wise"),
)


def _shape_mismatch(error: dict, function: str, definitions: list[Definition]) -> str:
    for pattern, words in _SHAPES:
        match = pattern.search(error["message"])
        if match:
            break
    else:
        return ""
    frames = [f for f in error.get("frames", []) if f["line"]]
    if not frames:
        return words.format(**match.groupdict()) + "."
    inner = frames[-1]
    called = _called_layer(inner["code"])
    place = f"in `{inner['function']}` line {inner['line']}" + (f" (`{called}`)" if called else "")
    hint = f"{place}, {words.format(**match.groupdict())}."
    if len(frames) > 1:
        outer = frames[-2]
        hint += f" Look at the tensor that reaches it from `{outer['function']}` line {outer['line']}."
    return hint


def _called_layer(code: str) -> str:
    """``self.layers`` for ``return self.layers(x)``: the layer a line calls."""
    match = re.search(r"(self(?:\.\w+)+)\s*\(", code)
    return match.group(1) if match else ""
