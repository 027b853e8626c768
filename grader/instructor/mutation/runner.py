"""Grading mutants: each one is a submission, graded by the lab's suite against the real reference.

To save time a mutant is first graded with only the checks of the function
it lives in (``-k`` with that function's name, or the names of the public
functions that call a private helper).  That is only a shortcut: a check
that fails in the subset fails in the full suite too (grading is
deterministic), and a mutant that survives the subset is graded again with
every check before it is called a survivor.
"""

from __future__ import annotations

import concurrent.futures
import multiprocessing
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable

import parso

from grader.course import Lab, find_lab
from grader.errors import SetupError
from grader.grading.run import grade
from grader.instructor.mutation.mutants import MODULE_LEVEL, Mutant

KILLED, SURVIVED, ERROR = "killed", "survived", "error"


@dataclass
class Outcome:
    mutant: Mutant
    status: str                        # killed, survived or error
    failed: list[str] = field(default_factory=list)   # the checks that caught it
    detail: str = ""                   # an import error or why grading could not run
    seconds: float = 0.0
    full_suite: bool = False           # graded with every check (not only its function's)


def check_keywords(source: str) -> dict[str, str]:
    """For each top-level function or class: the ``-k`` expression that selects its checks.

    A public name selects itself; a private helper (``_as_float``) selects the
    public functions that call it, directly or through other helpers.
    """
    module = parso.parse(source)
    definitions = {d.name.value: d for d in (*module.iter_funcdefs(), *module.iter_classdefs())}
    uses = {name: {leaf.value for leaf in _names(d)} & set(definitions) - {name} for name, d in definitions.items()}
    keywords = {}
    for name in definitions:
        if not name.startswith("_"):
            keywords[name] = name
            continue
        callers = sorted(public for public in definitions
                         if not public.startswith("_") and name in _reachable(public, uses))
        if callers:
            keywords[name] = " or ".join(callers)
    return keywords


def _names(node) -> Iterable:
    if node.type == "name":
        yield node
    for child in getattr(node, "children", ()):
        yield from _names(child)


def _reachable(start: str, uses: dict[str, set[str]]) -> set[str]:
    seen, todo = set(), [start]
    while todo:
        for used in uses.get(todo.pop(), ()):
            if used not in seen:
                seen.add(used)
                todo.append(used)
    return seen


def grade_mutant(lab_name: str, mutant: Mutant, keyword: str | None, call_timeout: float = 10.0) -> Outcome:
    """Grade one mutant (in this process); see the module docstring for the shortcut."""
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="grade-mutant-") as folder:
        path = Path(folder) / find_lab(lab_name).filename
        path.write_text(mutant.source)
        for subset in ([keyword, None] if keyword else [None]):
            try:
                result = grade(lab_name, path, keyword=subset, call_timeout=call_timeout)
            except SetupError as exc:
                return Outcome(mutant, ERROR, detail=str(exc), seconds=time.perf_counter() - started)
            ran = [c for c in result.checks if c.status != "skipped"]
            failed = [c.name for c in ran if c.status == "failed"]
            if result.import_error or failed:
                return Outcome(mutant, KILLED, failed, result.import_error, time.perf_counter() - started,
                               full_suite=subset is None)
    return Outcome(mutant, SURVIVED, seconds=time.perf_counter() - started, full_suite=True)


def grade_mutants(lab: Lab, mutants: list[Mutant], *, jobs: int = 2, restrict: bool = True,
                  call_timeout: float = 10.0, progress: Callable[[Outcome], None] | None = None) -> list[Outcome]:
    """Grade every mutant, ``jobs`` at a time; outcomes in the order of ``mutants``."""
    keywords = check_keywords(lab.reference_file.read_text()) if restrict else {}
    tasks = [(lab.name, m, keywords.get(m.function) if m.function != MODULE_LEVEL else None, call_timeout)
             for m in mutants]
    outcomes: dict[str, Outcome] = {}
    if jobs <= 1:
        for task in tasks:
            outcome = grade_mutant(*task)
            outcomes[outcome.mutant.id] = outcome
            if progress:
                progress(outcome)
    else:
        # spawn: each grading process starts clean (no inherited pytest state or threads)
        context = multiprocessing.get_context("spawn")
        with concurrent.futures.ProcessPoolExecutor(max_workers=jobs, mp_context=context) as pool:
            futures = [pool.submit(grade_mutant, *task) for task in tasks]
            for future in concurrent.futures.as_completed(futures):
                outcome = future.result()
                outcomes[outcome.mutant.id] = outcome
                if progress:
                    progress(outcome)
    return [outcomes[m.id] for m in mutants]
