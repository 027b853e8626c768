"""Lab 1 probes: run inside the worker, observe, return plain data.

Loaded by path into the worker next to :mod:`grader.isolation.inside.probes`; public names are
merged into one namespace for every lab, so each probe here starts with
``lab1_`` and imports are private.
"""

from __future__ import annotations

from pathlib import Path as _Path
from typing import Any as _Any, Iterator as _Iterator

import numpy as _np
import soundfile as _sf   # preloaded for Lab 1: bound here, before the submission is imported

_ascontiguousarray, _SoundFile = _np.ascontiguousarray, _sf.SoundFile


def _in_scratch(module: _Any, path: str) -> _Path:
    """``path`` relative to the folder the submission runs from (its scratch folder),
    whatever the student's code did to the working directory meanwhile."""
    target = _Path(path)
    return target if target.is_absolute() else _Path(module.__file__).resolve().parent / target


def lab1_call_with_pathlib(module: _Any, function: str, path: str, *args: _Any, **kwargs: _Any) -> _Iterator[tuple]:
    """Call ``function(pathlib.Path(path), ...)``: a real Path, not the wire's PurePath."""
    return (yield getattr(module, function), [_Path(path), *args], kwargs)


def lab1_read_audio_file(module: _Any, path: str) -> dict:
    """Read an audio file the student wrote with soundfile, not with the student's code.

    Returns where the file is, whether it exists, its size, and, if soundfile
    can read it: format, subtype, sample rate, channels, frames and the samples
    as a float32 ``(channels, frames)`` array; otherwise ``error``.
    """
    target = _in_scratch(module, path)
    seen: dict = {"path": str(target), "exists": target.is_file(), "size": 0}
    if not seen["exists"]:
        return seen
    seen["size"] = target.stat().st_size
    try:
        with _SoundFile(str(target)) as file:
            seen.update(format=str(file.format), subtype=str(file.subtype), samplerate=int(file.samplerate),
                        channels=int(file.channels), frames=int(file.frames))
            data = file.read(dtype="float32", always_2d=True)
        seen["data"] = _ascontiguousarray(data.T) if data.size else None  # empty arrays do not survive the wire
    except Exception as exc:  # not audio soundfile understands
        seen["error"] = f"{type(exc).__name__}: {exc}"
    return seen
