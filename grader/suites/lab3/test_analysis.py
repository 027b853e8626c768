"""Lab 3 · the STFT: magnitude, its shape, and the axes in Hz and seconds.

Frame counts are computed here from the definition (a centered STFT has
1 + len // hop_length frames), never copied from a slide.
"""

import numpy as np
import pytest
from hypothesis import example, given, strategies as st

from grader.checks import fixtures
from grader.checks import call_student, describe, describe_call, expect, expect_match, expect_raises

STFT_HINT = "np.abs(librosa.stft(audio, n_fft=n_fft, hop_length=hop_length)).astype(np.float32)"
FRAMES_HINT = ("a centered STFT pads n_fft // 2 samples on each side, so it has one frame on sample 0 "
               "and one every hop_length samples: 1 + len(audio) // hop_length frames")


def waveform(n: int) -> np.ndarray:
    """A deterministic float32 chirp plus a little noise, n samples at 22050 Hz."""
    t = np.arange(n) / 22050
    noise = np.random.default_rng(n).standard_normal(n)
    return (0.5 * np.sin(2 * np.pi * (300 + 2000 * t) * t) + 0.05 * noise).astype(np.float32)


def close_to_reference(submission, reference, function, *args, hint="", dtype_matters=False, rtol=1e-4,
                       atol_of_max=1e-5, **kwargs):
    """Compare with the reference; the absolute tolerance scales with the largest expected value,
    so float64 and float32 routes through librosa agree.  Any float dtype passes unless
    ``dtype_matters``."""
    expected = getattr(reference, function)(*args, **kwargs)
    got = call_student(submission, function, *args, hint=hint, **kwargs)
    if not dtype_matters and isinstance(got, np.ndarray) and got.dtype.kind == "f" and got.dtype != expected.dtype:
        got = got.astype(expected.dtype)
    scale = float(np.max(np.abs(expected))) if expected.size else 0.0
    expect_match(got, expected, function=function, input=describe_call(function, args, kwargs), hint=hint,
                 rtol=rtol, atol=max(atol_of_max * scale, 1e-6))
    return got


# ---------------------------------------------------------------- stft_magnitude
SIZES = dict(length=st.integers(1, 3000), n_fft=st.sampled_from([2048, 256, 512, 1024]),
             hop_length=st.sampled_from([512, 64, 100, 128, 256]))


@pytest.mark.points(2)
@given(**SIZES)
@example(length=2048, n_fft=2048, hop_length=512)
@example(length=1, n_fft=2048, hop_length=512)
@example(length=512, n_fft=512, hop_length=128)
def test_stft_magnitude_shape(submission, length, n_fft, hop_length):
    """stft_magnitude has 1 + n_fft // 2 rows and 1 + len // hop_length columns"""
    audio = waveform(length)
    got = call_student(submission, "stft_magnitude", audio, n_fft, hop_length, hint=STFT_HINT)
    expected = (1 + n_fft // 2, 1 + length // hop_length)
    shape = tuple(got.shape) if isinstance(got, np.ndarray) else None
    expect(shape == expected, "wrong spectrogram shape", function="stft_magnitude",
           input=describe_call("stft_magnitude", (audio, n_fft, hop_length), {}),
           rows=[("shape (frequency bins, frames)", str(expected), str(shape) if shape else describe(got))],
           hint=f"n_fft = {n_fft} gives 1 + {n_fft} // 2 = {expected[0]} bins; " + FRAMES_HINT
                + "; librosa.stft does both for you (center=True is its default)")


@pytest.mark.points(3)
@given(**SIZES)
@example(length=2048, n_fft=2048, hop_length=512)
@example(length=1, n_fft=2048, hop_length=512)
@example(length=3000, n_fft=512, hop_length=128)
def test_stft_magnitude_values(submission, reference, length, n_fft, hop_length):
    """stft_magnitude equals |librosa.stft(audio)| as float32"""
    close_to_reference(submission, reference, "stft_magnitude", waveform(length), n_fft, hop_length,
                       hint=STFT_HINT, dtype_matters=True)


@pytest.mark.points(1)
def test_stft_magnitude_defaults(submission, reference):
    """stft_magnitude's defaults are the lecture's n_fft=2048 and hop_length=512"""
    close_to_reference(submission, reference, "stft_magnitude", waveform(4000), dtype_matters=True,
                       hint="keep the signature's defaults, def stft_magnitude(audio, n_fft=2048, hop_length=512), "
                            "and pass them on to librosa.stft")


@pytest.mark.points(1)
def test_stft_magnitude_float64_input(submission, reference):
    """stft_magnitude of a float64 waveform is still a float32 spectrogram"""
    close_to_reference(submission, reference, "stft_magnitude", waveform(3000).astype(np.float64), 512, 128,
                       hint="float64 audio gives a complex128 STFT and a float64 magnitude: finish with "
                            ".astype(np.float32)", dtype_matters=True)


@pytest.mark.points(1)
def test_stft_magnitude_thirty_seconds(submission):
    """stft_magnitude of 30 s at 22050 Hz has 1 + 661500 // 512 frames with the lecture's settings"""
    sr, seconds, n_fft, hop = 22050, 30, 2048, 512
    audio = fixtures.chirp(100, 5000, sr, seconds)
    got = call_student(submission, "stft_magnitude", audio,
                       hint=STFT_HINT + " with the defaults n_fft=2048, hop_length=512")
    expected = (1 + n_fft // 2, 1 + len(audio) // hop)
    shape = tuple(got.shape) if isinstance(got, np.ndarray) else None
    expect(shape == expected, "wrong spectrogram shape for a 30 s clip", function="stft_magnitude",
           input=describe_call("stft_magnitude", (audio,), {}) + f" ({seconds} s at {sr} Hz)",
           rows=[("shape", str(expected), str(shape) if shape else describe(got))],
           hint=f"{seconds} s at {sr} Hz is {len(audio)} samples, and 1 + {len(audio)} // {hop} = {expected[1]} "
                "frames: work it out rather than trusting a slide; " + FRAMES_HINT)


# ---------------------------------------------------------------- n_frames
@pytest.mark.points(2)
@given(n_samples=st.integers(0, 10**7), hop_length=st.integers(1, 4096))
@example(n_samples=30 * 22050, hop_length=512)
@example(n_samples=3 * 22050, hop_length=512)
@example(n_samples=0, hop_length=512)
@example(n_samples=1024, hop_length=512)
@example(n_samples=5, hop_length=1)
def test_n_frames_formula(submission, n_samples, hop_length):
    """n_frames(n_samples, hop_length) is 1 + n_samples // hop_length, as an int"""
    got = call_student(submission, "n_frames", n_samples, hop_length)
    expected = 1 + n_samples // hop_length
    ok = isinstance(got, (int, np.integer)) and not isinstance(got, bool) and got == expected
    expect(ok, "wrong number of frames", function="n_frames",
           input=describe_call("n_frames", (n_samples, hop_length), {}),
           rows=[("frames", f"1 + {n_samples} // {hop_length} = {expected}", describe(got))],
           hint=FRAMES_HINT + "; use integer division //, so the answer is an int")


@pytest.mark.points(1)
def test_n_frames_rejects_bad_arguments(submission):
    """n_frames raises ValueError for n_samples < 0 or hop_length < 1"""
    expect_raises(submission, "n_frames", "ValueError", -1, 512, hint="check n_samples >= 0")
    expect_raises(submission, "n_frames", "ValueError", 1000, 0, hint="check hop_length >= 1")


# ---------------------------------------------------------------- axes
@pytest.mark.points(2)
def test_frequency_bins(submission, reference):
    """frequency_bins runs from 0 Hz to sr / 2 in 1 + n_fft // 2 steps of sr / n_fft"""
    for sr, n_fft in ((22050, 2048), (44100, 1024), (16000, 512), (22050, 1023)):
        close_to_reference(submission, reference, "frequency_bins", sr, n_fft, rtol=1e-9, atol_of_max=1e-9,
                           hint="librosa.fft_frequencies(sr=sr, n_fft=n_fft): bin k is k * sr / n_fft Hz")


@pytest.mark.points(1)
def test_frame_times(submission, reference):
    """frame_times puts frame i at i * hop_length / sr seconds"""
    for count, sr, hop in ((1292, 22050, 512), (7, 44100, 256), (1, 16000, 160)):
        close_to_reference(submission, reference, "frame_times", count, sr, hop, rtol=1e-9, atol_of_max=1e-9,
                           hint="librosa.frames_to_time(np.arange(n_frames), sr=sr, hop_length=hop_length)")


# ---------------------------------------------------------------- decibels
@pytest.mark.points(2)
def test_magnitude_to_db(submission, reference):
    """magnitude_to_db is dB relative to the loudest bin: 0 dB at the top, floored at -80 dB"""
    import librosa

    stft = librosa.stft(fixtures.chirp(200, 6000, 22050, 0.5), n_fft=1024, hop_length=256)
    magnitude = np.ascontiguousarray(np.abs(stft))
    close_to_reference(submission, reference, "magnitude_to_db", magnitude, rtol=1e-5, atol_of_max=1e-4,
                       hint="librosa.amplitude_to_db(magnitude, ref=np.max)")


@pytest.mark.points(1)
def test_magnitude_to_db_silence(submission):
    """magnitude_to_db of a silent spectrogram is finite everywhere (no nan or -inf)"""
    silence = np.zeros((129, 9), np.float32)
    got = call_student(submission, "magnitude_to_db", silence)
    ok = isinstance(got, np.ndarray) and got.shape == silence.shape and bool(np.isfinite(got).all())
    seen = describe(got)
    if isinstance(got, np.ndarray) and got.dtype.kind == "f":
        seen += f" with {int(np.isnan(got).sum())} nan and {int(np.isinf(got).sum())} infinite values"
    expect(ok, "silence must give finite decibels", function="magnitude_to_db",
           input=describe_call("magnitude_to_db", (silence,), {}),
           rows=[("result", f"finite values, shape {silence.shape}", seen)],
           hint="log10(0) is -inf and 0 / 0 is nan: librosa.amplitude_to_db clips to amin first, "
                "so prefer it to dividing by magnitude.max() yourself")


# ---------------------------------------------------------------- mel
@pytest.mark.points(1)
def test_mel_spectrogram_shape(submission):
    """mel_spectrogram has n_mels rows and 1 + len // hop_length columns"""
    for length, kwargs in ((11025, {}), (4000, dict(n_fft=1024, hop_length=256, n_mels=40))):
        audio = waveform(length)
        got = call_student(submission, "mel_spectrogram", audio, 22050, **kwargs)
        expected = (kwargs.get("n_mels", 128), 1 + length // kwargs.get("hop_length", 512))  # the defaults
        shape = tuple(got.shape) if isinstance(got, np.ndarray) else None
        expect(shape == expected, "wrong mel spectrogram shape", function="mel_spectrogram",
               input=describe_call("mel_spectrogram", (audio, 22050), kwargs),
               rows=[("shape (mel bands, frames)", str(expected), str(shape) if shape else describe(got))],
               hint="pass n_fft, hop_length and n_mels through: librosa.feature.melspectrogram(y=audio, sr=sr, "
                    "n_fft=n_fft, hop_length=hop_length, n_mels=n_mels)")


@pytest.mark.points(2)
def test_mel_spectrogram_values(submission, reference):
    """mel_spectrogram matches librosa.feature.melspectrogram (a power spectrogram)"""
    hint = ("librosa.feature.melspectrogram(y=audio, sr=sr, n_fft=n_fft, hop_length=hop_length, n_mels=n_mels) "
            "uses power (magnitude ** 2), not magnitude")
    close_to_reference(submission, reference, "mel_spectrogram", waveform(11025), 22050, hint=hint)
    close_to_reference(submission, reference, "mel_spectrogram", waveform(4000), 16000, n_fft=512,
                       hop_length=128, n_mels=40, hint=hint)
