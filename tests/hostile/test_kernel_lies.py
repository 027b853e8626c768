"""``grader.check`` against a kernel whose values lie about what they are (the second red team of issue 20).

``grader.check`` reads the kernel's namespace to find which cell made each of the lab's names
(grader/grading/kernel.py). The kernel is the student's: any object there may be built to lie.
The promises: reading it calls none of the student's code (no ``__eq__``, no metaclass, no property,
no ``repr`` of their classes); a value that is not what it says is not graded as what it says (a
callable dressed as a function earns nothing for the function it claims to be); and whatever the
namespace holds, the notebook gets a report, never a traceback.
"""

from __future__ import annotations

import types

import pytest

from grader.grading.kernel import Kernel, assemble

RIGHT = "def numpy_to_tensor(a):\n    return 'right'\n"
CALLED: list[str] = []


def kernel_after(cells: list[str], tamper=None) -> Kernel:
    """The kernel after running ``cells`` (each compiled under a file name of its own, as IPython does),
    then ``tamper(namespace)``, what a student can do from any cell."""
    namespace: dict = {"__name__": "__main__"}
    files = {}
    for number, source in enumerate(cells, start=1):
        files[f"/tmp/ipykernel_1/{number}.py"] = number
        exec(compile(source, f"/tmp/ipykernel_1/{number}.py", "exec"), namespace)
    if tamper is not None:
        tamper(namespace)
    return Kernel(namespace, ["", *cells], files)


@pytest.fixture(autouse=True)
def nothing_called():
    CALLED.clear()
    yield
    assert CALLED == [], f"the grader ran the student's code: {CALLED}"


class Raising:
    """Whatever is asked of it records the question, then raises."""

    def __eq__(self, other):
        CALLED.append("__eq__")
        raise RuntimeError("__eq__")

    def __ne__(self, other):
        CALLED.append("__ne__")
        raise RuntimeError("__ne__")

    __hash__ = object.__hash__


def dressed_as_a_function(namespace: dict) -> None:
    """A callable that says it is the cell's function (its ``__class__`` and ``__code__``) and returns
    something else when called."""
    real = namespace["numpy_to_tensor"]

    class Disguise:
        __class__ = property(lambda self: types.FunctionType)
        __code__ = real.__code__
        __module__ = "__main__"

        def __call__(self, array):
            return "wrong"

    namespace["numpy_to_tensor"] = Disguise()


def a_module_attribute_that_raises(namespace: dict) -> None:
    real = namespace["numpy_to_tensor"]
    real.__module__ = Raising()


def a_metaclass_that_answers(namespace: dict) -> None:
    class Meta(type):
        def __getattribute__(cls, name):
            CALLED.append(f"Meta.{name}")
            raise RuntimeError(name)

    namespace["numpy_to_tensor"] = Meta("numpy_to_tensor", (), {"__module__": "__main__"})


def a_module_whose_name_raises(namespace: dict) -> None:
    class Module(types.ModuleType):
        @property
        def __name__(self):
            CALLED.append("Module.__name__")
            raise RuntimeError("__name__")

    namespace["np"] = Module("numpy")


def something_else_under_the_name(namespace: dict) -> None:
    class Anything:
        def __getattr__(self, name):
            CALLED.append(f"Anything.{name}")
            raise AttributeError(name)

    namespace["numpy_to_tensor"] = Anything()


def test_a_callable_dressed_as_the_cells_function_is_not_graded_as_it():
    """isinstance() believes ``__class__``: the disguise was graded as the cell's right function."""
    assembled = assemble(kernel_after([RIGHT], dressed_as_a_function), ["numpy_to_tensor"], "pytorch_basics")
    assert assembled.graded == [] and "return 'right'" not in assembled.converted.source
    assert assembled.elsewhere == ["numpy_to_tensor"]


def test_a_name_bound_outside_the_cells_to_something_else_is_not_graded_as_its_old_def():
    """The last cell binding the name was its ``def``: graded as that, whatever the kernel holds now."""
    assembled = assemble(kernel_after([RIGHT], something_else_under_the_name), ["numpy_to_tensor"], "pytorch_basics")
    assert assembled.graded == [] and assembled.elsewhere == ["numpy_to_tensor"]


def test_a_function_whose_module_raises_when_compared_is_graded_as_its_def_without_comparing():
    """``f.__module__ = Raising()``: comparing it with "__main__" ran the student's ``__eq__`` (and
    stopped grader.check with its exception). The function is still the cell's: graded as its def."""
    assembled = assemble(kernel_after([RIGHT], a_module_attribute_that_raises), ["numpy_to_tensor"],
                         "pytorch_basics")
    assert assembled.graded == ["numpy_to_tensor"] and "return 'right'" in assembled.converted.source


def test_a_class_whose_metaclass_answers_every_question_is_asked_none():
    """Reading a class's ``__module__`` or its dict through the class ran its metaclass's
    ``__getattribute__``. It is read from the class's dict; and a class is not what a ``def`` makes."""
    assembled = assemble(kernel_after([RIGHT], a_metaclass_that_answers), ["numpy_to_tensor"], "pytorch_basics")
    assert assembled.graded == [] and assembled.elsewhere == ["numpy_to_tensor"]


def test_a_module_whose_name_raises_is_read_from_its_dict():
    """A module's ``__name__`` read as an attribute ran the subclass's property (a traceback in the
    notebook); its dict says which module it is."""
    cells = ["import numpy as np", "def numpy_to_tensor(a):\n    return np.zeros(1)\n"]
    assembled = assemble(kernel_after(cells, a_module_whose_name_raises), ["numpy_to_tensor"], "pytorch_basics")
    assert assembled.graded == ["numpy_to_tensor"] and "import numpy as np" in assembled.converted.source


@pytest.mark.parametrize("value", [10 ** 5000, {10 ** 5000: 1}, [0, -(10 ** 4400)]], ids=["int", "key", "item"])
def test_a_constant_python_cannot_write_is_carried_by_its_statement(value):
    """repr() of an int of more than 4300 digits raises ValueError: grader.check stopped with it."""
    def bind(namespace):
        namespace["K"] = value

    cells = ["K = 0", "def numpy_to_tensor(a):\n    return K\n"]
    assembled = assemble(kernel_after(cells, bind), ["numpy_to_tensor"], "pytorch_basics")
    assert assembled.graded == ["numpy_to_tensor"] and "K = 0" in assembled.converted.source
