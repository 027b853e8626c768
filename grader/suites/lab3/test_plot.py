"""Lab 3 · plot_spectrogram: a PNG file on disk, inspected by the grader.

The student's function writes into the worker's scratch folder (a relative
path lands there); a probe reads the file back and the checks here look at
its bytes: the PNG signature, the IHDR header and the decoded pixels.
"""

import struct

import librosa
import numpy as np
import pytest

from grader import fixtures
from grader.checks import attempt, call_student, describe, describe_call, expect, expect_raises

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
