"""A real Jupyter kernel for tests: a notebook run cell by cell, as a student runs it.

nbclient drives an ipykernel kernel of the Python given (a kernelspec of its own, so the
machine's installed kernels do not matter), started in the folder given, with the
environment given (Jupyter names the notebook to its kernel in ``JPY_SESSION_NAME``).
"""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import Iterator
from pathlib import Path

import nbformat


class NotebookKernel:
    """A notebook being run in a real kernel, one cell at a time."""

    def __init__(self, client, book) -> None:
        self.client, self.book, self.shown = client, book, []

    def run(self, source: str) -> list:
        """Run one more cell; its outputs."""
        cell = nbformat.v4.new_code_cell(source)
        self.book.cells.append(cell)
        self.client.execute_cell(cell, len(self.book.cells) - 1)
        return cell.outputs

    def value(self, expression: str):
        """The JSON value of ``expression``, computed in the kernel."""
        outputs = self.run(f"import json as _json\nprint(_json.dumps({expression}))")
        return json.loads("".join(o.text for o in outputs if o.output_type == "stream" and o.name == "stdout"))

    def check_results(self, call: str) -> list[tuple[str, str, float]]:
        """Per check (name, status, score) of ``call`` (grader.check or grader.export), whose report
        the cell shows as its value (its outputs are kept in ``shown``)."""
        self.shown = self.run(f"_report = {call}\n_report")
        return [tuple(row) for row in self.value("[(c.name, c.status, c.score) for c in _report.result.checks]")]


@contextlib.contextmanager
def running(notebook: Path, python: str, folder: Path, specs: Path,
            environment: dict[str, str] | None = None) -> Iterator[NotebookKernel]:
    """``notebook`` executed in a fresh kernel of ``python`` started in ``folder`` (kernelspec under
    ``specs``, environment ``environment``, default this one's); more cells can then be run in it."""
    from jupyter_client.kernelspec import KernelSpecManager
    from jupyter_client.manager import KernelManager
    from nbclient import NotebookClient

    (specs / "grade-python").mkdir(parents=True, exist_ok=True)
    (specs / "grade-python" / "kernel.json").write_text(json.dumps(
        {"argv": [python, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
         "display_name": "the tests' Python", "language": "python"}))
    manager = KernelManager(kernel_name="grade-python", kernel_spec_manager=KernelSpecManager(kernel_dirs=[str(specs)]))
    book = nbformat.read(notebook, as_version=4)
    client = NotebookClient(book, km=manager, timeout=600, resources={"metadata": {"path": str(folder)}})
    with client.setup_kernel(env=dict(os.environ if environment is None else environment)):
        for index, cell in enumerate(book.cells):
            client.execute_cell(cell, index)
        yield NotebookKernel(client, book)
