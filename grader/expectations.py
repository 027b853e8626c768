"""Expected values as data: every call a suite makes to the reference, recorded, stored and replayed.

The ``reference`` fixture is one of four things (:func:`for_lab` decides):

* **live**: the reference module itself (the instructor's checkout; nothing recorded);
* **record**: the module, each call's result also stored (:func:`record_lab`, building a release);
* **replay**: no reference at all, every result read from a store; a call that is not in the
  store raises :class:`ReleaseMismatch` (the student release: no solutions ship);
* **memo**: replay what this process has already computed, compute live and keep the rest
  (batch grading: the reference runs once per lab per grader process).

A call is keyed by its name and a fingerprint of its arguments, not by the check that makes
it: the reference is a function of its arguments (recording checks that), so a broken
submission that stops a check early, a ``-k`` selection or a module-scoped fixture set up
by another check all find the same values.  What is not an argument must become one: a
simulated machine, a model's weights.  Where the reference's answer is an object (a Dataset,
a model), the suite wraps the reference-side work in an :func:`expectation` helper that
returns data.

Stored as ``index.json`` (the calls, their arguments and values as tagged JSON) and
``values.npz`` (arrays, read with ``allow_pickle=False``): reading a store runs no code.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import importlib.util
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path, PurePath
from types import ModuleType
from typing import Any

import numpy as np

from grader.labs import Lab
from grader.run import SetupError

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

    def save(self, folder: Path) -> Path:
        folder.mkdir(parents=True, exist_ok=True)
        index = {"format": FORMAT, "lab": self.lab, "hypothesis": self.hypothesis, "suite": self.suite,
                 "calls": self.calls, "values": self.values}
        (folder / INDEX).write_text(json.dumps(index, sort_keys=True, indent=0), encoding="utf-8")
        used = _arrays_used(index)
        np.savez_compressed(folder / ARRAYS, **{key: self.arrays[key] for key in sorted(used) if key in self.arrays})
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


# ------------------------------------------------------------------ one run's book of calls
class Book:
    """One grading run's reference: the mode, the store, the clips folder and the check running."""

    def __init__(self, mode: str, lab: Lab, store: Store | None, clips: Path | None,
                 module: Callable[[], ModuleType] | None = None) -> None:
        self.mode, self.lab, self.store, self.clips = mode, lab, store, clips
        self.check = ""
        self.mismatch: ReleaseMismatch | None = None
        self.live_calls = 0               # how often the reference itself ran (memo tests count them)
        self._module_factory = module or (lambda: load_reference(lab))
        self._module: ModuleType | None = None

    @property
    def module(self) -> ModuleType:
        if self._module is None:
            self._module = self._module_factory()
        return self._module

    def reference(self) -> Any:
        """What the ``reference`` fixture gives the suite."""
        return self.module if self.mode == "live" else RecordedReference(self)

    def prepare(self) -> None:
        """A replayed store must come from this suite and this hypothesis: else nothing can be trusted."""
        if self.mode != "replay" or self.store is None:
            return
        for what, stored, here in (("hypothesis", self.store.hypothesis, hypothesis_version()),
                                   ("suite", self.store.suite, suite_hash(self.lab))):
            if stored != here:
                shown = (stored, here) if what == "hypothesis" else (stored[:12], here[:12])
                raise ReleaseMismatch(f"{MISMATCH} ({self.lab.name}: recorded with {what} {shown[0]}, "
                                      f"this is {what} {shown[1]})")

    def call(self, name: str, args: tuple, kwargs: dict, live: Callable[[ModuleType], Any]) -> Any:
        tree, arrays = encode_arguments(args, kwargs, self.clips)
        fp = _digest(_canonical(tree))
        found = self.store.find(name, fp)
        if found is None and self.mode == "replay":
            found = self.store.nearest(name, tree, arrays)
        if found is not None and self.mode != "record":
            return self.store.value(found["value"], self.clips)
        if self.mode == "replay":
            self.mismatch = ReleaseMismatch(f"{MISMATCH} ({self.lab.name}: {self.check or 'a fixture'} calls "
                                            f"{_shown(name, args, kwargs, self.clips)}, which was not recorded)")
            raise self.mismatch
        self.live_calls += 1
        result = live(self.module)
        try:
            digest = self.store.add(name, fp, tree, arrays, result, self.check)
        except Unrecordable as exc:
            raise Unrecordable(f"{name} returned {exc}, which cannot be recorded: make the reference-side "
                               f"work an @expectation helper that returns data") from None
        if found is not None and found["value"] != digest:
            raise RuntimeError(f"{name} gave two different results for the same arguments "
                               f"({found['check']} and {self.check}): make what differs an argument")
        return self.store.value(digest, self.clips)


def _shown(name: str, args: tuple, kwargs: dict, clips: Path | None) -> str:
    from grader.checks import describe_call

    text = describe_call(name, args, kwargs)
    return text.replace(str(clips) + "/", "") if clips is not None else text


class RecordedReference:
    """The suite's ``reference`` outside live mode: ``reference.f(*args)`` goes through the book."""

    __slots__ = ("_book",)

    def __init__(self, book: Book) -> None:
        self._book = book

    def __getattr__(self, name: str) -> Callable[..., Any]:
        if name.startswith("_"):
            raise AttributeError(name)
        book = self._book

        def call(*args: Any, **kwargs: Any) -> Any:
            return book.call(name, args, kwargs, lambda module: getattr(module, name)(*args, **kwargs))
        call.__name__ = name
        return call

    def __repr__(self) -> str:
        return f"<{self._book.lab.name} reference ({self._book.mode})>"


def expectation(helper: Callable[..., Any]) -> Callable[..., Any]:
    """A suite helper whose first argument is the reference and whose result is data, recorded as one call.

    For reference-side work that builds objects (a model, a Dataset): the helper gets the
    real module, and only what it returns (tensors, arrays, numbers, strings, devices,
    lists, tuples and dicts of those) is stored and replayed.
    """
    name = f"{Path(helper.__code__.co_filename).stem}.{helper.__qualname__}"

    @functools.wraps(helper)
    def recorded(reference: Any, *args: Any, **kwargs: Any) -> Any:
        if not isinstance(reference, RecordedReference):
            return helper(reference, *args, **kwargs)
        return reference._book.call(name, args, kwargs, lambda module: helper(module, *args, **kwargs))
    return recorded


def load_reference(lab: Lab) -> ModuleType:
    spec = importlib.util.spec_from_file_location(f"grade_reference_{lab.name}", lab.reference_file)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


# ------------------------------------------------------------------ which mode a run grades in
_override: tuple[str, Store] | None = None     # set while recording, or replaying a given store
_memo: dict[tuple[str, str, str], tuple[Store, list]] | None = None   # batch: per lab, its store and module


def for_lab(lab: Lab, clips: Path | None) -> Book:
    """The book for one run of ``lab`` (see the module's docstring for the modes)."""
    if _override is not None and _override[1].lab == lab.name:
        return Book(_override[0], lab, _override[1], clips)
    if lab.reference_file.is_file():
        if _memo is None:
            return Book("live", lab, None, clips)
        key = (lab.name, str(lab.suite_dir), str(lab.reference_file))
        if key not in _memo:
            _memo[key] = (Store.new(lab), [])
        store, module = _memo[key]
        return Book("memo", lab, store, clips, module=lambda: _cached(module, lab))
    if has_store(lab):
        return Book("replay", lab, Store.load(lab.expectations), clips)
    return Book("live", lab, None, clips)


def _cached(slot: list, lab: Lab) -> ModuleType:
    if not slot:
        slot.append(load_reference(lab))
    return slot[0]


def has_store(lab: Lab) -> bool:
    return lab.expectations is not None and (lab.expectations / INDEX).is_file()


def remember_per_process() -> None:
    """Memo mode for every lab graded in this process from now on (a warm batch grader)."""
    global _memo
    if _memo is None:
        _memo = {}


@contextlib.contextmanager
def using(mode: str, store: Store) -> Iterator[Store]:
    """While inside, runs of ``store.lab`` record into (``"record"``) or replay from (``"replay"``) ``store``."""
    global _override
    assert mode in ("record", "replay")
    saved, _override = _override, (mode, store)
    try:
        yield store
    finally:
        _override = saved


def record_lab(lab: Lab, out: Path, submissions: tuple[Path, ...] = ()) -> Path:
    """Grade ``lab``'s reference (and its stub, and ``submissions``) recording every reference call; write ``out``.

    Student-facing runs (visible checks only: hidden checks leave no trace in the store);
    checks that need CUDA run too, for their reference side.  The reference alone makes
    every call a passing run makes; other submissions make a subset of them (the reference
    is called with the suite's inputs, never with a student's answer), which the stub's run
    shows on the way.  ``lab.suite_dir`` must be the suite that ships with the store.
    """
    from grader.run import find_course, find_lab_in, grade

    found = find_lab_in(find_course(lab.course), lab.name)
    if found.suite_dir.resolve() != lab.suite_dir.resolve():
        raise SetupError(f"{lab.name}: the course at {lab.course} grades with {found.suite_dir}, "
                         f"not {lab.suite_dir}: record from the suite that ships")
    store = Store.new(lab)
    with using("record", store):
        grade(lab.name, reference=True, course=lab.course, student=True)
        stub = lab.assignment_file()
        for submission in ((stub,) if stub.is_file() else ()) + tuple(submissions):
            grade(lab.name, submission, course=lab.course, student=True)
    return store.save(out)
