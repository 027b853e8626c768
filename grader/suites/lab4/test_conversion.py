"""Lab 4 · NumPy → PyTorch and back: from_numpy, dtypes, shared memory, to_numpy."""

from __future__ import annotations

import contextlib
from typing import Iterator

import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from grader.checks import CheckFailed, compare, expect, expect_match, expect_raises, run_probe
from grader.checks import TensorValue

# Hypothesis's explain phase re-runs a failing example under a tracer: seconds per failing check.

FLOAT32_HINT = ("torch.from_numpy(array).float() gives float32, the dtype U-Net's weights use "
                "(float64, float16, ints and bools all become float32)")


@pytest.mark.points(1)
def test_numpy_to_tensor_converts_float64(submission, reference):
    """numpy_to_tensor turns a float64 array into a float32 tensor"""
    compare(submission, reference, "numpy_to_tensor", np.linspace(-1, 1, 12).reshape(3, 4), hint=FLOAT32_HINT)


@st.composite
def numeric_arrays(draw) -> np.ndarray:
    """Small arrays of every numeric dtype but float32 (which has its own checks)."""
    dtype = np.dtype(draw(st.sampled_from(["float64", "float16", "int8", "int16", "int32", "int64",
                                           "uint8", "bool"])))
    elements = {
        "f": st.floats(-1000, 1000, width=8 * dtype.itemsize),
        "i": st.integers(-100, 100),
        "u": st.integers(0, 255),
        "b": st.booleans(),
    }[dtype.kind]
    shape = draw(hnp.array_shapes(min_dims=1, max_dims=3, max_side=4))
    return draw(hnp.arrays(dtype, shape, elements=elements))


@pytest.mark.points(1)
@given(array=numeric_arrays())
def test_numpy_to_tensor_converts_numeric_dtypes(submission, reference, array):
    """numpy_to_tensor gives float32 for float64, float16, integer and bool arrays of any shape"""
    compare(submission, reference, "numpy_to_tensor", array, hint=FLOAT32_HINT)


def shared(submission, array: np.ndarray, view: str | None, shown: str, hint: str) -> bool:
    """Run the shares_memory probe, check the values first, then judge whether they moved with the array."""
    seen = run_probe(submission, "shares_memory", "numpy_to_tensor", array, view=view,
                     input=f"numpy_to_tensor({shown}), a float32 array", hint=hint)
    layouts = {None: array, "fortran": np.asfortranarray(array), "every_other_column": array[:, ::2],
               "transposed": array.T, "reversed": array[::-1], "new_axis": array[:, None]}
    expected = torch.from_numpy(np.ascontiguousarray(layouts[view]))
    expect_match(seen["result"], expected, function="numpy_to_tensor",
                 input=f"numpy_to_tensor({shown}), a float32 array of shape {layouts[view].shape}", hint=hint)
    raised = seen["after_write"]
    return isinstance(raised, TensorValue) and raised.data is not None and raised.shape == expected.shape \
        and torch.equal(raised.data, expected + 1)


SHARE_HINT = ("lecture: tensor = torch.from_numpy(spectrogram_data) shares memory with the array (no copy); "
              "torch.tensor(array), np.array(array) and .astype() copy it")


@pytest.mark.side_of("test_numpy_to_tensor_converts_float64")
@pytest.mark.points(2)
def test_numpy_to_tensor_shares_memory(submission):
    """numpy_to_tensor shares memory with a float32 array (no copy)"""
    shares = shared(submission, np.arange(12, dtype=np.float32).reshape(3, 4), None, "a", SHARE_HINT)
    expect(shares, "the tensor does not share memory with the float32 array",
           function="numpy_to_tensor", input="float32 array of shape (3, 4)",
           rows=[("after a += 1", "the tensor changes too", "the tensor kept the old values (a copy)")],
           hint=SHARE_HINT)


@pytest.mark.side_of("test_numpy_to_tensor_converts_float64")
@pytest.mark.points(1)
def test_numpy_to_tensor_shares_memory_of_views(submission):
    """numpy_to_tensor also shares memory with Fortran-ordered, strided, transposed and a[:, None] float32 arrays"""
    array = np.arange(24, dtype=np.float32).reshape(4, 6)
    hint = ("torch.from_numpy wraps any float32 array with non-negative strides, contiguous or not -- a stride "
            "of 0, as on the new axis of a[:, None], is non-negative too; np.ascontiguousarray or .copy() "
            "before it makes a copy")
    for view, shown in (("fortran", "np.asfortranarray(a)"), ("every_other_column", "a[:, ::2]"),
                        ("transposed", "a.T"), ("new_axis", "a[:, None]")):
        shares = shared(submission, array, view, shown, hint)
        expect(shares, f"the tensor does not share memory with {shown}", function="numpy_to_tensor",
               input=f"numpy_to_tensor({shown}), a float32 array of shape (4, 6)",
               rows=[("after a += 1", "the tensor changes too", "the tensor kept the old values (a copy)")],
               hint=hint)


@pytest.mark.points(1)
def test_numpy_to_tensor_copies_reversed_arrays(submission):
    """numpy_to_tensor converts a reversed view a[::-1] (negative strides) correctly"""
    shared(submission, np.arange(12, dtype=np.float32).reshape(3, 4), "reversed", "a[::-1]", hint=(
        "torch.from_numpy refuses arrays with negative strides such as a[::-1]; check array.strides and "
        "make a contiguous float32 copy first (np.ascontiguousarray)"))


class _MadeInWorker:
    """numpy_to_tensor on an array built in the worker: non-numeric arrays cannot cross the wire."""

    def __init__(self, submission) -> None:
        self._submission = submission

    def numpy_to_tensor(self, kind: str):
        return self._submission.probe("call_with_special_array", "numpy_to_tensor", kind)


@contextlib.contextmanager
def shown_as(text: str) -> Iterator[None]:
    """Show ``text`` as the input of any failure inside."""
    try:
        yield
    except CheckFailed as exc:
        exc.feedback.input = text
        raise CheckFailed(exc.feedback) from None


@pytest.mark.side_of("test_numpy_to_tensor_converts_float64")
@pytest.mark.points(1)
def test_numpy_to_tensor_rejects_non_arrays(submission):
    """numpy_to_tensor raises TypeError for lists, tensors and non-numeric arrays"""
    hint = ("check isinstance(array, np.ndarray) and array.dtype.kind ('b', 'i', 'u', 'f' are numeric) "
            "first, and raise TypeError for anything else")
    for value in ([1.0, 2.0], torch.ones(3)):
        expect_raises(submission, "numpy_to_tensor", "TypeError", value, hint=hint)
    for kind in ("object", "str", "datetime"):
        with shown_as(f"numpy_to_tensor(an array of dtype {kind})"):
            expect_raises(_MadeInWorker(submission), "numpy_to_tensor", "TypeError", kind, hint=hint)


@pytest.mark.side_of("test_numpy_to_tensor_converts_float64")
@pytest.mark.points(1)
def test_numpy_to_tensor_rejects_complex(submission):
    """numpy_to_tensor raises ValueError for a complex STFT, telling you to take np.abs"""
    stft = (np.arange(6) + 1j * np.arange(6)).reshape(2, 3).astype(np.complex64)
    expect_raises(submission, "numpy_to_tensor", "ValueError", stft, match="abs",
                  hint="librosa.stft returns complex numbers; U-Net works on the magnitude, "
                       "magnitude = np.abs(stft) -- say so in the ValueError message")


@pytest.mark.points(1)
def test_to_numpy_detaches(submission, reference):
    """to_numpy brings back a tensor that requires grad as an ndarray with the same values"""
    tensor = torch.linspace(-1, 1, 12).reshape(3, 4).requires_grad_(True)
    compare(submission, reference, "to_numpy", tensor,
            hint="lecture: move back to the CPU before NumPy; .numpy() also refuses a tensor that requires "
                 "grad, so take it out of the autograd graph first (docs: torch.Tensor.detach)")
