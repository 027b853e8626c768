"""The stub is the source of the lab's order; every check is filed under one of its functions."""

from __future__ import annotations

import pytest

from grader.course.folder import LABS, find_lab
from grader.grading.plugin import GradingPlugin
from grader.grading.run import _pytest, list_checks
from grader.course.stub import definitions, function_of, lab_definitions

STUB = '''
import torch

def _helper(): pass

def select_device(prefer=None):
    raise NotImplementedError

class UNet(torch.nn.Module):
    def __init__(self, base=64): ...
    def _private(self): ...
    def forward(self, x):
        raise NotImplementedError

def separate(model, audio, n_fft=2048): ...
'''


def test_definitions_come_in_the_stubs_order_with_methods_qualified():
    found = definitions(STUB)
    assert [d.name for d in found] == ["select_device", "UNet", "UNet.__init__", "UNet.forward", "separate"]
    assert found[-1].params == ("model", "audio", "n_fft")
    assert definitions("def broken(:") == []


NAMES = ["select_device", "setup_report", "to_numpy", "numpy_to_tensor", "UNet", "UNet.forward", "separate"]


@pytest.mark.parametrize("test_name, title, explicit, expected", [
    ("test_to_numpy_detaches", "", None, "to_numpy"),
    ("test_numpy_to_tensor_shares", "", None, "numpy_to_tensor"),       # not to_numpy: a whole name, longest
    ("test_unet_forward_pads", "", None, "UNet.forward"),
    ("test_dataset_items", "select_device() returns the CPU", None, "select_device"),   # the title's first word
    ("test_layers", "UNet(base=8) has the reference's names", None, "UNet"),
    ("test_output_shape", "the output is (batch, 1, F, T)", "UNet.forward", "UNet.forward"),  # @grades
    ("test_output_shape", "the output is (batch, 1, F, T)", None, ""),
    ("test_setup_report_with_cuda[param]", "", None, "setup_report"),
])
def test_function_of(test_name, title, explicit, expected):
    assert function_of(test_name, title, explicit, NAMES) == expected


@pytest.mark.parametrize("lab_name", sorted(LABS))
def test_every_check_of_every_lab_is_filed_under_a_function_of_its_stub(lab_name):
    names = {d.name for d in lab_definitions(LABS[lab_name])}
    unfiled = [(c.name, c.function) for c in list_checks(lab_name) if c.function not in names]
    assert unfiled == [], "name the function with @pytest.mark.grades(...) where the test's name and title do not"


def selected(lab_name: str, keyword: str) -> list[str]:
    plugin = GradingPlugin(find_lab(lab_name), None, None)
    _pytest(find_lab(lab_name), plugin, ["--collect-only", "-k", keyword])
    return [c.name for c in plugin.collected]


def test_k_matches_a_title_shown_in_the_report():
    chosen = selected("lab5", "state_dict")  # no test is named after it; two titles say it
    assert chosen == ["test_layer_names_match_reference", "test_layer_names_match_reference_bilinear"]


def test_k_matches_a_function_name():
    chosen = selected("lab5", "UNet.forward")
    assert "test_output_is_a_mask_between_0_and_1" in chosen and "test_every_parameter_gets_a_gradient" in chosen
    assert not any("separate" in name or "train_step" in name for name in chosen)
    assert "test_dataloader_batches" in selected("lab4", "SpectrogramDataset")
