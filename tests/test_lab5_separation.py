"""Lab 5's trained weights: the reference U-Net separates vocals from songs it never heard.

The suite's SDR check (grader/suites/lab5/test_sdr.py) asks a student's
model, loaded with the committed weights, for at least 6 dB of vocal SDR
improvement on held-out synthetic songs.  Here the reference must clear the
same bar on the same clips, computed now, so that a retrained or replaced
checkpoint that would fail every student is caught.
"""

from __future__ import annotations

import importlib.util

import pytest
import torch

from grader.checks import synth
from grader.course.folder import find_lab
from grader.suites.lab5 import support

WEIGHTS = support.weights_file(find_lab("lab5"))
pytestmark = pytest.mark.skipif(not WEIGHTS.is_file(), reason=f"the trained Lab 5 weights ({WEIGHTS.name}) are not there yet")


def reference_module():
    spec = importlib.util.spec_from_file_location("lab5_reference_unet", find_lab("lab5").reference_file)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_held_out_songs_were_not_used_for_training():
    _, info = support.trained_weights(find_lab("lab5"))
    first, last = info["train_seeds"]
    seeds = support.held_out_seeds(info)
    assert seeds and not any(first <= s <= last for s in seeds), (seeds, info["train_seeds"])


def test_reference_with_trained_weights_improves_vocal_sdr_by_6_db():
    state, info = support.trained_weights(find_lab("lab5"))
    unet = reference_module()
    model = unet.UNet(**{k: info["model"][k] for k in ("n_channels", "n_classes", "base", "bilinear")})
    model.load_state_dict(state, strict=True)
    saved = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        improvements = {}
        for seed, mix, vocals in support.held_out_clips(info):
            est_vocals, _ = unet.separate(model, mix)
            improvements[seed] = synth.sdr_improvement(est_vocals, vocals, mix)
    finally:
        torch.set_num_threads(saved)
    assert len(improvements) >= 2
    assert min(improvements.values()) >= support.MIN_IMPROVEMENT_DB, improvements


def test_suite_sdr_check_passes_for_the_reference():
    from grader.grading.run import grade

    result = grade("lab5", reference=True, keyword="trained_weights_separate_vocals")
    [check] = result.checks
    assert check.status == "passed", check.feedback
