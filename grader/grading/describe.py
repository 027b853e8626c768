"""Values described for a student: a short, readable line for an argument or a result.

Used by the checks (the input a check gave, what came back) and by a release that does
not match its suite (the call it never recorded).  Plain values only: nothing here asks a
student's object anything.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from grader import inert
from grader.isolation.inside.wire import Handle, TensorValue


def describe(value: Any) -> str:
    """A short, student-readable description of a value."""
    if isinstance(value, TensorValue):
        return _describe_tensor(value, allow_meta=True)
    if isinstance(value, torch.Tensor):
        grad = ", requires_grad" if value.requires_grad else ""
        return f"{_dtype(value.dtype)} tensor of shape {tuple(value.shape)} on {value.device}{grad}"
    if isinstance(value, np.ndarray):
        layout = "" if value.flags.c_contiguous else (" (Fortran order)" if value.flags.f_contiguous else " (strided view)")
        return f"{value.dtype} array of shape {value.shape}{layout}"
    if isinstance(value, Handle):
        return f"a {inert.line(value.type_name.rpartition('.')[2], inert.NAME)} object"
    if isinstance(value, (list, tuple)) and len(value) > 3:
        return f"{type(value).__name__} of {len(value)} items"
    if isinstance(value, (list, tuple)):
        inner = ", ".join(describe(v) for v in value)
        return f"[{inner}]" if isinstance(value, list) else f"({inner})"
    if isinstance(value, str) and len(value) > 4 * inert.SHORT:
        value = value[: 4 * inert.SHORT]  # repr of the part that can be shown, not of megabytes
    text = inert.line(repr(value), 10 * inert.SHORT)
    return text if len(text) <= inert.SHORT else text[:inert.SHORT - 3] + "..."


def _describe_tensor(value: TensorValue, allow_meta: bool) -> str:
    problem = tensor_problem(value, allow_meta)
    if problem:
        return f"{problem}, {_dtype(value.dtype)} of shape {tuple(value.shape)}"
    return f"{_dtype(value.dtype)} tensor of shape {tuple(value.shape)} on {value.device}"


def describe_call(function: str, args: tuple, kwargs: dict) -> str:
    parts = [describe(a) for a in args] + [f"{k}={describe(v)}" for k, v in kwargs.items()]
    return f"{function}({', '.join(parts)})"


def _dtype(dtype: Any) -> str:
    return str(dtype).removeprefix("torch.")


TENSOR_ROW = "tensor"  # the row saying a result is not a plain dense tensor at all


def tensor_problem(got: TensorValue, allow_meta: bool = False) -> str:
    """Why ``got`` is not a plain dense tensor whose values were read ("" when it is one).

    A tensor subclass, a sparse, nested or quantized layout, or one that came
    without values is a wrong answer where a dense tensor is documented: its
    values could not be compared.  ``allow_meta``: a meta tensor is expected.
    """
    short = got.type_name.rpartition(".")[2]
    if got.layout == "dispatch":
        return f"a {short} (a torch.Tensor subclass that overrides torch operations with __torch_dispatch__)"
    if got.subclass:
        return f"a {short} (a torch.Tensor subclass)"
    if got.layout.startswith("sparse"):
        return f"a sparse tensor ({got.layout})"
    if got.layout != "strided":
        return f"a {got.layout} tensor"
    if got.data is None and not (allow_meta and got.device == "meta"):
        return "a tensor without values" if got.device != "meta" else "a tensor on the meta device (no values)"
    return ""
