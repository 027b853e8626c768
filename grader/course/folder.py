"""Where the course is: the folder holding ``reference/`` and ``assignments/``, and its suites.

Found, in this order, from the folder given (``--course DIR``: the CLI sets ``GRADE_COURSE``),
the ``GRADE_COURSE`` environment variable, the current folder when it looks
like a course, and the source checkout the grader runs from (a development
install) or, in a student release, the course its package carries.  A course may hold suites of
its own (``suites/labN/lab.toml``); they come before the built-in ones of the same name.  A run
passes the lab it grades on to its suite (the ``lab`` fixture): nothing here remembers a run.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from grader.course.labs import BUILTIN_SUITES, BUNDLED, Lab, LabError, labs_in  # noqa: F401 (BUNDLED: for release)
from grader.errors import SetupError

ENVIRONMENT = "GRADE_COURSE"
MARKS = ("reference", "assignments")   # a folder holding either is a course


class CourseError(SetupError):
    """No course folder where one was asked for: one line."""


def is_course(folder: Path) -> bool:
    return any((folder / mark).is_dir() for mark in MARKS)


def source_checkout() -> Path | None:
    """The checkout the grader is imported from, when it is one (not an installed wheel)."""
    root = BUILTIN_SUITES.parent.parent
    return root if (root / "pyproject.toml").is_file() and is_course(root) else None


def bundled_course() -> Path | None:
    """The course a student release carries inside its package (stubs and their data), if this is one."""
    folder = BUILTIN_SUITES.parent / BUNDLED
    return folder if is_course(folder) else None


def find_root(explicit: Path | None = None) -> Path | None:
    """The course root, or None when there is none (only the built-in suites then)."""
    given = explicit or (Path(os.environ[ENVIRONMENT]) if os.environ.get(ENVIRONMENT) else None)
    if given is not None:
        if not given.is_dir():
            raise CourseError(f"course folder {given} does not exist")
        return given.resolve()
    if is_course(Path.cwd()):
        return Path.cwd().resolve()
    return source_checkout() or bundled_course()


@dataclass(frozen=True)
class Course:
    root: Path | None
    suites: tuple[Path, ...]
    from_checkout: bool = False   # found only as the grader's own checkout, not where the user is

    @property
    def here(self) -> Path | None:
        """Where students' files are looked for by default: never the checkout the grader runs from."""
        return None if self.from_checkout else self.root

    def labs(self) -> list[Lab]:
        found: dict[str, Lab] = {}
        for folder in self.suites:
            for lab in labs_in(folder, self.root):
                found.setdefault(lab.name, lab)
        return sorted(found.values(), key=lambda lab: lab.name)

    def lab(self, name: str) -> Lab:
        for lab in self.labs():
            if lab.name == name.lower():
                return lab
        known = ", ".join(lab.name for lab in self.labs()) or "none"
        raise LabError(f"unknown lab {name!r} (labs: {known})")

    def missing_reference(self, lab: Lab, replayable: bool = True) -> str:
        """One line naming what is missing to grade ``lab``, or '' (recorded expected values will do
        where ``replayable``: a student release)."""
        if replayable and lab.expectations is not None and (lab.expectations / "index.json").is_file():
            return ""
        if self.root is None:
            return (f"no course folder found for {lab.name}'s reference solution: "
                    f"pass --course DIR or set {ENVIRONMENT}")
        if not lab.reference_file.is_file():
            return (f"{lab.name}'s reference solution is missing: {lab.reference_file} "
                    f"(is {self.root} the course folder? pass --course DIR or set {ENVIRONMENT})")
        return ""


def find(explicit: Path | None = None) -> Course:
    root = find_root(explicit)
    own = (root / "suites",) if root is not None and (root / "suites").is_dir() else ()
    from_checkout = explicit is None and not os.environ.get(ENVIRONMENT) \
        and not is_course(Path.cwd())
    return Course(root, (*own, BUILTIN_SUITES), from_checkout and root is not None)


def available_labs(course: Path | None = None) -> list[Lab]:
    """The labs of the course (see grader.course.folder.find): its own suites first, then the built-in ones."""
    return find(course).labs()


def find_lab(name: str, course: Path | None = None) -> Lab:
    """The one way to find a lab by name: in the course ``find`` finds.  Raises :class:`CourseError`
    or :class:`LabError` (both a :class:`grader.errors.SetupError`: one line, exit 2 in every command)."""
    return find(course).lab(name)


def __getattr__(name: str) -> Any:
    if name == "LABS":  # read-only view for tests and tools: {name: Lab} of the course in effect
        return {lab.name: lab for lab in available_labs()}
    raise AttributeError(name)
