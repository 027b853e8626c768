"""Labs 4–5: each kind of gap the mutation report found is now caught by a check.

Same pattern as tests/test_labs123_mistakes.py: each buggy submission is the
reference with definitions appended that redo a few functions the way a
student might, each with one mistake the stub documents, graded with
``keyword`` so that only those functions' checks run.  ``keeps`` are checks of
the same functions that must still pass: the mistake is pinned down, not a
crash.  A correct variant written another reasonable way earns every point.
"""

from __future__ import annotations

import pytest

from tests.mistakes import Variant, grade_variant, judge

pytestmark = pytest.mark.slow   # one grading per variant, Lab 5's U-Net among them

VARIANTS = {
    # Simulated machines never tried: an MPS request, an unknown name, a machine with two GPUs
    "lab4: MPS granted unasked, unknown names as ValueError, the last GPU's name": Variant(
        "lab4", '''
def select_device(prefer=None):
    """Mistakes: MPS is handed out without asking torch.backends.mps, and an unknown name raises ValueError."""
    if prefer is None:
        if torch.cuda.is_available():
            return torch.device("cuda")
        if torch.backends.mps.is_available():
            return torch.device("mps")
        return torch.device("cpu")
    name = str(prefer)
    if name.split(":")[0] not in ("cpu", "cuda", "mps"):
        raise ValueError(f"unknown device {name!r}")
    device = torch.device(name)
    if device.type == "cuda" and (not torch.cuda.is_available()
                                  or (device.index or 0) >= torch.cuda.device_count()):
        raise RuntimeError(f"requested device {name!r} is not available")
    return device


def setup_report():
    """Mistake: names the last GPU, not GPU 0."""
    cuda = torch.cuda.is_available()
    count = torch.cuda.device_count() if cuda else 0
    return {"torch_version": str(torch.__version__), "cuda_available": cuda,
            "cuda_version": torch.version.cuda if cuda else None, "device_count": count,
            "device_name": torch.cuda.get_device_name(count - 1) if cuda else None,
            "device": str(select_device())}
''', "select_device or setup_report",
        catches=("test_select_device_rejects_unavailable_mps", "test_select_device_rejects_unknown_names",
                 "test_setup_report_with_cuda"),
        keeps=("test_select_device_honours_prefer_mps", "test_select_device_honours_prefer",
               "test_select_device_picks_mps", "test_select_device_checks_the_gpu_index",
               "test_setup_report_without_cuda")),

    # Inputs never tried: a stride of 0, a list, tensors of other dtypes, items that are not 2-D
    "lab4: zero strides copied, lists converted, tensor dtypes kept, ndim unchecked": Variant(
        "lab4", '''
def numpy_to_tensor(array):
    """Mistake: only positive strides are shared, so a[:, None] (a stride of 0) is copied."""
    if not isinstance(array, np.ndarray):
        raise TypeError("expected a numpy.ndarray")
    if array.dtype.kind == "c":
        raise ValueError("complex input: take np.abs first")
    if array.dtype.kind not in "biuf":
        raise TypeError("expected a numeric array")
    if array.dtype == np.float32 and array.flags.writeable and all(s > 0 for s in array.strides):
        return torch.from_numpy(array)
    return torch.from_numpy(array.astype(np.float32))


def to_unet_input(x):
    """Mistake: anything that is not a tensor goes through np.asarray, so a list is accepted."""
    if not isinstance(x, torch.Tensor):
        x = numpy_to_tensor(np.asarray(x))
    if x.ndim == 2:
        return x[None, None]
    if x.ndim == 3:
        return x[:, None]
    if x.ndim == 4:
        return x
    raise ValueError(f"bad shape {tuple(x.shape)}")


def batch_spectrograms(spectrograms, frames):
    """Mistakes: tensor items keep their dtype, and nothing checks that each item is 2-D."""
    if frames < 1 or len(spectrograms) == 0:
        raise ValueError("need frames >= 1 and at least one spectrogram")
    items = [numpy_to_tensor(s) if isinstance(s, np.ndarray) else s for s in spectrograms]
    if len({s.shape[0] for s in items}) != 1:
        raise ValueError("different numbers of frequency bins")
    fitted = [s[..., :frames] if s.shape[-1] >= frames else F.pad(s, (0, frames - s.shape[-1])) for s in items]
    return torch.stack(fitted).unsqueeze(1)
''', "numpy_to_tensor or to_unet_input or batch_spectrograms",
        catches=("test_numpy_to_tensor_shares_memory_of_views", "test_to_unet_input_rejects_non_arrays",
                 "test_batch_spectrograms_gives_float32", "test_batch_spectrograms_rejects_bad_input"),
        keeps=("test_numpy_to_tensor_shares_memory", "test_numpy_to_tensor_copies_reversed_arrays",
               "test_to_unet_input_adds_batch_and_channel", "test_to_unet_input_rejects_other_shapes",
               "test_batch_spectrograms_crops_and_pads", "test_batch_spectrograms_mixes_arrays_and_tensors")),

    # A parameter only tried at its default's value, and an argument never used
    "lab4: hop_length left to librosa, device argument ignored": Variant(
        "lab4", '''
def audio_to_tensor(path, device=None, sr=22050, n_fft=2048, hop_length=512):
    """Mistakes: hop_length never reaches librosa.stft (its default is n_fft // 4), and the result
    always goes to select_device(), whatever device was asked for."""
    if not os.path.exists(path):
        raise FileNotFoundError(f"audio file not found: {path}")
    audio, _ = librosa.load(path, sr=sr, mono=True)
    magnitude = np.abs(librosa.stft(audio, n_fft=n_fft))
    return to_unet_input(numpy_to_tensor(magnitude)).to(select_device())
''', "audio_to_tensor",
        catches=("test_audio_to_tensor_other_rates_and_settings", "test_audio_to_tensor_moves_to_the_device_given"),
        keeps=("test_audio_to_tensor_shape", "test_audio_to_tensor_matches_reference",
               "test_audio_to_tensor_missing_file")),

    # Fair: what the stub leaves open may be done either way
    "lab4: `if not prefer`, other device types returned, `device or select_device()` (correct)": Variant(
        "lab4", '''
def select_device(prefer=None):
    """Correct: '' counts as no preference, and device types the stub does not name are returned as asked."""
    if not prefer:
        return torch.device("cuda" if torch.cuda.is_available()
                            else "mps" if torch.backends.mps.is_available() else "cpu")
    try:
        device = torch.device(prefer)
    except RuntimeError:
        raise RuntimeError(f"unknown device: {prefer}") from None
    cuda_missing = device.type == "cuda" and not (
        torch.cuda.is_available() and (device.index or 0) < torch.cuda.device_count())
    mps_missing = device.type == "mps" and not (torch.backends.mps.is_available() and not device.index)
    if cuda_missing or mps_missing:
        raise RuntimeError(f"{device} is not available")
    return device


def audio_to_tensor(path, device=None, sr=22050, n_fft=2048, hop_length=512):
    """Correct: the device chosen with `or`."""
    if not os.path.exists(path):
        raise FileNotFoundError(path)
    audio, _ = librosa.load(path, sr=sr)
    spec = np.abs(librosa.stft(audio, n_fft=n_fft, hop_length=hop_length))
    return torch.from_numpy(spec)[None, None].to(device or select_device())
''', "select_device or audio_to_tensor", catches=(), correct=True),

    # An input dtype never tried (now in the stub: float32 or float64 audio)
    "lab5: separate on float64 audio without a cast": Variant(
        "lab5", '''
def separate(model, audio, n_fft=2048, hop_length=512):
    """Mistake: torch.from_numpy keeps float64 audio float64, which the float32 model refuses."""
    device = next(model.parameters()).device
    window = torch.hann_window(n_fft, device=device)
    x = torch.from_numpy(audio).to(device)
    X = torch.stft(x, n_fft, hop_length=hop_length, window=window, center=True, return_complex=True)
    model.eval()
    with torch.no_grad():
        mask = model(X.abs()[None, None])[0, 0]
        vocals = torch.istft(mask * X, n_fft, hop_length=hop_length, window=window, length=len(audio))
        rest = torch.istft((1 - mask) * X, n_fft, hop_length=hop_length, window=window, length=len(audio))
    return vocals.cpu().numpy().astype(np.float32), rest.cpu().numpy().astype(np.float32)
''', "test_separate",
        catches=("test_separate_returns_float32_of_input_length",),
        keeps=("test_separate_matches_reference", "test_separate_parts_sum_to_mixture")),

    # A parameter only tried at its default's value, and defaults of the given code changed
    "lab5: hop_length left to torch, UNet's default width changed": Variant(
        "lab5", '''
_separate = separate


def separate(model, audio, n_fft=2048, hop_length=512):
    """Mistake: hop_length is never passed on (torch.stft and torch.istft default to n_fft // 4)."""
    device = next(model.parameters()).device
    window = torch.hann_window(n_fft, device=device)
    X = torch.stft(torch.as_tensor(audio, dtype=torch.float32, device=device), n_fft, window=window,
                   return_complex=True)
    model.eval()
    with torch.no_grad():
        mask = model(X.abs()[None, None])[0, 0]
        vocals = torch.istft(mask * X, n_fft, window=window, length=len(audio))
        rest = torch.istft((1 - mask) * X, n_fft, window=window, length=len(audio))
    return vocals.cpu().numpy(), rest.cpu().numpy()


_UNet = UNet


class UNet(_UNet):
    """Mistake: the default width changed to the checkpoint's 8 (the given __init__ says 64)."""

    def __init__(self, n_channels=1, n_classes=1, base=8, bilinear=False):
        super().__init__(n_channels, n_classes, base, bilinear)
''', "test_separate_matches_reference or layer_names or default_unet",
        catches=("test_separate_matches_reference", "test_default_unet_keeps_the_given_defaults"),
        keeps=("test_layer_names_match_reference", "test_layer_names_match_reference_bilinear")),
}


@pytest.mark.parametrize("name", VARIANTS)
def test_each_gap_of_the_mutation_report_is_caught(name, tmp_path):
    judge(VARIANTS[name], grade_variant(VARIANTS[name], tmp_path))
