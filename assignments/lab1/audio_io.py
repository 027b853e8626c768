"""Lab 1: Loading Audio with librosa.

Every pipeline in this course starts here:

    Audio file
       ↓ [Lab 1: librosa.load()]
    NumPy array (waveform)

A waveform is just a NumPy array of samples, and the sample rate ``sr`` tells
you how many of those samples make up one second.  At ``sr=22050`` a 30 second
song is ``30 * 22050 = 661500`` samples.

Fill in each function below.  Replace the ``raise NotImplementedError`` line
with your code, keep the signatures exactly as they are, and run the grader to
check your work.
"""

from __future__ import annotations

import os
from pathlib import Path

import librosa  # noqa: F401  (you will need it)
import numpy as np
import soundfile as sf  # noqa: F401  (you will need it)


def load_audio(
    path: str | os.PathLike, sr: int | None = 22050, mono: bool = True
) -> tuple[np.ndarray, int]:
    """Load an audio file into a NumPy array.

    Parameters
    ----------
    path:
        Path to the audio file (a ``str`` or ``pathlib.Path``).
    sr:
        Target sample rate in Hz.  The audio is resampled to this rate.
        ``None`` keeps the file's own (native) sample rate.
    mono:
        ``True`` mixes all channels down to one.  ``False`` keeps the channels:
        a stereo file comes back with shape ``(2, N)``, while a mono file is
        still 1-D with shape ``(N,)``.

    Returns
    -------
    (audio, sr):
        ``audio`` is a ``float32`` array with values roughly in ``[-1, 1]``;
        ``sr`` is the sample rate of ``audio`` as a Python ``int``.

    Raises
    ------
    FileNotFoundError
        If ``path`` does not exist.  Check this *before* calling librosa and
        put the path in the message.
    ValueError
        If ``path`` exists but is not a readable audio file (an empty file, a
        text file, a directory...).  The message must contain the words
        ``"is not a readable audio file"``.

    Hints
    -----
    * ``librosa.load(path, sr=sr, mono=mono)`` does the real work, exactly as
      in the lecture: ``audio, sr = librosa.load('sample_audio.wav', sr=22050)``.
    * ``pathlib.Path(path).exists()`` and ``.is_file()`` answer "is it there?".
    * When the file is not audio, librosa raises an error from one of its
      backends (``soundfile.LibsndfileError``, ``audioread``'s ``NoBackendError``,
      ``EOFError``...).  Catch those and re-raise a ``ValueError`` with
      ``raise ValueError(...) from exc``.
    * librosa prints a warning ("PySoundFile failed. Trying audioread
      instead.") before it gives up; ``warnings.catch_warnings()`` can hide it.
    """
    raise NotImplementedError("Lab 1: implement load_audio() with librosa.load")


def duration_seconds(audio: np.ndarray, sr: int) -> float:
    """Return the length of ``audio`` in seconds.

    Parameters
    ----------
    audio:
        Waveform of shape ``(N,)`` or ``(C, N)``.  Samples are always on the
        *last* axis, so stereo audio of shape ``(2, 44100)`` at 44100 Hz
        lasts 1 second, not 2.
    sr:
        Sample rate in Hz.

    Returns
    -------
    float
        ``number_of_samples / sr``.

    Raises
    ------
    ValueError
        If ``sr <= 0``.

    Hints
    -----
    * ``audio.shape[-1]`` is the number of samples.
    * Remember: 661500 samples at 22050 Hz is 30.0 seconds.
    """
    raise NotImplementedError("Lab 1: implement duration_seconds()")


def to_mono(audio: np.ndarray) -> np.ndarray:
    """Mix a multi-channel waveform down to a single channel.

    Parameters
    ----------
    audio:
        Either a mono waveform of shape ``(N,)`` or a multi-channel waveform
        of shape ``(C, N)`` (channels first, like ``librosa.load(...,
        mono=False)`` returns).

    Returns
    -------
    np.ndarray
        For ``(C, N)`` input: the average of the channels, shape ``(N,)``,
        dtype ``float32``.  For 1-D input: the input itself, unchanged, dtype
        included (a ``float64`` mono signal stays ``float64``).

    Raises
    ------
    ValueError
        If ``audio`` has more than 2 dimensions.

    Hints
    -----
    * ``np.mean(..., axis=0)`` averages over the channel axis.
    * ``.astype(np.float32)`` fixes the dtype.
    """
    raise NotImplementedError("Lab 1: implement to_mono()")


def resample(audio: np.ndarray, orig_sr: int, target_sr: int) -> np.ndarray:
    """Change the sample rate of a waveform.

    Parameters
    ----------
    audio:
        Waveform of shape ``(N,)`` or ``(C, N)``; resampling happens along the
        last (time) axis.
    orig_sr:
        The current sample rate in Hz.
    target_sr:
        The sample rate you want, in Hz.

    Returns
    -------
    np.ndarray
        ``float32`` waveform with about ``N * target_sr / orig_sr`` samples,
        always ``float32``.  If ``orig_sr == target_sr`` the samples are
        returned unchanged, as ``float32`` (a ``float64`` input is cast; a
        ``float32`` input may be returned as it is or copied).

    Raises
    ------
    ValueError
        If either sample rate is not positive.

    Hints
    -----
    * ``librosa.resample(audio, orig_sr=orig_sr, target_sr=target_sr)`` with
      its default ``res_type``.  Use keyword arguments: librosa requires them.
    * This is what ``librosa.load(path, sr=22050)`` does for you behind the
      scenes when the file was recorded at 44100 Hz.
    """
    raise NotImplementedError("Lab 1: implement resample() with librosa.resample")


def peak_normalize(audio: np.ndarray, peak: float = 1.0) -> np.ndarray:
    """Scale a waveform so its loudest sample reaches ``peak``.

    Parameters
    ----------
    audio:
        Waveform of any shape.
    peak:
        The target value of ``max(|audio|)``.  Must be positive.

    Returns
    -------
    np.ndarray
        A new array of the same shape with ``np.max(np.abs(result)) == peak``
        (up to floating-point rounding); ``audio`` itself is left as it was.  Silence (an all-zero input) must
        stay all zeros: no ``nan`` or ``inf`` from dividing by zero.

    Raises
    ------
    ValueError
        If ``peak <= 0``.

    Hints
    -----
    * ``np.max(np.abs(audio))`` is the current peak.
    * Multiply by ``peak / current_peak``; check for ``current_peak == 0``
      first.
    """
    raise NotImplementedError("Lab 1: implement peak_normalize()")


def save_audio(path: str | os.PathLike, audio: np.ndarray, sr: int) -> Path:
    """Write a waveform to a WAV file of 32-bit float samples.

    The samples are stored exactly: ``load_audio(path, sr=None)`` (with
    ``mono=False`` for ``(C, N)`` audio) gives back exactly the samples that
    were saved, as ``float32``, even samples beyond full scale (``|x| > 1``).

    Parameters
    ----------
    path:
        Where to write the file.  Its folder must already exist; the function
        creates nothing but the file itself.
    audio:
        Waveform of shape ``(N,)`` (mono) or ``(C, N)`` (C channels).
    sr:
        Sample rate in Hz.

    Returns
    -------
    pathlib.Path
        ``pathlib.Path(path)``: the path exactly as given (a ``str`` becomes a
        ``Path``; it is not made absolute or resolved).

    Raises
    ------
    ValueError
        If ``sr <= 0`` or ``audio`` has more than 2 dimensions.
    FileNotFoundError
        If the folder of ``path`` does not exist.

    Hints
    -----
    * ``soundfile.write(path, data, sr, subtype="FLOAT")`` writes 32-bit float
      samples, so ``load_audio(path, sr=None)`` gives back *exactly* the
      samples you saved.  The default WAV subtype (16-bit PCM) rounds every
      sample and clips everything beyond ``[-1, 1]``.
    * librosa keeps channels first ``(C, N)`` but soundfile wants channels
      last ``(N, C)``: transpose with ``audio.T``.
    """
    raise NotImplementedError("Lab 1: implement save_audio() with soundfile.write")
