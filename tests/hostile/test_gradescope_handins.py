"""What a student uploads to Gradescope, as the autograder finds it in ``/autograder/submission`` (the
second red team of issue 20).

Gradescope unpacks whatever the student uploaded: a folder around the file, a renamed copy, the
notebook beside the script, links. The autograder chooses the file to grade as ``grade batch``
chooses it in a student's folder (one rule for both: the same hand-in gets the same grade in a
batch and on Gradescope), never through a link, and says what it chose.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from grader.course.folder import find_lab
from grader.instructor.batch.layouts import LayoutError, handed_in

LAB = find_lab("lab4")
CODE = "def numpy_to_tensor(a):\n    return a\n"


def write(path: Path, text: str = CODE) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


@pytest.mark.parametrize("uploaded", ["lab4/pytorch_basics.py", "Pytorch_Basics.py", "pytorch_basics (1).py",
                                      "my work/Lab 4/pytorch_basics-2.py"])
def test_a_folder_around_the_file_or_a_renamed_copy_is_graded_as_a_batch_grades_it(tmp_path, uploaded):
    """The autograder looked for submission/pytorch_basics.py only: each of these got 0 ("has no
    pytorch_basics.py") on Gradescope, and full marks in grade batch."""
    chosen, notes = handed_in(LAB, write(tmp_path / "submission" / uploaded).parents[uploaded.count("/")])
    assert chosen == tmp_path / "submission" / uploaded
    assert notes == [f"graded {uploaded} as pytorch_basics.py"]


def test_the_script_beside_its_notebook_is_graded_and_the_notebook_named(tmp_path):
    write(tmp_path / "submission" / "pytorch_basics.py")
    write(tmp_path / "submission" / "pytorch_basics.ipynb", "{}")
    chosen, notes = handed_in(LAB, tmp_path / "submission")
    assert chosen.name == "pytorch_basics.py"
    assert any("pytorch_basics.ipynb" in note and "not graded" in note for note in notes), notes


def test_two_scripts_that_could_each_be_the_file_are_refused_naming_both(tmp_path):
    write(tmp_path / "submission" / "Pytorch_Basics.py")
    write(tmp_path / "submission" / "pytorch-basics.py")
    with pytest.raises(LayoutError, match="Pytorch_Basics.py.*pytorch-basics.py"):
        handed_in(LAB, tmp_path / "submission")


@pytest.mark.parametrize("link", ["file", "folder"])
def test_links_are_never_followed_at_any_depth(tmp_path, link):
    reference = Path(__file__).resolve().parents[2] / "reference" / "lab4"
    submission = tmp_path / "submission"
    submission.mkdir()
    if link == "file":
        os.symlink(reference / "pytorch_basics.py", submission / "pytorch_basics.py")
    else:
        os.symlink(reference, submission / "lab4")
    with pytest.raises(LayoutError) as refused:
        handed_in(LAB, submission)
    assert ("symbolic link" in str(refused.value)) == (link == "file"), refused.value


def test_the_only_script_is_graded_as_the_labs_file_and_two_others_are_one_line(tmp_path):
    write(tmp_path / "submission" / "notes.txt", "x")
    write(tmp_path / "submission" / "helpers.py")
    assert handed_in(LAB, tmp_path / "submission") == (tmp_path / "submission" / "helpers.py",
                                                       ["graded helpers.py as pytorch_basics.py"])
    write(tmp_path / "submission" / "main.py")
    with pytest.raises(LayoutError, match=r"no pytorch_basics.py \(found: helpers.py, main.py\)"):
        handed_in(LAB, tmp_path / "submission")


@pytest.mark.slow
def test_the_autograder_grades_a_renamed_file_in_a_folder_and_says_so(tmp_path):
    """The whole path: run_autograder on a toy course, the file one folder down and renamed."""
    from tests.test_gradescope import MODULE, autograder as _unused  # noqa: F401 (the fixture below)
    from tests.test_gradescope import run_autograder
    from tests.toy_course import LAB as TOY, WITH_HIDDEN, make_course
    from tests.test_course import grade_cli
    import zipfile

    course = make_course(tmp_path / "course", suite=WITH_HIDDEN)
    assert grade_cli("gradescope", TOY, "--out", str(tmp_path / "ag.zip"), "--course", str(course),
                     cwd=tmp_path).returncode == 0
    root = tmp_path / "autograder"
    with zipfile.ZipFile(tmp_path / "ag.zip") as archive:
        archive.extractall(root / "source")
    (root / "source" / "run_autograder").chmod(0o755)
    reference = (course / "reference" / TOY / f"{MODULE}.py").read_text()
    write(root / "submission" / "hw" / f"{MODULE.capitalize()} (1).py", reference)
    data = run_autograder(root)
    assert data["score"] > 0 and all(t["status"] == "passed" for t in data["tests"]), json.dumps(data)[:500]
    assert f"graded hw/{MODULE.capitalize()} (1).py as {MODULE}.py" in data["output"], data["output"]


def test_thousands_of_copies_are_a_few_lines_of_the_students_results(tmp_path):
    """Red team 3: the batch bounded one student's problems, the autograder did not: 3000 copies of the
    file, one per folder, were 3000 notes (170 KB) in results.json; 3000 renamed copies side by side one
    80 KB message naming each."""
    write(tmp_path / "submission" / "pytorch_basics.py")
    for n in range(300):
        write(tmp_path / "submission" / f"copy{n}" / "pytorch_basics.py")
        write(tmp_path / "upload" / f"pytorch_basics ({n}).py")
    chosen, notes = handed_in(LAB, tmp_path / "submission")
    assert chosen == tmp_path / "submission" / "pytorch_basics.py"
    assert 1 < len(notes) <= 21 and "more not listed (280 duplicate)" in notes[-1], notes[-1]
    with pytest.raises(LayoutError) as refused:
        handed_in(LAB, tmp_path / "upload")
    assert len(str(refused.value)) < 1000 and str(refused.value).endswith("and 290 more"), str(refused.value)[-200:]
