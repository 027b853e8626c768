"""The mutation report: the score, then every survivor with its diff.

Equivalent mutants are read from ``grader/suites/labN/equivalent_mutants.toml``::

    ["to_mono/DropCall/1a2b3c4d"]
    reason = "np.asarray of an ndarray is the array itself"

Score = killed / (mutants - equivalent).  A mutant recorded as equivalent
that the suite kills anyway is listed too: the record is wrong.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from pathlib import Path

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    import tomli as tomllib  # type: ignore[no-redef]

from grader.course.labs import Lab
from grader.instructor.mutation.runner import ERROR, KILLED, SURVIVED, Outcome

EQUIVALENTS_FILE = "equivalent_mutants.toml"


def equivalents_path(lab: Lab) -> Path:
    return lab.suite_dir / EQUIVALENTS_FILE


def load_equivalents(path: Path) -> dict[str, str]:
    """Mutant id → why it is equivalent; {} when the file does not exist."""
    if not path.is_file():
        return {}
    data = tomllib.loads(path.read_text())
    return {mutant_id: str(entry.get("reason", "")) for mutant_id, entry in data.items()}


@dataclass
class Score:
    mutants: int
    killed: int
    equivalent: int     # recorded as equivalent and not killed
    survived: int       # neither killed nor recorded: a missing check
    errors: int

    @property
    def counted(self) -> int:
        return self.mutants - self.equivalent

    @property
    def ratio(self) -> float:
        return self.killed / self.counted if self.counted else 1.0

    def line(self) -> str:
        return (f"score {self.killed}/{self.counted} = {self.ratio:.1%} (killed / non-equivalent); "
                f"{self.mutants} mutants, {self.equivalent} equivalent, {self.survived} surviving, "
                f"{self.errors} errors")


def score(outcomes: list[Outcome], equivalents: dict[str, str]) -> Score:
    status = Counter(classify(o, equivalents) for o in outcomes)
    return Score(len(outcomes), status[KILLED], status["equivalent"], status[SURVIVED], status[ERROR])


def classify(outcome: Outcome, equivalents: dict[str, str]) -> str:
    if outcome.status == SURVIVED and outcome.mutant.id in equivalents:
        return "equivalent"
    return outcome.status


def render(lab: Lab, outcomes: list[Outcome], equivalents: dict[str, str], *, title: str = "",
           seconds: float = 0.0, made: set[str] | None = None) -> str:
    """The whole report as plain text (it is saved to files and read in terminals)."""
    result = score(outcomes, equivalents)
    lines = [f"Mutation report · {lab.name} {lab.title}" + (f" · {title}" if title else ""),
             f"reference: reference/{lab.name}/{lab.filename}; equivalents: {EQUIVALENTS_FILE} "
             f"({len(equivalents)} recorded)" + (f"; {seconds:.0f} s" if seconds else ""),
             result.line(), "", _by_function(outcomes, equivalents), ""]
    survivors = [o for o in outcomes if classify(o, equivalents) == SURVIVED]
    lines.append(f"Surviving mutants ({len(survivors)}): each needs a check, or a record in {EQUIVALENTS_FILE}")
    for outcome in survivors:
        lines += ["", _header(outcome), outcome.mutant.diff]
    wrong = [o for o in outcomes if o.mutant.id in equivalents and o.status == KILLED]
    if wrong:
        lines += ["", f"Recorded as equivalent but killed ({len(wrong)}): remove these records"]
        lines += [f"  {o.mutant.id}: killed by {', '.join(o.failed) or 'an import error'}" for o in wrong]
    errors = [o for o in outcomes if o.status == ERROR]
    if errors:
        lines += ["", f"Could not be graded ({len(errors)})"]
        lines += [f"  {o.mutant.id}: {o.detail}" for o in errors]
    equivalent = [o for o in outcomes if classify(o, equivalents) == "equivalent"]
    if equivalent:
        lines += ["", f"Equivalent ({len(equivalent)})"]
        for outcome in equivalent:
            lines += ["", _header(outcome), f"reason: {equivalents[outcome.mutant.id]}", outcome.mutant.diff]
    if made is not None:
        stale = sorted(set(equivalents) - made)
        if stale:
            lines += ["", f"Recorded but no longer made ({len(stale)}): the reference changed; remove them"]
            lines += [f"  {mutant_id}" for mutant_id in stale]
    return "\n".join(lines).rstrip() + "\n"


def _header(outcome: Outcome) -> str:
    mutant = outcome.mutant
    return f"── {mutant.id}  (line {mutant.line}, {mutant.operator})"


def _by_function(outcomes: list[Outcome], equivalents: dict[str, str]) -> str:
    table: dict[str, Counter] = {}
    for outcome in outcomes:
        table.setdefault(outcome.mutant.function, Counter())[classify(outcome, equivalents)] += 1
    width = max([len("function"), *map(len, table)])
    rows = [f"  {'function':<{width}}  mutants  killed  equivalent  surviving  errors"]
    for function, counts in table.items():
        rows.append(f"  {function:<{width}}  {sum(counts.values()):>7}  {counts[KILLED]:>6}  "
                    f"{counts['equivalent']:>10}  {counts[SURVIVED]:>9}  {counts[ERROR]:>6}")
    return "\n".join(rows)
