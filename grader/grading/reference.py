"""Expected values as data: every call a suite makes to the reference, recorded, stored and replayed.

The ``reference`` fixture is one of four things, as the run's :class:`Reach` says (by default
:func:`automatic`):

* **live**: the reference module itself (the instructor's checkout; nothing recorded);
* **record**: the module, each call's result also stored (building a release: grader.instructor.recording);
* **replay**: no reference at all, every result read from a store; a call that is not in the
  store raises :class:`ReleaseMismatch` (the student release: no solutions ship);
* **memo**: replay what this process has already computed, compute live and keep the rest
  (batch grading: the reference runs once per lab per grader process).

A call is keyed by its name and a fingerprint of its arguments, not by the check that makes
it: the reference is a function of its arguments (recording checks that), so a broken
submission that stops a check early, a ``-k`` selection or a module-scoped fixture set up
by another check all find the same values.  What is not an argument must become one: a
simulated machine, a model's weights.  Where the reference's answer is an object (a Dataset,
a model), the suite wraps the reference-side work in an :func:`expectation` helper that
returns data.

The store itself, and how values are written and read, is :mod:`grader.grading.store`.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import importlib.util
import json
import os
import shutil
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

from grader.course.labs import Lab
from grader.grading.describe import describe_call
from grader.grading.store import (FORMAT, INDEX, MISMATCH, ReleaseMismatch, Store, Unrecordable, _canonical,
                                  _digest, encode_arguments, hypothesis_version, suite_hash)
from grader.isolation.cache import cache_root, library_versions

class Book:
    """One grading run's reference: the mode, the store, the clips folder and the check running."""

    def __init__(self, mode: str, lab: Lab, store: Store | None, clips: Path | None,
                 module: Callable[[], ModuleType] | None = None) -> None:
        self.mode, self.lab, self.store, self.clips = mode, lab, store, clips
        self.check = ""
        self.mismatch: ReleaseMismatch | None = None
        self.live_calls = 0               # how often the reference itself ran (memo tests count them)
        self.kept_calls = 0               # answers kept from earlier runs when it began (Kept)
        self._module_factory = module or (lambda: load_reference(lab))
        self._module: ModuleType | None = None

    @property
    def module(self) -> ModuleType:
        if self._module is None:
            self._module = self._module_factory()
        return self._module

    def reference(self) -> Any:
        """What the ``reference`` fixture gives the suite."""
        return self.module if self.mode == "live" else RecordedReference(self)

    def prepare(self) -> None:
        """A replayed store must come from this suite and this hypothesis: else nothing can be trusted."""
        if self.mode != "replay" or self.store is None:
            return
        for what, stored, here in (("hypothesis", self.store.hypothesis, hypothesis_version()),
                                   ("suite", self.store.suite, suite_hash(self.lab))):
            if stored != here:
                shown = (stored, here) if what == "hypothesis" else (stored[:12], here[:12])
                raise ReleaseMismatch(f"{MISMATCH} ({self.lab.name}: recorded with {what} {shown[0]}, "
                                      f"this is {what} {shown[1]})")

    def call(self, name: str, args: tuple, kwargs: dict, live: Callable[[ModuleType], Any]) -> Any:
        tree, arrays = encode_arguments(args, kwargs, self.clips)
        fp = _digest(_canonical(tree))
        found = self.store.find(name, fp)
        if found is None and self.mode == "replay":
            found = self.store.nearest(name, tree, arrays)
        if found is not None and self.mode != "record":
            return self.store.value(found["value"], self.clips)
        if self.mode == "replay":
            self.mismatch = ReleaseMismatch(f"{MISMATCH} ({self.lab.name}: {self.check or 'a fixture'} calls "
                                            f"{_shown(name, args, kwargs, self.clips)}, which was not recorded)")
            raise self.mismatch
        self.live_calls += 1
        result = live(self.module)
        try:
            digest = self.store.add(name, fp, tree, arrays, result, self.check)
        except Unrecordable as exc:
            raise Unrecordable(f"{name} returned {exc}, which cannot be recorded: make the reference-side "
                               f"work an @expectation helper that returns data") from None
        if found is not None and found["value"] != digest:
            raise RuntimeError(f"{name} gave two different results for the same arguments "
                               f"({found['check']} and {self.check}): make what differs an argument")
        return self.store.value(digest, self.clips)


def _shown(name: str, args: tuple, kwargs: dict, clips: Path | None) -> str:
    text = describe_call(name, args, kwargs)
    return text.replace(str(clips) + "/", "") if clips is not None else text


class RecordedReference:
    """The suite's ``reference`` outside live mode: ``reference.f(*args)`` goes through the book."""

    __slots__ = ("_book",)

    def __init__(self, book: Book) -> None:
        self._book = book

    def __getattr__(self, name: str) -> Callable[..., Any]:
        if name.startswith("_"):
            raise AttributeError(name)
        book = self._book

        def call(*args: Any, **kwargs: Any) -> Any:
            return book.call(name, args, kwargs, lambda module: getattr(module, name)(*args, **kwargs))
        call.__name__ = name
        return call

    def __repr__(self) -> str:
        return f"<{self._book.lab.name} reference ({self._book.mode})>"


def expectation(helper: Callable[..., Any]) -> Callable[..., Any]:
    """A suite helper whose first argument is the reference and whose result is data, recorded as one call.

    For reference-side work that builds objects (a model, a Dataset): the helper gets the
    real module, and only what it returns (tensors, arrays, numbers, strings, devices,
    lists, tuples and dicts of those) is stored and replayed.
    """
    name = f"{Path(helper.__code__.co_filename).stem}.{helper.__qualname__}"

    @functools.wraps(helper)
    def recorded(reference: Any, *args: Any, **kwargs: Any) -> Any:
        if not isinstance(reference, RecordedReference):
            return helper(reference, *args, **kwargs)
        return reference._book.call(name, args, kwargs, lambda module: helper(module, *args, **kwargs))
    return recorded


def load_reference(lab: Lab) -> ModuleType:
    spec = importlib.util.spec_from_file_location(f"grade_reference_{lab.name}", lab.reference_file)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


# ------------------------------------------------------------------ how a run reaches the reference: a value
class Reach:
    """How a run reaches the reference's answers (see the module's docstring): given to
    :func:`grader.grading.run.grade` as a value, kept on the run by its plugin."""

    def book(self, lab: Lab, clips: Path | None) -> Book:
        raise NotImplementedError

    def finish(self, book: Book) -> str:
        """The run that used ``book`` graded to the end; a note for its report, or ''."""
        return ""


class Live(Reach):
    """The reference module itself: nothing recorded."""

    def book(self, lab: Lab, clips: Path | None) -> Book:
        return Book("live", lab, None, clips)


@dataclass
class Record(Reach):
    """The reference module, every call's result also stored in ``store`` (building a release)."""

    store: Store

    def book(self, lab: Lab, clips: Path | None) -> Book:
        return Book("record", lab, _for(self.store, lab), clips)


@dataclass
class Replay(Reach):
    """No reference: every answer read from ``store`` (a student release)."""

    store: Store

    def book(self, lab: Lab, clips: Path | None) -> Book:
        return Book("replay", lab, _for(self.store, lab), clips)


@dataclass
class Memo(Reach):
    """Replay what an earlier run of this object computed, compute the rest live and keep it: the
    reference runs once per lab per batch grader, not once per submission."""

    load: Callable[[Lab], ModuleType] = field(default=lambda lab: load_reference(lab))   # how the module is read
    kept: dict[tuple[str, str, str], tuple[Store, list]] = field(default_factory=dict)

    def book(self, lab: Lab, clips: Path | None) -> Book:
        if not lab.reference_file.is_file():
            return automatic(lab).book(lab, clips)
        key = (lab.name, str(lab.suite_dir), str(lab.reference_file))
        if key not in self.kept:
            self.kept[key] = (Store.new(lab), [])
        store, module = self.kept[key]
        return Book("memo", lab, store, clips, module=lambda: self._cached(module, lab))

    def _cached(self, slot: list, lab: Lab) -> ModuleType:
        if not slot:
            slot.append(self.load(lab))
        return slot[0]


@dataclass
class Kept(Reach):
    """The instructor's checkout: the reference's answers kept in a cache folder (``root``) across
    runs.  A run replays what is kept, computes the rest live and keeps it for the next run.

    Kept answers are filed under a key of everything they depend on (:func:`kept_key`: the
    reference's folder, the suite, the grader's code, Python, hypothesis and the libraries'
    versions): any change there is another key, so a stale answer is never read; the first run
    after a change runs the reference live (and says so), as grading without the cache would.
    """

    root: Path
    last: Book | None = None                                    # the book of the latest run
    stores: dict[Path, Store] = field(default_factory=dict)   # read once per process (a batch grader, watch)
    modules: dict[Path, ModuleType] = field(default_factory=dict)   # the reference, loaded once where it runs

    def folder(self, lab: Lab) -> Path:
        return self.root / f"{lab.name}-{kept_key(lab)}"

    def book(self, lab: Lab, clips: Path | None) -> Book:
        folder = self.folder(lab)
        if folder not in self.stores:
            self.stores[folder] = _kept_store(folder, lab)
        store = self.stores[folder]
        book = Book("memo", lab, store, clips, module=lambda: self._module(folder, lab))
        book.kept_calls = store.count()
        self.last = book
        return book

    def _module(self, folder: Path, lab: Lab) -> ModuleType:
        if folder not in self.modules:
            self.modules[folder] = load_reference(lab)
        return self.modules[folder]

    def finish(self, book: Book) -> str:
        if book.live_calls == 0 or book.mismatch is not None:
            return ""
        with contextlib.suppress(OSError):
            _publish(book.store, self.folder(book.lab))
            _prune(self.root, book.lab.name)
        if book.kept_calls:
            return (f"{book.live_calls} of the reference's answers were not kept yet: it ran live for them "
                    "(kept now for the next run)")
        return ("the reference ran live: its suite, its code, the grader or a library changed since its answers "
                "were last kept (kept now: the next run replays them; grade --live always runs it)")


def automatic(lab: Lab) -> Reach:
    """What a run of ``lab`` uses unless told: the reference where it is installed (the instructor's
    checkout), its answers kept across runs in the cache (:class:`Kept`); else the recorded
    answers beside the suite (a student release)."""
    if lab.reference_file.is_file():
        return Kept(cache_root() / "expected")
    if has_store(lab):
        return Replay(Store.load(lab.expectations))
    return Live()


def kept_key(lab: Lab) -> str:
    """What the reference's answers depend on, as one digest: the reference's folder (code and data),
    the suite (the calls it makes, its helpers), the grader's own code (clips, checks, the store's
    format), Python, hypothesis and the lab's libraries."""
    parts = [f"format {FORMAT}", sys.version, hypothesis_version(), suite_hash(lab),
             json.dumps(library_versions(tuple(sorted({m.split(".")[0] for m in (*lab.preload, "numpy", "torch")}))),
                        sort_keys=True)]
    reference = lab.reference_file.parent
    files = [reference / "__missing__"] if not reference.is_dir() else \
        sorted(p for p in reference.rglob("*") if p.is_file() and "__pycache__" not in p.parts)
    parts += [_file_digest(path, reference) for path in files]
    parts += [_grader_digest()]
    return _digest(*(part.encode() for part in parts))[:20]


def _file_digest(path: Path, root: Path) -> str:
    try:
        return f"{path.relative_to(root).as_posix()} {hashlib.sha256(path.read_bytes()).hexdigest()}"
    except OSError:
        return f"{path} unreadable"


@functools.lru_cache(maxsize=1)
def _grader_digest() -> str:
    """The grader's own Python files (not the suites': suite_hash has them), once per process."""
    package = Path(__file__).resolve().parent.parent
    files = sorted(p for p in package.rglob("*.py") if "__pycache__" not in p.parts and "suites" not in
                   p.relative_to(package).parts[:1])
    return hashlib.sha256(b"".join(_file_digest(p, package).encode() for p in files)).hexdigest()


def _kept_store(folder: Path, lab: Lab) -> Store:
    """The answers kept in ``folder``, or none (a new store) where it is missing, half replaced by another
    run at this moment, or unreadable: the reference then runs live, as without a cache."""
    try:
        if json.loads((folder / INDEX).read_text(encoding="utf-8")).get("format") == FORMAT:
            return Store.load(folder)
    except (OSError, ValueError, ReleaseMismatch):
        pass
    return Store.new(lab)


KEPT_PER_LAB = 4   # a lab's latest stores kept: the answers of older references and suites are let go


def _prune(root: Path, lab: str) -> None:
    """Remove all but the :data:`KEPT_PER_LAB` latest stores of ``lab`` (each reference, suite or library
    change leaves one behind)."""
    stores = sorted((p for p in root.glob(f"{lab}-*") if p.is_dir()), key=lambda p: p.stat().st_mtime, reverse=True)
    for old in stores[KEPT_PER_LAB:]:
        shutil.rmtree(old, ignore_errors=True)


def _publish(store: Store, folder: Path) -> None:
    """Write ``store`` beside ``folder`` and put it in its place: a reader sees the old one, the new one
    or none (then it runs the reference live), never half of one."""
    folder.parent.mkdir(parents=True, exist_ok=True)
    building = Path(tempfile.mkdtemp(prefix=f".{folder.name}-", dir=folder.parent))
    try:
        store.save(building, compressed=False)
        old = folder.with_name(f".{folder.name}-old-{os.getpid()}")
        with contextlib.suppress(OSError):
            os.rename(folder, old)
        os.rename(building, folder)
        shutil.rmtree(old, ignore_errors=True)
    finally:
        shutil.rmtree(building, ignore_errors=True)


def _for(store: Store, lab: Lab) -> Store:
    if store.lab != lab.name:
        raise ValueError(f"a store of {store.lab} cannot answer {lab.name}")
    return store


def has_store(lab: Lab) -> bool:
    return lab.expectations is not None and (lab.expectations / INDEX).is_file()
