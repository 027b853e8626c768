"""Lab 4 · Shapes: to_unet_input and the 4-D (batch, channels, freq, time) layout U-Net expects."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import example, given
from hypothesis import strategies as st

from grader.checks import compare, expect, expect_match, expect_raises, run_probe

# Hypothesis's explain phase re-runs a failing example under a tracer: seconds per failing check.

sizes = st.integers(1, 9)  # 1 and odd sizes included: a 1 must not be mistaken for a batch axis


def ramp(*shape: int) -> torch.Tensor:
    """Distinct values, so a transposed or shuffled result cannot pass."""
    return torch.arange(int(np.prod(shape)), dtype=torch.float32).reshape(shape)


@pytest.mark.points(2)
@given(freq=sizes, time=sizes)
@example(freq=1025, time=3)
def test_to_unet_input_adds_batch_and_channel(submission, reference, freq, time):
    """to_unet_input turns a (freq, time) spectrogram into (1, 1, freq, time)"""
    compare(submission, reference, "to_unet_input", ramp(freq, time),
            hint="U-Net expects (batch, channels, freq, time): a single spectrogram needs a batch axis and a "
                 "channel axis of size 1 in front of (freq, time); unsqueeze(dim) inserts one at position dim "
                 "(lecture: adding dimensions; docs: torch.unsqueeze)")


@pytest.mark.points(1)
@given(batch=sizes, freq=sizes, time=sizes)
def test_to_unet_input_adds_channel_to_a_batch(submission, reference, batch, freq, time):
    """to_unet_input turns a (batch, freq, time) stack into (batch, 1, freq, time)"""
    compare(submission, reference, "to_unet_input", ramp(batch, freq, time),
            hint="a (batch, freq, time) stack already has its batch dimension; unsqueeze(1) adds the single "
                 "channel right after it -- unsqueeze(0) would make the batch a channel axis")


@pytest.mark.points(1)
def test_to_unet_input_keeps_4d(submission, reference):
    """to_unet_input returns a 4-D tensor unchanged"""
    for shape in ((1, 1, 5, 7), (3, 2, 4, 1)):
        compare(submission, reference, "to_unet_input", ramp(*shape),
                hint="a 4-D tensor is already (batch, channels, freq, time): return it as it is")


@pytest.mark.side_of("test_to_unet_input_adds_batch_and_channel")
@pytest.mark.points(1)
def test_to_unet_input_returns_a_view(submission, reference):
    """to_unet_input returns a view of a tensor input (no copy)"""
    for shape in ((5, 7), (2, 5, 7), (2, 1, 5, 7)):
        given = f"to_unet_input(float32 tensor of shape {shape})"
        seen = run_probe(submission, "is_view_of_input", "to_unet_input", ramp(*shape), input=given)
        expect_match(seen["result"], reference.to_unet_input(ramp(*shape)), function="to_unet_input", input=given)
        view = seen["result_storage"] == seen["input_storage"] != 0
        expect(view, "the result is a copy, not a view of the input", function="to_unet_input",
               input=given,
               rows=[("memory", "shared with the input (a view)", "a new copy")],
               hint="unsqueeze returns a view -- it never copies data; avoid .clone(), torch.tensor(x) "
                    "and .contiguous() copies here")


@pytest.mark.points(1)
def test_to_unet_input_converts_arrays(submission, reference):
    """to_unet_input converts a float64 (freq, time) array to a float32 (1, 1, freq, time) tensor"""
    compare(submission, reference, "to_unet_input", np.linspace(0, 1, 15).reshape(3, 5),
            hint="convert an ndarray with numpy_to_tensor first (float32, shared memory when possible), "
                 "then add the batch and channel dimensions")


@pytest.mark.side_of("test_to_unet_input_adds_batch_and_channel")
@pytest.mark.points(1)
def test_to_unet_input_rejects_other_shapes(submission):
    """to_unet_input raises ValueError naming the shape for 1-D and 5-D input"""
    for shape in ((7,), (2, 1, 3, 4, 5)):
        expect_raises(submission, "to_unet_input", "ValueError", ramp(*shape), match=", ".join(map(str, shape)),
                      hint="only 2-D (freq, time), 3-D (batch, freq, time) and 4-D make sense for U-Net; "
                           "for anything else raise ValueError with the shape you got in its message")


@pytest.mark.side_of("test_to_unet_input_adds_batch_and_channel")
@pytest.mark.points(1)
def test_to_unet_input_rejects_non_arrays(submission):
    """to_unet_input raises TypeError for a nested list"""
    expect_raises(submission, "to_unet_input", "TypeError", [[1.0, 2.0], [3.0, 4.0]],
                  hint="check isinstance(x, np.ndarray) and isinstance(x, torch.Tensor) before using x.ndim; "
                       "anything else is neither a spectrogram array nor a tensor: raise TypeError")
