"""Lab 2 probes: run inside the worker, observe, return plain data.

Public names are merged with every lab's probes, so each starts with ``lab2_``.
"""

from __future__ import annotations

from typing import Any as _Any

import numpy as _np

_NUMPY_REFS = ("max", "mean", "median")


def lab2_frame_view(module: _Any, function: str, audio: _np.ndarray, frame_length: int, hop_length: int) -> dict:
    """Call ``function(audio, ...)`` (frame_signal) and report whether its result shares memory with ``audio``."""
    result = getattr(module, function)(audio, frame_length, hop_length)
    if not isinstance(result, _np.ndarray):
        return {"type": type(result).__name__, "shares": False, "shape": None}
    return {"type": "ndarray", "shares": bool(_np.shares_memory(result, audio)),
            "shape": tuple(int(n) for n in result.shape)}


def lab2_call_with_numpy_ref(module: _Any, function: str, x: _np.ndarray, ref: str, **kwargs: _Any) -> _Any:
    """Call ``function(x, ref=np.<ref>, ...)``: functions cannot cross the wire, names can."""
    if ref not in _NUMPY_REFS:
        raise ValueError(f"probe: unsupported ref {ref!r}")
    return getattr(module, function)(x, ref=getattr(_np, ref), **kwargs)


def lab2_call_on_empty(module: _Any, function: str, shape: tuple = (0,), dtype: str = "float64", count: int = 1,
                       extra: tuple = ()) -> _Any:
    """Call ``function(empty, ..., *extra)`` with ``count`` empty arrays made here
    (empty arrays cannot cross the wire)."""
    empties = [_np.zeros(tuple(shape), dtype=dtype) for _ in range(count)]
    return getattr(module, function)(*empties, *extra)
