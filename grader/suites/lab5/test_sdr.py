"""Lab 5 · with the trained weights, separate pulls the vocals out of songs it never heard."""

import numpy as np
import pytest

from grader.checks import synth
from grader.checks import expect
from grader.suites.lab5.support import (HELD_OUT_SECONDS, MIN_IMPROVEMENT_DB, audio_rows, held_out_clips,
                                        student_probe, student_unet, trained_weights)

pytestmark = [pytest.mark.grades("separate"), pytest.mark.builds_on("test_forward_matches_reference")]


@pytest.mark.points(5)
def test_trained_weights_separate_vocals(submission, lab):
    """with the trained weights loaded, separate improves vocal SDR by at least 6 dB on unseen songs"""
    state, info = trained_weights(lab)
    kwargs = {k: info.get("model", {}).get(k, v)
              for k, v in {"n_channels": 1, "n_classes": 1, "base": 8, "bilinear": False}.items()}
    model = student_unet(submission, state, **kwargs)
    rows, improvements = [], []
    for seed, mix, vocals in held_out_clips(info):
        given = f"separate(model, mixture of held-out song {seed}: {HELD_OUT_SECONDS:g} s at 22050 Hz)"
        got = student_probe(submission, "lab5_separate", model, mix, function="separate", input=given)
        shape_rows = audio_rows(got, len(mix))
        expect(not shape_rows, "separate should return (vocals, accompaniment) as long as the input",
               function="separate", input=given, rows=shape_rows)
        estimate = got[0]
        if not np.all(np.isfinite(estimate)) or not np.any(estimate):
            improvement = float("-inf")
        else:
            improvement = synth.sdr_improvement(estimate, vocals, mix)
        improvements.append(improvement)
        rows.append((f"SDR improvement, song {seed}", f">= {MIN_IMPROVEMENT_DB:g} dB", f"{improvement:.2f} dB"))
    expect(min(improvements) >= MIN_IMPROVEMENT_DB,
           "the separated vocals are not clean enough with the trained weights", function="separate",
           input=f"the trained UNet(base=8) on {len(improvements)} held-out synthetic songs", rows=rows,
           hint="the weights are right, so look at separate and forward: the mask comes from |X| (magnitude), "
                "is applied to the complex X, vocals = istft(mask * X); the skip connections concatenate "
                "[x2, x1] in that order")
