"""grade: the autograder of the audio → U-Net course.  In a notebook::

    import grader
    grader.check("lab4")      # the lab's functions as this notebook defines them now
    grader.export("lab4")     # the lab's file from the saved notebook, graded: hand it in

Both live in :mod:`grader.grading.in_notebook` and load on first use, so ``import grader``
imports neither torch, pytest nor rich.
"""

from __future__ import annotations

TYPE_CHECKING = False   # typing.TYPE_CHECKING, without importing typing
if TYPE_CHECKING:
    from grader.grading.in_notebook import check, export

__all__ = ["check", "export"]


def __getattr__(name: str) -> object:
    if name in __all__:   # loaded on first use: grading needs pytest, torch and rich, `import grader` does not
        from grader.grading import in_notebook

        return getattr(in_notebook, name)
    raise AttributeError(f"module 'grader' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted([*globals(), *__all__])
