"""Lab 3 · back to audio: magnitude plus phase through the inverse STFT."""

import librosa
import numpy as np
import pytest

from grader.checks import fixtures
from grader.checks import call_student, describe, expect_match, expect_raises


def spectrogram(n_fft: int, hop: int, seconds: float = 0.5) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(audio, magnitude, phase) of a chirp, computed here with librosa."""
    audio = fixtures.chirp(150, 5000, 22050, seconds)
    stft = librosa.stft(audio, n_fft=n_fft, hop_length=hop)
    return audio, np.abs(stft), np.angle(stft)


def round_trip(submission, n_fft: int, hop: int, hint: str, pass_n_fft: bool = False,
               pass_hop: bool = True) -> None:
    audio, magnitude, phase = spectrogram(n_fft, hop)
    kwargs = dict(length=len(audio), **({"n_fft": n_fft} if pass_n_fft else {}))
    args = (magnitude, phase, hop) if pass_hop else (magnitude, phase)
    call = (f"reconstruct(magnitude {magnitude.shape}, phase {phase.shape}, " + (f"{hop}, " if pass_hop else "")
            + ", ".join(f"{k}={v}" for k, v in kwargs.items()) + f"), from librosa.stft(audio, n_fft={n_fft}, "
            f"hop_length={hop}) of {describe(audio)}")
    got = call_student(submission, "reconstruct", *args, hint=hint, **kwargs)
    if isinstance(got, np.ndarray) and got.dtype.kind == "f":
        got = got.astype(audio.dtype)  # float32 or float64 both fine
    expect_match(got, audio, function="reconstruct", input=call, rtol=0, atol=1e-5, hint=hint)


@pytest.mark.points(3)
def test_reconstruct_round_trip(submission):
    """reconstruct(|S|, angle(S), hop, length=len(audio)) gives the audio back"""
    hint = ("build the complex spectrogram magnitude * np.exp(1j * phase), then "
            "librosa.istft(stft, hop_length=hop_length, n_fft=n_fft, length=length)")
    round_trip(submission, 2048, 512, hint)
    round_trip(submission, 512, 128, hint + "; use the hop_length you are given")
    round_trip(submission, 2048, 512, hint + "; keep the signature's default hop_length=512", pass_hop=False)


@pytest.mark.points(2)
def test_reconstruct_odd_n_fft(submission):
    """reconstruct with an odd n_fft (1023) passed explicitly gives the audio back"""
    round_trip(submission, 1023, 256, pass_n_fft=True,
               hint="512 rows could come from n_fft 1022 or 1023, so librosa cannot infer it: pass "
                    "n_fft=n_fft on to librosa.istft")


@pytest.mark.points(1)
@pytest.mark.side_of("test_reconstruct_round_trip")
def test_reconstruct_rejects_mismatched_shapes(submission):
    """reconstruct raises ValueError when magnitude and phase have different shapes, even broadcastable ones"""
    _, magnitude, phase = spectrogram(512, 128, 0.1)
    hint = ("compare magnitude.shape != phase.shape before combining them: NumPy would broadcast a (F, 1) "
            "phase over every frame without a word")
    expect_raises(submission, "reconstruct", "ValueError", magnitude, phase[:, :-1], 128, hint=hint)
    expect_raises(submission, "reconstruct", "ValueError", magnitude, phase[:, :1], 128, hint=hint)
    expect_raises(submission, "reconstruct", "ValueError", magnitude[:, :1], phase, 128, hint=hint)
