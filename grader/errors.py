"""What stops a run before it grades, and how the command line says so.

Every problem a user can fix (an unknown lab, a missing submission, a course
folder that is not one, a release that does not match its suite) is a
:class:`SetupError` with one line of text: the command prints that line and
exits with :data:`EXIT_SETUP`, never a traceback.
"""

from __future__ import annotations

import argparse
import math
import sys

# Every command's exit status: 0 all is well (every check that ran passed; every submission has a
# grade; no mutant survives), 1 something to look at (a check failed; a batch stopped early; a mutant
# survived), 2 it could not start or an option is wrong (one line on stderr says why).
EXIT_PASSED, EXIT_FAILED, EXIT_SETUP = 0, 1, 2


class SetupError(Exception):
    """The run cannot start: unknown lab, missing submission, broken install (one line)."""


class WorkerStartError(SetupError):
    """The grader could not start a worker on this system: a sandbox tool, a confinement step or a
    library of the lab failed before the student's file was read.  Never the student's fault, never
    a grade: one line naming what failed, exit 2 (a batch lists it as a problem of the grader)."""


def fail(message: str) -> int:
    """Say ``message`` as the one line of a command that could not start; its exit status."""
    print(f"grade: error: {message}", file=sys.stderr)
    return EXIT_SETUP


def seconds(text: str) -> float:
    """A time limit given on the command line: a finite, positive number of seconds (0, -1, nan and
    inf are refused, in one line)."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number of seconds, got {text!r}") from None
    if not math.isfinite(value) or value <= 0:
        raise argparse.ArgumentTypeError(f"must be a positive, finite number of seconds, got {text!r}")
    return value
