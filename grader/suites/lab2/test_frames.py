"""Lab 2 · frame_signal, rms and the Hann window: the pieces inside librosa.stft."""

import numpy as np
import pytest
import scipy.signal
from hypothesis import example, given, strategies as st

from grader.checks import call_student, compare, describe_call, expect, expect_match, expect_raises, run_probe
from grader.checks import call_watching, values_match

FRAME_HINT = ("np.lib.stride_tricks.sliding_window_view(audio, frame_length)[::hop_length] gives "
              "row i = audio[i * hop_length : i * hop_length + frame_length]")


def signal(n: int, dtype=np.float32) -> np.ndarray:
    """Distinct, recognisable samples: 0.001 * index, so a wrong row shows where it came from."""
    return (np.arange(n) / 1000).astype(dtype)


# ---------------------------------------------------------------- frame_signal
@pytest.mark.points(3)
@given(data=st.data(), frame_length=st.integers(1, 64), hop_length=st.integers(1, 64))
@example(data=None, frame_length=8, hop_length=4)
@example(data=None, frame_length=16, hop_length=16)
def test_frame_signal_matches_reference(submission, reference, data, frame_length, hop_length):
    """frame_signal returns (1 + (N - frame_length) // hop, frame_length) frames, row i starting at i * hop"""
    extra = 37 if data is None else data.draw(st.integers(0, 200), label="samples after the first frame")
    compare(submission, reference, "frame_signal", signal(frame_length + extra), frame_length, hop_length,
            hint=FRAME_HINT)


@pytest.mark.points(1)
def test_frame_signal_strided_signal(submission, reference):
    """frame_signal frames a strided view (audio[::2], audio[::-1]) correctly: strides come from the signal"""
    for view, frame_length, hop_length in (("every_other", 16, 8), ("reversed", 10, 3)):
        owner = signal(301, np.float64)
        given = owner[::2] if view == "every_other" else owner[::-1]
        expected = reference.frame_signal(np.ascontiguousarray(given), frame_length, hop_length)
        got, _, call = call_watching(submission, "frame_signal", owner, frame_length, hop_length, views={0: view},
                                     hint=FRAME_HINT)
        expect_match(got, expected, function="frame_signal", input=call,
                     hint="a view of a view has its own strides: take them from audio.strides (or use "
                          "sliding_window_view) instead of assuming audio.itemsize between samples")


@pytest.mark.points(2)
def test_frame_signal_is_a_view(submission):
    """frame_signal returns a view that shares memory with the input (no copy)"""
    for n, frame_length, hop_length in ((1000, 256, 64), (300, 50, 50)):
        audio = signal(n)
        call = describe_call("frame_signal", (audio, frame_length, hop_length), {})
        seen = run_probe(submission, "lab2_frame_view", "frame_signal", audio, frame_length, hop_length, input=call)
        expect(seen["type"] == "ndarray", "frame_signal should return a NumPy array", function="frame_signal",
               input=call, rows=[("result", "a numpy.ndarray", seen["type"])])
        expect(seen["shares"], "the frames are a copy: they do not share memory with the signal",
               function="frame_signal", input=call,
               rows=[("np.shares_memory(frames, audio)", "True", "False")],
               hint="a loop, np.array(...), np.stack(...) or .copy() copies the samples; stride tricks "
                    "(sliding_window_view, as_strided) only change how the same memory is read")


@pytest.mark.points(1)
def test_frame_signal_rejects_short_signal(submission):
    """frame_signal raises ValueError when the signal is shorter than one frame"""
    expect_raises(submission, "frame_signal", "ValueError", signal(100), 128, 32,
                  hint="check `if len(audio) < frame_length: raise ValueError(...)` before framing")


@pytest.mark.points(1)
def test_frame_signal_rejects_bad_arguments(submission):
    """frame_signal raises ValueError for 2-D audio and for a frame length or hop below 1"""
    hint = "validate first: audio.ndim == 1, frame_length >= 1 and hop_length >= 1"
    expect_raises(submission, "frame_signal", "ValueError", np.zeros((2, 100), np.float32), 10, 5, hint=hint)
    expect_raises(submission, "frame_signal", "ValueError", signal(100), 10, 0, hint=hint)
    expect_raises(submission, "frame_signal", "ValueError", signal(100), 0, 5, hint=hint)


# ---------------------------------------------------------------- rms
@pytest.mark.points(2)
def test_rms_matches_reference(submission, reference):
    """rms is sqrt(mean(frame ** 2)) over the last axis of each frame"""
    rng = np.random.default_rng(21)
    hint = "np.sqrt(np.mean(frames ** 2, axis=-1)): one value per frame (row)"
    values_match(submission, reference, "rms", rng.standard_normal((12, 64)), hint=hint)
    values_match(submission, reference, "rms", rng.uniform(-1, 1, (5, 3, 40)).astype(np.float32), hint=hint)


@pytest.mark.points(1)
def test_rms_of_sine_and_constant(submission):
    """rms of a full-period sine of amplitude A is A / sqrt(2); of a constant c it is |c|"""
    k = np.arange(400)
    frames = np.stack([0.8 * np.sin(2 * np.pi * 5 * k / 400), np.full(400, -0.25)])
    got = call_student(submission, "rms", frames)
    expect_match(got, np.array([0.8 / np.sqrt(2), 0.25]), function="rms", input=describe_call("rms", (frames,), {}),
                 hint="square first, then average, then take the square root", rtol=1e-6, atol=1e-9)


# ---------------------------------------------------------------- hann_window
@pytest.mark.points(3)
@given(n=st.integers(1, 300))
@example(n=1)
@example(n=2)
@example(n=7)
@example(n=2048)
def test_hann_window_matches_scipy(submission, n):
    """hann_window(n) is the periodic Hann window, equal to scipy.signal.get_window('hann', n)"""
    expected = scipy.signal.get_window("hann", n)
    got = call_student(submission, "hann_window", n)
    hint = "0.5 - 0.5 * np.cos(2 * np.pi * k / n) for k = 0 .. n-1 (divide by n, not n - 1); n == 1 gives [1.0]"
    if isinstance(got, np.ndarray) and got.shape == (n,) and n > 1 and np.allclose(got, np.hanning(n), atol=1e-6):
        hint = ("this is the symmetric window (np.hanning, divides by n - 1, ends at 0); "
                "the STFT uses the periodic one: divide by n, so it does not end at 0")
    if isinstance(got, np.ndarray) and got.dtype != expected.dtype and got.dtype.kind == "f":
        got = got.astype(expected.dtype)  # any float dtype is fine here, the values are what count
    expect_match(got, expected, function="hann_window", input=f"hann_window({n})", hint=hint, atol=1e-6)


@pytest.mark.points(1)
def test_hann_window_rejects_bad_length(submission):
    """hann_window raises ValueError for n < 1"""
    for n in (0, -4):
        expect_raises(submission, "hann_window", "ValueError", n,
                      hint="check `if n < 1: raise ValueError(...)`")
