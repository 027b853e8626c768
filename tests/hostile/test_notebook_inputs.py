"""Notebooks whose cells hold what a reader splits differently from Python (the second red team of
issue 20).

``str.splitlines`` breaks a line at a form feed, a vertical tab, the file, group and record
separators, NEL and U+2028/U+2029; Python's tokenizer (and so Jupyter, which hands the cell to it)
only at ``\\n``, ``\\r\\n`` and ``\\r``. A notebook is graded as Python runs it: a character that is
no line end in Python stays inside its line, so a correct cell is never broken (a string cut in two)
and a comment never becomes code.
"""

from __future__ import annotations

import ast

import nbformat
import pytest

from grader.errors import SetupError
from grader.grading.kernel_cells import parse_cell
from grader.grading.notebooks import cell_to_python, convert
from grader.grading.prepare import write_submission

NOT_LINE_ENDS = ["\x0c", "\x0b", "\x1c", "\x1d", "\x1e", "\x85", "\u2028", "\u2029"]


def notebook(*sources: str) -> bytes:
    book = nbformat.v4.new_notebook()
    book.cells = [nbformat.v4.new_code_cell(source) for source in sources]
    return nbformat.writes(book).encode()


@pytest.mark.parametrize("char", NOT_LINE_ENDS, ids=[f"U+{ord(c):04X}" for c in NOT_LINE_ENDS])
def test_a_string_holding_a_character_python_keeps_in_its_line_is_not_cut(char):
    """``x = 'a\\x0cb'`` runs in Jupyter; converted with splitlines it became ``x = 'a`` and ``b'``, a
    SyntaxError: the whole notebook graded 0."""
    cell = f"x = 'a{char}b'\ny = 1\n"
    converted = convert(notebook(cell))
    assert ast.dump(ast.parse(converted.source)) == ast.dump(ast.parse(cell))
    assert converted.place(converted.source.split("\n").index("y = 1") + 1) == "cell 1, line 2"


@pytest.mark.parametrize("char", NOT_LINE_ENDS, ids=[f"U+{ord(c):04X}" for c in NOT_LINE_ENDS])
def test_a_comment_never_becomes_code(char):
    """``# note<NEL>import os`` is one comment to Python; split at NEL, its tail ran as code when graded
    (and only then)."""
    cell = f"# note{char}import os\nx = 1\n"
    module = ast.parse(convert(notebook(cell)).source)
    assert not any(isinstance(node, ast.Import) for node in ast.walk(module))


@pytest.mark.parametrize("char", NOT_LINE_ENDS, ids=[f"U+{ord(c):04X}" for c in NOT_LINE_ENDS])
def test_a_kernels_cell_is_read_as_the_kernel_compiled_it(char):
    """grader.check reads each cell the kernel ran the same way (grader/grading/kernel_cells.py)."""
    cell = parse_cell(3, f"def f():\n    return 'a{char}b'\ny = 1\n")
    assert cell is not None, "the cell no longer parses"
    (function, assignment) = cell.body
    assert cell.statement_at(3).node is assignment and cell.statement_at(1).node is function


def test_windows_and_old_mac_line_ends_are_still_line_ends():
    converted = convert(notebook("x = 1\r\ny = 2\rz = 3\n"))
    assert ast.dump(ast.parse(converted.source)) == ast.dump(ast.parse("x = 1\ny = 2\nz = 3\n"))
    assert converted.place(3) == "cell 1, line 3"


# ------------------------------------------------------------------ % and ! that are Python, not magics (red team 3)
CONTINUED = {
    "modulo after a line break": "def wrap(i, n):\n    return (i\n            % n)\n",
    "!= after a line break": "def differ(a, b):\n    return (a\n            != b)\n",
    "a backslash continuation": "x = 7 \\\n    % 4\n",
    "lines of a triple-quoted string": 'TEMPLATE = """\n%d items\n!important\n"""\n',
}


@pytest.mark.parametrize("cell", list(CONTINUED.values()), ids=list(CONTINUED))
def test_a_line_that_continues_a_statement_is_python_not_a_magic(cell):
    """IPython reads ``%`` and ``!`` as magics only where a statement starts; PEP 8's break before a
    binary operator (``(i\\n % n)``) ran in Jupyter but was graded as a removed magic: a SyntaxError,
    the whole notebook 0 (or a string quietly changed)."""
    converted = convert(notebook("%matplotlib inline\n!pip install x\n" + cell))
    assert ast.dump(ast.parse(converted.source)) == ast.dump(ast.parse(cell))
    assert len(converted.dropped) == 2
    kernel = parse_cell(4, cell)
    assert kernel is not None and ast.dump(ast.Module(kernel.body, [])) == ast.dump(ast.parse(cell))


@pytest.mark.parametrize("magic", ["!echo don't", "!echo '''", "%config x = '"])
def test_a_quote_left_open_in_a_magic_does_not_change_how_the_rest_is_read(magic):
    """The tokenizer stops inside such a magic (at once on Python 3.12+, at the end on 3.11): it goes on
    after it, so the lines below are still read as Python reads them."""
    cell = "x = (1\n  % 2)\n"
    converted = convert(notebook(f"{magic}\n{cell}%ls\n"))
    assert ast.dump(ast.parse(converted.source)) == ast.dump(ast.parse(cell))
    assert len(converted.dropped) == 2


def test_a_lone_surrogate_in_a_code_cell_is_one_line_not_a_crash(tmp_path):
    """JSON may spell one (\\udcff): writing the module for the worker raised UnicodeEncodeError, a
    traceback for ``grade lab4 --submission x.ipynb`` and grader.export (batch already refused it)."""
    raw = notebook("x = (1\n  % 2)\n%ls\ns = 'SURROGATE'\n").replace(b"SURROGATE", b"\\udcff")
    assert "\udcff" in nbformat.reads(raw.decode(), as_version=4).cells[0].source
    (tmp_path / "lab4.ipynb").write_bytes(raw)
    with pytest.raises(SetupError, match="cell 1: its source is not UTF-8 text"):
        write_submission(tmp_path / "lab4.ipynb", tmp_path / "pytorch_basics.py")
    assert "x = (1\n  % 2)" in "\n".join(text for text, _ in cell_to_python(1, "x = (1\n  % 2)\n%ls\n'\udcff'\n", []))


def test_a_magic_that_opens_a_bracket_or_a_quote_does_not_hide_the_next_magic():
    converted = convert(notebook("!echo (\n!echo 'it\n%ls\nfor i in range(2):\n    !echo {i}\nx = 1\n"))
    assert ast.dump(ast.parse(converted.source)) == ast.dump(ast.parse("for i in range(2):\n    pass\nx = 1\n"))
    assert len(converted.dropped) == 4


HELP = ["np.reshape?", "?np.reshape", "np.reshape??", "torch.nn.Conv2d?", "np.*load*?"]


@pytest.mark.parametrize("line", HELP)
def test_a_help_line_left_in_a_notebook_is_dropped_like_a_magic(line):
    """``np.reshape?`` shows the docstring in Jupyter; graded, it was a SyntaxError: every check 0."""
    cell = "def f(x):\n    return x\n"
    converted = convert(notebook("import numpy as np\n" + line, cell, f"def g():\n    {line}\n"))
    assert ast.dump(ast.parse(converted.source)) == ast.dump(
        ast.parse("import numpy as np\n" + cell + "def g():\n    pass\n"))
    assert converted.dropped == [f"cell 1, line 2: {line}", f"cell 3, line 2: {line}"]


def test_a_question_mark_in_a_string_or_a_comment_stays():
    cell = "def f():\n    '''\n    Why?\n    '''\n    return 'why?'  # why?\n"
    converted = convert(notebook(cell))
    assert converted.source == cell and not converted.dropped


@pytest.mark.parametrize("indent", ["    ", "\t"], ids=["spaces", "tab"])
def test_a_cell_pasted_indented_is_read_as_jupyter_runs_it(indent):
    """Jupyter (IPython) removes the indentation all of a cell's lines share; grader.check did too, but
    the saved notebook was graded with it: an IndentationError, every check 0 for what check passed."""
    cell = f"{indent}scale = 2\n{indent}def double(x):\n{indent}    return scale * x\n"
    converted = convert(notebook("import math", cell, "y = 1"))
    expected = "import math\nscale = 2\ndef double(x):\n    return scale * x\ny = 1\n"
    assert ast.dump(ast.parse(converted.source)) == ast.dump(ast.parse(expected))
    assert converted.place(converted.source.split("\n").index("def double(x):") + 1) == "cell 2, line 2"
    kernel = parse_cell(2, cell)
    assert kernel is not None and [type(node) for node in kernel.body] == [ast.Assign, ast.FunctionDef]


def test_a_cell_not_all_indented_keeps_its_lines_as_they_are():
    cell = 'def f():\n    return """\n  two\n"""\n'
    assert convert(notebook(cell)).source == cell


@pytest.mark.parametrize("cell", ["s = '\udcff'\n", "x = 1\x00\n"], ids=["lone surrogate", "NUL"])
def test_a_kernel_cell_python_cannot_compile_did_not_run(cell):
    """IPython cannot compile it, so it never ran; reading it raised (a traceback in grader.check)."""
    assert parse_cell(5, cell) is None


DEEP = {"a long sum": "def f():\n    return " + "1+" * 200_000 + "1\n",
        "many minus signs": "def f():\n    return " + "-" * 200_000 + "1\n"}


@pytest.mark.parametrize("source", list(DEEP.values()), ids=list(DEEP))
def test_code_nested_past_the_parser_is_no_python_not_a_crash(source):
    """grader.check and grader.export compare the saved notebook with the kernel, --watch orders the changed
    functions: each parsed the student's code expecting only a SyntaxError (RecursionError, MemoryError: a
    traceback after the grading)."""
    from grader.course.stub import definitions
    from grader.grading.kernel import compare, top_level_definitions

    assert top_level_definitions(source) == {} and definitions(source) == []
    assert compare({"f": "def f(): ..."}, source, ["f"]) == ["f"]
    assert parse_cell(2, source) is None


def test_a_magic_continued_with_a_backslash_is_left_out_whole():
    """``!pip install torch \\`` then ``    torchaudio``: one shell command in Jupyter; graded, the second
    line stayed as Python, an IndentationError: every check 0."""
    cell = "!pip install torch \\\n    torchaudio\nfor i in range(2):\n    %pip install a \\\n      b\n    x = i\n"
    converted = convert(notebook(cell))
    assert ast.dump(ast.parse(converted.source)) == ast.dump(ast.parse("for i in range(2):\n    pass\n    x = i\n"))
    assert [line.split(":")[0] for line in converted.dropped] == [f"cell 1, line {n}" for n in (1, 2, 4, 5)]


def test_a_timed_statement_still_runs_as_in_jupyter():
    """``%time scale = train()`` binds ``scale`` in Jupyter (as a ``%%time`` cell's body does, which was
    kept); graded, the whole line was left out, and a function using ``scale`` raised NameError."""
    converted = convert(notebook("%time scale = 2\n%timeit scale * 3\n",
                                 "def double(x):\n    %time y = scale * x\n    return y\n"))
    expected = "scale = 2\ndef double(x):\n    y = scale * x\n    return y\n"
    assert ast.dump(ast.parse(converted.source)) == ast.dump(ast.parse(expected))
    assert converted.dropped == ["cell 1, line 1: %time (its statement is kept)", "cell 1, line 2: %timeit scale * 3",
                                 "cell 2, line 2: %time (its statement is kept)"]
    kernel = parse_cell(1, "%time scale = 2\n")
    assert kernel is not None and isinstance(kernel.body[0], ast.Assign)


def test_a_later_cells_future_import_comes_first_as_in_jupyter():
    """Jupyter compiles each cell by itself, so the stub pasted below an imports cell (every stub starts
    with ``from __future__ import annotations``) runs there, and grader.check passes it; graded as one
    module it was a SyntaxError ("from __future__ imports must occur at the beginning"): every check 0."""
    stub = '"""The lab."""\nfrom __future__ import annotations\nfrom __future__ import division\n\n' \
           "def f(x: NotDefinedAnywhere) -> int:\n    return 1\n"
    converted = convert(notebook("import math", stub, "y = f(1)"))
    namespace: dict = {}
    exec(compile(converted.source, "lab.py", "exec"), namespace)   # annotations stay unevaluated, as in Jupyter
    assert namespace["y"] == 1
    assert converted.source.startswith("from __future__ import annotations, division\n")
    assert converted.place(converted.source.split("\n").index("def f(x: NotDefinedAnywhere) -> int:") + 1) \
        == "cell 2, line 5"
    assert convert(notebook(stub, "y = 1")).source.startswith('"""The lab."""\nfrom __future__')   # first: as it was


# code pasted from the docs or a console, prompts and all, and the Python IPython runs of it
PASTED = {
    "classic": (">>> import math\n>>> def area(r):\n...     return math.pi * r ** 2\n...\n>>> AREA = area(2)\n",
                "import math\ndef area(r):\n    return math.pi * r ** 2\n\nAREA = area(2)\n"),
    "ipython": (("In [3]: import math\n\nIn [4]: def area(r):\n   ...:     return math.pi * r ** 2\n   ...: \n"
                 "\nIn [5]: AREA = area(2)\n"),
                "import math\n\ndef area(r):\n    return math.pi * r ** 2\n\n\nAREA = area(2)\n"),
    "indented": ("\n  >>> import math\n  >>> AREA = math.pi * 4\n", "import math\nAREA = math.pi * 4\n"),
}


@pytest.mark.parametrize("name", PASTED)
def test_a_cell_pasted_with_its_prompts_is_graded_as_jupyter_runs_it(name):
    """A cell pasted with ``>>> ``/``... `` or ``In [1]: ``/``   ...: `` prompts runs in Jupyter (IPython strips
    them); the reader left them, a SyntaxError: every check 0. Now stripped as IPython strips them, the
    lines keep their cells' numbers, and nothing is said to be left out (nothing is)."""
    cell, python = PASTED[name]
    converted = convert(notebook("x = 1", cell))
    assert ast.dump(ast.parse(converted.source)) == ast.dump(ast.parse("x = 1\n" + python))
    assert converted.dropped == []
    lines = converted.source.split("\n")
    assert converted.place(lines.index("AREA = area(2)" if "area(2)" in python else "AREA = math.pi * 4") + 1) \
        == f"cell 2, line {cell.split(chr(10)).index(next(l for l in cell.split(chr(10)) if 'AREA' in l)) + 1}"
    run = parse_cell(7, cell)   # grader.check in a running kernel reads the cell it ran the same way
    assert run is not None and ast.dump(ast.Module(run.body, [])) == ast.dump(ast.parse(python))
    assert run.changed == {}


@pytest.mark.parametrize("name", PASTED)
def test_prompts_are_stripped_as_the_installed_ipython_strips_them(name):
    transformer = pytest.importorskip("IPython.core.inputtransformer2").TransformerManager()
    cell, python = PASTED[name]
    assert transformer.transform_cell(cell) == python


def test_code_without_prompts_is_left_as_it_is():
    """``...`` (Ellipsis) or ``>>>`` inside a line is Python: only a prompt where IPython sees one goes."""
    for cell in ("x = 1\ny = '>>> not a prompt'\n", "def f():\n    ...\n"):
        assert [line for line, _ in cell_to_python(1, cell, [])] == cell.rstrip("\n").split("\n")
