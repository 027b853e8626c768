"""Lab 4 · Devices: select_device, setup_report, to_device.

GPUs are simulated: the student's code runs under the probe
``call_with_devices`` in the worker, the reference under
``simulated_devices`` here, with the same devices, so both see the same
machine whatever this one really has.
"""

from __future__ import annotations

import contextlib
from typing import Any, Iterator

import numpy as np
import pytest
import torch

from grader.checks import (CheckFailed, call_student, compare, describe, describe_call, expect,
                           expect_match, expect_raises)
from grader.checks import expectation
from grader.checks import simulated_devices

GPU_NAME = "NVIDIA GeForce RTX 2070 Super Max-Q"  # the GPU from the lecture's setup check
CUDA_VERSION = "12.1"


class Simulation:
    """One simulated machine, for the student (in the worker) and the reference (here)."""

    def __init__(self, cuda: int = 0, mps: bool = False) -> None:
        self.cuda, self.mps = cuda, mps

    def __str__(self) -> str:
        gpus = {0: "no CUDA GPU", 1: "1 CUDA GPU"}.get(self.cuda, f"{self.cuda} CUDA GPUs")
        return f"{gpus} and {'an' if self.mps else 'no'} Apple MPS device (simulated)"

    def student(self, submission: Any) -> "_InWorker":
        return _InWorker(submission, self)

    def reference(self, reference: Any) -> "_Here":
        return _Here(reference, self)

    @contextlib.contextmanager
    def explained(self) -> Iterator[None]:
        """Say which machine was simulated in the input line of any failure."""
        try:
            yield
        except CheckFailed as exc:
            feedback = exc.feedback
            feedback.input = f"{feedback.input or 'the call'} on a machine with {self}"
            raise CheckFailed(feedback) from None


class _InWorker:
    """The student's module, each call made under the simulation (probe call_with_devices)."""

    def __init__(self, submission: Any, simulation: Simulation) -> None:
        self._submission, self._simulation = submission, simulation

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)
        sim = self._simulation

        def call(*args: Any, **kwargs: Any) -> Any:
            return self._submission.probe("call_with_devices", name, list(args), kwargs, cuda=sim.cuda,
                                          mps=sim.mps, cuda_name=GPU_NAME, cuda_version=CUDA_VERSION)
        return call


class _Here:
    """The reference module, each call made under the same simulation in this process."""

    def __init__(self, module: Any, simulation: Simulation) -> None:
        self._module, self._simulation = module, simulation

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)
        sim = self._simulation

        def call(*args: Any, **kwargs: Any) -> Any:
            return simulated_call(self._module, sim.cuda, sim.mps, name, *args, **kwargs)
        return call


@expectation
def simulated_call(reference: Any, cuda: int, mps: bool, name: str, *args: Any, **kwargs: Any) -> Any:
    """``reference.name(*args, **kwargs)`` on the simulated machine: the machine is part of the call."""
    with simulated_devices(cuda, mps, GPU_NAME, CUDA_VERSION):
        return getattr(reference, name)(*args, **kwargs)


def expect_device(got: Any, expected: torch.device, *, input: str, hint: str) -> None:
    """``got`` names the same device (``cuda:0`` counts as ``cuda``, as with one GPU)."""
    if not isinstance(got, torch.device):
        expect(False, "select_device should return a torch.device", function="select_device", input=input,
               rows=[("result", repr(expected), describe(got))],
               hint="wrap the name in torch.device(...), as the lecture does: torch.device('cuda')")
    same = got.type == expected.type and (got.index == expected.index
                                          or (expected.index is None and got.index == 0))
    expect(same, "select_device chose the wrong device", function="select_device", input=input,
           rows=[("device", str(expected), str(got))], hint=hint)


def check_select(submission: Any, reference: Any, simulation: Simulation, *args: Any, hint: str) -> None:
    with simulation.explained():
        expected = simulation.reference(reference).select_device(*args)
        got = call_student(simulation.student(submission), "select_device", *args, hint=hint)
        expect_device(got, expected, input=describe_call("select_device", args, {}), hint=hint)


# ------------------------------------------------------------------ select_device
@pytest.mark.points(1)
def test_select_device_falls_back_to_cpu(submission, reference):
    """select_device() returns the CPU on a machine without a GPU"""
    check_select(submission, reference, Simulation(cuda=0), hint=(
        "lecture: torch.device('cuda' if torch.cuda.is_available() else 'cpu') -- without a GPU, "
        "PyTorch falls back to the CPU gracefully"))


@pytest.mark.points(1)
def test_select_device_picks_cuda(submission, reference):
    """select_device() picks CUDA when a GPU is available"""
    check_select(submission, reference, Simulation(cuda=1, mps=True), hint=(
        "call torch.cuda.is_available() inside select_device, every time it runs (the grader simulates "
        "a GPU by patching it); when it is True return torch.device('cuda') -- CUDA comes before MPS"))


@pytest.mark.points(1)
def test_select_device_picks_mps(submission, reference):
    """select_device() picks MPS (Apple silicon) when there is no CUDA GPU"""
    check_select(submission, reference, Simulation(cuda=0, mps=True), hint=(
        "extend the lecture's device line with the Apple-silicon fallback: cuda if "
        "torch.cuda.is_available(), else mps if torch.backends.mps.is_available(), else cpu"))


@pytest.mark.points(1)
def test_select_device_honours_prefer(submission, reference):
    """select_device(prefer) returns the preferred device when it is available"""
    hint = ("with prefer, return torch.device(prefer) when that device exists -- the CPU always does, "
            "even on a GPU machine, and cuda:0 exists when torch.cuda.device_count() >= 1")
    simulation = Simulation(cuda=1)
    for prefer in ("cpu", torch.device("cpu"), "cuda:0"):
        check_select(submission, reference, simulation, prefer, hint=hint)


@pytest.mark.side_of("test_select_device_falls_back_to_cpu", "test_select_device_picks_cuda")
@pytest.mark.points(1)
def test_select_device_rejects_unavailable_cuda(submission):
    """select_device("cuda") raises RuntimeError naming cuda when there is no GPU"""
    simulation = Simulation(cuda=0)
    with simulation.explained():
        expect_raises(simulation.student(submission), "select_device", "RuntimeError", "cuda", match="cuda",
                      hint="check torch.cuda.is_available() before handing out a CUDA device; if it is "
                           "False, raise RuntimeError with the requested device in its message")


@pytest.mark.side_of("test_select_device_falls_back_to_cpu", "test_select_device_picks_cuda")
@pytest.mark.points(1)
def test_select_device_checks_the_gpu_index(submission):
    """select_device("cuda:1") raises RuntimeError when there is only one GPU"""
    simulation = Simulation(cuda=1)
    with simulation.explained():
        expect_raises(simulation.student(submission), "select_device", "RuntimeError", "cuda:1",
                      match="cuda:1",
                      hint="torch.device('cuda:1').index is 1, and GPUs are numbered from 0: with "
                           "torch.cuda.device_count() == 1 only cuda:0 exists")


@pytest.mark.points(1)
def test_select_device_honours_prefer_mps(submission, reference):
    """select_device("mps") returns the MPS device on a machine that has one"""
    hint = ("torch.device('mps').type is 'mps': when prefer names an MPS device, check "
            "torch.backends.mps.is_available() and return torch.device(prefer); Apple silicon has a single "
            "MPS device, which torch calls mps:0")
    simulation = Simulation(cuda=0, mps=True)
    for prefer in ("mps", torch.device("mps"), "mps:0"):
        check_select(submission, reference, simulation, prefer, hint=hint)


@pytest.mark.side_of("test_select_device_picks_mps", "test_select_device_honours_prefer_mps")
@pytest.mark.points(1)
def test_select_device_rejects_unavailable_mps(submission):
    """select_device("mps") raises RuntimeError naming mps when there is no MPS device"""
    simulation = Simulation(cuda=1, mps=False)
    with simulation.explained():
        expect_raises(simulation.student(submission), "select_device", "RuntimeError", "mps", match="mps",
                      hint="an MPS device is available only when torch.backends.mps.is_available() is True; "
                           "a CUDA GPU does not make one, and neither does the name alone")


@pytest.mark.side_of("test_select_device_honours_prefer")
@pytest.mark.points(1)
def test_select_device_rejects_unknown_names(submission):
    """select_device raises RuntimeError naming a device string torch does not know ("gpu", "cuda0")"""
    simulation = Simulation(cuda=1, mps=True)
    with simulation.explained():
        for name in ("gpu", "cuda0"):
            expect_raises(simulation.student(submission), "select_device", "RuntimeError", name, match=name,
                          hint="torch.device(name) raises RuntimeError for a name it does not know: catch it "
                               "(try/except RuntimeError) and raise your own RuntimeError that names the device "
                               "you were asked for")


# ------------------------------------------------------------------ setup_report
def check_report(submission: Any, reference: Any, simulation: Simulation, hint: str) -> None:
    with simulation.explained():
        expected = simulation.reference(reference).setup_report()
        got = call_student(simulation.student(submission), "setup_report", hint=hint)
        if isinstance(got, dict) and got.get("device") == f"{expected['device']}:0":
            got = {**got, "device": expected["device"]}  # cuda:0 is cuda, with one GPU or several
        expect_match(got, expected, function="setup_report", input="setup_report()", hint=hint)


@pytest.mark.points(1)
def test_setup_report_without_cuda(submission, reference):
    """setup_report() describes a machine without CUDA"""
    check_report(submission, reference, Simulation(cuda=0), hint=(
        "only ask CUDA for its version and GPU name when torch.cuda.is_available() is True; "
        "otherwise report None for cuda_version and device_name, and 0 for device_count"))


@pytest.mark.points(1)
def test_setup_report_with_cuda(submission, reference):
    """setup_report() reports CUDA version, GPU count and GPU name when CUDA is available"""
    check_report(submission, reference, Simulation(cuda=2), hint=(
        "the lecture's setup check, returned instead of printed: torch.version.cuda, "
        "torch.cuda.device_count(), torch.cuda.get_device_name(0) and str(select_device())"))


# ------------------------------------------------------------------ to_device
@pytest.mark.points(1)
def test_to_device_cpu(submission, reference):
    """to_device moves a tensor to "cpu" (given as a string or a torch.device)"""
    tensor = torch.arange(12, dtype=torch.float32).reshape(3, 4)
    for device in ("cpu", torch.device("cpu")):
        compare(submission, reference, "to_device", tensor, device,
                hint="lecture: tensor_gpu = tensor.to(device) -- .to(device) accepts a name or a torch.device")


@pytest.mark.points(1)
def test_to_device_meta(submission, reference):
    """to_device moves a tensor to another device (meta stands in for an accelerator)"""
    tensor = torch.arange(12, dtype=torch.float32).reshape(3, 4)
    for device in ("meta", torch.device("meta")):
        compare(submission, reference, "to_device", tensor, device,
                hint="pass the device straight to tensor.to(device): it works for every device torch knows "
                     "('cpu', 'cuda', 'mps', 'meta'), so do not special-case device names")


@pytest.mark.side_of("test_to_device_cpu", "test_to_numpy_detaches")
@pytest.mark.points(1)
def test_to_device_and_to_numpy_reject_non_tensors(submission):
    """to_device and to_numpy raise TypeError for lists and NumPy arrays"""
    for value in ([1.0, 2.0, 3.0], np.ones(3, np.float32)):
        expect_raises(submission, "to_device", "TypeError", value, "cpu",
                      hint="check isinstance(tensor, torch.Tensor) first; a list or an ndarray has no .to(device) "
                           "-- convert it with numpy_to_tensor")
        expect_raises(submission, "to_numpy", "TypeError", value,
                      hint="check isinstance(tensor, torch.Tensor) first and raise TypeError otherwise")


# ------------------------------------------------------------------ real GPU
@pytest.mark.cuda
@pytest.mark.points(1)
def test_select_device_finds_a_real_gpu(submission):
    """select_device() picks CUDA on a machine with a real GPU"""
    got = call_student(submission, "select_device")
    expect_device(got, torch.device("cuda"), input="select_device() on this GPU machine",
                  hint="return torch.device('cuda') when torch.cuda.is_available()")


@pytest.mark.cuda
@pytest.mark.points(1)
def test_to_device_cuda(submission):
    """to_device moves a tensor to the GPU and keeps its values"""
    tensor = torch.arange(12, dtype=torch.float32).reshape(3, 4)
    got = call_student(submission, "to_device", tensor, "cuda")
    expect_match(got, tensor, function="to_device", input=describe_call("to_device", (tensor, "cuda"), {}),
                 device="cuda", hint="lecture: tensor_gpu = tensor.to(device) -- after it, tensor.device is cuda:0")
