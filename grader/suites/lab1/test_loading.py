"""Lab 1 · load_audio: librosa.load with the course's rates, channels and errors."""

from pathlib import Path

import pytest

from grader.checks import compare, expect_match, expect_raises, run_probe

LOAD_HINT = "return librosa.load(path, sr=sr, mono=mono): a float32 array and the rate as a Python int"


@pytest.mark.points(2)
def test_load_audio_default_rate(submission, reference, clips):
    """load_audio reads a 22050 Hz mono clip at the default sr=22050"""
    compare(submission, reference, "load_audio", str(clips["tone_22050_mono_1s"]), hint=LOAD_HINT)


@pytest.mark.points(1)
def test_load_audio_resamples_to_default_rate(submission, reference, clips):
    """load_audio resamples a 44100 Hz clip to the default 22050 Hz"""
    compare(submission, reference, "load_audio", str(clips["chirp_44100_mono_1.5s"]),
            hint="pass sr through to librosa.load, which resamples for you; " + LOAD_HINT)


@pytest.mark.points(1)
def test_load_audio_native_rate(submission, reference, clips):
    """load_audio with sr=None keeps the file's own rate (44100 Hz, 16000 Hz)"""
    for name in ("chirp_44100_mono_1.5s", "tone_16000_mono_0.05s"):
        compare(submission, reference, "load_audio", str(clips[name]), sr=None,
                hint="sr=None means 'do not resample': hand it to librosa.load unchanged")


@pytest.mark.points(2)
def test_load_audio_stereo_keeps_channels(submission, reference, clips):
    """load_audio with mono=False keeps a stereo file as (2, N)"""
    path = str(clips["tone_44100_stereo_0.7s"])
    compare(submission, reference, "load_audio", path, sr=None, mono=False,
            hint="librosa.load(..., mono=False) returns channels first, shape (2, N)")
    compare(submission, reference, "load_audio", path, mono=False,
            hint="resampling a stereo file keeps both channels: shape (2, N) at 22050 Hz")


@pytest.mark.points(1)
def test_load_audio_mono_output(submission, reference, clips):
    """load_audio mixes stereo to 1-D by default and leaves a mono file 1-D with mono=False"""
    compare(submission, reference, "load_audio", str(clips["tone_44100_stereo_0.7s"]), sr=None,
            hint="mono=True (the default) averages the two channels into shape (N,)")
    compare(submission, reference, "load_audio", str(clips["chirp_22050_mono_0.3s"]), mono=False,
            hint="a mono file has only one channel: it stays shape (N,) even with mono=False")


@pytest.mark.points(1)
def test_load_audio_accepts_pathlib_path(submission, reference, clips):
    """load_audio accepts a pathlib.Path as well as a str"""
    path = clips["tone_22050_mono_1s"]
    got = run_probe(submission, "lab1_call_with_pathlib", "load_audio", str(path),
                    input=f"load_audio(pathlib.Path({path.name!r}))",
                    hint="wrap the argument in pathlib.Path(path) before calling .exists() or .is_file()")
    expect_match(got, reference.load_audio(path), function="load_audio",
                 input=f"load_audio(pathlib.Path({path.name!r}))", hint=LOAD_HINT)


@pytest.mark.points(1)
def test_load_audio_missing_file(submission, clips):
    """load_audio raises FileNotFoundError, naming the path, for a missing file"""
    missing = Path(clips["not_audio"]).parent / "no_such_song.wav"
    expect_raises(submission, "load_audio", "FileNotFoundError", str(missing), match="no_such_song.wav",
                  hint="check pathlib.Path(path).exists() before calling librosa and put the path "
                       "in the message: raise FileNotFoundError(f'No such audio file: {path}')")


@pytest.mark.points(1)
def test_load_audio_rejects_text_file(submission, clips):
    """load_audio raises ValueError for a text file named .wav"""
    expect_raises(submission, "load_audio", "ValueError", str(clips["not_audio"]),
                  match="is not a readable audio file",
                  hint="catch librosa's error (soundfile.LibsndfileError, audioread's NoBackendError, "
                       "EOFError...) and `raise ValueError(f'{path} is not a readable audio file') from exc`")


@pytest.mark.points(1)
def test_load_audio_rejects_directory_and_empty_file(submission, clips):
    """load_audio raises ValueError for a folder and for an empty file"""
    folder = Path(clips["not_audio"]).parent
    empty = folder / "empty.wav"
    empty.touch()
    hint = "a path that exists but is not a file (Path.is_file()) or is empty is not audio either"
    for path in (folder, empty):
        expect_raises(submission, "load_audio", "ValueError", str(path),
                      match="is not a readable audio file", hint=hint)
