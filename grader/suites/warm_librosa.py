"""Warm-up for the labs that preload librosa: run its numba-compiled paths once.

Listed under ``warm_up`` in those labs' lab.toml; the worker loads it by path
and calls :func:`warm_up` after the lab's preloads, before any deadline
applies.  Compiling takes over 10 s here: the trusted warm-up run (no student
code) does it once into the trusted cache (``NUMBA_CACHE_DIR``), and each
worker loads the machine code from its private copy of that cache.
"""

from __future__ import annotations


def warm_up() -> None:
    import io

    import librosa
    import numpy as np
    import soundfile

    signal = np.sin(np.arange(8192, dtype=np.float32) / 7.0)
    wav = io.BytesIO()
    soundfile.write(wav, signal, 44100, format="WAV")
    wav.seek(0)
    audio, _ = librosa.load(wav, sr=22050)
    librosa.istft(librosa.stft(audio, n_fft=512, hop_length=128), hop_length=128)
    librosa.feature.melspectrogram(y=audio, sr=22050, n_fft=512, hop_length=128)
