"""Lab 4 · NumPy → PyTorch: from_numpy, dtypes, shared memory."""

import numpy as np
import pytest

from grader.checks import compare, expect, expect_raises, run_probe


@pytest.mark.points(2)
def test_numpy_to_tensor_converts_float64(submission, reference):
    """numpy_to_tensor turns a float64 array into a float32 tensor"""
    compare(submission, reference, "numpy_to_tensor", np.linspace(-1, 1, 12).reshape(3, 4),
            hint="torch.from_numpy(array).float() gives float32, the dtype U-Net weights use")


@pytest.mark.points(2)
def test_numpy_to_tensor_shares_memory(submission):
    """numpy_to_tensor shares memory with a float32 array (no copy)"""
    seen = run_probe(submission, "shares_memory", "numpy_to_tensor", np.ones((3, 4), np.float32))
    expect(seen["shares"], "the tensor does not share memory with the float32 array",
           function="numpy_to_tensor", input="float32 array of shape (3, 4)",
           hint="torch.from_numpy shares memory; torch.tensor(array) copies it")


@pytest.mark.points(1)
def test_numpy_to_tensor_rejects_lists(submission):
    """numpy_to_tensor raises TypeError for a list"""
    expect_raises(submission, "numpy_to_tensor", "TypeError", [1.0, 2.0])
