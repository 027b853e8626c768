"""``grade release``: the student course holds the stubs, the public checks and their expected
values, and nothing of the solutions or of the checks students do not see.

Recording the expected values is grader/grading/reference.py's (its own tests); here a fake
recorder stands in where only the packaging is tested.  The slow tests build the real
course's release, scan it and its wheel, install it in a fresh virtual environment and grade
Lab 4 in it from outside this checkout.
"""

from __future__ import annotations

import ast
import io
import os
import shutil
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

import pytest

from grader.course import labs
from grader.course.labs import tomllib
from grader.instructor import public_suite
from grader.instructor import release
from grader.course import find
from grader.grading.run import collect, grade, list_checks
from tests.helpers import REPO, venv_seeing_this_environment
from tests.test_course import grade_cli
from tests.test_hints import reference_lines, squeeze
from tests.toy_course import LAB, MODULE, WITH_HIDDEN, make_course

SUITE = WITH_HIDDEN + '''

SECRET_CASES = [(-20, -50), (10 ** 6, 17)]


def secret_pairs():
    return SECRET_CASES


@pytest.mark.points(2)
@pytest.mark.visibility("hidden")
def test_add_secret_cases(submission, reference):
    """add agrees with the instructor on the instructor's cases"""
    for a, b in secret_pairs():
        expect(submission.add(a, b) == reference.add(a, b), "add is wrong on a case", function="add")


@pytest.mark.points(1)
@pytest.mark.side_of("test_add_secret_cases")
def test_add_returns_an_int(submission):
    """add returns an int for two ints"""
    expect(isinstance(submission.add(1, 2), int), "add(1, 2) is not an int", function="add")


@pytest.mark.points(1)
@pytest.mark.builds_on("test_add", "test_add_negatives")
def test_add_zero(submission, reference):
    """add(0, 0) is 0"""
    expect(submission.add(0, 0) == reference.add(0, 0), "add(0, 0) is wrong", function="add")
'''
REFERENCE = '''
def add(a, b):
    """The sum of a and b."""
    total_of_both = type(a + b)(sum((a, b)))
    return total_of_both
'''
HIDDEN = ["test_add_negatives", "test_add_floats", "test_add_secret_cases", "test_add_returns_an_int"]


def toy_course(root: Path) -> Path:
    course = make_course(root, suite=SUITE)
    (course / "reference" / LAB / f"{MODULE}.py").write_text(REFERENCE)
    return course


class FakeRecorder:
    """Stands in for grader.grading.reference.record_lab: writes a store, remembers what it was asked."""

    def __init__(self) -> None:
        self.calls: list[tuple] = []

    def __call__(self, lab, store: Path) -> None:
        self.calls.append((lab.suite_dir.resolve(), store, sorted(p.name for p in lab.suite_dir.iterdir()),
                           lab.reference_file.is_file()))
        store.mkdir()
        (store / "index.json").write_text('{"calls": {}}')


def recorder() -> object:
    """The real recorder when this grader has one (after s2-record's merge), else the fake."""
    try:
        import grader.instructor.recording  # noqa: F401
        return release.record
    except ImportError:
        return FakeRecorder()


# ------------------------------------------------------------------ what may not leak
# Lines of a solution that public code also holds for reasons of its own, each with the reason.
IDIOMS = {
    "return audio.astype(np.float32)": "Lab 1's suite makes its float32 test audio so; Lab 3's reference "
                                       "converts integer samples with the same line",
}


def solution_lines(course: Path) -> dict[str, set[str]]:
    """Per reference file: its one-line statements that carry the answer (tests/test_hints.py's notion),
    less those the stub gives away itself and the IDIOMS."""
    found = {}
    for ref in sorted((course / "reference").glob("*/*.py")):
        stub = course / "assignments" / ref.parent.name / ref.name
        given = squeeze(stub.read_text()) if stub.is_file() else ""
        found[str(ref.relative_to(course))] = {line for line in reference_lines(ref.read_text())
                                               if squeeze(line) not in given and line not in IDIOMS}
    return found


def hidden_check_texts(labs: list[str], course: Path | None) -> dict[str, set[str]]:
    """Per hidden check (what a student-facing run withholds): its name, and the lines of its source
    (and of the helpers only it uses) that the public part of its file does not also hold."""
    from grader.grading.run import collect
    from grader.course.folder import find

    found: dict[str, set[str]] = {}
    for lab in labs:
        lab_obj = find(course).lab(lab)
        withheld = {c.name.partition("[")[0] for c in collect(lab_obj, student=True).withheld}
        stripped = public_suite.strip_lab(lab_obj.suite_dir)
        for path in sorted(lab_obj.suite_dir.glob("*.py")):
            text = path.read_text()
            public = squeeze(stripped.texts[path.name])
            for node in ast.parse(text).body:
                if getattr(node, "name", None) in withheld:
                    lines = {line.strip() for line in (ast.get_source_segment(text, node) or "").splitlines()}
                    found[node.name] = {node.name} | {line for line in lines if len(squeeze(line)) >= 12
                                                      and squeeze(line) not in public}
    return found


def leaks(texts: dict[str, str], secrets: dict[str, set[str]]) -> list[str]:
    squeezed = {name: squeeze(text) for name, text in texts.items()}
    return [f"{owner}: {line!r} in {name}" for owner, lines in secrets.items() for line in lines
            for name, text in squeezed.items() if squeeze(line) in text]


def release_texts(out: Path) -> dict[str, str]:
    return {str(p.relative_to(out)): p.read_bytes().decode("utf-8", "replace") for p in out.rglob("*") if p.is_file()}


def wheel_texts(wheel: Path) -> dict[str, str]:
    with zipfile.ZipFile(wheel) as archive:
        return {name: archive.read(name).decode("utf-8", "replace") for name in archive.namelist()}


# ------------------------------------------------------------------ stripping (fast, no grading)
def test_stripping_leaves_out_hidden_checks_their_side_checks_and_what_only_they_use(tmp_path):
    course = toy_course(tmp_path)
    (suite,) = (course / "suites" / LAB).glob("test_*.py")
    stripped = public_suite.strip_lab(suite.parent)
    text = stripped.texts[suite.name]
    assert stripped.removed == sorted(HIDDEN)
    tree = ast.parse(text)
    assert [n.name for n in tree.body if isinstance(n, ast.FunctionDef)] == ["test_add", "test_add_zero"]
    assert "SECRET_CASES" not in text and "secret_pairs" not in text            # used only by a hidden check
    assert "from grader.checks import expect, run_probe" in text                 # used by kept checks: kept
    assert "@pytest.mark.builds_on('test_add')" in text                          # the hidden name dropped
    assert stripped.texts["probes.py"] == (suite.parent / "probes.py").read_text()   # untouched file: same text


def test_stripping_keeps_comments_and_cuts_the_ones_above_a_hidden_check(tmp_path):
    folder = tmp_path / "lab"
    folder.mkdir()
    (folder / "test_a.py").write_text(
        "import pytest\n\n# public: a comment students may read\n\n\n@pytest.mark.points(1)\n"
        "def test_public():\n    pass  # kept\n\n\n# why the instructor checks this\n@pytest.mark.points(1)\n"
        "@pytest.mark.visibility('after_published')\ndef test_secret():\n    pass\n")
    text = public_suite.strip_lab(folder).texts["test_a.py"]
    assert "# public: a comment students may read" in text and "pass  # kept" in text
    assert "instructor" not in text and "test_secret" not in text


def test_a_hidden_module_is_left_out_and_a_marker_that_cannot_be_placed_stops_the_release(tmp_path):
    folder = tmp_path / "lab"
    folder.mkdir()
    (folder / "test_hidden.py").write_text(
        "import pytest\npytestmark = pytest.mark.visibility('hidden')\n\n\n@pytest.mark.points(1)\n"
        "def test_x():\n    pass\n")
    assert public_suite.strip_lab(folder).texts["test_hidden.py"] == ""
    (folder / "test_param.py").write_text(
        "import pytest\n\n\n@pytest.mark.points(1)\n@pytest.mark.parametrize('n', "
        "[1, pytest.param(2, marks=pytest.mark.visibility('hidden'))])\ndef test_y(n):\n    pass\n")
    with pytest.raises(public_suite.StripError, match="test_param.py: a visibility marker the release cannot strip"):
        public_suite.strip_lab(folder)


# ------------------------------------------------------------------ a side check of a hidden check
def test_a_student_run_withholds_a_side_check_of_a_hidden_check(tmp_path):
    course = toy_course(tmp_path)
    student = grade(LAB, reference=True, course=course, student=True)
    assert sorted(c.name for c in student.checks) == ["test_add", "test_add_zero"]
    assert (student.score, student.max_score) == (3, 3)
    assert (student.withheld_checks, student.withheld_points) == (4, 7)          # 3 + 1 + 2 + the side check's 1
    instructor = grade(LAB, reference=True, course=course, student=False)
    assert (instructor.score, instructor.max_score, instructor.withheld_checks) == (10, 10, 0)


# ------------------------------------------------------------------ the release of a toy course
def test_the_toy_release_holds_the_public_course_and_nothing_hidden(tmp_path, monkeypatch):
    course = toy_course(tmp_path / "course")
    fake = FakeRecorder()
    monkeypatch.setattr(release, "record", fake)
    built = release.build([LAB], tmp_path / "out", course=course)
    out = built.out
    (suite,) = (course / "suites" / LAB).glob("test_*.py")
    assert {"README.md", "pyproject.toml", f"assignments/{LAB}/{MODULE}.py", "src/grader/cli.py",
            f"src/grader/bundled_course/assignments/{LAB}/{MODULE}.py", f"src/grader/suites/{LAB}/{suite.name}",
            f"src/grader/suites/{LAB}/expected/index.json", "src/grader/suites/release.toml"} <= \
        {str(f) for f in built.files}
    assert not [f for f in built.files if f.parts[:2] == ("src", "grader") and f.parts[2] == release.INSTRUCTOR]
    assert not any("reference" in f.parts for f in built.files)
    assert (out / "assignments" / LAB / f"{MODULE}.py").read_text() == (course / "assignments" / LAB /
                                                                        f"{MODULE}.py").read_text()
    assert built.withheld == {LAB: (4, 7)}
    assert 'expectations = "expected"' in (out / "src/grader/suites" / LAB / "lab.toml").read_text()
    # the examples replayed are hypothesis's of the recording version: the release pins it
    from importlib import metadata
    assert f'"hypothesis=={metadata.version("hypothesis")}"' in (out / "pyproject.toml").read_text()
    assert tomllib.loads((out / "pyproject.toml").read_text())["project"]["dependencies"]   # pip can read it
    # recorded from the public copy of the suite, with the course's reference reachable
    ((suite_dir, store, files, reference_found),) = fake.calls
    assert suite_dir.parts[-4:] == ("src", "grader", "suites", LAB) and reference_found   # the public copy
    assert suite.name in files and store.name == "expected"
    found = leaks(release_texts(out), {**solution_lines(course), **hidden_check_texts([LAB], course)})
    assert found == []
    # the scan sees what it looks for: the unstripped suite would be caught
    assert leaks({"suite": suite.read_text()}, hidden_check_texts([LAB], course))
    assert leaks({"ref": REFERENCE}, solution_lines(course))


def test_shipped_data_is_in_the_release_once_and_found_there(tmp_path, monkeypatch):
    """lab.toml's ``ship`` (Lab 5's weights): one copy, in the package the student installs, which
    the installed grader finds wherever it grades from."""
    course = toy_course(tmp_path / "course")
    (course / "reference" / LAB / "weights.bin").write_bytes(b"\x00trained" * 1000)
    toml = course / "suites" / LAB / "lab.toml"
    toml.write_text('ship = ["weights.bin"]\n' + toml.read_text())
    monkeypatch.setattr(release, "record", FakeRecorder())
    built = release.build([LAB], tmp_path / "out", course=course)
    shipped = [f for f in built.files if f.name == "weights.bin"]
    assert shipped == [Path(f"src/grader/bundled_course/assignments/{LAB}/weights.bin")]
    lab = find(course).lab(LAB)
    assert lab.data_file("weights.bin") == course / "reference" / LAB / "weights.bin"
    (course / "reference" / LAB / "weights.bin").unlink()   # a student's course: the installed package's copy
    monkeypatch.setattr(labs, "BUILTIN_SUITES", built.out / "src" / "grader" / "suites")
    assert lab.data_file("weights.bin").read_bytes() == b"\x00trained" * 1000


def test_the_release_line_says_what_it_wrote(tmp_path, monkeypatch):
    monkeypatch.setattr(release, "record", FakeRecorder())
    built = release.build([LAB], tmp_path / "out", course=toy_course(tmp_path / "course"))
    text = release.summary(built)
    assert f"assignments/{LAB}/{MODULE}.py" in text and f"{len(built.files)} files" in text
    assert f"{LAB} 4 checks (7 points)" in text


def test_a_relative_out_records_from_the_public_suite(tmp_path, monkeypatch):
    """`grade release --out ../x` from the course folder: the recording's course (links made in the temp
    folder) once pointed at the release's suites by a relative path, and found no such lab."""
    course = toy_course(tmp_path / "course")
    fake = FakeRecorder()
    monkeypatch.setattr(release, "record", fake)
    monkeypatch.chdir(course)
    built = release.build([LAB], Path("..") / "out", course=course)
    assert built.out == tmp_path / "out" and (tmp_path / "out" / "assignments" / LAB / f"{MODULE}.py").is_file()
    ((suite_dir, _, _, _),) = fake.calls
    assert suite_dir.parts[-4:] == ("src", "grader", "suites", LAB)


# ------------------------------------------------------------------ bad input: one line, exit 2, nothing touched
@pytest.mark.parametrize("case", ["unknown lab", "not empty", "a file", "no reference"])
def test_bad_input_is_one_line_and_touches_nothing(tmp_path, case):
    course = make_course(tmp_path / "course", reference=case != "no reference")
    out = tmp_path / "out"
    if case == "not empty":
        out.mkdir()
        (out / "notes.txt").write_text("mine")
    if case == "a file":
        out.write_text("mine")
    lab = "lab9" if case == "unknown lab" else LAB
    run = grade_cli("release", lab, "--out", str(out), cwd=tmp_path, env={"GRADE_COURSE": str(course)})
    assert run.returncode == 2 and run.stdout == ""
    assert len(run.stderr.strip().splitlines()) == 1 and run.stderr.startswith("grade: error: ")
    expected = {"unknown lab": "unknown lab 'lab9'", "not empty": "is not empty", "a file": "is a file",
                "no reference": "reference solution is missing"}[case]
    assert expected in run.stderr
    if case == "not empty":
        assert [p.name for p in out.iterdir()] == ["notes.txt"] and (out / "notes.txt").read_text() == "mine"
    elif case == "a file":
        assert out.read_text() == "mine"
    else:
        assert not out.exists()
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".out")] == []   # no half-written release


# ------------------------------------------------------------------ the real course (slow)
@pytest.fixture(scope="module")
def real_release(tmp_path_factory):
    """The release of every lab of this course, its wheel, and how long the release took."""
    import time

    out = tmp_path_factory.mktemp("release") / "course"
    saved, release.record = release.record, recorder()
    try:
        started = time.perf_counter()
        built = release.build([], out, course=REPO)
        seconds = time.perf_counter() - started
    finally:
        release.record = saved
    source = tmp_path_factory.mktemp("wheel-source") / "course"
    shutil.copytree(out, source)   # pip builds in the tree: keep the release itself as built
    wheels = tmp_path_factory.mktemp("wheels")
    subprocess.run([sys.executable, "-m", "pip", "wheel", str(source), "--no-deps", "--no-build-isolation",
                    "-q", "-w", str(wheels)], check=True, cwd=wheels, timeout=300)
    (wheel,) = wheels.glob("grade-*.whl")
    return built, wheel, seconds


@pytest.mark.slow
def test_nothing_of_the_solutions_leaks_into_the_real_release_or_its_wheel(real_release):
    built, wheel, _ = real_release
    labs = built.labs
    secrets = {**solution_lines(REPO), **hidden_check_texts(labs, REPO)}
    assert sum(map(len, solution_lines(REPO).values())) > 100   # the scan has something to look for
    assert leaks(release_texts(built.out), secrets) == []
    assert leaks(wheel_texts(wheel), secrets) == []
    names = wheel_texts(wheel)
    assert not [n for n in names if "reference" in n.split("/") or n.endswith("equivalent_mutants.toml")]
    assert [n for n in names if n.endswith("unet_base8.pt")]        # the weights students load do ship
    assert not [n for n in names if n.startswith("grader/instructor/")]


@pytest.fixture(scope="module")
def student_venv(real_release):
    """The release's wheel installed in a fresh venv (this environment's packages for torch etc., offline), outside /tmp:
    the namespace sandbox hides the worker's /tmp."""
    _, wheel, _ = real_release
    home = Path(tempfile.mkdtemp(prefix="grade-release-test-", dir="/var/tmp" if os.path.isdir("/var/tmp") else None))
    venv_seeing_this_environment(home / "venv")
    subprocess.run([home / "venv" / "bin" / "python", "-m", "pip", "install", "-q", "--no-deps", "--no-index",
                    str(wheel)], check=True, timeout=300)
    yield home
    shutil.rmtree(home, ignore_errors=True)


def student_grade(home: Path, *args: str, cwd: Path) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in ("GRADE_COURSE", "PYTHONPATH", "GRADE_STUDENT")}
    return subprocess.run([home / "venv" / "bin" / "grade", *args], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=600)


@pytest.mark.slow
def test_the_installed_release_grades_lab4_offline_reference_full_stub_zero(real_release, student_venv):
    pytest.importorskip("grader.grading.reference", reason="recorded expectations come with s2-record's merge")
    import json

    built, _, _ = real_release
    course = student_venv / "course"          # the release as a student unpacks it, away from this checkout
    shutil.copytree(built.out, course)
    where = subprocess.run([student_venv / "venv" / "bin" / "python", "-c", "import grader; print(grader.__file__)"],
                           cwd=course, capture_output=True, text=True, check=True).stdout
    assert str(student_venv / "venv") in where and str(REPO) not in where
    stub = student_grade(student_venv, "lab4", "--format", "json", cwd=course)
    assert stub.returncode == 1, stub.stderr
    stub_result = json.loads(stub.stdout)
    assert stub_result["score"] == 0 and stub_result["max_score"] > 0
    shutil.copy(REPO / "reference" / "lab4" / "pytorch_basics.py", course / "assignments" / "lab4")
    ref = student_grade(student_venv, "lab4", "--format", "json", cwd=course)
    assert ref.returncode == 0, ref.stderr
    result = json.loads(ref.stdout)
    full = grade("lab4", reference=True, course=REPO, student=True)
    assert (result["score"], result["max_score"]) == (full.score, full.max_score) == (full.max_score, full.max_score)
    assert result["withheld_checks"] == full.withheld_checks
    # from any folder, the installed package is the course (its own stubs; the file given by option)
    elsewhere = student_grade(student_venv, "lab4", "--submission", str(course / "assignments" / "lab4"),
                              "--format", "json", cwd=student_venv)
    assert elsewhere.returncode == 0, elsewhere.stderr
    assert json.loads(elsewhere.stdout)["score"] == full.max_score
    refused = student_grade(student_venv, "batch", "lab4", "x", "--out", "y", cwd=course)
    assert refused.returncode == 2 and "for instructors" in refused.stderr


@pytest.mark.slow
def test_the_toy_release_is_student_facing_and_counts_what_it_left_out(tmp_path):
    pytest.importorskip("grader.grading.reference", reason="recorded expectations come with s2-record's merge")
    import json

    course = toy_course(tmp_path / "course")
    out = release.build([LAB], tmp_path / "out", course=course).out
    env = {k: v for k, v in os.environ.items() if k not in ("GRADE_COURSE", "GRADE_STUDENT")}
    env["PYTHONPATH"] = str(out / "src")      # the release's grader, not this checkout's

    def grade_release(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "grader", LAB, *args], cwd=out, env=env, capture_output=True,
                              text=True, timeout=300)

    stub = json.loads(grade_release("--format", "json").stdout)
    assert (stub["score"], stub["max_score"]) == (0, 3)
    shutil.copy(course / "reference" / LAB / f"{MODULE}.py", out / "assignments" / LAB)
    text = grade_release()
    assert text.returncode == 0, text.stderr
    assert "4 more checks worth 7 points are graded by your instructor" in " ".join(text.stdout.split())
    graded = json.loads(grade_release("--format", "json").stdout)
    full = grade(LAB, reference=True, course=course, student=True)
    assert [t["name"] for t in graded["tests"]] == [c.name for c in full.checks]
    assert (graded["score"], graded["max_score"], graded["withheld_checks"], graded["withheld_points"]) == \
        (full.score, full.max_score, full.withheld_checks, full.withheld_points) == (3, 3, 4, 7)


@pytest.mark.slow
def test_the_installed_release_checks_and_exports_a_notebook_away_from_any_course(real_release, student_venv):
    """As in Colab: the release's wheel installed, a notebook in a folder that is no course, a kernel of that
    Python; grader.check grades the notebook's functions with the release's public checks and recorded
    values, grader.export writes the lab's file beside the notebook and grades it."""
    import nbformat

    from tests.notebook_kernel import running
    from tests.test_notebook_check import reference_cells, summary

    folder = student_venv / "content"
    folder.mkdir()
    book = nbformat.v4.new_notebook()
    book.cells = [nbformat.v4.new_code_cell(cell) for cell in reference_cells()]
    nbformat.write(book, folder / "lab4.ipynb")
    environment = {k: v for k, v in os.environ.items() if k not in ("GRADE_COURSE", "PYTHONPATH", "GRADE_STUDENT")}
    full = grade("lab4", reference=True, course=REPO, student=True)
    with running(folder / "lab4.ipynb", str(student_venv / "venv" / "bin" / "python"), folder,
                 student_venv / "kernels", environment) as notebook:
        notebook.run("import grader")
        assert notebook.value("grader.__file__").startswith(str(student_venv / "venv"))
        checked = notebook.check_results('grader.check("lab4")')
        assert sorted(checked) == sorted(summary(full.checks))
        exported = notebook.check_results('grader.export("lab4", "lab4.ipynb")')
    assert sorted(exported) == sorted(checked)
    assert (folder / "pytorch_basics.py").read_text().startswith("# written by grader.export")


# ------------------------------------------------------------------ after the due date
def test_stripping_after_the_due_date_keeps_the_after_due_date_checks(tmp_path):
    course = toy_course(tmp_path)
    (suite,) = (course / "suites" / LAB).glob("test_*.py")
    before = public_suite.strip_lab(suite.parent)
    after = public_suite.strip_lab(suite.parent, ("visible", "after_due_date"))
    assert "test_add_floats" in before.removed and "test_add_floats" not in after.removed
    assert set(before.removed) - set(after.removed) == {"test_add_floats"}     # hidden ones stay out
    assert "def test_add_floats" in after.texts[suite.name]


def test_a_release_after_the_due_date_holds_and_runs_those_checks(tmp_path, monkeypatch):
    course = toy_course(tmp_path / "course")
    monkeypatch.setattr(release, "record", FakeRecorder())
    before = release.build([LAB], tmp_path / "before", course=course)
    after = release.build([LAB], tmp_path / "after", course=course, after_due_date=True)
    assert after.withheld[LAB] == (before.withheld[LAB][0] - 1, before.withheld[LAB][1] - 1)   # add_floats: 1 point
    manifest = (after.out / "src/grader/suites/release.toml").read_text()
    assert 'shown = ["visible", "after_due_date"]' in manifest
    assert 'shown = ["visible"]' in (before.out / "src/grader/suites/release.toml").read_text()
    (suite,) = (after.out / "src/grader/suites" / LAB).glob("test_*.py")
    assert "def test_add_floats" in suite.read_text()
    assert "def test_add_floats" not in next((before.out / "src/grader/suites" / LAB).glob("test_*.py")).read_text()
    shown = collect(find(course).lab(LAB), student=True, shown=("visible", "after_due_date"))
    assert "test_add_floats" in [c.name for c in shown.collected]
    assert "test_add_floats" not in [c.name for c in collect(find(course).lab(LAB), student=True).collected]


def test_the_release_command_takes_after_due_date(tmp_path, monkeypatch, capsys):
    from grader.cli import main

    monkeypatch.setattr(release, "record", FakeRecorder())
    course = toy_course(tmp_path / "course")
    monkeypatch.setenv("GRADE_COURSE", str(course))   # --course sets it for this process: monkeypatch restores it
    assert main(["release", LAB, "--out", str(tmp_path / "out"), "--after-due-date", "--course", str(course)]) == 0
    assert "test_add_floats" in "".join(p.read_text() for p in (tmp_path / "out/src/grader/suites" / LAB).glob("*.py"))
