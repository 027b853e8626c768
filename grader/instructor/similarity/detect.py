"""Similar submissions with copydetect: tokenised code, winnowed fingerprints, the stub as boilerplate.

copydetect (https://github.com/blingenf/copydetect) tokenises each file with
Pygments and writes every name as ``V``, every function name as ``F``, every
string as ``S``, drops comments and whitespace, then keeps a winnowed set of
hashes of its k-token runs (MOSS's winnowing).  Renaming variables changes
nothing; reordering functions only the runs across their borders.  Runs that
the lab's stub holds (its signatures, docstrings, imports) are boilerplate,
removed before comparing: only what the students wrote counts.

A submission is only read as text (Pygments' lexer; nothing is imported or
run), and at most :data:`MAX_CHARACTERS` of it: tokenising costs about 10 µs a
token, and a file longer than that (25 times a lab's solution) is named by
:func:`not_compared_whole`, since whatever follows the cut (a copy behind a
megabyte of comments) is never compared.  Every pair is compared once: 100
submissions are 4,950 set intersections of a few hundred hashes; finding where
two files share code is linear in their fingerprints and lines.
"""

from __future__ import annotations

import ast
import io
from collections import Counter
from dataclasses import dataclass, replace

import numpy as np
from copydetect.detector import CodeFingerprint
from copydetect.utils import find_fingerprint_overlap, get_copied_slices

from grader.instructor.similarity.model import MAX_CHARACTERS, THRESHOLD, Fragment, Pair

NOISE = 25              # k: a shared run shorter than this many tokens never counts (copydetect's default)
GUARANTEE = 30          # a shared run this long is always found (window = GUARANTEE - NOISE + 1)


def fingerprint(code: str, filename: str, boilerplate: np.ndarray | None = None,
                window: int = GUARANTEE - NOISE + 1) -> CodeFingerprint:
    """copydetect's fingerprint of ``code`` (read from memory; ``filename`` picks the tokeniser)."""
    return CodeFingerprint(filename, NOISE, window, boilerplate=boilerplate,
                           fp=io.StringIO(code[:MAX_CHARACTERS]))


def boilerplate_of(stub: str, filename: str) -> np.ndarray:
    """Every k-gram hash of the stub (no winnowing: all of them are left out of the students' prints)."""
    return np.unique(np.array(list(fingerprint(stub, filename, window=1).hashes)))


def not_compared_whole(codes: dict[str, str]) -> list[tuple[str, int]]:
    """(student, characters) of each file longer than what is compared, by name."""
    return [(student, len(code)) for student, code in sorted(codes.items()) if len(code) > MAX_CHARACTERS]


def similar_pairs(codes: dict[str, str], stub: str, filename: str, threshold: float = THRESHOLD) -> list[Pair]:
    """Every pair of ``codes`` (student -> code) sharing at least ``threshold`` of one's own code,
    most similar first, with their shared fragments."""
    return [pair for pair in all_pairs(codes, stub, filename, threshold) if pair.score >= threshold]


def all_pairs(codes: dict[str, str], stub: str, filename: str, fragments_from: float = 0.0) -> list[Pair]:
    """Every pair, most similar first (ties: by name); those scoring ``fragments_from`` or more with
    their shared fragments (finding them parses both files: only for the pairs shown)."""
    boilerplate = boilerplate_of(stub, filename)
    prints = {student: fingerprint(code, filename, boilerplate) for student, code in sorted(codes.items())}
    names = list(prints)
    pairs = [compare(a, prints[a], b, prints[b]) for i, a in enumerate(names) for b in names[i + 1:]]
    parsed: dict[str, Units] = {}

    def units_of(student: str) -> Units:
        if student not in parsed:
            parsed[student] = Units(units(prints[student].raw_code))
        return parsed[student]

    pairs = [replace(p, fragments=fragments(prints[p.a], prints[p.b], units_of(p.a), units_of(p.b)))
             if p.score >= fragments_from and p.score > 0 else p for p in pairs]
    return sorted(pairs, key=lambda p: (-p.score, p.a, p.b))


def compare(a: str, first: CodeFingerprint, b: str, second: CodeFingerprint) -> Pair:
    """How much of each one's fingerprinted code the other shares."""
    index_a, index_b = find_fingerprint_overlap(first.hashes, second.hashes, first.hash_idx, second.hash_idx)
    if len(index_a) == 0:
        return Pair(a, b, 0.0, 0.0)
    slices_a, slices_b = get_copied_slices(index_a, NOISE), get_copied_slices(index_b, NOISE)
    share_a = float(np.sum(slices_a[1] - slices_a[0]) / first.token_coverage) if first.token_coverage else 0.0
    share_b = float(np.sum(slices_b[1] - slices_b[0]) / second.token_coverage) if second.token_coverage else 0.0
    return Pair(a, b, min(1.0, share_a), min(1.0, share_b), [], first.raw_code, second.raw_code)


# ------------------------------------------------------------------ where: the shared fragments
@dataclass(frozen=True)
class Unit:
    """A function (or method) of a file, read from its syntax tree: where it is and its docstring."""

    name: str
    lines: tuple[int, int]
    docstring: tuple[int, int] = (0, -1)


def fragments(first: CodeFingerprint, second: CodeFingerprint, units_a: Units, units_b: Units) -> list[Fragment]:
    """Each function of ``first`` that shares code with ``second``, beside the function of ``second``
    most of it is shared with; the most shared first.  Where a file does not parse, runs of lines."""
    lines_a, lines_b = _lines_of(first), _lines_of(second)
    matches = [(lines_a[h], lines_b[h]) for h in first.hashes & second.hashes]
    votes: dict[Unit, Counter] = {}
    for line_a, line_b in matches:
        votes.setdefault(units_a.holding(line_a), Counter())[units_b.holding(line_b)] += 1
    found = []
    for unit_a, counter in votes.items():
        unit_b, count = counter.most_common(1)[0]
        found.append(Fragment(unit_a.lines, unit_b.lines, unit_a.name, unit_b.name, sum(counter.values()),
                              unit_a.docstring, unit_b.docstring))
    return sorted(found, key=lambda f: (-f.shared, f.a_lines))


def units(code: str) -> list[Unit]:
    """The functions and methods of ``code`` (parsed, never run); none when it does not parse."""
    try:
        tree = ast.parse(code)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return []
    found = []
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.end_lineno:
            body = node.body[0] if node.body else None
            doc = (body.lineno, body.end_lineno or body.lineno) if (
                isinstance(body, ast.Expr) and isinstance(body.value, ast.Constant)
                and isinstance(body.value.value, str)) else (0, -1)
            found.append(Unit(node.name, (node.lineno, node.end_lineno), doc))
    return found


class Units:
    """A file's functions, and for each line the innermost one holding it (computed once, in one sweep:
    the functions of a syntax tree nest or lie apart)."""

    def __init__(self, found: list[Unit]) -> None:
        self.found = found
        ordered = sorted(found, key=lambda u: (u.lines[0], -u.lines[1]))   # an outer one before those inside it
        self.owner: list[Unit | None] = [None] * (max((u.lines[1] for u in found), default=0) + 1)
        open_units: list[Unit] = []
        index = 0
        for line in range(1, len(self.owner)):
            while open_units and open_units[-1].lines[1] < line:
                open_units.pop()
            while index < len(ordered) and ordered[index].lines[0] == line:
                open_units.append(ordered[index])
                index += 1
            self.owner[line] = open_units[-1] if open_units else None

    def holding(self, line: int) -> Unit:
        """The innermost unit holding ``line``; outside every function, a run of lines around it."""
        if 0 < line < len(self.owner) and self.owner[line] is not None:
            return self.owner[line]
        start = max(1, line - line % RUN)
        return Unit("", (start, start + RUN - 1))


RUN = 10   # lines per run outside functions (module level, or a file that does not parse)


def _lines_of(print_: CodeFingerprint) -> dict[int, int]:
    """Each fingerprint's line in the file (where it first occurs), computed once per file and kept on it:
    filtered-code positions through copydetect's offsets (as compare_files uses them) to characters, to lines."""
    lines = getattr(print_, "fingerprint_lines", None)
    if lines is None:
        hashes = list(print_.hash_idx)
        where = np.array([print_.hash_idx[h][0] for h in hashes], dtype=np.int64)
        if len(print_.offsets) > 0 and len(where):
            rows = np.clip(np.searchsorted(print_.offsets[:, 0], where), 0, print_.offsets.shape[0] - 1)
            where = where + print_.offsets[rows, 1]
        starts = np.flatnonzero(np.frombuffer(print_.raw_code.encode("utf-32-le"), dtype=np.uint32) == 10) + 1
        lines = dict(zip(hashes, (np.searchsorted(starts, where, side="right") + 1).tolist()))
        print_.fingerprint_lines = lines
    return lines
