"""Audio the suites grade with, generated on the spot: no downloads, no slides.

Tones and chirps at the course's rates, mono and stereo, a few lengths.
Files are written once per run into a folder the worker may read.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import soundfile as sf


def tone(freq: float, sr: int, seconds: float, amplitude: float = 0.5) -> np.ndarray:
    t = np.arange(int(round(sr * seconds))) / sr
    return (amplitude * np.sin(2 * np.pi * freq * t)).astype(np.float32)


def chirp(f0: float, f1: float, sr: int, seconds: float, amplitude: float = 0.5) -> np.ndarray:
    """A linear sweep from f0 to f1 Hz."""
    t = np.arange(int(round(sr * seconds))) / sr
    phase = 2 * np.pi * (f0 * t + (f1 - f0) * t**2 / (2 * seconds))
    return (amplitude * np.sin(phase)).astype(np.float32)


def write(path: Path, audio: np.ndarray, sr: int) -> Path:
    """Write ``audio`` (N,) or (C, N) as a float WAV."""
    sf.write(path, audio.T if audio.ndim == 2 else audio, sr, subtype="FLOAT")
    return path


def standard_clips(folder: Path) -> dict[str, Path]:
    """The clips every lab grades with, by name."""
    folder.mkdir(parents=True, exist_ok=True)
    clips = {
        "tone_22050_mono_1s": (tone(440, 22050, 1.0), 22050),
        "chirp_44100_mono_1.5s": (chirp(200, 4000, 44100, 1.5), 44100),
        "tone_44100_stereo_0.7s": (np.stack([tone(330, 44100, 0.7), chirp(100, 2000, 44100, 0.7)]), 44100),
        "chirp_22050_mono_0.3s": (chirp(1000, 200, 22050, 0.3), 22050),
        "tone_16000_mono_0.05s": (tone(1000, 16000, 0.05), 16000),
    }
    paths = {}
    for name, (audio, sr) in clips.items():
        path = folder / f"{name}.wav"
        if not path.exists():
            write(path, audio, sr)
        paths[name] = path
    not_audio = folder / "not_audio.wav"
    not_audio.write_text("this is not a WAV file\n")
    paths["not_audio"] = not_audio
    return paths
