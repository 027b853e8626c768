"""The course's labs: where each one's stub, reference and suite live."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent
COURSE_ROOT = PACKAGE.parent
SUITES = PACKAGE / "suites"


@dataclass(frozen=True)
class Lab:
    name: str                              # "lab4"
    title: str                             # "PyTorch Essentials"
    module: str                            # the file students write, without ".py"
    preload: tuple[str, ...] = ("numpy", "torch")   # imported by the worker before the submission
    reply_bytes: int = 8 << 20     # the largest reply a check reads from the worker; more is a failed check

    @property
    def filename(self) -> str:
        return f"{self.module}.py"

    @property
    def suite_dir(self) -> Path:
        return SUITES / self.name

    @property
    def reference_file(self) -> Path:
        return COURSE_ROOT / "reference" / self.name / self.filename

    def assignment_file(self, course: Path) -> Path:
        return course / "assignments" / self.name / self.filename


LABS: dict[str, Lab] = {
    lab.name: lab
    for lab in (
        Lab("lab1", "Loading Audio", "audio_io", ("numpy", "torch", "librosa", "soundfile")),
        Lab("lab2", "NumPy for Audio", "numpy_basics", ("numpy", "torch")),
        # Labs 3 and 4 return spectrograms of a 30 s clip: 5.3 MB as float32, room for float64 or complex.
        Lab("lab3", "STFT Spectrograms", "spectrograms", ("numpy", "torch", "librosa", "matplotlib.pyplot"),
            reply_bytes=32 << 20),
        Lab("lab4", "PyTorch Essentials", "pytorch_basics", ("numpy", "torch", "librosa"), reply_bytes=32 << 20),
        Lab("lab5", "U-Net Vocal Separation", "unet", ("numpy", "torch")),
    )
}


def available_labs() -> list[Lab]:
    """Labs whose suite is installed."""
    return [lab for lab in LABS.values() if lab.suite_dir.is_dir()]


def find_lab(name: str) -> Lab:
    lab = LABS.get(name.lower())
    if lab is None or not lab.suite_dir.is_dir():
        known = ", ".join(lab.name for lab in available_labs())
        raise KeyError(f"unknown lab {name!r} (labs: {known})")
    return lab
