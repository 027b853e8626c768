"""Buggy submissions written as a student would: the reference with definitions appended.

Shared by tests/test_labs123_mistakes.py and tests/test_labs45_mistakes.py.
A :class:`Variant` redoes one or more functions with one documented mistake
each, is graded with ``keyword`` so that only those functions' checks run,
and :func:`judge` asserts that the checks written for the mistakes fail while
the neighbouring ``keeps`` still pass (the mistake is pinned down, not a crash).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from grader.course.folder import find_lab
from grader.grading.run import GradeResult, grade


@dataclass(frozen=True)
class Variant:
    lab: str
    code: str                     # appended to the reference
    keyword: str
    catches: tuple[str, ...]      # checks that must fail
    keeps: tuple[str, ...] = ()   # checks that must pass
    correct: bool = False         # every selected check must pass


def grade_variant(variant: Variant, folder: Path) -> GradeResult:
    """Write the reference plus the variant's code into ``folder`` and grade it."""
    lab = find_lab(variant.lab)
    (folder / lab.filename).write_text(lab.reference_file.read_text() + "\n" + variant.code)
    return grade(variant.lab, folder, keyword=variant.keyword)


def judge(variant: Variant, result: GradeResult) -> None:
    checks = {c.name: c for c in result.checks}
    assert result.import_error == ""
    for check in variant.catches:
        assert check in checks, f"{check} did not run"
        assert checks[check].status == "failed" and checks[check].score == 0, (check, checks[check].status)
        assert checks[check].feedback.summary, check
    for check in variant.keeps:
        assert check in checks, f"{check} did not run"
        assert checks[check].status == "passed", (check, checks[check].feedback)
    if variant.correct:
        assert result.score == result.max_score > 0, [(c.name, c.feedback) for c in result.checks
                                                      if c.status == "failed"]
    else:
        assert 0 < result.score < result.max_score
