"""Lab 5 · on a real GPU: forward, train_step and separate give what they give on the CPU (TF32 off).

These checks judge the device handling only: the student's own CPU result is
the expectation, so a wrong forward costs its points once, in the CPU checks.
"""

import math

import numpy as np
import pytest

from grader.checks import synth
from grader.checks import CheckFailed, Feedback, attempt, describe, expect, expect_match
from grader.suites.lab5.support import (FORWARD_HINT, TRAIN_HINT, expect_tensor, magnitudes,
                                        random_weights, song_pair, student_probe, student_unet)

DEVICE_HINT = ("work on the device of the model and the input: next(model.parameters()).device; "
               "create tensors (windows, zeros, masks) there, and call .cpu() only before .numpy()")


def on_both(submission, state, probe, *args, function, given, hint, **kwargs):
    """The same probe on a CPU model and on a CUDA model built from the same weights."""
    status = attempt(lambda: submission.probe("lab5_cuda_status"), function="torch.cuda.init")
    if not status["available"]:
        raise CheckFailed(Feedback(
            "grader error: this machine has a GPU, but the grading worker cannot use it "
            f"({status['error'] or 'torch.cuda.is_available() is False there'}); please tell your instructor",
            hint="this is a problem in the grader's setup (the worker's sandbox), not in your code"))
    cpu = student_probe(submission, probe, student_unet(submission, state), *args, function=function,
                        input=given + ", on the CPU", hint=hint, **kwargs)
    cuda = student_probe(submission, probe, student_unet(submission, state), *args, device="cuda",
                         function=function, input=given + ", on cuda", hint=DEVICE_HINT, **kwargs)
    return cpu, cuda


@pytest.mark.cuda
@pytest.mark.points(2)
@pytest.mark.grades("UNet.forward")
def test_forward_on_cuda_matches_cpu(submission, reference):
    """forward on CUDA agrees with forward on the CPU"""
    x = magnitudes(8, (2, 1, 37, 29))
    given = f"model(x), x: {describe(x)}, eval mode"
    cpu, cuda = on_both(submission, random_weights(reference, seed=61), "lab5_forward", x,
                        function="UNet.forward", given=given, hint=FORWARD_HINT)
    expect_tensor(cpu, "UNet.forward", given)
    expect_match(cuda, cpu.data, function="UNet.forward", input=given + ": cuda against CPU", rtol=1e-4,
                 atol=1e-4, device="cuda", hint=DEVICE_HINT + "; F.pad and torch.cat keep the input's device")


@pytest.mark.cuda
@pytest.mark.points(2)
def test_train_step_on_cuda_matches_cpu(submission, reference):
    """train_step on CUDA returns the losses it returns on the CPU"""
    mix, voc = song_pair()
    given = f"2 train_steps, Adam(lr=0.001), mixture_mag and vocals_mag: {describe(mix)}"
    cpu, cuda = on_both(submission, random_weights(reference, seed=62), "lab5_train_steps", [(mix, voc)] * 2,
                        lr=1e-3, function="train_step", given=given, hint=TRAIN_HINT)
    ok = all(isinstance(c, float) and isinstance(g, float) and math.isclose(g, c, rel_tol=1e-4)
             for c, g in zip(cpu["losses"], cuda["losses"]))
    expect(ok, "train_step on CUDA does not give the CPU's losses", function="train_step", input=given,
           rows=[("losses", ", ".join(map(repr, cpu["losses"])) + " (CPU)",
                  ", ".join(map(repr, cuda["losses"])) + " (cuda)"), ("returned types", "float", str(cuda["types"]))],
           hint="Tensor.item() gives a Python float for a loss on any device. " + TRAIN_HINT)


@pytest.mark.cuda
@pytest.mark.points(2)
def test_separate_on_cuda_matches_cpu(submission, reference):
    """separate with the model on CUDA works on the model's device and matches the CPU result"""
    mix = synth.mixture(6, seconds=1.0, sr=22050)[0]
    given = f"separate(model, {describe(mix)})"
    cpu, cuda = on_both(submission, random_weights(reference, seed=63), "lab5_separate", mix,
                        function="separate", given=given, hint="")
    pair = isinstance(cuda, (tuple, list)) and len(cuda) == 2 and all(isinstance(a, np.ndarray) for a in cuda)
    expect(pair, "with the model on cuda, separate should still return two NumPy arrays", function="separate",
           input=given + ", on cuda", rows=[("result", "(vocals, accompaniment) NumPy arrays", describe(cuda))],
           hint=DEVICE_HINT)
    expect_match(tuple(cuda), tuple(cpu) if isinstance(cpu, list) else cpu, function="separate",
                 input=given + ": cuda against CPU", rtol=1e-3, atol=1e-4, hint=DEVICE_HINT)
