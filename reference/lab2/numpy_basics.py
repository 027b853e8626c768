"""Lab 2 reference solution: NumPy building blocks for audio."""

from __future__ import annotations

import operator
from typing import Callable

import numpy as np


def frame_signal(audio: np.ndarray, frame_length: int, hop_length: int) -> np.ndarray:
    """Split a 1-D signal into overlapping frames, shape ``(n_frames, frame_length)``.

    Returns a read-only strided view (no copy), equal to
    ``librosa.util.frame(audio, frame_length=..., hop_length=...).T``.
    """
    audio = np.asarray(audio)
    if audio.ndim != 1:
        raise ValueError(f"audio must be 1-D, got shape {audio.shape}")
    if frame_length < 1 or hop_length < 1:
        raise ValueError(
            f"frame_length and hop_length must be >= 1, got {frame_length} and {hop_length}"
        )
    if audio.shape[0] < frame_length:
        raise ValueError(
            f"signal of length {audio.shape[0]} is shorter than one frame ({frame_length})"
        )
    windows = np.lib.stride_tricks.sliding_window_view(audio, frame_length)
    return windows[::hop_length]


def rms(frames: np.ndarray) -> np.ndarray:
    """Root-mean-square of each frame (reduces the last axis)."""
    frames = np.asarray(frames)
    if frames.ndim < 1:
        raise ValueError("frames must have at least one dimension")
    if not np.issubdtype(frames.dtype, np.floating):
        frames = frames.astype(np.float64)
    return np.sqrt(np.mean(np.square(frames), axis=-1))


def amplitude_to_db(
    x: np.ndarray,
    ref: float | Callable[[np.ndarray], float] = 1.0,
    amin: float = 1e-5,
    top_db: float | None = 80.0,
) -> np.ndarray:
    """Convert amplitudes to decibels like ``librosa.amplitude_to_db``.

    ``ref`` may be a number or a function of ``|x|`` such as ``np.max``.
    """
    if amin <= 0:
        raise ValueError(f"amin must be strictly positive, got {amin}")
    if top_db is not None and top_db < 0:
        raise ValueError(f"top_db must be non-negative, got {top_db}")
    magnitude = np.abs(np.asarray(x))
    if not np.issubdtype(magnitude.dtype, np.floating):
        magnitude = magnitude.astype(np.float64)
    ref_value = ref(magnitude) if callable(ref) else abs(ref)
    db = 20.0 * np.log10(np.maximum(amin, magnitude))
    db = db - 20.0 * float(np.log10(max(amin, float(ref_value))))
    if top_db is not None:
        db = np.maximum(db, db.max() - top_db)
    return db


def standardize(x: np.ndarray) -> np.ndarray:
    """Shift to zero mean and scale to unit (population) standard deviation."""
    x = np.asarray(x)
    if x.size == 0:
        raise ValueError("cannot standardize an empty array")
    if not np.issubdtype(x.dtype, np.floating):
        x = x.astype(np.float64)
    if np.all(x == x.flat[0]):
        return np.zeros_like(x)  # constant input: no spread to divide by
    centered = x - x.mean()
    return centered / centered.std()


def mix_at_snr(signal: np.ndarray, noise: np.ndarray, snr_db: float) -> np.ndarray:
    """Add ``noise`` to ``signal``, scaled so the mix has the requested SNR in dB."""
    signal = np.asarray(signal)
    noise = np.asarray(noise)
    if signal.shape != noise.shape:
        raise ValueError(
            f"signal and noise must have the same shape, got {signal.shape} and {noise.shape}"
        )
    if signal.size == 0:
        raise ValueError("signal and noise must not be empty")
    p_signal = float(np.mean(np.square(signal, dtype=np.float64)))
    p_noise = float(np.mean(np.square(noise, dtype=np.float64)))
    if p_noise == 0.0:
        raise ValueError("noise is silent: cannot scale it to a target SNR")
    if p_signal == 0.0:
        raise ValueError("signal is silent: the SNR is undefined")
    scale = float(np.sqrt(p_signal / (p_noise * 10.0 ** (snr_db / 10.0))))
    return signal + scale * noise


def hann_window(n: int) -> np.ndarray:
    """Periodic Hann window ``0.5 - 0.5*cos(2*pi*k/n)``, like ``scipy.signal.get_window('hann', n)``."""
    n = operator.index(n)
    if n < 1:
        raise ValueError(f"window length must be >= 1, got {n}")
    if n == 1:
        return np.ones(1)  # scipy's convention for a single-sample window
    k = np.arange(n)
    return 0.5 - 0.5 * np.cos(2.0 * np.pi * k / n)
