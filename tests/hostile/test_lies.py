"""Submissions that lie: fake equality, lying tensors, patched comparison functions."""

from __future__ import annotations

import pytest

from grader.course.folder import find_lab
from grader.grading.run import collect

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
    (row,) = graded.check("attacked").feedback.rows
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
    assert_contained(graded, reason="numpy_to_tensor returned a LyingTensor (a torch.Tensor subclass)")
    (row,) = graded.check("attacked").feedback.rows
    assert row[2].endswith("float64 of shape (7,)")  # what it really is, not what it claims


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
        _sys.modules["grader.checks.compare"] = _types.ModuleType("grader.checks.compare")

        def numpy_to_tensor(array):
            return torch.full(array.shape, 0.5, dtype=torch.float32)  # right shape and dtype, wrong values
    """)
    assert_contained(graded, reason="wrong values")


# ------------------------------------------------------------------ values that are never compared (issue 8, class 1)
GHOST = """
        class Ghost(torch.Tensor):
            '''A wrapper subclass: it has no memory, its values are whatever __torch_dispatch__ answers.'''

            @staticmethod
            def __new__(cls, shape, dtype=torch.float32):
                return torch.Tensor._make_wrapper_subclass(cls, shape, dtype=dtype, device="cpu")

            @classmethod
            def __torch_dispatch__(cls, func, types, args=(), kwargs=None):
                if func is torch.ops.aten.alias.default:  # what the codec calls to strip a subclass
                    return torch.zeros(args[0].shape, dtype=args[0].dtype).to_sparse()
                return torch.zeros(args[0].shape, dtype=args[0].dtype)
"""


def test_dispatch_subclass_without_values_is_a_wrong_answer(attack):
    """Main let this through with no values at all, so the value comparison was skipped."""
    graded = attack(GHOST + """
        def numpy_to_tensor(array):
            return Ghost(array.shape)
    """)
    assert_contained(graded, reason="returned a Ghost (a torch.Tensor subclass that overrides torch operations")
    assert "expected a dense float32 tensor" in graded.summary("attacked")


def test_sparse_result_where_a_dense_one_is_documented(attack):
    graded = attack("""
        def numpy_to_tensor(array):
            return torch.from_numpy(array).float().to_sparse()
    """)
    assert_contained(graded, reason="numpy_to_tensor returned a sparse tensor (sparse_coo), float32 of shape (3, 4); "
                                    "expected a dense float32 tensor")


def test_subclass_with_the_right_values_is_still_not_a_plain_tensor(attack):
    graded = attack("""
        class Mine(torch.Tensor):
            pass

        def numpy_to_tensor(array):
            return torch.from_numpy(array).float().as_subclass(Mine)
    """)
    assert_contained(graded, reason="returned a Mine (a torch.Tensor subclass)")


def test_subclass_lying_about_its_storage_earns_no_view_points(attack):
    """A result that claims the input's memory (untyped_storage, data_ptr) is judged on its real memory."""
    graded = attack("""
        _inputs = []

        class Claims(torch.Tensor):
            def untyped_storage(self):
                return _inputs[-1].untyped_storage()

            def data_ptr(self):
                return _inputs[-1].data_ptr()

        _real_to_unet_input = to_unet_input

        def to_unet_input(x):
            _inputs.append(x)
            return _real_to_unet_input(x).clone().as_subclass(Claims)
    """, lab="lab4", keyword="to_unet_input")
    view = graded.check("to_unet_input_returns_a_view")
    assert view.status == "failed" and view.score == 0
    assert "Claims (a torch.Tensor subclass)" in view.feedback.summary
    assert graded.result.score == 0


# ------------------------------------------------------------------ side checks that reward not working (class 2)
EVERYTHING_ERROR = """
        class Everything(FileNotFoundError, TypeError, ValueError, RuntimeError):
            '''One exception that is every documented error at once.'''

        def _fail(*args, **kwargs):
            raise Everything("nothing here")

        for _name in __all__:
            if _name != "SpectrogramDataset":
                globals()[_name] = _fail

        class SpectrogramDataset(Dataset):
            def __init__(self, *args, **kwargs):
                raise Everything("nothing here")
"""


def test_one_exception_of_every_type_earns_nothing(attack):
    graded = attack(EVERYTHING_ERROR, lab="lab4", keyword=None)
    assert graded.result.score == 0, [(c.name, c.score) for c in graded.result.checks if c.score]
    error_paths = [c for c in graded.result.checks if "raise" in c.title and c.status != "skipped"]
    documented = [c for c in collect(find_lab("lab4")).collected if "raise" in c.title]
    assert len(error_paths) == len(documented) >= 9
    for check in error_paths:
        assert "Everything" in check.feedback.summary and "but also a" in check.feedback.summary, check.feedback
    assert graded.leftover_folders == set() and graded.leftover_processes == []


MSE_CHEATS = {
    "always equal": """
        class _Equal:
            shape, dtype, grad_fn, requires_grad = (2, 3), torch.float32, None, False

            def __eq__(self, other):
                return True

        def mse_gradient(prediction, target):
            return _Equal()
    """,
    "lying subclass": """
        class _Plain(torch.Tensor):
            @property
            def grad_fn(self):
                return None

            @property
            def requires_grad(self):
                return False

        def mse_gradient(prediction, target):
            return torch.zeros(prediction.shape).as_subclass(_Plain)
    """,
}


@pytest.mark.parametrize("cheat", sorted(MSE_CHEATS))
def test_side_checks_of_a_gradient_that_computes_nothing_earn_nothing(attack, cheat):
    graded = attack(MSE_CHEATS[cheat], lab="lab4", keyword="mse_gradient")
    for name in ("mse_gradient_leaves_inputs_untouched", "mse_gradient_returns_a_plain_tensor"):
        check = graded.check(name)
        assert check.status == "failed" and check.score == 0, (name, check.feedback)
    assert graded.result.score == 0


def test_a_documented_exception_subclass_of_ones_own_is_fair(attack):
    """A normal `class ShapeError(ValueError)` still earns the error-path points."""
    graded = attack("""
        class ShapeError(ValueError):
            pass

        _checked_to_unet_input = to_unet_input

        def to_unet_input(x):
            if getattr(x, "ndim", 2) not in (2, 3, 4):
                raise ShapeError(f"expected 2-D, 3-D or 4-D input, got shape {tuple(x.shape)}")
            return _checked_to_unet_input(x)
    """, lab="lab4", keyword="to_unet_input")
    assert graded.check("to_unet_input_rejects_other_shapes").status == "passed"
    assert graded.result.score == graded.result.max_score


def test_a_str_subclass_where_a_str_is_documented_is_judged_by_value(attack):
    """`"torch_version": torch.__version__` (a TorchVersion, a str subclass) earns full marks."""
    graded = attack("""
        _plain_setup_report = setup_report

        def setup_report():
            return {**_plain_setup_report(), "torch_version": torch.__version__}
    """, lab="lab4", keyword="setup_report")
    assert [c.status for c in graded.result.checks] == ["passed", "passed"], graded.result.checks
