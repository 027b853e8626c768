"""Lab 3: Spectrograms with the STFT.

The Short-Time Fourier Transform turns a waveform into a picture of which
frequencies are present at which time:

    NumPy array (processed)
       ↓ [Lab 3: librosa.stft()]
    NumPy array (spectrogram)

Rows are frequency bins, columns are time frames.  With ``n_fft=2048`` there
are ``1 + 2048 // 2 = 1025`` frequency bins; with ``hop_length=512`` a centered
STFT of ``N`` samples has ``1 + N // 512`` frames.  Work the frame count out
for yourself rather than copying it from a slide: 30 s at 22050 Hz is 661500
samples, which gives ``1 + 661500 // 512 = 1292`` frames.

Spectrograms are just 2-D images, which is why image models such as U-Net can
work on them in later labs.

Fill in each function below.  Replace the ``raise NotImplementedError`` line
with your code, keep the signatures exactly as they are, and run the grader to
check your work.
"""

from __future__ import annotations

import os
from pathlib import Path

import librosa  # noqa: F401  (you will need it)
import numpy as np


def stft_magnitude(
    audio: np.ndarray, n_fft: int = 2048, hop_length: int = 512
) -> np.ndarray:
    """Magnitude spectrogram of a waveform.

    Parameters
    ----------
    audio:
        1-D waveform.
    n_fft:
        FFT size (samples per frame).
    hop_length:
        Samples between the starts of consecutive frames.

    Returns
    -------
    np.ndarray
        ``float32`` array of shape ``(1 + n_fft // 2, n_frames)``, equal to
        ``np.abs(librosa.stft(audio, n_fft=n_fft, hop_length=hop_length))``.
        ``float32`` whatever the input's dtype: a ``float64`` waveform still
        gives a ``float32`` spectrogram.
        For an even ``n_fft``, ``n_frames = 1 + len(audio) // hop_length``.

    Hints
    -----
    * The lecture pipeline does exactly this:
      ``stft = librosa.stft(audio, n_fft=2048, hop_length=512)`` then
      ``magnitude = np.abs(stft)``.
    * ``librosa.stft`` returns complex numbers; ``np.abs`` keeps the
      magnitude and throws the phase away.
    * Finish with ``.astype(np.float32)``.
    """
    raise NotImplementedError("Lab 3: implement stft_magnitude() with librosa.stft")


def n_frames(n_samples: int, hop_length: int) -> int:
    """Number of time frames a centered STFT produces.

    Parameters
    ----------
    n_samples:
        Length of the waveform in samples (0 or more).
    hop_length:
        Samples between frames (1 or more).

    Returns
    -------
    int
        ``1 + n_samples // hop_length``, the number of columns of
        :func:`stft_magnitude` for an even ``n_fft``.  The STFT is *centered*:
        the signal is padded by ``n_fft // 2`` on both sides, so there is one
        frame centered on sample 0 and then one every ``hop_length`` samples.

    Raises
    ------
    ValueError
        If ``n_samples < 0`` or ``hop_length < 1``.

    Hints
    -----
    * Check your answer: 3 s at 22050 Hz with a hop of 512 is 130 frames.
    """
    raise NotImplementedError("Lab 3: implement n_frames()")


def frequency_bins(sr: int, n_fft: int) -> np.ndarray:
    """Frequency in Hz of each row of the spectrogram.

    Parameters
    ----------
    sr:
        Sample rate in Hz.
    n_fft:
        FFT size used for the STFT.

    Returns
    -------
    np.ndarray
        Shape ``(1 + n_fft // 2,)``: bin ``k`` is at ``k * sr / n_fft`` Hz, for
        ``k = 0 .. n_fft // 2``, evenly spaced from 0 Hz in steps of
        ``sr / n_fft``.  For an even ``n_fft`` the last bin is exactly
        ``sr / 2`` (the Nyquist frequency); for an odd ``n_fft`` it stops just
        below it, at ``(n_fft // 2) * sr / n_fft``.

    Hints
    -----
    * ``librosa.fft_frequencies(sr=sr, n_fft=n_fft)``.
    """
    raise NotImplementedError("Lab 3: implement frequency_bins()")


def frame_times(n_frames: int, sr: int, hop_length: int) -> np.ndarray:
    """Time in seconds of each column of the spectrogram.

    Parameters
    ----------
    n_frames:
        Number of frames (columns).
    sr:
        Sample rate in Hz.
    hop_length:
        Samples between frames.

    Returns
    -------
    np.ndarray
        Shape ``(n_frames,)``: frame ``i`` is at ``i * hop_length / sr``
        seconds.

    Hints
    -----
    * ``librosa.frames_to_time(np.arange(n_frames), sr=sr, hop_length=hop_length)``.
    """
    raise NotImplementedError("Lab 3: implement frame_times()")


def magnitude_to_db(magnitude: np.ndarray) -> np.ndarray:
    """Convert a magnitude spectrogram to decibels relative to its maximum.

    Parameters
    ----------
    magnitude:
        Non-negative magnitude spectrogram, e.g. from :func:`stft_magnitude`.

    Returns
    -------
    np.ndarray
        Same shape; the loudest bin is 0 dB and everything else is negative,
        down to a floor of -80 dB.  A silent (all-zero) spectrogram must give
        finite numbers, not ``nan``.

    Hints
    -----
    * ``librosa.amplitude_to_db(magnitude, ref=np.max)``: this is the same
      calculation you wrote by hand in Lab 2's ``amplitude_to_db``.
    * Our ears hear loudness on a log scale, which is why spectrogram plots
      use dB.
    """
    raise NotImplementedError("Lab 3: implement magnitude_to_db()")


def mel_spectrogram(
    audio: np.ndarray,
    sr: int,
    n_fft: int = 2048,
    hop_length: int = 512,
    n_mels: int = 128,
) -> np.ndarray:
    """Mel-scaled power spectrogram.

    Parameters
    ----------
    audio:
        1-D waveform.
    sr:
        Sample rate in Hz.
    n_fft:
        FFT size.
    hop_length:
        Samples between frames.
    n_mels:
        Number of mel bands (rows of the result).

    Returns
    -------
    np.ndarray
        Shape ``(n_mels, n_frames)``: the *power* spectrogram
        (``magnitude ** 2``) pooled into ``n_mels`` bands spaced the way our
        ears hear pitch.

    Hints
    -----
    * ``librosa.feature.melspectrogram(y=audio, sr=sr, n_fft=n_fft,
      hop_length=hop_length, n_mels=n_mels)``.  Note the argument is ``y=``.
    """
    raise NotImplementedError("Lab 3: implement mel_spectrogram()")


def reconstruct(
    magnitude: np.ndarray,
    phase: np.ndarray,
    hop_length: int = 512,
    length: int | None = None,
    n_fft: int | None = None,
) -> np.ndarray:
    """Turn a magnitude and a phase spectrogram back into a waveform.

    This is the post-processing step of the separation pipeline: after a model
    edits the magnitude, the original phase is put back and the inverse STFT
    gives audio you can listen to.

    Parameters
    ----------
    magnitude:
        Magnitude spectrogram, shape ``(1 + n_fft // 2, n_frames)``.
    phase:
        Phase in radians, exactly the same shape (shapes that would merely
        broadcast, such as ``(F, 1)``, are an error), e.g.
        ``np.angle(librosa.stft(audio))``.
    hop_length:
        The hop length used for the forward STFT.
    length:
        If given, the output is padded or trimmed to exactly this many
        samples.  Pass ``len(audio)`` to get back the original length.
    n_fft:
        FFT size of the forward STFT.  ``None`` (the default) lets librosa
        infer ``2 * (n_bins - 1)``, which is right for every even ``n_fft``;
        an odd ``n_fft`` such as 1023 cannot be inferred and must be passed.

    Returns
    -------
    np.ndarray
        1-D waveform.  For ``magnitude, phase`` taken from
        ``librosa.stft(audio)`` it matches ``audio`` to within about 1e-5.

    Raises
    ------
    ValueError
        If ``magnitude`` and ``phase`` have different shapes.

    Hints
    -----
    * Complex spectrogram = ``magnitude * np.exp(1j * phase)``.
    * ``librosa.istft(stft, hop_length=hop_length, n_fft=n_fft, length=length)``.
    """
    raise NotImplementedError("Lab 3: implement reconstruct() with librosa.istft")


def plot_spectrogram(
    magnitude: np.ndarray, sr: int, hop_length: int, path: str | os.PathLike
) -> Path:
    """Save a picture of a spectrogram in dB as a PNG file.

    What the picture must show: the values in dB (``20 * log10`` of the
    magnitude, relative to any reference, e.g. :func:`magnitude_to_db`), not
    the raw magnitude; time across in seconds, from 0 to about
    ``n_frames * hop_length / sr``; frequency up in Hz, from 0 to ``sr / 2``.
    The figure is closed once saved: the call leaves no figure open.

    Parameters
    ----------
    magnitude:
        2-D magnitude spectrogram ``(freq, time)``.
    sr:
        Sample rate in Hz (for the frequency axis).
    hop_length:
        Hop length in samples (for the time axis).
    path:
        Where to write the PNG.  Its folder must already exist.

    Returns
    -------
    pathlib.Path
        ``pathlib.Path(path)``: the path exactly as given (a ``str`` becomes a
        ``Path``; it is not made absolute or resolved).

    Raises
    ------
    ValueError
        If ``magnitude`` is not 2-D.

    Hints
    -----
    * Import matplotlib *inside* the function and call
      ``matplotlib.use("Agg")`` before ``import matplotlib.pyplot as plt``:
      the grader has no screen, and Agg draws straight to a file.
    * ``import librosa.display`` and draw with
      ``librosa.display.specshow(magnitude_to_db(magnitude), sr=sr,
      hop_length=hop_length, x_axis="time", y_axis="hz", ax=ax)``, so the axes
      read seconds and Hz.
    * ``fig.colorbar(img, ax=ax, format="%+2.0f dB")`` adds the dB scale.
    * ``fig.savefig(path)`` and then ``plt.close(fig)``: unclosed figures pile
      up in memory when the grader calls you many times.
    """
    raise NotImplementedError("Lab 3: implement plot_spectrogram() with librosa.display.specshow")
