"""Shared checks (grader/checks/compare.py): results are plain or wrong, exceptions are the documented ones,
values that are instances of the documented type are judged by value."""

from __future__ import annotations

import builtins

import numpy as np
import pytest
import torch

from grader.isolation.inside import wire
from grader.checks.compare import CheckFailed, describe, expect_match, expect_plain_tensor, expect_raises, mismatches
from grader.grading.session import StudentError


def qualified(cls: type) -> list[str]:
    """An exception class's ancestry as the worker names it."""
    return [f"builtins.{c.__name__}" if getattr(builtins, c.__name__, None) is c else f"student.{c.__qualname__}"
            for c in cls.__mro__]


class Raising:
    """A stand-in submission whose every function raises ``cls``."""

    def __init__(self, cls: type) -> None:
        self.cls = cls

    def __getattr__(self, name: str):
        def call(*args, **kwargs):
            raise StudentError({"type": self.cls.__name__, "mro": qualified(self.cls), "message": "bad shape (7,)"})
        return call


class ShapeError(ValueError):
    pass


class Everything(FileNotFoundError, TypeError, ValueError, RuntimeError):
    pass


class ValueErrorLookalike(Exception):
    pass


ValueErrorLookalike.__name__ = ValueErrorLookalike.__qualname__ = "ValueError"


@pytest.mark.parametrize("cls, documented", [
    (ValueError, "ValueError"), (ShapeError, "ValueError"), (FileNotFoundError, "FileNotFoundError"),
    (FileNotFoundError, "OSError"), (ValueError, ("TypeError", "ValueError")),
])
def test_the_documented_exception_or_ones_own_subclass_of_it_is_accepted(cls, documented):
    expect_raises(Raising(cls), "f", documented, match="shape")


@pytest.mark.parametrize("cls, documented", [
    (Everything, "ValueError"), (Everything, "TypeError"), (Everything, "FileNotFoundError"),
    (Everything, "RuntimeError"), (TypeError, "ValueError"), (ValueErrorLookalike, "ValueError"),
    (OSError, "FileNotFoundError"),
])
def test_other_exceptions_and_one_of_every_kind_are_refused(cls, documented):
    with pytest.raises(CheckFailed) as failed:
        expect_raises(Raising(cls), "f", documented)
    if cls is Everything:
        assert "but also a" in failed.value.feedback.summary


def test_not_implemented_says_so_and_no_exception_is_a_failure():
    with pytest.raises(CheckFailed, match="not implemented yet"):
        expect_raises(Raising(NotImplementedError), "f", "ValueError")

    class Returns:
        def __getattr__(self, name):
            return lambda *a, **k: 3

    with pytest.raises(CheckFailed, match="should raise ValueError"):
        expect_raises(Returns(), "f", "ValueError")


def tensor_value(value, **changes) -> wire.TensorValue:
    """What the grader receives for ``value``, with fields forged as a worker might."""
    back = wire.decode(wire.loads(wire.dumps(wire.encode(value))))
    for field, forged in changes.items():
        setattr(back, field, forged)
    return back


@pytest.mark.parametrize("changes, said", [
    ({"layout": "dispatch", "subclass": True, "data": None}, "__torch_dispatch__"),
    ({"subclass": True, "type_name": "student.Mine"}, "a Mine (a torch.Tensor subclass)"),
    ({"layout": "sparse_coo", "data": None}, "a sparse tensor (sparse_coo)"),
    ({"layout": "nested", "data": None}, "a nested tensor"),
    ({"data": None}, "a tensor without values"),
], ids=["dispatch", "subclass", "sparse", "nested", "no data"])
def test_a_tensor_that_is_not_plain_dense_memory_is_a_wrong_answer(changes, said):
    expected = torch.ones(3, 4)
    got = tensor_value(torch.ones(3, 4), **changes)
    with pytest.raises(CheckFailed) as failed:
        expect_match(got, expected, function="f")
    summary = failed.value.feedback.summary
    assert said in summary and summary.startswith("f returned a") and "expected a dense float32 tensor" in summary
    with pytest.raises(CheckFailed):
        expect_plain_tensor(got, function="f")


def test_a_meta_tensor_is_fine_where_a_meta_tensor_is_expected_only():
    meta = tensor_value(torch.empty(3, device="meta"))
    assert mismatches(meta, torch.empty(3, device="meta"), rtol=0, atol=0) == []
    assert mismatches(meta, torch.empty(3), rtol=0, atol=0)[0][0] == "device"
    with pytest.raises(CheckFailed, match="meta device"):
        expect_plain_tensor(meta, function="f")


@pytest.mark.parametrize("kind", ["tensor", "array"])
def test_values_are_equal_within_the_tolerance_given_and_no_further(kind):
    """rtol is relative to the expected value, atol absolute; a value off by more is wrong, at its index."""
    expected = torch.tensor([1.0, 100.0, 1e4], dtype=torch.float64)
    close, off = expected * (1 + 1e-7), expected.clone()
    off[1] = 101.0                                                  # 1 % off
    got = tensor_value if kind == "tensor" else (lambda t: t.numpy())
    want = expected if kind == "tensor" else expected.numpy()
    assert mismatches(got(close), want, rtol=1e-5, atol=1e-6) == []
    rows = mismatches(got(off), want, rtol=1e-5, atol=1e-6)
    assert [row[0] for row in rows] == ["values"] and "at index (1,)" in rows[0][2], rows
    assert mismatches(got(off), want, rtol=2e-2, atol=0) == []      # the tolerance given is the one used


def test_values_inside_containers_are_compared_too():
    got = [tensor_value(torch.ones(2)), tensor_value(torch.ones(2), layout="sparse_coo", data=None)]
    rows = mismatches(got, [torch.ones(2), torch.ones(2)], rtol=0, atol=0)
    assert rows[0][0] == "[1] tensor"


class Version(str):
    def __eq__(self, other):
        return False

    __hash__ = str.__hash__


@pytest.mark.parametrize("got, expected", [
    ("2.13.0", Version("2.13.0")),                 # the reference itself returned a str subclass
    (3, type("Count", (int,), {})(3)),
    (True, True),
    (2, 2.0),
    (1.5, type("Ratio", (float,), {})(1.5)),
    (np.float64(1.5), 1.5),                       # a NumPy float64 is a Python float
])
def test_instances_of_the_documented_type_are_judged_by_value(got, expected):
    assert mismatches(got, expected, rtol=1e-9, atol=0) == []


@pytest.mark.parametrize("got, expected", [
    (1, True), (True, 1), ("2.13", "2.13.0"), (np.bool_(True), True), (None, "x"), (1.0, 1),
    (np.float32(1.5), 1.5), (np.int64(3), 3), (True, 1.0),
])
def test_other_types_or_values_are_not(got, expected):
    assert mismatches(got, expected, rtol=1e-9, atol=0)


def test_describe_of_long_or_hostile_strings_is_short_and_inert():
    text = describe("\x1b[2J" + "x" * 1_000_000)
    assert len(text) <= 80 and "\x1b" not in text
    assert describe(tensor_value(torch.ones(2), layout="sparse_coo", data=None)).startswith("a sparse tensor")
