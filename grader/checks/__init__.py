"""What a lab's suite imports: call the student, compare with the reference, explain.

    from grader.checks import compare, expect, expect_raises, call_student, ...

Each name lives where it works (comparisons in :mod:`~grader.checks.compare`, array
memory checks in :mod:`~grader.checks.arrays`, synthetic songs in
:mod:`~grader.checks.synth`, the rest in the grading engine); a suite needs this one
import, and a move inside the engine never touches a suite.
"""

from grader.checks.arrays import (as_expected_float, call_watching, expect_new_array, expect_raises_in_worker,
                                  values_match)
from grader.checks.compare import (attempt, call_student, compare, expect, expect_match, expect_plain_tensor,
                                   expect_raises, mismatches, run_probe, wrong_exception)
from grader.grading import fixtures
from grader.grading.describe import describe, describe_call, tensor_problem
from grader.grading.outcomes import CheckFailed, student_raised
from grader.grading.reference import expectation
from grader.isolation.inside.probes import simulated_devices
from grader.isolation.inside.wire import Handle, TensorValue
from grader.results import Feedback

__all__ = ["CheckFailed", "Feedback", "Handle", "TensorValue", "as_expected_float", "attempt", "call_student",
           "call_watching", "compare", "describe", "describe_call", "expect", "expect_match", "expect_new_array",
           "expect_plain_tensor", "expect_raises", "expect_raises_in_worker", "expectation", "fixtures",
           "mismatches", "run_probe", "simulated_devices", "student_raised", "tensor_problem", "values_match",
           "wrong_exception"]
