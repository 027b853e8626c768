"""Class statistics from the gradebook: the numbers behind the summary table and report.html."""

from __future__ import annotations

from dataclasses import dataclass

from grader.instructor.gradebook.store import Gradebook, SubmissionRow


@dataclass(frozen=True)
class CheckRate:
    name: str
    title: str
    points: float
    passed: int
    failed: int          # skipped checks count neither way

    @property
    def rate(self) -> float:
        ran = self.passed + self.failed
        return self.passed / ran if ran else 1.0


def check_rates(book: Gradebook, lab: str) -> list[CheckRate]:
    """Every check's pass rate over the class, hardest first (ties: in suite order)."""
    rows = book.db.execute(
        "SELECT name, title, max(points), sum(status='passed'), sum(status='failed'), min(check_result.rowid) "
        "FROM check_result WHERE lab=? GROUP BY name", (lab,)).fetchall()
    rates = [CheckRate(n, t, p, int(ok or 0), int(bad or 0)) for n, t, p, ok, bad, _ in
             sorted(rows, key=lambda r: r[5])]
    return sorted(rates, key=lambda r: r.rate)


def histogram(rows: list[SubmissionRow], bins: int = 10) -> list[tuple[str, int]]:
    """Counts of percentages in ``bins`` equal bins; 100 % falls in the last one."""
    counts = [0] * bins
    for row in rows:
        percent = row.percent if row.percent is not None else 0.0
        counts[min(bins - 1, int(percent * bins / 100))] += 1
    width = 100 // bins
    return [(f"{i * width}–{(i + 1) * width}%", c) for i, c in enumerate(counts)]


def check_order(book: Gradebook, lab: str) -> list[str]:
    """Check names in suite order (as first recorded)."""
    rows = book.db.execute("SELECT name, min(rowid) FROM check_result WHERE lab=? GROUP BY name", (lab,))
    return [name for name, _ in sorted(rows, key=lambda r: r[1])]
