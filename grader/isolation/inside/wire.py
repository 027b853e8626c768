"""The wire between the grader and a worker: framing and a safe value codec.

Both sides load this file, the worker by path (it cannot import ``grader``).
Values travel as ``torch.save`` archives of plain containers and tensors, and
are read back with ``torch.load(weights_only=True)``: no pickled objects ever
cross, so whatever a worker sends, decoding runs no code of its choosing.
Objects that are not data stay where they were made and travel as handles.

The worker is the student's process, so the grader trusts no byte of a reply:
a frame is read against a deadline and a size limit, the archive is
inspected before torch opens it (stored entries only, consistent sizes, a
bounded pickle that names only the few globals a tensor needs), and every
tensor in it must be plain memory whose size matches its bytes before
anything reads it.  Decoding is linear in the frame: no shared or deep
structure can make it allocate or walk more than the frame holds.

Everything here depends on the standard library, NumPy and torch only.  In
the worker this file is loaded before any submission is imported, and binds
the NumPy and torch functions it calls (``np.frombuffer``, ``torch.from_numpy``,
``torch.save``...) then: a submission that replaces them changes nothing here.
"""

from __future__ import annotations

import builtins
import io
import linecache
import pickletools
import socket
import struct
import time
import traceback
import zipfile
from pathlib import PurePath
from typing import Any, Callable, NamedTuple

import numpy as np
import torch

# Bound when this file is loaded (in the worker: before the submission is imported).
_frombuffer, _asarray, _ascontiguousarray, _np_dtype, _uint8 = (np.frombuffer, np.asarray, np.ascontiguousarray,
                                                              np.dtype, np.uint8)
_ndarray, _generic = np.ndarray, np.generic
_save, _load, _from_numpy, _empty = torch.save, torch.load, torch.from_numpy, torch.empty
_torch_device, _torch_dtype_type = torch.device, torch.dtype
_walk_tb, _getline = traceback.walk_tb, linecache.getline
_BUILTINS = dict(vars(builtins))   # what is built in, as it was before any submission could replace a name

HEADER = struct.Struct("!Q")
MAX_FRAME = 1 << 30  # a frame larger than this is refused unread
_NUMERIC_KINDS = "biufc"


class WireError(Exception):
    """A frame that is missing, oversized or not a well-formed value."""


class Limits(NamedTuple):
    """What one frame may hold.  The grader reads replies with a lab's limits;
    the worker reads the grader's own requests with the defaults."""

    frame_bytes: int = MAX_FRAME      # the whole archive
    pickle_bytes: int = 1 << 24       # its data.pkl: unpickling costs about 1 s per MB
    entries: int = 1 << 14            # archive members (one per tensor, plus five)
    depth: int = 64                   # nesting of lists, tuples and dicts


def reply_limits(frame_bytes: int) -> Limits:
    """Limits for a worker's replies: ``frame_bytes`` from the lab, the rest small and fixed."""
    return Limits(frame_bytes=frame_bytes, pickle_bytes=min(frame_bytes, 1 << 20), entries=1024, depth=32)


DEFAULT_LIMITS = Limits()


# ---------------------------------------------------------------- framing
def send_frame(sock: socket.socket, payload: bytes) -> None:
    sock.sendall(HEADER.pack(len(payload)) + payload)


def recv_exact(sock: socket.socket, n: int, deadline: float | None = None) -> bytes:
    """``n`` bytes, all of them before ``deadline`` (``time.monotonic()``), or TimeoutError."""
    chunks, remaining = [], n
    while remaining:
        if deadline is not None:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError(f"{n - remaining} of {n} bytes arrived before the deadline")
            sock.settimeout(left)
        try:
            chunk = sock.recv(min(remaining, 1 << 20))
        except socket.timeout:
            raise TimeoutError(f"{n - remaining} of {n} bytes arrived before the deadline") from None
        if not chunk:
            raise EOFError("channel closed")
        chunks.append(chunk)
        remaining -= len(chunk)
    return b"".join(chunks)


def recv_frame(sock: socket.socket, limit: int = MAX_FRAME, deadline: float | None = None) -> bytes:
    """One frame of at most ``limit`` bytes, wholly received before ``deadline``."""
    (size,) = HEADER.unpack(recv_exact(sock, HEADER.size, deadline))
    if size > limit:
        raise WireError(f"a reply of {size:,} bytes is larger than the {limit:,} bytes allowed here")
    return recv_exact(sock, size, deadline)


def dumps(tree: Any) -> bytes:
    buffer = io.BytesIO()
    _save(tree, buffer)
    return buffer.getvalue()


def loads(payload: bytes, limits: Limits = DEFAULT_LIMITS) -> Any:
    """Inspect an archive, then load it with torch's weights-only unpickler."""
    if len(payload) > limits.frame_bytes:
        raise WireError(f"a reply of {len(payload):,} bytes is larger than the {limits.frame_bytes:,} bytes allowed")
    inspect_archive(payload, limits)
    try:
        return _load(io.BytesIO(payload), weights_only=True, map_location="cpu")
    except Exception as exc:  # a malformed or hostile archive
        raise WireError(f"undecodable frame: {type(exc).__name__}: {str(exc)[:300]}") from None


# ---------------------------------------------------------------- archive inspection
_PREFIX = "archive/"
_MEMBERS = {"data.pkl", ".format_version", ".storage_alignment", "byteorder", "version", ".data/serialization_id"}
_LOCAL_HEADER = struct.Struct("<4sHHHHHIIIHH")
_STORAGES = {"Float", "Double", "Half", "BFloat16", "Byte", "Char", "Short", "Int", "Long", "Bool",
             "ComplexFloat", "ComplexDouble"}
_GLOBALS = ({"torch._utils _rebuild_tensor_v2", "torch._utils _rebuild_tensor_v3", "collections OrderedDict",
             "torch.storage UntypedStorage"}
            | {f"torch {name}Storage" for name in _STORAGES}
            | {f"torch {str(d).removeprefix('torch.')}" for d in vars(torch).values()
               if type(d) is torch.dtype and not str(d).startswith("torch.q")})
# Protocol 2 as torch.save writes our trees: containers, memo, numbers, strings, and the few
# calls that rebuild a tensor.  No LONG4 (ints of any size), no bytes, no BUILD, no INST.
_OPCODES = {"PROTO", "STOP", "MARK", "EMPTY_DICT", "EMPTY_LIST", "EMPTY_TUPLE", "TUPLE", "TUPLE1", "TUPLE2",
            "TUPLE3", "APPEND", "APPENDS", "SETITEM", "SETITEMS", "BINPUT", "LONG_BINPUT", "BINGET",
            "LONG_BINGET", "BININT", "BININT1", "BININT2", "LONG1", "BINFLOAT", "BINUNICODE", "NONE",
            "NEWTRUE", "NEWFALSE", "GLOBAL", "REDUCE", "BINPERSID"}


def inspect_archive(payload: bytes, limits: Limits = DEFAULT_LIMITS) -> None:
    """Refuse an archive torch would read into more than it holds, before torch opens it.

    Every member is stored (not compressed), its sizes agree and its bytes lie
    inside the frame without overlapping another's (so what loading reads is
    at most the frame); the members are the ones ``torch.save`` writes; and
    the pickle is small and calls nothing but the tensor-rebuilding globals.
    """
    _check_member_count(payload, limits)
    try:
        archive = zipfile.ZipFile(io.BytesIO(payload))
        members = archive.infolist()
        names = [m.filename for m in members]
        if len(set(names)) != len(names):
            raise WireError("undecodable frame: an archive member appears twice")
        end = 0
        for member in sorted(members, key=lambda m: m.header_offset):
            _check_member(member, payload, end)
            end = member.header_offset + _data_start(member, payload) + member.file_size
        if _PREFIX + "data.pkl" not in names:
            raise WireError("undecodable frame: the archive has no data.pkl")
        size = archive.getinfo(_PREFIX + "data.pkl").file_size
        if size > limits.pickle_bytes:
            raise WireError(f"the reply's structure takes {size:,} bytes; at most {limits.pickle_bytes:,} are allowed")
        if _PREFIX + "byteorder" in names and archive.read(_PREFIX + "byteorder") != b"little":
            raise WireError("undecodable frame: not little-endian")
        pickled = archive.read(_PREFIX + "data.pkl")
    except WireError:
        raise
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, OSError, EOFError, KeyError,
            struct.error, NotImplementedError) as exc:
        raise WireError(f"undecodable frame: not a well-formed archive ({str(exc)[:200]})") from None
    scan_pickle(pickled)


_END_OF_DIRECTORY = struct.Struct("<4sHHHHIIH")


def _check_member_count(payload: bytes, limits: Limits) -> None:
    """Read the member count from the archive's last record, before parsing any member."""
    end = payload[-_END_OF_DIRECTORY.size:]
    if len(end) != _END_OF_DIRECTORY.size:
        raise WireError("undecodable frame: not an archive")
    magic, _, _, _, count, _, _, comment = _END_OF_DIRECTORY.unpack(end)
    if magic != b"PK\x05\x06" or comment:
        raise WireError("undecodable frame: not an archive torch.save wrote")
    if count > limits.entries:
        raise WireError(f"the reply holds {count:,} archive members; at most {limits.entries:,} are allowed")


def _check_member(member: zipfile.ZipInfo, payload: bytes, previous_end: int) -> None:
    name = member.filename
    relative = name.removeprefix(_PREFIX)
    numbered = relative.startswith("data/") and relative[5:].isdigit() and relative[5:].isascii()
    if not name.startswith(_PREFIX) or not (relative in _MEMBERS or numbered):
        raise WireError(f"undecodable frame: unexpected archive member {name[:80]!r}")
    if member.compress_type != zipfile.ZIP_STORED or member.compress_size != member.file_size:
        raise WireError(f"undecodable frame: archive member {relative!r} is compressed")
    if member.header_offset < previous_end:
        raise WireError("undecodable frame: archive members overlap")
    start = _data_start(member, payload)
    if member.header_offset + start + member.file_size > len(payload):
        raise WireError(f"undecodable frame: archive member {relative!r} runs past the end of the frame")


def _data_start(member: zipfile.ZipInfo, payload: bytes) -> int:
    """Offset of a member's bytes from its local header, which must agree with the directory."""
    header = payload[member.header_offset: member.header_offset + _LOCAL_HEADER.size]
    if len(header) != _LOCAL_HEADER.size:
        raise WireError("undecodable frame: truncated archive")
    magic, _, _, method, _, _, _, _, _, name_length, extra_length = _LOCAL_HEADER.unpack(header)
    if magic != b"PK\x03\x04" or method != zipfile.ZIP_STORED:
        raise WireError("undecodable frame: malformed or compressed archive member")
    return _LOCAL_HEADER.size + name_length + extra_length


def scan_pickle(data: bytes) -> None:
    """Refuse a pickle with an opcode or a global that our trees never contain."""
    try:
        for opcode, argument, _ in pickletools.genops(data):
            if opcode.name not in _OPCODES:
                raise WireError(f"undecodable frame: pickle opcode {opcode.name} is not allowed")
            if opcode.name == "GLOBAL" and argument not in _GLOBALS:
                raise WireError(f"undecodable frame: pickle global {str(argument)[:80]!r} is not allowed")
    except WireError:
        raise
    except Exception as exc:  # truncated or garbled pickle
        raise WireError(f"undecodable frame: {type(exc).__name__}: {str(exc)[:200]}") from None


# ---------------------------------------------------------------- encoding
_TensorBase = torch._C.TensorBase  # an immutable type: a submission cannot replace its methods
_no_torch_function = torch._C.DisableTorchFunctionSubclass
_dispatch_keys = torch._C._dispatch_keys
_PYTHON_KEY = torch._C.DispatchKey.Python
_PLAIN_TENSORS = (torch.Tensor, torch.nn.Parameter)
_read = {name: _TensorBase.__dict__[name].__get__
         for name in ("layout", "device", "dtype", "shape", "requires_grad", "grad_fn", "is_nested", "is_quantized")}


def encode(value: Any, keep: Callable[[Any], int] | None = None, depth: int = 0) -> Any:
    """Turn ``value`` into a tree that ``torch.save`` writes without pickling objects.

    ``keep`` stores a non-data object and returns its handle id; without it,
    such objects are an error (the grader never sends objects, only data).
    An instance of a subclass of ``str``, ``int``, ``float``, ``complex`` or
    ``bytes`` travels as its plain value, read without calling its methods.
    """
    if depth > DEFAULT_LIMITS.depth:
        raise WireError(f"a value nested deeper than {DEFAULT_LIMITS.depth} levels cannot be sent")
    kind, inner = type(value), depth + 1
    if value is None or kind in (bool, int, float, str):
        return value
    if kind is bytes:
        return {"__kind__": "bytes", "data": _byte_tensor(value)}
    if kind is complex:
        return {"__kind__": "complex", "re": repr(value.real), "im": repr(value.imag)}
    if kind is list:
        return [encode(v, keep, inner) for v in value]
    if kind is tuple:
        return {"__kind__": "tuple", "items": [encode(v, keep, inner) for v in value]}
    if kind is dict and all(type(k) is str for k in value):
        return {"__kind__": "dict", "items": {k: encode(v, keep, inner) for k, v in value.items()}}
    if isinstance(value, torch.Tensor) and issubclass(kind, torch.Tensor):
        return _encode_tensor(value)
    if issubclass(kind, _ndarray) and value.dtype.kind in _NUMERIC_KINDS:
        return _encode_array(value)
    if issubclass(kind, _generic) and value.dtype.kind in _NUMERIC_KINDS:
        return {**_encode_array(_asarray(value)), "__kind__": "npscalar"}
    plain = _plain_value(value)
    if plain is not None:
        return encode(plain, keep, inner)
    if kind is _torch_device:
        return {"__kind__": "device", "value": str(value)}
    if kind is _torch_dtype_type:
        return {"__kind__": "dtype", "value": str(value).removeprefix("torch.")}
    if isinstance(value, PurePath) and issubclass(kind, PurePath):
        return {"__kind__": "path", "value": str(value)}
    if isinstance(value, Handle):
        return {"__kind__": "handle", "id": value.id, "type": value.type_name}
    if keep is None:
        raise WireError(f"cannot send a {kind.__name__} as data")
    return {"__kind__": "handle", "id": keep(value), "type": _type_name(value)}


def _plain_value(value: Any) -> Any:
    """The built-in value inside an instance of a subclass of a built-in type (a TorchVersion
    is a str), read with the base type's own method so an override cannot change it."""
    kind = type(value)
    for base, read in ((str, str.__str__), (int, int.__int__), (float, float.__float__),
                       (complex, complex.__complex__), (bytes, bytes.__bytes__)):
        if issubclass(kind, base):
            return read(value)
    return None


def _type_name(value: Any) -> str:
    kind = type(value)
    return f"{getattr(kind, '__module__', '?')}.{getattr(kind, '__qualname__', '?')}"


def tensor_layout(tensor: torch.Tensor) -> str:
    """How ``tensor`` holds its values: ``strided`` when they are plain memory on a device.

    A ``__torch_dispatch__`` subclass is ``dispatch``: its values are whatever its
    code answers, so none are read.  Read through ``torch._C.TensorBase``'s own
    descriptors: nothing a subclass overrides runs.
    """
    if _dispatch_keys(tensor).has(_PYTHON_KEY):
        return "dispatch"
    if _read["is_nested"](tensor):
        return "nested"
    if _read["is_quantized"](tensor):
        return "quantized"
    return str(_read["layout"](tensor)).removeprefix("torch.")


def plain_copy(tensor: torch.Tensor) -> torch.Tensor | None:
    """A plain, contiguous CPU copy of a strided tensor's values (None when it has none to read)."""
    with _no_torch_function():
        if tensor_layout(tensor) != "strided" or _read["device"](tensor).type == "meta":
            return None
        values = _TensorBase.detach(tensor)
        values = _TensorBase.resolve_neg(_TensorBase.resolve_conj(_TensorBase.to(values, "cpu")))
        return _TensorBase.clone(values, memory_format=torch.contiguous_format)


def _encode_tensor(tensor: torch.Tensor) -> dict:
    with _no_torch_function():
        layout = tensor_layout(tensor)
        grad_fn = _read["grad_fn"](tensor)
        return {
            "__kind__": "tensor",
            "class": _type_name(tensor),
            "subclass": type(tensor) not in _PLAIN_TENSORS,
            "layout": layout,
            "device": str(_read["device"](tensor)),
            "dtype": str(_read["dtype"](tensor)).removeprefix("torch."),
            "shape": [] if layout == "nested" else [int(n) for n in _read["shape"](tensor)],  # ragged: no one shape
            "requires_grad": bool(_read["requires_grad"](tensor)),
            "grad_fn": type(grad_fn).__name__ if grad_fn is not None else None,
            "data": plain_copy(tensor),
        }


def _encode_array(array: np.ndarray) -> dict:
    plain = _asarray(array)
    return {
        "__kind__": "ndarray",
        "class": _type_name(array),
        "dtype": plain.dtype.str,
        "shape": list(plain.shape),
        "data": _byte_tensor(_ascontiguousarray(plain).tobytes()),
    }


def _byte_tensor(raw: bytes) -> torch.Tensor:
    """Bytes as a uint8 tensor, stored raw by torch.save.  A ``bytes`` object
    itself would be pickled, and an empty one (``bytes()``, e.g. from an empty
    array) is refused by the weights-only loader: the reply would be lost."""
    return _from_numpy(_frombuffer(raw, dtype=_uint8).copy())


def exception_info(exc: BaseException, submission_dir: str) -> dict:
    """An exception as plain strings: type, ancestry, message, the student's own lines.

    ``mro`` names each class with its module, and a class is ``builtins.X``
    only if it *is* the built-in ``X``: a student class called ``ValueError``
    is not the built-in one, whatever ``__module__`` it claims.
    """
    kind = type(exc)
    try:
        mro = [_class_name(cls, _BUILTINS) for cls in kind.__mro__]
    except Exception:
        mro = []
    try:
        message = str(exc)[:2000]
    except BaseException:
        message = "<unprintable message>"
    if isinstance(exc, SystemExit):
        message = f"called sys.exit({exc.code!r})"[:2000]
    where = ""
    if isinstance(exc, SyntaxError) and exc.filename:
        where = f"{PurePath(exc.filename).name} line {exc.lineno}"
        message = f"{exc.msg}: {(exc.text or '').strip()}"
    # the student's own frames, each named by its qualified name (UNet.forward, not forward)
    frames = [(f.f_code, line) for f, line in _walk_tb(exc.__traceback__)
              if f.f_code.co_filename.startswith(submission_dir)][-5:]
    named = [(PurePath(code.co_filename).name, line, getattr(code, "co_qualname", code.co_name),
              _getline(code.co_filename, line).strip()) for code, line in frames]
    if named and not where:
        where = f"{named[-1][0]} line {named[-1][1]}, in {named[-1][2]}"
    cut = 1000  # the grader cuts every field shorter still; this keeps the reply small
    return {
        "type": type.__dict__["__name__"].__get__(kind)[:cut],
        "mro": [name[:cut] for name in mro[:64]],
        "message": message,
        "where": where[:cut],
        "lines": [f"{file}:{line} {name}: {text}"[:cut] for file, line, name, text in named],
    }


def _class_name(cls: type, builtins: dict) -> str:
    name = type.__dict__["__qualname__"].__get__(cls)
    if builtins.get(name) is cls:
        return f"builtins.{name}"
    module = type.__dict__["__dict__"].__get__(cls).get("__module__")
    module = module[:200] if type(module) is str and module != "builtins" else "<submission>"
    return f"{module}.{name[:800]}"


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

    ``data`` holds its values, or None when it had none to read: the meta
    device, a sparse or nested layout, or a ``__torch_dispatch__`` subclass.
    ``layout`` is ``strided`` for plain memory, else ``sparse_coo``,
    ``sparse_csr``, ``nested``, ``quantized``, ``dispatch``...; ``subclass``
    says the result was a subclass of torch.Tensor (other than Parameter).
    ``device``, ``requires_grad`` and ``grad_fn`` record what it was over there.
    """

    __slots__ = ("data", "device", "dtype", "shape", "requires_grad", "grad_fn", "type_name", "layout", "subclass")

    def __init__(self, data, device, dtype, shape, requires_grad, grad_fn, type_name,
                 layout: str = "strided", subclass: bool = False) -> None:
        self.data, self.device, self.dtype, self.shape = data, device, dtype, shape
        self.requires_grad, self.grad_fn, self.type_name = requires_grad, grad_fn, type_name
        self.layout, self.subclass = layout, subclass

    def __repr__(self) -> str:
        return f"tensor(shape={list(self.shape)}, dtype={self.dtype}, device={self.device})"


def decode(tree: Any, resolve: Callable[[int, str], Any] = Handle, worker_side: bool = False,
           limits: Limits = DEFAULT_LIMITS) -> Any:
    """Rebuild a value from an encoded tree, validating every node.

    ``resolve(id, type_name)`` turns a handle into what the caller wants for
    it.  Tensors become :class:`TensorValue` on the grader side and real
    tensors on the worker side (``worker_side=True``).  A container or tensor
    met twice (a shared reference), or nesting deeper than ``limits.depth``,
    is refused: the walk visits each node of the archive once.
    """
    return _Decoder(resolve, worker_side, limits.depth).node(tree, 0)


class _Decoder:
    def __init__(self, resolve: Callable[[int, str], Any], worker_side: bool, depth: int) -> None:
        self.resolve, self.worker_side, self.depth = resolve, worker_side, depth
        self.seen: set[int] = set()
        self.storages: set[int] = set()

    def node(self, tree: Any, depth: int) -> Any:
        kind = type(tree)
        if tree is None or kind in (bool, int, float, str):
            return tree
        if depth > self.depth:
            raise WireError(f"the reply is nested deeper than {self.depth} levels")
        if kind not in (list, dict):
            raise WireError(f"unexpected {kind.__name__} on the wire")
        self._once(tree)
        if kind is list:
            return [self.node(v, depth + 1) for v in tree]
        tag = tree.get("__kind__")
        decoder = _DECODERS.get(tag) if type(tag) is str else None
        if decoder is None:
            raise WireError(f"unknown value kind {str(tag)[:40]!r}" if type(tag) is str else "untagged dict on the wire")
        try:
            return decoder(self, tree, depth + 1)
        except WireError:
            raise
        except Exception as exc:
            raise WireError(f"malformed {tag}: {type(exc).__name__}: {str(exc)[:200]}") from None

    def _once(self, obj: Any) -> None:
        if id(obj) in self.seen:
            raise WireError("the reply refers to one part of itself twice")
        self.seen.add(id(obj))

    def tensor(self, data: Any) -> torch.Tensor:
        """``data`` if it is plain memory whose size is its bytes, checked before anything reads it."""
        if type(data) is not torch.Tensor:
            raise WireError("tensor payload is not a plain tensor")
        self._once(data)
        if data.layout != torch.strided or data.device.type != "cpu" or data.requires_grad:
            raise WireError("tensor payload is not plain CPU memory")
        if data.storage_offset() != 0 or not data.is_contiguous():
            raise WireError("tensor payload is a view (offset or strides), not its own memory")
        storage = data.untyped_storage()
        if storage.nbytes() != data.numel() * data.element_size():
            raise WireError("tensor payload's size does not match its bytes")
        if storage.nbytes() and storage.data_ptr() in self.storages:
            raise WireError("two tensor payloads share their bytes")
        self.storages.add(storage.data_ptr())
        return data


def _decode_tensor(decoder: _Decoder, tree: dict, depth: int) -> Any:
    data = tree["data"]
    if data is not None:
        data = decoder.tensor(data)
    if decoder.worker_side:
        if data is None:
            return _empty(tree["shape"], dtype=_torch_dtype(tree["dtype"]), device="meta")
        return data.to(tree["device"]).requires_grad_(bool(tree["requires_grad"]))
    dtype = data.dtype if data is not None else _torch_dtype(tree["dtype"])
    shape = tuple(data.shape) if data is not None else tuple(_int(n) for n in _list(tree["shape"]))
    layout = _name(tree.get("layout", "strided"))
    return TensorValue(
        data, _str(tree["device"]), dtype, shape, bool(tree["requires_grad"]),
        None if tree["grad_fn"] is None else _name(tree["grad_fn"]), _name(tree["class"]),
        layout=layout, subclass=tree.get("subclass", False) is not False,
    )


def _decode_array(decoder: _Decoder, tree: dict, depth: int = 0) -> np.ndarray:
    dtype = _np_dtype(_str(tree["dtype"]))
    if dtype.kind not in _NUMERIC_KINDS:
        raise WireError(f"array of non-numeric dtype {dtype}")
    shape = tuple(_int(n) for n in _list(tree["shape"]))
    return _frombuffer(_raw_bytes(decoder, tree["data"]), dtype=dtype).reshape(shape).copy()


def _raw_bytes(decoder: _Decoder, data: Any) -> bytes:
    data = decoder.tensor(data)
    if data.dtype != torch.uint8 or data.dim() != 1:
        raise WireError("byte payload is not a 1-D uint8 tensor")
    return data.numpy().tobytes()


def _torch_dtype(name: str) -> torch.dtype:
    dtype = getattr(torch, _str(name), None)
    if type(dtype) is not _torch_dtype_type:
        raise WireError(f"unknown dtype {str(name)[:40]!r}")
    return dtype


def _str(value: Any) -> str:
    if type(value) is not str:
        raise WireError("expected a string")
    return value


def _int(value: Any) -> int:
    if type(value) is not int:
        raise WireError("expected an int")
    return value


def _list(value: Any) -> list:
    if type(value) is not list:
        raise WireError("expected a list")
    return value


def _name(value: Any, limit: int = 200) -> str:
    """A class or layout name from the worker: identifier characters and dots only, and short."""
    text = "".join(c if c.isalnum() or c in "._<>" else "?" for c in _str(value)[:limit + 1])
    return text if len(text) <= limit else text[:limit - 1] + "…"


def _decode_handle(decoder: _Decoder, tree: dict, depth: int) -> Any:
    return decoder.resolve(_int(tree["id"]), _name(tree["type"]))


def _decode_dict(decoder: _Decoder, tree: dict, depth: int) -> dict:
    items = tree["items"]
    if type(items) is not dict or not all(type(k) is str for k in items):
        raise WireError("dict with non-string keys")
    decoder._once(items)
    return {k: decoder.node(v, depth) for k, v in items.items()}


def _decode_tuple(decoder: _Decoder, tree: dict, depth: int) -> tuple:
    items = _list(tree["items"])
    decoder._once(items)
    return tuple(decoder.node(v, depth) for v in items)


def _decode_npscalar(decoder: _Decoder, tree: dict, depth: int) -> Any:
    return _decode_array(decoder, tree)[()]


_DECODERS: dict[str, Callable[[_Decoder, dict, int], Any]] = {
    "bytes": lambda d, t, depth: _raw_bytes(d, t["data"]),
    "complex": lambda d, t, depth: complex(float(_str(t["re"])[:40]), float(_str(t["im"])[:40])),
    "tuple": _decode_tuple,
    "dict": _decode_dict,
    "tensor": _decode_tensor,
    "ndarray": _decode_array,
    "npscalar": _decode_npscalar,
    "device": lambda d, t, depth: _torch_device(_str(t["value"])[:40]),
    "dtype": lambda d, t, depth: _torch_dtype(t["value"]),
    "path": lambda d, t, depth: PurePath(_str(t["value"])),
    "handle": _decode_handle,
}
