"""The house rules (README "Layout", ../shared design): packages by concern in layers, no import
loops, nothing importing upward, what runs in the sandbox is one self-contained folder.

Read from the source with ``ast`` (nothing is imported), so a violation fails here, fast, with
the file and the import that breaks the rule.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

from tests.helpers import REPO

GRADER = REPO / "grader"
# top to bottom; a module may import its own layer and the layers below
LAYERS = ["cli", "instructor", "checks", "grading", "feedback", "course", "isolation", "isolation.inside", "base"]
BASE = {"errors", "results", "inert"}   # grader/*.py below everything (cli, __main__ and __init__ are the top)
INSIDE_MAY_IMPORT = {"numpy", "torch"}


def modules() -> dict[str, Path]:
    found = {}
    for path in sorted(GRADER.rglob("*.py")):
        parts = path.relative_to(REPO).with_suffix("").parts
        if "suites" in parts:
            continue
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        found[name] = path
    return found


def layer(module: str) -> int:
    parts = module.split(".")[1:]
    if not parts or parts[0] in ("cli", "__main__"):   # the package's front doors: the top
        return LAYERS.index("cli")
    if parts[:2] == ["isolation", "inside"]:
        return LAYERS.index("isolation.inside")
    if parts[0] in LAYERS:
        return LAYERS.index(parts[0])
    return LAYERS.index("base") if parts[0] in BASE else -1


def imports(path: Path, top_level_only: bool = False) -> list[tuple[int, str]]:
    """(line, module) of every import of a grader module in ``path``, resolved to a module name."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    nodes = tree.body if top_level_only else list(ast.walk(tree))
    found = []
    for node in nodes:
        if isinstance(node, ast.Try) and top_level_only:
            nodes += node.body
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names if alias.name.startswith("grader")]
        elif isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("grader"):
            known = modules()
            for alias in node.names:
                full = f"{node.module}.{alias.name}"
                found.append((node.lineno, full if full in known else node.module))
    return found


def test_the_top_of_the_package_holds_at_most_six_modules():
    top = sorted(p.name for p in GRADER.glob("*.py"))
    assert len(top) <= 6, top


@pytest.mark.parametrize("module", sorted(modules()))
def test_nothing_imports_upward(module):
    own = layer(module)
    assert own >= 0, f"{module} is in no layer of the house: put it in a package by its concern"
    upward = [f"line {line}: {target}" for line, target in imports(modules()[module])
              if layer(target) < own]
    assert not upward, f"{module} ({LAYERS[own]}) imports a higher layer: {upward}"


def test_there_are_no_import_loops():
    graph = {name: {target for _, target in imports(path, top_level_only=True) if target in modules()}
             for name, path in modules().items()}
    graph = {name: {t for t in targets if t != name and not name.startswith(t + ".")} for name, targets in graph.items()}
    state: dict[str, int] = {}

    def visit(node: str, path: list[str]) -> list[str]:
        state[node] = 1
        for target in sorted(graph.get(node, ())):
            if state.get(target) == 1:
                return path + [target]
            if target not in state:
                loop = visit(target, path + [target])
                if loop:
                    return loop
        state[node] = 2
        return []

    for start in sorted(graph):
        if start not in state:
            loop = visit(start, [start])
            assert not loop, " → ".join(loop)


def test_what_runs_in_the_sandbox_is_one_folder_that_needs_nothing_of_the_grader():
    from grader.isolation.spec import INSIDE, worker_files

    assert {p.parent for p in worker_files()} == {INSIDE}
    for path in INSIDE.glob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            names = ([a.name for a in node.names] if isinstance(node, ast.Import)
                     else [node.module or ""] if isinstance(node, ast.ImportFrom) and not node.level else [])
            for name in names:
                root = name.split(".")[0]
                assert root in INSIDE_MAY_IMPORT or root in sys.stdlib_module_names, f"{path.name} imports {name}"


def test_rendering_imports_no_torch_and_no_worker_code():
    probe = ("import sys, grader.feedback.report, grader.feedback.causes, grader.instructor.gradebook.exports; "
             "print(sorted(m for m in ('torch', 'grader.grading.session', 'grader.isolation.inside.wire') "
             "if m in sys.modules))")
    shown = subprocess.run([sys.executable, "-c", probe], cwd=REPO, capture_output=True, text=True, timeout=120)
    assert shown.returncode == 0, shown.stderr
    assert shown.stdout.strip() == "[]"


def test_what_runs_before_torch_is_needed_imports_no_torch():
    """A run launches its worker before this process imports torch (grading/prepare.py: the worker's
    start is the critical path); a batch's controller never needs torch (its graders do)."""
    probe = ("import sys, grader.grading.prepare, grader.instructor.batch.controller, "
             "grader.instructor.batch.schedulers; print(sorted(m for m in ('torch', 'pytest') if m in sys.modules))")
    shown = subprocess.run([sys.executable, "-c", probe], cwd=REPO, capture_output=True, text=True, timeout=120)
    assert shown.returncode == 0, shown.stderr
    assert shown.stdout.strip() == "[]"
