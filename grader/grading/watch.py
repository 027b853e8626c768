"""``grade lab4 --watch``: grade, then regrade each time the student's file is saved.

The runs share one launcher: where warm templates work (grader/isolation/template.py) each
regrade's worker is forked from the lab's template, with the same confinement as a batch
grader's workers, in about 0.1 s instead of a fresh sandbox's seconds; elsewhere (no
bubblewrap, another platform's launcher) it says so in one line and every regrade starts a
fresh worker.  The functions the save changed are checked first, then the rest; the grade
does not depend on that order.  Saves are noticed by ``watchfiles`` (inotify, FSEvents,
ReadDirectoryChangesW: no polling), on the file's folder, so that an editor that saves by
writing another file and renaming it is seen too.  Ctrl-C stops watching and ends every
worker and template: nothing is left running.
"""

from __future__ import annotations

import ast
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterator

from grader.course.stub import definitions
from grader.grading.files import read_no_follow
from grader.grading.prepare import choose, prepare
from grader.grading.run import grade
from grader.isolation import Launcher, TemplateLauncher
from grader.results import CheckResult, GradeResult

LARGEST_READ = 1 << 20   # a file larger than this is graded, not compared (its functions all count as changed)


def watch_launcher() -> tuple[Launcher, str]:
    """The launcher the runs share, and one line when its workers cannot come from a warm template."""
    chosen = choose()
    if isinstance(chosen, TemplateLauncher) or chosen.kind != "namespaces":
        why = "" if isinstance(chosen, TemplateLauncher) else f"this sandbox ({chosen.kind}) has none"
        return chosen, (f"watch: each regrade starts a fresh worker (no warm template here: {why})" if why else "")
    templates = TemplateLauncher()
    if templates.available() and templates.template_available():
        chosen.close()
        return templates, ""
    why = templates.template_unavailable_reason()
    templates.close()
    return chosen, f"watch: each regrade starts a fresh worker (no warm template here: {why})"


def changed_definitions(before: str | None, after: str) -> set[str] | None:
    """The functions, classes and methods (``UNet.forward``) whose code differs between two versions
    of a file, by their syntax trees (comments, blank lines and moves do not count).  None when it
    cannot tell, or when code outside them changed (an import, a constant): then everything counts."""
    if before is None or max(len(before), len(after)) > LARGEST_READ:
        return None
    try:
        old, new = _bodies(before), _bodies(after)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return None
    if old.pop("", None) != new.pop("", None):
        return None
    return {name for name in new if old.get(name) != new[name]}


def _bodies(source: str) -> dict[str, str]:
    """Each top-level definition's and method's code as a dump of its tree; '' for the rest of the module."""
    tree = ast.parse(source)
    found, rest = {}, []
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            found[node.name] = ast.dump(node)
        elif isinstance(node, ast.ClassDef):
            methods = [item for item in node.body if isinstance(item, (ast.FunctionDef, ast.AsyncFunctionDef))]
            for item in methods:
                found[f"{node.name}.{item.name}"] = ast.dump(item)
            found[node.name] = ast.dump(ast.ClassDef(**{**vars(node), "body": [
                item for item in node.body if item not in methods]}))
        else:
            rest.append(ast.dump(node))
    found[""] = "\n".join(rest)
    return found


@dataclass
class Watch:
    """One watching session: the runs' options, the last result, what each run is told."""

    lab: str
    submission: Path | None = None
    options: dict[str, Any] = field(default_factory=dict)   # grade()'s keyword, timeouts, student
    show: Callable[[GradeResult, set[str] | None, float], None] = lambda result, first, seconds: None
    progress: Callable[[], Any] = lambda: None               # a fresh Progress per run, or None
    early: Callable[[str, list[CheckResult]], None] = lambda function, checks: None
    say: Callable[[str], None] | None = None                  # told what a first run after an install does
    last: GradeResult | None = None
    last_source: str | None = None
    path: Path | None = None          # the student's file, once the first run has found it

    def run(self, launcher: Launcher, first: set[str] | None = None) -> GradeResult:
        """One grading run on ``launcher``; the changed functions (``first``) are reported as soon as
        their checks are done (``early``)."""
        started = time.perf_counter()
        prepared = prepare(self.lab, self.submission, launcher=launcher, course=self.options.get("course"),
                           say=self.say)
        self.path = prepared.source
        source = _read(prepared.source)
        before = self.last.checks if self.last is not None else []
        counts = {name: sum(1 for c in before if _covers(name, c.function)) for name in first or ()}
        pending: dict[str, list[CheckResult]] = {name: [] for name in first or ()}

        def on_check(check: CheckResult) -> None:
            for name, done in pending.items():
                if _covers(name, check.function):
                    done.append(check)
                    if len(done) == counts[name]:
                        self.early(name, done)

        shown = self.progress()
        options = {k: v for k, v in self.options.items() if k != "course"}
        if shown is None:
            result = grade(self.lab, prepared=prepared, first=first or (), on_check=on_check, **options)
        else:
            with shown:
                result = grade(self.lab, prepared=prepared, first=first or (), on_check=on_check, progress=shown,
                               **options)
        self.last, self.last_source = result, source
        self.show(result, first, time.perf_counter() - started)
        return result

    def saves(self, path: Path, stop: threading.Event | None = None) -> Iterator[set[str] | None]:
        """For each save of ``path`` that changed it: what changed (see :func:`changed_definitions`)."""
        import watchfiles

        target = path.resolve()
        for _ in watchfiles.watch(target.parent, watch_filter=lambda change, name: Path(name).resolve() == target,
                                  stop_event=stop, raise_interrupt=True, rust_timeout=1000, yield_on_timeout=False):
            source = _read(path)
            if source is None or source == self.last_source:
                continue   # deleted for a moment, or saved unchanged
            yield changed_definitions(self.last_source, source)


def _read(path: Path) -> str | None:
    """The file's text as a submission is read (no link followed, a regular file, bounded); None when
    it cannot be (gone for a moment, or replaced by a pipe, a folder or a link: a save to ignore)."""
    try:
        return read_no_follow(path).decode("utf-8", errors="replace")
    except OSError:
        return None


def _covers(name: str, function: str) -> bool:
    """A check of ``function`` is one of ``name``'s (a method of a changed class, the class of a changed method)."""
    return bool(function) and (function == name or function.startswith(name + ".") or name.startswith(function + "."))


def ordered(names: set[str] | None, source: str) -> list[str]:
    """``names`` in the order the file defines them (for saying what is checked first)."""
    order = [d.name for d in definitions(source)]
    return sorted(names or (), key=lambda n: order.index(n) if n in order else len(order))
