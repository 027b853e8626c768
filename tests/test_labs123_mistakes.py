"""Labs 1–3: the reference earns every point, the stub none, and each documented
mistake of issue 9 loses points on the check written for it.

Each buggy submission is the reference with definitions appended that redo
one or more functions with one documented mistake each (different functions,
or different checks of one function), graded with ``keyword`` so that only
the checks of those functions run.  ``keeps`` are checks of the same
functions that must still pass: the mistake is pinned down, not a crash.
Correct variants (a float64 ``rms``, a plot drawn with plain ``imshow``)
must earn every point of their checks.
"""

from __future__ import annotations

import pytest

from grader.grading.run import grade
from tests.helpers import REPO
from tests.mistakes import Variant, grade_variant, judge

pytestmark = pytest.mark.slow   # about 15 gradings, three of whole labs

VARIANTS = {
    # What the worker cannot see / inputs never tried / a decision written in the stub, Lab 1
    "lab1: in-place scaling, cast of 1-D audio, float64 at equal rates, 32-bit PCM": Variant(
        "lab1", '''
def peak_normalize(audio, peak=1.0):
    """Mistake: scales the caller's array in place (the stub promises a new array)."""
    if peak <= 0:
        raise ValueError("peak must be positive")
    current = float(np.max(np.abs(audio)))
    if current == 0.0:
        return np.zeros_like(audio)
    audio *= peak / current
    return audio


_to_mono = to_mono


def to_mono(audio):
    """Mistake: casts 1-D audio to float32 (the stub: 1-D comes back unchanged, dtype included)."""
    return _to_mono(audio).astype(np.float32)


_resample = resample


def resample(audio, orig_sr, target_sr):
    """Mistake: equal rates return the input itself, float64 included (the stub: always float32)."""
    if orig_sr == target_sr and orig_sr > 0:
        return audio
    return _resample(audio, orig_sr, target_sr)


def save_audio(path, audio, sr):
    """Mistake: 32-bit PCM, which clips beyond [-1, 1] (the stub: exact round trip, 32-bit float)."""
    path = Path(path)
    if sr <= 0:
        raise ValueError("sr must be positive")
    audio = np.asarray(audio, dtype=np.float32)
    if audio.ndim > 2:
        raise ValueError("expected 1-D or 2-D audio")
    if not path.parent.is_dir():
        raise FileNotFoundError(str(path.parent))
    sf.write(path, audio.T if audio.ndim == 2 else audio, int(sr), subtype="PCM_32")
    return path
''', "peak_normalize or to_mono or resample or save_audio",
        catches=("test_peak_normalize_returns_a_new_array", "test_to_mono_leaves_mono_unchanged",
                 "test_resample_matches_librosa", "test_save_audio_keeps_samples_beyond_full_scale"),
        keeps=("test_peak_normalize_reaches_peak", "test_to_mono_averages_channels", "test_resample_length",
               "test_save_audio_rejects_bad_input", "test_save_audio_returns_path")),

    # Inputs never tried (strided signal, signed values, silence) and a correct float64 rms, Lab 2
    "lab2: itemsize strides, ref of x, silent signal accepted; float64 rms": Variant(
        "lab2", '''
def frame_signal(audio, frame_length, hop_length):
    """Mistake: strides assumed from the itemsize, wrong for a strided view."""
    audio = np.asarray(audio)
    if audio.ndim != 1 or frame_length < 1 or hop_length < 1 or len(audio) < frame_length:
        raise ValueError("bad input")
    count = 1 + (len(audio) - frame_length) // hop_length
    step = audio.itemsize
    return np.lib.stride_tricks.as_strided(audio, (count, frame_length), (hop_length * step, step),
                                           writeable=False)


_amplitude_to_db = amplitude_to_db


def amplitude_to_db(x, ref=1.0, amin=1e-5, top_db=80.0):
    """Mistake: a callable ref is applied to x, not to |x|."""
    if callable(ref):
        ref = float(ref(np.asarray(x)))
    return _amplitude_to_db(x, ref, amin, top_db)


def mix_at_snr(signal, noise, snr_db):
    """Mistake: a silent signal is not rejected (the stub says it raises)."""
    signal, noise = np.asarray(signal), np.asarray(noise)
    if signal.shape != noise.shape or signal.size == 0:
        raise ValueError("shapes differ or are empty")
    p_signal, p_noise = np.mean(signal ** 2), np.mean(noise ** 2)
    if p_noise == 0:
        raise ValueError("silent noise")
    return signal + np.sqrt(p_signal / (p_noise * 10 ** (snr_db / 10))) * noise


def rms(frames):
    """Correct: float64 whatever the input (the stub leaves the float dtype free)."""
    return np.sqrt(np.mean(np.square(np.asarray(frames, dtype=np.float64)), axis=-1))
''', "frame_signal or amplitude_to_db or mix_at_snr or rms",
        catches=("test_frame_signal_strided_signal", "test_amplitude_to_db_ref_function",
                 "test_mix_at_snr_rejects_silence_and_empty"),
        keeps=("test_frame_signal_matches_reference", "test_frame_signal_is_a_view",
               "test_amplitude_to_db_matches_reference", "test_mix_at_snr_reaches_target",
               "test_rms_matches_reference", "test_rms_of_sine_and_constant")),

    # Parameters at zero and shapes that broadcast, Lab 2
    "lab2: `if top_db:`, sizes compared instead of shapes": Variant(
        "lab2", '''
_amplitude_to_db = amplitude_to_db


def amplitude_to_db(x, ref=1.0, amin=1e-5, top_db=80.0):
    """Mistake: `if top_db:` treats top_db=0 as no floor at all."""
    return _amplitude_to_db(x, ref, amin, top_db if top_db else None)


_mix_at_snr = mix_at_snr


def mix_at_snr(signal, noise, snr_db):
    """Mistake: compares sizes, so (N,) noise and (1, N) noise both pass."""
    signal, noise = np.asarray(signal), np.asarray(noise)
    if signal.size != noise.size:
        raise ValueError("signal and noise differ in size")
    return _mix_at_snr(signal, noise.reshape(signal.shape), snr_db)
''', "amplitude_to_db or mix_at_snr",
        catches=("test_amplitude_to_db_edge_parameters", "test_mix_at_snr_rejects_different_shapes"),
        keeps=("test_amplitude_to_db_matches_reference", "test_amplitude_to_db_ref_function",
               "test_mix_at_snr_reaches_target", "test_mix_at_snr_rejects_silence_and_empty")),

    # A decision written in the stub: a negative ref counts as |ref|, Lab 2
    "lab2: negative ref clipped to amin": Variant(
        "lab2", '''
_amplitude_to_db = amplitude_to_db


def amplitude_to_db(x, ref=1.0, amin=1e-5, top_db=80.0):
    """Mistake: max(amin, ref) without abs, so a negative ref becomes amin."""
    if not callable(ref) and ref < 0:
        ref = amin
    return _amplitude_to_db(x, ref, amin, top_db)
''', "amplitude_to_db",
        catches=("test_amplitude_to_db_edge_parameters",),
        keeps=("test_amplitude_to_db_matches_reference", "test_amplitude_to_db_ref_function")),

    # float64 input, broadcasting shapes, odd n_fft, a plot of the raw magnitude, Lab 3
    "lab3: no float32 cast, no shape check, linspace bins, raw magnitude drawn": Variant(
        "lab3", '''
def stft_magnitude(audio, n_fft=2048, hop_length=512):
    """Mistake: no cast, so float64 audio gives a float64 spectrogram."""
    return np.abs(librosa.stft(np.asarray(audio), n_fft=n_fft, hop_length=hop_length))


def reconstruct(magnitude, phase, hop_length=512, length=None, n_fft=None):
    """Mistake: shapes not compared, so a (F, 1) phase broadcasts over every frame."""
    stft = np.asarray(magnitude) * np.exp(1j * np.asarray(phase))
    return librosa.istft(stft, hop_length=hop_length, n_fft=n_fft, length=length)


def frequency_bins(sr, n_fft):
    """Mistake: 0 to sr / 2 for every n_fft, wrong steps for an odd n_fft."""
    return np.linspace(0, sr / 2, 1 + n_fft // 2)


def plot_spectrogram(magnitude, sr, hop_length, path):
    """Mistake: draws the raw magnitude, not dB."""
    magnitude = np.asarray(magnitude)
    if magnitude.ndim != 2:
        raise ValueError("magnitude must be 2-D")
    import matplotlib
    matplotlib.use("Agg")
    import librosa.display
    import matplotlib.pyplot as plt
    fig, ax = plt.subplots(figsize=(10, 4))
    img = librosa.display.specshow(magnitude, sr=sr, hop_length=hop_length, x_axis="time", y_axis="hz", ax=ax)
    fig.colorbar(img, ax=ax)
    fig.savefig(path)
    plt.close(fig)
    return Path(path)
''', "stft_magnitude or reconstruct or frequency_bins or plot_spectrogram",
        catches=("test_stft_magnitude_float64_input", "test_reconstruct_rejects_mismatched_shapes",
                 "test_frequency_bins", "test_plot_spectrogram_draws_decibels"),
        keeps=("test_stft_magnitude_values", "test_stft_magnitude_shape", "test_reconstruct_round_trip",
               "test_plot_spectrogram_writes_png", "test_plot_spectrogram_axes_in_seconds_and_hz",
               "test_plot_spectrogram_closes_its_figure")),

    # Plots: hop_length left to specshow's default, figure never closed, Lab 3
    "lab3: specshow without hop_length, figure left open": Variant(
        "lab3", '''
def plot_spectrogram(magnitude, sr, hop_length, path):
    """Mistakes: hop_length not passed on (specshow assumes 512), and the figure is never closed."""
    magnitude = np.asarray(magnitude)
    if magnitude.ndim != 2:
        raise ValueError("magnitude must be 2-D")
    import matplotlib
    matplotlib.use("Agg")
    import librosa.display
    import matplotlib.pyplot as plt
    fig, ax = plt.subplots(figsize=(10, 4))
    img = librosa.display.specshow(magnitude_to_db(magnitude), sr=sr, x_axis="time", y_axis="hz", ax=ax)
    fig.colorbar(img, ax=ax)
    fig.savefig(path)
    return Path(path)
''', "plot_spectrogram",
        catches=("test_plot_spectrogram_axes_in_seconds_and_hz", "test_plot_spectrogram_closes_its_figure"),
        keeps=("test_plot_spectrogram_writes_png", "test_plot_spectrogram_draws_decibels")),

    # Fair: a plot drawn another reasonable way earns every point
    "lab3: plot with plain imshow (correct)": Variant(
        "lab3", '''
def plot_spectrogram(magnitude, sr, hop_length, path):
    """Correct: plain matplotlib, dB relative to the maximum, an extent in seconds and Hz."""
    magnitude = np.asarray(magnitude)
    if magnitude.ndim != 2:
        raise ValueError("magnitude must be 2-D")
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    db = 20 * np.log10(np.maximum(magnitude, 1e-10) / max(float(magnitude.max()), 1e-10))
    seconds = magnitude.shape[1] * hop_length / sr
    fig = plt.figure(figsize=(8, 4))
    plt.imshow(db, origin="lower", aspect="auto", extent=[0, seconds, 0, sr / 2], vmin=-80, vmax=0)
    plt.colorbar(format="%+2.0f dB")
    plt.xlabel("Time (s)")
    plt.ylabel("Frequency (Hz)")
    plt.savefig(path)
    plt.close(fig)
    return Path(path)
''', "plot_spectrogram", catches=(), correct=True),
}


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    """Grade each variant once, on demand."""
    cache = {}

    def run(name: str):
        if name not in cache:
            cache[name] = grade_variant(VARIANTS[name], tmp_path_factory.mktemp("variant"))
        return cache[name]

    return run


@pytest.mark.parametrize("name", VARIANTS)
def test_each_documented_mistake_loses_points_on_its_check(graded, name):
    judge(VARIANTS[name], graded(name))


@pytest.mark.parametrize("lab", ["lab1", "lab2", "lab3"])
def test_reference_full_marks_and_stub_none(lab):
    reference = grade(lab, reference=True)
    assert reference.score == reference.max_score > 0, [(c.name, c.feedback) for c in reference.checks
                                                        if c.status == "failed"]
    stub = grade(lab, course=REPO)
    assert stub.score == 0 and stub.max_score == reference.max_score
    assert all(c.status == "failed" for c in stub.checks)
