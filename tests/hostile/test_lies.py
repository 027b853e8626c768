"""Submissions that lie: fake equality, lying tensors, patched comparison functions."""

from __future__ import annotations

from tests.hostile.conftest import assert_contained


def test_object_equal_to_everything(attack):
    graded = attack("""
        class AlwaysEqual:
            shape, dtype, device = (3, 4), torch.float32, torch.device("cpu")

            def __eq__(self, other):
                return True

            def __ne__(self, other):
                return False

            def __hash__(self):
                return 0

        def numpy_to_tensor(array):
            return AlwaysEqual()
    """)
    assert_contained(graded, reason="wrong type")
    (row,) = graded.check("attacked").feedback["rows"]
    assert row[1] == "a torch.Tensor" and "AlwaysEqual" in row[2]


def test_tensor_subclass_that_lies_about_shape_and_dtype(attack):
    graded = attack("""
        class LyingTensor(torch.Tensor):
            @property
            def shape(self):
                return torch.Size([3, 4])

            @property
            def dtype(self):
                return torch.float32

            def size(self, dim=None):
                return torch.Size([3, 4]) if dim is None else (3, 4)[dim]

            def __eq__(self, other):
                return torch.ones(3, 4, dtype=torch.bool)

        def numpy_to_tensor(array):
            return torch.zeros(7, dtype=torch.float64).as_subclass(LyingTensor)
    """)
    assert_contained(graded, reason="wrong shape")
    rows = {row[0]: tuple(row[1:]) for row in graded.check("attacked").feedback["rows"]}
    assert rows["shape"] == ("(3, 4)", "(7,)") and rows["dtype"] == ("float32", "float64")


def test_patching_comparisons_in_the_worker_has_no_effect(attack):
    graded = attack("""
        import sys as _sys
        import types as _types
        import numpy.testing as _npt
        import pytest as _pytest

        def _yes(*args, **kwargs):
            return True

        def _quiet(*args, **kwargs):
            return None

        torch.allclose = torch.equal = torch.isclose = _yes
        torch.Tensor.__eq__ = torch.Tensor.equal = torch.Tensor.allclose = _yes
        np.allclose = np.array_equal = np.isclose = _yes
        _npt.assert_allclose = _npt.assert_array_equal = _npt.assert_equal = _quiet
        _pytest.approx = lambda *args, **kwargs: _types.SimpleNamespace(__eq__=_yes)
        _sys.modules["pytest"] = _types.ModuleType("pytest")
        _sys.modules["grader"] = _types.ModuleType("grader")
        _sys.modules["grader.checks"] = _types.ModuleType("grader.checks")

        def numpy_to_tensor(array):
            return torch.full(array.shape, 0.5, dtype=torch.float32)  # right shape and dtype, wrong values
    """)
    assert_contained(graded, reason="wrong values")
