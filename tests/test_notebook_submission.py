"""A notebook hand-in: its code cells are graded as the .py would be, feedback names cells."""

from __future__ import annotations

import json

import nbformat
import pytest

from grader.feedback import report
from grader.grading.notebooks import NotebookError, convert
from grader.grading.run import grade
from tests.helpers import LAB4_REFERENCE, REPO
from tests.test_course import grade_cli

BROKEN_MSE = '''
def mse_gradient(prediction, target):
    """Broken on purpose: raises where the check can see it."""
    raise ValueError("not this way")
'''


def notebook(*cells: tuple[str, str]) -> bytes:
    book = nbformat.v4.new_notebook()
    book.cells = [nbformat.v4.new_markdown_cell(text) if kind == "md" else nbformat.v4.new_code_cell(text)
                  for kind, text in cells]
    return nbformat.writes(book).encode()


def test_convert_drops_magics_and_shell_lines_and_remembers_cells():
    raw = notebook(("md", "# Lab"), ("code", "%matplotlib inline\nimport math"), ("code", "!pip install x\n\nx = 1"),
                   ("code", "%%bash\necho hi"), ("code", "%%time\ny = 2"))
    converted = convert(raw)
    assert "import math" in converted.source and "echo hi" not in converted.source
    compile(converted.source, "nb.py", "exec")  # the module parses
    module_lines = converted.source.splitlines()
    assert converted.place(module_lines.index("import math") + 1) == "cell 2, line 2"
    assert converted.place(module_lines.index("x = 1") + 1) == "cell 3, line 3"
    assert converted.place(module_lines.index("y = 2") + 1) == "cell 5, line 2"
    assert converted.dropped == ["cell 2, line 1: %matplotlib inline", "cell 3, line 1: !pip install x",
                                 "cell 4, line 1: %%bash (the whole cell)", "cell 5, line 1: %%time"]
    assert converted.relabel(f"pytorch_basics.py line {module_lines.index('x = 1') + 1}") == \
        "pytorch_basics.py cell 3, line 3"
    first = module_lines.index("import math") + 1
    assert converted.relabel(f"pytorch_basics.py line {first}: SyntaxError near line 7", prefix="pytorch_basics.py") \
        == "pytorch_basics.py cell 2, line 2: SyntaxError near line 7"  # only the module's own line numbers


def test_the_same_code_as_py_and_as_notebook_gets_the_same_grade(tmp_path, warm_launcher):
    """The Lab 4 reference with mse_gradient broken, as a file and as a notebook of several cells."""
    code = LAB4_REFERENCE.read_text() + "\n" + BROKEN_MSE
    as_py = tmp_path / "py" / "pytorch_basics.py"
    as_py.parent.mkdir()
    as_py.write_text(code)
    head, _, tail = code.partition("\ndef simple_neural_operation")
    folder = tmp_path / "nb"
    folder.mkdir()
    (folder / "pytorch_basics.ipynb").write_bytes(notebook(
        ("md", "# Lab 4"), ("code", "%matplotlib inline\n!pip install torch\n" + head),
        ("code", "def simple_neural_operation" + tail)))
    keyword = "autograd or neural or mse"
    from_py = grade("lab4", as_py, keyword=keyword, course=REPO, launcher=warm_launcher)
    from_notebook = grade("lab4", folder, keyword=keyword, course=REPO, launcher=warm_launcher)  # only the notebook
    assert [(c.name, c.status, c.score) for c in from_notebook.checks] == \
        [(c.name, c.status, c.score) for c in from_py.checks]
    assert 0 < from_notebook.score < from_notebook.max_score
    failed = [c for c in from_notebook.checks if c.error and c.error.frames]
    assert failed, [c.error for c in from_notebook.checks]
    assert failed[0].error.frames[-1].cell.startswith("cell 3, line ")
    text = " ".join(report.as_text(from_notebook).split())
    assert "mse_gradient cell 3, line" in text
    assert "note: left out of your notebook" in text and "cell 2, line 2: !pip install torch" in text


def test_feedback_rows_and_the_shown_line_point_into_cells():
    """An exception's message in expected/got, and the line number shown beside its code, are the cell's."""
    from grader.results import CheckResult, ErrorRecord, Feedback, Frame, GradeResult
    from grader.grading.run import point_into_cells

    converted = convert(notebook(("code", "import math"), ("code", "x = 1\n\ndef f():\n    return g()")))
    line = converted.source.splitlines().index("    return g()") + 1
    got = f"NameError: name 'g' is not defined (pytorch_basics.py line {line}, in f)"
    check = CheckResult("test_f", "f works", 1.0, "failed", feedback=Feedback("f failed", rows=[("exception", "", got)]),
                        function="f", error=ErrorRecord("NameError", "name 'g' is not defined",
                                                        frames=[Frame("pytorch_basics.py", line, "f", "return g()")]))
    result = GradeResult(lab="lab4", title="PyTorch Essentials", submission="lab4.ipynb", checks=[check])
    point_into_cells(result, converted, "pytorch_basics.py")
    assert check.feedback.rows[0][2] == "NameError: name 'g' is not defined (pytorch_basics.py cell 2, line 4, in f)"
    text = report.as_text(result)
    assert "4 │ return g()" in text and f"{line} │" not in text


# ------------------------------------------------------------------ strict validation (issue 20, item 4)
def hostile_notebook(source, *, minor: int = 5) -> bytes:
    """A notebook whose second code cell's ``source`` is ``source`` (not text, where the schema says text)."""
    cells = [{"cell_type": "code", "id": f"c{n}", "execution_count": None, "metadata": {}, "outputs": [],
              "source": text} for n, text in enumerate(["x = 1", source])]
    return json.dumps({"cells": cells, "metadata": {}, "nbformat": 4, "nbformat_minor": minor}).encode()


@pytest.mark.parametrize("source", [12, {"a": 1}, None, ["x = 1\n", 3], [["nested"]]], ids=repr)
def test_a_cell_whose_source_is_not_text_is_refused_naming_the_cell(source):
    with pytest.raises(NotebookError) as refused:
        convert(hostile_notebook(source))
    message = str(refused.value)
    assert message.startswith("not a valid notebook: cell 2") and "\n" not in message and len(message) < 300


def test_a_single_run_on_such_a_notebook_is_one_line_and_exit_2(tmp_path):
    notebook_file = tmp_path / "pytorch_basics.ipynb"
    notebook_file.write_bytes(hostile_notebook(12))
    run = grade_cli("lab4", "--submission", str(notebook_file), cwd=REPO)
    assert run.returncode == 2, run.stderr
    (line,) = run.stderr.strip().splitlines()
    assert "cell 2" in line and "Traceback" not in run.stderr


def test_lines_left_out_of_a_notebook_reach_its_notes_inert():
    raw = notebook(("code", "%env X=\x1b[2J\x1b]0;title\x07\u202eevil\u200bScore 58/58\nx = 1"))
    converted = convert(raw)
    (dropped,) = converted.dropped
    assert dropped == "cell 1, line 1: %env X=evilScore 58/58"
    compile(converted.source, "nb.py", "exec")
