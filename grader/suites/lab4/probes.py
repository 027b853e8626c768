"""Lab 4's own probes: what only the worker can build or observe.

Merged into :mod:`grader.isolation.inside.probes` by the worker.  Each takes the student
module first, yields the one call it makes (the worker makes it, as every call: see that
module) and returns plain data (or lets the student's exception through).  What they use
from NumPy and torch is bound when the worker loads this file, before the submission.
"""

from __future__ import annotations

from typing import Any, Iterator

import numpy as np
import torch

_array, _object, _no_grad, _is_grad_enabled = np.array, object, torch.no_grad, torch.is_grad_enabled

_SPECIAL_ARRAYS = {
    # Non-numeric arrays cannot cross the wire (it carries numeric data only),
    # so they are made here.
    "object": lambda: _array([1.0, "two", None], dtype=_object),
    "str": lambda: _array(["a", "b", "c"]),
    "datetime": lambda: _array(["2024-01-01", "2024-01-02"], dtype="datetime64[D]"),
}


def call_with_special_array(module: Any, function: str, kind: str) -> Iterator[tuple]:
    """Call ``function`` on a non-numeric array of dtype ``kind`` (object, str, datetime)."""
    return (yield getattr(module, function), [_SPECIAL_ARRAYS[kind]()], {})


def call_without_grad(module: Any, function: str, *args: Any, **kwargs: Any) -> Iterator[tuple]:
    """Call ``function`` inside ``torch.no_grad()``, as an evaluation loop would."""
    with _no_grad():
        result = yield getattr(module, function), args, kwargs
    return {"result": result, "grad_enabled_after": _is_grad_enabled()}
