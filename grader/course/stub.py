"""What a lab's stub defines, in order: the report follows the lab, not the suite.

The stub (``assignments/labN/<file>.py``) is the source of the lab's order:
its functions, classes and methods (``UNet.forward``) as the student meets
them.  A check is filed under one of these names by a rule that needs no
list in the suite (see :func:`function_of`).  The stub is the instructor's
file, read with ``ast`` and never imported; student code is never read here.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass
from pathlib import Path

from grader.course.labs import Lab


@dataclass(frozen=True)
class Definition:
    """One function, class or method the stub defines."""

    name: str                  # "select_device", "SpectrogramDataset", "UNet.forward"
    line: int
    params: tuple[str, ...] = ()


def definitions(source: str) -> list[Definition]:
    """Top-level functions, classes and their methods, in the order they are defined."""
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError, RecursionError, MemoryError):   # not Python, or nested past the parser
        return []
    found: list[Definition] = []
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and not node.name.startswith("_"):
            found.append(Definition(node.name, node.lineno, _params(node)))
        elif isinstance(node, ast.ClassDef) and not node.name.startswith("_"):
            found.append(Definition(node.name, node.lineno))
            found += [Definition(f"{node.name}.{item.name}", item.lineno, _params(item)) for item in node.body
                      if isinstance(item, (ast.FunctionDef, ast.AsyncFunctionDef))
                      and (not item.name.startswith("_") or item.name in _DUNDERS)]
    return found


_DUNDERS = {"__init__", "__len__", "__getitem__", "__call__", "__iter__"}


def _params(node: ast.FunctionDef | ast.AsyncFunctionDef) -> tuple[str, ...]:
    args = node.args
    return tuple(a.arg for a in [*args.posonlyargs, *args.args, *args.kwonlyargs])


def lab_definitions(lab: Lab) -> list[Definition]:
    """The stub's definitions; the reference's when a lab ships no stub."""
    for path in (lab.assignment_file(), lab.reference_file):
        if Path(path).is_file():
            return definitions(Path(path).read_text(encoding="utf-8"))
    return []


def function_of(test_name: str, title: str, explicit: str | None, names: list[str]) -> str:
    """The stub name a check grades, by the first rule that gives one:

    1. an explicit ``@pytest.mark.grades("UNet.forward")`` (on the test or its module);
    2. the test's name: ``test_<name>...``, the longest stub name that fits
       (``UNet.forward`` is written ``unet_forward`` there);
    3. the title's first word: "select_device() returns ...", "SpectrogramDataset items ...".

    '' when none applies (the plugin then uses the function the failure names).
    """
    if explicit:
        return explicit
    stem = test_name.split("[")[0].removeprefix("test_").lower()
    fitting = [n for n in names if stem == _snake(n) or stem.startswith(_snake(n) + "_")]
    if fitting:
        return max(fitting, key=len)
    first = re.match(r"[A-Za-z_][\w.]*", title.strip())
    if first:
        word = first.group(0).rstrip(".")
        if word in names:
            return word
    return ""


def _snake(name: str) -> str:
    return name.replace(".", "_").lower()
