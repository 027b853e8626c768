"""The wire codec: what may cross between grader and worker, and what is refused."""

from __future__ import annotations

import io
import os
import pickle
import socket
import struct
import zipfile
from pathlib import Path, PurePath

import numpy as np
import pytest
import torch

from grader.isolation.inside import wire
from grader.isolation.inside.wire import Handle, TensorValue, WireError


def through(value, keep=None, resolve=Handle, worker_side=False):
    """Encode, serialise, parse and decode, as one trip over the socket does."""
    return wire.decode(wire.loads(wire.dumps(wire.encode(value, keep))), resolve, worker_side)


# ------------------------------------------------------------------ round trips
@pytest.mark.parametrize("value", [
    None, True, False, 0, -7, 2**62, 1.5, float("inf"), "text ✓", b"\x00bytes", b"", bytes(range(256)),
    [], [1, [2, [3]]], (), (1, "a", None), {"a": 1, "b": [1, (2, 3)], "c": {"d": None}},
    complex(1.5, -2.0), [complex(0, 1), (complex(-1, 0),)],
])
def test_plain_values_round_trip(value):
    assert through(value) == value
    assert type(through(value)) is type(value)


def test_nan_and_special_values():
    back = through({"nan": float("nan"), "ninf": float("-inf")})
    assert np.isnan(back["nan"]) and back["ninf"] == float("-inf")


def test_device_dtype_and_path_round_trip():
    value = (torch.device("cpu"), torch.device("cuda:1"), torch.float16, torch.bfloat16, Path("/x/y.wav"))
    back = through(value)
    assert back[:4] == value[:4]
    assert back[4] == PurePath("/x/y.wav") and not isinstance(back[4], Path)  # a plain path, not a real one


@pytest.mark.parametrize("tensor", [
    torch.arange(12, dtype=torch.float32).reshape(3, 4),
    torch.arange(12, dtype=torch.float64).reshape(3, 4).T,                  # non-contiguous (transposed)
    torch.arange(40, dtype=torch.int16).reshape(4, 10)[::2, 1::3],          # non-contiguous (strided)
    torch.arange(24).reshape(2, 3, 4).permute(2, 0, 1),                     # permuted int64
    torch.tensor([True, False, True]),
    torch.tensor([1 + 2j, -3j], dtype=torch.complex64),
    torch.randn(2, 3).to(torch.bfloat16),
    torch.randn(5).to(torch.float16),
    torch.tensor(3.5),                                                      # 0-d
    torch.empty(0, 3),                                                      # empty
    torch.arange(10.0).expand(3, 10),                                       # stride 0
], ids=lambda t: f"{t.dtype}-{tuple(t.shape)}-{'c' if t.is_contiguous() else 'nc'}")
def test_tensors_round_trip_grader_side(tensor):
    back = through(tensor)
    assert isinstance(back, TensorValue)
    assert back.shape == tuple(tensor.shape) and back.dtype == tensor.dtype and back.device == "cpu"
    assert type(back.data) is torch.Tensor and back.data.is_contiguous()
    assert torch.equal(back.data, tensor)
    assert back.requires_grad is False and back.grad_fn is None and back.type_name == "torch.Tensor"


def test_tensor_data_is_a_copy():
    tensor = torch.zeros(3)
    back = through(tensor)
    tensor += 1
    assert torch.equal(back.data, torch.zeros(3))


def test_tensor_round_trip_worker_side_keeps_requires_grad():
    leaf = torch.randn(2, 3, requires_grad=True)
    back = through(leaf, worker_side=True)
    assert type(back) is torch.Tensor and back.requires_grad and back.is_leaf
    assert torch.equal(back.detach(), leaf.detach())


def test_requires_grad_and_grad_fn_are_recorded():
    leaf = torch.randn(2, 3, requires_grad=True)
    back = through(leaf * 2)
    assert back.requires_grad is True and back.grad_fn == "MulBackward0"
    assert back.data.requires_grad is False  # the grader gets values, not a graph


def test_meta_tensor_travels_without_data():
    meta = torch.empty(2, 5, dtype=torch.float16, device="meta")
    back = through(meta)
    assert back.data is None and back.device == "meta"
    assert back.shape == (2, 5) and back.dtype == torch.float16
    worker = through(meta, worker_side=True)
    assert worker.device.type == "meta" and worker.shape == (2, 5) and worker.dtype == torch.float16


def test_tensor_subclass_is_stripped_and_cannot_lie():
    class Liar(torch.Tensor):
        @property
        def shape(self):
            return torch.Size([1, 1, 1025, 44])

        @property
        def dtype(self):
            return torch.float32

    liar = torch.zeros(7, dtype=torch.float64).as_subclass(Liar)
    back = through(liar)
    assert back.shape == (7,) and back.dtype == torch.float64
    assert type(back.data) is torch.Tensor and back.type_name.endswith("Liar")


def test_object_posing_as_a_tensor_does_not_travel_as_one():
    class Impostor:
        @property
        def __class__(self):  # isinstance(impostor, torch.Tensor) is now True
            return torch.Tensor

    impostor = Impostor()
    assert isinstance(impostor, torch.Tensor)
    try:
        tree = wire.encode(impostor, keep=lambda obj: 1)
    except (TypeError, WireError):  # in the worker, an error reply: the check fails
        return
    assert tree["__kind__"] == "handle"


def test_parameter_arrives_as_plain_tensor():
    back = through(torch.nn.Parameter(torch.ones(2)))
    assert type(back.data) is torch.Tensor and back.requires_grad and back.type_name == "torch.nn.parameter.Parameter"


@pytest.mark.parametrize("array", [
    np.linspace(0, 1, 12).reshape(3, 4),
    np.asfortranarray(np.arange(12, dtype=np.float32).reshape(3, 4)),
    np.arange(20, dtype=np.int8).reshape(4, 5)[:, ::2],
    np.arange(6, dtype=np.uint16),
    np.array([True, False]),
    np.array([1 + 1j, 2], dtype=np.complex64),
    np.arange(4, dtype=">f4"),                    # big-endian
    np.array(2.5),                                # 0-d
    np.zeros((0, 4), dtype=np.int32),
], ids=lambda a: f"{a.dtype.str}-{a.shape}")
def test_arrays_round_trip(array):
    back = through(array)
    assert type(back) is np.ndarray
    assert back.dtype == array.dtype and back.shape == array.shape
    np.testing.assert_array_equal(back, array)
    assert back.flags.writeable and back.flags.owndata


def test_empty_results_round_trip():
    """Empty arrays and bytes must come back, not be taken for a malformed reply."""
    value = {"array": np.zeros((0, 4), np.float32), "bytes": b"", "tensor": torch.empty(0, 3)}
    tree = wire.encode({"ok": True, "value": value})
    back = wire.decode(wire.loads(wire.dumps(tree)))["value"]
    assert back["array"].shape == (0, 4) and back["bytes"] == b"" and back["tensor"].shape == (0, 3)


def test_numpy_scalars_round_trip():
    for scalar in (np.float32(1.25), np.int64(-3), np.bool_(True), np.complex128(1j), np.uint8(200)):
        back = through(scalar)
        assert type(back) is type(scalar) and back == scalar


def test_nested_containers_of_tensors_and_arrays():
    value = {"batch": [torch.ones(2, 2), (np.arange(3), {"inner": torch.zeros(1)})], "n": 3}
    back = through(value)
    assert torch.equal(back["batch"][0].data, torch.ones(2, 2))
    assert type(back["batch"][1]) is tuple
    np.testing.assert_array_equal(back["batch"][1][0], np.arange(3))
    assert torch.equal(back["batch"][1][1]["inner"].data, torch.zeros(1))
    assert back["n"] == 3


# ------------------------------------------------------------------ handles
def test_objects_become_handles_and_resolve_on_the_way_back():
    kept: dict[int, object] = {}

    def keep(obj):
        kept[len(kept) + 1] = obj
        return len(kept)

    model = torch.nn.Linear(2, 2)
    tree = wire.loads(wire.dumps(wire.encode({"model": model, "f": len}, keep)))
    back = wire.decode(tree)  # the grader's side: handles only
    assert isinstance(back["model"], Handle) and back["model"].type_name == "torch.nn.modules.linear.Linear"
    assert kept[back["model"].id] is model and kept[back["f"].id] is len

    # a handle sent back resolves to the very object on the worker's side
    returned = through([back["model"]], resolve=lambda i, t: kept[i], worker_side=True)
    assert returned[0] is model


def test_objects_without_keep_are_refused():
    for value in (object(), {1: "int key"}, {1, 2}, np.array(["a", "b"]), np.array([None], dtype=object),
                  frozenset(), bytearray(b"x")):
        with pytest.raises(WireError):
            wire.encode(value)


def test_dict_with_non_string_keys_is_kept_whole_as_a_handle():
    tree = wire.encode({1: "a"}, keep=lambda obj: 42)
    assert tree == {"__kind__": "handle", "id": 42, "type": "builtins.dict"}


# ------------------------------------------------------------------ framing
def test_frames_round_trip_over_a_socket():
    a, b = socket.socketpair()
    with a, b:
        payload = wire.dumps(wire.encode({"op": "call", "args": [torch.arange(3)]}))
        wire.send_frame(a, payload)
        assert wire.recv_frame(b) == payload


def test_oversized_frame_is_refused_unread():
    a, b = socket.socketpair()
    with a, b:
        a.sendall(struct.pack("!Q", wire.MAX_FRAME + 1))  # no payload follows: it must not wait for one
        b.settimeout(5)
        with pytest.raises(WireError, match="larger than"):
            wire.recv_frame(b)
        a.sendall(struct.pack("!Q", 2**63))
        with pytest.raises(WireError):
            wire.recv_frame(b)


def test_truncated_frame_is_eof():
    a, b = socket.socketpair()
    with b:
        a.sendall(struct.pack("!Q", 100) + b"short")
        a.close()
        with pytest.raises(EOFError):
            wire.recv_frame(b)


# ------------------------------------------------------------------ hostile payloads
class Exploit:
    """Pickles as a call to os.system: running it would create ``target``."""

    def __init__(self, target: Path) -> None:
        self.target = target

    def __reduce__(self):
        return (os.system, (f"touch {self.target}",))


def torch_archive_of(obj) -> bytes:
    buffer = io.BytesIO()
    torch.save(obj, buffer)  # torch.save pickles whatever it is given
    return buffer.getvalue()


def test_the_exploit_is_live(tmp_path):
    """Control: unpickled the ordinary way, the payload does run its command."""
    target = tmp_path / "pwned"
    pickle.loads(pickle.dumps(Exploit(target)))
    assert target.exists()


@pytest.mark.filterwarnings("ignore:Detected pickle protocol")
@pytest.mark.parametrize("how", ["torch.save archive", "bare pickle", "pickle inside a tree"])
def test_pickled_code_is_refused_without_running(tmp_path, how):
    target = tmp_path / "pwned"
    exploit = Exploit(target)
    payload = {
        "torch.save archive": lambda: torch_archive_of(exploit),
        "bare pickle": lambda: pickle.dumps(exploit),
        "pickle inside a tree": lambda: torch_archive_of({"ok": True, "value": [exploit]}),
    }[how]()
    with pytest.raises(WireError, match="undecodable"):
        wire.loads(payload)
    assert not target.exists()


def test_forged_archive_members_are_refused(tmp_path):
    """An archive whose data.pkl was replaced by a hostile pickle is refused too."""
    target = tmp_path / "pwned"
    good = io.BytesIO(torch_archive_of({"ok": True}))
    forged = io.BytesIO()
    with zipfile.ZipFile(good) as src, zipfile.ZipFile(forged, "w", zipfile.ZIP_STORED) as dst:
        for item in src.infolist():
            data = src.read(item)
            if item.filename.endswith("data.pkl"):
                data = pickle.dumps(Exploit(target), protocol=2)
            dst.writestr(item, data)
    with pytest.raises(WireError):
        wire.loads(forged.getvalue())
    assert not target.exists()


@pytest.mark.parametrize("payload", [b"", b"garbage", b"PK\x03\x04broken zip", os.urandom(64)])
def test_garbage_frames_are_refused(payload):
    with pytest.raises(WireError):
        wire.loads(payload)


def tree_through(tree):
    """A hand-made tree, serialised as a worker would, then decoded by the grader."""
    return wire.decode(wire.loads(wire.dumps(tree)))


@pytest.mark.parametrize("dtype", ["|O", "<U1", "|S3", "<M8[D]", "|V8", "<m8[s]"])
def test_non_numeric_array_dtypes_are_refused(dtype):
    tree = {"__kind__": "ndarray", "class": "numpy.ndarray", "dtype": dtype, "shape": [1], "data": torch.zeros(8, dtype=torch.uint8)}
    with pytest.raises(WireError):
        tree_through(tree)


@pytest.mark.parametrize("tree", [
    {"__kind__": "no such kind"},
    {"__kind__": 3},
    {"no": "kind tag"},
    {"__kind__": "ndarray", "class": "numpy.ndarray", "dtype": "<f4", "shape": [1000], "data": torch.zeros(8, dtype=torch.uint8)},
    {"__kind__": "ndarray", "class": "numpy.ndarray", "dtype": "<f4", "shape": [2], "data": b"\0" * 8},
    {"__kind__": "ndarray", "class": "numpy.ndarray", "dtype": "<f4", "shape": [1],
     "data": torch.zeros(4, dtype=torch.float32)},
    {"__kind__": "ndarray", "class": "numpy.ndarray", "dtype": "<f4", "shape": [1],
     "data": torch.zeros(2, 2, dtype=torch.uint8)},
    {"__kind__": "bytes", "data": "not a tensor"},
    {"__kind__": "ndarray", "class": "numpy.ndarray", "dtype": "not a dtype", "shape": [1], "data": torch.zeros(4, dtype=torch.uint8)},
    {"__kind__": "tensor", "class": "x", "device": "cpu", "dtype": "float32", "shape": [2],
     "requires_grad": False, "grad_fn": None, "data": [1.0, 2.0]},
    {"__kind__": "tensor", "class": "x", "device": "meta", "dtype": "Tensor", "shape": [2],
     "requires_grad": False, "grad_fn": None, "data": None},
    {"__kind__": "tensor", "class": "x", "device": "cpu", "dtype": "float32", "shape": [1],
     "requires_grad": False, "grad_fn": None, "data": torch.nn.Parameter(torch.ones(1))},
    {"__kind__": "tensor", "class": 5, "device": "cpu", "dtype": "float32", "shape": [1],
     "requires_grad": False, "grad_fn": None, "data": torch.ones(1)},
    {"__kind__": "dict", "items": {1: "int key"}},
    {"__kind__": "dict", "items": [("a", 1)]},
    {"__kind__": "tuple", "items": {"a": 1}},
    {"__kind__": "handle", "id": "1", "type": "x"},
    {"__kind__": "handle", "id": 1, "type": None},
    {"__kind__": "complex", "re": 1.0, "im": "2"},
    {"__kind__": "dtype", "value": "Tensor"},
    {"__kind__": "dtype", "value": "__class__"},
    {"__kind__": "path", "value": b"/etc"},
    {"__kind__": "device", "value": "no such device"},
    {"__kind__": "npscalar", "class": "x", "dtype": "|O", "shape": [], "data": torch.zeros(8, dtype=torch.uint8)},
    ("a", "raw tuple"),
], ids=lambda t: str(t)[:40])
def test_malformed_trees_are_refused(tree):
    with pytest.raises(WireError):
        tree_through(tree)


def test_malformed_tree_deep_inside_a_reply_is_refused():
    tree = {"__kind__": "dict", "items": {"ok": True, "value": [1, [2, {"__kind__": "dtype", "value": "nope"}]]}}
    with pytest.raises(WireError):
        tree_through(tree)


# ------------------------------------------------------------------ values that are not plain (issue 8, class 1)
class Ghost(torch.Tensor):
    """A real __torch_dispatch__ wrapper subclass, answering the codec's alias with a sparse tensor."""

    @staticmethod
    def __new__(cls, shape):
        return torch.Tensor._make_wrapper_subclass(cls, shape, dtype=torch.float32, device="cpu")

    @classmethod
    def __torch_dispatch__(cls, func, types, args=(), kwargs=None):
        if func is torch.ops.aten.alias.default:
            return torch.zeros(args[0].shape).to_sparse()
        return torch.ones(args[0].shape)


def test_dispatch_subclass_travels_without_values_and_says_so():
    back = through(Ghost((3, 4)))
    assert back.data is None and back.layout == "dispatch" and back.subclass
    assert back.shape == (3, 4) and back.type_name.endswith("Ghost")


@pytest.mark.parametrize("tensor, layout", [
    (torch.eye(3).to_sparse(), "sparse_coo"),
    (torch.eye(3).to_sparse_csr(), "sparse_csr"),
    (torch.nested.nested_tensor([torch.ones(2), torch.ones(3)]), "nested"),
    (torch.quantize_per_tensor(torch.ones(3), 0.1, 0, torch.qint8), "quantized"),
], ids=["coo", "csr", "nested", "quantized"])
def test_tensors_that_are_not_plain_memory_travel_without_values(tensor, layout):
    back = through(tensor)
    assert back.data is None and back.layout == layout and not back.subclass


def test_subclass_values_are_read_without_its_overrides():
    class Liar(torch.Tensor):
        def clone(self, *args, **kwargs):
            return torch.full(self.shape, 9.0)

        def detach(self):
            return torch.full(self.shape, 9.0)

        def contiguous(self, *args, **kwargs):
            return torch.full(self.shape, 9.0)

    back = through(torch.arange(6.0).reshape(2, 3).as_subclass(Liar))
    assert back.subclass and back.layout == "strided" and torch.equal(back.data, torch.arange(6.0).reshape(2, 3))


def test_conjugate_and_negative_views_arrive_resolved():
    value = torch.tensor([1 + 2j, 3 - 4j]).conj()
    back = through(value)
    assert torch.equal(back.data, torch.tensor([1 - 2j, 3 + 4j])) and not back.data.is_conj()


@pytest.mark.parametrize("value, plain", [
    (torch.__version__, str(torch.__version__)),
    (type("Named", (str,), {"__str__": lambda self: "lie"})("real"), "real"),
    (type("Count", (int,), {"__int__": lambda self: 99, "__index__": lambda self: 99})(3), 3),
    (type("Ratio", (float,), {"__float__": lambda self: 9.0})(2.5), 2.5),
    (type("Blob", (bytes,), {})(b"ab"), b"ab"),
], ids=["TorchVersion", "str", "int", "float", "bytes"])
def test_builtin_subclasses_travel_as_their_plain_value(value, plain):
    back = through(value)
    assert type(back) is type(plain) and back == plain


def test_numpy_float_scalars_stay_numpy_scalars():
    assert type(through(np.float64(1.5))) is np.float64  # a float subclass, but a NumPy scalar first


# ------------------------------------------------------------------ frames that ask too much (issue 8, class 4)
def reply(value_tree) -> bytes:
    """A reply archive as a (possibly forged) worker writes it."""
    return wire.dumps({"__kind__": "dict", "items": {"ok": True, "value": value_tree}})


def with_member(payload: bytes, name: str, data: bytes | None = None, **options) -> bytes:
    """``payload`` rewritten member by member; ``name``'s bytes replaced by ``data`` (None: kept)."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(payload)) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_STORED) as dst:
        for item in src.infolist():
            content = src.read(item)
            if item.filename.endswith(name):
                content = content if data is None else data
                dst.writestr(item.filename, content, **options)
            else:
                dst.writestr(item.filename, content)
    return out.getvalue()


STRICT = wire.reply_limits(1 << 20)


def loads_strict(payload: bytes):
    return wire.decode(wire.loads(payload, STRICT), limits=STRICT)


def test_a_legitimate_reply_passes_the_strict_limits():
    value = {"spectrogram": torch.rand(1, 1, 64, 32), "audio": np.zeros(1000, np.float32), "name": "x",
             "items": [torch.ones(2)] * 3, "pair": (b"ab", 1.5)}
    back = loads_strict(reply(wire.encode(value)))["value"]
    assert torch.equal(back["items"][2].data, torch.ones(2)) and back["pair"] == (b"ab", 1.5)


def test_frame_over_the_limit_is_refused_before_reading():
    with pytest.raises(WireError, match="larger than"):
        wire.loads(reply(wire.encode(np.zeros(300_000))), STRICT)


def test_deflated_members_are_refused():
    payload = with_member(reply(wire.encode(b"\0" * 100_000)), "data/0", compress_type=zipfile.ZIP_DEFLATED)
    with pytest.raises(WireError, match="compressed"):
        loads_strict(payload)


def test_local_header_that_disagrees_with_the_directory_is_refused():
    payload = bytearray(reply(wire.encode(b"abc")))
    payload[8:10] = struct.pack("<H", zipfile.ZIP_DEFLATED)  # the first member's local header says "deflated"
    with pytest.raises(WireError, match="compressed"):
        loads_strict(bytes(payload))


def test_overlapping_members_are_refused():
    """Two directory entries pointing at the same bytes: read twice, counted once."""
    payload = bytearray(reply(wire.encode([b"x" * 1000, b"y" * 1000])))
    archive = zipfile.ZipFile(io.BytesIO(bytes(payload)))
    first, second = (archive.getinfo(f"archive/data/{i}") for i in (0, 1))
    entry = payload.index(b"archive/data/1", payload.index(b"PK\x01\x02")) - 46  # its central directory record
    payload[entry + 42:entry + 46] = struct.pack("<I", first.header_offset)
    assert second.header_offset != first.header_offset
    with pytest.raises(WireError, match="overlap"):
        loads_strict(bytes(payload))


def test_too_many_members_are_refused_before_parsing_them():
    payload = reply(wire.encode([b"%d" % i for i in range(STRICT.entries + 1)]))
    with pytest.raises(WireError, match="archive members"):
        loads_strict(payload)


def test_a_large_pickle_is_refused():
    payload = reply(wire.encode([0.5] * 200_000))  # 1.8 MB of structure in a 2 MB frame
    limits = wire.reply_limits(4 << 20)
    with pytest.raises(WireError, match="structure takes"):
        wire.loads(payload, limits)


@pytest.mark.parametrize("pickled", [
    b"\x80\x02cbuiltins\nbytearray\n\x8a\x05\x00\x00\x00\x00\x02\x85R.",           # bytearray(2**33)
    b"\x80\x02ctorch\nFloatTensor\n\x8a\x05\x00\x00\x00\x00\x02\x85R.",            # a legacy constructor
    b"\x80\x02ctorch._utils\n_rebuild_meta_tensor_no_storage\n)R.",
    b"\x80\x02\x8b\x10\x00\x00\x00" + b"\x01" * 16 + b".",                          # LONG4
    b"\x80\x02c_codecs\nencode\n(X\x01\x00\x00\x00aX\x06\x00\x00\x00latin1tR.",  # bytes
], ids=["bytearray", "FloatTensor", "meta", "LONG4", "codecs"])
def test_pickles_that_call_or_build_anything_else_are_refused(pickled):
    with pytest.raises(WireError, match="not allowed"):
        loads_strict(with_member(reply(None), "data.pkl", pickled))


def test_a_stride_0_view_sent_as_bytes_is_refused_before_it_is_read():
    """One stored byte, viewed as 2**40 of them: reading it whole would allocate a terabyte."""
    payload = reply({"__kind__": "bytes", "data": torch.zeros(1, dtype=torch.uint8).expand(1 << 40)})
    assert len(payload) < 4096
    with pytest.raises(WireError, match="view"):
        loads_strict(payload)


@pytest.mark.parametrize("data", [
    torch.arange(10.0)[2:],                         # an offset into a larger storage
    torch.arange(10.0)[::2],                        # strided
    torch.arange(12.0).reshape(3, 4).T,             # transposed
    torch.arange(6.0).requires_grad_(True),         # requires grad
], ids=["offset", "strided", "transposed", "requires_grad"])
def test_tensor_payloads_must_be_their_own_contiguous_memory(data):
    tree = {"__kind__": "tensor", "class": "torch.Tensor", "device": "cpu", "dtype": "float32",
            "shape": list(data.shape), "requires_grad": False, "grad_fn": None, "data": data}
    with pytest.raises(WireError):
        loads_strict(reply(tree))


def test_a_tensor_payload_sent_twice_is_refused():
    """The pickle memo can name one tensor a thousand times; each copy would be decoded anew."""
    shared = torch.zeros(1000, dtype=torch.uint8)
    with pytest.raises(WireError, match="twice"):
        loads_strict(reply([{"__kind__": "bytes", "data": shared} for _ in range(1000)]))


def test_two_payloads_sharing_their_bytes_are_refused():
    base = torch.zeros(1000, dtype=torch.uint8)
    views = [base.view(torch.uint8), base.view(torch.uint8)]  # distinct tensors, one storage
    with pytest.raises(WireError, match="share"):
        loads_strict(reply([{"__kind__": "bytes", "data": v} for v in views]))


def test_a_container_referred_to_twice_is_refused():
    """A list that holds the same list twice, 25 levels deep, would be walked 2**25 times."""
    tree: list = []
    for _ in range(25):
        tree = [tree, tree]
    with pytest.raises(WireError, match="twice"):
        loads_strict(reply(tree))


def test_nesting_deeper_than_the_limit_is_refused():
    tree: list = []
    for _ in range(STRICT.depth + 5):
        tree = [tree]
    with pytest.raises(WireError, match="nested deeper"):
        loads_strict(reply(tree))


def test_encoding_a_value_that_contains_itself_fails_cleanly():
    loop: list = []
    loop.append(loop)
    with pytest.raises(WireError, match="nested deeper"):
        wire.encode(loop)


def test_a_frame_dripped_byte_by_byte_misses_the_deadline():
    """Every byte arrives well within a per-read timeout; the frame's deadline still ends the wait."""
    import threading
    import time

    a, b = socket.socketpair()
    stop = threading.Event()

    def drip():
        a.sendall(struct.pack("!Q", 100))
        while not stop.wait(0.2):
            try:
                a.sendall(b"x")
            except OSError:
                return

    thread = threading.Thread(target=drip, daemon=True)
    thread.start()
    started = time.monotonic()
    try:
        with pytest.raises(TimeoutError):
            wire.recv_frame(b, deadline=started + 1.0)
        assert time.monotonic() - started < 10  # not 100 bytes x 0.2 s
    finally:
        stop.set()
        thread.join()
        a.close()
        b.close()


# ------------------------------------------------------------------ exceptions as data
def test_exception_ancestry_names_modules_and_unmasks_fake_builtins():
    fake = type("ValueError", (Exception,), {"__module__": "builtins"})  # claims to be the built-in
    info = wire.exception_info(fake("x"), "/nowhere")
    assert info["type"] == "ValueError"
    assert info["mro"] == ["<submission>.ValueError", "builtins.Exception", "builtins.BaseException", "builtins.object"]
    real = wire.exception_info(FileNotFoundError("y"), "/nowhere")
    assert real["mro"][:2] == ["builtins.FileNotFoundError", "builtins.OSError"]
    huge = wire.exception_info(type("E" * 100_000, (ValueError,), {})("m" * 100_000), "/nowhere")
    assert len(huge["type"]) <= 1000 and len(huge["message"]) <= 2000 and all(len(n) <= 1000 for n in huge["mro"])
