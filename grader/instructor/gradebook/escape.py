"""Student text made safe for each output format: the one place every writer escapes.

A student controls more than their code: the names of their folders and
files (and of the members of a zip), and everything their code prints or
raises. Those strings reach spreadsheets, XML, HTML and terminals, and each
format has its own way of being bent. Every writer calls the function for its
format here, for every cell or field that holds text, whatever its origin:

- :func:`printable`: a name as one printable line of valid UTF-8, each
  character that would not show as itself written as a visible escape
  (``Jos\\xe9`` for a Latin-1 byte); the form a student's id takes.
- :func:`csv_cell`: a spreadsheet cell that is never a formula (OWASP CSV
  injection: a cell starting with ``=``, ``+``, ``-``, ``@``, ``|``, a tab or a CR, after
  any whitespace and in any compatibility form such as ``＝``, is prefixed with ``'``); write rows with :func:`csv_writer`, which quotes every
  cell.
- :func:`xml_attribute` and :func:`xml_text`: text XML 1.0 can hold
  (ElementTree escapes ``<&>"``; characters XML forbids even escaped are removed).
- :func:`html_text`: escaped HTML text.
- :func:`terminal`: a ``rich`` Text for a console (never markup, no escape sequences).

Each also makes its text inert (:mod:`grader.inert`): no escape sequences,
control, format or line-breaking characters, bounded length.
"""

from __future__ import annotations

import csv
import hashlib
import html
import re
import unicodedata
from typing import IO, Any, Iterable

from rich.text import Text

from grader import inert

ID_LENGTH = 120        # characters of a student id (longer names are cut and keep a hash, to stay unique)
CELL = inert.MESSAGE   # characters of one cell or field of student text

# Shown as themselves in a name: everything but control, format, separator-of-lines,
# surrogate, private-use and unassigned characters (and any whitespace but a space).
_HIDDEN = {"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"}
# A spreadsheet reads a cell starting with one of these as a formula (OWASP; ``|`` a DDE link in some), after
# any leading whitespace (a no-break or ideographic space too), in any compatibility form (fullwidth ``＝``,
# small ``﹦``: what NFKC makes ``=``).
_FORMULA_START = tuple("=+-@|\t\r\n")
_XML_INVALID = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def printable(name: str, limit: int = ID_LENGTH) -> str:
    """``name`` as one printable line of valid UTF-8, nothing lost: every character that would
    not show as itself becomes a visible escape (``\\x1b``, ``\\u202e``; a byte that was not
    UTF-8, decoded by Python as a surrogate, becomes ``\\xNN``).

    Idempotent on what it returns. Different names give different results up to
    ``limit`` characters; a longer one is cut and ends with a hash of the whole.
    """
    text = "".join(char if _shown(char) else _escaped(char) for char in name)
    if len(text) <= limit:
        return text
    digest = hashlib.sha256(name.encode("utf-8", "surrogatepass")).hexdigest()[:8]
    return text[: limit - 9] + inert.ELLIPSIS + digest


def _shown(char: str) -> bool:
    if char == " ":
        return True
    return not char.isspace() and unicodedata.category(char) not in _HIDDEN


def _escaped(char: str) -> str:
    code = ord(char)
    if 0xDC80 <= code <= 0xDCFF:      # os.fsdecode's stand-in for an undecodable byte: show the byte
        return f"\\x{code - 0xDC00:02x}"
    if code < 0x100:
        return f"\\x{code:02x}"
    return f"\\u{code:04x}" if code < 0x10000 else f"\\U{code:08x}"


def valid(text: str) -> str:
    """``text`` as valid UTF-8: lone surrogates (undecodable bytes of a file name) as escapes."""
    try:
        text.encode("utf-8")
        return text
    except UnicodeEncodeError:
        return "".join(_escaped(c) if 0xD800 <= ord(c) <= 0xDFFF else c for c in text)


# ------------------------------------------------------------------ CSV
def csv_cell(value: Any, limit: int = CELL) -> str:
    """A cell of student (or any) text that no spreadsheet runs as a formula; numbers pass as numbers."""
    if value is None:
        return ""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return f"{value:g}" if isinstance(value, float) else str(value)
    text = inert.line(value, limit)
    return "'" + text if _formula(text) else text


def _formula(text: str) -> bool:
    """Whether a spreadsheet could take ``text`` for a formula (its start, whitespace and compatibility forms
    seen through)."""
    return unicodedata.normalize("NFKC", text.lstrip()[:8]).lstrip().startswith(_FORMULA_START)


def csv_row(values: Iterable[Any]) -> list[str]:
    """Every cell of a row through :func:`csv_cell`."""
    return [csv_cell(value) for value in values]


def csv_writer(handle: IO[str]) -> Any:
    """A ``csv.writer`` that quotes every cell (a separator inside a cell never starts another)."""
    return csv.writer(handle, quoting=csv.QUOTE_ALL)


# ------------------------------------------------------------------ XML, HTML, terminal
def xml_attribute(value: Any, limit: int = inert.NAME * 2) -> str:
    """One line of text for an XML attribute (``name=``, ``classname=``, ``message=``)."""
    return _XML_INVALID.sub("", inert.line(value, limit))


def xml_text(value: Any, limit: int = inert.OUTPUT) -> str:
    """Text for an XML element's body: newlines kept, what XML 1.0 cannot hold removed."""
    return _XML_INVALID.sub("", inert.clean(value, limit))


def html_text(value: Any, limit: int = CELL) -> str:
    """Escaped HTML text (quotes included, so it may also stand in an attribute)."""
    return html.escape(inert.clean(value, limit), quote=True)


def terminal(value: Any, limit: int = CELL, style: str = "") -> Text:
    """One line for a console, as ``rich`` Text: never parsed as markup, no escape sequences."""
    return Text(inert.line(value, limit), style=style)
