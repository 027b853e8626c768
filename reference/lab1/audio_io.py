"""Lab 1 reference solution: loading, inspecting and saving audio."""

from __future__ import annotations

import os
import warnings
from pathlib import Path

import librosa
import numpy as np
import soundfile as sf


def load_audio(
    path: str | os.PathLike, sr: int | None = 22050, mono: bool = True
) -> tuple[np.ndarray, int]:
    """Load an audio file as float32 samples plus its sample rate.

    ``sr=None`` keeps the file's native rate; ``mono=False`` keeps a stereo
    file as shape ``(2, N)`` (a mono file stays 1-D).
    """
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"No such audio file: {str(path)!r}")
    if not path.is_file() or path.stat().st_size == 0:
        raise ValueError(f"{str(path)!r} is not a readable audio file (empty or not a file)")
    try:
        from audioread.exceptions import DecodeError
    except ImportError:  # pragma: no cover - audioread ships with librosa
        DecodeError = RuntimeError  # type: ignore[misc,assignment]
    try:
        with warnings.catch_warnings():
            # librosa warns before falling back to audioread; we report our own error.
            warnings.filterwarnings("ignore", message="PySoundFile failed")
            warnings.filterwarnings("ignore", category=FutureWarning)
            warnings.filterwarnings("ignore", category=DeprecationWarning)
            audio, rate = librosa.load(path, sr=sr, mono=mono)
    except (sf.LibsndfileError, DecodeError, EOFError, OSError, RuntimeError) as exc:
        reason = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
        raise ValueError(f"{str(path)!r} is not a readable audio file ({reason})") from exc
    return audio.astype(np.float32, copy=False), int(rate)


def duration_seconds(audio: np.ndarray, sr: int) -> float:
    """Length in seconds: samples on the last axis divided by ``sr``."""
    if sr <= 0:
        raise ValueError(f"sr must be positive, got {sr}")
    audio = np.asarray(audio)
    if audio.ndim < 1:
        raise ValueError("audio must have at least one dimension")
    return audio.shape[-1] / sr


def to_mono(audio: np.ndarray) -> np.ndarray:
    """Average the channels of ``(C, N)`` audio to ``(N,)`` float32; 1-D is returned as is."""
    audio = np.asarray(audio)
    if audio.ndim == 1:
        return audio
    if audio.ndim != 2:
        raise ValueError(f"expected 1-D (N,) or 2-D (C, N) audio, got shape {audio.shape}")
    return audio.mean(axis=0).astype(np.float32)


def resample(audio: np.ndarray, orig_sr: int, target_sr: int) -> np.ndarray:
    """Resample along the last axis with ``librosa.resample``; returns float32."""
    if orig_sr <= 0 or target_sr <= 0:
        raise ValueError(f"sample rates must be positive, got {orig_sr} and {target_sr}")
    audio = np.asarray(audio, dtype=np.float32)
    if orig_sr == target_sr:
        return audio.copy()
    out = librosa.resample(audio, orig_sr=orig_sr, target_sr=target_sr)
    return out.astype(np.float32, copy=False)


def peak_normalize(audio: np.ndarray, peak: float = 1.0) -> np.ndarray:
    """Scale so that ``max(|audio|) == peak``; silence stays silence."""
    if peak <= 0:
        raise ValueError(f"peak must be positive, got {peak}")
    audio = np.asarray(audio)
    if not np.issubdtype(audio.dtype, np.floating):
        audio = audio.astype(np.float32)
    current = float(np.max(np.abs(audio))) if audio.size else 0.0
    if current == 0.0:
        return np.zeros_like(audio)
    return audio * (peak / current)


def save_audio(path: str | os.PathLike, audio: np.ndarray, sr: int) -> Path:
    """Write a 32-bit float WAV file; ``(C, N)`` audio becomes C channels."""
    path = Path(path)
    if sr <= 0:
        raise ValueError(f"sr must be positive, got {sr}")
    audio = np.asarray(audio, dtype=np.float32)
    if audio.ndim == 2:
        audio = audio.T  # soundfile wants (frames, channels)
    elif audio.ndim != 1:
        raise ValueError(f"expected 1-D (N,) or 2-D (C, N) audio, got shape {audio.shape}")
    if not path.parent.is_dir():
        raise FileNotFoundError(f"Directory does not exist: {str(path.parent)!r}")
    sf.write(path, audio, int(sr), format="WAV", subtype="FLOAT")
    return path
