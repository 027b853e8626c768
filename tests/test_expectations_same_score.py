"""Same score both ways: grading from recorded expected values gives, check by check, what grading live gives.

For every lab, the store is recorded once (``record_lab``: the reference and the stub), then the
reference, the stub and every broken submission of the project's tests are graded live and again
replaying that store (no reference module runs).  Broken submissions stop checks early, fail
hypothesis examples half way and take other paths through the suites: each must find every
reference call it makes in the store.  The buggy files are the ones tests/test_labs123_mistakes.py,
tests/test_labs45_mistakes.py and tests/submissions.py define (graded with the same ``-k`` their own tests use, to keep this
within minutes); tests/hostile grade a suite of their own, not a lab's.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from grader.grading import reference as E
from grader.grading import store as S
from grader.instructor import recording
from grader.course.folder import find_lab
from grader.grading.run import grade
from tests import submissions
from tests.test_labs123_mistakes import VARIANTS as LAB123_VARIANTS
from tests.test_labs45_mistakes import VARIANTS as LAB45_VARIANTS

pytestmark = pytest.mark.slow


VARIANTS = {**LAB123_VARIANTS, **LAB45_VARIANTS}


def _variant(name: str):
    variant = VARIANTS[name]
    return variant.lab, lambda: find_lab(variant.lab).reference_file.read_text() + "\n" + variant.code, variant.keyword


CASES = {
    **{f"{lab} reference": (lab, "reference", None) for lab in ("lab1", "lab2", "lab3", "lab4", "lab5")},
    **{f"{lab} stub": (lab, "stub", None) for lab in ("lab1", "lab2", "lab3", "lab4", "lab5")},
    **{name: _variant(name) for name in VARIANTS},
    "lab4 hard-coded cuda": ("lab4", submissions.lab4_hard_coded_cuda, None),
    "lab4 noisy to_numpy": ("lab4", submissions.lab4_noisy_to_numpy, "to_numpy or to_device"),
    "lab4 syntax error": ("lab4", submissions.lab4_syntax_error, "numpy_to_tensor or select_device"),
    "lab4 endless loop": ("lab4", submissions.lab4_endless_loop_everywhere, "numpy_to_tensor"),
    "lab5 without skip connections": ("lab5", submissions.lab5_without_skip_connections, None),
    "lab5 skip in wrong order": ("lab5", submissions.lab5_skip_in_wrong_order, "forward or train_step or separate"),
}


@pytest.fixture(scope="module")
def stores(tmp_path_factory):
    """Each lab's store, recorded once for all its cases."""
    recorded: dict[str, S.Store] = {}

    def store(lab: str) -> S.Store:
        if lab not in recorded:
            folder = recording.record_lab(find_lab(lab), tmp_path_factory.mktemp(f"{lab}-expected"))
            recorded[lab] = S.Store.load(folder)
        return recorded[lab]
    return store


def outcomes(result) -> list[tuple]:
    return [(c.name, c.status, c.score, c.points, c.feedback.summary if c.feedback else None, c.feedback.rows if c.feedback else None)
            for c in result.checks]


@pytest.mark.parametrize("case", CASES)
def test_replaying_the_store_grades_like_the_reference_itself(case, stores, tmp_path):
    lab_name, source, keyword = CASES[case]
    lab = find_lab(lab_name)
    options = {"keyword": keyword, "call_timeout": 1.0 if "endless" in case else 10.0}
    if source == "reference":
        options["reference"] = True
    elif source == "stub":
        options["submission"] = lab.assignment_file()
    else:
        options["submission"] = Path(tmp_path / lab.filename)
        options["submission"].write_text(source())
    options["student"] = True   # the public part: what a release grades
    live = grade(lab_name, **options, reach=E.Live())
    replayed = grade(lab_name, **options, reach=E.Replay(stores(lab_name)))
    assert live.checks, case
    assert outcomes(replayed) == outcomes(live)
    assert (replayed.score, replayed.max_score) == (live.score, live.max_score)
    if source == "reference":
        assert live.score == live.max_score
