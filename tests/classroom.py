"""A Lab 4 class as an instructor gets it: correct hand-ins written apart, typical mistakes, an untouched
stub, a notebook, a copy, a late Canvas file, hostile names and messages, one that does not parse.

Used by the slow tests that grade a real batch (tests/test_class_report.py) and by the browser tests.
"""

from __future__ import annotations

import json
from pathlib import Path

from tests.corpus import STUB, disguised, solution
from tests.submissions import LAB4, changed, lab4_hard_coded_cuda

HOSTILE_ID = "<img src=x onerror=alert(1)>"
HOSTILE_MESSAGE = "<script>document.title='pwned'</script>"
KEYWORD = "select_device or to_unet_input or audio_to_tensor"   # a batch the tests can afford


def cuda_the_other_way() -> str:
    """A second student's hard-coded GPU: ``.cuda()`` instead of the reference's ``.to(device)``."""
    return changed(solution("compact"), "return to_unet_input(numpy_to_tensor(S.astype(\"float32\"))).to(device or "
                                        "select_device())",
                   "return to_unet_input(numpy_to_tensor(S.astype(\"float32\"))).cuda()")


def markup_in_messages() -> str:
    """to_unet_input raises with markup in its message (and prints some): the report must show it as text."""
    return changed(LAB4, '    if x.ndim == 2:\n        return x.unsqueeze(0).unsqueeze(0)',
                   f'    if x.ndim == 2:\n        print("{HOSTILE_MESSAGE}")\n'
                   f'        raise ValueError("{HOSTILE_MESSAGE}")')


def notebook(source: str) -> str:
    """``source`` as a notebook of one code cell per top-level block (and a magic, as students leave them)."""
    import nbformat

    cells = ["%matplotlib inline"] + [block for block in source.split("\n\n\n") if block.strip()]
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(cell) for cell in cells]
    return nbformat.writes(nb)


def files() -> dict[str, str]:
    """Relative path -> text of every hand-in."""
    return {
        "alice/pytorch_basics.py": solution("reference"),
        "bob/pytorch_basics.py": solution("careful"),
        "carol/pytorch_basics.py": solution("compact"),
        "dave/pytorch_basics.py": lab4_hard_coded_cuda(),
        "erin/pytorch_basics.py": cuda_the_other_way(),
        "frank/pytorch_basics.py": STUB,
        "grace/pytorch_basics.ipynb": notebook(solution("loops")),
        "heidi/pytorch_basics.py": disguised(solution("careful")),
        f"{HOSTILE_ID}/pytorch_basics.py": markup_in_messages(),
        "ivan/pytorch_basics.py": STUB.replace("def select_device(", "def select_device((", 1),
        "smithjane_late_12345_67890_pytorch_basics.py": lab4_hard_coded_cuda(),
    }


def write_class(folder: Path) -> Path:
    for name, text in files().items():
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return folder


if __name__ == "__main__":   # python -m tests.classroom DIR: write the class (for a demo or a screenshot)
    import sys

    print(json.dumps(sorted(files())), file=sys.stderr)
    write_class(Path(sys.argv[1]))
