"""The wire between the grader and a worker: framing and a safe value codec.

Both sides load this file, the worker by path (it cannot import ``grader``).
Values travel as ``torch.save`` archives of plain containers and tensors, and
are read back with ``torch.load(weights_only=True)``: no pickled objects ever
cross, so whatever a worker sends, decoding runs no code of its choosing.
Objects that are not data stay where they were made and travel as handles.

Everything here depends on the standard library, NumPy and torch only.
"""

from __future__ import annotations

import io
import socket
import struct
from pathlib import PurePath
from typing import Any, Callable

import numpy as np
import torch

HEADER = struct.Struct("!Q")
MAX_FRAME = 1 << 30  # a frame larger than this is refused unread
_NUMERIC_KINDS = "biufc"


class WireError(Exception):
    """A frame that is missing, oversized or not a well-formed value."""


# ---------------------------------------------------------------- framing
def send_frame(sock: socket.socket, payload: bytes) -> None:
    sock.sendall(HEADER.pack(len(payload)) + payload)


def recv_exact(sock: socket.socket, n: int) -> bytes:
    chunks, remaining = [], n
    while remaining:
        chunk = sock.recv(min(remaining, 1 << 20))
        if not chunk:
            raise EOFError("channel closed")
        chunks.append(chunk)
        remaining -= len(chunk)
    return b"".join(chunks)


def recv_frame(sock: socket.socket, limit: int = MAX_FRAME) -> bytes:
    (size,) = HEADER.unpack(recv_exact(sock, HEADER.size))
    if size > limit:
        raise WireError(f"frame of {size} bytes exceeds the {limit}-byte limit")
    return recv_exact(sock, size)


def dumps(tree: Any) -> bytes:
    buffer = io.BytesIO()
    torch.save(tree, buffer)
    return buffer.getvalue()


def loads(payload: bytes) -> Any:
    try:
        return torch.load(io.BytesIO(payload), weights_only=True, map_location="cpu")
    except Exception as exc:  # a malformed or hostile archive
        raise WireError(f"undecodable frame: {type(exc).__name__}: {exc}") from None


# ---------------------------------------------------------------- encoding
def encode(value: Any, keep: Callable[[Any], int] | None = None) -> Any:
    """Turn ``value`` into a tree that ``torch.save`` writes without pickling objects.

    ``keep`` stores a non-data object and returns its handle id; without it,
    such objects are an error (the grader never sends objects, only data).
    """
    kind = type(value)
    if value is None or kind in (bool, int, float, str):
        return value
    if kind is bytes:
        return {"__kind__": "bytes", "data": _byte_tensor(value)}
    if kind is complex:
        return {"__kind__": "complex", "re": repr(value.real), "im": repr(value.imag)}
    if kind is list:
        return [encode(v, keep) for v in value]
    if kind is tuple:
        return {"__kind__": "tuple", "items": [encode(v, keep) for v in value]}
    if kind is dict and all(type(k) is str for k in value):
        return {"__kind__": "dict", "items": {k: encode(v, keep) for k, v in value.items()}}
    if isinstance(value, torch.Tensor):
        return _encode_tensor(value)
    if isinstance(value, np.ndarray) and value.dtype.kind in _NUMERIC_KINDS:
        return _encode_array(value)
    if isinstance(value, np.generic) and value.dtype.kind in _NUMERIC_KINDS:
        return {**_encode_array(np.asarray(value)), "__kind__": "npscalar"}
    if kind is torch.device:
        return {"__kind__": "device", "value": str(value)}
    if kind is torch.dtype:
        return {"__kind__": "dtype", "value": str(value).removeprefix("torch.")}
    if isinstance(value, PurePath):
        return {"__kind__": "path", "value": str(value)}
    if isinstance(value, Handle):
        return {"__kind__": "handle", "id": value.id, "type": value.type_name}
    if keep is None:
        raise WireError(f"cannot send a {kind.__name__} as data")
    return {"__kind__": "handle", "id": keep(value), "type": _type_name(value)}


def _type_name(value: Any) -> str:
    kind = type(value)
    return f"{getattr(kind, '__module__', '?')}.{getattr(kind, '__qualname__', '?')}"


def _encode_tensor(tensor: torch.Tensor) -> dict:
    # Strip subclasses first, so an override of shape/dtype/device cannot lie.
    with torch._C.DisableTorchFunctionSubclass():
        plain = torch.Tensor.as_subclass(tensor, torch.Tensor)
        device, layout = str(plain.device), str(plain.layout)
        # Read grad_fn from the tensor itself: as_subclass made an alias whose
        # grad_fn is always AliasBackward0 when it requires grad.
        grad_fn = torch._C.TensorBase.grad_fn.__get__(tensor)
        grad_fn = type(grad_fn).__name__ if grad_fn is not None else None
        meta = {
            "__kind__": "tensor",
            "class": _type_name(tensor),
            "device": device,
            "dtype": str(plain.dtype).removeprefix("torch."),
            "shape": list(plain.shape),
            "requires_grad": bool(plain.requires_grad),
            "grad_fn": grad_fn,
            "data": None,
        }
        if device != "meta" and layout == "torch.strided":
            meta["data"] = plain.detach().to("cpu").contiguous().clone()
    return meta


def _encode_array(array: np.ndarray) -> dict:
    plain = np.asarray(array)
    return {
        "__kind__": "ndarray",
        "class": _type_name(array),
        "dtype": plain.dtype.str,
        "shape": list(plain.shape),
        "data": _byte_tensor(np.ascontiguousarray(plain).tobytes()),
    }


def _byte_tensor(raw: bytes) -> torch.Tensor:
    """Bytes as a uint8 tensor, stored raw by torch.save.  A ``bytes`` object
    itself would be pickled, and an empty one (``bytes()``, e.g. from an empty
    array) is refused by the weights-only loader: the reply would be lost."""
    return torch.from_numpy(np.frombuffer(raw, dtype=np.uint8).copy())


def _raw_bytes(data: Any) -> bytes:
    if type(data) is not torch.Tensor or data.dtype != torch.uint8 or data.dim() != 1:
        raise WireError("byte payload is not a 1-D uint8 tensor")
    return data.detach().cpu().numpy().tobytes()


# ---------------------------------------------------------------- decoding
class Handle:
    """Names an object that lives in the worker and never crosses the wire."""

    __slots__ = ("id", "type_name")

    def __init__(self, id: int, type_name: str) -> None:
        self.id, self.type_name = id, type_name

    def __repr__(self) -> str:
        return f"<{self.type_name} in the worker>"


class TensorValue:
    """A tensor that came back from the worker, rebuilt as a plain CPU tensor.

    ``data`` is None for tensors with no values to send (the meta device).
    ``device``, ``requires_grad`` and ``grad_fn`` record what it was over there.
    """

    __slots__ = ("data", "device", "dtype", "shape", "requires_grad", "grad_fn", "type_name")

    def __init__(self, data, device, dtype, shape, requires_grad, grad_fn, type_name) -> None:
        self.data, self.device, self.dtype, self.shape = data, device, dtype, shape
        self.requires_grad, self.grad_fn, self.type_name = requires_grad, grad_fn, type_name

    def __repr__(self) -> str:
        return f"tensor(shape={list(self.shape)}, dtype={self.dtype}, device={self.device})"


def decode(tree: Any, resolve: Callable[[int, str], Any] = Handle, worker_side: bool = False) -> Any:
    """Rebuild a value from an encoded tree, validating every node.

    ``resolve(id, type_name)`` turns a handle into what the caller wants for
    it.  Tensors become :class:`TensorValue` on the grader side and real
    tensors on the worker side (``worker_side=True``).
    """
    kind = type(tree)
    if tree is None or kind in (bool, int, float, str, bytes):
        return tree
    if kind is list:
        return [decode(v, resolve, worker_side) for v in tree]
    if kind is not dict or type(tree.get("__kind__")) is not str:
        raise WireError(f"unexpected {kind.__name__} on the wire")
    tag = tree["__kind__"]
    decoder = _DECODERS.get(tag)
    if decoder is None:
        raise WireError(f"unknown value kind {tag!r}")
    try:
        return decoder(tree, resolve, worker_side)
    except WireError:
        raise
    except Exception as exc:
        raise WireError(f"malformed {tag}: {type(exc).__name__}: {exc}") from None


def _decode_tensor(tree: dict, resolve, worker_side: bool) -> Any:
    data = tree["data"]
    if data is not None and type(data) is not torch.Tensor:
        raise WireError("tensor payload is not a plain tensor")
    if worker_side:
        if data is None:
            return torch.empty(tree["shape"], dtype=_torch_dtype(tree["dtype"]), device="meta")
        return data.to(tree["device"]).requires_grad_(bool(tree["requires_grad"]))
    dtype = data.dtype if data is not None else _torch_dtype(tree["dtype"])
    shape = tuple(data.shape) if data is not None else tuple(int(n) for n in tree["shape"])
    return TensorValue(
        data, _str(tree["device"]), dtype, shape, bool(tree["requires_grad"]),
        None if tree["grad_fn"] is None else _str(tree["grad_fn"]), _str(tree["class"]),
    )


def _decode_array(tree: dict, resolve=None, worker_side=False) -> np.ndarray:
    dtype = np.dtype(_str(tree["dtype"]))
    if dtype.kind not in _NUMERIC_KINDS:
        raise WireError(f"array of non-numeric dtype {dtype}")
    shape = tuple(int(n) for n in tree["shape"])
    return np.frombuffer(_raw_bytes(tree["data"]), dtype=dtype).reshape(shape).copy()


def _torch_dtype(name: str) -> torch.dtype:
    dtype = getattr(torch, _str(name), None)
    if type(dtype) is not torch.dtype:
        raise WireError(f"unknown dtype {name!r}")
    return dtype


def _str(value: Any) -> str:
    if type(value) is not str:
        raise WireError("expected a string")
    return value


def _decode_handle(tree: dict, resolve, worker_side) -> Any:
    handle_id = tree["id"]
    if type(handle_id) is not int:
        raise WireError("handle id is not an int")
    return resolve(handle_id, _str(tree["type"]))


def _decode_dict(tree: dict, resolve, worker_side) -> dict:
    items = tree["items"]
    if type(items) is not dict or not all(type(k) is str for k in items):
        raise WireError("dict with non-string keys")
    return {k: decode(v, resolve, worker_side) for k, v in items.items()}


def _decode_tuple(tree: dict, resolve, worker_side) -> tuple:
    if type(tree["items"]) is not list:
        raise WireError("tuple items are not a list")
    return tuple(decode(v, resolve, worker_side) for v in tree["items"])


def _decode_npscalar(tree: dict, resolve, worker_side) -> Any:
    return _decode_array(tree)[()]


_DECODERS: dict[str, Callable[[dict, Any, bool], Any]] = {
    "bytes": lambda t, r, w: _raw_bytes(t["data"]),
    "complex": lambda t, r, w: complex(float(_str(t["re"])), float(_str(t["im"]))),
    "tuple": _decode_tuple,
    "dict": _decode_dict,
    "tensor": _decode_tensor,
    "ndarray": _decode_array,
    "npscalar": _decode_npscalar,
    "device": lambda t, r, w: torch.device(_str(t["value"])),
    "dtype": lambda t, r, w: _torch_dtype(t["value"]),
    "path": lambda t, r, w: PurePath(_str(t["value"])),
    "handle": _decode_handle,
}
