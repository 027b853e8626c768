"""A toy course built in a folder: one lab, one function, one check, its stub and reference.

Everything the engine needs is data in the folder (``suites/toy1/lab.toml``),
so tests grade it through the public API and the CLI without touching any
registry in code.  The lab's warm-up module and [environment] are observed by
its own probe: the check passes only when the worker ran the warm-up, got the
environment, and loaded this lab's probes.
"""

from __future__ import annotations

import uuid
from pathlib import Path

LAB = "toy1"
MODULE = "adder"

LAB_TOML = f'''
title = "Toy Addition"
module = "{MODULE}"
preload = ["numpy"]
warm_up = ["warm.py"]
probes = ["probes.py"]

[environment]
TOY_COLOUR = "teal"
'''

WARM = '''
import os


def warm_up():
    os.environ["TOY_WARMED"] = "yes"
'''

PROBES = '''
import os as _os


def toy1_call_and_observe(module, function, *args):
    """The student's answer, with what the worker was set up with."""
    return {"value": getattr(module, function)(*args), "warmed": _os.environ.get("TOY_WARMED"),
            "colour": _os.environ.get("TOY_COLOUR")}
'''

SUITE = '''
import pytest

from grader.checks import expect, run_probe


@pytest.mark.points(2)
def test_add(submission, reference):
    """add sums two numbers"""
    seen = run_probe(submission, "toy1_call_and_observe", "add", 2, 3)
    expect(seen["warmed"] == "yes" and seen["colour"] == "teal", f"the worker was not set up: {seen}")
    expect(seen["value"] == reference.add(2, 3), f"add(2, 3) gave {seen['value']!r}", function="add")
'''

REFERENCE = '''
def add(a, b):
    """The sum of a and b."""
    return a + b
'''

STUB = '''
def add(a, b):
    """The sum of a and b."""
    raise NotImplementedError
'''


def make_course(root: Path, *, reference: bool = True, suite: str = SUITE) -> Path:
    """Write the toy course under ``root`` and return it."""
    files = {
        f"suites/{LAB}/lab.toml": LAB_TOML,
        f"suites/{LAB}/warm.py": WARM,
        f"suites/{LAB}/probes.py": PROBES,
        # a name of its own: pytest keeps a suite module it imported once, by name
        f"suites/{LAB}/test_toy_{uuid.uuid4().hex[:12]}.py": suite,
        f"assignments/{LAB}/{MODULE}.py": STUB,
    }
    if reference:
        files[f"reference/{LAB}/{MODULE}.py"] = REFERENCE
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)
    return root


WITH_HIDDEN = SUITE + '''

@pytest.mark.points(3)
@pytest.mark.visibility("hidden")
def test_add_negatives(submission, reference):
    """add handles negative numbers"""
    expect(submission.add(-2, -5) == reference.add(-2, -5), "add(-2, -5) is wrong", function="add")


@pytest.mark.points(1)
@pytest.mark.visibility("after_due_date")
def test_add_floats(submission, reference):
    """add handles floats"""
    expect(submission.add(0.5, 0.25) == reference.add(0.5, 0.25), "add(0.5, 0.25) is wrong", function="add")
'''
