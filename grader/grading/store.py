"""Recorded expected values as data: a lab's calls to its reference, their arguments and results.

A call is keyed by its name and a fingerprint of its arguments, not by the check that makes
it (see :mod:`grader.grading.reference`).  Stored as ``index.json`` (the calls, their arguments
and values as tagged JSON) and ``values.npz`` (arrays, read with ``allow_pickle=False``):
reading a store runs no code.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path, PurePath
from typing import Any

import numpy as np

from grader.course.labs import Lab
from grader.errors import SetupError

FORMAT = 1
INDEX, ARRAYS = "index.json", "values.npz"
ARGUMENT_BYTES = 64 << 10   # larger arguments (a model's weights) are kept as their digest only: matched exactly
MISMATCH = "this release does not match its suite: rebuild it"


class ReleaseMismatch(SetupError):
    """The store cannot answer this suite: a call it never saw, or another suite or hypothesis."""


class Unrecordable(TypeError):
    """A value that is not data (an object, an open file): it cannot be stored or fingerprinted."""


# ------------------------------------------------------------------ values as tagged JSON + arrays
def _digest(*parts: bytes) -> str:
    hasher = hashlib.sha256()
    for part in parts:
        hasher.update(len(part).to_bytes(8, "little"))
        hasher.update(part)
    return hasher.hexdigest()


def _canonical(tree: Any) -> bytes:
    return json.dumps(tree, sort_keys=True, separators=(",", ":"), allow_nan=False).encode()


class Codec:
    """Turns data into tagged JSON, its arrays into ``arrays`` (by content digest), and back.

    ``clips``: the folder of generated clips (a temporary folder): a path under it is
    written as its name there, so the same call fingerprints alike on every run.
    """

    def __init__(self, arrays: dict[str, np.ndarray], clips: Path | None = None) -> None:
        self.arrays, self.clips = arrays, clips

    def _array(self, array: np.ndarray) -> str:
        if array.dtype.hasobject:
            raise Unrecordable("an array of Python objects")
        array = np.ascontiguousarray(array)
        key = "a" + _digest(array.dtype.str.encode(), repr(array.shape).encode(), array.tobytes())[:40]
        self.arrays.setdefault(key, array)
        return key

    def encode(self, value: Any) -> Any:
        import torch

        if value is None or type(value) is bool:
            return value
        if type(value) is str:
            return self._path(value)
        if isinstance(value, np.generic):
            return {"t": "npscalar", "v": np.asarray(value).dtype.str, "hex": np.asarray(value).tobytes().hex()}
        if isinstance(value, bool):
            return bool(value)
        if isinstance(value, int):
            return {"t": "int", "v": str(int(value))}
        if isinstance(value, float):
            return {"t": "float", "v": float(value).hex()}
        if isinstance(value, complex):
            return {"t": "complex", "v": [value.real.hex(), value.imag.hex()]}
        if isinstance(value, str):
            return self._path(str(value))
        if isinstance(value, np.ndarray):
            return {"t": "ndarray", "v": self._array(value)}
        if isinstance(value, torch.Tensor):
            return self._tensor(value)
        if isinstance(value, torch.device):
            return {"t": "device", "v": str(value)}
        if isinstance(value, torch.dtype):
            return {"t": "torch_dtype", "v": str(value).removeprefix("torch.")}
        if isinstance(value, np.dtype):
            return {"t": "np_dtype", "v": value.str}
        if isinstance(value, tuple):
            return {"t": "tuple", "v": [self.encode(v) for v in value]}
        if isinstance(value, list):
            return {"t": "list", "v": [self.encode(v) for v in value]}
        if isinstance(value, dict):
            return {"t": "dict", "v": [[self.encode(k), self.encode(v)] for k, v in value.items()]}
        if isinstance(value, PurePath):
            return {"t": "path", "v": self._path(str(value))}
        if callable(value) and getattr(value, "__qualname__", None) and getattr(value, "__module__", None):
            return {"t": "callable", "v": f"{value.__module__}.{value.__qualname__}"}  # np.max: an argument by its name
        raise Unrecordable(f"a {type(value).__module__}.{type(value).__qualname__}")

    def _path(self, text: str) -> Any:
        if self.clips is not None and text.startswith(str(self.clips) + "/"):
            return {"t": "clip", "v": text[len(str(self.clips)) + 1:]}
        return text

    def _tensor(self, tensor: Any) -> dict:
        import torch

        if tensor.layout != torch.strided or getattr(tensor, "is_nested", False):
            raise Unrecordable(f"a {tensor.layout} tensor")
        tree = {"t": "tensor", "v": None, "dtype": str(tensor.dtype).removeprefix("torch."), "shape": list(tensor.shape),
                "device": str(tensor.device), "requires_grad": bool(tensor.requires_grad)}
        if tensor.device.type != "meta":
            data = tensor.detach().cpu().contiguous()
            try:
                tree["v"] = self._array(data.numpy())
            except TypeError:   # bfloat16 and other dtypes NumPy lacks: their bytes
                tree["v"], tree["raw"] = self._array(data.reshape(-1).view(torch.uint8).numpy()), True
        return tree

    # ------------------------------------------------------------------ decoding
    def decode(self, tree: Any) -> Any:
        if tree is None or isinstance(tree, (bool, str)):
            return tree
        if tree.get("t") not in _TAGS:
            raise ValueError(f"not a stored value: {str(tree)[:80]}")
        return getattr(self, "_decode_" + tree["t"])(tree, tree["v"])

    def _decode_npscalar(self, tree, body):
        return np.frombuffer(bytes.fromhex(tree["hex"]), dtype=np.dtype(body))[0].copy()

    def _decode_int(self, tree, body):
        return int(body)

    def _decode_float(self, tree, body):
        return float.fromhex(body)

    def _decode_complex(self, tree, body):
        return complex(float.fromhex(body[0]), float.fromhex(body[1]))

    def _decode_ndarray(self, tree, body):
        return np.array(self.arrays[body])   # a fresh, writable copy every time

    def _decode_tensor(self, tree, body):
        import torch

        dtype = getattr(torch, tree["dtype"])
        if body is None:
            result = torch.empty(tree["shape"], dtype=dtype, device=tree["device"])
        else:
            data = torch.from_numpy(np.array(self.arrays[body]))
            result = data.view(dtype).reshape(tree["shape"]) if tree.get("raw") else data
            if tree["device"] != "cpu":
                with contextlib.suppress(RuntimeError, AssertionError):  # a device this machine lacks: CPU values
                    result = result.to(tree["device"])
        return result.requires_grad_(True) if tree["requires_grad"] and result.is_floating_point() else result

    def _decode_device(self, tree, body):
        import torch

        return torch.device(body)

    def _decode_torch_dtype(self, tree, body):
        import torch

        return getattr(torch, body)

    def _decode_np_dtype(self, tree, body):
        return np.dtype(body)

    def _decode_tuple(self, tree, body):
        return tuple(self.decode(v) for v in body)

    def _decode_list(self, tree, body):
        return [self.decode(v) for v in body]

    def _decode_dict(self, tree, body):
        return {self.decode(k): self.decode(v) for k, v in body}

    def _decode_clip(self, tree, body):
        return str(self.clips / body) if self.clips is not None else body

    def _decode_path(self, tree, body):
        return Path(self.decode(body))

    def _decode_callable(self, tree, body):
        return body


_TAGS = {"npscalar", "int", "float", "complex", "ndarray", "tensor", "device", "torch_dtype", "np_dtype",
         "tuple", "list", "dict", "clip", "path", "callable"}


def fingerprint(args: tuple, kwargs: dict, clips: Path | None = None) -> str:
    """A digest of a call's arguments, stable across runs and machines (see :class:`Codec`)."""
    tree, _ = encode_arguments(args, kwargs, clips)
    return _digest(_canonical(tree))


def encode_arguments(args: tuple, kwargs: dict, clips: Path | None) -> tuple[Any, dict[str, np.ndarray]]:
    arrays: dict[str, np.ndarray] = {}
    codec = Codec(arrays, clips)
    return codec.encode((tuple(args), dict(sorted(kwargs.items())))), arrays


# ------------------------------------------------------------------ the store
@dataclass
class Store:
    """Recorded calls of one lab: ``calls[name][fingerprint] = {"args": tree, "value": digest, "check": id}``."""

    lab: str
    hypothesis: str
    suite: str
    calls: dict[str, dict[str, dict]] = field(default_factory=dict)
    values: dict[str, Any] = field(default_factory=dict)
    arrays: dict[str, np.ndarray] = field(default_factory=dict)   # by content digest

    @classmethod
    def new(cls, lab: Lab) -> "Store":
        return cls(lab.name, hypothesis_version(), suite_hash(lab))

    def find(self, name: str, fp: str) -> dict | None:
        return self.calls.get(name, {}).get(fp)

    def nearest(self, name: str, args: Any, arrays: dict[str, np.ndarray]) -> dict | None:
        """A recorded call whose arguments differ from ``args`` only in the last bits of floats.

        Inputs made with transcendental functions (np.sin, a normal sampler's log) can differ
        by an ulp on another CPU or libm; their expected values do not, within any check's tolerance.
        """
        for entry in self.calls.get(name, {}).values():
            if _near(args, arrays, entry["args"], self.arrays):
                return entry
        return None

    def add(self, name: str, fp: str, args: Any, args_arrays: dict, value: Any, check: str) -> str:
        """Store one call; returns its value's digest (the same value is stored once)."""
        arrays: dict[str, np.ndarray] = {}
        tree = Codec(arrays).encode(value)
        digest = "v" + _digest(_canonical(tree))[:40]
        kept = {key: array for key, array in args_arrays.items() if array.nbytes <= ARGUMENT_BYTES}
        for key, array in {**kept, **arrays}.items():
            self.arrays.setdefault(key, array)
        self.values.setdefault(digest, tree)
        self.calls.setdefault(name, {})[fp] = {"args": args, "value": digest, "check": check}
        return digest

    def value(self, digest: str, clips: Path | None = None) -> Any:
        return Codec(self.arrays, clips).decode(self.values[digest])

    def count(self) -> int:
        return sum(len(by_fp) for by_fp in self.calls.values())

    def save(self, folder: Path, compressed: bool = True) -> Path:
        """Write the store into ``folder``; ``compressed=False`` trades disk for reading speed (a cache)."""
        folder.mkdir(parents=True, exist_ok=True)
        index = {"format": FORMAT, "lab": self.lab, "hypothesis": self.hypothesis, "suite": self.suite,
                 "calls": self.calls, "values": self.values}
        (folder / INDEX).write_text(json.dumps(index, sort_keys=True, indent=0), encoding="utf-8")
        used = _arrays_used(index)
        write = np.savez_compressed if compressed else np.savez
        write(folder / ARRAYS, **{key: self.arrays[key] for key in sorted(used) if key in self.arrays})
        return folder

    @classmethod
    def load(cls, folder: Path) -> "Store":
        try:
            index = json.loads((folder / INDEX).read_text(encoding="utf-8"))
            with np.load(folder / ARRAYS, allow_pickle=False) as npz:   # read once: a check decodes many times
                arrays = {key: npz[key] for key in npz.files}
        except (OSError, ValueError) as exc:
            raise ReleaseMismatch(f"{MISMATCH} (its expected values in {folder} cannot be read: {exc})") from None
        if index.get("format") != FORMAT:
            raise ReleaseMismatch(f"{MISMATCH} ({folder / INDEX} has format {index.get('format')}, "
                                  f"this grader reads {FORMAT})")
        return cls(index["lab"], index["hypothesis"], index["suite"], index["calls"], index["values"], arrays)


NEAR = {"rtol": 1e-6, "atol_of_max": 1e-6}   # far below every check's tolerance, far above an ulp


def _near(a: Any, a_arrays: Any, b: Any, b_arrays: Any) -> bool:
    """``a`` and ``b`` (encoded arguments) have the same shape and differ at most in float rounding."""
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(_near(x, a_arrays, y, b_arrays) for x, y in zip(a, b))
    if not (isinstance(a, dict) and isinstance(b, dict)) or a.get("t") != b.get("t"):
        return a == b
    if a["t"] == "float":
        x, y = float.fromhex(a["v"]), float.fromhex(b["v"])
        return x == y or abs(x - y) <= NEAR["rtol"] * max(abs(x), abs(y))
    if a["t"] in ("ndarray", "tensor"):
        if {k: v for k, v in a.items() if k != "v"} != {k: v for k, v in b.items() if k != "v"}:
            return False
        if a["v"] == b["v"]:
            return True
        if a["v"] not in a_arrays or b["v"] not in b_arrays:   # no values, or too large to keep
            return False
        return _close_arrays(a_arrays[a["v"]], b_arrays[b["v"]])
    return set(a) == set(b) and all(_near(a[k], a_arrays, b[k], b_arrays) for k in a)


def _close_arrays(x: np.ndarray, y: np.ndarray) -> bool:
    if x.shape != y.shape or x.dtype != y.dtype or x.dtype.kind not in "fc":
        return False
    scale = float(np.max(np.abs(y))) if y.size else 0.0
    return bool(np.allclose(x, y, rtol=NEAR["rtol"], atol=NEAR["atol_of_max"] * scale, equal_nan=True))


def _arrays_used(tree: Any) -> set[str]:
    found: set[str] = set()

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if node.get("t") in ("ndarray", "tensor") and isinstance(node.get("v"), str):
                found.add(node["v"])
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)
    walk(tree)
    return found


def hypothesis_version() -> str:
    import hypothesis

    return hypothesis.__version__


def suite_hash(lab: Lab) -> str:
    """The suite's Python files (what makes the calls and hypothesis's examples), the store left out."""
    root = lab.suite_dir.resolve()
    skip = lab.expectations.resolve() if lab.expectations is not None else None
    files = sorted(p for p in root.rglob("*.py")
                   if "__pycache__" not in p.parts and (skip is None or skip not in p.parents))
    return _digest(*(part for p in files for part in (p.relative_to(root).as_posix().encode(), p.read_bytes())))
