"""Lab 3 reference solution: STFT spectrograms with librosa."""

from __future__ import annotations

import os
from pathlib import Path

import librosa
import numpy as np


def _as_float(audio: np.ndarray) -> np.ndarray:
    """Floating-point view of ``audio`` (librosa rejects integer samples)."""
    audio = np.asarray(audio)
    if np.issubdtype(audio.dtype, np.floating):
        return audio
    return audio.astype(np.float32)


def stft_magnitude(
    audio: np.ndarray, n_fft: int = 2048, hop_length: int = 512
) -> np.ndarray:
    """Magnitude of the centered STFT, shape ``(1 + n_fft // 2, 1 + len // hop_length)``."""
    stft = librosa.stft(_as_float(audio), n_fft=n_fft, hop_length=hop_length)
    return np.abs(stft).astype(np.float32, copy=False)


def n_frames(n_samples: int, hop_length: int) -> int:
    """Number of frames a centered STFT produces."""
    if n_samples < 0:
        raise ValueError(f"n_samples must be non-negative, got {n_samples}")
    if hop_length < 1:
        raise ValueError(f"hop_length must be >= 1, got {hop_length}")
    return 1 + n_samples // hop_length


def frequency_bins(sr: int, n_fft: int) -> np.ndarray:
    """Centre frequency in Hz of each STFT row."""
    return librosa.fft_frequencies(sr=sr, n_fft=n_fft)


def frame_times(n_frames: int, sr: int, hop_length: int) -> np.ndarray:
    """Time in seconds of each STFT column."""
    return librosa.frames_to_time(np.arange(n_frames), sr=sr, hop_length=hop_length)


def magnitude_to_db(magnitude: np.ndarray) -> np.ndarray:
    """Decibels relative to the loudest bin (0 dB max, floored 80 dB below)."""
    return librosa.amplitude_to_db(np.asarray(magnitude), ref=np.max)


def mel_spectrogram(
    audio: np.ndarray,
    sr: int,
    n_fft: int = 2048,
    hop_length: int = 512,
    n_mels: int = 128,
) -> np.ndarray:
    """Mel power spectrogram, shape ``(n_mels, 1 + len // hop_length)``."""
    return librosa.feature.melspectrogram(
        y=_as_float(audio),
        sr=sr,
        n_fft=n_fft,
        hop_length=hop_length,
        n_mels=n_mels,
    )


def reconstruct(
    magnitude: np.ndarray,
    phase: np.ndarray,
    hop_length: int = 512,
    length: int | None = None,
    n_fft: int | None = None,
) -> np.ndarray:
    """Rebuild a waveform from magnitude and phase with the inverse STFT.

    ``n_fft`` defaults to ``2 * (n_bins - 1)``; pass it for an odd FFT size.
    """
    magnitude = np.asarray(magnitude)
    phase = np.asarray(phase)
    if magnitude.shape != phase.shape:
        raise ValueError(
            f"magnitude and phase must have the same shape, got {magnitude.shape} and {phase.shape}"
        )
    stft = magnitude * np.exp(1j * phase)
    return librosa.istft(stft, hop_length=hop_length, n_fft=n_fft, length=length)


def plot_spectrogram(
    magnitude: np.ndarray, sr: int, hop_length: int, path: str | os.PathLike
) -> Path:
    """Save a dB spectrogram (time in s, frequency in Hz) as a PNG and return its path."""
    magnitude = np.asarray(magnitude)
    if magnitude.ndim != 2:
        raise ValueError(f"magnitude must be 2-D (freq, time), got shape {magnitude.shape}")
    import matplotlib

    matplotlib.use("Agg")
    import librosa.display
    import matplotlib.pyplot as plt

    path = Path(path)
    fig, ax = plt.subplots(figsize=(10, 4))
    try:
        img = librosa.display.specshow(
            magnitude_to_db(magnitude),
            sr=sr,
            hop_length=hop_length,
            x_axis="time",
            y_axis="hz",
            ax=ax,
        )
        ax.set(title="Spectrogram", xlabel="Time (s)", ylabel="Frequency (Hz)")
        fig.colorbar(img, ax=ax, format="%+2.0f dB").set_label("dB")
        fig.savefig(path, format="png", bbox_inches="tight")
    finally:
        plt.close(fig)
    return path
