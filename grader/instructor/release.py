"""``grade release [LAB ...] --out DIR``: the student course, without the solutions.

DIR gets what students need and nothing of the instructor's:

    README.md                 install, grade, what the report means
    pyproject.toml            `pip install .` installs `grade` (the package below)
    assignments/labN/         the stubs
    src/grader/               the engine, without the instructor's tools (batch, mutants, Gradescope, ...)
    src/grader/suites/labN/   the public part of each suite (grader/instructor/public_suite.py), and ``expected/``:
                              the reference's answers to the public checks' calls, recorded as data
    src/grader/bundled_course/assignments/   the stubs again, so the installed package alone is a course, and
                              the data lab.toml's ``ship`` names (Lab 5's weights), once
    src/grader/suites/release.toml           student-facing runs; the checks left out, counted per lab; what
                                             students see (``--after-due-date``: the after_due_date checks too)

Never in it: ``reference/``, hidden checks (nor a side check of one, nor what
only they use), ``equivalent_mutants.toml`` (its diffs quote the reference).
The release is written into a new folder beside DIR and moved into place
only once complete, and DIR is never written over when it holds anything.
"""

from __future__ import annotations

import dataclasses
import json
import os
import shutil
import sys
import tempfile
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

from grader.course.folder import BUNDLED, Course, CourseError, find
from grader.course.edition import MANIFEST, STUDENTS_SEE
from grader.course.labs import BUILTIN_SUITES, LAB_FILE, Lab, LabError, read_toml
from grader.errors import SetupError
from grader.grading.run import collect
from grader.instructor.gradescope import FALLBACK_DEPENDENCIES
from grader.instructor.public_suite import StripError, strip_lab
from grader.instructor.recording import record_lab

PACKAGE = BUILTIN_SUITES.parent   # the grader package
INSTRUCTOR = "instructor"   # the instructor's tools (batch, mutants, Gradescope, ...): one folder, left out
NOT_PUBLIC = {"equivalent_mutants.toml", "README.md", "__pycache__"}   # mutants quote the reference; authors' guide
STORE = "expected"          # each released suite's folder of recorded expectations (lab.toml: expectations)
CODE = (".py", ".ipynb", ".pyc")


class ReleaseError(SetupError):
    """The release cannot be built: one line."""


@dataclass
class Release:
    out: Path
    labs: list[str]
    files: list[Path]                          # relative to out
    withheld: dict[str, tuple[int, float]]     # lab -> (checks, points) left out

    @property
    def size(self) -> int:
        return sum((self.out / f).stat().st_size for f in self.files)


# ------------------------------------------------------------------ recording: the one place the release meets it
def record(lab: Lab, store: Path) -> None:
    """Record the reference's answers to every call ``lab``'s (already public) suite makes, as data in ``store``."""
    try:
        record_lab(lab, store)
    except SetupError as exc:
        raise ReleaseError(f"recording {lab.name}'s expected values: {exc}") from None


# ------------------------------------------------------------------ building
def out_problem(out: Path) -> str:
    """Why ``out`` cannot receive a release, or ''."""
    if out.exists() and not out.is_dir():
        return f"--out {out} is a file"
    if out.is_dir() and any(out.iterdir()):
        return f"--out {out} is not empty (a release is written into a new or empty folder, never over files)"
    if not out.parent.is_dir():
        return f"--out {out}: folder {out.parent} does not exist"
    return ""


AFTER_DUE_DATE = ("visible", "after_due_date")


def build(names: list[str], out: Path, course: Path | None = None, after_due_date: bool = False) -> Release:
    """Write the student release of ``names`` (every lab when empty) to ``out``; raises ReleaseError.
    ``after_due_date``: the release also holds (and its runs run) the checks marked ``after_due_date``."""
    out = Path(os.path.abspath(out))   # the recording's course links into it from another folder
    problem = out_problem(out)
    if problem:
        raise ReleaseError(problem)
    try:
        found = find(course)
        labs = [found.lab(name) for name in names] if names else found.labs()
    except (CourseError, LabError) as exc:
        raise ReleaseError(exc.args[0]) from None
    for lab in labs:
        if found.missing_reference(lab):
            raise ReleaseError(found.missing_reference(lab))
    staging = Path(tempfile.mkdtemp(prefix=f".{out.name}-", dir=out.parent))
    try:
        withheld = _write(found, labs, staging, AFTER_DUE_DATE if after_due_date else STUDENTS_SEE)
        if out.is_dir():
            out.rmdir()          # empty (checked above)
        staging.rename(out)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    files = sorted(p.relative_to(out) for p in out.rglob("*") if p.is_file())
    return Release(out, [lab.name for lab in labs], files, withheld)


def _write(course: Course, labs: list[Lab], root: Path, shown: tuple[str, ...]) -> dict[str, tuple[int, float]]:
    package = root / "src" / "grader"
    shutil.copytree(PACKAGE, package, ignore=lambda folder, names: [
        n for n in names if (Path(folder) == PACKAGE and (n in (INSTRUCTOR, "suites", BUNDLED)))
        or n == "__pycache__"])
    suites = package / "suites"
    suites.mkdir()
    shutil.copy2(BUILTIN_SUITES / "pytest.ini", suites / "pytest.ini")   # every suite runs under it (grader/grading/run.py)
    _copy_shared(labs, suites)
    withheld = {}
    for lab in labs:
        withheld[lab.name] = _public_suite(lab, suites / lab.name, shown)
        _stub_folder(lab, root / "assignments" / lab.name, ship=False)
        _stub_folder(lab, package / BUNDLED / "assignments" / lab.name, ship=True)   # the package's: data once
    _record(course, labs, suites)
    _manifest(package / MANIFEST.relative_to(PACKAGE), withheld, shown)
    (root / "pyproject.toml").write_text(_pyproject(labs))
    (root / "README.md").write_text(_readme(labs, withheld))
    return withheld


def _copy_shared(labs: list[Lab], suites: Path) -> None:
    """The files beside the lab folders (course.toml's defaults, shared warm-ups): all released labs come
    from one suites folder, so that each reads the same defaults in the release as in the course."""
    folders = sorted({lab.suite_dir.parent for lab in labs})
    if len(folders) > 1:
        raise ReleaseError(f"the labs come from {len(folders)} suites folders ({', '.join(map(str, folders))}): "
                           "release each folder's labs apart")
    for path in folders[0].iterdir():
        if path.is_file() and path.name not in NOT_PUBLIC and path.name != "pytest.ini":
            shutil.copy2(path, suites / path.name)


def _public_suite(lab: Lab, target: Path, shown: tuple[str, ...]) -> tuple[int, float]:
    """Write the public part of ``lab``'s suite to ``target``; (checks, points) left out."""
    try:
        stripped = strip_lab(lab.suite_dir, shown)
    except StripError as exc:
        raise ReleaseError(str(exc)) from None
    target.mkdir(parents=True)
    for path in lab.suite_dir.iterdir():
        if path.is_file() and path.name not in NOT_PUBLIC and path.suffix not in (".py", ".pyc"):
            shutil.copy2(path, target / path.name)
    for name, text in stripped.texts.items():
        if text:
            (target / name).write_text(text, encoding="utf-8")
    try:
        _forget_imports(lab.suite_dir, target)
        student = collect(lab, student=True, shown=shown)
        _forget_imports(lab.suite_dir, target)
        public = collect(dataclasses.replace(lab, suite_dir=target))
    except SetupError as exc:
        raise ReleaseError(str(exc)) from None
    finally:
        _forget_imports(lab.suite_dir, target)
    seen, kept = [c.name for c in student.collected], [c.name for c in public.collected]
    if seen != kept:
        raise ReleaseError(f"{lab.name}: the public suite's checks differ from what students see "
                           f"(only in the release: {sorted(set(kept) - set(seen))[:3]}, "
                           f"missing: {sorted(set(seen) - set(kept))[:3]})")
    return len(student.withheld), sum(c.points for c in student.withheld)


def _record(course: Course, labs: list[Lab], suites: Path) -> None:
    """Record each public suite's reference calls into its ``expected/``, then point its lab.toml at them.

    The recorder grades the course whose suites are the public copies (its own ``suites/`` comes
    first) with the course's reference and stubs: a course folder of links made for it."""
    with tempfile.TemporaryDirectory(prefix="grade-release-course-") as folder:
        recording = Path(folder)
        (recording / "suites").symlink_to(suites, target_is_directory=True)
        for part in ("reference", "assignments"):
            (recording / part).symlink_to(course.root / part, target_is_directory=True)
        found = find(recording)
        for lab in labs:
            given = read_toml(suites / lab.name / LAB_FILE).get("expectations")   # the lab's own folder name
            _forget_imports(lab.suite_dir, suites / lab.name)
            try:
                record(found.lab(lab.name), suites / lab.name / (given or STORE))
            finally:
                _forget_imports(lab.suite_dir, suites / lab.name)
            if not given:
                _add_key(suites / lab.name / LAB_FILE,
                         f'expectations = "{STORE}"   # recorded from the reference by grade release')


def _forget_imports(*folders: Path) -> None:
    """pytest's importlib mode reuses a module already imported under the same name, and the public
    copy of a suite has the original's file names: each collection (and the recording) starts without them."""
    roots = [folder.resolve() for folder in folders]
    for name, module in list(sys.modules.items()):
        file = getattr(module, "__file__", None)
        if file and any(Path(file).resolve().is_relative_to(root) for root in roots):
            del sys.modules[name]


def _add_key(path: Path, line: str) -> None:
    """Add a top-level key to a TOML file: before its first table, where top-level keys must be."""
    lines = path.read_text().splitlines(keepends=True)
    first_table = next((i for i, text in enumerate(lines) if text.lstrip().startswith("[")), len(lines))
    if first_table == len(lines) and lines and not lines[-1].endswith("\n"):
        lines[-1] += "\n"
    lines.insert(first_table, line + "\n")
    path.write_text("".join(lines))


def _stub_folder(lab: Lab, target: Path, ship: bool) -> None:
    """The lab's stub folder as the course has it, and (``ship``) the data files lab.toml ships beside it:
    in the package's copy only, which the installed grader reads wherever it runs (Lab.data_file)."""
    source = lab.assignment_file().parent
    if not source.is_dir():
        raise ReleaseError(f"{lab.name}'s stub is missing: {lab.assignment_file()}")
    shutil.copytree(source, target, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    for name in lab.ship if ship else ():
        path = lab.reference_file.parent / name
        if Path(name).suffix in CODE or Path(name).name != name:
            raise ReleaseError(f"{lab.name}'s lab.toml ships {name!r}: only data files beside the reference may ship")
        if not path.is_file():
            raise ReleaseError(f"{lab.name}'s lab.toml ships {name}, which is missing: {path}")
        shutil.copy2(path, target / name)


def _manifest(path: Path, withheld: dict[str, tuple[int, float]], shown: tuple[str, ...]) -> None:
    lines = ["# written by `grade release`: a student release (grader/course/edition.py)", "student = true",
             f"shown = {json.dumps(list(shown))}   # the visibilities students' runs run", ""]
    for lab, (checks, points) in withheld.items():
        lines += [f"[withheld.{lab}]", f"checks = {checks}", f"points = {points}", ""]
    path.write_text("\n".join(lines))


def _dependencies() -> tuple[str, list[str]]:
    """This grader's version and its dependencies (not the instructors' extras)."""
    try:
        return metadata.version("grade"), [r for r in metadata.requires("grade") or [] if "extra ==" not in r]
    except metadata.PackageNotFoundError:
        return "0", list(FALLBACK_DEPENDENCIES)


def _pinned(requires: list[str]) -> list[str]:
    """Hypothesis pinned to the version the expected values were recorded with: another
    version draws other examples, which the store does not hold (replay refuses it)."""
    pinned = f"hypothesis=={metadata.version('hypothesis')}"
    return [pinned if r.replace(" ", "").lower().startswith("hypothesis") else r for r in requires]


def _pyproject(labs: list[Lab]) -> str:
    version, requires = _dependencies()
    requires = _pinned(requires)
    listed = "".join(f"    {json.dumps(r)},\n" for r in requires)   # a marker's quotes escaped: valid TOML
    return f'''[build-system]
requires = ["setuptools>=68"]
build-backend = "setuptools.build_meta"

[project]
name = "grade"
version = "{version}"
description = "grade for students: the public checks of {', '.join(lab.name for lab in labs)}, with their expected values"
readme = "README.md"
requires-python = ">=3.10"
dependencies = [
{listed}]

[project.scripts]
grade = "grader.cli:main"

[tool.setuptools.packages.find]
where = ["src"]

[tool.setuptools.package-data]
"*" = ["*", "**/*"]
'''


README = """# {title}

Your assignments are in `assignments/`: write your code in the files there
({files}). `grade` checks them on your machine, offline.

## Install (once)

```bash
pip install torch --index-url https://download.pytorch.org/whl/cpu   # only without an NVIDIA GPU (not on macOS)
pip install .                                   # from this folder
pip install --no-index --no-build-isolation .   # offline, when torch, librosa ... are installed already
```

Elsewhere (Colab, another machine): `pip wheel --no-deps . -w dist` here, then
`pip install dist/grade-*.whl` there; `grade lab4 --submission FILE` then works
from any folder.

## Grade your work

```bash
grade {first}                  # in this folder: grades assignments/{first}/{first_file}
grade {first} -k NAME          # only the checks about one function
grade {first} --submission my_{first_file}   # another file, or a notebook (.ipynb)
grade list                     # the labs and their points
```

In a notebook (Jupyter, VS Code, Colab, once `grade` is installed there):

```python
import grader
grader.check("{first}")     # the lab's functions as this notebook defines them now
grader.export("{first}")    # {first_file} from the saved notebook, graded: hand in that file
```

The report lists each function of the lab with its points; under it, the
checks that fail, then one panel per mistake: where it happened in your
code, the input, what was expected and what your code gave, and a hint.
Checks that need a CUDA GPU are skipped without one and left out of the
maximum. Your code runs in a sandbox: it cannot see your other files or the
network.

This is the public part of the grading. {withheld}Your instructor grades your
final hand-in with the full grader, so your score here is what the public
checks give, not necessarily your final grade.
"""


def _readme(labs: list[Lab], withheld: dict[str, tuple[int, float]]) -> str:
    held = {lab: w for lab, w in withheld.items() if w[0]}
    more = ("Some checks are graded only by your instructor ("
            + ", ".join(f"{lab}: {checks} worth {points:g} points" for lab, (checks, points) in held.items())
            + "); the report says how many. ") if held else ""
    return README.format(title="Course assignments: " + ", ".join(f"{lab.name} ({lab.title})" for lab in labs),
                         files=", ".join(f"`{lab.name}/{lab.filename}`" for lab in labs), first=labs[0].name,
                         first_file=labs[0].filename, withheld=more)


# ------------------------------------------------------------------ what the command says
def summary(release: Release) -> str:
    """What was written: the students' files one by one, the package in a line, the total."""
    lines = [f"{release.out}: student release of {', '.join(release.labs)}"]
    package = [f for f in release.files if f.parts[0] == "src"]
    for f in release.files:
        if f.parts[0] != "src":
            lines.append(f"  {f}  ({_size((release.out / f).stat().st_size)})")
    lines.append(f"  src/grader/  {len(package)} files ({_size(sum((release.out / f).stat().st_size for f in package))}):"
                 " the engine, the public suites and their recorded expectations")
    left = [f"{lab} {checks} checks ({points:g} points)" for lab, (checks, points) in release.withheld.items() if checks]
    lines.append(f"{len(release.files)} files, {_size(release.size)}; left out (graded by the instructor): "
                 + (", ".join(left) if left else "none"))
    lines.append(f"students: cd {release.out} && pip install . && grade {release.labs[0]}")
    return "\n".join(lines)


def _size(n: int) -> str:
    return f"{n / 2**20:.1f} MiB" if n >= 2**20 else f"{n / 2**10:.1f} KiB" if n >= 2**10 else f"{n} B"
