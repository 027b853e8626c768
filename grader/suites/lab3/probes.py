"""Lab 3 probes: run inside the worker, observe, return plain data.

Public names are merged with every lab's probes, so each starts with ``lab3_``.
"""

from __future__ import annotations

from pathlib import Path as _Path
from typing import Any as _Any, Iterator as _Iterator

import matplotlib as _matplotlib   # preloaded for Lab 3 (matplotlib.pyplot): bound here, before the submission
import matplotlib.figure as _figure
import matplotlib.image as _image
import matplotlib.pyplot as _plt
import numpy as _np

_use, _imread, _Figure = _matplotlib.use, _image.imread, _figure.Figure
_get_fignums, _close = _plt.get_fignums, _plt.close
_asarray, _unique, _round, _ndim, _size = _np.asarray, _np.unique, _np.round, _np.ndim, _np.size
_ma_filled, _ma_asarray, _ascontiguousarray, _float64, _nan = (_np.ma.filled, _np.ma.asarray, _np.ascontiguousarray,
                                                               _np.float64, _np.nan)

_HEAD = 64  # enough for the PNG signature and the IHDR chunk


def lab3_read_image_file(module: _Any, path: str) -> dict:
    """Where the image the student wrote is, its size, its first bytes, and what
    its pixels look like (decoded here in the worker, never in the grader)."""
    target = _Path(path)
    if not target.is_absolute():
        target = _Path(module.__file__).resolve().parent / target
    seen: dict = {"path": str(target), "exists": target.is_file(), "size": 0, "head": None}
    if not seen["exists"]:
        return seen
    seen["size"] = target.stat().st_size
    with open(target, "rb") as file:
        seen["head"] = file.read(_HEAD) or None  # b"" does not survive the wire
    try:
        _use("Agg")
        pixels = _asarray(_imread(str(target), format="png"))
        step = max(1, max(pixels.shape[:2]) // 400)  # look at a coarse grid of pixels
        grid = pixels[::step, ::step].reshape(-1, pixels.shape[-1] if pixels.ndim == 3 else 1)
        colours, counts = _unique(_round(_asarray(grid, dtype=float) * 255), axis=0, return_counts=True)
        seen["pixels"] = {"height": int(pixels.shape[0]), "width": int(pixels.shape[1]),
                          "colours": int(len(colours)),
                          # share of pixels that are not the background (the most common colour)
                          "ink": float(1 - counts.max() / counts.sum())}
    except Exception as exc:
        seen["decode_error"] = f"{type(exc).__name__}: {exc}"
    return seen


def lab3_plot_watching(module: _Any, function: str, *args: _Any) -> _Iterator[tuple]:
    """Call ``function(*args)`` (plot_spectrogram) and record what each saved figure showed.

    Every ``Figure.savefig`` during the call is intercepted (``plt.savefig``
    goes through it too) and the figure described there and then, whatever
    drew it (specshow, imshow, pcolormesh).  Also counts the figures the call
    left open, and closes them so that later checks start clean.
    """
    _use("Agg")
    before = set(_get_fignums())
    saved: list = []
    original = _Figure.savefig

    def savefig(figure: _Any, *a: _Any, **k: _Any) -> _Any:
        saved.append(_picture(figure))
        return original(figure, *a, **k)

    _Figure.savefig = savefig
    try:
        result = yield getattr(module, function), list(args), {}
    finally:
        _Figure.savefig = original
    left_open = sorted(set(_get_fignums()) - before)
    for number in left_open:
        _close(number)
    return {"result": result, "saved": saved, "left_open": len(left_open)}


def _picture(figure: _Any) -> dict | None:
    """The largest image drawn on the figure (its data, as float64), with its axes' limits and labels."""
    best, best_axes = None, None
    for axes in figure.axes:
        for artist in [*axes.images, *axes.collections]:
            data = artist.get_array() if hasattr(artist, "get_array") else None
            if data is None or _ndim(data) != 2:
                continue
            if best is None or _size(data) > _size(best):
                best, best_axes = data, axes
    if best is None:
        return None
    data = _ma_filled(_ma_asarray(best, dtype=_float64), _nan)
    return {"data": _ascontiguousarray(data),
            "xlim": tuple(float(v) for v in best_axes.get_xlim()),
            "ylim": tuple(float(v) for v in best_axes.get_ylim()),
            "xlabel": str(best_axes.get_xlabel()), "ylabel": str(best_axes.get_ylabel())}
