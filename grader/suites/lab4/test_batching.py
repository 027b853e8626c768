"""Lab 4 · Batching spectrograms: batch_spectrograms, SpectrogramDataset and the DataLoader."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

from grader.checks import attempt, call_student, compare, describe, expect, expect_match, expect_raises
from grader.checks import expectation

# Hypothesis's explain phase re-runs a failing example under a tracer: seconds per failing check.

CROP_PAD_HINT = ("keep the first `frames` time steps of a long spectrogram and zero-pad a short one at the end of "
                 "its time axis (docs: F.pad lists the last axis first); then "
                 "torch.stack adds the batch dimension and unsqueeze(1) the channel: (batch, channels, freq, time)")


def ramp(freq: int, time: int, start: int = 1) -> torch.Tensor:
    """Non-zero, distinct values, so zero padding and the kept frames are both visible."""
    return torch.arange(start, start + freq * time, dtype=torch.float32).reshape(freq, time)


@pytest.mark.points(2)
@given(freq=st.integers(1, 4), lengths=st.lists(st.integers(1, 8), min_size=1, max_size=4),
       frames=st.integers(1, 8))
def test_batch_spectrograms_crops_and_pads(submission, reference, freq, lengths, frames):
    """batch_spectrograms crops or zero-pads every spectrogram to `frames` and stacks them into (B, 1, F, frames)"""
    items = [ramp(freq, length, start=100 * i + 1) for i, length in enumerate(lengths)]
    compare(submission, reference, "batch_spectrograms", items, frames, hint=CROP_PAD_HINT)


@pytest.mark.points(1)
def test_batch_spectrograms_mixes_arrays_and_tensors(submission, reference):
    """batch_spectrograms accepts NumPy arrays and tensors together, and frames=1"""
    items = [np.linspace(0, 1, 24).reshape(4, 6), ramp(4, 3), np.arange(20, dtype=np.float32).reshape(4, 5)]
    for frames in (5, 1):
        compare(submission, reference, "batch_spectrograms", items, frames,
                hint="convert ndarray items with numpy_to_tensor (float32) first, so every item is a float32 "
                     f"tensor before cropping/padding; {CROP_PAD_HINT}")


@pytest.mark.points(1)
def test_batch_spectrograms_gives_float32(submission, reference):
    """batch_spectrograms gives a float32 batch for float64 and integer tensors"""
    for dtype in (torch.float64, torch.int64):
        items = [ramp(3, 4).to(dtype), ramp(3, 6, start=50).to(dtype)]
        compare(submission, reference, "batch_spectrograms", items, 5,
                hint="U-Net's weights are float32, so the batch must be too: an ndarray goes through "
                     "numpy_to_tensor, but a tensor item keeps its dtype until you convert it (Tensor.to, "
                     "Tensor.float)")


@pytest.mark.side_of("test_batch_spectrograms_crops_and_pads")
@pytest.mark.points(1)
def test_batch_spectrograms_rejects_bad_input(submission):
    """batch_spectrograms raises ValueError for an empty list, items not 2-D, different freq sizes, or frames < 1"""
    hint = ("a batch must be one rectangular tensor of 2-D (freq, time) items: raise ValueError when there is "
            "nothing to stack, when an item is not 2-D (check .ndim), when the items have different numbers of "
            "frequency bins, or when frames < 1")
    expect_raises(submission, "batch_spectrograms", "ValueError", [], 4, hint=hint)
    for items in ([ramp(4, 5)[None], ramp(4, 3)[None]], [torch.arange(1.0, 6.0)]):  # (1, F, T) items; a 1-D item
        expect_raises(submission, "batch_spectrograms", "ValueError", items, 4, hint=hint)
    expect_raises(submission, "batch_spectrograms", "ValueError", [ramp(4, 5), ramp(3, 5)], 4, hint=hint)
    for frames in (0, -3):
        expect_raises(submission, "batch_spectrograms", "ValueError", [ramp(4, 5)], frames, hint=hint)


# ------------------------------------------------------------------ SpectrogramDataset
FRAMES = 32
CLIPS = ("tone_22050_mono_1s", "chirp_44100_mono_1.5s", "tone_44100_stereo_0.7s", "chirp_22050_mono_0.3s",
         "tone_16000_mono_0.05s")  # 44, 65, 31, 13 and 3 frames: some cropped, some padded
ITEM_HINT = ("__getitem__: load the file as audio_to_tensor does (librosa.load at sr, mono, np.abs(librosa.stft)), "
             "keep it on the CPU, crop or zero-pad the time axis to frames, and add only the channel dimension: "
             "(1, freq, frames) -- the DataLoader adds the batch dimension")
TOLERANCE = {"rtol": 1e-4, "atol": 1e-4}


@pytest.fixture(scope="module")
def paths(clips) -> list[str]:
    return [str(clips[name]) for name in CLIPS]


@expectation
def dataset_items(reference, paths: list[str], frames: int, **settings) -> list[torch.Tensor]:
    """Every item of the reference's SpectrogramDataset(paths, frames, **settings)."""
    dataset = reference.SpectrogramDataset(paths, frames, **settings)
    return [dataset[i] for i in range(len(dataset))]


@pytest.fixture(scope="module")
def expected_items(reference, paths) -> list[torch.Tensor]:
    return dataset_items(reference, paths, FRAMES)


def make_dataset(submission, paths: list[str], frames: int = FRAMES, **settings):
    return call_student(submission, "SpectrogramDataset", paths, frames, **settings,
                        hint="__init__ stores the paths and settings (load lazily, in __getitem__)")


def shown(paths: list[str], frames: int = FRAMES, **settings) -> str:
    extra = "".join(f", {k}={v}" for k, v in settings.items())
    return f"SpectrogramDataset([{len(paths)} audio files], frames={frames}{extra})"


def get_item(dataset, index: int, given: str):
    return attempt(lambda: dataset.call("__getitem__", index), function="SpectrogramDataset.__getitem__",
                   input=f"dataset[{index}] of {given}", hint=ITEM_HINT)


@pytest.mark.points(1)
def test_dataset_is_a_torch_dataset(submission, paths):
    """SpectrogramDataset is a torch Dataset with one item per audio file"""
    dataset, given = make_dataset(submission, paths), shown(paths)
    is_dataset = attempt(lambda: submission.probe("is_instance", dataset, "torch.utils.data.Dataset"),
                         function="SpectrogramDataset", input=given)
    expect(is_dataset, "SpectrogramDataset is not a torch.utils.data.Dataset", function="SpectrogramDataset",
           input=given, rows=[("class", "a subclass of torch.utils.data.Dataset", describe(dataset))],
           hint="keep `class SpectrogramDataset(Dataset)`, as in the lecture's DataLoader preview")
    length = attempt(lambda: submission.probe("length", dataset), function="SpectrogramDataset.__len__",
                     input=f"len({given})")
    expect(length == len(paths), "len(dataset) should be the number of audio files",
           function="SpectrogramDataset.__len__", input=f"len({given})",
           rows=[("length", str(len(paths)), repr(length))],
           hint="__len__ is the number of items: one per audio file you were given")


@pytest.mark.points(2)
def test_dataset_items(submission, reference, paths, expected_items):
    """SpectrogramDataset items are float32 (1, 1 + n_fft // 2, frames) spectrograms, cropped or padded"""
    dataset, given = make_dataset(submission, paths), shown(paths)
    for index, expected in enumerate(expected_items):
        expect_match(get_item(dataset, index, given), expected, function="SpectrogramDataset.__getitem__",
                     input=f"dataset[{index}] of {given} ({CLIPS[index]})", hint=ITEM_HINT, **TOLERANCE)
    settings = {"sr": 16000, "n_fft": 512, "hop_length": 128}
    chosen = paths[1:3]
    dataset, given = make_dataset(submission, chosen, 20, **settings), shown(chosen, 20, **settings)
    expected = dataset_items(reference, chosen, 20, **settings)
    for index in range(len(chosen)):
        expect_match(get_item(dataset, index, given), expected[index], function="SpectrogramDataset.__getitem__",
                     input=f"dataset[{index}] of {given}", hint="store sr, n_fft and hop_length in __init__ and "
                     "use them in __getitem__ instead of the defaults", **TOLERANCE)


@pytest.mark.points(2)
@pytest.mark.grades("SpectrogramDataset")
def test_dataloader_batches(submission, paths, expected_items):
    """DataLoader(dataset, batch_size=2) yields (B, 1, freq, frames) batches, the last one short"""
    dataset, given = make_dataset(submission, paths), shown(paths)
    batches = attempt(lambda: submission.probe("loader_batches", dataset, 2), function="SpectrogramDataset",
                      input=f"DataLoader({given}, batch_size=2)", hint=ITEM_HINT)
    expected = [torch.stack(expected_items[i:i + 2]) for i in range(0, len(expected_items), 2)]
    expect_match(batches, expected, function="SpectrogramDataset",
                 input=f"list(DataLoader({given}, batch_size=2)): batches of 2, 2 and 1 items",
                 hint="every item must have the same (1, freq, frames) shape so the DataLoader can stack them into "
                      "(batch, channels, freq, time); " + ITEM_HINT, **TOLERANCE)


@pytest.mark.side_of("test_dataset_items")
@pytest.mark.points(1)
def test_dataset_validates_its_arguments(submission, paths):
    """SpectrogramDataset raises FileNotFoundError for a missing file and ValueError for frames < 1"""
    missing = str(Path(paths[0]).parent / "no_such_clip.wav")
    expect_raises(submission, "SpectrogramDataset", "FileNotFoundError", [paths[0], missing], FRAMES,
                  match=missing, hint="check every path with os.path.exists in __init__, so a typo fails at once "
                  "rather than in the middle of an epoch; name the path in the message")
    expect_raises(submission, "SpectrogramDataset", "ValueError", paths, 0,
                  hint="an item needs at least one time frame: raise ValueError in __init__ when frames < 1")
