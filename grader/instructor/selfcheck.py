"""``grade check``: the course grades itself: each lab's reference earns full marks, its stub 0.

What course CI runs after any change to a suite, a reference or a stub: a
check that a correct solution fails, or that an empty stub passes, is a bug
in the suite.  One line per lab; ``--junit FILE`` writes the same as JUnit
XML (one test case per lab and side) for CI to show.
"""

from __future__ import annotations

import time
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path

from grader.errors import SetupError
from grader.grading.run import grade
from grader.results import GradeResult


@dataclass
class Expectation:
    """One graded side of one lab: what it scored against what it must score."""

    lab: str
    side: str            # "reference" | "stub"
    problem: str         # '' when it holds
    summary: str         # e.g. "55/55"
    seconds: float

    @property
    def holds(self) -> bool:
        return not self.problem


def judge(lab: str, side: str, result: GradeResult) -> str:
    """Why ``result`` is not what ``side`` must score, or ''."""
    failed = [c.name for c in result.checks if c.status == "failed"]
    if side == "reference":
        if result.max_score <= 0:
            return "no check ran"
        if failed or result.score != result.max_score:
            return f"the reference fails {len(failed)} check(s): {', '.join(failed[:5])}"
        return ""
    passed = [c.name for c in result.checks if c.status == "passed"]
    return f"the stub passes {len(passed)} check(s): {', '.join(passed[:5])}" if result.score or passed else ""


def check_lab(lab: str, course: Path | None) -> list[Expectation]:
    found = []
    for side in ("reference", "stub"):
        started = time.perf_counter()
        try:
            result = grade(lab, reference=side == "reference", course=course, student=False)
        except SetupError as exc:
            found.append(Expectation(lab, side, str(exc), "not graded", time.perf_counter() - started))
            continue
        found.append(Expectation(lab, side, judge(lab, side, result), f"{result.score:g}/{result.max_score:g}",
                                 time.perf_counter() - started))
    return found


def line(lab: str, sides: list[Expectation]) -> str:
    parts = [f"{s.side} {s.summary} {'✔' if s.holds else '✘ ' + s.problem}" for s in sides]
    return f"{'✔' if all(s.holds for s in sides) else '✘'} {lab}: " + " · ".join(parts) + \
        f"  ({sum(s.seconds for s in sides):.0f} s)"


def junit(expectations: list[Expectation]) -> ET.ElementTree:
    failures = sum(not e.holds for e in expectations)
    suite = ET.Element("testsuite", name="grade check", tests=str(len(expectations)), failures=str(failures),
                       errors="0", time=f"{sum(e.seconds for e in expectations):.3f}")
    for e in expectations:
        case = ET.SubElement(suite, "testcase", classname=e.lab, name=f"{e.side} scores "
                             f"{'full marks' if e.side == 'reference' else '0'}", time=f"{e.seconds:.3f}")
        if not e.holds:
            ET.SubElement(case, "failure", message=e.problem).text = f"{e.lab} {e.side}: {e.summary}: {e.problem}"
    root = ET.Element("testsuites", tests=suite.get("tests"), failures=suite.get("failures"))
    root.append(suite)
    return ET.ElementTree(root)
