"""Root causes: the student's exception found behind feedback, grouped by line, explained when we know it."""

from __future__ import annotations

import pytest

from grader.feedback.causes import cause_key, not_started, root_causes
from grader.grading.hints import known_hint
from grader.grading.outcomes import error_record, parse_frame
from grader.grading.outcomes import CheckFailed
from grader.results import Feedback
from grader.grading.session import StudentError, SubmissionImportError, WorkerCrash
from grader.results import CheckResult, ErrorRecord, Frame
from grader.course.stub import Definition

LAB4 = [Definition("select_device", 66, ("prefer",)), Definition("to_device", 232, ("tensor", "device")),
        Definition("audio_to_tensor", 292, ("path", "device", "sr", "n_fft", "hop_length")),
        Definition("mse_gradient", 367, ("prediction", "target"))]


def student_error(type_name: str, message: str, *lines: str) -> StudentError:
    return StudentError({"type": type_name, "mro": [type_name, "Exception"], "message": message,
                         "where": "", "lines": list(lines)})


def as_suites_raise_it(error: StudentError) -> CheckFailed:
    """What a suite's ``attempt`` does: feedback raised ``from None`` while handling the student's error."""
    try:
        try:
            raise error
        except StudentError:
            raise CheckFailed(Feedback("to_device raised ...")) from None
    except CheckFailed as failed:
        return failed


def test_the_students_exception_is_found_behind_the_feedback():
    error = student_error("AssertionError", "Torch not compiled with CUDA enabled",
                          'pytorch_basics.py:175 audio_to_tensor: return tensor.to("cuda")')
    record = error_record(as_suites_raise_it(error))
    assert record.type == "AssertionError"
    assert record.frames == [Frame("pytorch_basics.py", 175, "audio_to_tensor", 'return tensor.to("cuda")')]


def test_groups_of_failures_and_import_errors():
    group = ExceptionGroup("hypothesis found two", [as_suites_raise_it(student_error("TypeError", "x"))])
    assert error_record(group).type == "TypeError"
    assert error_record(SubmissionImportError({"type": "SyntaxError"})) is None  # said once, elsewhere
    assert error_record(WorkerCrash("timed out after 10 s")).message == "timed out after 10 s"
    assert error_record(AssertionError("a plain check")) is None


def test_a_frame_line_that_does_not_parse_is_kept_as_code():
    assert parse_frame("weird: line without a number").code == "weird: line without a number"
    assert parse_frame("unet.py:42 DoubleConv.forward: return self.double_conv(x)").function == "DoubleConv.forward"


def failed(name: str, function: str, error: dict) -> CheckResult:
    return CheckResult(name, name, 1, "failed", function=function, error=error)


def test_one_cause_is_the_same_type_at_the_same_line_whatever_the_message():
    at = lambda line, message: {"type": "RuntimeError", "message": message,  # noqa: E731
                                "frames": [parse_frame(f"unet.py:{line} DoubleConv.forward: x")]}
    checks = [failed("a", "UNet.forward", at(42, "input[2, 64, 4, 6]")),
              failed("b", "UNet.forward", at(42, "input[1, 64, 8, 8]")),
              failed("c", "UNet.forward", at(43, "input[1, 64, 8, 8]"))]
    causes = root_causes(checks)
    assert [[c.name for c in cause.checks] for cause in causes] == [["a", "b"]]
    assert cause_key(checks[0].error) != cause_key(checks[2].error)


def test_not_started_means_the_stubs_own_raise_in_the_function_graded():
    own = {"type": "NotImplementedError", "message": "", "frames": [parse_frame("m.py:9 SpectrogramDataset.__getitem__: raise")]}
    assert not_started(failed("a", "SpectrogramDataset", own))
    assert not not_started(failed("b", "UNet.forward", own))  # raised in a function it calls: a cause, said once


@pytest.mark.parametrize("function, fix", [
    ("audio_to_tensor", "use `audio_to_tensor`'s `device` argument instead of a fixed device (and `select_device()`"),
    ("mse_gradient", "ask `select_device()` for the device instead of naming one"),
])
def test_a_hard_coded_cuda_points_at_the_device_argument(function, fix):
    error = ErrorRecord.from_dict({"type": "AssertionError", "message": "Torch not compiled with CUDA enabled",
             "frames": [parse_frame(f'pytorch_basics.py:175 {function}: return tensor.to("cuda")')]})
    hint = known_hint(error, function, LAB4)
    assert 'your line 175 asks for "cuda"' in hint and fix in hint


def test_a_shape_error_inside_a_layer_names_the_layer_and_the_tensors():
    error = ErrorRecord.from_dict({"type": "RuntimeError",
             "message": "Given groups=1, weight of size [64, 128, 3, 3], expected input[2, 64, 4, 6] to have "
                        "128 channels, but got 64 channels instead",
             "frames": [parse_frame("unet.py:98 UNet.forward: x = self.up1(x5, x4)"),
                        parse_frame("unet.py:79 Up.forward: return self.conv(x1)"),
                        parse_frame("unet.py:42 DoubleConv.forward: return self.double_conv(x)")]})
    hint = known_hint(error, "UNet.forward", [])
    assert "`DoubleConv.forward` line 42 (`self.double_conv`)" in hint
    assert "weight [64, 128, 3, 3] expects inputs with 128 channels" in hint and "[2, 64, 4, 6]" in hint
    assert "from `Up.forward` line 79" in hint


def test_a_function_that_is_not_written_yet_is_named():
    error = ErrorRecord.from_dict({"type": "NotImplementedError", "message": "",
             "frames": [parse_frame("unet.py:98 UNet.forward: x = self.up1(x5, x4)"),
                        parse_frame("unet.py:89 Up.forward: raise NotImplementedError(...)")]})
    assert "`Up.forward` is not written yet, and `UNet.forward` needs it" in known_hint(error, "UNet.forward", [])
    assert known_hint(error, "Up.forward", []) == ""  # its own raise: not started, no hint needed


def test_unknown_mistakes_keep_the_suites_hint():
    error = ErrorRecord.from_dict({"type": "ZeroDivisionError", "message": "division by zero", "frames": []})
    assert known_hint(error, "rms", []) == "" and known_hint(None, "rms", []) == ""
