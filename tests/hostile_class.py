"""Every hostile submission the project knows, as files of one Lab 4 class (issue 20, item 5).

``attacks()`` reads the attack code out of ``tests/hostile/test_*.py`` (each
``attack(CODE, ...)`` call, its first argument evaluated in the test module:
a name only the test knows at run time becomes ``{}``, and a lookup of a
module-level dict by such a name gives one attack per entry), so an attack
added there joins the class here by itself.  Each becomes, as
``tests/hostile/conftest.py`` makes it, the Lab 4 reference with the attack
appended.  ``tests/submissions.py``'s Lab 4 mistakes join as they are.
"""

from __future__ import annotations

import ast
import builtins
import importlib
import itertools
import textwrap
import uuid
from pathlib import Path

from tests import submissions
from tests.helpers import LAB4_REFERENCE, REPO

HOSTILE = REPO / "tests" / "hostile"


class _Unknown(str):
    """What a name the test binds only at run time stands for: the text ``{}``, and itself for
    anything asked of it (an attribute, a call, an item, a path below it)."""

    def __new__(cls) -> "_Unknown":
        return super().__new__(cls, "{}")

    def __repr__(self) -> str:
        return "{}"

    def __getattr__(self, name: str) -> "_Unknown":
        return _Unknown()

    def __call__(self, *args: object, **kwargs: object) -> "_Unknown":
        return _Unknown()

    def __getitem__(self, key: object) -> "_Unknown":
        return _Unknown()

    def __truediv__(self, other: object) -> "_Unknown":
        return _Unknown()


class _Names(dict):
    """Local names for eval: the module's own, the built-ins, else :class:`_Unknown` (or a value given)."""

    def __init__(self, module_globals: dict, given: dict) -> None:
        super().__init__(given)
        self.module_globals = module_globals

    def __missing__(self, key: str) -> object:
        if key in self.module_globals:
            return self.module_globals[key]
        return getattr(builtins, key) if hasattr(builtins, key) else _Unknown()


def attacks() -> dict[str, str]:
    """``{name: attack code}`` for every ``attack(...)`` call in tests/hostile (MARKER left in)."""
    found: dict[str, str] = {}
    for path in sorted(HOSTILE.glob("test_*.py")):
        module = importlib.import_module(f"tests.hostile.{path.stem}")
        for node in ast.walk(ast.parse(path.read_text())):
            if not (isinstance(node, ast.Call) and getattr(node.func, "id", None) == "attack" and node.args):
                continue
            for suffix, code in _evaluated(node.args[0], vars(module), path):
                if isinstance(code, str) and code.strip():
                    found[f"{path.stem.removeprefix('test_')}_{node.lineno}{suffix}"] = code
    return found


def _evaluated(expression: ast.expr, module_globals: dict, path: Path) -> list[tuple[str, object]]:
    """The expression's value, once per entry of a module-level dict it looks up by a run-time name."""
    code = compile(ast.Expression(expression), str(path), "eval")
    choices = {}
    for node in ast.walk(expression):
        if (isinstance(node, ast.Subscript) and isinstance(node.value, ast.Name) and isinstance(node.slice, ast.Name)
                and isinstance(module_globals.get(node.value.id), dict) and node.slice.id not in module_globals):
            choices[node.slice.id] = list(module_globals[node.value.id])
    names = list(choices)
    values = []
    for picked in itertools.product(*(choices[n] for n in names)) if names else [()]:
        given = dict(zip(names, picked))
        try:
            values.append(("_" + "_".join(map(str, picked)) if picked else "",
                           eval(code, module_globals, _Names(module_globals, given))))  # noqa: S307 (our own tests)
        except Exception:
            continue
    return values


def hostile_submissions() -> dict[str, str]:
    """``{student: the whole file}``: each attack on the reference, and the Lab 4 mistakes."""
    reference = LAB4_REFERENCE.read_text()
    files = {}
    for name, code in attacks().items():
        marker = f"gh{uuid.uuid4().hex[:10]}"
        files[f"hostile_{name}"] = reference + "\n\n# ---- attack ----\n" + \
            textwrap.dedent(code).replace("MARKER", marker)
    for name in sorted(vars(submissions)):
        if name.startswith("lab4_") and callable(getattr(submissions, name)):
            files[f"mistake_{name}"] = getattr(submissions, name)()
    return files
