"""How many timeouts and crashes a submission may cost before checks stop running.

A student whose code hangs should not wait 52 × 10 s, but one hanging
function must not cost the points of the functions that work: so a function
that timed out or crashed in ``per_function`` checks has its remaining
checks fail at once, and once ``functions`` different functions have done
so, every remaining check fails at once.  Grades do not change: a check
that is not run would have timed out or crashed like the ones before it.
"""

from __future__ import annotations

from collections import Counter

PER_FUNCTION = 2   # timeouts or crashes of one function before its other checks fail at once
FUNCTIONS = 3      # functions that timed out or crashed before every remaining check fails at once


class CrashBudget:
    """Counts crashes per graded function and says when a check should not run."""

    def __init__(self, functions: int = FUNCTIONS, per_function: int = PER_FUNCTION) -> None:
        self.functions, self.per_function = functions, per_function
        self.crashes: Counter[str] = Counter()

    def record(self, function: str) -> None:
        """A check of ``function`` ('' when unknown) timed out or crashed."""
        self.crashes[function] += 1

    def refusal(self, function: str) -> str | None:
        """Why a check of ``function`` should fail at once, or None to run it."""
        broken = [name for name, count in self.crashes.items() if count]
        if len(broken) >= self.functions:
            names = ", ".join(f"`{name}`" if name else "your code" for name in broken[:5])
            return (f"not run: your code timed out or crashed in {len(broken)} functions ({names}), so the "
                    "remaining checks fail at once (fix those first, then grade again)")
        if self.crashes[function] >= self.per_function:
            name = f"`{function}`" if function else "your code"
            return (f"not run: {name} already timed out or crashed in {self.crashes[function]} checks, so its "
                    "remaining checks fail at once (fix it first, then grade again)")
        return None
