"""Student strings made inert: nothing a submission prints or raises can steer the report.

Every string that comes from student code (an exception's type name and
message, where it was raised, traceback lines, printed output, the repr of a
returned value) passes through here on its way into the grader.  Escape
sequences and control characters are removed, so printed output cannot clear
the screen, move the cursor, set a window title or fake a score line in
colour; every other character that breaks a line somewhere (U+2028, U+2029:
everything ``str.splitlines`` breaks on besides ``\n``) is removed like them,
so text cannot start a line of its own in a file or a viewer; Unicode format
characters (category Cf: zero-width, bidirectional overrides...) are removed,
so text cannot hide a character or read backwards; a lone surrogate (not
UTF-8, so not writable) becomes U+FFFD; and every field is cut to a length the report can show, so a 5-million
character class name costs 200 characters, not megabytes.

Rich markup is not this module's concern: the report renders these strings
as :class:`rich.text.Text`, never parses them.
"""

from __future__ import annotations

import re
import unicodedata

# Limits, in characters, for each kind of student string.
NAME = 200        # an exception's type name, a class name
MESSAGE = 2000    # an exception's message
WHERE = 300       # "file line N, in f"
LINE = 300        # one traceback line
LINES = 8         # traceback lines kept
OUTPUT = 4000     # what a check printed
SHORT = 80        # a value's description inside a sentence

ELLIPSIS = "…"

# ECMA-48 escape sequences: CSI (ESC [ or 8-bit 0x9B) ... final byte; OSC, DCS, SOS, PM, APC
# strings up to their terminator (BEL or ST); and the two-character ESC sequences.
_ESCAPES = re.compile(
    r"(?:\x1b\[|\x9b)[0-?]*[ -/]*[@-~]?"                       # CSI: cursor, erase, colour
    r"|(?:\x1b[\]PX^_]|[\x90\x98\x9d\x9e\x9f])[^\x07\x1b\x9c]*(?:\x07|\x1b\\|\x9c)?"  # OSC/DCS/SOS/PM/APC
    r"|\x1b[ -/]*[0-~]?"                                       # other ESC sequences (and a lone ESC)
)
# Removed wherever they are: control characters (Cc: C0, DEL, C1, which hold VT, FF, FS, GS, RS
# and NEL), format characters (Cf: zero-width, bidi controls, soft hyphen...) and the line and
# paragraph separators (Zl, Zp); together, every line break str.splitlines() knows but "\n".
_REMOVED = {"Cc", "Cf", "Zl", "Zp"}


def clean(text: object, limit: int = MESSAGE, *, keep_newlines: bool = True) -> str:
    """``text`` without escape sequences, control, format or line-breaking characters, at most
    ``limit`` characters.

    Newlines and tabs survive when ``keep_newlines`` (printed output, messages);
    otherwise they become spaces (names, one-line fields).  A carriage return
    becomes a newline, so ``"Score 0\\rScore 52"`` cannot overwrite a line.
    """
    text = text if type(text) is str else _as_text(text)
    text = text[: 4 * limit + 64]  # cleaning only removes characters: the rest could never be shown
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    text = _ESCAPES.sub("", text)
    text = "".join(_keep(c, keep_newlines) for c in text)
    return clip(text, limit)


def line(text: object, limit: int = NAME) -> str:
    """One line: like :func:`clean`, with newlines and tabs turned into spaces."""
    return clean(text, limit, keep_newlines=False)


def clip(text: str, limit: int) -> str:
    """``text`` cut to ``limit`` characters, saying so with a final ``…``."""
    if len(text) <= limit:
        return text
    return text[: max(limit - 1, 0)] + ELLIPSIS


def lines(items: object, count: int = LINES, limit: int = LINE) -> list[str]:
    """The last ``count`` items of a list of student strings, each made one clean line."""
    if type(items) is not list:
        return []
    return [line(item, limit) for item in items[-count:]]


def _keep(char: str, keep_newlines: bool) -> str:
    if char in "\n\t":
        return char if keep_newlines else " "
    category = unicodedata.category(char)
    if category in _REMOVED:
        return ""
    return "\ufffd" if category == "Cs" else char


def _as_text(value: object) -> str:
    """A non-string from the wire (already plain data) as text; never student code."""
    try:
        return str(value)
    except Exception:
        return "?"
