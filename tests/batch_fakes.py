"""A stand-in grading function for controller tests: behaves as the submission's text says.

``SCORE a b`` → two checks scoring a/1 and b/1; ``CRASH`` → the grader process
dies; ``CRASH_ONCE path`` → dies the first time (marker file), grades later;
``HANG`` → never returns; ``ERROR`` → grading raises; ``NO_WORKER`` → no worker could start (the grader's
problem).
"""

from __future__ import annotations

import os
import time
from pathlib import Path

from grader.errors import WorkerStartError
from grader.results import CheckResult, GradeResult


def warm(lab: str) -> None:
    pass


def grade(job, on_check=None, **context) -> dict:
    text = Path(job.code).read_text()
    words = text.split()
    if words[0] == "CRASH":
        os._exit(3)
    if words[0] == "CRASH_ONCE" and not Path(words[1]).exists():
        Path(words[1]).write_text("crashed once")
        os._exit(3)
    if words[0] == "HANG":
        time.sleep(3600)
    if words[0] == "ERROR":
        raise RuntimeError("the suite broke")
    if words[0] == "NO_WORKER":
        raise WorkerStartError("grade could not start its worker on this system (portable): worker exited "
                               "with status 127 while starting")
    if words[0] == "SLEEP":
        time.sleep(float(words[1]))
        words = words[2:]
    scores = [float(w) for w in words[1:3]] if words[0] == "SCORE" else [1.0, 1.0]
    checks = [CheckResult(f"test_{i}", f"check {i}", 1.0, "passed" if s else "failed", s, output=f"out {i}")
              for i, s in enumerate(scores)]
    for check in checks:
        if on_check:
            on_check({"name": check.name, "status": check.status, "score": check.score})
    return GradeResult(job.lab, "Fake", job.key, checks, 0.01, "none").to_dict()
