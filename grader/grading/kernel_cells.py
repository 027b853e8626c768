"""The cells a kernel ran, as Python: each run's top-level statements, where their lines came
from, what they bind and what they read (for :mod:`grader.grading.kernel`).

A cell is read as IPython reads it before it compiles it (leading blank lines dropped, a
common indentation removed) and as a saved notebook's cell is read for grading (``%magic``
and ``!shell`` lines made comments: :func:`grader.grading.notebooks.cell_to_python`), so
line numbers match the code the kernel compiled and the report can name "Cell In[7], line 2".
"""

from __future__ import annotations

import ast
import symtable
from collections.abc import Iterator
from dataclasses import dataclass

from grader.grading.notebooks import (
    cell_to_python,
    dedented,
    source_lines,
    without_prompts,
)

CELL_LABEL = "Cell In[{}]"   # as IPython's tracebacks name a cell

Origin = tuple[int, int] | None   # (execution count, line in the cell) of one line of a module


@dataclass
class Cell:
    """One run of a cell, as Python."""

    number: int                 # its execution count
    lines: list[str]            # the cell, IPython syntax made comments
    origins: list[int]          # Python line - 1 -> line in the cell
    changed: dict[int, str]     # Python line -> "Cell In[7], line 2: !pip install x"
    body: list[ast.stmt]
    skipped: int = 0            # leading blank lines, which IPython drops before it compiles the cell

    def statement_at(self, line: int) -> Statement | None:
        """The top-level statement holding line ``line`` of the cell."""
        if line not in self.origins:
            return None
        python_line = self.origins.index(line) + 1
        for node in self.body:
            statement = Statement(self, node)
            if statement.first <= python_line <= statement.last:
                return statement
        return None


def parse_cell(number: int, raw: str) -> Cell | None:
    """Run ``number`` of a cell whose source was ``raw``; None when it is not Python (it did not run)."""
    raw_lines = source_lines(raw)
    skipped = next((index for index, line in enumerate(raw_lines) if line.strip()), len(raw_lines))
    raw_lines = raw_lines[:skipped] + without_prompts(raw_lines[skipped:])   # a pasted prompt is no change
    pairs = cell_to_python(number, raw, [])
    lines, origins = [text for text, _ in pairs], [line for _, line in pairs]
    changed = {index: f"{CELL_LABEL.format(number)}, line {line}: {raw_lines[line - 1].strip()[:60]}"
               for index, (text, line) in enumerate(pairs, start=1) if text != raw_lines[line - 1]}
    lines = dedented(lines)   # as IPython, which removes a common indentation
    try:
        body = ast.parse("\n".join(lines)).body
    except (SyntaxError, ValueError, RecursionError, MemoryError):   # a lone surrogate, nesting past the parser:
        # IPython cannot compile it either
        return None
    return Cell(number, lines, origins, changed, body, skipped)


@dataclass(frozen=True)
class Statement:
    """One top-level statement of one cell run."""

    cell: Cell
    node: ast.stmt

    @property
    def key(self) -> tuple[int, int, int]:
        return (self.cell.number, self.node.lineno, self.node.col_offset)

    @property
    def first(self) -> int:
        decorators = getattr(self.node, "decorator_list", None)
        return decorators[0].lineno if decorators else self.node.lineno

    @property
    def last(self) -> int:
        return self.node.end_lineno or self.node.lineno

    def text(self) -> list[str]:
        """Its lines, cut where it starts and ends (positions are UTF-8 byte offsets)."""
        lines = self.cell.lines[self.first - 1:self.last]
        lines[-1] = lines[-1].encode()[:self.node.end_col_offset].decode(errors="ignore")
        start = 0 if getattr(self.node, "decorator_list", None) else self.node.col_offset
        lines[0] = lines[0].encode()[start:].decode(errors="ignore")
        return lines

    def origins(self) -> list[Origin]:
        return [(self.cell.number, line) for line in self.cell.origins[self.first - 1:self.last]]

    def changed(self) -> list[str]:
        return [text for line, text in sorted(self.cell.changed.items()) if self.first <= line <= self.last]

    def table(self) -> symtable.SymbolTable:
        return symtable.symtable("\n".join(self.text()) + "\n", "<cell>", "exec")

    def binds(self) -> set[str]:
        """The names it binds at the top level (a def, an assignment, an import, a for target, ...)."""
        return {s.get_name() for s in self.table().get_symbols() if s.is_assigned() or s.is_imported()}

    def uses(self) -> list[str]:
        """The global names it (or any function or class in it) reads, in a stable order."""
        found: dict[str, None] = {}
        for table in tables(self.table()):
            for symbol in table.get_symbols():
                if symbol.is_global() and (symbol.is_referenced() or symbol.is_declared_global()):
                    found.setdefault(symbol.get_name())
        return list(found)


def tables(table: symtable.SymbolTable) -> Iterator[symtable.SymbolTable]:
    yield table
    for child in table.get_children():
        yield from tables(child)


def may_bind(node: ast.stmt, name: str) -> bool:
    """A cheap test before the symbol table: the name occurs in the statement at all."""
    return any(isinstance(n, ast.Name) and n.id == name
               or isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)) and n.name == name
               or isinstance(n, ast.alias) and name in (n.asname, n.name, n.name.split(".")[0])
               for n in ast.walk(node))
