"""The lab's module as a running kernel holds it now: what ``grader.check`` grades.

``grader.check("lab4")`` grades neither a saved file nor the cells as they read on screen,
but what the notebook would run if it called the lab's functions now.  The contract:

* **Graded names**: the top-level functions and classes of the lab's stub
  (:func:`grader.course.stub.lab_definitions`; methods come with their class).  Each is
  taken from the cell run that made the object the kernel holds under that name, found
  from the object's compiled code: cells run out of order, run twice, or edited and not
  run again count as the kernel has them, and a cell that stopped at an error before its
  ``def`` leaves the older definition in force.
* **A name the kernel does not hold** (its cell never ran since the kernel started, or
  it was ``del``-eted) is not in the module: its checks fail as for a file without it,
  and a note names it.  A cell deleted from the notebook whose function the kernel still
  holds is still graded, since the kernel has it; :func:`compare` says where the saved
  notebook (what ``grader.export`` hands in) differs.
* **What the definitions use** (their global names, found by :mod:`symtable`, and what
  those use in turn) is carried over as what it is in the kernel now: a module: its
  import; a function or class of the notebook: its definition, by the rule above; a
  library's object: the import statement that bound it (or one built from its module and
  name); a plain constant (numbers, strings, bytes, None, and lists, tuples, sets and
  dicts of those): its value; anything else (an array, a model, a device): the last
  top-level statement run that bound it.  A name none of these covers is left out and
  named in a note.  Exploration cells (plots, calls, training) are not run again.
* **IPython syntax** (``%magic``, ``!shell``) in those statements is handled as in a saved
  notebook (:mod:`grader.grading.notebooks`); each line remembers its cell, named as
  IPython names it ("Cell In[7], line 2").

Nothing here calls the student's code: it reads the cells' source, the file names and
line numbers of compiled code, the types of values and the repr of plain constants.  A value is
what its type says (never its ``__class__``, which any object may claim), and attributes are
read from where Python keeps them (a function's own fields, a class's or module's dict), never
through a metaclass, a property or ``__getattr__``: a value made to lie is not graded as what
it claims to be (a callable dressed as the cell's function is "defined elsewhere", not that
function), and one made to raise is left out, not a traceback in the notebook.
"""

from __future__ import annotations

import __future__
import ast
import re
import sys
import types
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from grader.grading.kernel_cells import CELL_LABEL, Origin, Statement, may_bind, parse_cell
from grader.grading.notebooks import Converted

_IPYTHON7_CELL_FILE = re.compile(r"<ipython-input-(\d+)-")   # IPython 7 (Colab) names cells' code so
_LITERAL_CHARACTERS = 10_000                           # a longer constant is rebuilt by its statement
_PLAIN_SCALARS = (bool, int, float, complex, str, bytes, type(None))
_PLAIN_ITEMS = 10_000                                  # items of a constant looked at, at most


@dataclass(frozen=True)
class Kernel:
    """What a kernel holds now, as plain values (:meth:`of_shell` reads them from IPython)."""

    namespace: Mapping[str, Any]                    # the notebook's globals
    cells: Sequence[str]                            # the source of each run, by execution count (0 unused)
    cell_files: Mapping[str, int] = field(default_factory=dict)   # compiled code's file name -> count
    future_annotations: bool = False                # `from __future__ import annotations` is in force

    @classmethod
    def of_shell(cls, shell: Any) -> Kernel:
        """The state of an IPython shell (``get_ipython()``): Jupyter, VS Code, Colab, IPython."""
        compiler = shell.compile
        return cls(namespace=shell.user_ns, cells=list(shell.history_manager.input_hist_raw),
                   cell_files=dict(getattr(compiler, "_filename_map", {})),
                   future_annotations=bool(getattr(compiler, "flags", 0) & __future__.annotations.compiler_flag))

    def cell_of(self, filename: str) -> int | None:
        """The execution count whose code has this file name, if it is a cell's."""
        if filename in self.cell_files:
            return self.cell_files[filename]
        match = _IPYTHON7_CELL_FILE.match(filename)
        return int(match.group(1)) if match else None


@dataclass
class Assembled:
    """The module to grade, and what the report should say about how it was made."""

    converted: Converted                    # its source, each line's cell, magic lines left out
    graded: list[str] = field(default_factory=list)       # the lab's names the kernel defines
    missing: list[str] = field(default_factory=list)      # the lab's names the kernel does not hold
    left_out: list[str] = field(default_factory=list)     # "audio (ndarray)": used, cannot be carried over
    elsewhere: list[str] = field(default_factory=list)    # bound outside the cells: the lab's file, %run, exec
    definitions: dict[str, str] = field(default_factory=dict)   # graded name -> ast.dump of its definition

    def notes(self) -> list[str]:
        """What the student should know about the module, in their words."""
        notes = []
        if self.missing:
            notes.append(f"not defined in this notebook now, so their checks fail: {', '.join(self.missing)} "
                         "(a cell not run since the kernel started, or a name deleted)")
        if self.left_out:
            notes.append(f"used by your code but not carried over from the notebook: {', '.join(self.left_out)} "
                         "(no cell run assigns it; make it a constant, or create it inside the function)")
        if self.elsewhere:
            notes.append(f"defined outside this notebook's cells (imported from your .py file, %run, exec), so not "
                         f"graded here: {', '.join(self.elsewhere)} (grade that file with `grade LAB`)")
        return notes


def assemble(kernel: Kernel, names: Sequence[str], lab_module: str) -> Assembled:
    """The module holding ``names`` (the lab's top-level names, in the stub's order) as ``kernel``
    defines them now, with what they use; ``lab_module`` is the lab's own module, never imported."""
    assembler = _Assembler(kernel, lab_module)
    for name in names:
        assembler.need(name, graded=True)
    return assembler.assembled()


def compare(definitions: Mapping[str, str], saved_source: str, names: Sequence[str]) -> list[str]:
    """The lab's names the kernel defines (``definitions``, as :class:`Assembled` has them) that a saved
    notebook's code (``saved_source``) defines otherwise or not at all, in the stub's order."""
    saved = top_level_definitions(saved_source)
    return [name for name in names if name in definitions and definitions[name] != saved.get(name)]


def top_level_definitions(source: str) -> dict[str, str]:
    """Name -> ast.dump of the last top-level def or class of that name in ``source`` (as run)."""
    try:
        return {node.name: ast.dump(node) for node in ast.parse(source).body
                if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))}
    except (SyntaxError, ValueError, RecursionError, MemoryError):   # not Python, or nested past the parser
        return {}


# ------------------------------------------------------------------ assembling the module
@dataclass
class _Piece:
    lines: list[str]
    origins: list[Origin]
    changed: list[str] = field(default_factory=list)


class _Assembler:
    """Resolves names depth first, so a statement comes after what it needs at import time."""

    def __init__(self, kernel: Kernel, lab_module: str) -> None:
        self.kernel, self.lab_module = kernel, lab_module
        parsed = (parse_cell(number, raw) for number, raw in enumerate(kernel.cells) if number and raw)
        self.cells = {cell.number: cell for cell in parsed if cell is not None}
        self.seen: set[str] = set()
        self.done: set[tuple[int, int, int]] = set()
        self.imports: list[_Piece] = []
        self.code: list[_Piece] = []
        self.result = Assembled(Converted("", cell_label=CELL_LABEL))
        self.lines: list[str] = []

    def need(self, name: str, graded: bool = False) -> None:
        if name in self.seen:
            return
        self.seen.add(name)
        if name not in self.kernel.namespace:   # a builtin, or not defined: the kernel would fail as well
            if graded:
                self.result.missing.append(name)
            return
        value = self.kernel.namespace[name]
        literal = _literal(value)
        if literal is not None:
            self.code.append(_Piece([f"{name} = {literal}"], [None]))
            return
        if _is_module(value) or _from_library(value):
            statement = self._last_binding(name)
            carried = self._import(name, value, statement)
        else:
            statement = self._made(name, value) or self._last_binding(name)
            if statement is not None and not _fits(statement.node, value):
                statement = None   # the last def of the name did not make what the kernel holds under it
            if statement is None:
                kept = self.result.elsewhere if graded else self.result.left_out
                kept.append(name if graded else f"{name} ({_type_name(value)})")
                return
            if isinstance(statement.node, (ast.Import, ast.ImportFrom)):
                carried = self._import(name, value, statement)
            else:
                self._add(statement)
                carried = True
        if graded and carried:
            self.result.graded.append(name)
            self.result.definitions[name] = ast.dump(statement.node) if statement is not None else ""

    def _made(self, name: str, value: Any) -> Statement | None:
        """The statement whose run made ``value``, a function or class of the notebook, if it binds ``name``."""
        for code in _codes_of(value):
            cell = self.cells.get(self.kernel.cell_of(code.co_filename))
            statement = cell.statement_at(code.co_firstlineno + cell.skipped) if cell is not None else None
            if statement is not None and name in statement.binds():
                return statement
        return None

    def _last_binding(self, name: str) -> Statement | None:
        for number in sorted(self.cells, reverse=True):
            cell = self.cells[number]
            for node in reversed(cell.body):
                statement = Statement(cell, node)
                if may_bind(node, name) and name in statement.binds():
                    return statement
        return None

    def _add(self, statement: Statement) -> None:
        if statement.key in self.done:
            return
        self.done.add(statement.key)
        for used in statement.uses():
            self.need(used)
        self.code.append(_Piece(statement.text(), statement.origins(), statement.changed()))

    def _import(self, name: str, value: Any, statement: Statement | None) -> bool:
        """The import that binds ``name`` to ``value`` (the student's own where it still fits);
        False when there is none to carry over."""
        line, origin = None, None
        if statement is not None and isinstance(statement.node, (ast.Import, ast.ImportFrom)):
            line = _alias_line(statement.node, name, value, self.lab_module)
            origin = statement.origins()[0] if line is not None else None
        line = line or _import_line(name, value, self.lab_module)
        if line is None:
            self.result.left_out.append(f"{name} ({_type_name(value)})")
            return False
        if _imports_module(line, self.lab_module):
            self.result.elsewhere.append(name)
            return False
        if all(piece.lines != [line] for piece in self.imports):
            self.imports.append(_Piece([line], [origin]))
        return True

    def assembled(self) -> Assembled:
        """The future import in force, the imports, then the statements, each after what it needs."""
        if self.kernel.future_annotations:
            self._append(_Piece(["from __future__ import annotations"], [None]), blank=False)
        in_cell_order = sorted(self.imports, key=lambda piece: piece.origins[0] or (sys.maxsize, 0))
        for index, piece in enumerate(in_cell_order):   # the student's imports as they ran, then made ones
            self._append(piece, blank=index == 0)
        for piece in self.code:
            self._append(piece, blank=True)
        self.result.converted.source = "\n".join(self.lines) + "\n"
        return self.result

    def _append(self, piece: _Piece, blank: bool) -> None:
        converted = self.result.converted
        if blank and self.lines:
            self.lines.append("")
            converted.origins.append(None)
        self.lines += piece.lines
        converted.origins += piece.origins
        converted.dropped += piece.changed


# ------------------------------------------------------------------ values
def _literal(value: Any) -> str | None:
    """``value`` written as Python, when it is a plain constant that round-trips exactly."""
    if not _plain(value):
        return None
    try:
        text = repr(value)
    except ValueError:   # an int of more than 4300 digits
        return None
    if len(text) > _LITERAL_CHARACTERS:
        return None
    try:
        return text if ast.literal_eval(text) == value else None   # nan and inf do not round-trip
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
        return None


def _plain(value: Any) -> bool:
    """None, a number, a string or bytes, or lists, tuples, sets and dicts of those (of exactly these
    types: a subclass's repr would be the student's code), not too deep nor too big to look at."""
    budget, stack = _PLAIN_ITEMS, [(value, 0)]
    while stack:
        item, depth = stack.pop()
        kind = type(item)
        if kind in _PLAIN_SCALARS:
            continue
        if depth > 8 or kind not in (list, tuple, set, dict) or len(item) > budget:
            return False
        budget -= len(item)
        parts = [part for pair in item.items() for part in pair] if kind is dict else item
        stack += [(part, depth + 1) for part in parts]
    return True


def _codes_of(value: Any) -> list[types.CodeType]:
    """The compiled code that tells where a function or class of the notebook was defined:
    the function's own, a class's methods' (read from the class's dict, nothing is called)."""
    if type(value) is types.FunctionType and _module_of(value) == "__main__":
        return [value.__code__]
    if not _is_class(value) or _module_of(value) != "__main__":
        return []
    codes = []
    for member in _class_dict(value).values():
        if type(member) in (staticmethod, classmethod):
            member = member.__func__
        elif type(member) is property:
            member = member.fget
        if type(member) is types.FunctionType:
            codes.append(member.__code__)
    return codes


def _fits(node: ast.stmt, value: Any) -> bool:
    """Whether ``node``, the last statement binding a name, can have made ``value``: an undecorated
    ``def`` makes a function, an undecorated ``class`` a class (a decorator may make anything)."""
    if getattr(node, "decorator_list", None):
        return True
    if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
        return type(value) is types.FunctionType
    if isinstance(node, ast.ClassDef):
        return _is_class(value)
    return True


def _from_library(value: Any) -> bool:
    """A function or class some installed module defines (not the notebook)."""
    if not (_is_class(value) or type(value) in (types.FunctionType, types.BuiltinFunctionType)):
        return False
    return _module_of(value) not in ("__main__", None)


def _import_line(name: str, value: Any, lab_module: str) -> str | None:
    """An import binding ``name`` to ``value``, made from what the value says it is (from the lab's own
    module: unchecked, nothing of it is read here)."""
    if _is_module(value):
        module = _module_name(value)
        if module is None:
            return None
        return f"import {module}" if module == name else f"import {module} as {name}"
    if not _from_library(value):
        return None
    module, qualname = _module_of(value), _own(value, "__qualname__")
    if not isinstance(qualname, str) or not qualname.isidentifier():
        return None
    if module.split(".")[0] != lab_module and _module_attribute(module, qualname) is not value:
        return None
    return f"from {module} import {qualname}" + (f" as {name}" if name != qualname else "")


# ------------------------------------------------------------------ reading values without running them
def _is_class(value: Any) -> bool:
    return issubclass(type(value), type)


def _is_module(value: Any, name: str | None = None) -> bool:
    """A module (by its type, not by what it claims), named ``name`` when one is given."""
    return issubclass(type(value), types.ModuleType) and (name is None or _module_name(value) == name)


def _own(value: Any, attribute: str) -> object:
    """``value.attribute`` as Python keeps it, for a function (its own field) or a class (``__module__``,
    ``__qualname__``: what ``type`` itself keeps); None otherwise: never through a metaclass's
    ``__getattribute__``, a property or ``__getattr__``."""
    if type(value) is types.FunctionType:
        return getattr(value, attribute, None)   # a function's fields are data descriptors of its type
    if _is_class(value) and attribute in ("__module__", "__qualname__"):
        return type.__dict__[attribute].__get__(value)   # type's own getter: the class's dict, or its C name
    if type(value) is types.BuiltinFunctionType:
        return getattr(value, attribute, None)
    return None


def _module_of(value: Any) -> str | None:
    """The module a function or class says it comes from, when that is text."""
    module = _own(value, "__module__")
    return module if type(module) is str else None


def _class_dict(value: type) -> Mapping[str, Any]:
    return type.__dict__["__dict__"].__get__(value)


def _module_dict(module: Any) -> Mapping[str, Any]:
    return types.ModuleType.__dict__["__dict__"].__get__(module) if _is_module(module) else {}


def _module_name(module: Any) -> str | None:
    name = _module_dict(module).get("__name__")
    return name if type(name) is str else None


def _module_attribute(module: str, name: str) -> object:
    """``sys.modules[module].name`` read from the module's dict (None when it has none)."""
    return _module_dict(sys.modules.get(module)).get(name)


def _type_name(value: Any) -> str:
    name = type.__dict__["__name__"].__get__(type(value))
    return name if type(name) is str else "?"


def _alias_line(node: ast.Import | ast.ImportFrom, name: str, value: Any, lab_module: str) -> str | None:
    """The student's own import of ``name``, when it binds ``value`` still (an import of the lab's own
    module is returned as written, unchecked: nothing of it is read here)."""
    for alias in node.names:
        bound = alias.asname or (alias.name.split(".")[0] if isinstance(node, ast.Import) else alias.name)
        if bound != name or (isinstance(node, ast.ImportFrom) and (node.level or not node.module)):
            continue
        suffix = f" as {alias.asname}" if alias.asname else ""
        if isinstance(node, ast.Import):
            module = alias.name if alias.asname else alias.name.split(".")[0]
            fits = module.split(".")[0] == lab_module or _is_module(value, module)
            return f"import {alias.name}{suffix}" if fits else None
        source = sys.modules.get(node.module)
        fits = node.module.split(".")[0] == lab_module or source is None or _is_module(
            value, f"{node.module}.{alias.name}") or _module_attribute(node.module, alias.name) is value
        return f"from {node.module} import {alias.name}{suffix}" if fits else None
    return None


def _imports_module(line: str, module: str) -> bool:
    words = line.split()
    return len(words) > 1 and words[1].split(".")[0] == module

