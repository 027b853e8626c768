"""Lab 5 suite helpers (grader side): reference weights, student models, feedback.

Nothing here trusts the submission: the student's UNet is built in the
worker from weights sent as data, every probe answer is data, and the
reference runs here through the very same probe functions
(``grader/suites/lab5/probes.py``), so both sides are measured alike.
"""

from __future__ import annotations

import json
import math
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
import torch

from grader.suites.lab5 import probes
from grader.checks import synth
from grader.checks import CheckFailed, Feedback, attempt, describe, expect, expect_plain_tensor
from grader.checks import expectation
from grader.course import Lab

BASE = 8
HELD_OUT_SECONDS = 2.0          # clips for the SDR check (training used 3 s songs with other seeds)
MIN_IMPROVEMENT_DB = 6.0        # vocal SDR improvement the trained weights must reach

NAMES_HINT = ("keep every __init__ exactly as given: the grader loads trained weights with "
              "load_state_dict(strict=True), so layer names and shapes must not change")
FORWARD_HINT = ("follow the U-Net picture of the lecture: four halvings need (F, T) divisible by 16, so pad at "
                "the end first and crop back at the end; keep every encoder level's output, because on the way "
                "up each Up joins the up-sampled map with its skip connection along the channel axis "
                "(docs: torch.cat, F.pad); a sigmoid turns the logits into a mask")
TRAIN_HINT = ("one step of the lecture's training loop: train mode, clear the gradients of the last step, "
              "forward, the L1 distance between the masked mixture and the vocals (Jansson et al. 2017), "
              "backward, one optimizer step, and the loss as a Python number "
              "(docs: torch.optim.Optimizer, F.l1_loss, Tensor.item)")


def unet_kwargs(bilinear: bool = False, n_channels: int = 1, n_classes: int = 1) -> dict:
    return {"n_channels": n_channels, "n_classes": n_classes, "base": BASE, "bilinear": bilinear}


def unet_call(kwargs: dict) -> str:
    return "UNet(" + ", ".join(f"{k}={v!r}" for k, v in kwargs.items()) + ")"


# ------------------------------------------------------------------ reference side
# Recorded (grader.grading.reference): a student release replays reference_probe without the reference.
def random_weights(reference: Any, seed: int, bilinear: bool = False) -> dict:
    """A plain ``state_dict`` with the reference UNet(base=8)'s names and shapes, drawn from ``seed``:
    convolutions uniform in ±1/sqrt(fan_in) (PyTorch's default bound), BatchNorm statistics and
    affine parameters away from their defaults (1, 0), so that eval-mode outputs spread over (0, 1)
    instead of sitting at 0.5.  Uniform draws only: the same bits on every machine, so a release
    finds the reference's answers for them (only the layout comes from the reference)."""
    layout = reference_probe(reference, "lab5_layout", None, unet=unet_kwargs(bilinear))
    gen = torch.Generator().manual_seed(seed)

    def uniform(shape: list, low: float, high: float) -> torch.Tensor:
        return low + (high - low) * torch.rand(shape, generator=gen)

    state = {}
    for name, shape in layout.items():
        if name.endswith("num_batches_tracked"):
            state[name] = torch.tensor(0)
        elif name.endswith("running_mean"):
            state[name] = uniform(shape, -0.15, 0.15)
        elif name.endswith("running_var"):
            state[name] = uniform(shape, 0.05, 0.3)
        elif len(shape) == 1 and name.endswith(".weight"):
            state[name] = uniform(shape, 0.5, 1.5)
        elif len(shape) == 1:
            state[name] = uniform(shape, -0.15, 0.15)
        else:
            bound = 1 / math.sqrt(math.prod(shape[1:]))
            state[name] = uniform(shape, -bound, bound)
    return state


@expectation
def reference_probe(reference: Any, probe: str, state: dict | None, *args: Any, unet: dict | None = None,
                    **kwargs: Any) -> Any:
    """``probes.<probe>(reference, model, *args, **kwargs)`` on a fresh reference ``UNet(**unet)``
    with ``state`` loaded, in eval mode: the same probe the student's model goes through
    (``unet={}`` is the no-argument ``UNet()``)."""
    model = probes.lab5_build_unet(reference, state, **(unet_kwargs() if unet is None else unet))
    return getattr(probes, probe)(reference, model, *args, **kwargs)


def magnitudes(seed: int, shape: tuple, scale: float = 3.0) -> torch.Tensor:
    """Non-negative float32 'spectrogram' values of ``shape``, reproducible from ``seed``."""
    gen = torch.Generator().manual_seed(seed)
    return scale * torch.rand(shape, generator=gen) ** 2


@lru_cache(maxsize=None)
def song_pair(seed: int = 5, n_frames: int = 40) -> tuple[torch.Tensor, torch.Tensor]:
    """(mixture_mag, vocals_mag), each (2, 1, 129, n_frames): |STFT| (n_fft=256, hop 128) of two synthetic songs."""
    window = torch.hann_window(256)
    mixes, vocals = [], []
    for s in (seed, seed + 1):
        mix, voc, _ = synth.mixture(s, seconds=0.5, sr=22050)
        for signal, out in ((mix, mixes), (voc, vocals)):
            spec = torch.stft(torch.from_numpy(signal), 256, hop_length=128, window=window, center=True,
                              return_complex=True)
            out.append(spec.abs()[None, :, :n_frames])
    return torch.stack(mixes), torch.stack(vocals)


def weights_file(lab: Lab) -> Path:
    """The trained weights, beside the reference solution of the course being graded (the ``lab``
    fixture), or where a student release ships them (lab.toml's ``ship``; see Lab.data_file)."""
    return lab.data_file("unet_base8.pt")


def trained_weights(lab: Lab) -> tuple[dict, dict]:
    """The committed checkpoint (loaded with weights_only=True) and its training record."""
    weights = weights_file(lab)
    if not weights.is_file():
        import pytest

        pytest.skip(f"the trained Lab 5 weights ({weights.name}) are not installed yet")
    state = torch.load(weights, map_location="cpu", weights_only=True)
    info_file = weights.with_suffix(".json")
    info = json.loads(info_file.read_text()) if info_file.is_file() else {}
    return dict(state), info


def held_out_seeds(info: dict, count: int = 2) -> list[int]:
    """Mixture seeds the training never saw: the record's evaluation seeds, outside its training range."""
    settings = info.get("settings", {})
    first, last = info.get("train_seeds", [0, settings.get("n_train", 256) - 1])
    start = int(settings.get("eval_start", 10_000))
    seeds = [s for s in range(start, start + 1000) if not first <= s <= last]
    return seeds[:count]


def held_out_clips(info: dict) -> list[tuple[int, np.ndarray, np.ndarray]]:
    """(seed, mixture, vocals) of the held-out songs, HELD_OUT_SECONDS long at 22050 Hz."""
    return [(seed, *synth.mixture(seed, seconds=HELD_OUT_SECONDS, sr=22050)[:2]) for seed in held_out_seeds(info)]


# ------------------------------------------------------------------ student side
def student_unet(submission: Any, state: dict | None, **kwargs: Any) -> Any:
    """The student's UNet built in the worker, ``state`` loaded with strict=True, in eval mode."""
    kwargs = kwargs or unet_kwargs()
    what = unet_call(kwargs) + (" with the reference's weights (load_state_dict strict=True)" if state else "")
    return attempt(lambda: submission.probe("lab5_build_unet", state, **kwargs), function="UNet",
                   input=what, hint=NAMES_HINT if state else "")


def student_probe(submission: Any, probe: str, *args: Any, function: str, input: str,
                  hint: str = "", **kwargs: Any) -> Any:
    return attempt(lambda: submission.probe(probe, *args, **kwargs), function=function, input=input, hint=hint)


def student_forward(submission: Any, model: Any, x: torch.Tensor, hint: str = FORWARD_HINT, **kwargs: Any):
    """``model(x)`` in the worker (eval mode, no_grad); a failure becomes feedback."""
    got = student_probe(submission, "lab5_forward", model, x, function="UNet.forward",
                        input=f"model({describe(x)})", hint=hint, **kwargs)
    expect_tensor(got, "UNet.forward", f"model({describe(x)})")
    return got


def expect_tensor(got: Any, function: str, given: str) -> None:
    """A plain dense tensor whose values came back: anything else is a wrong answer."""
    expect_plain_tensor(got, function=function, input=given)


def expect_layout(got: Any, expected: dict, given: str) -> None:
    """Same state_dict names and shapes; feedback names what is missing, extra or reshaped."""
    if not isinstance(got, dict):
        raise CheckFailed(Feedback("could not read the model's state_dict", "UNet", given,
                                   [("state_dict", "name -> shape", describe(got))], NAMES_HINT))
    missing = sorted(set(expected) - set(got))
    extra = sorted(set(got) - set(expected))
    reshaped = [k for k in expected if k in got and list(got[k]) != list(expected[k])]
    rows = []
    if missing:
        rows.append(("missing keys", _names(missing), "absent"))
    if extra:
        rows.append(("unexpected keys", "none", _names(extra)))
    rows += [(f"shape of {k}", str(tuple(expected[k])), str(tuple(got[k]))) for k in reshaped[:5]]
    expect(not rows, "the model's layer names or shapes differ from the reference's", function="UNet",
           input=given, rows=rows, hint=NAMES_HINT)


def _names(keys: list[str], shown: int = 6) -> str:
    more = f" and {len(keys) - shown} more" if len(keys) > shown else ""
    return ", ".join(keys[:shown]) + more


def audio_rows(got: Any, length: int) -> list[tuple[str, str, str]]:
    """What is wrong with a ``separate`` result for ``length`` samples (empty if nothing)."""
    if not isinstance(got, (tuple, list)) or len(got) != 2:
        return [("result", "a tuple (vocals, accompaniment)", describe(got))]
    rows = []
    for name, part in zip(("vocals", "accompaniment"), got):
        if not isinstance(part, np.ndarray):
            rows.append((name, f"float32 NumPy array of shape ({length},)", describe(part)))
        elif part.dtype != np.float32 or part.shape != (length,):
            rows.append((name, f"float32 array of shape ({length},)", describe(part)))
    return rows
