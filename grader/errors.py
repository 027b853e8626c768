"""What stops a run before it grades, and how the command line says so.

Every problem a user can fix (an unknown lab, a missing submission, a course
folder that is not one, a release that does not match its suite) is a
:class:`SetupError` with one line of text: the command prints that line and
exits with :data:`EXIT_SETUP`, never a traceback.
"""

from __future__ import annotations

import sys

EXIT_PASSED, EXIT_FAILED, EXIT_SETUP = 0, 1, 2   # every check that ran passed; some failed; could not start


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
