"""How grader.check makes the lab's module from what a kernel holds (grader/grading/kernel.py).

Fast: cells are run here as a kernel runs them (one namespace, numbered runs whose code
is compiled under a file name of its own, future imports carried from cell to cell, magic
lines turned into calls, leading blank lines dropped).  The whole path, with a real
Jupyter kernel, is in tests/test_notebook_check.py.
"""

from __future__ import annotations

import __future__
import ast
import codeop
import re
import subprocess
import sys

import pytest

from grader.grading.kernel import Kernel, assemble, compare, top_level_definitions
from tests.helpers import LAB4_REFERENCE

LAB4_NAMES = ["select_device", "setup_report", "numpy_to_tensor", "to_unet_input", "to_device", "to_numpy",
              "audio_to_tensor", "simple_neural_operation", "mse_gradient", "batch_spectrograms",
              "SpectrogramDataset"]


class Cells:
    """Runs cells as IPython does, and gives what the kernel then holds."""

    def __init__(self) -> None:
        self.namespace: dict = {"__name__": "__main__"}
        self.raw, self.files = [""], {}
        self.compiler = codeop.Compile()   # IPython's compiler is one: it keeps future flags

    def run(self, source: str) -> None:
        number = len(self.raw)
        self.raw.append(source)
        lines = source.splitlines()
        while lines and not lines[0].strip():
            lines.pop(0)
        python = "\n".join(re.sub(r"^(\s*)[%!](.*)$", lambda m: f"{m[1]}_magic({m[2]!r})", line) for line in lines)
        filename = f"/tmp/ipykernel_1/{number}.py"
        self.files[filename] = number
        self.namespace["_magic"] = lambda *args: None
        exec(self.compiler(python, filename, "exec"), self.namespace)

    def kernel(self) -> Kernel:
        return Kernel(self.namespace, list(self.raw), dict(self.files),
                      bool(self.compiler.flags & __future__.annotations.compiler_flag))


def module_of(cells: Cells, names: list[str]) -> dict[str, str]:
    return top_level_definitions(assemble(cells.kernel(), names, "pytorch_basics").converted.source)


def test_the_lab4_reference_in_cells_gives_its_definitions_and_no_exploration():
    source = LAB4_REFERENCE.read_text()
    cells = Cells()
    cells.run("%matplotlib inline\n!echo installing")
    for part in re.split(r"\n(?=def |class )", source):
        cells.run(part)
        cells.run("x = np.ones((2, 3), dtype=np.float32)\nprint('exploring', x.shape)")
    assembled = assemble(cells.kernel(), LAB4_NAMES, "pytorch_basics")
    assert assembled.graded == LAB4_NAMES and not assembled.missing and not assembled.left_out
    module = assembled.converted.source
    compile(module, "pytorch_basics.py", "exec")
    reference = top_level_definitions(source)
    assert top_level_definitions(module) == {name: reference[name] for name in top_level_definitions(module)}
    assert set(top_level_definitions(module)) == set(LAB4_NAMES) | {"_can_share", "_load_magnitude",
                                                                     "_crop_or_pad", "_check_frames"}
    assert "exploring" not in module and "x = np.ones" not in module and "echo" not in module
    assert module.startswith("from __future__ import annotations\n")   # in force since the first cell ran it
    assert "import torch.nn.functional as F\n" in module and "from torch.utils.data import Dataset\n" in module
    assert "DeviceLike = str | torch.device" in module and "__all__" not in module


def test_cells_run_out_of_order_count_as_the_kernel_holds_them():
    cells = Cells()
    first = "def to_numpy(t):\n    return 'first'"
    cells.run(first)
    cells.run("def to_numpy(t):\n    return 'second'")
    cells.run(first)                                           # the first cell run again, last
    with pytest.raises(ZeroDivisionError):
        cells.run("1 / 0\ndef to_numpy(t):\n    return 'never ran'")   # stopped before its def
    assert "return 'first'" in assemble(cells.kernel(), ["to_numpy"], "m").converted.source
    assert cells.namespace["to_numpy"](None) == "first"


def test_a_deleted_or_never_run_function_is_left_out_and_named():
    cells = Cells()
    cells.run("def to_numpy(t):\n    return t\n\ndef to_device(t, d):\n    return t")
    cells.run("del to_numpy")
    assembled = assemble(cells.kernel(), ["to_numpy", "to_device", "mse_gradient"], "m")
    assert set(top_level_definitions(assembled.converted.source)) == {"to_device"}
    assert assembled.graded == ["to_device"] and assembled.missing == ["to_numpy", "mse_gradient"]
    assert "not defined in this notebook now, so their checks fail: to_numpy, mse_gradient" in assembled.notes()[0]


def test_what_a_function_uses_comes_along_as_the_kernel_has_it_and_nothing_else():
    cells = Cells()
    cells.run("import numpy as np\nfrom math import sqrt as root\nimport torch")
    cells.run("SCALE = 2\naudio = np.zeros(1000)   # a global the functions do not use\nmean = np.mean")
    cells.run("DEVICE = torch.device('cpu')\nSHAPE = (1, 2)")
    cells.run("def _helper(x):\n    audio = x * SCALE          # a local that shadows a global\n    return audio")
    cells.run("def to_device(t, d=DEVICE):\n    return root(_helper(t)) + mean(SHAPE)")
    cells.run("SCALE = 3\nSHAPE = []")                           # the values the kernel holds now
    cells.run("SHAPE.extend([1, 2])")
    module = assemble(cells.kernel(), ["to_device"], "m").converted.source
    assert "SCALE = 3\n" in module and "SHAPE = [1, 2]\n" in module
    assert "from math import sqrt as root\n" in module and "import torch\n" in module
    assert "DEVICE = torch.device('cpu')" in module            # not a constant: its statement
    assert "mean = np.mean" in module and "import numpy as np\n" in module
    assert "np.zeros" not in module                             # unused globals stay out
    namespace: dict = {}
    exec(compile(module, "m.py", "exec"), namespace)
    assert namespace["to_device"](12) == 7.5


def test_a_value_no_statement_made_is_named_not_guessed():
    cells = Cells()
    cells.run("import numpy as np\nglobals()['weights'] = np.ones(3)")
    cells.run("def to_numpy(t):\n    return t * weights")
    exec(compile("def to_device(t, d):\n    return t", "my_functions.py", "exec"), cells.namespace)  # as %run does
    assembled = assemble(cells.kernel(), ["to_numpy", "to_device"], "m")
    assert assembled.left_out == ["weights (ndarray)"] and assembled.elsewhere == ["to_device"]
    assert assembled.graded == ["to_numpy"] and "def to_device" not in assembled.converted.source
    assert "used by your code but not carried over from the notebook: weights (ndarray)" in assembled.notes()[0]
    assert "defined outside this notebook's cells (imported from your .py file, %run, exec), so not graded " \
           "here: to_device" in assembled.notes()[1]


def test_the_lab_file_itself_is_never_imported():
    cells = Cells()
    sys.modules["fake_lab_module"] = type(sys)("fake_lab_module")
    try:
        cells.run("import fake_lab_module\ndef to_numpy(t):\n    return fake_lab_module")
        assembled = assemble(cells.kernel(), ["to_numpy"], "fake_lab_module")
    finally:
        del sys.modules["fake_lab_module"]
    assert "import fake_lab_module" not in assembled.converted.source
    assert assembled.elsewhere == ["fake_lab_module"]


def test_magic_lines_inside_a_definition_are_handled_as_in_a_saved_notebook_and_lines_name_cells():
    cells = Cells()
    cells.run("import os")
    cells.run("\n\n@staticmethod\ndef to_numpy(t):\n    !ls\n    return os.sep")  # leading blank lines
    assembled = assemble(cells.kernel(), ["to_numpy"], "m")
    converted = assembled.converted
    lines = converted.source.splitlines()
    assert "    pass  # notebook-only line removed: !ls" in lines
    assert converted.dropped == ["Cell In[2], line 5: !ls"]
    assert converted.place(lines.index("def to_numpy(t):") + 1) == "Cell In[2], line 4"
    assert converted.place(lines.index("import os") + 1) == "Cell In[1], line 1"


def test_a_class_is_found_from_its_methods_and_brings_its_base():
    cells = Cells()
    cells.run("class Base:\n    pass")
    cells.run("class SpectrogramDataset(Base):\n    def __len__(self):\n        return 1")
    cells.run("class SpectrogramDataset(Base):\n    def __len__(self):\n        return 2")
    module = assemble(cells.kernel(), ["SpectrogramDataset"], "m").converted.source
    assert module.index("class Base") < module.index("class SpectrogramDataset") and "return 2" in module


def test_compare_names_what_the_saved_notebook_defines_otherwise():
    cells = Cells()
    cells.run("def to_numpy(t):\n    return t  # a comment does not count")
    cells.run("def to_device(t, d):\n    return t.to(d)")
    definitions = assemble(cells.kernel(), ["to_numpy", "to_device", "mse_gradient"], "m").definitions
    saved = "def to_numpy(t):\n    return t\n\ndef to_device(t, d):\n    return t\n\ndef mse_gradient(p, t):\n    pass\n"
    assert compare(definitions, saved, ["to_numpy", "to_device", "mse_gradient"]) == ["to_device"]
    assert compare(definitions, "", ["to_numpy", "to_device"]) == ["to_numpy", "to_device"]   # cells deleted


def test_import_grader_loads_neither_torch_pytest_rich_nor_ipython():
    code = "import sys, grader; print(sorted(m for m in ('torch', 'pytest', 'rich', 'IPython', 'numpy') " \
           "if m in sys.modules)); print({'check', 'export'} <= set(dir(grader)))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.splitlines() == ["[]", "True"]   # check and export load on first use


def test_outside_a_notebook_check_says_so_in_one_line():
    from grader.grading.in_notebook import NotebookProblem, check

    with pytest.raises(NotebookProblem) as raised:
        check("lab4")
    assert raised.value._render_traceback_() == [f"grader: error: {raised.value}"]
    assert "call it in a notebook cell" in str(raised.value) and "\n" not in str(raised.value)


def test_literal_values_round_trip_and_others_do_not():
    cells = Cells()
    cells.run("A = {'k': [1, 2.5, None, (True, b'x')]}\nB = float('nan')\nC = frozenset({1})\n"
              "D = list(range(20_000))")
    cells.run("def to_numpy(t):\n    return A, B, C, D")
    module = assemble(cells.kernel(), ["to_numpy"], "m").converted.source
    assert "A = {'k': [1, 2.5, None, (True, b'x')]}" in module
    assert "B = float('nan')" in module and "C = frozenset({1})" in module   # their statements
    assert "D = list(range(20_000))" in module                                 # too big to write out
    assert ast.parse(module)
