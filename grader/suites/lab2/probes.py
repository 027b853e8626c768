"""Lab 2 probes: run inside the worker, observe, return plain data.

Public names are merged with every lab's probes, so each starts with ``lab2_``.
"""

from __future__ import annotations

from typing import Any as _Any, Iterator as _Iterator

import numpy as _np

_NUMPY_REFS = ("max", "mean", "median")
# Bound when the worker loads this file, before the submission: patching them changes nothing here.
_ndarray, _shares_memory, _zeros = _np.ndarray, _np.shares_memory, _np.zeros
_REFS = {name: getattr(_np, name) for name in _NUMPY_REFS}


def lab2_frame_view(module: _Any, function: str, audio: _np.ndarray, frame_length: int,
                    hop_length: int) -> _Iterator[tuple]:
    """Call ``function(audio, ...)`` (frame_signal) and report whether its result shares memory with ``audio``."""
    result = yield getattr(module, function), [audio, frame_length, hop_length], {}
    if not isinstance(result, _ndarray):
        return {"type": type(result).__name__, "shares": False, "shape": None}
    return {"type": "ndarray", "shares": bool(_shares_memory(result, audio)),
            "shape": tuple(int(n) for n in result.shape)}


def lab2_call_with_numpy_ref(module: _Any, function: str, x: _np.ndarray, ref: str, **kwargs: _Any) -> _Iterator[tuple]:
    """Call ``function(x, ref=np.<ref>, ...)``: functions cannot cross the wire, names can."""
    if ref not in _NUMPY_REFS:
        raise ValueError(f"probe: unsupported ref {ref!r}")
    return (yield getattr(module, function), [x], {"ref": _REFS[ref], **kwargs})


def lab2_call_on_empty(module: _Any, function: str, shape: tuple = (0,), dtype: str = "float64", count: int = 1,
                       extra: tuple = ()) -> _Iterator[tuple]:
    """Call ``function(empty, ..., *extra)`` with ``count`` empty arrays made here
    (empty arrays cannot cross the wire)."""
    empties = [_zeros(tuple(shape), dtype=dtype) for _ in range(count)]
    return (yield getattr(module, function), [*empties, *extra], {})
