"""Which grader this is: the instructor's (the whole course) or a student release.

``grade release`` writes ``suites/release.toml`` into the package it builds;
its presence makes every run student-facing (only the checks students see),
and it counts, per lab, the checks that were left out of the release and
what they are worth, so the report can say "N more checks worth M points are
graded by your instructor" without holding a line of them.

    # written by `grade release`
    student = true
    shown = ["visible", "after_due_date"]    # `grade release --after-due-date` (default: ["visible"])
    [withheld.lab4]
    checks = 2
    points = 3.0
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from grader.course.labs import BUILTIN_SUITES, read_toml

MANIFEST = BUILTIN_SUITES / "release.toml"


@lru_cache(maxsize=1)
def manifest() -> dict[str, Any]:
    return read_toml(MANIFEST) if MANIFEST.is_file() else {}


def is_student_release() -> bool:
    return bool(manifest().get("student"))


STUDENTS_SEE = ("visible",)


def shown() -> tuple[str, ...]:
    """The visibilities a student-facing run runs: this release's (after the due date, ``after_due_date``
    too), else only ``visible``."""
    return tuple(manifest().get("shown", STUDENTS_SEE))


def withheld(lab: str) -> tuple[int, float]:
    """(checks, points) of ``lab`` left out of this release: graded by the instructor."""
    entry = manifest().get("withheld", {}).get(lab, {})
    return int(entry.get("checks", 0)), float(entry.get("points", 0.0))
