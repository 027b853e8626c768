"""A grading run's outcome as plain data: what the report, JSON and gradebook read."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass
class CheckResult:
    name: str                      # the test's name, e.g. test_unsqueeze_adds_batch_and_channel
    title: str                     # one line saying what it checks
    points: float                  # what it is worth
    status: str                    # passed | failed | skipped
    score: float = 0.0
    feedback: dict[str, Any] | None = None   # grader.checks.Feedback as a dict
    output: str = ""               # what the submission printed during the check
    skip_reason: str = ""
    seconds: float = 0.0


@dataclass
class GradeResult:
    lab: str
    title: str
    submission: str
    checks: list[CheckResult] = field(default_factory=list)
    execution_time: float = 0.0
    sandbox: str = ""
    import_error: str = ""         # set when the submission could not be imported at all

    @property
    def score(self) -> float:
        return sum(c.score for c in self.checks)

    @property
    def max_score(self) -> float:
        return sum(c.points for c in self.checks if c.status != "skipped")

    @property
    def all_passed(self) -> bool:
        return all(c.status != "failed" for c in self.checks)

    def to_dict(self) -> dict[str, Any]:
        """Gradescope's results.json shape, with the grader's extras alongside."""
        return {
            "score": self.score,
            "max_score": self.max_score,
            "execution_time": round(self.execution_time, 3),
            "lab": self.lab,
            "title": self.title,
            "submission": self.submission,
            "sandbox": self.sandbox,
            "import_error": self.import_error,
            "tests": [
                {
                    "name": c.name,
                    "title": c.title,
                    "score": c.score,
                    "max_score": 0 if c.status == "skipped" else c.points,
                    "points": c.points,
                    "status": c.status,
                    "output": _output_text(c),
                    "feedback": c.feedback,
                }
                for c in self.checks
            ],
        }

    def check_dicts(self) -> list[dict[str, Any]]:
        return [asdict(c) for c in self.checks]


def _output_text(check: CheckResult) -> str:
    parts = []
    if check.status == "skipped":
        parts.append(f"skipped: {check.skip_reason} (worth {check.points:g} points, not counted)")
    if check.feedback:
        fb = check.feedback
        parts.append(fb["summary"])
        parts += [f"{k}: {fb[k]}" for k in ("function", "input") if fb.get(k)]
        parts += [f"{what}: expected {exp}, got {got}" for what, exp, got in fb.get("rows", [])]
        if fb.get("hint"):
            parts.append(f"hint: {fb['hint']}")
    if check.output:
        parts.append("--- your code printed ---\n" + check.output)
    return "\n".join(parts)
