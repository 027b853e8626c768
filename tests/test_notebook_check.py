"""grader.check and grader.export in a running notebook: a real Jupyter kernel (ipykernel, driven
by nbclient) executes a real notebook, and grades what it defines as `grade` grades a file.

The kernel tests are slow (a kernel, and several whole grading runs of Lab 4); which
notebook export finds, and when it may write, are fast.
"""

from __future__ import annotations

import os
import re
import sys
from pathlib import Path

import nbformat
import pytest

from grader.grading.in_notebook import EXPORT_MARK, NotebookProblem, _may_write, locate
from grader.grading.run import grade, list_checks
from tests.helpers import LAB4_REFERENCE, REPO
from tests.notebook_kernel import NotebookKernel, running

REFERENCE = LAB4_REFERENCE.read_text()
BUGGY = {   # two functions written wrong, as a student might
    "to_unet_input": "def to_unet_input(x):\n    x = numpy_to_tensor(x) if isinstance(x, np.ndarray) else x\n"
                     "    return x.unsqueeze(1).unsqueeze(1) if x.ndim == 2 else x.unsqueeze(1)\n",
    "mse_gradient": "def mse_gradient(prediction, target):\n    return 2 * (prediction - target)\n",
}


def reference_cells() -> list[str]:
    """The reference as a student's notebook: a magic, a shell line, one cell per definition, exploration."""
    parts = re.split(r"\n(?=def |class )", REFERENCE)
    return ["%matplotlib inline\n!echo setting up", *parts,
            "x = np.arange(6, dtype=np.float32).reshape(2, 3)\nprint(to_unet_input(x).shape)"]


def summary(checks) -> list[tuple[str, str, float]]:
    return [(c.name, c.status, c.score) for c in checks]


@pytest.fixture(scope="module")
def folder(tmp_path_factory) -> Path:
    """A student's folder holding their saved notebook (the reference, written as cells)."""
    path = tmp_path_factory.mktemp("student")
    book = nbformat.v4.new_notebook()
    book.cells = [nbformat.v4.new_markdown_cell("# Lab 4")] + [nbformat.v4.new_code_cell(c) for c in reference_cells()]
    nbformat.write(book, path / "lab4.ipynb")
    return path


@pytest.fixture(scope="module")
def kernel(folder, tmp_path_factory):
    """The student's notebook executed in a real kernel of this Python, started in their folder,
    as Jupyter starts it (naming the notebook in JPY_SESSION_NAME)."""
    with running(folder / "lab4.ipynb", sys.executable, folder, tmp_path_factory.mktemp("kernels"),
                 {**os.environ, "JPY_SESSION_NAME": str(folder / "lab4.ipynb")}) as notebook:
        notebook.run("import grader")
        yield notebook


@pytest.fixture(scope="module")
def reference_file_grade(tmp_path_factory):
    path = tmp_path_factory.mktemp("as-file") / "pytorch_basics.py"
    path.write_text(REFERENCE)
    return grade("lab4", path, course=REPO)


def run_reference(kernel: NotebookKernel) -> None:
    for source in reference_cells()[1:-1]:
        kernel.run(source)


@pytest.mark.slow
def test_check_grades_the_notebooks_functions_as_grade_grades_the_same_code(kernel, reference_file_grade):
    run_reference(kernel)
    assert kernel.check_results('grader.check("lab4")') == summary(reference_file_grade.checks)
    shown = [o for o in kernel.shown if o.output_type == "execute_result"]
    assert shown and "text/html" in shown[0].data and "Score" in shown[0].data["text/plain"]  # rich, in the cell
    assert reference_file_grade.score == reference_file_grade.max_score > 0


@pytest.mark.slow
def test_check_of_wrong_functions_gets_the_per_check_results_of_the_same_file(kernel, tmp_path):
    run_reference(kernel)
    for source in BUGGY.values():
        kernel.run(source)
    path = tmp_path / "pytorch_basics.py"
    path.write_text(REFERENCE + "\n\n" + "\n\n".join(BUGGY.values()))
    from_file = grade("lab4", path, course=REPO)
    assert kernel.check_results('grader.check("lab4")') == summary(from_file.checks)
    assert 0 < from_file.score < from_file.max_score
    assert not [o for o in kernel.run("_text = repr(_report)") if o.output_type != "stream"]   # text only
    text = kernel.value("_text")
    assert "Cell In[" in text   # the mistakes point into the cells the student ran


@pytest.mark.slow
def test_check_of_one_function_runs_only_its_checks(kernel):
    run_reference(kernel)
    results = kernel.check_results('grader.check("lab4", "numpy_to_tensor")')
    expected = [c.name for c in list_checks("lab4", course=REPO) if c.function == "numpy_to_tensor"]
    assert sorted(name for name, _, _ in results) == sorted(expected) and len(expected) >= 5
    assert all(status == "passed" for _, status, _ in results)


@pytest.mark.slow
def test_a_function_deleted_after_it_passed_is_no_longer_graded(kernel):
    run_reference(kernel)
    kernel.run("del numpy_to_tensor")
    results = kernel.check_results('grader.check("lab4", "numpy_to_tensor")')
    assert results and all(status == "failed" and score == 0 for _, status, score in results)
    text = " ".join(kernel.value("repr(_report)").split())
    assert "not defined in this notebook now, so their checks fail: numpy_to_tensor" in text
    run_reference(kernel)


@pytest.mark.slow
def test_export_writes_the_saved_notebook_as_the_lab_file_and_grades_that_file(kernel, folder):
    run_reference(kernel)
    kernel.run(BUGGY["mse_gradient"])   # in the kernel only: the saved notebook has the right one
    results = kernel.check_results('grader.export("lab4")')
    written = folder / "pytorch_basics.py"
    assert written.read_text().startswith(EXPORT_MARK)
    assert "# notebook-only line removed: !echo setting up" in written.read_text()
    assert results == summary(grade("lab4", written, course=REPO).checks)
    assert all(status != "failed" for _, status, _ in results)       # the saved notebook is right
    text = " ".join(kernel.value("repr(_report)").split())
    assert f"hand in {written}" in text and "lab4.ipynb as saved at" in text
    assert "your kernel runs other versions of mse_gradient than this file has" in text


# ------------------------------------------------------------------ fast: which notebook, and writing
def test_locate_takes_the_notebook_the_platform_names(tmp_path):
    first, second = tmp_path / "a.ipynb", tmp_path / "b.ipynb"
    first.write_text("{}")
    second.write_text("{}")
    no_colab = lambda: None  # noqa: E731
    assert locate(None, {"__vsc_ipynb_file__": str(first)}, {}, tmp_path, no_colab).name == "a.ipynb"
    assert locate(None, {}, {"JPY_SESSION_NAME": str(second)}, tmp_path, no_colab).name == "b.ipynb"
    assert locate(second, {}, {}, tmp_path, no_colab).said.startswith("b.ipynb as saved at")
    colab = locate(None, {}, {}, tmp_path, lambda: b"{}")
    assert colab.raw == b"{}" and colab.folder == tmp_path
    with pytest.raises(NotebookProblem, match=r"cannot tell which notebook .* holds 2 notebooks\): pass its path"):
        locate(None, {}, {"JPY_SESSION_NAME": str(tmp_path / "renamed.ipynb")}, tmp_path, no_colab)
    second.unlink()
    assert "the only notebook in this folder" in locate(None, {}, {}, tmp_path, no_colab).said
    with pytest.raises(NotebookProblem, match="no such notebook"):
        locate(tmp_path / "lab4.py", {}, {}, tmp_path, no_colab)


def test_export_never_replaces_a_file_it_did_not_write(tmp_path):
    from grader.course.folder import find

    lab = find(REPO).lab("lab4")
    target = tmp_path / "pytorch_basics.py"
    target.write_text("def select_device():\n    return 'my own work'\n")
    with pytest.raises(NotebookProblem, match="already exists and grader.export did not write it"):
        _may_write(target, False, lab)
    _may_write(target, True, lab)                                        # overwrite=True
    target.write_text(EXPORT_MARK + "('lab4') from lab4.ipynb\n")
    _may_write(target, False, lab)                                       # its own earlier export
    target.write_text(lab.assignment_file().read_text())
    _may_write(target, False, lab)                                       # the untouched stub
