"""A grading run's outcome as plain data: what the report, JSON and gradebook read.

Besides the outcome of each check, a result carries what the report needs to
follow the lab and name a root cause once: the stub function a check grades
(``function``), the student's exception when one ended it (``error``), and
the checks it builds on (``builds_on``, explanation only: scores never change).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields
from typing import Any

from grader import inert

RESULT_FORMAT = 1   # bumped when to_dict's meaning changes; from_dict reads this and older
# Who sees a check, in Gradescope's words: visible (default), hidden (instructors only),
# after_due_date, after_published.  A student-facing run runs only the visible ones.
VISIBILITIES = ("visible", "hidden", "after_due_date", "after_published")


FIELD = 4000   # characters of a feedback field the report shows (student strings are cut sooner)
CELL = 1000    # characters of one expected/got cell


@dataclass
class Feedback:
    """What went wrong, as the report shows it."""

    summary: str
    function: str = ""
    input: str = ""
    rows: list[tuple[str, str, str]] = field(default_factory=list)  # (what, expected, got)
    hint: str = ""

    def __post_init__(self) -> None:
        """Whatever a field was built from, it is inert text of a bounded length."""
        self.summary, self.function = inert.clean(self.summary, FIELD), inert.line(self.function, inert.NAME)
        self.input, self.hint = inert.clean(self.input, FIELD), inert.clean(self.hint, FIELD)
        self.rows = [tuple(inert.clean(cell, CELL) for cell in row) for row in self.rows]

    def as_text(self) -> str:
        lines = [self.summary]
        if self.function:
            lines.append(f"function: {self.function}")
        if self.input:
            lines.append(f"input: {self.input}")
        lines += [f"{what}: expected {exp}, got {got}" for what, exp, got in self.rows]
        if self.hint:
            lines.append(f"hint: {self.hint}")
        return "\n".join(lines)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "Feedback":
        """The feedback ``asdict`` wrote (a gradebook, a cluster node); cleaned again on the way in."""
        rows = [tuple(row) for row in data.get("rows") or [] if isinstance(row, (list, tuple)) and len(row) == 3]
        return cls(**{"summary": "", **_known(cls, data, exclude={"rows"})}, rows=rows)


@dataclass
class Frame:
    """One line of the student's own code on the way to an exception."""

    file: str = ""
    line: int = 0                  # 0: not a line of the student's file
    function: str = ""             # "Block.forward"
    code: str = ""                 # the line's text
    cell: str = ""                 # a notebook: "cell 3, line 2" instead of the module's line

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "Frame":
        return cls(**_known(cls, data))


@dataclass
class ErrorRecord:
    """The student's exception (or the worker's crash) that ended a check, as plain data."""

    type: str                      # "" for a crash of the worker (the message says what happened)
    message: str
    where: str = ""
    frames: list[Frame] = field(default_factory=list)   # the student's own frames, outermost first

    @property
    def innermost(self) -> Frame:
        """Where it was raised in the student's code (an empty frame when nowhere)."""
        return self.frames[-1] if self.frames else Frame()

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "ErrorRecord":
        frames = [f if isinstance(f, Frame) else Frame.from_dict(f) for f in data.get("frames") or []
                  if isinstance(f, (Frame, dict))]
        return cls(**{"type": "", "message": "", **_known(cls, data, exclude={"frames"})}, frames=frames)


@dataclass
class CheckResult:
    name: str                      # the test's name, e.g. test_unsqueeze_adds_batch_and_channel
    title: str                     # one line saying what it checks
    points: float                  # what it is worth
    status: str                    # passed | failed | skipped
    score: float = 0.0
    feedback: Feedback | None = None         # what the report shows of a failure
    output: str = ""               # what the submission printed during the check
    skip_reason: str = ""
    seconds: float = 0.0
    function: str = ""             # the stub function it grades, e.g. "UNet.forward" ('' if unknown)
    error: ErrorRecord | None = None         # the student's exception: type, message, where, frames
    warnings: str = ""             # warnings raised inside libraries during the check (not the student's)
    builds_on: list[str] = field(default_factory=list)      # names of checks this one builds on
    explained_by: list[str] = field(default_factory=list)   # functions whose failure explains this one
    visibility: str = "visible"    # one of VISIBILITIES (the visibility marker)

    def __post_init__(self) -> None:
        """Feedback and error stay typed whatever they were given as (their dicts, from JSON)."""
        if isinstance(self.feedback, dict):
            self.feedback = Feedback.from_dict(self.feedback)
        if isinstance(self.error, dict):
            self.error = ErrorRecord.from_dict(self.error)

    def to_dict(self) -> dict[str, Any]:
        """Plain data (JSON-ready); :meth:`from_dict` rebuilds exactly this check."""
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "CheckResult":
        """A check from :meth:`to_dict` output; unknown keys ignored, missing ones defaulted."""
        known = _known(cls, data)
        for key in ("feedback", "error"):
            if not isinstance(known.get(key), dict):
                known[key] = None
        return cls(**{"name": "", "title": "", "points": 0.0, "status": "failed", **known})


@dataclass
class GradeResult:
    lab: str
    title: str
    submission: str
    checks: list[CheckResult] = field(default_factory=list)
    execution_time: float = 0.0
    sandbox: str = ""
    import_error: str = ""         # set when the submission could not be imported at all
    functions: list[str] = field(default_factory=list)     # the stub's functions, in the lab's order
    withheld_checks: int = 0       # a student-facing run: checks not visible to students, not run
    withheld_points: float = 0.0   # ... and what they are worth (graded by the instructor)
    notes: list[str] = field(default_factory=list)         # what the report says about the run itself

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
            "submission": inert.line(self.submission, inert.WHERE),   # a path or an id: text a student chose
            "sandbox": self.sandbox,
            "import_error": inert.clean(self.import_error),
            "withheld_checks": self.withheld_checks,
            "withheld_points": self.withheld_points,
            "notes": [inert.clean(note) for note in self.notes],
            "functions": self.functions,   # the stub's functions in the lab's order: the report follows them
            # Gradescope's free-form field: what from_dict needs to rebuild this object exactly
            "extra_data": {"format": RESULT_FORMAT, "checks": self.check_dicts()},
            "tests": [
                {
                    "name": c.name,
                    "title": c.title,
                    "score": c.score,
                    "max_score": 0 if c.status == "skipped" else c.points,
                    "points": c.points,
                    "status": c.status,
                    "output": _output_text(c),
                    "feedback": asdict(c.feedback) if c.feedback else None,
                    "function": c.function,
                    "visibility": c.visibility,
                }
                for c in self.checks
            ],
        }

    def check_dicts(self) -> list[dict[str, Any]]:
        return [c.to_dict() for c in self.checks]

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "GradeResult":
        """The result :meth:`to_dict` wrote, e.g. on a cluster node or in the gradebook.

        Tolerant both ways: keys it does not know are ignored, missing ones take
        their defaults, so results written by a grader with more (or fewer)
        CheckResult fields still load.
        """
        extra = data.get("extra_data") or {}
        version = extra.get("format", 0)
        if not isinstance(version, int) or version > RESULT_FORMAT:
            raise ValueError(f"result format {version!r} is newer than this grader reads ({RESULT_FORMAT})")
        checks = extra.get("checks")
        if checks is None:  # Gradescope-only shape: rebuild what it carries
            checks = [_check_from_test(t) for t in data.get("tests", [])]
        return cls(**{"lab": "", "title": "", "submission": "", **_known(cls, data, exclude={"checks"})},
                   checks=[CheckResult.from_dict(c) for c in checks])


def plural(count: float, word: str) -> str:
    """'1 point', '2 points', '1.5 points', '1 check', '3 checks'."""
    return f"{count:g} {word}" if count == 1 else f"{count:g} {word}s"


def also_fails(functions: list[str]) -> str:
    """What a check that builds on failing checks says instead of its own hint."""
    names = " and ".join(f"`{name}`" for name in functions)
    return f"this also fails because {names} {'does' if len(functions) == 1 else 'do'} (see above)"


def _output_text(check: CheckResult) -> str:
    parts = []
    if check.status == "skipped":
        parts.append(f"skipped: {check.skip_reason} (worth {plural(check.points, 'point')}, not counted)")
    if check.feedback:
        fb = check.feedback
        parts.append(fb.summary)
        parts += [f"{label}: {text}" for label, text in (("function", fb.function), ("input", fb.input)) if text]
        parts += [f"{what}: expected {exp}, got {got}" for what, exp, got in fb.rows]
        if check.explained_by:
            parts.append(also_fails(check.explained_by))
        elif fb.hint:
            parts.append(f"hint: {fb.hint}")
    if check.output:
        parts.append("--- your code printed ---\n" + check.output)
    if check.warnings:
        parts.append("--- warnings from libraries (not from your code) ---\n" + check.warnings)
    return "\n".join(parts)


def explain_builds_on(checks: list[CheckResult]) -> None:
    """A failed check that builds on a failed check is explained by it (scores unchanged).

    Order-independent: it runs once every check has its outcome.
    """
    by_name = {c.name.split("[")[0]: c for c in checks}
    for check in checks:
        if check.status != "failed":
            continue
        bases = [by_name[name] for name in check.builds_on if name in by_name]
        failed = [base for base in bases if base.status == "failed" and base is not check]
        check.explained_by = list(dict.fromkeys(base.function or base.title for base in failed))


def _known(cls: type, data: dict[str, Any], exclude: frozenset[str] | set[str] = frozenset()) -> dict[str, Any]:
    """The entries of ``data`` that are init fields of dataclass ``cls``."""
    names = {f.name for f in fields(cls) if f.init} - set(exclude)
    return {k: v for k, v in data.items() if k in names}


def _check_from_test(test: dict[str, Any]) -> dict[str, Any]:
    return {"name": test.get("name", ""), "title": test.get("title", test.get("name", "")),
            "points": test.get("points", test.get("max_score", 0.0)), "status": test.get("status", "failed"),
            "score": test.get("score", 0.0), "feedback": test.get("feedback"), "output": test.get("output", "")}
