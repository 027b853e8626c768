"""Lab 5 · UNet.forward: any (F, T), a mask in [0, 1], the reference's values on the same weights."""

import math

import pytest
from hypothesis import example, given, settings, strategies as st

from grader.checks import describe, expect, expect_match
from grader.suites.lab5.support import (FORWARD_HINT, magnitudes, random_weights, reference_probe,
                                        expect_tensor, student_forward, student_probe,
                                        student_unet, unet_call, unet_kwargs)

pytestmark = pytest.mark.grades("UNet.forward")

FEW = settings(max_examples=8)     # the grading profile runs 15 examples and does not shrink
SIZES = st.integers(1, 40)


def agrees_with_reference(submission, reference, bilinear: bool, seed: int):
    """A check body: for (batch, F, T), the student's output equals the reference's."""
    kwargs = unet_kwargs(bilinear)
    state = random_weights(reference, seed=seed, bilinear=bilinear)
    theirs = student_unet(submission, state, **kwargs)

    def check(batch, n_freq, n_time, data):
        x = magnitudes(data, (batch, 1, n_freq, n_time))
        expected = reference_probe(reference, "lab5_forward", state, x, unet=kwargs)
        got = student_forward(submission, theirs, x)
        expect_match(got, expected, function="UNet.forward", rtol=1e-4, atol=1e-4,
                     input=f"{unet_call(kwargs)} with the reference's weights, eval mode, x: {describe(x)}",
                     hint=FORWARD_HINT)
    return check


@pytest.mark.points(5)
def test_forward_matches_reference(submission, reference):
    """forward agrees with the reference on the same weights for any batch, F and T in 1..40"""
    check = agrees_with_reference(submission, reference, bilinear=False, seed=21)
    check(2, 17, 33, 1)   # first a typical input: hypothesis would report the simplest failing example

    @given(batch=st.integers(1, 2), n_freq=SIZES, n_time=SIZES, data=st.integers(0, 999))
    @example(batch=1, n_freq=40, n_time=7, data=2)
    @example(batch=2, n_freq=16, n_time=32, data=3)
    @example(batch=1, n_freq=1, n_time=1, data=0)
    def run(batch, n_freq, n_time, data):
        check(batch, n_freq, n_time, data)
    run()


@pytest.mark.points(2)
def test_bilinear_matches_reference(submission, reference):
    """UNet(bilinear=True) agrees with the reference on the same weights"""
    check = agrees_with_reference(submission, reference, bilinear=True, seed=22)
    check(2, 23, 37, 1)

    @settings(max_examples=4)
    @given(batch=st.integers(1, 2), n_freq=SIZES, n_time=SIZES, data=st.integers(0, 999))
    @example(batch=1, n_freq=1, n_time=1, data=0)
    def run(batch, n_freq, n_time, data):
        check(batch, n_freq, n_time, data)
    run()


@pytest.mark.points(2)
def test_output_shape_matches_input(submission):
    """the output is (batch, n_classes, F, T) for any F, T, also with 2 input channels or 2 classes"""
    models = {}

    def check(batch, channels, classes, n_freq, n_time):
        kwargs = unet_kwargs(False, channels, classes)
        if (channels, classes) not in models:
            models[channels, classes] = student_unet(submission, None, **kwargs)
        x = magnitudes(n_freq * n_time, (batch, channels, n_freq, n_time))
        got = student_forward(submission, models[channels, classes], x)
        want = (batch, classes, n_freq, n_time)
        expect(tuple(got.shape) == want, "the output does not have the input's (F, T) size", function="UNet.forward",
               input=f"{unet_call(kwargs)}, x: {describe(x)}", rows=[("shape", str(want), str(tuple(got.shape)))],
               hint="pad (F, T) at the end up to a multiple of 16, and crop the logits back to (F, T) "
                    "before the sigmoid; the output has n_classes channels")
    check(2, 2, 2, 19, 33)

    @FEW
    @given(batch=st.integers(1, 2), channels=st.sampled_from([1, 2]), classes=st.sampled_from([1, 2]),
           n_freq=SIZES, n_time=SIZES)
    @example(batch=1, channels=1, classes=1, n_freq=1, n_time=1)
    def run(batch, channels, classes, n_freq, n_time):
        check(batch, channels, classes, n_freq, n_time)
    run()


@pytest.mark.side_of("test_forward_matches_reference")
@pytest.mark.points(2)
def test_output_is_a_mask_between_0_and_1(submission, reference):
    """the output is a mask in [0, 1], even for very loud inputs"""
    model = student_unet(submission, random_weights(reference, seed=23))
    for scale in (1.0, 1e3):
        x = magnitudes(5, (2, 1, 33, 21), scale=scale)
        got = student_forward(submission, model, x)
        values = got.data.double()
        low, high = (float(values.min()), float(values.max())) if values.numel() else (0.0, 0.0)
        expect(not math.isnan(low + high) and low >= 0.0 and high <= 1.0, "the output is not a mask in [0, 1]",
               function="UNet.forward", input=f"x: {describe(x)} with values up to {float(x.max()):.3g}",
               rows=[("range", "within [0, 1]", f"[{low:.4g}, {high:.4g}]")],
               hint="end forward with torch.sigmoid(logits): the network predicts a soft mask")


@pytest.mark.side_of("test_forward_matches_reference")
@pytest.mark.points(2)
def test_batch_items_are_independent(submission, reference):
    """in eval mode each item of a batch of 3 gets the output it gets alone"""
    model = student_unet(submission, random_weights(reference, seed=24))
    x = magnitudes(6, (3, 1, 23, 37))
    got = student_probe(submission, "lab5_forward_each", model, x, function="UNet.forward",
                        input=f"x: {describe(x)}, then x[i:i+1] for each i", hint=FORWARD_HINT)
    whole = got["batch"]
    expect_tensor(whole, "UNet.forward", f"x: {describe(x)}")
    for i, alone in enumerate(got["alone"]):
        expect_tensor(alone, "UNet.forward", f"x[{i}:{i + 1}] of x: {describe(x)}")
        expect_match(alone, whole.data[i:i + 1], function="UNet.forward", rtol=1e-4, atol=1e-5,
                     input=f"item {i} of x: {describe(x)} alone, against the same item in the batch",
                     hint="items of a batch must not mix: pad and crop only the last two axes (F, T), "
                          "and concatenate skip connections along dim=1 (channels)")
