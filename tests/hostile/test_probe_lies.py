"""Probes that cannot be lied to (issue 20, item 6).

A probe runs in the student's process, next to their code. Two ways a submission
could bend what it observes: replace the NumPy and torch functions the trusted code
looks up when it runs, or look up the stack to tell a probe's call from a plain
one and behave correctly only when watched. Each liar below is graded beside its
honest twin (the same code without the lie) and must earn no more than it.
"""

from __future__ import annotations

import re

import pytest

from tests.hostile.conftest import Graded

KEYWORD = "numpy_to_tensor or to_unet_input or mse_gradient"
PROPERTY_CHECKS = ("numpy_to_tensor_shares_memory", "numpy_to_tensor_shares_memory_of_views",
                   "to_unet_input_returns_a_view", "mse_gradient_leaves_inputs_untouched")

# The honest twin: numpy_to_tensor copies, to_unet_input copies, mse_gradient works on the caller's tensor.
TWIN = """
_honest_numpy_to_tensor, _honest_to_unet_input = numpy_to_tensor, to_unet_input


def _copying_numpy_to_tensor(array):
    return _honest_numpy_to_tensor(array).clone()


def _copying_to_unet_input(x):
    return _honest_to_unet_input(x).clone()


def _careless_mse_gradient(prediction, target):
    prediction.requires_grad_(True)
    loss = F.mse_loss(prediction, target.detach())
    (grad,) = torch.autograd.grad(loss, prediction)
    return grad
"""

PLAIN = TWIN + """
numpy_to_tensor, to_unet_input, mse_gradient = _copying_numpy_to_tensor, _copying_to_unet_input, _careless_mse_gradient
"""

# Replaces the NumPy and torch functions the worker's own code used at call time: arrays the
# wire decodes and views the probes make become a subclass whose in-place writes are mirrored
# into the copies numpy_to_tensor handed out, so a copy looks as if it shared memory.
PATCHES = TWIN + """
import numpy as _np

_copies = []


class _Mirror(_np.ndarray):
    def __iadd__(self, other):
        for copy in _copies:
            copy += other
        return _np.ndarray.__iadd__(self, other)

    def __isub__(self, other):
        for copy in _copies:
            copy -= other
        return _np.ndarray.__isub__(self, other)


def _mirrored(make):
    return lambda *args, **kwargs: make(*args, **kwargs).view(_Mirror)


_np.frombuffer, _np.asfortranarray = _mirrored(_np.frombuffer), _mirrored(_np.asfortranarray)
_np.ascontiguousarray = _mirrored(_np.ascontiguousarray)
_np.shares_memory = lambda *args, **kwargs: True
_np.array_equal = lambda *args, **kwargs: True
_real_from_numpy = torch.from_numpy
torch.from_numpy = lambda array: _real_from_numpy(_np.asarray(array))


def numpy_to_tensor(array):
    copy = _copying_numpy_to_tensor(array)
    _copies.append(copy)
    return copy


to_unet_input, mse_gradient = _copying_to_unet_input, _careless_mse_gradient
"""

# Behaves correctly only when something up the stack looks like a probe.
WATCHED = TWIN + """
import inspect as _inspect
import sys as _sys

_PROBE_WORDS = ("probe", "shares_memory", "view", "untouched", "watching")
_PROBE_LOCALS = {"owner", "watched", "before", "tensors", "source"}


def _watched():
    # a probe's file or function up the stack, one of its locals, or a caller never seen on a plain call
    for frame in _inspect.stack()[2:]:
        if any(word in (frame.filename + frame.function).lower() for word in _PROBE_WORDS):
            return True
        if _PROBE_LOCALS & set(frame.frame.f_locals):
            return True
    caller = _sys._getframe(2)
    return caller.f_code.co_name not in _plain_callers and len(_plain_callers) > 0


_plain_callers = set()


def _learn():
    _plain_callers.add(_sys._getframe(2).f_code.co_name)


def numpy_to_tensor(array):
    if _watched():
        return _honest_numpy_to_tensor(array)
    _learn()
    return _copying_numpy_to_tensor(array)


def to_unet_input(x):
    if _watched():
        return _honest_to_unet_input(x)
    _learn()
    return _copying_to_unet_input(x)


def mse_gradient(prediction, target):
    if _watched():
        p = prediction.detach().clone().requires_grad_(True)
        (grad,) = torch.autograd.grad(F.mse_loss(p, target.detach()), p)
        return grad
    _learn()
    return _careless_mse_gradient(prediction, target)
"""

# Prints, on every call, what it can see above itself: each frame's file, function, line and
# local names (and their types). A probe's call and a plain one must print the same.
STACK = """
import inspect as _inspect
import sys as _sys

_honest_numpy_to_tensor = numpy_to_tensor


def _seen_from_here():
    frames = []
    frame = _sys._getframe(2)
    while frame is not None:
        local_types = sorted((name, type(value).__name__) for name, value in frame.f_locals.items())
        frames.append((frame.f_code.co_filename, frame.f_code.co_name, frame.f_lineno, local_types))
        frame = frame.f_back
    return frames


def numpy_to_tensor(array):
    print("STACK", repr(_seen_from_here()), "END")
    return _honest_numpy_to_tensor(array)
"""


def points(graded: Graded) -> dict[str, float]:
    return {c.name: c.score for c in graded.result.checks}


def test_patching_numpy_and_torch_earns_nothing_over_the_honest_twin(attack):
    twin = attack(PLAIN, lab="lab4", keyword=KEYWORD)
    liar = attack(PATCHES, lab="lab4", keyword=KEYWORD)
    assert liar.result.score <= twin.result.score, {k: v for k, v in points(liar).items() if v > points(twin)[k]}
    for name in PROPERTY_CHECKS[:2]:
        assert liar.check(name).score == 0, liar.check(name).feedback
    assert liar.leftover_folders == set() and liar.leftover_processes == []


def test_a_function_that_inspects_its_callers_earns_nothing_over_its_honest_twin(attack):
    twin = attack(PLAIN, lab="lab4", keyword=KEYWORD)
    liar = attack(WATCHED, lab="lab4", keyword=KEYWORD)
    assert liar.result.score <= twin.result.score, {k: v for k, v in points(liar).items() if v > points(twin)[k]}
    for name in PROPERTY_CHECKS:
        assert liar.check(name).score == twin.check(name).score == 0, (name, liar.check(name).feedback)


def test_a_probed_call_looks_exactly_like_a_plain_call_from_the_students_frame(attack):
    graded = attack(STACK, lab="lab4", keyword="numpy_to_tensor")
    seen: dict[str, set[str]] = {}
    for check in graded.result.checks:
        for stack in re.findall(r"STACK (.*?) END", check.output):
            seen.setdefault(stack, set()).add(check.name)
    probed = {"test_numpy_to_tensor_shares_memory", "test_numpy_to_tensor_shares_memory_of_views"}
    assert probed <= set().union(*seen.values()), "the probes' calls printed nothing"
    assert len(seen) == 1, "the stack above a call says what it is for: " + "; ".join(
        f"{sorted(names)[:2]}: {stack[:300]}" for stack, names in seen.items())


@pytest.mark.xfail(strict=True, reason="a submission can write a probe's whole reply on the worker's channel "
                                       "itself: only an observation made outside the student's process closes it "
                                       "(no key the worker's code can use is out of the student's reach: "
                                       "see test_probe_reach.py's last section)")
def test_a_forged_probe_reply_earns_nothing(attack):
    from tests.hostile.test_reply_stream import with_channel

    forged = with_channel("""
        _honest_numpy_to_tensor = numpy_to_tensor

        def _tree(t):
            return {"__kind__": "tensor", "class": "torch.Tensor", "subclass": False, "layout": "strided",
                    "device": "cpu", "dtype": "float32", "shape": list(t.shape), "requires_grad": False,
                    "grad_fn": None, "data": t.contiguous().clone()}

        def numpy_to_tensor(array):
            if array.dtype != np.float32 or array.shape != (3, 4):
                return _honest_numpy_to_tensor(array).clone()
            copy = torch.tensor(np.asarray(array), dtype=torch.float32)
            seen = {"__kind__": "dict", "items": {"result": _tree(copy), "after_write": _tree(copy + 1)}}
            _send_forged(_reply_with(seen))   # the reply a sharing numpy_to_tensor would have earned
    """)
    twin = attack(PLAIN, lab="lab4", keyword="numpy_to_tensor")
    liar = attack(forged, lab="lab4", keyword="numpy_to_tensor")
    assert liar.check("numpy_to_tensor_shares_memory").score == 0
    assert liar.result.score <= twin.result.score
