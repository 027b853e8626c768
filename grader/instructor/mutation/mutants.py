"""Making mutants of a source file: each one a full source text, an id and a diff.

A mutant's id is ``function/operator/digest``, where the digest hashes the
changed lines before and after (and which of several identical changes in
that function it is).  It survives edits elsewhere in the file, so an
equivalent mutant recorded once stays recorded.
"""

from __future__ import annotations

import difflib
import hashlib
from dataclasses import dataclass

import parso  # before cosmic_ray, see operators.py
from cosmic_ray.ast import ast_nodes
from cosmic_ray.mutating import MutationVisitor
from cosmic_ray.operators.operator import Operator

MODULE_LEVEL = "<module>"


@dataclass(frozen=True)
class Mutant:
    id: str
    function: str      # the top-level function it lives in, or "<module>"
    operator: str
    line: int          # 1-based line of the change in the original
    source: str        # the whole mutated file
    diff: str          # unified diff against the original, changed lines only


def enclosing_function(node: parso.tree.NodeOrLeaf) -> str:
    """``outer.inner`` for a node inside nested definitions, ``<module>`` outside any."""
    names = []
    parent = node.parent
    while parent is not None:
        if parent.type in ("funcdef", "classdef"):
            names.append(parent.name.value)
        parent = parent.parent
    return ".".join(reversed(names)) or MODULE_LEVEL


def in_annotation(node: parso.tree.NodeOrLeaf) -> bool:
    """Annotations never run (``from __future__ import annotations``): no mutant there."""
    parent = node.parent
    while parent is not None:
        annotation = getattr(parent, "annotation", None) if parent.type in ("param", "funcdef") else None
        if annotation is not None and annotation.start_pos <= node.start_pos < annotation.end_pos:
            return True
        parent = parent.parent
    return False


def make_mutants(source: str, operators: dict[str, Operator], functions: set[str] | None = None) -> list[Mutant]:
    """Every mutant of ``source`` that ``operators`` make, in file order within each operator.

    ``functions`` keeps only mutants inside those top-level functions.
    """
    module = parso.parse(source)
    mutants, seen = [], {}
    for name, operator in operators.items():
        occurrence = 0
        for node in ast_nodes(module):
            for _ in operator.mutation_positions(node):
                function = enclosing_function(node)
                top = function.split(".")[0]
                if (functions is None or top in functions) and not in_annotation(node):
                    mutant = _mutant(source, operator, occurrence, name, function, seen)
                    if mutant is not None:
                        mutants.append(mutant)
                occurrence += 1
    return mutants


def _mutant(source: str, operator: Operator, occurrence: int, name: str, function: str,
            seen: dict[str, int]) -> Mutant | None:
    mutated = MutationVisitor.mutate_code(source, operator, occurrence)
    if mutated is None or mutated == source:
        return None
    before, after, line = changed_lines(source, mutated)
    key = "\n".join((function, name, *before, "->", *after))
    seen[key] = seen.get(key, 0) + 1
    digest = hashlib.sha1(f"{key}\n#{seen[key]}".encode()).hexdigest()[:8]
    return Mutant(id=f"{function}/{name}/{digest}", function=function.split(".")[0], operator=name, line=line,
                  source=mutated, diff=unified_diff(source, mutated))


def changed_lines(original: str, mutated: str) -> tuple[list[str], list[str], int]:
    """(the original lines that changed, stripped; their replacements; first changed line)."""
    a, b = original.splitlines(), mutated.splitlines()
    matcher = difflib.SequenceMatcher(a=a, b=b, autojunk=False)
    before, after, first = [], [], 0
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag != "equal":
            first = first or i1 + 1
            before += [line.strip() for line in a[i1:i2]]
            after += [line.strip() for line in b[j1:j2]]
    return before, after, first


def unified_diff(original: str, mutated: str, name: str = "reference") -> str:
    lines = difflib.unified_diff(original.splitlines(), mutated.splitlines(), f"a/{name}", f"b/{name}",
                                 n=1, lineterm="")
    return "\n".join(list(lines)[2:])  # the hunks; the file names say nothing here
