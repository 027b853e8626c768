"""``grader.check`` and ``grader.export``: grading from inside a running notebook.

Both grade through the same run as ``grade lab4`` (:func:`grader.grading.run.grade`: a
fresh confined worker, the same checks, the same report); the student's code never runs
in the kernel's grading code.  They differ in what they grade:

* :func:`check` grades what the kernel defines now (:mod:`grader.grading.kernel` says
  exactly what that is), so a student sees where they stand without saving anything;
* :func:`export` writes the lab's file from the saved notebook's code cells, as
  ``grade lab4 --submission x.ipynb`` reads them, grades that file, and says where it is:
  what is handed in is what was graded.

The report is the cell's value: rich renders it in Jupyter, VS Code and Colab, and a
terminal IPython prints it as text.  A problem (unknown lab, no notebook found) is one
line in the cell, not a traceback.
"""

from __future__ import annotations

import contextlib
import datetime
import json
import os
import sys
import tempfile
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rich.console import Console, ConsoleOptions, RenderResult
from rich.jupyter import JupyterMixin

from grader.course.folder import find_lab
from grader.course.labs import Lab
from grader.course.stub import lab_definitions
from grader.errors import SetupError
from grader.feedback import report
from grader.grading.kernel import Assembled, Kernel, assemble, compare
from grader.grading.notebooks import Converted, NotebookError, convert
from grader.grading.run import grade, point_into_cells
from grader.results import GradeResult

EXPORT_MARK = "# written by grader.export"   # the first line of a file export wrote (and may write again)


class NotebookProblem(SetupError):
    """Why check or export cannot grade, in one line; a notebook shows only that line."""

    def _render_traceback_(self) -> list[str]:   # IPython shows this instead of a traceback
        return [f"grader: error: {self}"]


class NotebookReport(JupyterMixin):
    """The report of one check or export, as the cell's value (``.result`` holds the data)."""

    def __init__(self, result: GradeResult, verbose: bool = False, file: Path | None = None) -> None:
        self.result, self.verbose, self.file = result, verbose, file

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        yield report.render(self.result, self.verbose)

    def __repr__(self) -> str:
        return report.as_text(self.result, verbose=self.verbose)


def check(lab: str, function: str | None = None, *, course: str | os.PathLike | None = None,
          verbose: bool = False, timeout: float = 10.0) -> NotebookReport:
    """Grade the lab's functions as this notebook defines them now, in a fresh sandboxed worker.

    ``grader.check("lab4")`` grades every function of Lab 4 the kernel holds (cells run out
    of order count as the kernel has them; see grader.grading.kernel); ``grader.check("lab4",
    "numpy_to_tensor")`` only the checks ``grade lab4 -k numpy_to_tensor`` selects.  Returns the
    report, which the notebook shows as the cell's value.  ``course``: the course folder
    (default: as ``grade`` finds it); ``verbose`` lists every check; ``timeout``: seconds per call.
    """
    with _one_line():
        shell = _shell()
        found = _lab(lab, course)
        names = [d.name for d in lab_definitions(found) if "." not in d.name]
        assembled = assemble(Kernel.of_shell(shell), names, found.module)
        with tempfile.TemporaryDirectory(prefix="grade-kernel-") as folder:
            module = Path(folder) / found.filename
            module.write_text(assembled.converted.source, encoding="utf-8")
            result = _graded(found, module, function, course, timeout)
    point_into_cells(result, assembled.converted, found.filename)
    result.submission = f"this notebook as its kernel runs it now: {len(assembled.graded)} of " \
                        f"{len(names)} {found.name} definitions"
    result.notes[:0] = assembled.notes() + _differences_from_saved(shell, assembled, names)
    return NotebookReport(result, verbose)


def export(lab: str, notebook: str | os.PathLike | None = None, *, out: str | os.PathLike | None = None,
           overwrite: bool = False, course: str | os.PathLike | None = None, verbose: bool = False,
           timeout: float = 10.0) -> NotebookReport:
    """Write the lab's file from this notebook's code cells, grade that file, and say where it is.

    The notebook is the one the kernel runs, as saved (save it first): VS Code and Jupyter say
    which file that is and Colab hands over its notebook; elsewhere, or to export another one,
    pass its path.  Magics and ``!`` lines become comments, as ``grade LAB --submission x.ipynb``
    reads a notebook.  The file goes beside the notebook, named as the lab expects (e.g.
    ``pytorch_basics.py``), or to ``out``; a file there that export did not write (other than
    the lab's untouched stub) is kept unless ``overwrite=True``.  Returns the report of that file.
    """
    with _one_line():
        shell = _shell(required=False)
        found = _lab(lab, course)
        located = locate(notebook, shell.user_ns if shell is not None else {}, os.environ, Path.cwd())
        try:
            converted = convert(located.raw)
        except NotebookError as exc:
            raise NotebookProblem(f"{located.name}: {exc}") from None
        target = _target(out, located.folder, found)
        _may_write(target, overwrite, found)
        header = f"{EXPORT_MARK}({found.name!r}) from {located.name}: edit the notebook, then export again\n"
        target.write_text(header + converted.source, encoding="utf-8")
        result = _graded(found, target, None, course, timeout)
    point_into_cells(result, Converted(converted.source, [None] + converted.origins, converted.dropped),
                     found.filename)
    result.submission = str(target)
    result.notes.insert(0, f"this file is what was graded, written from {located.said}: hand in {target}")
    if shell is not None:
        names = [d.name for d in lab_definitions(found) if "." not in d.name]
        definitions = assemble(Kernel.of_shell(shell), names, found.module).definitions
        differing = compare(definitions, converted.source, names)
        if differing:
            result.notes.insert(1, f"your kernel runs other versions of {', '.join(differing)} than this file "
                                   f"has (a cell edited and not run, or the notebook not saved since)")
    return NotebookReport(result, verbose, file=target)


# ------------------------------------------------------------------ which notebook
@dataclass(frozen=True)
class Located:
    """The notebook to export, as the platform or the disk has it."""

    raw: bytes
    name: str        # "lab4.ipynb"
    folder: Path     # where the lab's file goes unless told otherwise
    said: str        # "lab4.ipynb as saved at 14:02:11 (unsaved edits are not in it)"


def locate(given: str | os.PathLike | None, namespace: Mapping[str, Any], environ: Mapping[str, str],
           cwd: Path, colab: Callable[[], bytes | None] | None = None) -> Located:
    """The notebook ``given``, else the one the kernel runs: VS Code names it in the namespace
    (``__vsc_ipynb_file__``), Jupyter in the environment (``JPY_SESSION_NAME``), Colab hands it
    over; else the only notebook in ``cwd``.  A one-line NotebookProblem when none of these says."""
    if given is not None:
        path = Path(given).expanduser()
        if path.suffix != ".ipynb" or not path.is_file():
            raise NotebookProblem(f"{given}: no such notebook (a .ipynb file)")
        return _saved(path)
    for candidate in (namespace.get("__vsc_ipynb_file__"), environ.get("JPY_SESSION_NAME")):
        if isinstance(candidate, str) and candidate.endswith(".ipynb") and Path(candidate).is_file():
            return _saved(Path(candidate))
    raw = (colab or _colab_notebook)()
    if raw is not None:
        return Located(raw, "this Colab notebook", cwd, "this Colab notebook as it is now")
    found = sorted(cwd.glob("*.ipynb"))
    if len(found) == 1:
        return _saved(found[0], " (the only notebook in this folder)")
    raise NotebookProblem(f"cannot tell which notebook this kernel runs (neither Jupyter, VS Code nor Colab "
                          f"says, and {cwd} holds {len(found)} notebooks): pass its path, "
                          f"e.g. grader.export(\"lab4\", \"lab4.ipynb\")")


def _saved(path: Path, why: str = "") -> Located:
    saved = datetime.datetime.fromtimestamp(path.stat().st_mtime).strftime("%H:%M:%S")
    return Located(path.read_bytes(), path.name, path.resolve().parent,
                   f"{path.name} as saved at {saved}{why} (unsaved edits are not in it)")


def _colab_notebook() -> bytes | None:
    """The notebook Colab's front end holds, when this kernel is Colab's."""
    if "google.colab" not in sys.modules:
        return None
    try:
        from google.colab import _message   # Colab's own module, present only there

        reply = _message.blocking_request("get_ipynb", request="", timeout_sec=30)
        return json.dumps(reply["ipynb"]).encode()
    except Exception:   # an old or changed Colab: the student passes a path instead
        return None


def _differences_from_saved(shell: Any, assembled: Assembled, names: list[str]) -> list[str]:
    """A note when the saved notebook defines the lab's names otherwise than the kernel does."""
    try:
        located = locate(None, shell.user_ns, os.environ, Path.cwd())
        saved = convert(located.raw).source
    except (NotebookProblem, NotebookError, OSError):
        return []
    differing = compare(assembled.definitions, saved, names)
    if not differing:
        return []
    return [f"{located.name} as saved defines {', '.join(differing)} otherwise than this kernel runs "
            f"(a cell edited and not run, not saved, or deleted): grader.export grades the saved notebook"]


# ------------------------------------------------------------------ the exported file
def _target(out: str | os.PathLike | None, folder: Path, lab: Lab) -> Path:
    target = Path(out).expanduser() if out is not None else folder / lab.filename
    if target.suffix != ".py":
        raise NotebookProblem(f"out={str(out)!r}: the lab's file is a .py file ({lab.filename})")
    if not target.parent.is_dir():
        raise NotebookProblem(f"out={str(out)!r}: folder {target.parent} does not exist")
    return target


def _may_write(target: Path, overwrite: bool, lab: Lab) -> None:
    """Refuse to replace a file export did not write, unless it is the lab's untouched stub."""
    if overwrite or not target.exists():
        return
    text = target.read_text(encoding="utf-8", errors="replace")
    stub = lab.assignment_file()
    if text.startswith(EXPORT_MARK) or (stub.is_file() and stub.read_text(encoding="utf-8") == text):
        return
    raise NotebookProblem(f"{target} already exists and grader.export did not write it: "
                          f"pass out=\"another.py\", or overwrite=True to replace it")


# ------------------------------------------------------------------ shared steps
@contextlib.contextmanager
def _one_line() -> Iterator[None]:
    """A setup problem as a NotebookProblem: one line in the notebook."""
    try:
        yield
    except NotebookProblem:
        raise
    except SetupError as exc:
        raise NotebookProblem(str(exc)) from None


def _shell(required: bool = True) -> Any:
    """The IPython shell this runs in (Jupyter, VS Code, Colab, IPython), if any."""
    ipython = sys.modules.get("IPython")
    shell = ipython.get_ipython() if ipython is not None else None
    if shell is not None and hasattr(shell, "history_manager"):
        return shell
    if required:
        raise NotebookProblem("grader.check grades what a running notebook defines: call it in a notebook "
                              "cell (Jupyter, VS Code, Colab); in a terminal, run `grade LAB`")
    return None


def _lab(name: str, course: str | os.PathLike | None) -> Lab:
    return find_lab(name, Path(course) if course is not None else None)


def _graded(lab: Lab, module: Path, keyword: str | None, course: str | os.PathLike | None,
            timeout: float) -> GradeResult:
    result = grade(lab.name, module, course=Path(course) if course is not None else None, keyword=keyword,
                   call_timeout=timeout)
    if not result.checks:
        raise NotebookProblem(f"no checks of {lab.name} match {keyword!r}" if keyword else "no checks ran")
    return result
