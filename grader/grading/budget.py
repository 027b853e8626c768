"""How much a submission may cost before checks stop running: crashes, and the worker's time.

A student whose code hangs should not wait 52 × 10 s, but one hanging
function must not cost the points of the functions that work: so a function
that timed out or crashed (a ``MemoryError`` counts as a crash: hoarding memory
costs seconds per call) in ``per_function`` checks has its remaining checks
fail at once, and once ``functions`` different functions have done so, every
remaining check fails at once.  Grades do not change: a check that is not run
would have timed out or crashed like the ones before it.

A submission that is merely slow everywhere (each call just under its limit) is
bounded by ``seconds``: the time the grader spends waiting for the student's
code (importing it, its calls, and restarting its worker after a crash; not the
worker's first start, which is the same for everyone), over the whole run.
Once it is spent, every remaining check fails at once, and a call is never given
more than what is left: a run costs at most the worker's start, ``seconds`` and
the grader's own work (:data:`SECONDS`: a whole run under a minute on a quiet
machine, whatever the submission does; an honest Lab 4 run spends about 1 s).
"""

from __future__ import annotations

from collections import Counter

PER_FUNCTION = 2   # timeouts or crashes of one function before its other checks fail at once
FUNCTIONS = 3      # functions that timed out or crashed before every remaining check fails at once
SECONDS = 40.0     # the student's code's time over one grading run (see above)


class CrashBudget:
    """Counts crashes per graded function and the time spent in the student's code; says when a
    check should not run."""

    def __init__(self, functions: int = FUNCTIONS, per_function: int = PER_FUNCTION,
                 seconds: float | None = SECONDS) -> None:
        self.functions, self.per_function, self.seconds = functions, per_function, seconds
        self.crashes: Counter[str] = Counter()
        self.spent = 0.0

    def record(self, function: str) -> None:
        """A check of ``function`` ('' when unknown) timed out or crashed."""
        self.crashes[function] += 1

    def spend(self, seconds: float) -> None:
        """The grader waited ``seconds`` for the student's code."""
        self.spent += max(seconds, 0.0)

    def left(self) -> float | None:
        """Seconds the student's code may still take (None: unbounded)."""
        return None if self.seconds is None else max(self.seconds - self.spent, 0.0)

    def refusal(self, function: str) -> str | None:
        """Why a check of ``function`` should fail at once, or None to run it."""
        if self.left() == 0.0:
            return (f"not run: your code has used the {self.seconds:g} s a grading run allows it (its import and "
                    "calls took that long in total), so the remaining checks fail at once (make it faster, "
                    "then grade again)")
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
