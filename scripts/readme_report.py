#!/usr/bin/env python
"""Regenerate the sample report in README.md from a real grading run.

The sample is what a student sees after two typical Lab 4 mistakes: the
reference solution with ``to_unet_input`` adding its two axes in the wrong
places, and ``audio_to_tensor`` moving its result to a hard-coded ``"cuda"``.
It is graded from a course folder of its own, with ``-k`` keeping the run
short, and rendered at 80 columns without colour, as ``grade lab4`` prints it
when piped.  ``tests/test_readme.py`` checks that README.md shows exactly this
(the time taken and the lines about this machine's sandbox aside).

    python scripts/readme_report.py            # print the report
    python scripts/readme_report.py --write    # and put it into README.md
"""

from __future__ import annotations

import argparse
import os
import re
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

README = REPO / "README.md"
KEYWORD = "to_unet_input or audio_to_tensor or select_device"
MISTAKES = (
    ("        return x.unsqueeze(0).unsqueeze(0)", "        return x.unsqueeze(1).unsqueeze(1)"),
    ("    return tensor.to(select_device() if device is None else device)", '    return tensor.to("cuda")'),
)
BEGIN, END = "<!-- sample report: scripts/readme_report.py -->\n```\n", "```\n"


def sample_submission() -> str:
    source = (REPO / "reference" / "lab4" / "pytorch_basics.py").read_text(encoding="utf-8")
    for right, wrong in MISTAKES:
        assert right in source, f"the reference no longer has {right.strip()!r}"
        source = source.replace(right, wrong, 1)
    return source


def sample_report() -> str:
    """Grade the sample in a course folder of its own, as `grade lab4 -k ...` there would."""
    from grader.feedback.report import as_text
    from grader.grading.run import grade

    with tempfile.TemporaryDirectory(prefix="readme-course-") as course:
        student = Path(course) / "assignments" / "lab4" / "pytorch_basics.py"
        student.parent.mkdir(parents=True)
        student.write_text(sample_submission(), encoding="utf-8")
        here = os.getcwd()
        os.chdir(course)
        try:
            result = grade("lab4", Path("assignments/lab4/pytorch_basics.py"), course=REPO, keyword=KEYWORD)
        finally:
            os.chdir(here)
    return as_text(result, width=80)


def readme_block(readme: str) -> str:
    start = readme.index(BEGIN) + len(BEGIN)
    return readme[start:readme.index(END, start)]


def comparable(report: str) -> str:
    """The report without what depends on the run's machine: its time and its sandbox."""
    kept = [line.rstrip() for line in report.splitlines() if not line.startswith("⚠")]
    return re.sub(r"graded in [\d.]+ s.*", "graded in … s", "\n".join(kept)).strip()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--write", action="store_true", help="replace the sample in README.md")
    args = parser.parse_args()
    report = sample_report()
    print(report, end="")
    if args.write:
        readme = README.read_text(encoding="utf-8")
        old = readme_block(readme)
        README.write_text(readme.replace(BEGIN + old + END, BEGIN + report.rstrip() + "\n" + END), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
