"""Probes: small trusted routines that run inside the worker, next to student code.

Some properties can only be observed where the objects live: whether a
tensor shares memory with the array it came from, what a function does when
CUDA *appears* to be present, how a dataset behaves inside a DataLoader.  A
probe observes and returns plain data; every judgement is made by the suite
in the grader process.  Each probe gets the student module as first argument.
Loaded by path inside the worker.

A probe that wraps one call of student code is a generator: it prepares the
arguments, *yields* the call as ``(function, args, kwargs)``, and receives
what it returned (or has what it raised thrown in); the worker makes that
call from the same place as every plain call (``worker.Worker.invoke``), so
the student's code cannot tell it is watched, and the probe observes after
the call returned.  A probe that must stay on the stack while student code
runs (it drives a DataLoader, say) is a plain function.  Everything a probe
uses from NumPy and torch is bound here, when the worker loads this file,
before any submission is imported: patching ``np.asfortranarray`` or
``torch.Tensor.data_ptr`` from a submission changes nothing a probe sees.
"""

from __future__ import annotations

import contextlib
import inspect
from typing import Any, Iterator
from unittest import mock

import numpy as np
import torch


# Bound now, before any submission is imported (see the module's docstring).
_asfortranarray, _shares_memory, _array_equal = np.asfortranarray, np.shares_memory, np.array_equal
_ndarray = np.ndarray
_Tensor, _device, _strided, _contiguous = torch.Tensor, torch.device, torch.strided, torch.contiguous_format
_DataLoader = torch.utils.data.DataLoader
_patch, _ExitStack = mock.patch, contextlib.ExitStack
# The classes is_instance may be asked about, as the libraries define them (bound before any submission).
_CLASSES = {"torch.utils.data.Dataset": torch.utils.data.Dataset, "torch.nn.Module": torch.nn.Module,
            "torch.Tensor": torch.Tensor, "numpy.ndarray": np.ndarray}
_isgenerator = inspect.isgenerator


def run_here(probe: Any, module: Any, *args: Any, **kwargs: Any) -> Any:
    """What ``probe`` observes, run in this process with its call made right here (the worker makes
    the call from its own loop instead: ``worker.Worker.invoke``).  For tests, and for the grader."""
    steps = probe(module, *args, **kwargs)
    if not _isgenerator(steps):
        return steps
    try:
        function, call_args, call_kwargs = next(steps)
    except StopIteration as stop:
        return stop.value
    try:
        value = function(*call_args, **call_kwargs)
    except BaseException as exc:  # the probe decides what the student's exception means
        return _resumed(steps.throw, exc)
    return _resumed(steps.send, value)


def _resumed(resume: Any, value: Any) -> Any:
    try:
        resume(value)
    except StopIteration as stop:
        return stop.value
    raise RuntimeError("a probe may make one call")


def call_with_devices(module: Any, function: str, args: list, kwargs: dict, *,
                      cuda: int = 0, mps: bool = False,
                      cuda_name: str = "Simulated GPU", cuda_version: str = "12.1") -> Iterator[tuple]:
    """Call ``function`` while torch reports ``cuda`` GPUs and MPS as given."""
    with simulated_devices(cuda, mps, cuda_name, cuda_version):
        return (yield getattr(module, function), args, kwargs)


@contextlib.contextmanager
def simulated_devices(cuda: int, mps: bool, name: str, version: str) -> Iterator[None]:
    with _ExitStack() as stack:
        patches = [
            _patch("torch.cuda.is_available", lambda: cuda > 0),
            _patch("torch.cuda.device_count", lambda: cuda),
            _patch("torch.cuda.get_device_name", lambda device=None: _gpu_name(device, cuda, name)),
            _patch("torch.cuda.current_device", lambda: 0),
            _patch("torch.version.cuda", version if cuda else None),
            _patch("torch.backends.mps.is_available", lambda: mps),
            _patch("torch.backends.mps.is_built", lambda: mps),
        ]
        for patch in patches:
            stack.enter_context(patch)
        yield


def _gpu_name(device: Any, count: int, name: str) -> str:
    """GPU 0 is called ``name``, the others differently; an index torch would reject raises, as torch does."""
    if isinstance(device, int):
        index = device
    else:
        index = 0 if device is None else _device(device).index or 0
    if not 0 <= index < count:
        raise AssertionError("Invalid device id")
    return name if index == 0 else f"Simulated GPU {index}"


# A probe reads tensors through torch._C.TensorBase (an immutable type, captured before the
# submission is imported): a subclass's overrides, or a patched torch.Tensor method, never run.
_TensorBase = torch._C.TensorBase
_StorageBase = torch._C.StorageBase
_no_torch_function = torch._C.DisableTorchFunctionSubclass
_dispatch_keys, _PYTHON_KEY = torch._C._dispatch_keys, torch._C.DispatchKey.Python
_grad = _TensorBase.__dict__["grad"].__get__
_requires_grad = _TensorBase.__dict__["requires_grad"].__get__
_layout = _TensorBase.__dict__["layout"].__get__


def _readable(value: Any) -> bool:
    """A tensor whose memory can be read as is: strided, not a __torch_dispatch__ subclass."""
    return (issubclass(type(value), _Tensor) and not _dispatch_keys(value).has(_PYTHON_KEY)
            and _layout(value) is _strided)


def snapshot(value: Any) -> torch.Tensor | None:
    """A plain copy of a tensor's values as they are now (None if it has no memory to read)."""
    if not _readable(value):
        return None
    with _no_torch_function():
        return _TensorBase.clone(_TensorBase.detach(value), memory_format=_contiguous)


def storage_address(value: Any) -> int:
    """Where a tensor's memory starts (0 when it has none to read)."""
    if not _readable(value):
        return 0
    with _no_torch_function():
        return int(_StorageBase.data_ptr(_TensorBase.untyped_storage(value)))


def shares_memory(module: Any, function: str, array: np.ndarray, view: str | None = None) -> Iterator[tuple]:
    """Call ``function(array or a view of it)``, add 1 to the array, read the result, undo the write.

    Returns the result itself and a copy of its values read while the array
    was raised by one; the suite judges whether they moved together.
    """
    owner, source = _make_view(array, view)
    result = yield getattr(module, function), [source], {}
    owner += 1
    raised = snapshot(result)
    owner -= 1
    return {"result": result, "after_write": raised}


def _make_view(array: np.ndarray, view: str | None) -> tuple[np.ndarray, np.ndarray]:
    """(the array that owns the memory, the layout handed to the student)."""
    views = {
        None: lambda a: a,
        "fortran": lambda a: _asfortranarray(a),
        "every_other_column": lambda a: a[:, ::2],
        "transposed": lambda a: a.T,
        "reversed": lambda a: a[::-1],
        "new_axis": lambda a: a[:, None],  # a stride of 0
        "every_other": lambda a: a[::2],
    }
    made = views[view](array)
    return (made if view == "fortran" else array), made  # asfortranarray copies


def call_watching_arrays(module: Any, function: str, args: list, kwargs: dict,
                         views: dict | None = None) -> Iterator[tuple]:
    """Call ``function(*args, **kwargs)`` and report which array arguments it changed in place.

    ``views`` maps a position in ``args`` to a layout of :func:`_make_view`:
    that argument is handed over as a strided view (its owner is watched).
    ``changed`` lists the positions and keyword names of changed arrays,
    ``shared`` those the result shares memory with.
    """
    args, owners = list(args), {}
    for index, view in (views or {}).items():
        owners[int(index)], args[int(index)] = _make_view(args[int(index)], view)
    watched = {**{str(i): owners.get(i, a) for i, a in enumerate(args)}, **kwargs}
    watched = {k: v for k, v in watched.items() if type(v) is _ndarray}
    before = {k: _ndarray.copy(v) for k, v in watched.items()}
    result = yield getattr(module, function), args, kwargs
    changed = [k for k, v in watched.items() if not _array_equal(v, before[k], equal_nan=v.dtype.kind in "fc")]
    shared = [k for k, v in watched.items() if isinstance(result, _ndarray) and _shares_memory(result, v)]
    return {"result": result, "changed": changed, "shared": shared}


def is_view_of_input(module: Any, function: str, tensor: torch.Tensor) -> Iterator[tuple]:
    """Call ``function(tensor)``; return the result and where its memory and the input's start."""
    result = yield getattr(module, function), [tensor], {}
    return {"result": result, "result_storage": storage_address(result), "input_storage": storage_address(tensor)}


def inputs_untouched(module: Any, function: str, *tensors: torch.Tensor) -> Iterator[tuple]:
    """Call ``function(*tensors)``; return the result and the inputs as they are afterwards:
    their values, their ``.grad`` and their ``requires_grad``."""
    result = yield getattr(module, function), list(tensors), {}
    return {
        "result": result,
        "values": [snapshot(t) for t in tensors],
        "grads": [_grad(t) for t in tensors],
        "requires_grad": [bool(_requires_grad(t)) for t in tensors],
    }


def length(module: Any, obj: Any) -> Iterator[tuple]:
    """``len(obj)``."""
    return (yield len, [obj], {})


def is_instance(module: Any, obj: Any, qualified_name: str) -> bool:
    """Whether the object's real class (not what its ``__class__`` claims) derives from the named one, as
    the library defined it before the submission was imported (one that sets ``torch.utils.data.Dataset =
    object`` changes nothing here). The name is one of :data:`_CLASSES`."""
    if qualified_name not in _CLASSES:
        raise LookupError(f"is_instance knows no class {qualified_name!r}: bind it in probes._CLASSES")
    return issubclass(type(obj), _CLASSES[qualified_name])


def loader_batches(module: Any, dataset: Any, batch_size: int) -> list:
    """Every batch that ``DataLoader(dataset, batch_size)`` yields, in order."""
    loader = _DataLoader(dataset, batch_size=batch_size, shuffle=False)
    return list(loader)
