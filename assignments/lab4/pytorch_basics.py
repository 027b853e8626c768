"""Lab 4: PyTorch Essentials -- student assignment.

From NumPy arrays to GPU-accelerated tensors. In Labs 1-3 you loaded audio
with librosa, processed it with NumPy and turned it into a magnitude
spectrogram with ``librosa.stft``. In this lab you turn that spectrogram into
a PyTorch tensor that U-Net (Lab 5) can process:

    Audio file
       | [Lab 1: librosa.load()]
    NumPy array (waveform)
       | [Lab 3: librosa.stft() + np.abs()]
    NumPy array (spectrogram, shape (freq, time))
       | [Lab 4: torch.from_numpy()]
    PyTorch tensor (CPU)
       | [Lab 4: .unsqueeze(0) -> (batch, channels, freq, time)]
       | [Lab 4: .to(device)]
    PyTorch tensor (GPU if available)

Key ideas from the lecture:

* A tensor is PyTorch's version of a NumPy array.
* ``torch.from_numpy`` shares memory with the array (no copy).
* ``.to(device)`` moves a tensor to the GPU; ``.cpu().numpy()`` brings it back.
* U-Net expects a 4-D tensor: ``(batch, channels, freq, time)``.
* "Spectrograms are just 2D images!" -- the image tools (ReLU, pooling,
  ``Dataset``/``DataLoader``, autograd) transfer directly to audio.

Replace every ``raise NotImplementedError(...)`` with your implementation.
Do not print anything from these functions -- return values instead.
Keep the function names and signatures exactly as they are: the grader
imports them.
"""

from __future__ import annotations

import os
from typing import Sequence

import librosa  # noqa: F401  (you will need it for audio_to_tensor)
import numpy as np
import torch
import torch.nn.functional as F  # noqa: F401
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
# Part 1: Devices
# --------------------------------------------------------------------------
def select_device(prefer: DeviceLike | None = None) -> torch.device:
    """Choose the device to run on (GPU if available, CPU otherwise).

    Parameters
    ----------
    prefer : str or torch.device, optional
        A specific device to ask for: ``"cpu"``, ``"cuda"``, ``"cuda:0"``,
        ``"cuda:1"``, ..., ``"mps"`` (also ``"mps:0"``: Apple silicon has a
        single MPS device) or a ``torch.device``. If omitted, pick the best
        available device automatically.

    Returns
    -------
    torch.device
        Without ``prefer``: ``torch.device("cuda")`` if
        ``torch.cuda.is_available()``, otherwise ``torch.device("mps")`` if
        ``torch.backends.mps.is_available()`` (Apple silicon), otherwise
        ``torch.device("cpu")``.
        With ``prefer``: ``torch.device(prefer)``, if that device is available.

    Raises
    ------
    RuntimeError
        If ``prefer`` names a device that is not available (e.g. ``"cuda"``
        on a machine without a GPU, or ``"cuda:3"`` when
        ``torch.cuda.device_count()`` is 2), or a device string torch does not
        know. The message must name the requested device.

    Hints
    -----
    * Lecture: ``device = torch.device('cuda' if torch.cuda.is_available() else 'cpu')``.
      Extend it with the ``mps`` fallback.
    * Call ``torch.cuda.is_available()`` and
      ``torch.backends.mps.is_available()`` inside the function, every time
      it is called -- do not cache them in module-level variables (the grader
      simulates GPUs by patching these functions).
    * ``torch.device("cuda:1")`` has ``.type == "cuda"`` and ``.index == 1``;
      ``torch.device("cuda")`` has ``.index`` ``None``. The CPU is always
      available.
    * ``torch.device("foo")`` itself raises ``RuntimeError`` -- catch it and
      raise your own with a clearer message.
    """
    raise NotImplementedError("select_device: pick cuda, then mps, then cpu (or check `prefer`)")


def setup_report() -> dict:
    """Describe the PyTorch setup -- the lecture's "=== PyTorch Setup ===" check as a dict.

    Returns
    -------
    dict
        With exactly these keys:

        ``"torch_version"`` : str
            ``torch.__version__`` as a string.
        ``"cuda_available"`` : bool
            ``torch.cuda.is_available()``.
        ``"cuda_version"`` : str or None
            ``torch.version.cuda``, or ``None`` when CUDA is not available.
        ``"device_count"`` : int
            ``torch.cuda.device_count()``, or ``0`` when CUDA is not available.
        ``"device_name"`` : str or None
            ``torch.cuda.get_device_name(0)`` (e.g. "NVIDIA GeForce RTX 2070
            Super Max-Q"), or ``None`` when CUDA is not available.
        ``"device"`` : str
            ``str(select_device())``, e.g. ``"cuda"`` or ``"cpu"``.

    Hints
    -----
    * Same checks as ``check_pytorch_setup()`` from the lecture -- but
      return them instead of printing them.
    * Only ask CUDA for its version / GPU name when
      ``torch.cuda.is_available()`` is True.
    """
    raise NotImplementedError("setup_report: return the PyTorch/CUDA facts as a dict")


# --------------------------------------------------------------------------
# Part 2: NumPy <-> PyTorch
# --------------------------------------------------------------------------
def numpy_to_tensor(array: np.ndarray) -> torch.Tensor:
    """Convert a NumPy array (e.g. a spectrogram) into a float32 PyTorch tensor.

    Parameters
    ----------
    array : numpy.ndarray
        A numeric array: bool, integer or floating point, any shape.

    Returns
    -------
    torch.Tensor
        A ``torch.float32`` tensor with the same shape and values, on the CPU.
        If ``array`` is already float32 (native byte order, writable) with
        non-negative strides -- including non-contiguous views such as
        ``a[:, ::2]``, transposes and Fortran-ordered arrays
        (``np.asfortranarray``) -- the tensor must **share memory** with it:
        after ``t = numpy_to_tensor(a); a[0, 0] = 5`` you get
        ``t[0, 0] == 5``. Any other input (float64, float16, ints, bool,
        negative strides such as ``a[::-1]``) is converted with a copy.

    Raises
    ------
    TypeError
        If ``array`` is not a ``numpy.ndarray`` (a list, a tensor, ...) or
        has a non-numeric dtype (object, str, datetime).
    ValueError
        If ``array`` is complex (e.g. the raw output of ``librosa.stft``);
        the message should tell the user to take ``np.abs`` first to get the
        magnitude spectrogram.

    Hints
    -----
    * Lecture: ``tensor = torch.from_numpy(spectrogram_data)`` --
      ``torch.from_numpy`` shares memory with the array (no copy), which is
      why it is fast.
    * ``torch.from_numpy`` refuses arrays with negative strides; check
      ``array.strides`` and make a contiguous float32 copy in that case
      (``np.ascontiguousarray`` / ``np.array(..., dtype=np.float32)``).
    * ``array.dtype.kind`` is ``"b"`` (bool), ``"i"``/``"u"`` (ints),
      ``"f"`` (floats), ``"c"`` (complex), ``"O"``, ``"U"``, ``"M"``, ...
    * ``torch.from_numpy(x).float()`` (lecture) copies whenever ``x`` is not
      already float32 -- fine for float64, but make sure float32 input is
      not copied.
    """
    raise NotImplementedError("numpy_to_tensor: use torch.from_numpy (it shares memory)")


def to_unet_input(x: ArrayOrTensor) -> torch.Tensor:
    """Add the batch and channel dimensions U-Net expects.

    U-Net expects shape ``(batch, channels, freq, time)``; a spectrogram has a
    single channel.

    Parameters
    ----------
    x : numpy.ndarray or torch.Tensor
        A spectrogram ``(freq, time)``, a stack of spectrograms
        ``(batch, freq, time)``, or an already 4-D tensor.

    Returns
    -------
    torch.Tensor
        * 2-D ``(F, T)``    -> ``(1, 1, F, T)``
        * 3-D ``(B, F, T)`` -> ``(B, 1, F, T)``
        * 4-D               -> returned unchanged
        For a tensor input the result is a view of it (no copy, same dtype
        and device). An ndarray input is first converted with
        ``numpy_to_tensor`` (so it becomes float32).

    Raises
    ------
    ValueError
        For any other number of dimensions; the message must include the
        shape.
    TypeError
        If ``x`` is neither an ndarray nor a tensor.

    Hints
    -----
    * Lecture: ``tensor.unsqueeze(0).unsqueeze(0)  # Add batch and channel dims``.
      ``unsqueeze(0)`` adds the batch dimension at the front;
      ``unsqueeze(1)`` adds the channel dimension after the batch.
    * ``unsqueeze`` returns a view -- it never copies data.
    """
    raise NotImplementedError("to_unet_input: unsqueeze to (batch, channels, freq, time)")


def to_device(tensor: torch.Tensor, device: DeviceLike) -> torch.Tensor:
    """Move a tensor to a device (CPU or GPU).

    Parameters
    ----------
    tensor : torch.Tensor
        The tensor to move.
    device : str or torch.device
        Where to move it, e.g. ``"cpu"``, ``"cuda"`` or ``select_device()``.

    Returns
    -------
    torch.Tensor
        The tensor on ``device`` (the same tensor if it is already there).

    Raises
    ------
    TypeError
        If ``tensor`` is not a ``torch.Tensor``.

    Hints
    -----
    * Lecture: ``tensor_gpu = tensor.to(device)`` -- ``.to(device)`` moves
      the tensor to the GPU.
    """
    raise NotImplementedError("to_device: use tensor.to(device)")


def to_numpy(tensor: torch.Tensor) -> np.ndarray:
    """Bring a tensor back to NumPy (for saving / visualisation).

    Parameters
    ----------
    tensor : torch.Tensor
        Any tensor: on the CPU or the GPU, with or without
        ``requires_grad=True``.

    Returns
    -------
    numpy.ndarray
        The tensor's values as a NumPy array.

    Raises
    ------
    TypeError
        If ``tensor`` is not a ``torch.Tensor``.

    Hints
    -----
    * Lecture: ``result = tensor_processed.cpu().numpy()`` -- "move back to
      CPU for saving". NumPy cannot read GPU memory.
    * ``.numpy()`` also refuses tensors that require grad: call
      ``.detach()`` first.
    """
    raise NotImplementedError("to_numpy: detach, move to the CPU, then .numpy()")


# --------------------------------------------------------------------------
# Part 3: The complete audio -> tensor pipeline (Labs 1-4)
# --------------------------------------------------------------------------
def audio_to_tensor(
    path: str | os.PathLike,
    device: DeviceLike | None = None,
    sr: int = 22050,
    n_fft: int = 2048,
    hop_length: int = 512,
) -> torch.Tensor:
    """Audio file -> magnitude spectrogram tensor, ready for U-Net.

    Parameters
    ----------
    path : str or os.PathLike
        Path of an audio file (e.g. a .wav).
    device : str or torch.device, optional
        Where the result should live; defaults to ``select_device()``.
    sr : int
        Sample rate to load at (Lab 1), default 22050.
    n_fft : int
        FFT size for the STFT (Lab 3), default 2048.
    hop_length : int
        STFT hop length (Lab 3), default 512.

    Returns
    -------
    torch.Tensor
        float32 magnitude spectrogram of shape
        ``(1, 1, 1 + n_fft // 2, 1 + len(audio) // hop_length)`` --
        ``(batch, channels, freq, time)`` -- on ``device``. With the
        defaults, a 30 s clip (661500 samples) gives ``(1, 1, 1025, 1 + 661500 // 512)`` = ``(1, 1, 1025, 1292)``.

    Raises
    ------
    FileNotFoundError
        If ``path`` does not exist (check this *before* calling librosa);
        the message must contain the path.

    Hints
    -----
    * Step 1 (Lab 1): ``audio, sr = librosa.load(path, sr=sr, mono=True)``.
    * Step 3 (Lab 3): ``magnitude = np.abs(librosa.stft(audio, n_fft=n_fft,
      hop_length=hop_length))`` (keep librosa's other defaults).
    * Step 4 (Lab 4): reuse ``numpy_to_tensor`` and ``to_unet_input``, then
      ``.to(device)``.
    """
    raise NotImplementedError("audio_to_tensor: librosa.load -> stft -> abs -> tensor -> unsqueeze -> .to(device)")


# --------------------------------------------------------------------------
# Part 4: Neural network operations and autograd
# --------------------------------------------------------------------------
def simple_neural_operation(x: torch.Tensor) -> torch.Tensor:
    """Apply the lecture's normalize -> ReLU -> average-pool sequence.

    Parameters
    ----------
    x : torch.Tensor
        A float tensor of shape ``(batch, channels, freq, time)``.

    Returns
    -------
    torch.Tensor
        ``avg_pool2d(relu(normalize(x, dim=2)), kernel_size=2)``: shape
        ``(batch, channels, freq // 2, time // 2)``, on the same device.

    Hints
    -----
    * Lecture (``simple_neural_operation``):
      ``torch.nn.functional.normalize(tensor, dim=2)`` (normalise along the
      frequency axis), then ``torch.relu``, then
      ``torch.nn.functional.avg_pool2d(..., kernel_size=2)``.
    * Same as the lecture, but without the prints.
    """
    raise NotImplementedError("simple_neural_operation: normalize(dim=2) -> relu -> avg_pool2d(2)")


def mse_gradient(prediction: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Use autograd to compute d(MSE loss)/d(prediction).

    Parameters
    ----------
    prediction : torch.Tensor
        A float tensor, e.g. a predicted spectrogram/mask.
    target : torch.Tensor
        A tensor of the same shape.

    Returns
    -------
    torch.Tensor
        The gradient of ``F.mse_loss(prediction, target)`` (mean reduction)
        with respect to ``prediction``: same shape as ``prediction``, with
        no grad attached (``requires_grad`` False). Neither input, nor its
        ``.grad``, may be modified.

    Hints
    -----
    * Lecture (autograd): "Gradients calculated automatically!" --
      ``x = torch.randn(3, requires_grad=True); y = x * 2;
      y.backward(torch.ones_like(y)); x.grad``.
    * Work on a copy so you do not touch the caller's tensors:
      ``p = prediction.detach().clone().requires_grad_(True)``.
    * Then compute the loss on ``p`` and call ``loss.backward()`` (or use
      ``torch.autograd.grad(loss, p)``) and return ``p.grad``.
    * Make it work even if the caller is inside ``torch.no_grad()``
      (``torch.enable_grad()``).
    * Check yourself: the answer is ``2 * (prediction - target) / N`` where
      ``N`` is the number of elements.
    """
    raise NotImplementedError("mse_gradient: detach().clone().requires_grad_(True), then backward()")


# --------------------------------------------------------------------------
# Part 5: Batching spectrograms (DataLoader preview)
# --------------------------------------------------------------------------
def batch_spectrograms(spectrograms: Sequence[ArrayOrTensor], frames: int) -> torch.Tensor:
    """Stack spectrograms of different lengths into one U-Net batch.

    Parameters
    ----------
    spectrograms : sequence of numpy.ndarray or torch.Tensor
        2-D magnitude spectrograms ``(F, T_i)``; all must have the same
        number of frequency bins ``F``, the lengths ``T_i`` may differ.
    frames : int
        Number of time frames every item should have.

    Returns
    -------
    torch.Tensor
        float32 tensor of shape ``(B, 1, F, frames)`` where
        ``B = len(spectrograms)``. Items longer than ``frames`` are cropped
        (keep the first ``frames`` frames); shorter ones are zero-padded at
        the end of the time axis.

    Raises
    ------
    ValueError
        If the list is empty, an item is not 2-D, the items have different
        ``F``, or ``frames < 1``.

    Hints
    -----
    * A batch must be a single rectangular tensor, so every item needs the
      same ``(F, frames)`` shape before stacking.
    * Write one small crop/pad helper: slicing ``spec[:, :frames]`` crops;
      ``torch.nn.functional.pad(spec, (0, frames - T))`` pads the last axis
      at the end with zeros. You can reuse it in ``SpectrogramDataset``.
    * ``torch.stack`` adds the batch dimension; ``unsqueeze(1)`` adds the
      channel dimension: U-Net expects ``(batch, channels, freq, time)``.
    """
    raise NotImplementedError("batch_spectrograms: crop/pad each to `frames`, stack, unsqueeze(1)")


class SpectrogramDataset(Dataset):
    """A ``torch.utils.data.Dataset`` of fixed-size magnitude spectrograms.

    ``DataLoader(SpectrogramDataset(paths, frames), batch_size=B)`` yields
    batches of shape ``(B, 1, 1 + n_fft // 2, frames)`` -- exactly what U-Net
    expects.

    Parameters
    ----------
    paths : sequence of str or os.PathLike
        Audio files, one item per file.
    frames : int
        Number of time frames per item (crop / zero-pad at the end).
    sr, n_fft, hop_length : int
        Loading and STFT settings, as in ``audio_to_tensor``.

    Raises
    ------
    ValueError
        From ``__init__`` if ``frames < 1``.
    FileNotFoundError
        From ``__init__`` if any path does not exist (checked up front, so a
        typo fails immediately rather than in the middle of an epoch); the
        message must contain the path.

    Hints
    -----
    * Lecture backup slide "DataLoader Preview": store the file list in
      ``__init__``, return ``len(self.files)`` from ``__len__`` and load and
      process one file in ``__getitem__``.
    * Load lazily: ``__init__`` only stores paths and settings; the audio is
      read in ``__getitem__``.
    """

    def __init__(
        self,
        paths: Sequence[str | os.PathLike],
        frames: int,
        sr: int = 22050,
        n_fft: int = 2048,
        hop_length: int = 512,
    ) -> None:
        """Store the paths and settings; validate ``frames`` and the paths.

        Raises ``ValueError`` if ``frames < 1`` and ``FileNotFoundError``
        (naming the path) if any path does not exist.
        """
        raise NotImplementedError("SpectrogramDataset.__init__: store paths and settings, validate them")

    def __len__(self) -> int:
        """Return the number of audio files."""
        raise NotImplementedError("SpectrogramDataset.__len__: one item per path")

    def __getitem__(self, index: int) -> torch.Tensor:
        """Return item ``index``: a float32 CPU tensor ``(1, 1 + n_fft // 2, frames)``.

        Load and transform the file exactly as ``audio_to_tensor`` does
        (``librosa.load`` at ``sr``, mono, ``np.abs(librosa.stft(...))``),
        but keep it on the CPU -- the training loop moves whole batches with
        ``.to(device)``. Crop or zero-pad the time axis at the end to
        ``frames`` (as ``batch_spectrograms`` does) and add only the channel
        dimension: the ``DataLoader`` adds the batch dimension when it stacks
        items.
        """
        raise NotImplementedError("SpectrogramDataset.__getitem__: load -> stft -> abs -> crop/pad -> (1, F, frames)")
