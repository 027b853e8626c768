"""Gradescope: build an autograder zip for one lab, and run it there.

``grade gradescope LAB --out autograder.zip`` writes the zip Gradescope asks
for: ``setup.sh`` (the pinned dependencies, CPU torch, bubblewrap) and
``run_autograder`` at its root, this grader under ``source/grader`` and the
lab's part of the course (reference, stub, and the lab's own suite if the
course has one) under ``source/course``.  On Gradescope, ``run_autograder``
runs ``python -m grader.instructor.gradescope run LAB``: the same grading run and worker
as ``grade``, on ``/autograder/submission``, and this trusted process alone
writes ``/autograder/results/results.json`` (the worker sees neither folder).
``GRADESCOPE_ROOT`` moves ``/autograder`` (for tests).

The results follow Gradescope's specification (grader/feedback/gradescope.py):
each check a test with ``status`` passed or failed, its title as ``name``,
``score``/``max_score``, the feedback as ``output``, and its ``visibility``,
in the lab's order; checks skipped here (no CUDA) are left out of the tests
and said in the top-level ``output``.
"""

from __future__ import annotations

import json
import os
import re
import sys
import time
import zipfile
from importlib import metadata
from pathlib import Path

from grader.course import find
from grader.course.labs import BUILTIN_SUITES
from grader.errors import SetupError
from grader.feedback.gradescope import failure, results
from grader.grading.run import grade
from grader.instructor.batch.layouts import LayoutError, handed_in

ROOT_ENVIRONMENT = "GRADESCOPE_ROOT"
FALLBACK_DEPENDENCIES = ("torch", "numpy", "librosa", "soundfile", "scipy", "matplotlib", "mir_eval", "pytest",
                         "hypothesis", "rich", "nbformat")

RUN_AUTOGRADER = """#!/usr/bin/env bash
# Gradescope runs this for each submission: grade it, write results/results.json (grader side only).
set -uo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
cd "$HERE"
export PYTHONPATH="$HERE/source" GRADE_COURSE="$HERE/source/course"
exec "${{GRADE_PYTHON:-python3}}" -m grader.instructor.gradescope run {lab}
"""

SETUP = """#!/usr/bin/env bash
# Gradescope runs this once, when the autograder image is built: pinned versions, CPU torch.
set -euo pipefail
apt-get update -qq && apt-get install -y -qq bubblewrap python3-pip
python3 -m pip install --index-url https://download.pytorch.org/whl/cpu "torch=={torch}"
python3 -m pip install {pinned}
"""


# ------------------------------------------------------------------ building the zip
def pinned_dependencies() -> dict[str, str]:
    """The grader's own dependencies at the versions installed here ({name: version})."""
    try:
        names = [re.match(r"[A-Za-z0-9_.-]+", r).group(0) for r in metadata.requires("grade") or []
                 if "extra ==" not in r]
    except metadata.PackageNotFoundError:
        names = list(FALLBACK_DEPENDENCIES)
    pinned = {}
    for name in names:
        try:
            pinned[name] = metadata.version(name).split("+")[0]   # 2.13.0+cpu: the index says cpu
        except metadata.PackageNotFoundError:
            pass
    return pinned


def setup_script() -> str:
    pins = pinned_dependencies()
    torch = pins.pop("torch", "")
    return SETUP.format(torch=torch, pinned=" ".join(f'"{n}=={v}"' for n, v in sorted(pins.items())))


def build(lab_name: str, out: Path, course: Path | None = None) -> list[str]:
    """Write the autograder zip for ``lab_name`` to ``out``; the names it holds.
    Raises grader.errors.SetupError when the lab or its reference cannot be found."""
    found = find(course)
    lab = found.lab(lab_name)
    if found.missing_reference(lab):
        raise SetupError(found.missing_reference(lab))
    files: dict[str, Path] = {}
    package = BUILTIN_SUITES.parent
    for path in package.rglob("*"):
        if path.is_file() and "__pycache__" not in path.parts and path.suffix != ".pyc":
            files[f"source/grader/{path.relative_to(package)}"] = path
    for part in (f"reference/{lab.name}", f"assignments/{lab.name}"):
        folder = found.root / part
        for path in sorted(folder.rglob("*")) if folder.is_dir() else []:
            if path.is_file() and "__pycache__" not in path.parts:
                files[f"source/course/{path.relative_to(found.root)}"] = path
    if not lab.suite_dir.resolve().is_relative_to(package):   # the course's own suite
        for path in [*lab.suite_dir.rglob("*"), lab.suite_dir.parent / "course.toml"]:
            if path.is_file() and "__pycache__" not in path.parts:
                files[f"source/course/suites/{path.relative_to(lab.suite_dir.parent)}"] = path
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, text in (("run_autograder", RUN_AUTOGRADER.format(lab=lab.name)), ("setup.sh", setup_script())):
            info = zipfile.ZipInfo(name, date_time=(2020, 1, 1, 0, 0, 0))
            info.external_attr = 0o100755 << 16
            archive.writestr(info, text)
        for name, path in sorted(files.items()):
            archive.write(path, name)
    return ["run_autograder", "setup.sh", *sorted(files)]


def run(lab_name: str, root: Path) -> int:
    """Grade ``root/submission`` and write ``root/results/results.json``.

    The file graded is chosen in the uploaded folder as ``grade batch`` chooses it in a student's
    folder (:func:`grader.instructor.batch.layouts.handed_in`: a folder around it, a renamed copy, never
    a link), and the results say which file that was."""
    started = time.perf_counter()
    try:
        chosen, notes = handed_in(find().lab(lab_name), root / "submission")
        result = grade(lab_name, chosen, student=False)
        result.notes[:0] = notes
        data = results(result)
    except (LayoutError, SetupError) as exc:
        data = failure(f"could not grade this submission: {exc}", started)
    target = root / "results" / "results.json"
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_suffix(".json.partial")
    partial.write_text(json.dumps(data, indent=1), encoding="utf-8")
    os.replace(partial, target)
    return 0


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if len(argv) != 2 or argv[0] != "run":
        print("usage: python -m grader.instructor.gradescope run LAB", file=sys.stderr)
        return 2
    return run(argv[1], Path(os.environ.get(ROOT_ENVIRONMENT) or "/autograder"))


if __name__ == "__main__":
    sys.exit(main())
