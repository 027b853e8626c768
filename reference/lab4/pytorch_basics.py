"""Lab 4: PyTorch Essentials -- instructor reference solution.

From NumPy arrays to GPU-ready tensors: device selection, NumPy <-> PyTorch
conversion, the 4-D ``(batch, channels, freq, time)`` layout U-Net expects,
a simple neural operation, autograd, and batching spectrograms with a
``Dataset``/``DataLoader``.
"""

from __future__ import annotations

import os
from typing import Sequence

import librosa
import numpy as np
import torch
import torch.nn.functional as F
from torch.utils.data import Dataset

__all__ = [
    "select_device",
    "setup_report",
    "numpy_to_tensor",
    "to_unet_input",
    "to_device",
    "to_numpy",
    "audio_to_tensor",
    "simple_neural_operation",
    "mse_gradient",
    "batch_spectrograms",
    "SpectrogramDataset",
]

DeviceLike = str | torch.device
ArrayOrTensor = np.ndarray | torch.Tensor


# --------------------------------------------------------------------------
# Devices
# --------------------------------------------------------------------------
def select_device(prefer: DeviceLike | None = None) -> torch.device:
    """Return the best available device, or ``prefer`` if it is available.

    Without ``prefer``: cuda, then mps, then cpu. Raises ``RuntimeError``
    naming the device when ``prefer`` is unknown or not available.
    """
    if prefer is None:
        if torch.cuda.is_available():
            return torch.device("cuda")
        if torch.backends.mps.is_available():
            return torch.device("mps")
        return torch.device("cpu")

    if not isinstance(prefer, (str, torch.device)):
        raise TypeError(f"prefer must be a str or torch.device, got {type(prefer).__name__}")
    try:
        device = torch.device(prefer)
    except RuntimeError as err:
        raise RuntimeError(f"unknown device {prefer!r}") from err

    if device.type == "cpu":
        available = True
    elif device.type == "cuda":
        available = torch.cuda.is_available() and (
            device.index is None or device.index < torch.cuda.device_count()
        )
    elif device.type == "mps":
        available = torch.backends.mps.is_available() and device.index in (None, 0)
    else:
        raise RuntimeError(f"unsupported device {str(device)!r}: use 'cpu', 'cuda[:N]' or 'mps'")

    if not available:
        raise RuntimeError(f"requested device {str(device)!r} is not available")
    return device


def setup_report() -> dict:
    """Summarise the PyTorch / CUDA setup (the lecture's setup check, as a dict)."""
    cuda = torch.cuda.is_available()
    return {
        "torch_version": str(torch.__version__),
        "cuda_available": bool(cuda),
        "cuda_version": torch.version.cuda if cuda else None,
        "device_count": torch.cuda.device_count() if cuda else 0,
        "device_name": torch.cuda.get_device_name(0) if cuda else None,
        "device": str(select_device()),
    }


# --------------------------------------------------------------------------
# NumPy <-> PyTorch
# --------------------------------------------------------------------------
def _can_share(array: np.ndarray) -> bool:
    """True when ``torch.from_numpy`` can wrap ``array`` as float32 without a copy."""
    return (
        array.dtype == np.float32  # native byte order only
        and array.flags.writeable
        and all(s >= 0 and s % array.itemsize == 0 for s in array.strides)
    )


def numpy_to_tensor(array: np.ndarray) -> torch.Tensor:
    """Convert a numeric ndarray to a float32 tensor, sharing memory when possible.

    Raises ``TypeError`` for non-arrays and non-numeric dtypes, ``ValueError``
    for complex input (take ``np.abs`` first).
    """
    if not isinstance(array, np.ndarray):
        raise TypeError(f"expected a numpy.ndarray, got {type(array).__name__}")
    if array.dtype.kind == "c":
        raise ValueError(
            "complex input: take the magnitude first, e.g. np.abs(librosa.stft(audio))"
        )
    if array.dtype.kind not in "biuf":
        raise TypeError(f"expected a numeric (bool/int/float) array, got dtype {array.dtype}")
    if _can_share(array):
        return torch.from_numpy(array)
    return torch.from_numpy(np.array(array, dtype=np.float32, order="C"))


def to_unet_input(x: ArrayOrTensor) -> torch.Tensor:
    """Reshape ``(F, T)`` or ``(B, F, T)`` to U-Net's ``(B, 1, F, T)``; 4-D passes through."""
    if isinstance(x, np.ndarray):
        x = numpy_to_tensor(x)
    elif not isinstance(x, torch.Tensor):
        raise TypeError(f"expected a numpy.ndarray or torch.Tensor, got {type(x).__name__}")
    if x.ndim == 2:
        return x.unsqueeze(0).unsqueeze(0)
    if x.ndim == 3:
        return x.unsqueeze(1)
    if x.ndim == 4:
        return x
    raise ValueError(
        f"expected a 2-D (freq, time), 3-D (batch, freq, time) or 4-D tensor, "
        f"got shape {tuple(x.shape)}"
    )


def to_device(tensor: torch.Tensor, device: DeviceLike) -> torch.Tensor:
    """Move ``tensor`` to ``device`` with ``.to(device)``."""
    if not isinstance(tensor, torch.Tensor):
        raise TypeError(f"expected a torch.Tensor, got {type(tensor).__name__}")
    return tensor.to(device)


def to_numpy(tensor: torch.Tensor) -> np.ndarray:
    """Bring a tensor back to NumPy (detached, on the CPU)."""
    if not isinstance(tensor, torch.Tensor):
        raise TypeError(f"expected a torch.Tensor, got {type(tensor).__name__}")
    return tensor.detach().cpu().numpy()


# --------------------------------------------------------------------------
# Audio -> tensor pipeline
# --------------------------------------------------------------------------
def _load_magnitude(path: str | os.PathLike, sr: int, n_fft: int, hop_length: int) -> np.ndarray:
    """Load mono audio and return its ``(1 + n_fft // 2, frames)`` float32 STFT magnitude."""
    if not os.path.exists(path):
        raise FileNotFoundError(f"audio file not found: {os.fspath(path)}")
    audio, _ = librosa.load(path, sr=sr, mono=True)
    magnitude = np.abs(librosa.stft(audio, n_fft=n_fft, hop_length=hop_length))
    return magnitude.astype(np.float32, copy=False)


def audio_to_tensor(
    path: str | os.PathLike,
    device: DeviceLike | None = None,
    sr: int = 22050,
    n_fft: int = 2048,
    hop_length: int = 512,
) -> torch.Tensor:
    """Audio file -> magnitude spectrogram tensor ``(1, 1, freq, time)`` on ``device``."""
    magnitude = _load_magnitude(path, sr, n_fft, hop_length)
    tensor = to_unet_input(numpy_to_tensor(magnitude))
    return tensor.to(select_device() if device is None else device)


# --------------------------------------------------------------------------
# Neural operations and autograd
# --------------------------------------------------------------------------
def simple_neural_operation(x: torch.Tensor) -> torch.Tensor:
    """Normalize along dim 2, apply ReLU, then 2x2 average pooling."""
    normalized = F.normalize(x, dim=2)
    activated = torch.relu(normalized)
    return F.avg_pool2d(activated, kernel_size=2)


def mse_gradient(prediction: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Gradient of ``F.mse_loss(prediction, target)`` w.r.t. ``prediction`` via autograd.

    Works on a detached clone, so the inputs and their ``.grad`` are untouched.
    """
    p = prediction.detach().clone().requires_grad_(True)
    with torch.enable_grad():
        loss = F.mse_loss(p, target.detach())
        (grad,) = torch.autograd.grad(loss, p)
    return grad


# --------------------------------------------------------------------------
# Batching
# --------------------------------------------------------------------------
def _crop_or_pad(spec: torch.Tensor, frames: int) -> torch.Tensor:
    """Crop or zero-pad the last (time) axis of ``spec`` to exactly ``frames``."""
    length = spec.shape[-1]
    if length >= frames:
        return spec[..., :frames]
    return F.pad(spec, (0, frames - length))


def _check_frames(frames: int) -> None:
    if frames < 1:
        raise ValueError(f"frames must be >= 1, got {frames}")


def batch_spectrograms(spectrograms: Sequence[ArrayOrTensor], frames: int) -> torch.Tensor:
    """Stack 2-D ``(F, T_i)`` spectrograms into a float32 ``(B, 1, F, frames)`` batch.

    Each item is cropped or zero-padded at the end of its time axis.
    """
    _check_frames(frames)
    items = list(spectrograms)
    if not items:
        raise ValueError("need at least one spectrogram")

    tensors = []
    for i, spec in enumerate(items):
        if isinstance(spec, np.ndarray):
            spec = numpy_to_tensor(spec)
        elif not isinstance(spec, torch.Tensor):
            raise TypeError(f"item {i}: expected ndarray or tensor, got {type(spec).__name__}")
        if spec.ndim != 2:
            raise ValueError(f"item {i}: expected a 2-D (freq, time) spectrogram, got shape {tuple(spec.shape)}")
        if spec.is_complex():
            raise ValueError(f"item {i}: complex input, take the magnitude (abs) first")
        tensors.append(spec.to(torch.float32))

    n_freq = {t.shape[0] for t in tensors}
    if len(n_freq) != 1:
        raise ValueError(f"all spectrograms need the same number of frequency bins, got {sorted(n_freq)}")

    return torch.stack([_crop_or_pad(t, frames) for t in tensors]).unsqueeze(1)


class SpectrogramDataset(Dataset):
    """Audio files -> fixed-size ``(1, freq, frames)`` magnitude spectrograms.

    Paths are checked at construction: a missing file raises ``FileNotFoundError``.
    """

    def __init__(
        self,
        paths: Sequence[str | os.PathLike],
        frames: int,
        sr: int = 22050,
        n_fft: int = 2048,
        hop_length: int = 512,
    ) -> None:
        _check_frames(frames)
        self.paths = list(paths)
        for path in self.paths:
            if not os.path.exists(path):
                raise FileNotFoundError(f"audio file not found: {os.fspath(path)}")
        self.frames = frames
        self.sr = sr
        self.n_fft = n_fft
        self.hop_length = hop_length

    def __len__(self) -> int:
        return len(self.paths)

    def __getitem__(self, index: int) -> torch.Tensor:
        magnitude = _load_magnitude(self.paths[index], self.sr, self.n_fft, self.hop_length)
        spec = _crop_or_pad(numpy_to_tensor(magnitude), self.frames)
        return spec.unsqueeze(0).contiguous()
