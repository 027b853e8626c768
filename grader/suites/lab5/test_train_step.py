"""Lab 5 · train_step: zero_grad, forward, L1 loss of mask·|X| against |V|, backward, step."""

import math

import pytest

from grader.checks import describe, expect
from grader.suites.lab5.support import (TRAIN_HINT, random_weights, reference_probe, song_pair,
                                        student_probe, student_unet)

# train_step runs the student's UNet: when forward is wrong, so is every loss
pytestmark = pytest.mark.builds_on("test_forward_matches_reference")


def run_both(submission, reference, seed: int, steps: int, lr: float) -> tuple[dict, dict, str]:
    """``steps`` calls of train_step on the same pair, from the same weights, reference and student."""
    state = random_weights(reference, seed=seed)
    mix, voc = song_pair()
    batches = [(mix, voc)] * steps
    given = (f"{steps} call(s) of train_step(model, Adam(model.parameters(), lr={lr:g}), "
             f"mixture_mag: {describe(mix)}, vocals_mag: same shape), the model in eval mode before the first")
    expected = reference_probe(reference, "lab5_train_steps", state, batches, lr=lr)
    got = student_probe(submission, "lab5_train_steps", student_unet(submission, state), batches, lr=lr,
                        function="train_step", input=given, hint=TRAIN_HINT)
    bad = [(i, t) for i, (t, loss) in enumerate(zip(got["types"], got["losses"])) if loss is None]
    expect(not bad, "train_step should return the loss as a Python float",
           function="train_step", input=given,
           rows=[(f"result of call {i + 1}", "float", t) for i, t in bad[:1]],
           hint="Tensor.item() gives a one-element tensor's value as a Python float; the tensor itself "
                "would keep the whole graph alive")
    return expected, got, given


def close(a: float, b: float, rel: float) -> bool:
    return math.isclose(a, b, rel_tol=rel, abs_tol=1e-9)


@pytest.mark.points(3)
def test_train_step_returns_reference_loss(submission, reference):
    """train_step returns the loss as a Python float, equal to the reference's for the same weights and batch"""
    expected, got, given = run_both(submission, reference, seed=51, steps=1, lr=1e-3)
    want, loss = expected["losses"][0], got["losses"][0]
    expect(close(loss, want, 1e-5), "wrong loss", function="train_step", input=given,
           rows=[("loss", f"{want:.7g}", f"{loss:.7g}")],
           hint="mean L1 distance between mask * mixture_mag and vocals_mag, computed in train mode "
                "(model.train() first: BatchNorm then uses the batch's statistics). " + TRAIN_HINT)


@pytest.mark.points(3)
def test_train_step_follows_reference_over_steps(submission, reference):
    """four train_steps in a row give the reference's losses (fresh gradients every step)"""
    expected, got, given = run_both(submission, reference, seed=52, steps=4, lr=1e-2)
    rows = [(f"loss at step {i + 1}", f"{w:.7g}", f"{g:.7g}")
            for i, (w, g) in enumerate(zip(expected["losses"], got["losses"])) if not close(g, w, 1e-4)]
    if rows and rows[0][0] == "loss at step 1":
        expect(False, "the losses differ from the reference's from the first step on", function="train_step",
               input=given, rows=rows[:3], hint=TRAIN_HINT)
    expect(not rows, "the first loss is right, but later losses drift away from the reference's",
           function="train_step", input=given, rows=rows[:3],
           hint="call optimizer.zero_grad() before loss.backward() in every step (otherwise gradients "
                "accumulate across steps), then optimizer.step() once per call. " + TRAIN_HINT)


@pytest.mark.side_of("test_train_step_returns_reference_loss")
@pytest.mark.points(2)
def test_train_step_reduces_loss(submission, reference):
    """five train_steps on one synthetic song pair lower the loss"""
    expected, got, given = run_both(submission, reference, seed=53, steps=5, lr=3e-3)
    losses = got["losses"]
    assert expected["losses"][-1] < expected["losses"][0], "grader bug: the reference does not learn here"
    expect(losses[-1] < losses[0], "the loss does not go down", function="train_step", input=given,
           rows=[("losses", "decreasing, e.g. " + ", ".join(f"{v:.4f}" for v in expected["losses"]),
                  ", ".join(f"{v:.4f}" for v in losses))],
           hint=TRAIN_HINT)


@pytest.mark.side_of("test_train_step_returns_reference_loss")
@pytest.mark.points(2)
def test_train_step_updates_parameters(submission, reference):
    """one train_step changes every parameter the reference's step changes"""
    expected, got, given = run_both(submission, reference, seed=54, steps=1, lr=1e-3)
    wanted = [name for name, moved in expected["moved"].items() if moved > 0]
    stuck = [name for name in wanted if not got["moved"].get(name, 0.0) > 0]
    expect(not stuck, "train_step leaves parameters unchanged", function="train_step", input=given,
           rows=[("parameters changed", f"all {len(wanted)}",
                  f"{len(wanted) - len(stuck)}; unchanged: {', '.join(stuck[:5])}{' ...' if len(stuck) > 5 else ''}")],
           hint="optimizer.step() after loss.backward() applies the update. " + TRAIN_HINT)
