"""Gradescope's results.json from a GradeResult: the autograder writes it, ``grade export`` writes one per student.

Each check that ran is a test with ``status`` passed or failed, its title as
``name``, ``score``/``max_score``, the feedback as ``output`` and its
``visibility``, in the lab's order (as the report lists them); checks
skipped here (no CUDA) are left out of the tests and said in the top-level
``output``.  Rendering only: no grading, no worker, no torch.
"""

from __future__ import annotations

import time

from grader import inert

from grader.feedback.report import in_lab_order
from grader.results import CheckResult, GradeResult, _output_text, plural


def test_entry(check: CheckResult, number: int) -> dict:
    return {"name": check.title, "name_format": "text", "number": str(number), "score": check.score,
            "max_score": check.points, "status": "passed" if check.status == "passed" else "failed",
            "output": _output_text(check), "output_format": "text", "visibility": check.visibility,
            "tags": [check.function] if check.function else []}


def results(result: GradeResult, extra: dict | None = None) -> dict:
    """``result`` in Gradescope's results.json shape, its tests in the lab's order (as the report);
    ``extra`` goes to Gradescope's free-form ``extra_data``."""
    ran = [c for c in in_lab_order(result) if c.status != "skipped"]
    skipped = [c for c in result.checks if c.status == "skipped"]
    output = [f"{result.title}: {result.score:g}/{result.max_score:g}"]
    if result.import_error:
        output.append(f"your file could not be imported: {result.import_error}")
    if skipped:
        output.append(f"{plural(len(skipped), 'check')} ({plural(sum(c.points for c in skipped), 'point')}) "
                      f"skipped: {'; '.join(sorted({c.skip_reason for c in skipped}))}; not counted")
    output += [inert.clean(note) for note in result.notes]
    data = {"score": result.score, "execution_time": round(result.execution_time), "output": "\n".join(output),
            "output_format": "text", "visibility": "visible", "stdout_visibility": "hidden",
            "tests": [test_entry(c, n) for n, c in enumerate(ran, start=1)]}
    return {**data, "extra_data": extra} if extra is not None else data


def failure(message: str, started: float) -> dict:
    """No grade could be computed (no file handed in, a broken notebook): score 0, and why."""
    return {"score": 0.0, "execution_time": round(time.perf_counter() - started), "output": message,
            "output_format": "text", "visibility": "visible", "stdout_visibility": "hidden", "tests": []}
