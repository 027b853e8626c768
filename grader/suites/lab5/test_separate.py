"""Lab 5 · separate(model, audio): STFT, mask from |X|, inverse STFT of mask·X and (1 - mask)·X."""

import numpy as np
import pytest

from grader.checks import synth
from grader.checks import describe, expect, expect_match
from grader.suites.lab5.support import (audio_rows, random_weights, reference_probe, student_probe,
                                        student_unet)

SEPARATE_HINT = ("the lecture's pipeline: the complex STFT of the audio (a Hann window, on the model's device), "
                 "the model's mask from its magnitude (eval mode, no gradients, two leading axes for "
                 "(batch, channels)), then the inverse STFT of the mask times the complex STFT for the vocals "
                 "and of the rest for the accompaniment, as long as the input (docs: torch.stft, torch.istft)")

# separate runs the student's UNet: when forward is wrong, so is every separation
pytestmark = pytest.mark.builds_on("test_forward_matches_reference")


def mix_of(seed: int, seconds: float) -> np.ndarray:
    return synth.mixture(seed, seconds=seconds, sr=22050)[0]


def student_separate(submission, model, audio, train_first=False, **kwargs):
    given = f"separate(model, {describe(audio)}{''.join(f', {k}={v!r}' for k, v in kwargs.items())})"
    got = student_probe(submission, "lab5_separate", model, audio, function="separate", input=given,
                        hint=SEPARATE_HINT, train_first=train_first, **kwargs)
    rows = audio_rows(got, len(audio))
    expect(not rows, "separate should return (vocals, accompaniment): float32 arrays as long as the input",
           function="separate", input=given, rows=rows,
           hint="torch.istft(..., length=len(audio)) gives exactly len(audio) samples; "
                "return .cpu().numpy().astype(np.float32) for each part")
    return tuple(got), given


@pytest.mark.side_of("test_separate_matches_reference")
@pytest.mark.points(2)
def test_separate_returns_float32_of_input_length(submission, reference):
    """separate returns two float32 arrays exactly as long as the input, for any length, from float64 audio too"""
    model = student_unet(submission, random_weights(reference, seed=41))
    for seed, seconds in ((1, 1.0), (2, 0.7013)):   # 22050 and 15464 samples (not a multiple of the hop)
        student_separate(submission, model, mix_of(seed, seconds))
    student_separate(submission, model, mix_of(5, 0.5).astype(np.float64))  # the float32 model needs float32 input


@pytest.mark.side_of("test_separate_matches_reference")
@pytest.mark.points(2)
def test_separate_parts_sum_to_mixture(submission, reference):
    """vocals + accompaniment reconstruct the mixture"""
    model = student_unet(submission, random_weights(reference, seed=42))
    mix = mix_of(3, 1.0)
    (vocals, accompaniment), given = student_separate(submission, model, mix)
    error = float(np.max(np.abs(vocals.astype(np.float64) + accompaniment - mix)))
    expect(error <= 1e-4, "vocals + accompaniment is not the mixture", function="separate", input=given,
           rows=[("max |vocals + accompaniment - audio|", "<= 1e-4", f"{error:.3g}")],
           hint="use masks that sum to one, mask and 1 - mask, on the same complex STFT X (mixture phase), "
                "with the same window and hop in both inverse STFTs")


@pytest.mark.points(3)
def test_separate_matches_reference(submission, reference):
    """separate agrees with the reference on the same weights, also with n_fft=1024, hop_length=128"""
    state = random_weights(reference, seed=43)
    theirs = student_unet(submission, state)
    mix = mix_of(4, 1.0)
    for kwargs in ({}, {"n_fft": 1024, "hop_length": 128}):  # a hop that is not torch's default n_fft // 4
        expected = reference_probe(reference, "lab5_separate", state, mix, train_first=True, **kwargs)
        got, given = student_separate(submission, theirs, mix, train_first=True, **kwargs)
        expect_match(got, expected, function="separate", rtol=1e-3, atol=1e-4,
                     input=given + " (the model was left in train mode before the call)",
                     hint="use the n_fft and hop_length you are given; put the model in eval mode "
                          "(model.eval()) so BatchNorm uses its running statistics. " + SEPARATE_HINT)
