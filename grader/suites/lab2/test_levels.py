"""Lab 2 · decibels, standardisation and mixing noise at a chosen SNR."""

import math

import numpy as np
import pytest
from hypothesis import example, given, strategies as st

from grader.checks import call_student, describe, describe_call, expect, expect_match, expect_raises, run_probe
from grader.checks import as_expected_float, expect_raises_in_worker, values_match


# ---------------------------------------------------------------- amplitude_to_db
@pytest.mark.points(2)
def test_amplitude_to_db_matches_reference(submission, reference):
    """amplitude_to_db is 20 * log10(max(amin, |x|) / ref), floored top_db below the maximum"""
    x = np.array([[1.0, 0.1, 0.01, 1e-3], [-0.5, 0.0, 1e-6, 2.0]])
    hint = ("20 * np.log10(np.maximum(amin, np.abs(x))) - 20 * np.log10(max(amin, ref)), "
            "then np.maximum(db, db.max() - top_db)")
    values_match(submission, reference, "amplitude_to_db", x, hint=hint, atol=1e-5)
    values_match(submission, reference, "amplitude_to_db", x, top_db=None, hint=hint + " (top_db=None: no floor)",
                 atol=1e-5)
    values_match(submission, reference, "amplitude_to_db", x, ref=0.5, amin=1e-3, top_db=40.0, hint=hint, atol=1e-5)
    values_match(submission, reference, "amplitude_to_db", np.array([[0, 1, 10], [100, -1000, 3]]), atol=1e-5,
                 hint=hint + "; integer amplitudes work too")


@pytest.mark.points(1)
def test_amplitude_to_db_ref_function(submission, reference):
    """amplitude_to_db with ref=np.max puts the loudest |x| at 0 dB, for positive and signed x"""
    signed = np.random.default_rng(22).standard_normal((4, 30)) * 3
    signed[1, 3] = -4 * np.abs(signed).max()  # the loudest value is negative: ref(x) would miss it
    for x, what in ((np.abs(signed), "non-negative"), (signed, "signed")):
        expected = reference.amplitude_to_db(x, ref=np.max)
        call = f"amplitude_to_db({what} float64 array of shape (4, 30), ref=np.max)"
        got = run_probe(submission, "lab2_call_with_numpy_ref", "amplitude_to_db", x, "max", input=call,
                        hint="if callable(ref), use ref(np.abs(x)) as the reference amplitude")
        expect_match(as_expected_float(got, expected), expected, function="amplitude_to_db", input=call, atol=1e-5,
                     hint="if callable(ref), the reference amplitude is ref(np.abs(x)) (of |x|, not x), "
                          "so the loudest value becomes 0 dB")


@pytest.mark.points(1)
def test_amplitude_to_db_edge_parameters(submission, reference):
    """amplitude_to_db with top_db=0 raises every value to the maximum; a negative ref counts as |ref|"""
    x = np.array([[1.0, 0.1, 0.01, 1e-3], [-0.5, 0.0, 1e-6, 2.0]])
    values_match(submission, reference, "amplitude_to_db", x, top_db=0.0, atol=1e-5,
                 hint="top_db=0 is allowed: the floor is max - 0, so every value becomes the maximum; "
                      "test `top_db is not None`, not `if top_db:` (0 is falsy)")
    values_match(submission, reference, "amplitude_to_db", x, ref=-0.5, atol=1e-5,
                 hint="a negative ref counts by its absolute value, like x: use abs(ref)")


@pytest.mark.points(1)
def test_amplitude_to_db_rejects_bad_arguments(submission):
    """amplitude_to_db raises ValueError for amin <= 0 and for top_db < 0"""
    x = np.ones(4)
    expect_raises(submission, "amplitude_to_db", "ValueError", x, amin=0.0, hint="amin must be > 0")
    for top_db in (-10.0, -0.5):
        expect_raises(submission, "amplitude_to_db", "ValueError", x, top_db=top_db, hint="top_db must be >= 0 (or None)")


# ---------------------------------------------------------------- standardize
@pytest.mark.points(2)
def test_standardize_matches_reference(submission, reference):
    """standardize gives zero mean and unit (population) standard deviation"""
    hint = "(x - x.mean()) / x.std(): NumPy's std is the population one (ddof=0)"
    rng = np.random.default_rng(23)
    values_match(submission, reference, "standardize", 3 + 2 * rng.standard_normal((6, 20)), hint=hint)
    values_match(submission, reference, "standardize", np.arange(10), hint=hint + "; integers work too")


@pytest.mark.points(1)
def test_standardize_constant_gives_zeros(submission):
    """standardize returns all zeros (no nan) for a constant input, a single value included"""
    for x in (np.full(7, 0.1, np.float32), np.full((3, 4), 5.0), np.array([3.0])):
        got = call_student(submission, "standardize", x)
        call = describe_call("standardize", (x,), {})
        ok = isinstance(got, np.ndarray) and got.shape == x.shape and not np.isnan(got).any() and not np.any(got)
        seen = describe(got)
        if isinstance(got, np.ndarray) and got.dtype.kind == "f":
            seen += f" with {int(np.isnan(got).sum())} nan and {int(np.count_nonzero(got))} non-zero values"
        expect(ok, "a constant input should standardize to zeros", function="standardize", input=call,
               rows=[("result", f"all zeros of shape {x.shape}, no nan", seen)],
               hint="test whether every value equals the first one and give back zeros of the same shape: a float32 constant can "
                    "have a tiny non-zero std from rounding, and dividing by it gives garbage")


@pytest.mark.points(1)
def test_standardize_rejects_empty(submission):
    """standardize raises ValueError for an empty array"""
    # the empty array is made in the worker: empty arrays cannot cross the wire
    expect_raises_in_worker(submission, "lab2_call_on_empty", "standardize", "ValueError",
                            input="standardize(float64 array of shape (0,))",
                            hint="check `if x.size == 0: raise ValueError(...)` first")


# ---------------------------------------------------------------- mix_at_snr
def pair(seed: int, n: int = 500) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    signal = 0.5 * np.sin(2 * np.pi * 7 * np.arange(n) / n) + 0.1 * rng.standard_normal(n)
    return signal, rng.standard_normal(n) * rng.uniform(0.01, 3)


@pytest.mark.points(3)
@given(snr_db=st.floats(-20, 40, allow_nan=False), seed=st.integers(0, 20))
@example(snr_db=10.0, seed=0)
@example(snr_db=0.0, seed=1)
def test_mix_at_snr_reaches_target(submission, snr_db, seed):
    """mix_at_snr scales the noise so that 10 * log10(P_signal / P_noise) equals snr_db"""
    signal, noise = pair(seed)
    got = call_student(submission, "mix_at_snr", signal, noise, snr_db)
    call = describe_call("mix_at_snr", (signal, noise, snr_db), {})
    expect(isinstance(got, np.ndarray) and got.shape == signal.shape, "wrong result shape", function="mix_at_snr",
           input=call, rows=[("result", f"an array of shape {signal.shape}", describe(got))])
    added = got.astype(np.float64) - signal
    p_added = float(np.mean(added ** 2))
    measured = 10 * math.log10(np.mean(signal ** 2) / p_added) if p_added > 0 else math.inf
    expect(math.isclose(measured, snr_db, abs_tol=1e-3), "the mix does not have the requested SNR",
           function="mix_at_snr", input=call,
           rows=[("SNR of result - signal", f"{snr_db:.4f} dB", f"{measured:.4f} dB")],
           hint="power P = mean(x ** 2); the gain is g = sqrt(P_signal / (P_noise * 10 ** (snr_db / 10))): "
                "10 ** (snr_db / 10) for powers, not / 20")


@pytest.mark.points(1)
def test_mix_at_snr_matches_reference(submission, reference):
    """mix_at_snr returns signal + g * noise with the gain g that reaches snr_db, down to a single sample"""
    signal, noise = pair(30)
    hint = ("return signal + g * noise, g = sqrt(P_signal / (P_noise * 10 ** (snr_db / 10))): "
            "keep the signal as it is and scale only the noise, by a positive g")
    values_match(submission, reference, "mix_at_snr", signal, noise, 6.0, hint=hint)
    values_match(submission, reference, "mix_at_snr", np.array([0.5]), np.array([-0.2]), 6.0,
                 hint=hint + "; a single sample is a valid (if short) signal")


@pytest.mark.points(1)
@pytest.mark.side_of("test_mix_at_snr_reaches_target")
def test_mix_at_snr_rejects_different_shapes(submission):
    """mix_at_snr raises ValueError when the shapes differ, even when they would broadcast"""
    signal, noise = pair(31)
    hint = "compare signal.shape != noise.shape first: NumPy would broadcast (N,) with (1, N) without a word"
    expect_raises(submission, "mix_at_snr", "ValueError", signal, noise[:-1], 10.0, hint=hint)
    expect_raises(submission, "mix_at_snr", "ValueError", signal, noise[np.newaxis, :], 10.0, hint=hint)
    expect_raises(submission, "mix_at_snr", "ValueError", signal[np.newaxis, :], noise[:1], 10.0, hint=hint)


@pytest.mark.points(1)
@pytest.mark.side_of("test_mix_at_snr_reaches_target")
def test_mix_at_snr_rejects_silence_and_empty(submission):
    """mix_at_snr raises ValueError for silent noise, a silent signal and empty arrays"""
    signal, noise = pair(32)
    expect_raises(submission, "mix_at_snr", "ValueError", signal, np.zeros_like(noise), 10.0,
                  hint="silent noise has power 0: no gain can reach the SNR, "
                       "so raise ValueError instead of dividing by 0")
    expect_raises(submission, "mix_at_snr", "ValueError", np.zeros_like(signal), noise, 10.0,
                  hint="a silent signal has power 0: the SNR is undefined, so raise ValueError")
    expect_raises_in_worker(submission, "lab2_call_on_empty", "mix_at_snr", "ValueError", count=2, extra=(10.0,),
                            input="mix_at_snr(float64 array of shape (0,), float64 array of shape (0,), 10.0)",
                            hint="check `if signal.size == 0: raise ValueError(...)`: the mean of nothing is nan")
