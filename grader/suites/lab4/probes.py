"""Lab 4's own probes: what only the worker can build or observe.

Merged into :mod:`grader.isolation.inside.probes` by the worker.  Each takes the student
module first and returns plain data (or lets the student's exception through).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

_SPECIAL_ARRAYS = {
    # Non-numeric arrays cannot cross the wire (it carries numeric data only),
    # so they are made here.
    "object": lambda: np.array([1.0, "two", None], dtype=object),
    "str": lambda: np.array(["a", "b", "c"]),
    "datetime": lambda: np.array(["2024-01-01", "2024-01-02"], dtype="datetime64[D]"),
}


def call_with_special_array(module: Any, function: str, kind: str) -> Any:
    """Call ``function`` on a non-numeric array of dtype ``kind`` (object, str, datetime)."""
    return getattr(module, function)(_SPECIAL_ARRAYS[kind]())


def call_without_grad(module: Any, function: str, *args: Any, **kwargs: Any) -> dict:
    """Call ``function`` inside ``torch.no_grad()``, as an evaluation loop would."""
    with torch.no_grad():
        result = getattr(module, function)(*args, **kwargs)
    return {"result": result, "grad_enabled_after": torch.is_grad_enabled()}
