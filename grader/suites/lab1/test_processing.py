"""Lab 1 · duration, channels, sample rate and loudness of a waveform."""

import math

import numpy as np
import pytest
from hypothesis import example, given, strategies as st

from grader.checks import call_student, compare, describe, describe_call, expect, expect_raises
from grader.checks import expect_new_array, values_match

RATES = [8000, 16000, 22050, 44100, 48000]


def noise(seed: int, shape: tuple, scale: float = 0.5, dtype=np.float32) -> np.ndarray:
    return (scale * np.random.default_rng(seed).standard_normal(shape)).astype(dtype)


# ---------------------------------------------------------------- duration
@pytest.mark.points(2)
@given(n=st.integers(1, 5000), sr=st.sampled_from(RATES), channels=st.sampled_from([0, 1, 2]))
@example(n=661500, sr=22050, channels=0)
@example(n=44100, sr=44100, channels=2)
def test_duration_seconds_is_samples_over_rate(submission, n, sr, channels):
    """duration_seconds is samples on the last axis divided by sr, mono and stereo"""
    audio = np.zeros((channels, n) if channels else (n,), np.float32)
    got = call_student(submission, "duration_seconds", audio, sr)
    expected = n / sr
    expect(isinstance(got, (int, float)) and not isinstance(got, bool) and math.isclose(got, expected, rel_tol=1e-9),
           "wrong duration", function="duration_seconds", input=describe_call("duration_seconds", (audio, sr), {}),
           rows=[("seconds", repr(expected), describe(got))],
           hint="audio.shape[-1] / sr: samples are on the last axis, so (2, 44100) at 44100 Hz is 1.0 s")


# ---------------------------------------------------------------- to_mono
@pytest.mark.points(2)
def test_to_mono_averages_channels(submission, reference):
    """to_mono averages (C, N) channels into a float32 (N,) array"""
    for shape in ((2, 300), (3, 50)):
        compare(submission, reference, "to_mono", noise(1, shape, dtype=np.float64),
                hint="np.mean(audio, axis=0).astype(np.float32): the channel axis is axis 0")


@pytest.mark.points(1)
def test_to_mono_leaves_mono_unchanged(submission, reference):
    """to_mono returns 1-D audio unchanged, float32 or float64 alike"""
    for dtype in (np.float32, np.float64):
        compare(submission, reference, "to_mono", noise(2, (257,), dtype=dtype),
                hint="if audio.ndim == 1, return it as it is (no averaging, no cast to float32): "
                     "the stub says the input itself, unchanged")


# ---------------------------------------------------------------- resample
@pytest.mark.points(2)
def test_resample_matches_librosa(submission, reference, clips):
    """resample matches librosa.resample, mono and stereo, and keeps audio at the same rate"""
    hint = "librosa.resample(audio, orig_sr=orig_sr, target_sr=target_sr) with its default res_type, then float32"
    compare(submission, reference, "resample", noise(3, (4410,)), 44100, 22050, hint=hint)
    compare(submission, reference, "resample", noise(4, (2, 2205), dtype=np.float64), 22050, 16000,
            hint=hint + "; resample along the last axis so (2, N) stays 2 channels")
    for dtype in (np.float32, np.float64):
        compare(submission, reference, "resample", noise(5, (500,), dtype=dtype), 22050, 22050,
                hint="nothing to do when the rates are equal: return the same samples, as float32")


@pytest.mark.points(1)
@given(n=st.integers(1, 3000), orig=st.sampled_from(RATES), target=st.sampled_from(RATES))
@example(n=44100, orig=44100, target=22050)
def test_resample_length(submission, n, orig, target):
    """resample returns about N * target_sr / orig_sr samples"""
    audio = noise(n, (n,))
    got = call_student(submission, "resample", audio, orig, target)
    expected = math.ceil(n * target / orig)
    length = got.shape[-1] if isinstance(got, np.ndarray) and got.ndim else None
    expect(length is not None and abs(length - expected) <= 1, "wrong number of samples",
           function="resample", input=describe_call("resample", (audio, orig, target), {}),
           rows=[("length", f"about ceil({n} * {target} / {orig}) = {expected}", describe(got))],
           hint="pass orig_sr= and target_sr= to librosa.resample in the right order")


# ---------------------------------------------------------------- peak_normalize
@pytest.mark.points(2)
@given(seed=st.integers(0, 99), n=st.integers(1, 400), stereo=st.booleans(),
       scale=st.sampled_from([1.0, 1e-3, 0.3, 7.5]), peak=st.floats(0.01, 2.0))
@example(seed=0, n=100, stereo=False, scale=0.3, peak=1.0)  # explicit examples run first and fail fast
def test_peak_normalize_reaches_peak(submission, seed, n, stereo, scale, peak):
    """peak_normalize scales so that max |x| equals peak, keeping the shape"""
    audio = noise(seed, (2, n) if stereo else (n,), scale)
    got = call_student(submission, "peak_normalize", audio, peak)
    given_call = describe_call("peak_normalize", (audio, peak), {})
    expect(isinstance(got, np.ndarray) and got.shape == audio.shape, "wrong result shape",
           function="peak_normalize", input=given_call,
           rows=[("result", f"an array of shape {audio.shape}", describe(got))])
    reached = float(np.max(np.abs(got)))
    expect(math.isclose(reached, peak, rel_tol=1e-5), "the loudest sample is not at the requested peak",
           function="peak_normalize", input=given_call, rows=[("max |result|", f"{peak:.6g}", f"{reached:.6g}")],
           hint="multiply by peak / np.max(np.abs(audio))")
    direction = np.sign(got) == np.sign(audio)
    expect(bool(direction.all()), "peak_normalize changed the sign of some samples",
           function="peak_normalize", input=given_call,
           rows=[("signs", "unchanged", f"{int((~direction).sum())} flipped")],
           hint="scale by a positive factor; use np.abs only to find the peak")


@pytest.mark.points(1)
@pytest.mark.side_of("test_peak_normalize_reaches_peak")
def test_peak_normalize_returns_a_new_array(submission):
    """peak_normalize returns a new array and leaves the audio it was given as it was, silence included"""
    for audio in (noise(7, (300,), 0.3), noise(8, (2, 50), 2.0, np.float64), np.zeros(40, np.float32)):
        expect_new_array(submission, "peak_normalize", audio, 0.9,
                         hint="return audio * (peak / current_peak), a new array: `audio *= ...` scales "
                              "the caller's waveform too")


@pytest.mark.points(1)
def test_peak_normalize_default_peak(submission, reference):
    """peak_normalize without a peak scales the loudest sample to 1.0, integer samples too"""
    pcm = (noise(9, (300,), 0.2) * 32767).astype(np.int16)  # a waveform as 16-bit integers
    for audio in (noise(9, (2, 80), 0.2), pcm):
        values_match(submission, reference, "peak_normalize", audio,
                     hint="the signature's default is peak=1.0: keep `def peak_normalize(audio, peak=1.0)`; "
                          "integer samples scale like any others (np.abs and * work on them too)")


@pytest.mark.points(1)
def test_peak_normalize_keeps_silence(submission):
    """peak_normalize leaves silence as zeros, with no nan"""
    silence = np.zeros((2, 64), np.float32)
    got = call_student(submission, "peak_normalize", silence, 0.9)
    if isinstance(got, np.ndarray) and got.dtype.kind in "fc":
        seen = f"{describe(got)} with {int(np.isnan(got).sum())} nan and {int(np.count_nonzero(got))} non-zero values"
    else:
        seen = describe(got)
    ok = isinstance(got, np.ndarray) and got.shape == silence.shape and not np.isnan(got).any() and not np.any(got)
    expect(ok, "silence should stay silence", function="peak_normalize",
           input=describe_call("peak_normalize", (silence, 0.9), {}),
           rows=[("result", "all zeros of shape (2, 64), no nan", seen)],
           hint="when the loudest sample is 0 there is nothing to scale: give back silence of the same shape "
                "(dividing by the peak would give nan)")


# ---------------------------------------------------------------- errors
@pytest.mark.points(1)
def test_smallest_valid_rates_are_accepted(submission, reference):
    """duration_seconds and resample accept any positive rate, down to 1 Hz"""
    audio = noise(10, (40,))
    got = call_student(submission, "duration_seconds", audio, 1,
                       hint="only sr <= 0 is invalid: check `if sr <= 0`, not `sr <= 1` or `sr < 8000`")
    expect(isinstance(got, (int, float)) and not isinstance(got, bool) and got == 40.0, "wrong duration at 1 Hz",
           function="duration_seconds", input=describe_call("duration_seconds", (audio, 1), {}),
           rows=[("seconds", "40.0", describe(got))], hint="only sr <= 0 is invalid; 40 samples at 1 Hz last 40 s")
    for rates in ((1, 2), (2, 1)):
        compare(submission, reference, "resample", audio, *rates,
                hint="only rates <= 0 are invalid: check `orig_sr <= 0 or target_sr <= 0`")


@pytest.mark.points(1)
def test_invalid_input_raises_value_error(submission):
    """duration_seconds, to_mono, resample and peak_normalize raise ValueError for invalid input"""
    audio = noise(6, (32,))
    for sr in (0, -22050):
        expect_raises(submission, "duration_seconds", "ValueError", audio, sr,
                      hint="check `if sr <= 0: raise ValueError(...)` before dividing")
    expect_raises(submission, "to_mono", "ValueError", np.zeros((2, 2, 10), np.float32),
                  hint="only (N,) and (C, N) are audio: raise ValueError for audio.ndim > 2")
    for rates in ((0, 22050), (22050, -1)):
        expect_raises(submission, "resample", "ValueError", audio, *rates,
                      hint="check that both sample rates are positive before calling librosa")
    for peak in (0.0, -1.0):
        expect_raises(submission, "peak_normalize", "ValueError", audio, peak,
                      hint="check `if peak <= 0: raise ValueError(...)` first")
