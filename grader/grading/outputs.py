"""What the worker printed during a check: the student's output apart from library warnings.

Python prints a warning as ``FILE:LINE: CATEGORY: MESSAGE`` followed by the
source line, indented.  The frame it names decides whose warning it is: only
a warning whose frame is the student's file is theirs (their own
``warnings.warn``, or a library's warning about how their line called it);
one raised inside librosa or torch is shown apart, as the library's, unless
the lab expects it: a library warning that a check's own input provokes
(librosa's "n_fft=2048 is too large for input signal" for a clip the check
makes short on purpose) says nothing about the student's code, and a lab
names such messages in its lab.toml (``expected_warnings``).  The text is
data from the worker: it is only split here, never interpreted.
"""

from __future__ import annotations

import re
from pathlib import PurePath

_WARNING = re.compile(r"^(?P<file>[^\n:]+):(?P<line>\d+): (?P<category>[A-Za-z_]\w*Warning): (?P<message>.*)$")


def split_warnings(text: str, student_file: str, expected: tuple[str, ...] = ()) -> tuple[str, str]:
    """(what the student's code printed, warnings raised inside libraries, one per line).

    A library warning whose message matches one of the ``expected`` regular expressions is left out.
    """
    quiet = [re.compile(pattern) for pattern in expected]
    printed: list[str] = []
    library: list[str] = []
    lines = text.splitlines(keepends=True)
    i = 0
    while i < len(lines):
        match = _WARNING.match(lines[i].rstrip("\n"))
        if match is None or PurePath(match["file"]).name == student_file:
            printed.append(lines[i])
            i += 1
            continue
        i += 1
        while i < len(lines) and lines[i].startswith("  "):  # the source line the warning quotes
            i += 1
        if any(pattern.search(match["message"]) for pattern in quiet):
            continue
        where = f"{_library_of(match['file'])}, line {match['line']}"
        library.append(f"{match['category']}: {match['message'].strip()} ({where})")
    return "".join(printed), "\n".join(dict.fromkeys(library))


def _library_of(path: str) -> str:
    """'librosa/core/audio.py' for '/usr/lib/python3/site-packages/librosa/core/audio.py'."""
    parts = PurePath(path).parts
    for marker in ("site-packages", "dist-packages"):
        if marker in parts:
            return "/".join(parts[parts.index(marker) + 1:])
    return "/".join(parts[-2:])
