"""Lab 4 · The complete audio → tensor pipeline (Labs 1-4): audio_to_tensor."""

from __future__ import annotations

from pathlib import Path

import pytest
import soundfile as sf
import torch

from grader.checks import fixtures
from grader.checks import (attempt, call_student, describe, describe_call, expect, expect_match, expect_plain_tensor,
                           expect_raises)

TOLERANCE = {"rtol": 1e-4, "atol": 1e-4}  # STFT magnitudes, float32 through two processes
PIPELINE = ("librosa.load(path, sr=sr, mono=True) -> np.abs(librosa.stft(audio, n_fft=n_fft, "
            "hop_length=hop_length)) -> numpy_to_tensor -> to_unet_input -> .to(device)")


@pytest.fixture(scope="session")
def long_clip(clips) -> Path:
    """A 30 s tone at 22050 Hz, the length the lecture's pipeline slide talks about."""
    path = clips["tone_22050_mono_1s"].parent / "long_tone_30s.wav"
    if not path.exists():
        fixtures.write(path, fixtures.tone(440, 22050, 30.0), 22050)
    return path


def samples_at(path: Path, sr: int) -> int:
    """How many samples ``librosa.load(path, sr=sr)`` gives: the file's length, resampled."""
    info = sf.info(str(path))
    return -(-info.frames * sr // info.samplerate)  # resampling rounds up


def stft_shape(path: Path, sr: int = 22050, n_fft: int = 2048, hop_length: int = 512) -> tuple:
    """(batch, channels, freq, time): 1 + n_fft // 2 bins, 1 + len // hop frames (center=True)."""
    return (1, 1, 1 + n_fft // 2, 1 + samples_at(path, sr) // hop_length)


def run_student(submission, path: Path, hint: str = "", **settings):
    """The student's audio_to_tensor(path, device="cpu", ...), shown with the clip's file name."""
    given = describe_call("audio_to_tensor", (path.name,), {"device": "cpu", **settings})
    got = attempt(lambda: submission.audio_to_tensor(str(path), device="cpu", **settings),
                  function="audio_to_tensor", input=given, hint=hint)
    return got, given


def check_shape(submission, path: Path, **settings) -> None:
    """The shape follows from the clip's length and the STFT settings, not from the reference."""
    n = samples_at(path, settings.get("sr", 22050))
    n_fft, hop = settings.get("n_fft", 2048), settings.get("hop_length", 512)
    expected = stft_shape(path, **settings)
    hint = (f"(batch, channels, freq, time) = (1, 1, 1 + n_fft // 2, 1 + len(audio) // hop_length): here "
            f"{n} samples give 1 + {n_fft} // 2 = {expected[2]} bins and 1 + {n} // {hop} = {expected[3]} frames")
    got, given = run_student(submission, path, hint, **settings)
    expect_plain_tensor(got, function="audio_to_tensor", input=given)
    expect(tuple(got.shape) == expected, "audio_to_tensor gave the wrong shape",
           function="audio_to_tensor", input=given, rows=[("shape", str(expected), _shape_of(got))], hint=hint)


def _shape_of(value) -> str:
    return str(tuple(value.shape)) if hasattr(value, "shape") else describe(value)


def check_clip(submission, reference, path: Path, hint: str, **settings) -> None:
    """Values against the reference, on the CPU."""
    expected = reference.audio_to_tensor(str(path), device="cpu", **settings)
    got, given = run_student(submission, path, hint, **settings)
    expect_match(got, expected, function="audio_to_tensor", input=given, hint=hint, **TOLERANCE)


@pytest.mark.points(2)
def test_audio_to_tensor_shape(submission, clips):
    """audio_to_tensor gives (1, 1, 1 + n_fft // 2, 1 + len(audio) // hop_length)"""
    check_shape(submission, clips["tone_22050_mono_1s"])
    check_shape(submission, clips["chirp_44100_mono_1.5s"])
    check_shape(submission, clips["chirp_22050_mono_0.3s"], n_fft=512, hop_length=128)
    check_shape(submission, clips["tone_16000_mono_0.05s"], sr=16000, n_fft=256, hop_length=64)


@pytest.mark.points(1)
def test_audio_to_tensor_matches_reference(submission, reference, clips):
    """audio_to_tensor gives the right magnitude spectrogram for a 22050 Hz mono clip"""
    check_clip(submission, reference, clips["tone_22050_mono_1s"],
               hint=f"{PIPELINE}; keep librosa's other stft defaults, and return the magnitude (np.abs), "
                    "as float32")


@pytest.mark.points(1)
def test_audio_to_tensor_resamples(submission, reference, clips):
    """audio_to_tensor resamples a 44100 Hz clip to sr=22050"""
    check_clip(submission, reference, clips["chirp_44100_mono_1.5s"],
               hint="librosa.load(path, sr=sr) resamples to sr; with sr=None you keep 44100 Hz and get about "
                    "twice as many frames")


@pytest.mark.points(1)
def test_audio_to_tensor_mixes_stereo_to_mono(submission, reference, clips):
    """audio_to_tensor mixes a stereo clip down to one channel"""
    check_clip(submission, reference, clips["tone_44100_stereo_0.7s"],
               hint="librosa.load(path, sr=sr, mono=True) averages the two channels: a spectrogram for U-Net "
                    "has a single channel")


@pytest.mark.points(1)
def test_audio_to_tensor_other_rates_and_settings(submission, reference, clips):
    """audio_to_tensor handles a 0.05 s clip recorded at 16 kHz, and other n_fft / hop_length"""
    check_clip(submission, reference, clips["tone_16000_mono_0.05s"],
               hint="even a clip shorter than n_fft gives 1 + len(audio) // hop_length frames: librosa.stft "
                    "pads it (center=True); do not crop or pad it yourself")
    check_clip(submission, reference, clips["chirp_22050_mono_0.3s"], n_fft=512, hop_length=100,
               hint="pass n_fft=n_fft, hop_length=hop_length to librosa.stft instead of the lecture's fixed "
                    "2048 and 512")


@pytest.mark.points(1)
def test_audio_to_tensor_30_second_clip(submission, long_clip):
    """audio_to_tensor gives 1 + len(audio) // 512 frames for a 30 s clip"""
    n = samples_at(long_clip, 22050)
    expected = stft_shape(long_clip)
    seconds = n / 22050
    hint = (f"{seconds:g} s at 22050 Hz is {n} samples, and 1 + {n} // 512 = {expected[3]} frames -- compute "
            f"the frame count, do not copy it from a slide: (1025, 646) is the shape of a 15 s clip")
    got, given = run_student(submission, long_clip, hint)
    expect_plain_tensor(got, function="audio_to_tensor", input=given)
    expect(tuple(got.shape) == expected, "audio_to_tensor gave the wrong shape for a 30 s clip",
           function="audio_to_tensor", input=f"{given}, {seconds:g} s at 22050 Hz",
           rows=[("shape", str(expected), _shape_of(got))], hint=hint)


@pytest.mark.side_of("test_audio_to_tensor_matches_reference")
@pytest.mark.points(1)
def test_audio_to_tensor_moves_to_the_device_given(submission, reference, clips):
    """audio_to_tensor puts the spectrogram on the device it is given ("meta" stands in for a GPU)"""
    path = clips["tone_22050_mono_1s"]
    for device in ("meta", torch.device("meta")):
        hint = ("finish the pipeline with .to(device), passing on the device you were given as it is; "
                "select_device() chooses one only when device is None")
        given = describe_call("audio_to_tensor", (path.name,), {"device": device})
        got = attempt(lambda: submission.audio_to_tensor(str(path), device=device), function="audio_to_tensor",
                      input=given, hint=hint)
        expected = reference.audio_to_tensor(str(path), device=device)
        expect_match(got, expected, function="audio_to_tensor", input=given, hint=hint)


@pytest.mark.side_of("test_audio_to_tensor_matches_reference")
@pytest.mark.points(1)
def test_audio_to_tensor_missing_file(submission, clips):
    """audio_to_tensor raises FileNotFoundError naming a missing path"""
    missing = clips["tone_22050_mono_1s"].parent / "no_such_clip.wav"
    expect_raises(submission, "audio_to_tensor", "FileNotFoundError", str(missing), device="cpu",
                  match=str(missing),
                  hint="check os.path.exists(path) before calling librosa, and raise "
                       "FileNotFoundError(f\"audio file not found: {path}\")")


@pytest.mark.cuda
@pytest.mark.points(1)
def test_audio_to_tensor_on_cuda(submission, reference, clips):
    """audio_to_tensor(device="cuda") puts the spectrogram on the GPU with the CPU values"""
    path = clips["tone_22050_mono_1s"]
    expected = reference.audio_to_tensor(str(path), device="cpu")   # first: recorded for GPU machines too
    got = call_student(submission, "audio_to_tensor", str(path), device="cuda")
    expect_match(got, expected, function="audio_to_tensor", device="cuda",
                 input=describe_call("audio_to_tensor", (str(path),), {"device": "cuda"}),
                 hint="finish the pipeline with .to(device): the values must not change on the GPU", **TOLERANCE)
