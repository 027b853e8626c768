"""Reading a submission's file: the file itself, never what a symbolic link points to.

A submission is read by the grader, a trusted process that can read what the
student's worker cannot (the reference, the suites, other students' files).
A link handed in as ``pytorch_basics.py`` would make the grader copy its
target into the submission: so every place a submission is read (single
runs, batches, the Gradescope autograder) reads it through here: opened with
``O_NOFOLLOW``, a regular file only, and at most :data:`MAX_FILE_BYTES`.
"""

from __future__ import annotations

import errno
import os
import stat
from pathlib import Path

MAX_FILE_BYTES = 8 << 20          # a lab file is kilobytes; a notebook with outputs, megabytes
LINK = "a symbolic link: not followed (hand in the file itself)"


class Unreadable(OSError):
    """A file that is there but cannot be read as a submission (the message says why, in one line)."""


def read_no_follow(path: Path, limit: int = MAX_FILE_BYTES) -> bytes:
    """The bytes of the regular file ``path`` (not a link, not a device or a pipe), or Unreadable."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | getattr(os, "O_NONBLOCK", 0))
    except OSError as exc:
        raise Unreadable(LINK if exc.errno == errno.ELOOP else exc.strerror or str(exc)) from None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise Unreadable("not a regular file")
        if info.st_size > limit:
            raise Unreadable(f"too large ({info.st_size >> 20} MiB; at most {limit >> 20} MiB)")
        with os.fdopen(fd, "rb", closefd=False) as handle:
            data = handle.read(limit + 1)
        if len(data) > limit:
            raise Unreadable(f"too large (more than {limit >> 20} MiB)")
        return data
    finally:
        os.close(fd)


def is_link(path: Path) -> bool:
    """Whether ``path`` itself is a symbolic link (a missing path is not)."""
    try:
        return stat.S_ISLNK(os.lstat(path).st_mode)
    except OSError:
        return False
