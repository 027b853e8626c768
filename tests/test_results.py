"""Results stay typed from the check that made them to the report and back (grader/results.py)."""

from __future__ import annotations

import json

import pytest

from grader.results import RESULT_FORMAT, CheckResult, ErrorRecord, Feedback, Frame, GradeResult


def typed_result() -> GradeResult:
    error = ErrorRecord("RuntimeError", "shapes differ", "unet.py line 42",
                        [Frame("unet.py", 98, "UNet.forward", "x = self.up1(x5, x4)"),
                         Frame("unet.py", 42, "DoubleConv.forward", "return self.double_conv(x)", cell="cell 3, line 2")])
    failed = CheckResult("test_forward", "forward keeps the shape", 2, "failed",
                         feedback=Feedback("UNet.forward: wrong shape", "UNet.forward", "UNet.forward(x)",
                                           [("shape", "(1, 1, 8, 8)", "(1, 2, 8, 8)")], "look at the channels"),
                         error=error, function="UNet.forward", output="printed\n", builds_on=["test_layers"])
    passed = CheckResult("test_layers", "layers", 1, "passed", score=1, function="UNet.__init__")
    skipped = CheckResult("test_cuda", "on a GPU", 1, "skipped", skip_reason="needs a CUDA GPU")
    return GradeResult("lab5", "U-Net", "alice/unet.py", [failed, passed, skipped], execution_time=3.2,
                       functions=["UNet.__init__", "UNet.forward"], notes=["a note"])


def test_a_result_round_trips_through_json_exactly():
    result = typed_result()
    again = GradeResult.from_dict(json.loads(json.dumps(result.to_dict())))
    assert again == result
    assert isinstance(again.checks[0].feedback, Feedback) and isinstance(again.checks[0].error, ErrorRecord)
    assert again.checks[0].error.innermost == Frame("unet.py", 42, "DoubleConv.forward",
                                                    "return self.double_conv(x)", "cell 3, line 2")
    assert (again.score, again.max_score) == (1, 3)


def test_feedback_and_errors_given_as_dicts_become_typed_and_inert():
    check = CheckResult("t", "t", 1, "failed", feedback={"summary": "\x1b[2Jbad\u202e", "rows": [["a", "b", "c"]]},
                        error={"type": "ValueError", "message": "m", "frames": [{"file": "f.py", "line": 3}]})
    assert check.feedback == Feedback("bad", rows=[("a", "b", "c")])
    assert check.error.innermost.line == 3 and check.error.innermost.function == ""


def test_malformed_parts_of_a_stored_result_are_dropped_not_trusted():
    data = typed_result().to_dict()
    data["extra_data"]["checks"][0]["feedback"] = "not a dict"
    data["extra_data"]["checks"][0]["error"] = ["nor", "this"]
    data["extra_data"]["checks"][1]["feedback"] = {"summary": "ok", "rows": [["only two", "cells"], 7]}
    again = GradeResult.from_dict(data)
    assert again.checks[0].feedback is None and again.checks[0].error is None
    assert again.checks[1].feedback.rows == []


def test_a_result_from_a_newer_grader_is_refused_and_an_old_gradescope_shape_still_loads():
    data = typed_result().to_dict()
    data["extra_data"]["format"] = RESULT_FORMAT + 1
    with pytest.raises(ValueError, match="newer"):
        GradeResult.from_dict(data)
    old = {"tests": [{"name": "test_x", "score": 0, "max_score": 1, "status": "failed",
                      "feedback": {"summary": "wrong", "hint": "h"}}]}
    (check,) = GradeResult.from_dict(old).checks
    assert check.feedback == Feedback("wrong", hint="h") and check.points == 1
