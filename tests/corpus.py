"""A class's Lab 4 hand-ins, written independently: the project's own corpus for similarity and class reports.

Each solution fills the stub's ``raise NotImplementedError(...)`` lines with its
own bodies (and adds its own helpers at the end), as a student hands the
stub back: the stub's text is everyone's, the bodies are each one's.  All of
them are correct (tests/test_similarity.py grades them: full marks), and
they were written apart, in three styles: ``careful`` checks everything
step by step, ``compact`` leans on one-liners, ``loops`` writes things out.
The reference solution (a file of its own, no stub text) is a fourth.

:func:`disguised` is what copying looks like: the same code with its local
variables renamed and its functions in another order.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
STUB = (REPO / "assignments" / "lab4" / "pytorch_basics.py").read_text(encoding="utf-8")
REFERENCE = (REPO / "reference" / "lab4" / "pytorch_basics.py").read_text(encoding="utf-8")

CAREFUL = {
    "select_device": '''
if prefer is None:
    if torch.cuda.is_available():
        return torch.device("cuda")
    if torch.backends.mps.is_available():
        return torch.device("mps")
    return torch.device("cpu")
if not isinstance(prefer, (str, torch.device)):
    raise TypeError("prefer should be a string or a torch.device")
try:
    wanted = torch.device(prefer)
except RuntimeError:
    raise RuntimeError(f"I do not know the device {prefer!r}")
if wanted.type == "cpu":
    return wanted
if wanted.type == "cuda":
    if not torch.cuda.is_available():
        raise RuntimeError(f"{prefer}: CUDA is not available on this machine")
    if wanted.index is not None and wanted.index >= torch.cuda.device_count():
        raise RuntimeError(f"{prefer}: there are only {torch.cuda.device_count()} GPUs")
    return wanted
if wanted.type == "mps":
    if not torch.backends.mps.is_available() or wanted.index not in (None, 0):
        raise RuntimeError(f"{prefer}: MPS is not available here")
    return wanted
raise RuntimeError(f"{prefer}: not a device this lab supports")
''',
    "setup_report": '''
has_cuda = torch.cuda.is_available()
report = {"torch_version": str(torch.__version__), "cuda_available": bool(has_cuda)}
if has_cuda:
    report["cuda_version"] = torch.version.cuda
    report["device_count"] = torch.cuda.device_count()
    report["device_name"] = torch.cuda.get_device_name(0)
else:
    report["cuda_version"] = None
    report["device_count"] = 0
    report["device_name"] = None
report["device"] = str(select_device())
return report
''',
    "numpy_to_tensor": '''
if not isinstance(array, np.ndarray):
    raise TypeError(f"numpy_to_tensor needs an ndarray, not {type(array)}")
kind = array.dtype.kind
if kind == "c":
    raise ValueError("this array is complex: use np.abs on the STFT first to get magnitudes")
if kind not in ("b", "i", "u", "f"):
    raise TypeError(f"numpy_to_tensor cannot convert dtype {array.dtype}")
negative = any(step < 0 for step in array.strides)
if array.dtype == np.float32 and array.dtype.isnative and array.flags.writeable and not negative:
    return torch.from_numpy(array)
return torch.from_numpy(np.ascontiguousarray(array, dtype=np.float32))
''',
    "to_unet_input": '''
if isinstance(x, np.ndarray):
    x = numpy_to_tensor(x)
if not isinstance(x, torch.Tensor):
    raise TypeError(f"to_unet_input needs an ndarray or a tensor, got {type(x)}")
dims = x.dim()
if dims == 2:
    return x[None, None, :, :]
elif dims == 3:
    return x[:, None, :, :]
elif dims == 4:
    return x
raise ValueError(f"cannot make a U-Net input from shape {tuple(x.shape)}")
''',
    "to_device": '''
if not isinstance(tensor, torch.Tensor):
    raise TypeError("to_device moves tensors only")
moved = tensor.to(device)
return moved
''',
    "to_numpy": '''
if not isinstance(tensor, torch.Tensor):
    raise TypeError("to_numpy takes a tensor")
on_cpu = tensor.detach().to("cpu")
return on_cpu.numpy()
''',
    "audio_to_tensor": '''
if not os.path.isfile(path):
    raise FileNotFoundError(f"no such audio file: {path}")
samples, rate = librosa.load(path, sr=sr, mono=True)
spectrum = librosa.stft(samples, n_fft=n_fft, hop_length=hop_length)
magnitude = np.abs(spectrum).astype(np.float32)
batch = to_unet_input(numpy_to_tensor(magnitude))
if device is None:
    device = select_device()
return batch.to(device)
''',
    "simple_neural_operation": '''
step1 = F.normalize(x, dim=2)
step2 = F.relu(step1)
step3 = F.avg_pool2d(step2, 2)
return step3
''',
    "mse_gradient": '''
leaf = prediction.detach().clone()
leaf.requires_grad_(True)
with torch.enable_grad():
    loss = F.mse_loss(leaf, target.detach())
    loss.backward()
return leaf.grad.detach()
''',
    "batch_spectrograms": '''
if frames < 1:
    raise ValueError("frames has to be at least 1")
items = list(spectrograms)
if len(items) == 0:
    raise ValueError("batch_spectrograms got an empty list")
converted = []
for spec in items:
    if isinstance(spec, np.ndarray):
        spec = numpy_to_tensor(spec)
    if spec.dim() != 2:
        raise ValueError(f"every spectrogram must be 2-D, this one is {tuple(spec.shape)}")
    converted.append(spec.float())
heights = set(int(spec.shape[0]) for spec in converted)
if len(heights) > 1:
    raise ValueError(f"spectrograms have different numbers of bins: {heights}")
fixed = [_fit_frames(spec, frames) for spec in converted]
return torch.stack(fixed, dim=0).unsqueeze(1)
''',
    "SpectrogramDataset.__init__": '''
if frames < 1:
    raise ValueError("frames has to be at least 1")
for path in paths:
    if not os.path.isfile(path):
        raise FileNotFoundError(f"missing audio file: {path}")
self.paths = list(paths)
self.frames = frames
self.sr, self.n_fft, self.hop_length = sr, n_fft, hop_length
''',
    "SpectrogramDataset.__len__": '''
return len(self.paths)
''',
    "SpectrogramDataset.__getitem__": '''
samples, _ = librosa.load(self.paths[index], sr=self.sr, mono=True)
magnitude = np.abs(librosa.stft(samples, n_fft=self.n_fft, hop_length=self.hop_length))
spec = numpy_to_tensor(magnitude.astype(np.float32))
return _fit_frames(spec, self.frames).unsqueeze(0)
''',
    "": '''
def _fit_frames(spec, frames):
    """Crop or zero-pad the time axis to exactly `frames`."""
    have = spec.shape[-1]
    if have > frames:
        return spec[:, :frames]
    if have < frames:
        return F.pad(spec, (0, frames - have))
    return spec
''',
}

COMPACT = {
    "select_device": '''
if prefer is None:
    return torch.device("cuda" if torch.cuda.is_available() else
                        "mps" if torch.backends.mps.is_available() else "cpu")
if not isinstance(prefer, (str, torch.device)):
    raise TypeError(type(prefer).__name__)
try:
    d = torch.device(prefer)
except Exception as e:
    raise RuntimeError(f"bad device {prefer}") from e
ok = {"cpu": True,
      "cuda": torch.cuda.is_available() and (d.index or 0) < torch.cuda.device_count(),
      "mps": torch.backends.mps.is_available() and not d.index}.get(d.type)
if not ok:
    raise RuntimeError(f"device {prefer} not available")
return d
''',
    "setup_report": '''
c = torch.cuda.is_available()
return dict(torch_version=str(torch.__version__), cuda_available=c, cuda_version=torch.version.cuda if c else None,
            device_count=torch.cuda.device_count() if c else 0,
            device_name=torch.cuda.get_device_name(0) if c else None, device=str(select_device()))
''',
    "numpy_to_tensor": '''
if type(array) is not np.ndarray and not isinstance(array, np.ndarray):
    raise TypeError("not an ndarray")
if np.iscomplexobj(array):
    raise ValueError("complex values: take np.abs first")
if not (np.issubdtype(array.dtype, np.number) or array.dtype == bool):
    raise TypeError(f"dtype {array.dtype} is not numeric")
if (array.dtype == np.float32 and array.dtype.byteorder in "=|" and array.flags.writeable
        and min(array.strides, default=0) >= 0):
    return torch.from_numpy(array)
return torch.tensor(array.astype(np.float32))
''',
    "to_unet_input": '''
t = numpy_to_tensor(x) if isinstance(x, np.ndarray) else x
if not torch.is_tensor(t):
    raise TypeError("expected array or tensor")
if not 2 <= t.ndim <= 4:
    raise ValueError(f"bad shape {tuple(t.shape)}")
while t.ndim < 4:
    t = t.unsqueeze(-3)
return t
''',
    "to_device": '''
if not torch.is_tensor(tensor):
    raise TypeError("tensor expected")
return tensor.to(device=device)
''',
    "to_numpy": '''
if not torch.is_tensor(tensor):
    raise TypeError("tensor expected")
return tensor.detach().cpu().numpy()
''',
    "audio_to_tensor": '''
if not os.path.exists(path):
    raise FileNotFoundError(str(path))
y = librosa.load(path, sr=sr)[0]
S = np.abs(librosa.stft(y, n_fft=n_fft, hop_length=hop_length))
return to_unet_input(numpy_to_tensor(S.astype("float32"))).to(device or select_device())
''',
    "simple_neural_operation": '''
return F.avg_pool2d(torch.relu(F.normalize(x, dim=2)), kernel_size=2)
''',
    "mse_gradient": '''
p = prediction.detach().clone().requires_grad_()
with torch.enable_grad():
    return torch.autograd.grad(F.mse_loss(p, target.detach()), p)[0]
''',
    "batch_spectrograms": '''
if frames < 1 or not spectrograms:
    raise ValueError("need frames >= 1 and at least one spectrogram")
ts = [numpy_to_tensor(s) if isinstance(s, np.ndarray) else s for s in spectrograms]
if any(t.ndim != 2 for t in ts) or len({t.shape[0] for t in ts}) != 1:
    raise ValueError(f"need 2-D spectrograms with equal F, got {[tuple(t.shape) for t in ts]}")
out = torch.zeros(len(ts), 1, ts[0].shape[0], frames)
for i, t in enumerate(ts):
    n = min(frames, t.shape[1])
    out[i, 0, :, :n] = t[:, :n]
return out
''',
    "SpectrogramDataset.__init__": '''
if frames < 1:
    raise ValueError("frames < 1")
missing = [p for p in paths if not os.path.exists(p)]
if missing:
    raise FileNotFoundError(f"not found: {missing[0]}")
self.files, self.frames, self.settings = list(paths), frames, dict(sr=sr, n_fft=n_fft, hop_length=hop_length)
''',
    "SpectrogramDataset.__len__": '''
return len(self.files)
''',
    "SpectrogramDataset.__getitem__": '''
s = self.settings
y = librosa.load(self.files[index], sr=s["sr"])[0]
S = np.abs(librosa.stft(y, n_fft=s["n_fft"], hop_length=s["hop_length"])).astype(np.float32)
out = torch.zeros(1, S.shape[0], self.frames)
n = min(self.frames, S.shape[1])
out[0, :, :n] = torch.from_numpy(S[:, :n])
return out
''',
}

LOOPS = {
    "select_device": '''
if prefer is None:
    for name, check in (("cuda", torch.cuda.is_available), ("mps", torch.backends.mps.is_available)):
        if check():
            return torch.device(name)
    return torch.device("cpu")
if isinstance(prefer, torch.device):
    device = prefer
elif isinstance(prefer, str):
    try:
        device = torch.device(prefer)
    except RuntimeError as error:
        raise RuntimeError("unknown device: " + prefer) from error
else:
    raise TypeError("prefer: expected str or torch.device")
available = False
if device.type == "cpu":
    available = True
elif device.type == "cuda" and torch.cuda.is_available():
    count = torch.cuda.device_count()
    available = device.index is None or device.index < count
elif device.type == "mps" and torch.backends.mps.is_available():
    available = device.index is None or device.index == 0
if not available:
    raise RuntimeError("device " + str(prefer) + " is not available")
return device
''',
    "setup_report": '''
info = {}
info["torch_version"] = str(torch.__version__)
info["cuda_available"] = torch.cuda.is_available()
info["cuda_version"] = None
info["device_count"] = 0
info["device_name"] = None
if info["cuda_available"]:
    info["cuda_version"] = torch.version.cuda
    info["device_count"] = torch.cuda.device_count()
    info["device_name"] = torch.cuda.get_device_name(0)
info["device"] = str(select_device())
return info
''',
    "numpy_to_tensor": '''
if not isinstance(array, np.ndarray):
    raise TypeError("expected numpy.ndarray")
if array.dtype.kind == "c":
    raise ValueError("complex array: apply np.abs to get the magnitude")
if array.dtype.kind not in "biuf":
    raise TypeError("unsupported dtype " + str(array.dtype))
shareable = array.dtype == np.dtype("float32") and array.flags["WRITEABLE"]
for stride in array.strides:
    if stride < 0 or stride % array.itemsize != 0:
        shareable = False
if shareable:
    return torch.from_numpy(array)
result = np.empty(array.shape, dtype=np.float32)
result[...] = array
return torch.from_numpy(result)
''',
    "to_unet_input": '''
if isinstance(x, np.ndarray):
    tensor = numpy_to_tensor(x)
elif isinstance(x, torch.Tensor):
    tensor = x
else:
    raise TypeError("to_unet_input: unsupported input type " + type(x).__name__)
if tensor.ndim == 4:
    return tensor
if tensor.ndim == 3:
    return tensor.reshape(tensor.shape[0], 1, tensor.shape[1], tensor.shape[2])
if tensor.ndim == 2:
    return tensor.reshape(1, 1, tensor.shape[0], tensor.shape[1])
raise ValueError("to_unet_input: shape " + str(tuple(tensor.shape)) + " is not 2-D, 3-D or 4-D")
''',
    "to_device": '''
if isinstance(tensor, torch.Tensor):
    return tensor.to(device)
raise TypeError("to_device: " + type(tensor).__name__ + " is not a tensor")
''',
    "to_numpy": '''
if isinstance(tensor, torch.Tensor):
    result = tensor
    if result.requires_grad:
        result = result.detach()
    if result.device.type != "cpu":
        result = result.cpu()
    return result.numpy()
raise TypeError("to_numpy: " + type(tensor).__name__ + " is not a tensor")
''',
    "audio_to_tensor": '''
if not os.path.exists(path):
    raise FileNotFoundError("file not found: " + str(path))
audio = librosa.load(path, sr=sr, mono=True)[0]
magnitude = np.abs(librosa.stft(audio, n_fft=n_fft, hop_length=hop_length)).astype(np.float32)
tensor = torch.from_numpy(magnitude).reshape(1, 1, magnitude.shape[0], magnitude.shape[1])
target = device
if target is None:
    target = select_device()
return tensor.to(target)
''',
    "simple_neural_operation": '''
normalized = torch.nn.functional.normalize(x, p=2.0, dim=2)
rectified = torch.clamp(normalized, min=0)
return torch.nn.functional.avg_pool2d(rectified, kernel_size=(2, 2))
''',
    "mse_gradient": '''
copy = prediction.detach().clone()
copy.requires_grad = True
with torch.enable_grad():
    difference = copy - target.detach()
    loss = (difference * difference).mean()
    gradient = torch.autograd.grad(loss, [copy])[0]
return gradient.detach()
''',
    "batch_spectrograms": '''
if frames < 1:
    raise ValueError("frames must be positive")
tensors = []
for item in spectrograms:
    if isinstance(item, np.ndarray):
        item = numpy_to_tensor(item)
    if item.ndim != 2:
        raise ValueError("each spectrogram needs 2 dimensions, got " + str(tuple(item.shape)))
    tensors.append(item.to(torch.float32))
if not tensors:
    raise ValueError("no spectrograms given")
bins = tensors[0].shape[0]
for tensor in tensors:
    if tensor.shape[0] != bins:
        raise ValueError("frequency bins differ: " + str(bins) + " and " + str(tensor.shape[0]))
rows = []
for tensor in tensors:
    length = tensor.shape[1]
    if length >= frames:
        rows.append(tensor[:, :frames])
    else:
        padding = torch.zeros(bins, frames - length, dtype=torch.float32)
        rows.append(torch.cat([tensor, padding], dim=1))
return torch.stack(rows).reshape(len(rows), 1, bins, frames)
''',
    "SpectrogramDataset.__init__": '''
if frames < 1:
    raise ValueError("frames must be positive")
self.items = []
for path in paths:
    if not os.path.exists(path):
        raise FileNotFoundError("file not found: " + str(path))
    self.items.append(path)
self.frames = frames
self.sr = sr
self.n_fft = n_fft
self.hop_length = hop_length
''',
    "SpectrogramDataset.__len__": '''
count = 0
for _ in self.items:
    count += 1
return count
''',
    "SpectrogramDataset.__getitem__": '''
audio = librosa.load(self.items[index], sr=self.sr, mono=True)[0]
magnitude = np.abs(librosa.stft(audio, n_fft=self.n_fft, hop_length=self.hop_length)).astype(np.float32)
length = magnitude.shape[1]
if length >= self.frames:
    magnitude = magnitude[:, :self.frames]
else:
    magnitude = np.concatenate([magnitude, np.zeros((magnitude.shape[0], self.frames - length), np.float32)], 1)
return torch.from_numpy(np.ascontiguousarray(magnitude)).reshape(1, magnitude.shape[0], self.frames)
''',
}

SOLUTIONS = {"careful": CAREFUL, "compact": COMPACT, "loops": LOOPS}


def fill(bodies: dict[str, str], stub: str = STUB) -> str:
    """The stub with each function's ``raise NotImplementedError(...)`` replaced by its body
    (``bodies[""]``: helpers added at the end)."""
    lines = stub.splitlines()
    current, out = "", []
    for line in lines:
        definition = re.match(r"(\s*)(?:def|class) (\w+)", line)
        if definition:
            indent, name = definition.groups()
            current = f"{current.split('.')[0]}.{name}" if indent and current else name
        stripped = line.strip()
        if stripped.startswith("raise NotImplementedError(") and current in bodies:
            indent = line[: len(line) - len(line.lstrip())]
            out += [indent + body_line if body_line else "" for body_line in bodies[current].strip("\n").splitlines()]
        else:
            out.append(line)
    return "\n".join(out) + "\n" + bodies.get("", "")


def solution(name: str) -> str:
    """One student's whole file: ``careful``, ``compact``, ``loops``, or ``reference``."""
    return REFERENCE if name == "reference" else fill(SOLUTIONS[name])


def disguised(source: str) -> str:
    """``source`` as a copier hands it in: local variables renamed, top-level functions reversed,
    comments gone and the layout redone (``ast.unparse``). Behaviour is unchanged."""
    tree = ast.parse(source)
    for function in ast.walk(tree):
        if isinstance(function, (ast.FunctionDef, ast.AsyncFunctionDef)):
            _rename_locals(function)
    functions = [node for node in tree.body if isinstance(node, (ast.FunctionDef, ast.ClassDef))]
    order = iter(reversed(functions))
    tree.body = [next(order) if isinstance(node, (ast.FunctionDef, ast.ClassDef)) else node for node in tree.body]
    return ast.unparse(tree) + "\n"


def _rename_locals(function: ast.FunctionDef) -> None:
    parameters = {a.arg for a in function.args.args + function.args.kwonlyargs}
    assigned = {node.id for node in ast.walk(function) if isinstance(node, ast.Name)
                and isinstance(node.ctx, ast.Store) and node.id not in parameters}
    names = {old: f"my_{old.strip('_')}_value" for old in assigned}
    for node in ast.walk(function):
        if isinstance(node, ast.Name) and node.id in names:
            node.id = names[node.id]
