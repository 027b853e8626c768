"""Lab 5 · in train mode every layer is on the path from input to output."""

import pytest

from grader.checks import describe, expect
from grader.suites.lab5.support import (FORWARD_HINT, expect_tensor, magnitudes, random_weights,
                                        reference_probe, student_probe, student_unet)

pytestmark = pytest.mark.grades("UNet.forward")


@pytest.mark.points(3)
def test_every_parameter_gets_a_gradient(submission, reference):
    """in train mode, backward from the output reaches every parameter the reference's does"""
    state = random_weights(reference, seed=31)
    x = magnitudes(7, (2, 1, 24, 40))
    expected = reference_probe(reference, "lab5_parameter_grads", state, x)["grads"]
    wanted = sorted(name for name, grad in expected.items() if grad)
    given = f"train mode, x: {describe(x)}, loss = model(x).mean(), loss.backward()"
    got = student_probe(submission, "lab5_parameter_grads", student_unet(submission, state), x,
                        function="UNet.forward", input=given, hint=FORWARD_HINT)
    expect_tensor(got["output"], "UNet.forward", given)
    reached = {name for name, grad in got["grads"].items() if grad}
    missed = [name for name in wanted if name not in reached]
    modules = sorted({name.split(".")[0] for name in missed})
    expect(not missed, "some layers get no gradient: they are not used on the way from input to output",
           function="UNet.forward", input=given,
           rows=[("parameters with a non-zero gradient", f"all {len(wanted)}",
                  f"{len(wanted) - len(missed)}; none for {', '.join(missed[:6])}{' ...' if len(missed) > 6 else ''}"),
                 ("layers not used", "none", ", ".join(modules))],
           hint="forward must use every layer: inc, down1..down4, up1..up4 (each with its skip connection) and outc")
