"""Typical student mistakes, as submissions made from the reference solutions by one textual change.

Each function returns the text of a whole submission file.  They are used by
tests/test_feedback_runs.py (what the report says about each mistake) and to
show the report before and after a change.
"""

from __future__ import annotations

from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
LAB4 = (REPO / "reference" / "lab4" / "pytorch_basics.py").read_text(encoding="utf-8")
LAB5 = (REPO / "reference" / "lab5" / "unet.py").read_text(encoding="utf-8")


def changed(source: str, right: str, wrong: str) -> str:
    assert right in source, f"the reference no longer has {right.strip()!r}"
    return source.replace(right, wrong, 1)


def lab4_hard_coded_cuda() -> str:
    """audio_to_tensor moves its result to "cuda", as on the lecture's machine, ignoring `device`."""
    return changed(LAB4, "    return tensor.to(select_device() if device is None else device)",
                   '    return tensor.to("cuda")  # the lecture machine has a GPU')


def lab4_syntax_error() -> str:
    return changed(LAB4, "def select_device(", "def select_device((")


def lab4_missing_package() -> str:
    return changed(LAB4, "from __future__ import annotations\n",
                   "from __future__ import annotations\n\nimport torchaudio_extras_that_do_not_exist\n")


def lab4_input_at_import() -> str:
    return LAB4 + '\nNAME = input("your name? ")\n'


def lab4_endless_loop_everywhere() -> str:
    """Every call of numpy_to_tensor hangs."""
    return LAB4 + "\n\ndef numpy_to_tensor(array):\n    while True:\n        pass\n"


def lab4_noisy_to_numpy() -> str:
    """to_numpy prints, warns about its own line, and makes NumPy warn inside NumPy; then fails."""
    return LAB4 + '''

import warnings as _warnings

def to_numpy(tensor):
    print("debugging to_numpy")
    _warnings.warn("to_numpy: this is my own warning")
    np.mean(np.array([]))  # NumPy warns from its own file: "Mean of empty slice"
    return tensor.detach().cpu().numpy() + 1
'''


def lab5_without_skip_connections() -> str:
    """Up.forward forgets to concatenate the skip connection: the next convolution gets half the channels."""
    return changed(LAB5, "        x = torch.cat([x2, x1], dim=1)\n        return self.conv(x)",
                   "        return self.conv(x1)  # forgot the skip connection")


def lab5_skip_in_wrong_order() -> str:
    """Up.forward concatenates [x1, x2]: shapes fit, values do not, and separate/train_step inherit it."""
    return changed(LAB5, "torch.cat([x2, x1], dim=1)", "torch.cat([x1, x2], dim=1)")


def write(folder: Path, filename: str, source: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / filename).write_text(source, encoding="utf-8")
    return folder
