"""Lab 5 · the U-Net keeps the reference's layer names, so trained weights load strictly."""

import pytest

from grader.checks import attempt, expect
from grader.suites.lab5.support import (NAMES_HINT, expect_layout, magnitudes, random_weights, reference_probe,
                                        student_forward, student_unet, unet_call, unet_kwargs)


def check_layout_and_load(submission, reference, bilinear: bool) -> None:
    kwargs = unet_kwargs(bilinear)
    given = unet_call(kwargs)
    model = student_unet(submission, None, **kwargs)
    layout = attempt(lambda: submission.probe("lab5_layout", model), function="UNet", input=given)
    expected = reference_probe(reference, "lab5_layout", None, unet=kwargs)
    expect_layout(layout, expected, given)
    loaded = student_unet(submission, random_weights(reference, seed=11, bilinear=bilinear), **kwargs)
    x = magnitudes(0, (1, 1, 20, 24))
    out = student_forward(submission, loaded, x)
    expect(tuple(out.shape) == (1, 1, 20, 24), "with the reference's weights loaded, the output has the wrong shape",
           function="UNet.forward", input=f"{given} applied to a (1, 1, 20, 24) input",
           rows=[("shape", "(1, 1, 20, 24)", str(tuple(out.shape)))], hint=NAMES_HINT)


@pytest.mark.points(2)
def test_layer_names_match_reference(submission, reference):
    """UNet(base=8) has the reference's state_dict names and shapes, loads its weights strictly and runs"""
    check_layout_and_load(submission, reference, bilinear=False)


@pytest.mark.points(2)
def test_layer_names_match_reference_bilinear(submission, reference):
    """UNet(base=8, bilinear=True) has the reference's state_dict names and shapes, loads its weights and runs"""
    check_layout_and_load(submission, reference, bilinear=True)


@pytest.mark.side_of("test_layer_names_match_reference")
@pytest.mark.points(1)
def test_default_unet_keeps_the_given_defaults(submission, reference):
    """UNet() with no arguments has the layers of the given defaults (n_channels=1, n_classes=1, base=64)"""
    hint = ("keep __init__'s signature as given: UNet() is the 64-wide U-Net of the paper, one input channel "
            "and one output mask")
    model = attempt(lambda: submission.probe("lab5_build_unet", None), function="UNet", input="UNet()", hint=hint)
    layout = attempt(lambda: submission.probe("lab5_layout", model), function="UNet", input="UNet()")
    expected = reference_probe(reference, "lab5_layout", None, unet={})
    expect_layout(layout, expected, "UNet()")
