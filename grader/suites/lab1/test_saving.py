"""Lab 1 · save_audio: the file on disk, read back by the student and by the grader.

The worker runs in its own scratch folder, so a relative path such as
"saved_mono.wav" lands there.  Each check writes its own file name.
"""

import numpy as np
import pytest

from grader.checks import attempt, call_student, describe, describe_call, expect, expect_match, expect_raises

SAVE_HINT = 'soundfile.write(path, audio.T if stereo else audio, sr, subtype="FLOAT") writes 32-bit float samples'


def waveform(seed: int, channels: int, n: int = 2205, peak: float = 0.8) -> np.ndarray:
    audio = peak * np.random.default_rng(seed).uniform(-1, 1, (channels, n) if channels > 1 else n)
    return audio.astype(np.float32)


def save(submission, path: str, audio: np.ndarray, sr: int):
    return call_student(submission, "save_audio", path, audio, sr, hint=SAVE_HINT)


def read_back(submission, path: str, call: str) -> dict:
    """What is really in the file, read with soundfile by the grader's probe."""
    seen = attempt(lambda: submission.probe("lab1_read_audio_file", path), function="save_audio", input=call)
    where = f"{call} should have written {path!r} in the folder your code runs in ({seen['path']})"
    expect(seen["exists"], "save_audio did not create the file", function="save_audio", input=call,
           rows=[("file", seen["path"], "no such file")],
           hint="write exactly to the path you are given; the folder already exists")
    expect("error" not in seen, "the file save_audio wrote is not audio that soundfile can read",
           function="save_audio", input=call,
           rows=[("file", "a WAV file", f"{seen['size']} bytes, {seen.get('error')}")], hint=where)
    return seen


@pytest.mark.points(2)
def test_save_audio_round_trip_mono(submission):
    """a mono clip saved with save_audio loads back identically with load_audio(sr=None)"""
    audio, path = waveform(11, 1), "round_trip_mono.wav"
    save(submission, path, audio, 22050)
    got = call_student(submission, "load_audio", path, sr=None,
                       hint="load_audio(path, sr=None) should read back what save_audio wrote")
    expect_match(got, (audio, 22050), function="save_audio then load_audio", rtol=0, atol=0,
                 input=f"save_audio({path!r}, {describe(audio)}, 22050); load_audio({path!r}, sr=None)",
                 hint=SAVE_HINT + ", so reading it back gives exactly the samples you saved")


@pytest.mark.points(1)
def test_save_audio_round_trip_stereo(submission):
    """a (2, N) clip saved with save_audio loads back as (2, N) with load_audio(sr=None, mono=False)"""
    audio, path = waveform(12, 2), "round_trip_stereo.wav"
    save(submission, path, audio, 44100)
    got = call_student(submission, "load_audio", path, sr=None, mono=False)
    expect_match(got, (audio, 44100), function="save_audio then load_audio", rtol=0, atol=0,
                 input=f"save_audio({path!r}, {describe(audio)}, 44100); load_audio({path!r}, sr=None, mono=False)",
                 hint="soundfile wants channels last: write audio.T, so the file has 2 channels of N samples")


@pytest.mark.points(2)
def test_save_audio_file_read_by_grader(submission):
    """the files save_audio writes hold the right samples, rate and channels, at any positive rate (read by the grader)"""
    for channels, sr in ((1, 16000), (2, 22050), (1, 1)):
        check_file(submission, channels, sr)


def check_file(submission, channels: int, sr: int) -> None:
    audio, path = waveform(13 + channels, channels, 1000), f"checked_{channels}ch_{sr}hz.wav"
    call = describe_call("save_audio", (path, audio, sr), {})
    save(submission, path, audio, sr)
    seen = read_back(submission, path, call)
    where = f"the file is {seen['path']}"
    n = audio.shape[-1]
    rows = [(what, str(want), str(seen[what]))
            for what, want in (("format", "WAV"), ("samplerate", sr), ("channels", channels), ("frames", n))
            if seen[what] != want]
    expect(not rows, "the saved file has the wrong layout", function="save_audio", input=call, rows=rows,
           hint=(SAVE_HINT + "; " if channels == 1 else "(C, N) audio must be written as audio.T, shape (N, C); ")
           + where)
    expect_match(seen["data"], audio.reshape(channels, n), function="save_audio", input=call,
                 hint=SAVE_HINT + " (16-bit PCM rounds every sample); " + where)


@pytest.mark.points(1)
def test_save_audio_keeps_samples_beyond_full_scale(submission):
    """save_audio stores samples beyond [-1, 1] exactly (32-bit float WAV, no clipping, no rounding)"""
    audio, path, sr = waveform(17, 2, 500, peak=1.5), "beyond_full_scale.wav", 22050
    call = describe_call("save_audio", (path, audio, sr), {}) + f", samples up to {float(np.abs(audio).max()):.3f}"
    save(submission, path, audio, sr)
    seen = read_back(submission, path, call)
    expect_match(seen["data"], audio, function="save_audio", input=call, rtol=0, atol=0,
                 hint=SAVE_HINT + ": 16-bit or 32-bit PCM clips everything beyond [-1, 1] and rounds the rest; "
                      f"the file is {seen['path']}")


@pytest.mark.points(1)
def test_save_audio_returns_path(submission):
    """save_audio returns the path of the file as a pathlib.Path"""
    path = "returned_path.wav"
    got = save(submission, path, waveform(15, 1, 100), 22050)
    expect(type(got).__name__.endswith("Path") and str(got) == path, "save_audio should return the path it wrote",
           function="save_audio", input=describe_call("save_audio", (path, waveform(15, 1, 100), 22050), {}),
           rows=[("result", f"pathlib.Path({path!r})", describe(got))],
           hint="end with `return Path(path)`")


@pytest.mark.points(1)
def test_save_audio_rejects_bad_input(submission):
    """save_audio raises FileNotFoundError for a missing folder and ValueError for a bad rate or shape"""
    audio = waveform(16, 1, 100)
    expect_raises(submission, "save_audio", "FileNotFoundError", "no_such_folder/out.wav", audio, 22050,
                  hint="check pathlib.Path(path).parent.is_dir() first: soundfile reports a missing "
                       "folder as a RuntimeError, not FileNotFoundError")
    expect_raises(submission, "save_audio", "ValueError", "bad_rate.wav", audio, 0,
                  hint="check `if sr <= 0: raise ValueError(...)`")
    expect_raises(submission, "save_audio", "ValueError", "bad_shape.wav", np.zeros((2, 2, 10), np.float32), 22050,
                  hint="only (N,) and (C, N) audio can be saved: raise ValueError for audio.ndim > 2")
