"""Which mutations are made: cosmic-ray's operators, chosen, plus three of ours.

cosmic-ray (a maintained mutation tool) supplies the classic operators on
parso trees.  We leave out the bitwise and shift replacements (on float
arrays they raise at once: killed by every check, they only cost grading
time), keep one or two replacements per arithmetic and comparison operator
(the mistakes people make, not every operator for every other), and leave out
the operators that insert random variables (not reproducible).

Ours follow cosmic-ray's :class:`Operator` interface and cover the mistakes
students make with library calls, which the classic operators do not reach:

- :class:`DropKeywordArgument`: ``librosa.load(path, sr=sr)`` → ``librosa.load(path)``.
- :class:`DropCall`: ``np.abs(stft)`` → ``stft``, ``x.astype(np.float32)`` → ``x``.
- :class:`RemoveRaise`: ``raise ValueError(...)`` → ``pass``.
- :class:`DropExceptType`: ``except (OSError, EOFError)`` → ``except (EOFError)``
  (cosmic-ray's ExceptionReplacer fails on dotted names such as
  ``sf.LibsndfileError`` and needs its own exception class in the worker).
"""

from __future__ import annotations

from typing import Iterator

import parso  # noqa: F401  (imported before cosmic_ray: its plugin loading needs parso complete)
import parso.python.tree as tree
from cosmic_ray.operators import (binary_operator_replacement, boolean_replacer, comparison_operator_replacement,
                                  number_replacer, unary_operator_replacement,
                                  zero_iteration_for_loop)
from cosmic_ray.operators.operator import Example, Operator

# One or two replacements per operator, the mistakes people make (a wrong sign, / for //,
# an off-by-one boundary, a negated test), rather than every operator for every other.
ARITHMETIC = {("Add", "Sub"), ("Sub", "Add"), ("Mul", "Div"), ("Div", "Mul"), ("Div", "FloorDiv"),
              ("FloorDiv", "Div"), ("Pow", "Mul"), ("Mod", "FloorDiv")}
COMPARISON = {("Lt", "LtE"), ("Lt", "GtE"), ("LtE", "Lt"), ("LtE", "Gt"), ("Gt", "GtE"), ("Gt", "LtE"),
              ("GtE", "Gt"), ("GtE", "Lt"), ("Eq", "NotEq"), ("NotEq", "Eq"), ("Is", "IsNot"), ("IsNot", "Is")}
UNARY = {"ReplaceUnaryOperator_USub_UAdd", "ReplaceUnaryOperator_Delete_USub", "ReplaceUnaryOperator_Delete_Not"}

Position = tuple[tuple[int, int], tuple[int, int]]


def _replacement(node: tree.NodeOrLeaf, code: str) -> tree.Leaf:
    """A leaf that prints as ``code`` where ``node`` was (parso writes leaves back verbatim)."""
    return tree.Name(code, node.start_pos, prefix=node.get_first_leaf().prefix)


def _call_arguments(trailer: tree.BaseNode) -> list[tree.NodeOrLeaf]:
    """The arguments of a call trailer ``( ... )``, without the commas."""
    inner = trailer.children[1:-1]
    if not inner:
        return []
    if inner[0].type == "arglist":
        return [child for child in inner[0].children if child.type != "operator" or child.value != ","]
    return [inner[0]]


def _is_keyword(argument: tree.NodeOrLeaf) -> bool:
    return argument.type == "argument" and len(argument.children) == 3 and argument.children[1] == "="


def _is_positional(argument: tree.NodeOrLeaf) -> bool:
    return argument.type != "argument" and not (argument.type == "operator")


def _is_call(trailer: tree.NodeOrLeaf) -> bool:
    return trailer.type == "trailer" and trailer.children[0] == "("


def _code(node: tree.NodeOrLeaf) -> str:
    return node.get_code(include_prefix=False)


def _module_names(node: tree.NodeOrLeaf) -> set[str]:
    """Names bound by imports in the file (``np``, ``librosa``, ``sf``...)."""
    root = node.get_root_node()
    return {name.value for imp in root.iter_imports() for name in imp.get_defined_names()}


def _inside(node: tree.NodeOrLeaf, kind: str) -> bool:
    parent = node.parent
    while parent is not None:
        if parent.type == kind:
            return True
        parent = parent.parent
    return False


class DropKeywordArgument(Operator):
    """Remove one ``name=value`` argument from a call: the library's default is used instead."""

    def mutation_positions(self, node) -> Iterator[Position]:
        if _is_call(node) and not _inside(node, "raise_stmt"):
            for argument in _call_arguments(node):
                if _is_keyword(argument):
                    yield argument.start_pos, argument.end_pos

    def mutate(self, node, index):
        arguments = _call_arguments(node)
        keywords = [a for a in arguments if _is_keyword(a)]
        kept = [_code(a) for a in arguments if a is not keywords[index]]
        return _replacement(node, "(" + ", ".join(kept) + ")")

    @classmethod
    def examples(cls):
        return (Example("f(x, sr=sr, mono=mono)", "f(x, mono=mono)"),
                Example("f(x, sr=sr, mono=mono)", "f(x, sr=sr)", occurrence=1))


class DropCall(Operator):
    """Forget a call: a method call becomes its receiver (``x.astype(t)`` → ``x``), a
    function call its first positional argument (``np.abs(s)`` → ``s``).

    A method call on a module (``np.mean(...)`` → ``np``) is left alone: that
    is no mistake anyone makes.  Calls inside ``raise`` are left alone too:
    the suite checks the exception's type, not how its message is built.
    """

    def mutation_positions(self, node) -> Iterator[Position]:
        for _ in self._mutations(node):
            yield node.start_pos, node.end_pos

    def mutate(self, node, index):
        return _replacement(node, self._mutations(node)[index])

    def _mutations(self, node) -> list[str]:
        if node.type not in ("atom_expr", "power") or _inside(node, "raise_stmt") or node.children[0] == "await":
            return []
        head, trailers = node.children[0], [c for c in node.children[1:] if c.type == "trailer"]
        if len(trailers) != len(node.children) - 1:
            return []  # `a ** b` (power) and friends
        modules = _module_names(node)
        found = []
        for i, trailer in enumerate(trailers):
            if not _is_call(trailer):
                continue
            rest = "".join(_code(t) for t in trailers[i + 1:])
            receiver = trailers[:i - 1] if i >= 1 and trailers[i - 1].children[0] == "." else None
            on_module = head.type == "name" and head.value in modules and not any(map(_is_call, receiver or []))
            if receiver is not None and not on_module:
                found.append(_code(head) + "".join(_code(t) for t in receiver) + rest)
            positional = [a for a in _call_arguments(trailer) if _is_positional(a)]
            if positional:
                argument = _code(positional[0])
                if rest and positional[0].type != "name":
                    argument = f"({argument})"
                found.append(argument + rest)
        return found

    @classmethod
    def examples(cls):
        imp = "import numpy as np\n"
        return (Example("y = x.astype(t)", "y = x"),
                Example(imp + "y = np.abs(s)", imp + "y = s"),
                Example(imp + "y = np.abs(s + 1).astype(t)", imp + "y = (s + 1).astype(t)"),
                Example(imp + "y = np.abs(s + 1).astype(t)", imp + "y = np.abs(s + 1)", occurrence=1))


class RemoveRaise(Operator):
    """``raise SomeError(...)`` becomes ``pass``: the check it guarded is gone."""

    def mutation_positions(self, node) -> Iterator[Position]:
        if node.type == "raise_stmt":
            yield node.start_pos, node.end_pos

    def mutate(self, node, index):
        return _replacement(node, "pass")

    @classmethod
    def examples(cls):
        return (Example("if x:\n    raise ValueError('no')\n", "if x:\n    pass\n"),)


class DropExceptType(Operator):
    """Catch one exception type fewer: ``except (A, B)`` → ``except (B)``."""

    def mutation_positions(self, node) -> Iterator[Position]:
        for name in self._types(node):
            yield name.start_pos, name.end_pos

    def mutate(self, node, index):
        types = self._types(node)
        kept = ", ".join(_code(t) for t in types if t is not types[index])
        node.children[1] = _replacement(node.children[1], f"({kept})")
        return node

    @staticmethod
    def _types(node) -> list:
        if node.type != "except_clause" or node.children[1].type != "atom":
            return []
        inner = node.children[1].children[1]
        if inner.type != "testlist_comp":
            return []
        return [child for child in inner.children if child != ","]

    @classmethod
    def examples(cls):
        return (Example("try:\n    f()\nexcept (A, b.C):\n    pass\n", "try:\n    f()\nexcept (b.C):\n    pass\n"),)


def _pair(name: str) -> tuple[str, str]:
    _, source, target = name.rsplit("_", 2)
    return source, target


def default_operators() -> dict[str, Operator]:
    """Operator instances by a short, stable name (used in mutant ids)."""
    chosen: dict[str, type[Operator]] = {}
    for cls in binary_operator_replacement.operators():
        if _pair(cls.__name__) in ARITHMETIC:
            chosen[cls.__name__.removeprefix("ReplaceBinaryOperator_")] = cls
    for cls in comparison_operator_replacement.operators():
        if _pair(cls.__name__) in COMPARISON:
            chosen[cls.__name__.removeprefix("ReplaceComparisonOperator_")] = cls
    for cls in unary_operator_replacement.operators():
        if cls.__name__ in UNARY:
            chosen[cls.__name__.removeprefix("ReplaceUnaryOperator_")] = cls
    chosen.update({
        "AddNot": boolean_replacer.AddNot,
        "TrueToFalse": boolean_replacer.ReplaceTrueWithFalse,
        "FalseToTrue": boolean_replacer.ReplaceFalseWithTrue,
        "AndToOr": boolean_replacer.ReplaceAndWithOr,
        "OrToAnd": boolean_replacer.ReplaceOrWithAnd,
        "Number": number_replacer.NumberReplacer,
        "DropExcept": DropExceptType,
        "NoLoop": zero_iteration_for_loop.ZeroIterationForLoop,
        "DropKeyword": DropKeywordArgument,
        "DropCall": DropCall,
        "RemoveRaise": RemoveRaise,
    })
    return {name: cls() for name, cls in chosen.items()}
