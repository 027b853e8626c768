"""A Jupyter notebook's code cells as a Python module a worker can import.

IPython-only syntax (``%magic``, ``!shell``, ``obj?`` help) is not Python: each such line
becomes a comment, or a ``pass`` where it is indented, so the blocks around
it still parse (and a ``from __future__`` import after it still comes first); cells of a shell or other-language cell magic (``%%bash``) are dropped.
Prompts pasted with code (``>>> ``, ``In [1]: ``) are stripped as IPython strips them (:func:`without_prompts`).
Each line of the module remembers its cell and line, so feedback can say
"cell 3, line 2" where the student looks.  Used by single runs
(``grade lab4 --submission lab4.ipynb``), by batch grading, and by ``grader.check`` and
``grader.export`` in a running notebook (the same rules for each cell the kernel ran).

A notebook file is validated strictly against its nbformat schema (nbformat's
validator, whose errors ``nbformat.reads`` only logs) before any cell is
read: one that is not valid is refused with one line naming the cell.  What
the report says about the lines left out is inert text (:mod:`grader.inert`).
"""

from __future__ import annotations

import ast
import json
import re
import textwrap
import tokenize
import warnings
from dataclasses import dataclass, field
from typing import Any

from grader import inert

# cell magics whose body is still Python
_PYTHON_CELL_MAGICS = {"time", "timeit", "capture", "prun"}
_ESCAPE = re.compile(r"^(?P<indent>\s*)(?:%|!)")
_ASSIGNED_ESCAPE = re.compile(r"^(?P<indent>\s*)[\w.,\s]+=\s*(?:%|!)")
# IPython's help syntax: ``?obj`` anywhere, ``obj?`` / ``np.reshape??`` for a dotted name (its _help_end_re)
_TIMED = re.compile(r"^(?P<indent>\s*)%time\s+(?P<statement>\S.*)$")   # %time x = f(): x = f() runs
_HELP = re.compile(r"^(?P<indent>\s*)(?:\?.*|%{0,2}(?!\d)[\w*]+(?:\.[\w*]+)*\?\??\s*)$")
_LINE = re.compile(r"\bline (\d+)\b")
_LINE_END = re.compile(r"\r\n|\r|\n")   # Python's line ends: a form feed, NEL or U+2028 is none
# prompts pasted with code, as IPython strips them (IPython.core.inputtransformer2: classic_prompt, then
# ipython_prompt): (the first line's prompt, any line's prompt)
_PROMPTS = ((re.compile(r"^>>>( |$)"), re.compile(r"^(>>>|\.\.\.)( |$)")),
            (re.compile(r"^(((\[nav\]|\[ins\])? )?In \[\d+\]: |\s*\.{3,}: ?)"),) * 2)
_INDENT = re.compile(r"^[ \t]+")


class NotebookError(ValueError):
    """The file is not a notebook nbformat can read."""


@dataclass
class Converted:
    """The module's source, where each of its lines came from, and what was left out."""

    source: str
    origins: list[tuple[int, int] | None] = field(default_factory=list)  # module line - 1 -> (cell, line)
    dropped: list[str] = field(default_factory=list)   # "cell 2, line 1: !pip install librosa"
    cell_label: str = "cell {}"    # how a cell is named: "cell 3" in a file, "Cell In[7]" in a running kernel

    def place(self, line: int) -> str:
        """'cell 3, line 2' for line ``line`` of the module ('line N' when it has no cell)."""
        origin = self.origins[line - 1] if 0 < line <= len(self.origins) else None
        return f"{self.cell_label.format(origin[0])}, line {origin[1]}" if origin else f"line {line}"

    def relabel(self, text: str, prefix: str = "") -> str:
        """Every '[prefix ]line N' of ``text`` as the cell and line it came from (no prefix:
        ``text`` is all about the module)."""
        pattern = re.compile(re.escape(prefix + " ") + _LINE.pattern) if prefix else _LINE
        return pattern.sub(lambda m: (prefix + " " if prefix else "") + self.place(int(m.group(1))), text)


def convert(raw: bytes) -> Converted:
    """The code cells of the notebook ``raw``, IPython syntax removed, with their origins;
    NotebookError (one line) when it is not a valid notebook."""
    notebook = read_valid(raw)
    lines: list[str] = []
    converted = Converted("")
    futures: list[str] = []   # each cell's own future imports (Jupyter compiles each cell by itself)
    for number, cell in enumerate(notebook.cells, start=1):
        if cell.cell_type != "code":
            continue
        cell_lines = cell_to_python(number, cell.source, converted.dropped)
        if not "".join(text for text, _ in cell_lines).strip():
            continue
        if lines:
            lines.append("")
            converted.origins.append(None)
        python = dedented([text for text, _ in cell_lines])
        futures += _future_imports(python, later=bool(lines))
        lines += python
        converted.origins += [(number, line) for _, line in cell_lines]
    if futures:   # a later cell's own future import: first in the module, where Python wants it
        lines.insert(0, f"from __future__ import {', '.join(dict.fromkeys(futures))}")
        converted.origins.insert(0, None)
    converted.source = "\n".join(lines) + "\n"
    return converted


def _future_imports(lines: list[str], later: bool) -> list[str]:
    """The names a cell imports from ``__future__`` at its start, each such line made a comment (a
    later cell's only: the first cell's already come first); [] when it has none or is no Python."""
    if not later or not any("__future__" in line for line in lines):
        return []
    try:
        body = ast.parse("\n".join(lines)).body
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return []
    if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant) \
            and isinstance(body[0].value.value, str):
        body = body[1:]   # a docstring may come first
    names: list[str] = []
    for node in body:
        if not (isinstance(node, ast.ImportFrom) and node.module == "__future__" and node.level == 0):
            break
        names += [alias.name for alias in node.names]
        for index in range(node.lineno - 1, (node.end_lineno or node.lineno)):
            lines[index] = f"# moved to the module's first line: {inert.line(lines[index].strip(), 60)}"
    return names


def read_valid(raw: bytes) -> Any:
    """The notebook ``raw`` (as version 4), validated strictly as written and as converted;
    NotebookError if it is not a notebook or does not follow its schema (naming the cell at fault)."""
    import nbformat

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")   # a missing cell id: nbformat adds one, as Jupyter does
        try:
            text = raw.decode("utf-8")
            document = json.loads(text)
        except Exception as exc:  # not UTF-8, not JSON, nested deeper than the parser goes
            raise NotebookError(f"not a readable notebook ({type(exc).__name__})") from None
        if not isinstance(document, dict):
            raise NotebookError("not a readable notebook (not a JSON object)")
        _validate(nbformat, document)
        try:
            notebook = nbformat.reads(text, as_version=4)
        except Exception as exc:
            raise NotebookError(f"not a readable notebook ({type(exc).__name__})") from None
        _validate(nbformat, notebook)
    for number, cell in enumerate(notebook.cells, start=1):   # what the schema promises, checked again
        if not isinstance(cell.get("source"), str):
            raise NotebookError(f"not a valid notebook: cell {number}: its source is not text")
        if cell.cell_type == "code" and not _utf8(cell.source):   # JSON can spell a lone surrogate
            raise NotebookError(f"not a valid notebook: cell {number}: its source is not UTF-8 text")
    return notebook


def _utf8(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _validate(nbformat: Any, notebook: Any) -> None:
    try:
        nbformat.validate(notebook)
    except Exception as exc:  # ValidationError, or what a hostile document makes the validator raise
        raise NotebookError(f"not a valid notebook: {_invalid(exc)}") from None


def _invalid(exc: Exception) -> str:
    """'cell 2, source: 12 is not valid under any of the given schemas', in one short line."""
    message = inert.line(getattr(exc, "message", None) or type(exc).__name__, 160)
    path = list(getattr(exc, "absolute_path", None) or getattr(exc, "path", None) or [])
    if len(path) >= 2 and path[0] == "cells" and isinstance(path[1], int):
        field_name = f", {inert.line(path[2], 40)}" if len(path) > 2 else ""
        return f"cell {path[1] + 1}{field_name}: {message}"
    return message


def dedented(lines: list[str]) -> list[str]:
    """A cell's lines without the indentation they all share, as IPython runs a cell (and as
    :mod:`grader.grading.kernel_cells` reads one): a cell pasted indented runs in Jupyter."""
    result = textwrap.dedent("\n".join(lines)).split("\n")
    return result if len(result) == len(lines) else lines


def notebook_to_source(raw: bytes) -> str:
    """The code cells of the notebook ``raw``, IPython syntax removed."""
    return convert(raw).source


def source_lines(source: str) -> list[str]:
    """``source`` cut into lines where Python's tokenizer cuts it (``\\n``, ``\\r\\n``, ``\\r``), unlike
    ``str.splitlines``, which also cuts at a form feed, NEL or U+2028: inside a string or a comment these
    are no line end, and cutting there breaks the string or makes the comment's tail code."""
    lines = _LINE_END.split(source)
    return lines[:-1] if lines and not lines[-1] else lines


def cell_to_python(number: int, source: str, dropped: list[str]) -> list[tuple[str, int]]:
    """(Python line, its line number in the cell) for one cell; what is not Python goes to ``dropped``."""
    lines = list(enumerate(source_lines(source), start=1))
    while lines and not lines[0][1].strip():   # as IPython, which drops them before it looks for a cell magic
        lines = lines[1:]
    lines = list(zip([n for n, _ in lines], without_prompts([line for _, line in lines])))   # as IPython
    if lines and lines[0][1].lstrip().startswith("%%"):
        words = lines[0][1].lstrip()[2:].split()
        dropped.append(f"cell {number}, line 1: {inert.line(lines[0][1].strip(), 60)}"
                       + ("" if words and words[0] in _PYTHON_CELL_MAGICS else " (the whole cell)"))
        if not words or words[0] not in _PYTHON_CELL_MAGICS:
            return []
        lines = lines[1:]
    result = []
    continued = _continued([line for _, line in lines])
    tails = _magic_tails([line for _, line in lines], continued)
    for index, (line_number, line) in enumerate(lines):
        if index in tails:
            python = f"# notebook-only line removed: {inert.line(line.strip(), 60)}"
        else:
            python = line if index in continued else _python_line(line)
        if python != line:
            timed = _TIMED.match(line) if index not in continued and index not in tails else None
            kept = timed is not None and python.strip() == timed["statement"].strip()
            dropped.append(f"cell {number}, line {line_number}: "
                           + ("%time (its statement is kept)" if kept else inert.line(line.strip(), 60)))
        result.append((python, line_number))
    return result


def without_prompts(lines: list[str]) -> list[str]:
    """A cell's lines (its leading blank lines dropped) without the prompts of code pasted from a console or
    the docs (``>>> `` and ``... ``, IPython's ``In [1]: `` and ``   ...: ``), stripped as IPython strips
    them before it runs the cell: from every line when the first line has one (or the second any), after
    the first line's indentation is removed from the lines that have it; the lines as they were otherwise."""
    indent = _INDENT.match(lines[0])[0] if lines and _INDENT.match(lines[0]) else ""
    bare = [line.removeprefix(indent) for line in lines]
    found = False
    for first, prompt in _PROMPTS:
        if bare and (first.match(bare[0]) or (len(bare) > 1 and prompt.match(bare[1]))):
            bare, found = [prompt.sub("", line, count=1) for line in bare], True
    return bare if found else lines


def _magic_tails(lines: list[str], continued: set[int]) -> set[int]:
    """Indexes of the lines a magic continues with a final backslash (``!pip install a \\`` then
    ``    b``): IPython makes them one magic, so they are no Python either."""
    tails: set[int] = set()
    for index, line in enumerate(lines):
        if index in continued or index in tails or not _notebook_only(line):
            continue
        while index < len(lines) - 1 and lines[index].rstrip().endswith("\\"):
            index += 1
            tails.add(index)
    return tails


def _continued(lines: list[str]) -> set[int]:
    """Indexes of the lines that continue a statement begun above (inside brackets or a string, after a
    backslash): IPython reads ``%`` and ``!`` only where a statement starts, so ``(a\\n % b)`` or a
    ``%d`` line in a triple-quoted string is Python, not a magic.  Read with the standard tokenizer,
    each magic line's tokens ignored (where the tokenizer stops inside one, it goes on after it); a
    line the tokenizer never reached (it stopped at an error) counts as a statement's start."""
    if not any(_notebook_only(line) for line in lines[1:]):
        return set()
    continued: set[int] = set()
    start: int | None = 0
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")   # the tokenizer's SyntaxWarnings (3.12+) are not the student's
        for _ in range(64):   # each scan may read to the end: a bounded number of them
            start = _scan(lines, start, continued)
            if start is None or start >= len(lines):
                break
    return continued


def _scan(lines: list[str], start: int, continued: set[int]) -> int | None:
    """Adds the continued lines of ``lines[start:]`` to ``continued``; where the tokenizer stopped
    inside a magic line, the line after it (to scan on from), else None."""
    depth, starts, magics, decided = 0, True, set(), start   # decided: lines before it are known
    feed = iter([line + "\n" for line in lines[start:]])
    try:
        for token in tokenize.generate_tokens(lambda: next(feed, "")):
            first, last = start + token.start[0] - 1, start + token.end[0] - 1
            while decided <= min(first, len(lines) - 1):   # the state at the start of each line up to this one
                if depth > 0 or not starts:
                    continued.add(decided)
                elif _notebook_only(lines[decided]):
                    magics.add(decided)
                decided += 1
            if first in magics:
                continue
            if last > first:                          # a string over several lines: its inner lines
                continued.update(range(first + 1, min(last, len(lines) - 1) + 1))
                decided = max(decided, last + 1)
            if token.type == tokenize.OP and token.string in "([{":
                depth += 1
            elif token.type == tokenize.OP and token.string in ")]}":
                depth = max(depth - 1, 0)
            starts = token.type in (tokenize.NEWLINE, tokenize.NL, tokenize.INDENT, tokenize.DEDENT,
                                    tokenize.COMMENT, tokenize.ENDMARKER)
    except Exception as exc:   # TokenError, SyntaxError; UnicodeEncodeError for a lone surrogate (3.12+)
        where = exc.args[1] if isinstance(exc, tokenize.TokenError) and len(exc.args) > 1 else None
        row = where[0] if isinstance(where, tuple) and where and type(where[0]) is int else getattr(exc, "lineno", None)
        failed = start + row - 1 if type(row) is int else -1
        return failed + 1 if failed in magics else None
    return None


def _notebook_only(line: str) -> re.Match | None:
    """The match when ``line``, read where a statement starts, is IPython's, not Python's."""
    return _ESCAPE.match(line) or _ASSIGNED_ESCAPE.match(line) or _HELP.match(line)


def _python_line(line: str) -> str:
    timed = _TIMED.match(line)
    if timed:   # IPython runs the statement (what it assigns is bound) and says how long it took
        return _python_line(timed["indent"] + timed["statement"])
    match = _notebook_only(line)
    if match is None:
        return line
    keep = "pass  " if match["indent"] else ""
    return f"{match['indent']}{keep}# notebook-only line removed: {inert.line(line.strip(), 60)}"
