"""Hints for the mistakes we know: a device hard-coded as ``"cuda"`` on a machine without one,
a function another one calls that is not written yet, a shape that does not fit a layer.

Each reads the student's exception as a plain record (:func:`grader.grading.outcomes.error_record`)
and the lab's functions (:mod:`grader.course.stub`); none runs anything.
"""

from __future__ import annotations

import re

from grader.course.stub import Definition
from grader.results import ErrorRecord


_NO_CUDA = ("Torch not compiled with CUDA enabled", "Found no NVIDIA driver", "No CUDA GPUs are available",
            "CUDA driver initialization failed", "no CUDA-capable device")


def known_hint(error: ErrorRecord | None, function: str, definitions: list[Definition]) -> str:
    """A hint for a mistake we recognise, or ''."""
    if not error or not error.type:
        return ""
    for explain in (_hard_coded_cuda, _not_written_yet, _shape_mismatch):
        hint = explain(error, function, definitions)
        if hint:
            return hint
    return ""


def _hard_coded_cuda(error: ErrorRecord, function: str, definitions: list[Definition]) -> str:
    if not any(text.lower() in error.message.lower() for text in _NO_CUDA):
        return ""
    frame = error.innermost
    asked = f'your line {frame.line} asks for "cuda"' if "cuda" in frame.code else "your code asks for the GPU"
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


def _not_written_yet(error: ErrorRecord, function: str, definitions: list[Definition]) -> str:
    if error.type != "NotImplementedError":
        return ""
    raised_in = error.innermost.function
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


def _shape_mismatch(error: ErrorRecord, function: str, definitions: list[Definition]) -> str:
    for pattern, words in _SHAPES:
        match = pattern.search(error.message)
        if match:
            break
    else:
        return ""
    frames = [f for f in error.frames if f.line]
    if not frames:
        return words.format(**match.groupdict()) + "."
    inner = frames[-1]
    called = _called_layer(inner.code)
    place = f"in `{inner.function}` line {inner.line}" + (f" (`{called}`)" if called else "")
    hint = f"{place}, {words.format(**match.groupdict())}."
    if len(frames) > 1:
        outer = frames[-2]
        hint += f" Look at the tensor that reaches it from `{outer.function}` line {outer.line}."
    return hint


def _called_layer(code: str) -> str:
    """``self.layers`` for ``return self.layers(x)``: the layer a line calls."""
    match = re.search(r"(self(?:\.\w+)+)\s*\(", code)
    return match.group(1) if match else ""
