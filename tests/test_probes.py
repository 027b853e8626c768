"""Probes return raw observations read without the submission's overrides (grader/isolation/inside/probes.py).

Run here, in-process, on stand-in submissions, with ``probes.run_here`` (the probe's one call made here).
"""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import torch

from grader.isolation.inside import probes


class Claims(torch.Tensor):
    """A result that claims to live in someone else's memory."""

    target: torch.Tensor

    def untyped_storage(self):
        return Claims.target.untyped_storage()

    def data_ptr(self):
        return Claims.target.data_ptr()


class Ghost(torch.Tensor):
    @staticmethod
    def __new__(cls, shape):
        return torch.Tensor._make_wrapper_subclass(cls, shape, dtype=torch.float32, device="cpu")

    @classmethod
    def __torch_dispatch__(cls, func, types, args=(), kwargs=None):
        return torch.zeros(2)


def test_storage_addresses_are_the_real_ones():
    x = torch.arange(6.0).reshape(2, 3)

    def lying_copy(t):
        Claims.target = t
        return t.clone().as_subclass(Claims)

    module = SimpleNamespace(view=lambda t: t.unsqueeze(0), copy=lying_copy, ghost=lambda t: Ghost((2,)))
    view = probes.run_here(probes.is_view_of_input, module, "view", x)
    assert view["result_storage"] == view["input_storage"] != 0
    lie = probes.run_here(probes.is_view_of_input, module, "copy", x)
    assert lie["result"].untyped_storage().data_ptr() == x.untyped_storage().data_ptr()  # the lie works on torch...
    assert lie["result_storage"] != lie["input_storage"]                                # ...not on the probe
    assert probes.run_here(probes.is_view_of_input, module, "ghost", x)["result_storage"] == 0


def test_shares_memory_returns_what_it_saw_while_the_array_was_raised():
    module = SimpleNamespace(share=torch.from_numpy, copy=lambda a: torch.tensor(a), ghost=lambda a: Ghost((2,)))
    array = np.arange(6, dtype=np.float32)
    shared = probes.run_here(probes.shares_memory, module, "share", array)
    assert torch.equal(shared["after_write"], torch.arange(6.0) + 1) and torch.equal(shared["result"], torch.arange(6.0))
    assert np.array_equal(array, np.arange(6))  # the write was undone
    copied = probes.run_here(probes.shares_memory, module, "copy", array)
    assert torch.equal(copied["after_write"], torch.arange(6.0))
    assert probes.run_here(probes.shares_memory, module, "ghost", array)["after_write"] is None


def test_inputs_untouched_reports_values_grads_and_flags_after_the_call():
    def meddles(p, t):
        p.requires_grad_(True)
        (p * 2).sum().backward()
        t.add_(1)
        return p.grad

    p, t = torch.zeros(3), torch.zeros(3)
    seen = probes.run_here(probes.inputs_untouched, SimpleNamespace(f=meddles), "f", p, t)
    assert seen["requires_grad"] == [True, False]
    assert torch.equal(seen["grads"][0], torch.full((3,), 2.0)) and seen["grads"][1] is None
    assert torch.equal(seen["values"][1], torch.ones(3))


def test_is_instance_looks_at_the_real_class():
    class Pretender:
        @property
        def __class__(self):
            return torch.utils.data.Dataset

    assert isinstance(Pretender(), torch.utils.data.Dataset)
    assert probes.is_instance(None, Pretender(), "torch.utils.data.Dataset") is False
