"""The course's labs, read from data: each suite folder's ``lab.toml``.

A lab is described once, beside its suite (``<suites>/labN/lab.toml``); a
``course.toml`` in the suites folder may hold ``[defaults]`` every lab of
that folder starts from.  The engine knows no lab by name: it reads these
files from the suites folders of the course (:mod:`grader.course.folder`).

    title = "PyTorch Essentials"
    module = "pytorch_basics"                 # the file students write, without ".py"
    preload = ["numpy", "torch", "librosa"]   # imported by the worker before the submission
    warm_up = ["../warm_librosa.py"]          # lab-side modules whose warm_up() the worker runs once
    probes = ["probes.py"]                    # loaded into this lab's worker only
    reply_bytes = 33554432                    # the largest reply a check reads from the worker
    memory_bytes = 1610612736                 # the worker's memory limit (RLIMIT_DATA): what the
                                              # reference needs, with a margin (default 4 GiB)
    ship = ["weights.pt"]                     # data beside the reference that a student release ships (once,
                                              # in its package: Lab.data_file finds it)
    expectations = "expected"                 # recorded expected values (grader.grading.reference), replayed
                                              # when the reference solution is not there (a student release)
    expected_warnings = ["n_fft=.* too large"]  # library warnings the checks' own inputs provoke: not shown
    [environment]                             # extra variables of the worker's environment
    [cache]                                   # VARIABLE = subfolder of the worker's private cache
"""

from __future__ import annotations

import re
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from grader.errors import SetupError

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

BUILTIN_SUITES = Path(__file__).resolve().parent.parent / "suites"
BUNDLED = "bundled_course"   # in a student release's package: its stubs and shipped data (grader/instructor/release.py)
LAB_FILE, COURSE_FILE = "lab.toml", "course.toml"
_KEYS = {"title", "module", "preload", "warm_up", "probes", "reply_bytes", "environment", "cache", "expectations",
         "ship", "expected_warnings", "memory_bytes"}


class LabError(SetupError):
    """A lab that cannot be used (unknown, or its lab.toml is wrong): one line."""


@dataclass(frozen=True)
class Lab:
    name: str                              # "lab4": the suite folder's name
    title: str                             # "PyTorch Essentials"
    module: str                            # the file students write, without ".py"
    suite_dir: Path
    course: Path | None = None             # where reference/ and assignments/ live (None: not found)
    preload: tuple[str, ...] = ("numpy", "torch")
    warm_up: tuple[Path, ...] = ()
    probes: tuple[Path, ...] = ()
    environment: dict[str, str] = field(default_factory=dict, hash=False)
    cache: dict[str, str] = field(default_factory=dict, hash=False)
    reply_bytes: int = 8 << 20
    memory_bytes: int | None = None        # the worker's memory limit (None: the worker's default, 4 GiB)
    expectations: Path | None = None       # the folder of recorded expected values (None: none)
    ship: tuple[str, ...] = ()             # files of reference/labN/ a student release ships (data, not code)
    expected_warnings: tuple[str, ...] = ()   # regexes: library warnings the checks' inputs provoke (not shown)

    @property
    def filename(self) -> str:
        return f"{self.module}.py"

    @property
    def reference_file(self) -> Path:
        return (self.course or Path("<no course folder>")) / "reference" / self.name / self.filename

    def assignment_file(self, course: Path | None = None) -> Path:
        return (course or self.course or Path("<no course folder>")) / "assignments" / self.name / self.filename

    def data_file(self, name: str) -> Path:
        """A data file the lab ships (``ship``, e.g. trained weights): beside the reference solution
        (the instructor's course), beside the stub, or in the installed grader's bundled course, where
        a student release keeps its one copy.  The last place looked when it is nowhere."""
        places = [self.reference_file.parent, self.assignment_file().parent,
                  BUILTIN_SUITES.parent / BUNDLED / "assignments" / self.name]
        return next((place / name for place in places if (place / name).is_file()), places[-1] / name)


def read_toml(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as handle:
            return tomllib.load(handle)
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise LabError(f"{path}: {exc}") from None


def load_lab(folder: Path, course: Path | None) -> Lab:
    """The lab described by ``folder/lab.toml`` (over the folder's ``course.toml`` defaults)."""
    path = folder / LAB_FILE
    defaults = read_toml(folder.parent / COURSE_FILE).get("defaults", {}) if (folder.parent / COURSE_FILE).is_file() else {}
    data = {**defaults, **read_toml(path)}
    unknown = set(data) - _KEYS
    if unknown:
        raise LabError(f"{path}: unknown keys {', '.join(sorted(unknown))} (known: {', '.join(sorted(_KEYS))})")
    for key in ("title", "module") + (("expectations",) if "expectations" in data else ()):
        if not isinstance(data.get(key), str) or not data[key]:
            raise LabError(f"{path}: {key} must be a non-empty string")
    files = {key: tuple((folder / name).resolve() for name in data.get(key, [])) for key in ("warm_up", "probes")}
    for key, paths in files.items():
        for file in paths:
            if not file.is_file():
                raise LabError(f"{path}: {key} names {file}, which does not exist")
    return Lab(name=folder.name, title=data["title"], module=data["module"], suite_dir=folder, course=course,
               preload=tuple(data.get("preload", ("numpy", "torch"))), warm_up=files["warm_up"],
               probes=files["probes"], environment=dict(data.get("environment", {})),
               cache=dict(data.get("cache", {})), reply_bytes=int(data.get("reply_bytes", 8 << 20)),
               memory_bytes=_memory(data, path),
               expectations=(folder / data["expectations"]).resolve() if "expectations" in data else None,
               ship=tuple(data.get("ship", ())), expected_warnings=_patterns(path, data.get("expected_warnings", [])))


def _patterns(path: Path, values: Any) -> tuple[str, ...]:
    """``expected_warnings``: a list of regular expressions that compile."""
    if not isinstance(values, list) or not all(isinstance(v, str) for v in values):
        raise LabError(f"{path}: expected_warnings must be a list of strings (regular expressions)")
    for value in values:
        try:
            re.compile(value)
        except re.error as exc:
            raise LabError(f"{path}: expected_warnings {value!r} is not a regular expression ({exc})") from None
    return tuple(values)


def _memory(data: dict[str, Any], path: Path) -> int | None:
    if "memory_bytes" not in data:
        return None
    value = data["memory_bytes"]
    if type(value) is not int or value < 256 << 20:
        raise LabError(f"{path}: memory_bytes must be a whole number of bytes, at least 268435456 (256 MiB)")
    return value


def labs_in(suites: Path, course: Path | None) -> list[Lab]:
    """Every lab of one suites folder, by name."""
    if not suites.is_dir():
        return []
    return [load_lab(folder, course) for folder in sorted(suites.iterdir(), key=lambda p: p.name)
            if (folder / LAB_FILE).is_file()]


