"""A Jupyter notebook's code cells as a Python module a worker can import.

IPython-only syntax (``%magic``, ``!shell``) is not Python: each such line
becomes a ``pass`` at the same indentation, so the blocks around it still
parse; cells of a shell or other-language cell magic (``%%bash``) are dropped.
"""

from __future__ import annotations

import re

# cell magics whose body is still Python
_PYTHON_CELL_MAGICS = {"time", "timeit", "capture", "prun"}
_ESCAPE = re.compile(r"^(?P<indent>\s*)(?:%|!)")
_ASSIGNED_ESCAPE = re.compile(r"^(?P<indent>\s*)[\w.,\s]+=\s*(?:%|!)")


class NotebookError(ValueError):
    """The file is not a notebook nbformat can read."""


def notebook_to_source(raw: bytes) -> str:
    """The code cells of the notebook ``raw``, IPython syntax removed."""
    import nbformat

    try:
        notebook = nbformat.reads(raw.decode("utf-8"), as_version=4)
    except Exception as exc:  # nbformat raises many kinds: JSON, schema, unicode
        raise NotebookError(f"not a readable notebook ({type(exc).__name__})") from None
    cells = [cell_source(cell.source) for cell in notebook.cells if cell.cell_type == "code"]
    return "\n\n".join(c for c in cells if c.strip()) + "\n"


def cell_source(source: str) -> str:
    lines = source.splitlines()
    if lines and lines[0].lstrip().startswith("%%"):
        magic = lines[0].lstrip()[2:].split()[0] if lines[0].lstrip()[2:].split() else ""
        if magic not in _PYTHON_CELL_MAGICS:
            return ""
        lines = lines[1:]
    return "\n".join(_python_line(line) for line in lines)


def _python_line(line: str) -> str:
    match = _ESCAPE.match(line) or _ASSIGNED_ESCAPE.match(line)
    if match is None:
        return line
    return f"{match['indent']}pass  # notebook-only line removed: {line.strip()[:60]}"
