"""Hints teach: no hint (nor any other text a suite can show) contains a line of the reference's code.

Every string a suite or the grader could show a student is collected from
the source, statically: string literals, the constant parts of f-strings,
and module-level constants joined with ``+`` (``"..." + TRAIN_HINT``), so
a line split over two constants is still seen whole.  A "line of the
reference's code" is a one-line statement in the body of a reference
function that carries the solution: an assignment, a return of an
expression, a call with arguments.  Naming an API is fine (``loss.backward()``,
``model.eval()``: a call without arguments); writing the answer is not.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from grader.course.folder import LABS

REPO = Path(__file__).resolve().parents[1]
GRADER_TEXTS = sorted([*(REPO / "grader").glob("*.py"), *(REPO / "grader" / "checks").glob("*.py"),   # what students read
                       *(REPO / "grader" / "grading").glob("*.py"), *(REPO / "grader" / "feedback").glob("*.py")])
SHORTEST = 12  # characters, without spaces: `return x` or `n = 0` teach nothing away


def squeeze(text: str) -> str:
    return re.sub(r"\s+", "", text)


def reference_lines(source: str) -> set[str]:
    """The one-line statements of the solution, inside its functions."""
    lines = set()
    for function in ast.walk(ast.parse(source)):
        if not isinstance(function, (ast.FunctionDef, ast.AsyncFunctionDef)):
            continue
        for node in ast.walk(function):
            if not _carries_the_answer(node):
                continue
            segment = ast.get_source_segment(source, node) or ""
            if "\n" not in segment and len(squeeze(segment)) >= SHORTEST:
                lines.add(segment.strip())
    return lines


def _carries_the_answer(node: ast.AST) -> bool:
    if isinstance(node, (ast.Assign, ast.AugAssign, ast.AnnAssign)):
        return True
    if isinstance(node, ast.Return):
        return node.value is not None and not isinstance(node.value, (ast.Name, ast.Constant))
    if isinstance(node, ast.Expr) and isinstance(node.value, ast.Call):
        return bool(node.value.args or node.value.keywords)  # a bare `loss.backward()` names an API
    return False


def shown_strings(source: str) -> list[str]:
    """Every string the module could show: literals, f-string parts, and `+` joins of its constants."""
    tree = ast.parse(source)
    constants: dict[str, str] = {}
    for node in tree.body:
        if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
            value = _fold(node.value, constants)
            if value is not None:
                constants[node.targets[0].id] = value
    found = list(constants.values())
    docstrings = {id(node.body[0].value) for node in ast.walk(tree)
                  if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef))
                  and node.body and isinstance(node.body[0], ast.Expr)}  # read by programmers, not shown
    for node in ast.walk(tree):
        if id(node) in docstrings:
            continue
        value = _fold(node, constants) if isinstance(node, (ast.Constant, ast.JoinedStr, ast.BinOp)) else None
        if value is not None:
            found.append(value)
    return found


def _fold(node: ast.AST, constants: dict[str, str]) -> str | None:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.Name):
        return constants.get(node.id)
    if isinstance(node, ast.JoinedStr):  # a placeholder for each {…}: it never joins two literal parts
        return "".join(v.value if isinstance(v, ast.Constant) else "\x00" for v in node.values)
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        left, right = _fold(node.left, constants), _fold(node.right, constants)
        if left is not None or right is not None:
            return (left or "\x00") + (right or "\x00")
    return None


def answers_given(texts: list[str], lines: set[str]) -> list[tuple[str, str]]:
    """(reference line, text) for every text that contains a line of the reference."""
    squeezed = {line: squeeze(line) for line in lines}
    return [(line, text[:160]) for text in texts for line, short in squeezed.items() if short in squeeze(text)]


def texts_of(lab_name: str) -> list[str]:
    files = sorted(LABS[lab_name].suite_dir.glob("*.py")) + GRADER_TEXTS
    return [text for path in files for text in shown_strings(path.read_text(encoding="utf-8"))]


@pytest.mark.parametrize("lab_name", sorted(LABS))
def test_no_hint_contains_a_line_of_the_reference(lab_name):
    lab = LABS[lab_name]
    lines = reference_lines(lab.reference_file.read_text(encoding="utf-8"))
    assert lines, f"no reference lines found for {lab_name}: the check would pass vacuously"
    assert answers_given(texts_of(lab_name), lines) == []


# ------------------------------------------------------------------ the checker itself
REFERENCE = '''
def train_step(model, optimizer, mixture_mag, vocals_mag):
    """One step."""
    model.train()
    optimizer.zero_grad()
    mask = model(mixture_mag)
    loss = F.l1_loss(mask * mixture_mag, vocals_mag)
    loss.backward()
    optimizer.step()
    return loss.item()
'''


def test_reference_lines_are_statements_that_carry_the_answer():
    lines = reference_lines(REFERENCE)
    assert "loss = F.l1_loss(mask * mixture_mag, vocals_mag)" in lines
    assert "return loss.item()" in lines
    assert "loss.backward()" not in lines and "model.train()" not in lines  # naming an API is fine
    assert not any("One step" in line for line in lines)  # docstrings are not code


@pytest.mark.parametrize("suite, caught", [
    ('HINT = "loss = F.l1_loss(mask * mixture_mag, vocals_mag)"', True),                 # a literal
    ('hint = f"do {x}: loss = F.l1_loss(mask*mixture_mag, vocals_mag)"', True),          # f-string, spacing
    ('A = "loss = F.l1_loss(mask * "\nB = "x " + A + "mixture_mag, vocals_mag)"', True),  # split over constants
    ('expect(ok, "wrong loss", hint="the L1 distance between the masked mixture and the vocals")', False),
    ('HINT = "call loss.backward(), then optimizer.step()"', False),                       # names the API
    ('def f():\n    """return loss.item() is how it ends"""', False),                         # a docstring
])
def test_the_checker_sees_an_answer_however_the_hint_is_built(suite, caught):
    found = answers_given(shown_strings(suite), reference_lines(REFERENCE))
    assert bool(found) is caught, found
