"""Grading one batch job: the function every grader runs, locally or on a Dask worker."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any, Callable

from grader.batch.events import Job
from grader.labs import find_lab


def warm_up(lab_name: str) -> None:
    """Pay once per grader what every submission would otherwise pay: pytest, torch, the suite."""
    import torch  # noqa: F401

    from grader.run import list_checks

    list_checks(lab_name)


def run_job(job: Job, on_check: Callable[[dict[str, Any]], None] | None = None) -> dict[str, Any]:
    """Grade ``job``; returns ``GradeResult.to_dict()``. Raises SetupError when it cannot start."""
    from grader.run import grade

    def check_finished(check: Any) -> None:
        if on_check is not None:
            on_check({"name": check.name, "status": check.status, "score": check.score})

    if job.source:   # the file came as text: this grader does not share the controller's disk
        with tempfile.TemporaryDirectory(prefix="grade-job-") as folder:
            code = Path(folder) / find_lab(job.lab).filename
            code.write_text(job.source)
            result = grade(job.lab, code, keyword=job.keyword, call_timeout=job.call_timeout,
                           import_timeout=job.import_timeout, on_check=check_finished)
    else:
        result = grade(job.lab, Path(job.code), keyword=job.keyword, call_timeout=job.call_timeout,
                       import_timeout=job.import_timeout, on_check=check_finished)
    result.submission = job.key
    return result.to_dict()
