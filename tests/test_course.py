"""The course as data: labs from lab.toml, the course root found, a missing reference stops the run."""

from __future__ import annotations

import ast
import re
import subprocess
from pathlib import Path

import pytest

from grader.course import folder as courses
from grader.course.labs import LabError, load_lab
from grader.grading.run import grade, list_checks
from grader.errors import SetupError
from tests.helpers import REPO, grade_in_process
from tests.toy_course import LAB, MODULE, make_course


def grade_cli(*args: str, cwd: Path, env: dict | None = None) -> subprocess.CompletedProcess:
    """`grade ARGS` from ``cwd`` (``GRADE_COURSE`` unset, ``env`` added), through the CLI's ``main()`` in this process."""
    return grade_in_process(*args, cwd=cwd, env=env)


# ------------------------------------------------------------------ lab.toml, read as data
def test_a_lab_is_read_from_its_lab_toml(tmp_path):
    lab = courses.find(make_course(tmp_path)).lab(LAB)
    assert (lab.title, lab.module, lab.preload) == ("Toy Addition", MODULE, ("numpy",))
    assert lab.probes == ((tmp_path / "suites" / LAB / "probes.py").resolve(),)
    assert lab.environment == {"TOY_COLOUR": "teal"}
    assert lab.reference_file == tmp_path.resolve() / "reference" / LAB / f"{MODULE}.py"


def test_an_unknown_key_or_a_missing_file_in_lab_toml_is_one_line(tmp_path):
    folder = make_course(tmp_path) / "suites" / LAB
    (folder / "lab.toml").write_text('title = "T"\nmodule = "m"\npreloads = ["numpy"]\n')
    with pytest.raises(LabError, match="unknown keys preloads"):
        load_lab(folder, tmp_path)
    (folder / "lab.toml").write_text('title = "T"\nmodule = "m"\nprobes = ["nowhere.py"]\n')
    with pytest.raises(LabError, match="probes names .*nowhere.py, which does not exist"):
        load_lab(folder, tmp_path)
    (folder / "lab.toml").write_text('title = "T"\nmodule = "m"\nexpected_warnings = ["(unclosed"]\n')
    with pytest.raises(LabError, match="expected_warnings .* is not a regular expression"):
        load_lab(folder, tmp_path)
    (folder / "lab.toml").write_text('title = "T"\nmodule = "m"\nexpected_warnings = ["n_fft=.* too large"]\n')
    assert load_lab(folder, tmp_path).expected_warnings == ("n_fft=.* too large",)


def test_the_builtin_labs_are_all_described_as_data():
    names = [lab.name for lab in courses.find(REPO).labs()]
    assert names == ["lab1", "lab2", "lab3", "lab4", "lab5"]


def code_words(path: Path) -> set[str]:
    """Names and string constants of a module's code (docstrings and comments left out)."""
    tree = ast.parse(path.read_text())
    docstrings = {id(node.body[0].value) for node in ast.walk(tree)
                  if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef)) and node.body
                  and isinstance(node.body[0], ast.Expr) and isinstance(node.body[0].value, ast.Constant)}
    words = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docstrings:
            words.add(node.value)
        elif isinstance(node, (ast.Name, ast.alias, ast.Attribute)):
            words.add(getattr(node, "id", None) or getattr(node, "name", None) or node.attr)
    return words


WORKER_ENGINE = ["grading/run.py", "course/labs.py", "course/folder.py", "grading/plugin.py", "course/stub.py",
                 "isolation/inside/worker.py", "isolation/spec.py", "isolation/cache.py", "isolation/launchers.py",
                 "isolation/namespaces.py", "isolation/template.py", "isolation/inside/zygote.py"]


@pytest.mark.parametrize("name", WORKER_ENGINE)
def test_the_engine_knows_no_lab_and_no_lab_library(name):
    words = " ".join(code_words(REPO / "grader" / name))
    assert not re.search(r"lab\d|librosa|numba|matplotlib|probes_lab|COURSE_ROOT", words), name


# ------------------------------------------------------------------ where the course is
def test_the_course_root_comes_from_the_option_then_the_environment_then_the_folder(tmp_path, monkeypatch):
    given, env, here = (make_course(tmp_path / name) for name in ("given", "env", "here"))
    monkeypatch.chdir(here)
    monkeypatch.setenv(courses.ENVIRONMENT, str(env))
    assert courses.find_root(given) == given.resolve()
    assert courses.find_root() == env.resolve()
    monkeypatch.delenv(courses.ENVIRONMENT)
    assert courses.find_root() == here.resolve()
    monkeypatch.chdir(tmp_path)  # not a course: the source checkout
    assert courses.find_root() == REPO


def test_a_course_folder_that_does_not_exist_is_one_line(tmp_path):
    with pytest.raises(SetupError, match="does not exist"):
        grade(LAB, course=tmp_path / "nowhere")


# ------------------------------------------------------------------ grading the toy course
@pytest.mark.slow   # two gradings, each running the toy reference live: 17 s on a quiet machine
def test_the_toy_course_grades_its_reference_full_and_its_stub_zero(tmp_path):
    course = make_course(tmp_path)
    assert [c.name for c in list_checks(LAB, course)] == ["test_add"]
    full = grade(LAB, reference=True, course=course)
    assert (full.score, full.max_score) == (2, 2), [c.feedback for c in full.checks]
    stub = grade(LAB, course=course)
    assert (stub.score, stub.max_score) == (0, 2)


def test_a_missing_reference_stops_before_grading(tmp_path):
    course = make_course(tmp_path, reference=False)
    with pytest.raises(SetupError, match=f"{LAB}'s reference solution is missing: .*reference/{LAB}/{MODULE}.py"):
        grade(LAB, course=course)
    run = grade_cli(LAB, "--course", str(course), cwd=tmp_path)
    assert run.returncode == 2 and run.stdout == ""
    assert run.stderr.count("\n") == 1 and "reference solution is missing" in run.stderr, run.stderr


def test_the_cli_grades_a_course_given_by_option_or_environment_from_another_folder(tmp_path):
    course = make_course(tmp_path / "course")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    by_option = grade_cli(LAB, "--reference", "--course", str(course), "--format", "json", cwd=elsewhere)
    assert by_option.returncode == 0, by_option.stderr
    assert '"score": 2' in by_option.stdout
    by_env = grade_cli(LAB, "--format", "json", cwd=elsewhere, env={courses.ENVIRONMENT: str(course)})
    assert by_env.returncode == 1 and '"score": 0' in by_env.stdout, by_env.stderr
