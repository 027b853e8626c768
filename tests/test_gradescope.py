"""The Gradescope autograder: built for a toy course, unpacked, run against a fake /autograder."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import jsonschema
import pytest

from grader.feedback.gradescope import results
from grader.results import CheckResult, GradeResult
from tests.test_course import grade_cli
from tests.helpers import SANDBOX
from tests.toy_course import LAB, MODULE, WITH_HIDDEN, make_course

# Gradescope's documented results.json (https://gradescope-autograders.readthedocs.io/en/latest/specs/)
VISIBILITY = {"enum": ["hidden", "after_due_date", "after_published", "visible"]}
FORMAT = {"enum": ["text", "html", "simple_format", "md", "ansi"]}
SCHEMA = {
    "type": "object",
    "required": ["tests"],
    "properties": {
        "score": {"type": "number"},
        "execution_time": {"type": "number"},
        "output": {"type": "string"},
        "output_format": FORMAT,
        "visibility": VISIBILITY,
        "stdout_visibility": VISIBILITY,
        "tests": {"type": "array", "items": {
            "type": "object",
            "required": ["score", "max_score", "status", "name"],
            "additionalProperties": False,
            "properties": {
                "score": {"type": "number"}, "max_score": {"type": "number"},
                "status": {"enum": ["passed", "failed"]},
                "name": {"type": "string"}, "name_format": FORMAT, "number": {"type": "string"},
                "output": {"type": "string"}, "output_format": FORMAT,
                "tags": {"type": "array", "items": {"type": "string"}}, "visibility": VISIBILITY,
            }}},
    },
}

PARTLY_RIGHT = '''
for target in ("{results}", "{results}.planted"):  # the submission cannot write there: the grader alone does
    try:
        with open(target, "w") as handle:
            handle.write('{{"score": 1000, "tests": []}}')
    except OSError:
        pass


def add(a, b):
    """Right for whole numbers only."""
    return int(a) + int(b)
'''


def test_skipped_checks_are_left_out_and_said():
    result = GradeResult(lab=LAB, title="Toy", submission="s.py", checks=[
        CheckResult(name="test_a", title="a works", points=2, status="passed", score=2, function="a"),
        CheckResult(name="test_b", title="b on CUDA", points=3, status="skipped", skip_reason="needs a CUDA GPU")])
    data = results(result)
    jsonschema.validate(data, SCHEMA)
    assert [t["name"] for t in data["tests"]] == ["a works"]
    assert "1 check (3 points) skipped: needs a CUDA GPU; not counted" in data["output"]


@pytest.fixture
def autograder(tmp_path) -> Path:
    course = make_course(tmp_path / "course", suite=WITH_HIDDEN)
    built = grade_cli("gradescope", LAB, "--out", str(tmp_path / "autograder.zip"), "--course", str(course),
                      cwd=tmp_path)
    assert built.returncode == 0, built.stderr
    root = tmp_path / "autograder"
    with zipfile.ZipFile(tmp_path / "autograder.zip") as archive:
        archive.extractall(root / "source")
        names = archive.namelist()
    assert {"run_autograder", "setup.sh"} <= set(names)
    assert f"source/course/reference/{LAB}/{MODULE}.py" in names and f"source/course/suites/{LAB}/lab.toml" in names
    (root / "source" / "run_autograder").chmod(0o755)
    return root


def test_run_autograder_grades_the_submission_and_writes_valid_results(autograder):
    results_file = autograder / "results" / "results.json"
    results_file.parent.mkdir()
    (autograder / "submission").mkdir()
    (autograder / "submission" / f"{MODULE}.py").write_text(PARTLY_RIGHT.format(results=results_file))
    env = {k: v for k, v in os.environ.items() if k not in ("GRADE_COURSE", "PYTHONPATH")}
    env.update({"GRADESCOPE_ROOT": str(autograder), "GRADE_PYTHON": sys.executable})
    run = subprocess.run([str(autograder / "source" / "run_autograder")], env=env, cwd=autograder,
                         capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr
    data = json.loads(results_file.read_text())
    jsonschema.validate(data, SCHEMA)
    tests = {t["name"]: (t["status"], t["score"], t["max_score"], t["visibility"]) for t in data["tests"]}
    assert tests == {"add sums two numbers": ("passed", 2, 2, "visible"),
                     "add handles negative numbers": ("passed", 3, 3, "hidden"),
                     "add handles floats": ("failed", 0, 1, "after_due_date")}
    assert data["score"] == 5
    assert not Path(f"{results_file}.planted").exists()  # the worker could not write into results/
    failed = next(t for t in data["tests"] if t["status"] == "failed")
    assert "add(0.5, 0.25) is wrong" in failed["output"]


def test_run_autograder_without_the_file_gives_zero_and_says_why(autograder):
    (autograder / "submission").mkdir()
    env = {k: v for k, v in os.environ.items() if k not in ("GRADE_COURSE", "PYTHONPATH")}
    env.update({"GRADESCOPE_ROOT": str(autograder), "GRADE_PYTHON": sys.executable})
    subprocess.run([str(autograder / "source" / "run_autograder")], env=env, check=True, timeout=300)
    data = json.loads((autograder / "results" / "results.json").read_text())
    jsonschema.validate(data, SCHEMA)
    assert data["score"] == 0 and f"no {MODULE}.py (found: nothing)" in data["output"], data["output"]


# ------------------------------------------------------------------ links and the reference (issue 20, item 7)
READS_THE_REFERENCE = '''
try:
    exec(open("{reference}").read())      # the autograder's own copy of the reference, by its path
except OSError:
    def add(a, b):
        return None
'''


def run_autograder(autograder: Path) -> dict:
    env = {k: v for k, v in os.environ.items() if k not in ("GRADE_COURSE", "PYTHONPATH")}
    env.update({"GRADESCOPE_ROOT": str(autograder), "GRADE_PYTHON": sys.executable})
    subprocess.run([str(autograder / "source" / "run_autograder")], env=env, check=True, timeout=300,
                   capture_output=True)
    data = json.loads((autograder / "results" / "results.json").read_text())
    jsonschema.validate(data, SCHEMA)
    return data


def test_a_link_to_the_autograders_reference_is_refused(autograder):
    reference = autograder / "source" / "course" / "reference" / LAB / f"{MODULE}.py"
    (autograder / "submission").mkdir()
    os.symlink(reference, autograder / "submission" / f"{MODULE}.py")
    data = run_autograder(autograder)
    assert data["score"] == 0 and data["tests"] == []
    assert "symbolic link" in data["output"], data["output"]


@pytest.mark.skipif(SANDBOX == "none", reason="grading here runs unconfined: the worker can read anything")
def test_the_reference_cannot_be_read_where_the_submission_runs(autograder):
    reference = autograder / "source" / "course" / "reference" / LAB / f"{MODULE}.py"
    (autograder / "submission").mkdir()
    (autograder / "submission" / f"{MODULE}.py").write_text(READS_THE_REFERENCE.format(reference=reference))
    data = run_autograder(autograder)
    assert data["score"] == 0, data
