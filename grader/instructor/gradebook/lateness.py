"""Late submissions: what the layout said, against the lab's due time, and an optional simple policy.

A submission is late when its LMS marks it so (Canvas's ``_late`` in the file
name) or when it was made after the due time (``grade batch --due``, against
Gradescope's ``created_at``).  No penalty is computed unless the instructor
gives a policy (``--late-policy 10``): that many percent of the lab's maximum
off per day started after the due time, never below 0.  A submission marked
late whose time is unknown (Canvas says only ``_late``) counts as one day late.
The gradebook keeps the score as graded; the policy applies where grades
leave it (the exports).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from datetime import datetime

from grader.instructor.gradebook.store import Handin

DAY = 86400.0


@dataclass(frozen=True)
class Lateness:
    late: bool = False
    seconds: float | None = None    # how long after the due time, when known

    @property
    def days(self) -> int:
        """Days started after the due time (1 for a late mark without a time)."""
        if not self.late:
            return 0
        return max(1, math.ceil(self.seconds / DAY)) if self.seconds is not None else 1

    def label(self) -> str:
        """'' on time; 'late' (time unknown); 'late by 1 d 2 h' / 'late by 5 min'."""
        if not self.late:
            return ""
        if self.seconds is None:
            return "late"
        days, rest = divmod(int(self.seconds), int(DAY))
        hours, minutes = rest // 3600, rest % 3600 // 60
        if days:
            return f"late by {days} d {hours} h"
        return f"late by {hours} h {minutes} min" if hours else f"late by {max(1, minutes)} min"


def lateness(handin: Handin | None, due: str) -> Lateness:
    """Late by the LMS's mark, or by the submission time against ``due`` (both ISO 8601)."""
    if handin is None:
        return Lateness()
    submitted, deadline = moment(handin.submitted_at), moment(due)
    seconds = (submitted - deadline).total_seconds() if submitted and deadline else None
    if seconds is not None and seconds > 0:
        return Lateness(True, seconds)
    return Lateness(handin.late, None)


def moment(text: str) -> datetime | None:
    """An ISO 8601 time with its offset; None for anything else (no time, a time without an offset,
    which says no moment: a gradebook written by hand or by an older grade)."""
    try:
        found = datetime.fromisoformat(text)
    except (TypeError, ValueError):
        return None
    return found if found.tzinfo is not None else None


@dataclass(frozen=True)
class LatePolicy:
    """``percent`` of the maximum off per day started after the due time."""

    percent: float

    def penalty(self, late: Lateness, maximum: float | None) -> float:
        if not late.late or not maximum:
            return 0.0
        return min(maximum, maximum * self.percent / 100 * late.days)

    def apply(self, score: float, late: Lateness, maximum: float | None) -> float:
        """The score after the penalty, never below 0."""
        return max(0.0, score - self.penalty(late, maximum))


NO_POLICY = LatePolicy(0.0)


def late_policy(text: str) -> LatePolicy:
    """``10``, ``10%`` or ``10%/day``: percent of the maximum per day late. Raises ValueError."""
    match = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*%?\s*(?:/\s*day)?\s*", text or "")
    if not match or not 0 <= float(match[1]) <= 100:
        raise ValueError(f"--late-policy {text!r}: give the percent of the maximum taken off per day late, "
                         "0 to 100 (e.g. 10 or 10%/day)")
    return LatePolicy(float(match[1]))
