"""Lab 2: NumPy Operations for Audio.

After Lab 1 the audio is a NumPy array, so everything in this lab is plain
array maths:

    NumPy array (waveform)
       ↓ [Lab 2: NumPy operations]
    NumPy array (processed)

These are the building blocks that librosa uses inside ``librosa.stft`` in
Lab 3: chopping a signal into frames, windowing them, measuring loudness and
converting it to decibels.

Fill in each function below.  Replace the ``raise NotImplementedError`` line
with your code, keep the signatures exactly as they are, and run the grader to
check your work.  NumPy is all you need in this lab.
"""

from __future__ import annotations

from typing import Callable

import numpy as np


def frame_signal(audio: np.ndarray, frame_length: int, hop_length: int) -> np.ndarray:
    """Chop a 1-D signal into overlapping frames without copying it.

    Parameters
    ----------
    audio:
        1-D waveform of length ``N``.
    frame_length:
        Number of samples in each frame (``n_fft`` in Lab 3).  At least 1.
    hop_length:
        Number of samples between the starts of consecutive frames.  At
        least 1.

    Returns
    -------
    np.ndarray
        Array of shape ``(n_frames, frame_length)`` where
        ``n_frames = 1 + (N - frame_length) // hop_length``.  Row ``i`` is
        ``audio[i * hop_length : i * hop_length + frame_length]``.  The result
        must be a *view* of ``audio`` (``np.shares_memory(frames, audio)`` is
        ``True``) and equals
        ``librosa.util.frame(audio, frame_length=..., hop_length=...).T``.
        Leftover samples at the end that do not fill a whole frame are dropped.

    Raises
    ------
    ValueError
        If ``audio`` is not 1-D, if ``frame_length < 1`` or
        ``hop_length < 1``, or if the signal is shorter than one frame.

    Hints
    -----
    * ``np.lib.stride_tricks.sliding_window_view(audio, frame_length)`` gives
      *every* window (a hop of 1) as a view; slicing ``[::hop_length]`` keeps
      every ``hop_length``-th one and is still a view.
    * Or build it yourself with ``np.lib.stride_tricks.as_strided`` and
      ``audio.strides``.
    * A loop that copies slices into a new array gives the right numbers but
      is not a view, and this function must return a view.
    """
    raise NotImplementedError("Lab 2: implement frame_signal() with stride tricks")


def rms(frames: np.ndarray) -> np.ndarray:
    """Root-mean-square (loudness) of each frame.

    Parameters
    ----------
    frames:
        Array of shape ``(n_frames, frame_length)``, e.g. from
        :func:`frame_signal`.

    Returns
    -------
    np.ndarray
        Shape ``(n_frames,)``: ``sqrt(mean(frame ** 2))`` for each frame,
        computed over the last axis.  Any floating-point dtype is fine (NumPy
        keeps ``float32`` for ``float32`` frames; ``float64`` is fine too).

    Hints
    -----
    * Square, average with ``axis=-1``, then take ``np.sqrt``.  One line, no
      loop.
    """
    raise NotImplementedError("Lab 2: implement rms()")


def amplitude_to_db(
    x: np.ndarray,
    ref: float | Callable[[np.ndarray], float] = 1.0,
    amin: float = 1e-5,
    top_db: float | None = 80.0,
) -> np.ndarray:
    """Convert amplitudes to decibels, like ``librosa.amplitude_to_db``.

    Parameters
    ----------
    x:
        Amplitudes (any shape).  Negative values are treated by their
        absolute value.
    ref:
        The amplitude that maps to 0 dB.  Either a number (a negative number
        counts by its absolute value, like ``x``), or a function such as
        ``np.max`` that is applied to ``|x|`` (so the loudest value becomes
        0 dB, as in Lab 3's spectrogram plots).
    amin:
        Smallest amplitude considered; quieter values are clipped up to it so
        that ``log10(0)`` never happens.  Must be positive.
    top_db:
        If not ``None``, values more than ``top_db`` dB below the maximum of
        the result are raised to ``max - top_db``.  Must be non-negative;
        ``top_db=0`` is allowed and raises every value to the maximum.

    Returns
    -------
    np.ndarray
        Same shape as ``x``:
        ``20 * log10(max(amin, |x|)) - 20 * log10(max(amin, ref))``, then
        floored at ``result.max() - top_db``.

    Raises
    ------
    ValueError
        If ``amin <= 0`` or ``top_db < 0``.

    Hints
    -----
    * ``np.maximum(amin, np.abs(x))`` does the clipping element by element.
    * ``callable(ref)`` tells you whether ``ref`` is a function.
    * An amplitude of 0.1 is -20 dB and 0.01 is -40 dB with ``ref=1.0``.
    """
    raise NotImplementedError("Lab 2: implement amplitude_to_db()")


def standardize(x: np.ndarray) -> np.ndarray:
    """Shift and scale an array to zero mean and unit variance.

    Parameters
    ----------
    x:
        Non-empty array of any shape.

    Returns
    -------
    np.ndarray
        ``(x - x.mean()) / x.std()`` (population standard deviation, NumPy's
        default ``ddof=0``), same shape as ``x``.  A constant input has no
        spread to divide by: return all zeros, never ``nan``.

    Raises
    ------
    ValueError
        If ``x`` is empty.

    Hints
    -----
    * Neural networks (Lab 4 onwards) train better on standardized inputs.
    * Test for "all values equal" directly rather than ``std == 0``: rounding
      can leave a tiny non-zero std for a constant float32 array.
    """
    raise NotImplementedError("Lab 2: implement standardize()")


def mix_at_snr(signal: np.ndarray, noise: np.ndarray, snr_db: float) -> np.ndarray:
    """Add noise to a signal at a chosen signal-to-noise ratio.

    Parameters
    ----------
    signal:
        The clean waveform.
    noise:
        A noise waveform of exactly the same shape (shapes that would merely
        broadcast, such as ``(N,)`` and ``(1, N)``, are an error).
    snr_db:
        Desired signal-to-noise ratio in dB.  0 dB means equal power; 20 dB
        means the signal has 100 times the power of the noise.

    Returns
    -------
    np.ndarray
        ``signal + g * noise`` where the gain ``g`` is chosen so that
        ``10 * log10(P_signal / P_scaled_noise) == snr_db``, with power
        ``P = mean(x ** 2)``.

    Raises
    ------
    ValueError
        If the shapes differ or are empty (size 0), or if ``noise`` or
        ``signal`` is silent (all zeros, power 0), because then no gain can
        reach the target SNR.

    Hints
    -----
    * Scaling noise by ``g`` multiplies its power by ``g ** 2``.
    * Solve ``P_signal / (g**2 * P_noise) = 10 ** (snr_db / 10)`` for ``g``.
    * This is how you turn a clean recording into a noisy training example.
    """
    raise NotImplementedError("Lab 2: implement mix_at_snr()")


def hann_window(n: int) -> np.ndarray:
    """Periodic Hann window of length ``n``.

    Parameters
    ----------
    n:
        Window length (an integer, at least 1).

    Returns
    -------
    np.ndarray
        Shape ``(n,)``, values ``0.5 - 0.5 * cos(2 * pi * k / n)`` for
        ``k = 0 .. n-1``.  This is the "periodic" (FFT) version that
        ``librosa.stft`` uses, and it matches
        ``scipy.signal.get_window('hann', n)``.  Like scipy, ``n == 1``
        returns ``[1.0]``.

    Raises
    ------
    ValueError
        If ``n < 1``.

    Hints
    -----
    * ``np.arange(n)`` gives ``k``; the rest is one line of NumPy.
    * The window starts at 0 and peaks at 1 in the middle, so frames fade in
      and out smoothly before the FFT in Lab 3.
    """
    raise NotImplementedError("Lab 2: implement hann_window()")
