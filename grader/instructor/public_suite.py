"""The public part of a lab's suite: what a student release may hold.

A check students do not see (``@pytest.mark.visibility("hidden")``,
``"after_due_date"`` or ``"after_published"``; ``after_due_date`` ones are
seen in a release made after the due date) is left out of the student
release altogether: its name, its code and the inputs it tries would tell
students what the instructor grades.  So is a visible side check that waits
on such a check (``side_of``): its points depend on a result students cannot
see, and a student-facing run withholds it too (grader/grading/plugin.py).  Then every
top-level definition (fixture, helper, constant, imported name) that only the
removed checks used goes as well, until nothing more does.

Stripping reads the files' syntax trees and cuts the removed definitions'
lines out of the text, with the comment lines right above them, so the rest
keeps its layout and comments.  A ``builds_on`` naming a removed check loses
that name.  A visibility marker this module cannot place (in a ``pytest.param``,
a class-level ``pytestmark``, with a computed level) stops the release: it is
never guessed at.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass, field
from pathlib import Path

VISIBLE = "visible"
SIDE_OF, BUILDS_ON, VISIBILITY = "side_of", "builds_on", "visibility"


class StripError(Exception):
    """A suite file the release cannot strip safely: one line."""


@dataclass
class _File:
    path: Path
    text: str
    tree: ast.Module
    cut: set[ast.stmt] = field(default_factory=set)          # top-level (or class-level) statements removed
    edits: dict[ast.AST, str] = field(default_factory=dict)   # node -> its new text (decorators, imports)


def _marker(node: ast.expr) -> tuple[str, ast.Call] | None:
    """``pytest.mark.NAME(...)`` -> (NAME, the call); anything else -> None."""
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and \
            isinstance(node.func.value, ast.Attribute) and node.func.value.attr == "mark":
        return node.func.attr, node
    return None


def _strings(call: ast.Call, where: str) -> list[str]:
    values = []
    for arg in call.args:
        if not (isinstance(arg, ast.Constant) and isinstance(arg.value, str)):
            raise StripError(f"{where}: a marker argument that is not a plain string ({ast.unparse(arg)})")
        values.append(arg.value)
    return values


def _decorator_markers(node: ast.stmt, where: str) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for decorator in getattr(node, "decorator_list", []):
        mark = _marker(decorator)
        if mark and mark[0] in (VISIBILITY, SIDE_OF, BUILDS_ON):
            found.setdefault(mark[0], []).extend(_strings(mark[1], where))
    return found


def _module_visibility(tree: ast.Module, where: str) -> str:
    """The visibility ``pytestmark = ...`` gives every check of a module (default visible)."""
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(isinstance(t, ast.Name) and t.id == "pytestmark"
                                                for t in node.targets):
            values = node.value.elts if isinstance(node.value, (ast.List, ast.Tuple)) else [node.value]
            for value in values:
                mark = _marker(value)
                if mark and mark[0] == VISIBILITY:
                    return (_strings(mark[1], where) or [VISIBLE])[0]
    return VISIBLE


def _checks(file: _File) -> list[tuple[ast.stmt, str, dict[str, list[str]]]]:
    """(node, check name, markers) of each test function, at module level or in a Test class.
    A class's own markers apply to its methods."""
    found = []
    for node in file.tree.body:
        where = f"{file.path.name}:{node.lineno}"
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.name.startswith("test"):
            found.append((node, node.name, _decorator_markers(node, where)))
        elif isinstance(node, ast.ClassDef) and node.name.startswith("Test"):
            outer = _decorator_markers(node, where)
            for item in node.body:
                if isinstance(item, (ast.FunctionDef, ast.AsyncFunctionDef)) and item.name.startswith("test"):
                    inner = _decorator_markers(item, f"{file.path.name}:{item.lineno}")
                    merged = {k: outer.get(k, []) + inner.get(k, []) for k in {*outer, *inner}}
                    found.append((item, item.name, merged))
    return found


def _visibility_nodes(tree: ast.Module) -> set[int]:
    """ids of every ``pytest.mark.visibility(...)`` call in a tree."""
    return {id(node) for node in ast.walk(tree) if (_marker(node) or ("",))[0] == VISIBILITY}


def _placed_visibility_nodes(file: _File) -> set[int]:
    """ids of the visibility markers this module understands: on a test, a Test class, or a module's pytestmark."""
    placed: set[int] = set()
    for node in file.tree.body:
        holders = [node] + ([item for item in node.body] if isinstance(node, ast.ClassDef) else [])
        for holder in holders:
            placed |= {id(d) for d in getattr(holder, "decorator_list", [])}
        if isinstance(node, ast.Assign) and any(isinstance(t, ast.Name) and t.id == "pytestmark"
                                                for t in node.targets):
            values = node.value.elts if isinstance(node.value, (ast.List, ast.Tuple)) else [node.value]
            placed |= {id(v) for v in values}
    return placed


def _names_used(nodes: list[ast.AST]) -> set[str]:
    """Every name these nodes use: variables, attributes, parameters (fixtures are requested by
    parameter name) and identifier-like strings (``usefixtures("x")``, ``getfixturevalue("x")``)."""
    used: set[str] = set()
    for root in nodes:
        for node in ast.walk(root):
            if isinstance(node, ast.Name):
                used.add(node.id)
            elif isinstance(node, ast.Attribute):
                used.add(node.attr)
            elif isinstance(node, ast.arg):
                used.add(node.arg)
            elif isinstance(node, ast.Constant) and isinstance(node.value, str) and node.value.isidentifier():
                used.add(node.value)
    return used


def _defined(node: ast.stmt) -> list[str]:
    """The names a top-level statement defines (helpers, fixtures, constants, imports)."""
    if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
        return [node.name]
    if isinstance(node, (ast.Assign, ast.AnnAssign)):
        targets = node.targets if isinstance(node, ast.Assign) else [node.target]
        return [t.id for t in targets if isinstance(t, ast.Name)]
    if isinstance(node, (ast.Import, ast.ImportFrom)):
        return [(a.asname or a.name).split(".")[0] for a in node.names]
    return []


@dataclass(frozen=True)
class Stripped:
    texts: dict[str, str]     # file name -> its public text ('' : the file is left out)
    removed: list[str]        # names of the checks left out


def strip_lab(folder: Path, shown: tuple[str, ...] = (VISIBLE,)) -> Stripped:
    """The public text of every ``*.py`` file of one lab's suite folder (see the module doc); ``shown``:
    the visibilities students see (a release after the due date adds ``after_due_date``)."""
    files = []
    for path in sorted(folder.glob("*.py")):
        text = path.read_text(encoding="utf-8")
        try:
            files.append(_File(path, text, ast.parse(text)))
        except SyntaxError as exc:
            raise StripError(f"{path}: {exc}") from None
    for file in files:
        unplaced = _visibility_nodes(file.tree) - _placed_visibility_nodes(file)
        if unplaced:
            raise StripError(f"{file.path}: a visibility marker the release cannot strip safely "
                             f"(only on a test, a Test class, or a module's pytestmark)")
    checks = [(file, node, name, marks, _module_visibility(file.tree, str(file.path)))
              for file in files for node, name, marks in _checks(file)]
    removed = {name for _, _, name, marks, default in checks
               if (marks.get(VISIBILITY) or [default])[0] not in shown}
    while True:  # a side check of a withheld check is withheld with it
        more = {name for _, _, name, marks, _ in checks if name not in removed and set(marks.get(SIDE_OF, [])) & removed}
        if not more:
            break
        removed |= more
    for file, node, name, marks, _ in checks:
        if name in removed:
            file.cut.add(node)
        elif set(marks.get(BUILDS_ON, [])) & removed:
            _drop_builds_on(file, node, removed)
    _cut_unused(files)
    return Stripped({file.path.name: _render(file) for file in files}, sorted(removed))


def _drop_builds_on(file: _File, node: ast.stmt, removed: set[str]) -> None:
    for decorator in node.decorator_list:
        mark = _marker(decorator)
        if mark and mark[0] == BUILDS_ON:
            kept = [a for a in decorator.args if not (isinstance(a, ast.Constant) and a.value in removed)]
            call = ast.Call(func=decorator.func, args=kept, keywords=decorator.keywords)
            file.edits[decorator] = "@" + ast.unparse(call) if kept else ""


def _top_level(files: list[_File]) -> list[tuple[_File, ast.stmt]]:
    return [(file, node) for file in files for node in file.tree.body]


def _cut_unused(files: list[_File]) -> None:
    """Cut every top-level definition that removed code used and kept code does not, until none is left."""
    while True:
        kept_nodes, cut_nodes = [], []
        for file in files:
            for node in file.tree.body:
                if node in file.cut:
                    cut_nodes.append(node)
                elif isinstance(node, ast.ClassDef):
                    kept_nodes += [n for n in node.decorator_list + node.bases]
                    for item in node.body:
                        (cut_nodes if item in file.cut else kept_nodes).append(item)
                elif isinstance(node, (ast.Assign, ast.AnnAssign)):
                    kept_nodes += [node.value] if node.value is not None else []   # its targets are no use
                elif not isinstance(node, (ast.Import, ast.ImportFrom)):
                    kept_nodes.append(node)
        orphans = _names_used(cut_nodes) - _names_used(kept_nodes)
        changed = False
        for file, node in _top_level(files):
            if node in file.cut:
                continue
            names = _defined(node)
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                gone = [a for a in node.names if (a.asname or a.name).split(".")[0] in orphans]
                if gone and len(gone) == len(node.names):
                    file.cut.add(node)
                elif gone:
                    left = [a for a in node.names if a not in gone]
                    file.edits[node] = ast.unparse(type(node)(**{**node.__dict__, "names": left}))
            elif names and all(name in orphans for name in names) and not _is_check(node):
                file.cut.add(node)
                changed = True
        if not changed:
            return


def _is_check(node: ast.stmt) -> bool:
    """A test or Test class: kept or cut by visibility only, never because removed code named it."""
    return (isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.name.startswith("test")) or \
        (isinstance(node, ast.ClassDef) and node.name.startswith("Test"))


def _span(lines: list[str], node: ast.AST) -> tuple[int, int]:
    """0-based [start, end) of a node's lines, with its decorators and the comments right above it."""
    start = min([node.lineno] + [d.lineno for d in getattr(node, "decorator_list", [])]) - 1
    while start > 0 and lines[start - 1].strip().startswith("#"):
        start -= 1
    return start, node.end_lineno


def _render(file: _File) -> str:
    checks = [node for node, _, _ in _checks(file)]
    if file.path.name.startswith("test_") and checks and all(node in file.cut for node in checks):
        return ""  # every check of a test file is withheld: the file is left out
    lines = file.text.splitlines(keepends=True)
    cuts = [_span(lines, node) for node in file.cut]
    edits = [(node.lineno - 1, node.end_lineno, text) for node, text in file.edits.items()]
    edits = [(start, end, text) for start, end, text in edits
             if not any(a <= start and end <= b for a, b in cuts)]   # inside a cut: gone with it
    cuts = [(start, end) for start, end in cuts if not any((a, b) != (start, end) and a <= start and end <= b
                                                           for a, b in cuts)]
    for start, end, text in sorted([(a, b, "") for a, b in cuts] + edits, reverse=True):
        indent = re.match(r"[ \t]*", lines[start]).group(0)
        lines[start:end] = [indent + text + "\n"] if text else []
    out = re.sub(r"\n{4,}", "\n\n\n", "".join(lines))
    try:
        ast.parse(out)
    except SyntaxError as exc:  # a cut this module got wrong: never ship it
        raise StripError(f"{file.path}: stripping hidden checks broke the file ({exc})") from None
    return out
