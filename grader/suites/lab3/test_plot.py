"""Lab 3 · plot_spectrogram: a PNG file on disk, inspected by the grader.

The student's function writes into the worker's scratch folder (a relative
path lands there); a probe reads the file back and the checks here look at
its bytes: the PNG signature, the IHDR header and the decoded pixels.
Another probe watches the call itself: what the saved figure showed (its
largest image and that image's axes, however it was drawn) and how many
figures the call left open.
"""

import struct

import librosa
import numpy as np
import pytest

from grader.checks import fixtures
from grader.checks import attempt, call_student, describe, describe_call, expect, expect_raises, run_probe

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
PLOT_HINT = ('draw with librosa.display.specshow(magnitude_to_db(magnitude), sr=sr, hop_length=hop_length, '
             'x_axis="time", y_axis="hz", ax=ax), then save the figure to path and close it (docs: Figure.savefig, pyplot.close)')
SIZE_RANGE = (100, 6000)   # pixels, each side
MIN_BYTES = 5000           # a real plot with axes, labels and colours is tens of kilobytes
MIN_INK = 0.15             # share of non-background pixels: about 0.5 for a spectrogram, 0.02 for empty axes


def magnitude() -> np.ndarray:
    stft = librosa.stft(fixtures.chirp(200, 8000, 22050, 1.0), n_fft=1024, hop_length=256)
    return np.ascontiguousarray(np.abs(stft))


def plot(submission, path: str) -> tuple[object, dict, str]:
    """Ask the student to plot into ``path``; return (what it returned, the probe's view, the call)."""
    mag = magnitude()
    call = describe_call("plot_spectrogram", (mag, 22050, 256, path), {})
    got = call_student(submission, "plot_spectrogram", mag, 22050, 256, path, hint=PLOT_HINT)
    seen = attempt(lambda: submission.probe("lab3_read_image_file", path), function="plot_spectrogram", input=call)
    expect(seen["exists"], "plot_spectrogram did not create the image file", function="plot_spectrogram",
           input=call, rows=[("file", seen["path"], "no such file")],
           hint="save to exactly the path you are given: fig.savefig(path)")
    return got, seen, call


def ihdr(head: bytes) -> tuple[int, int] | None:
    """(width, height) from a PNG's IHDR chunk, parsed here from plain bytes."""
    if len(head) < 24 or head[12:16] != b"IHDR":
        return None
    return struct.unpack(">II", head[16:24])


@pytest.mark.points(2)
def test_plot_spectrogram_writes_png(submission):
    """plot_spectrogram writes a PNG file at the given path and returns that path"""
    path = "spectrogram.png"
    got, seen, call = plot(submission, path)
    head = seen["head"] or b""
    expect(head.startswith(PNG_SIGNATURE), "the file is not a PNG image", function="plot_spectrogram",
           input=call, rows=[("first bytes", repr(PNG_SIGNATURE), repr(head[:8]))],
           hint=f"your file is {seen['path']}; fig.savefig(path) writes a PNG for a .png path "
                "(or pass format='png')")
    expect(type(got).__name__.endswith("Path") and str(got) == path,
           "plot_spectrogram should return the path it wrote", function="plot_spectrogram", input=call,
           rows=[("result", f"pathlib.Path({path!r})", describe(got))], hint="end with `return Path(path)`")


@pytest.mark.points(2)
def test_plot_spectrogram_picture(submission):
    """the PNG is a real picture: sensible width and height, not tiny, not empty axes"""
    path = "spectrogram_picture.png"
    _, seen, call = plot(submission, path)
    where = f"your file is {seen['path']}"
    size = ihdr(seen["head"] or b"")
    expect(size is not None, "the file has no PNG header (IHDR)", function="plot_spectrogram", input=call,
           rows=[("header", "IHDR chunk after the PNG signature", repr((seen["head"] or b"")[:24]))],
           hint=where + "; save it with fig.savefig(path)")
    width, height = size
    low, high = SIZE_RANGE
    expect(low <= width <= high and low <= height <= high, "the image has a strange size",
           function="plot_spectrogram", input=call,
           rows=[("width x height", f"each between {low} and {high} pixels", f"{width} x {height}")],
           hint=where + "; a figure like plt.subplots(figsize=(10, 4)) at the default dpi is about 1000 x 400")
    expect(seen["size"] >= MIN_BYTES, "the image file is suspiciously small", function="plot_spectrogram",
           input=call, rows=[("file size", f"at least {MIN_BYTES} bytes", f"{seen['size']} bytes")],
           hint=where + "; draw the spectrogram before saving (specshow, colorbar), and save the figure you drew on")
    pixels = seen.get("pixels")
    expect(pixels is not None, "the image could not be decoded", function="plot_spectrogram", input=call,
           rows=[("decoding", "a readable PNG", seen.get("decode_error", "unknown error"))], hint=where)
    expect(pixels["ink"] >= MIN_INK, "the picture looks empty: it is almost all background",
           function="plot_spectrogram", input=call,
           rows=[("share of pixels that are not background", f"at least {MIN_INK:.0%}", f"{pixels['ink']:.1%}")],
           hint=where + "; " + PLOT_HINT)


@pytest.mark.points(1)
def test_plot_spectrogram_rejects_1d(submission):
    """plot_spectrogram raises ValueError for a 1-D array"""
    expect_raises(submission, "plot_spectrogram", "ValueError", np.ones(100, np.float32), 22050, 512, "bad.png",
                  hint="check magnitude.ndim == 2 before plotting: a spectrogram is (frequency, time)")


# ---------------------------------------------------------------- what was drawn
WATCHED_SR, WATCHED_HOP = 16000, 128   # not the defaults (22050, 512): ignoring them shows on the axes


def watched_plot(submission, path: str) -> tuple[np.ndarray, dict, str]:
    """(the magnitude given, what the probe saw, the call) for a 1 s chirp at 16 kHz."""
    audio = fixtures.chirp(200, 6000, WATCHED_SR, 1.0)
    mag = np.ascontiguousarray(np.abs(librosa.stft(audio, n_fft=512, hop_length=WATCHED_HOP)))
    call = describe_call("plot_spectrogram", (mag, WATCHED_SR, WATCHED_HOP, path), {})
    seen = run_probe(submission, "lab3_plot_watching", "plot_spectrogram", mag, WATCHED_SR, WATCHED_HOP, path,
                     input=call, hint=PLOT_HINT)
    return mag, seen, call


def drawn_picture(seen: dict, call: str) -> dict:
    pictures = [p for p in seen["saved"] if p is not None]
    expect(bool(pictures), "no spectrogram image was on the figure when it was saved", function="plot_spectrogram",
           input=call, rows=[("saved figures with an image", "at least 1",
                              f"{len(seen['saved'])} saved, none with a 2-D image")],
           hint="draw on the figure you save: img = librosa.display.specshow(..., ax=ax), then fig.savefig(path)")
    return pictures[-1]


def db_offset_spread(drawn: np.ndarray, expected_db: np.ndarray) -> float:
    """How far ``drawn`` is from ``expected_db`` plus one constant, where both are well above the floor
    (a dB picture with any reference differs from magnitude_to_db by a constant)."""
    loud = expected_db > -60
    difference = drawn[loud] - expected_db[loud]
    return float(np.nanmax(np.abs(difference - np.nanmedian(difference))))


@pytest.mark.points(2)
def test_plot_spectrogram_draws_decibels(submission, reference):
    """the picture shows the magnitude in dB (20 * log10), not the raw magnitude"""
    mag, seen, call = watched_plot(submission, "watched_db.png")
    picture = drawn_picture(seen, call)
    data, expected = picture["data"], reference.magnitude_to_db(mag).astype(np.float64)
    expect(data.shape == expected.shape, "the image drawn does not have the spectrogram's shape",
           function="plot_spectrogram", input=call,
           rows=[("image shape (frequency, time)", str(expected.shape), str(data.shape))],
           hint="draw the (frequency, time) array as it is; do not transpose it")
    spread = min(db_offset_spread(data, expected), db_offset_spread(np.flipud(data), expected))
    expect(spread < 0.01, "the picture does not show decibels of the magnitude", function="plot_spectrogram",
           input=call, rows=[("values drawn", "magnitude_to_db(magnitude), up to a constant",
                              f"range {np.nanmin(data):.4g} to {np.nanmax(data):.4g}, off by up to {spread:.3g}")],
           hint="convert first: specshow(magnitude_to_db(magnitude), ...); the raw magnitude shows only "
                "the few loudest bins")


@pytest.mark.points(1)
def test_plot_spectrogram_axes_in_seconds_and_hz(submission):
    """the time axis runs to n_frames * hop_length / sr seconds and the frequency axis to sr / 2 Hz"""
    mag, seen, call = watched_plot(submission, "watched_axes.png")
    picture = drawn_picture(seen, call)
    seconds, nyquist = mag.shape[1] * WATCHED_HOP / WATCHED_SR, WATCHED_SR / 2
    x_low, x_high = sorted(picture["xlim"])
    y_low, y_high = sorted(picture["ylim"])
    rows = []
    if not (abs(x_low) <= 0.05 * seconds and abs(x_high - seconds) <= 0.05 * seconds):
        rows.append(("time axis (s)", f"0 to about {seconds:.3f}", f"{x_low:.4g} to {x_high:.4g}"))
    if not (abs(y_low) <= 0.05 * nyquist and abs(y_high - nyquist) <= 0.05 * nyquist):
        rows.append(("frequency axis (Hz)", f"0 to about {nyquist:g}", f"{y_low:.4g} to {y_high:.4g}"))
    expect(not rows, "the axes are not in seconds and Hz for this sr and hop_length", function="plot_spectrogram",
           input=call, rows=rows,
           hint="pass them on: specshow(..., sr=sr, hop_length=hop_length, x_axis='time', y_axis='hz'); "
                "specshow's own defaults are sr=22050 and hop_length=512")


@pytest.mark.points(1)
@pytest.mark.side_of("test_plot_spectrogram_writes_png")
def test_plot_spectrogram_closes_its_figure(submission):
    """plot_spectrogram leaves no figure open once it has saved"""
    _, seen, call = watched_plot(submission, "watched_close.png")
    expect(seen["left_open"] == 0, "plot_spectrogram left figures open", function="plot_spectrogram", input=call,
           rows=[("figures left open", "0", str(seen["left_open"]))],
           hint="close the figure once it is saved (see matplotlib.pyplot.close): open figures "
                "pile up in memory over many calls")
