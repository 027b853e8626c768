"""Recording a lab's expected values for a release: the reference graded, every call it answers stored.

The release ships the store instead of the reference (:mod:`grader.grading.reference` replays it).
"""

from __future__ import annotations

from pathlib import Path

from grader.course.labs import Lab
from grader.errors import SetupError
from grader.grading.reference import Record
from grader.course import find_lab
from grader.grading.run import grade
from grader.grading.store import Store


def record_lab(lab: Lab, out: Path, submissions: tuple[Path, ...] = ()) -> Path:
    """Grade ``lab``'s reference (and its stub, and ``submissions``) recording every reference call; write ``out``.

    Student-facing runs (visible checks only: hidden checks leave no trace in the store);
    checks that need CUDA run too, for their reference side.  The reference alone makes
    every call a passing run makes; other submissions make a subset of them (the reference
    is called with the suite's inputs, never with a student's answer), which the stub's run
    shows on the way.  ``lab.suite_dir`` must be the suite that ships with the store.
    """
    found = find_lab(lab.name, lab.course)
    if found.suite_dir.resolve() != lab.suite_dir.resolve():
        raise SetupError(f"{lab.name}: the course at {lab.course} grades with {found.suite_dir}, "
                         f"not {lab.suite_dir}: record from the suite that ships")
    store = Store.new(lab)
    recording = Record(store)
    grade(lab.name, reference=True, course=lab.course, student=True, reach=recording)
    stub = lab.assignment_file()
    for submission in ((stub,) if stub.is_file() else ()) + tuple(submissions):
        grade(lab.name, submission, course=lab.course, student=True, reach=recording)
    return store.save(out)
