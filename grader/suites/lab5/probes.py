"""Lab 5 probes: observe a U-Net where it lives, return plain data.

Loaded by path inside the worker next to ``probes.py`` (every public name
here becomes a probe), and imported as ``grader.suites.lab5.probes`` by the Lab 5
suite, which runs the *same* routines on the reference model in the grader
process, so both sides are measured the same way.  Each probe takes the
(student or reference) module first; the model argument is a handle that the
worker resolves to the real object.  Weights arrive as plain tensors and are
loaded with ``load_state_dict(strict=True)``: nothing the student wrote is
ever sent back as anything but data.
"""

from __future__ import annotations

import contextlib as _contextlib
from typing import Any as _Any, Iterator as _Iterator

import torch as _torch

# Bound when the worker loads this file, before the submission is imported: a submission that
# replaces these (torch.no_grad = ...) changes nothing here.  These probes drive the student's
# model, so they stay on the stack while it runs (plain functions, not generators: see
# grader/isolation/inside/probes.py); the settings they switch (TF32) are read live.
_no_grad, _Adam, _Tensor = _torch.no_grad, _torch.optim.Adam, _torch.Tensor
_get_num_threads, _set_num_threads = _torch.get_num_threads, _torch.set_num_threads
_cuda_init, _cuda_is_available = _torch.cuda.init, _torch.cuda.is_available


def _one_thread() -> None:
    """Small convolutions on a shared machine: extra OpenMP threads spin against other processes
    (tens of times slower on 2 busy cores), so the worker computes on one."""
    if _get_num_threads() != 1:
        _set_num_threads(1)


def lab5_build_unet(module: _Any, state_dict: dict | None = None, **kwargs: _Any) -> _Any:
    """``module.UNet(**kwargs)``, with ``state_dict`` loaded strictly if given, in eval mode."""
    _one_thread()
    model = module.UNet(**kwargs)
    if state_dict is not None:
        model.load_state_dict(state_dict, strict=True)
    model.eval()
    return model


def lab5_layout(module: _Any, model: _Any) -> dict:
    """Every ``state_dict`` entry of ``model`` (parameters and buffers): name -> shape."""
    return {name: list(value.shape) for name, value in model.state_dict().items()}


def lab5_state(module: _Any, model: _Any) -> dict:
    """The model's ``state_dict`` as a plain dict of CPU tensors."""
    return {name: value.detach().cpu().clone() for name, value in model.state_dict().items()}


@_contextlib.contextmanager
def _exact_cuda() -> _Iterator[None]:
    """No TF32 while comparing against float32 CPU results."""
    saved = _torch.backends.cuda.matmul.allow_tf32, _torch.backends.cudnn.allow_tf32
    _torch.backends.cuda.matmul.allow_tf32 = _torch.backends.cudnn.allow_tf32 = False
    try:
        yield
    finally:
        _torch.backends.cuda.matmul.allow_tf32, _torch.backends.cudnn.allow_tf32 = saved


def _on(model: _Any, device: str | None) -> _Any:
    return model if device is None else model.to(device)


def lab5_cuda_status(module: _Any) -> dict:
    """Whether this worker can use CUDA (its sandbox may hide the GPU device files)."""
    try:
        _cuda_init()
        return {"available": bool(_cuda_is_available()), "error": ""}
    except Exception as exc:  # no driver, no device, or the device files are not reachable
        return {"available": False, "error": f"{type(exc).__name__}: {exc}"[:300]}


def lab5_forward(module: _Any, model: _Any, x: _torch.Tensor, train: bool = False, device: str | None = None) -> _Any:
    """``model(x)`` in eval mode under ``no_grad`` (or in train mode), optionally on ``device``."""
    model = _on(model, device)
    x = x.detach() if device is None else x.detach().to(device)
    with _exact_cuda():
        if train:
            model.train()
            return model(x)
        model.eval()
        with _no_grad():
            return model(x)


def lab5_forward_each(module: _Any, model: _Any, x: _torch.Tensor) -> dict:
    """Eval-mode outputs for the whole batch and for each item alone (``x[i:i+1]``)."""
    model.eval()
    with _no_grad():
        whole = model(x.detach())
        alone = [model(x[i:i + 1].detach()) for i in range(x.shape[0])]
    return {"batch": whole, "alone": alone}


def lab5_parameter_grads(module: _Any, model: _Any, x: _torch.Tensor) -> dict:
    """Train mode, loss = mean of ``model(x)``, backward: parameter name -> max |grad| (None: no grad)."""
    model.train()
    model.zero_grad(set_to_none=True)
    out = model(x.detach())
    if not isinstance(out, _Tensor):
        return {"output": out, "grads": {}}
    out.float().mean().backward()
    grads = {name: None if p.grad is None else float(p.grad.detach().abs().max())
             for name, p in model.named_parameters()}
    return {"output": out, "grads": grads}  # as it is: the codec reads it without calling its methods


def lab5_train_steps(module: _Any, model: _Any, batches: list, lr: float = 1e-3, device: str | None = None) -> dict:
    """Call ``module.train_step`` once per ``(mixture_mag, vocals_mag)`` in ``batches`` with one
    ``torch.optim.Adam(model.parameters(), lr)`` made here.  The model starts in eval mode (so a
    ``train_step`` that forgets ``model.train()`` shows).  Returns the values ``train_step``
    returned, their type names, and how far the parameters moved."""
    model = _on(model, device)
    model.eval()
    params = dict(model.named_parameters())
    before = {name: p.detach().clone() for name, p in params.items()}
    optimizer = _Adam(model.parameters(), lr=lr)
    returned = []
    with _exact_cuda():
        for mix, voc in batches:
            if device is not None:
                mix, voc = mix.to(device), voc.to(device)
            returned.append(module.train_step(model, optimizer, mix.detach(), voc.detach()))
    moved = {name: float((p.detach() - before[name]).abs().max()) for name, p in params.items()}
    return {  # a float subclass counts as the float it is, read without calling its methods
        "losses": [float.__float__(v) if issubclass(type(v), float) else None for v in returned],
        "types": [f"{type(v).__module__}.{type(v).__qualname__}".removeprefix("builtins.") for v in returned],
        "moved": moved,
    }


def lab5_separate(module: _Any, model: _Any, audio: _Any, train_first: bool = False, device: str | None = None,
             **kwargs: _Any) -> _Any:
    """``module.separate(model, audio, **kwargs)``; with ``train_first`` the model is left in train
    mode beforehand (``separate`` must switch to eval itself)."""
    model = _on(model, device)
    if train_first:
        model.train()
    with _exact_cuda():
        return module.separate(model, audio, **kwargs)
