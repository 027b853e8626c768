"""Lab 4 · Neural network operations and autograd: simple_neural_operation, mse_gradient."""

from __future__ import annotations

import pytest
import torch
from hypothesis import example, given
from hypothesis import strategies as st

from grader.checks import (attempt, compare, describe_call, expect, expect_match, expect_plain_tensor, run_probe,
                           tensor_problem)
from grader.checks import TensorValue

# Hypothesis's explain phase re-runs a failing example under a tracer: seconds per failing check.


def randn(*shape: int, seed: int = 0) -> torch.Tensor:
    return torch.randn(shape, generator=torch.Generator().manual_seed(seed))


@pytest.mark.points(2)
@given(batch=st.integers(1, 2), channels=st.integers(1, 2), freq=st.integers(2, 9), time=st.integers(2, 9),
       seed=st.integers(0, 1000))
@example(batch=1, channels=1, freq=8, time=6, seed=0)
@example(batch=2, channels=1, freq=7, time=5, seed=1)
def test_simple_neural_operation(submission, reference, batch, channels, freq, time, seed):
    """simple_neural_operation applies normalize(dim=2) -> ReLU -> 2x2 average pooling"""
    compare(submission, reference, "simple_neural_operation", randn(batch, channels, freq, time, seed=seed),
            hint="lecture: F.normalize(tensor, dim=2) normalises along the frequency axis of (batch, channels, "
                 "freq, time), then torch.relu, then F.avg_pool2d(..., kernel_size=2), which averages 2x2 "
                 "freq x time blocks and drops an odd last row or column")


CASES = [(5,), (2, 3), (1, 1, 4, 6)]
GRAD_HINT = ("let autograd compute it (lecture: autograd): make a leaf copy of prediction that requires grad, "
             "compute F.mse_loss on it, call backward() and read the copy's .grad; "
             "docs: torch.Tensor.requires_grad_, torch.Tensor.grad")


@pytest.mark.points(2)
def test_mse_gradient(submission, reference):
    """mse_gradient matches autograd and 2 * (prediction - target) / N"""
    for i, shape in enumerate(CASES):
        prediction, target = randn(*shape, seed=2 * i), randn(*shape, seed=2 * i + 1)
        got = compare(submission, reference, "mse_gradient", prediction, target, hint=GRAD_HINT)
        expect_match(got, 2 * (prediction - target) / prediction.numel(), function="mse_gradient",
                     input=describe_call("mse_gradient", (prediction, target), {}),
                     hint="the mean squared error averages over all N elements, so its gradient is "
                          "2 * (prediction - target) / N")


def same_values(after, sent: torch.Tensor) -> bool:
    """An input as the probe read it after the call holds the values the grader sent."""
    return isinstance(after, TensorValue) and not tensor_problem(after) and after.shape == tuple(sent.shape) \
        and torch.equal(after.data, sent.detach())


@pytest.mark.side_of("test_mse_gradient")
@pytest.mark.points(1)
def test_mse_gradient_leaves_inputs_untouched(submission):
    """mse_gradient changes neither the inputs nor their .grad nor their requires_grad"""
    hint = ("work on a detached copy of prediction (detach, clone), not on the caller's tensor: "
            "requires_grad_() or backward() on their tensor changes it and fills its .grad")
    for requires_grad in (True, False):
        prediction = randn(2, 3, seed=5).requires_grad_(requires_grad)
        target = randn(2, 3, seed=6)
        given = f"mse_gradient(prediction, target) with prediction.requires_grad={requires_grad}"
        seen = run_probe(submission, "inputs_untouched", "mse_gradient", prediction, target, input=given, hint=hint)
        rows = []
        if not all(same_values(after, sent) for after, sent in zip(seen["values"], (prediction, target))):
            rows.append(("input values", "unchanged", "changed"))
        if seen["grads"] != [None, None]:
            rows.append((".grad of the inputs", "unchanged (None)", "set or changed"))
        if seen["requires_grad"] != [requires_grad, False]:
            rows.append(("requires_grad of (prediction, target)", str([requires_grad, False]),
                         str(seen["requires_grad"])))
        expect(not rows, "mse_gradient modified its inputs", function="mse_gradient", input=given, rows=rows,
               hint=hint)


@pytest.mark.side_of("test_mse_gradient")
@pytest.mark.points(1)
def test_mse_gradient_returns_a_plain_tensor(submission):
    """mse_gradient returns a tensor without grad_fn and without requires_grad"""
    prediction, target = randn(3, 4, seed=7).requires_grad_(True), randn(3, 4, seed=8)
    given = describe_call("mse_gradient", (prediction, target), {})
    got = attempt(lambda: submission.mse_gradient(prediction, target), function="mse_gradient", input=given)
    expect_plain_tensor(got, function="mse_gradient", input=given, dtype=torch.float32)
    expect(got.grad_fn is None and not got.requires_grad, "the gradient still carries an autograd graph",
           function="mse_gradient", input=given,
           rows=[("grad_fn", "None", str(got.grad_fn)), ("requires_grad", "False", str(got.requires_grad))],
           hint="the .grad that backward() fills is a plain tensor; a result computed from a tensor that "
                "requires grad records a graph (docs: torch.Tensor.detach)")


@pytest.mark.points(1)
def test_mse_gradient_under_no_grad(submission, reference):
    """mse_gradient still works when called inside torch.no_grad()"""
    prediction, target = randn(2, 5, seed=9), randn(2, 5, seed=10)
    given = "mse_gradient(prediction, target) inside torch.no_grad()"
    hint = "wrap the loss and backward() in `with torch.enable_grad():` so autograd records even under no_grad()"
    seen = run_probe(submission, "call_without_grad", "mse_gradient", prediction, target, input=given, hint=hint)
    expect_match(seen["result"], reference.mse_gradient(prediction, target), function="mse_gradient",
                 input=given, hint=hint)
