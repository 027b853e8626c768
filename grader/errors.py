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


def fail(message: str) -> int:
    """Say ``message`` as the one line of a command that could not start; its exit status."""
    print(f"grade: error: {message}", file=sys.stderr)
    return EXIT_SETUP
