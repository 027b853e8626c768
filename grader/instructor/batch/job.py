"""Grading one batch job: the function every grader runs, locally or on a Dask worker."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any, Callable

from grader.instructor.batch.events import Job
from grader.grading.reference import Reach, automatic
from grader.grading.run import grade, list_checks
from grader.isolation import Launcher, TemplateLauncher
from grader.course.folder import find_lab


def warm_up(lab_name: str) -> Launcher | None:
    """Pay once per grader what every submission would otherwise pay: pytest, torch, the suite;
    and the launcher its workers come from: a warm template where one works here, else None
    (each run then picks the strongest isolation, as a single ``grade`` does)."""
    import torch  # noqa: F401

    list_checks(lab_name)
    return worker_launcher()


def worker_launcher() -> Launcher | None:
    """A :class:`TemplateLauncher` when templates work here and $GRADE_SANDBOX asks for nothing weaker."""
    if os.environ.get("GRADE_SANDBOX", "namespaces") != "namespaces" or os.environ.get("GRADE_TEMPLATE") == "0":
        return None
    launcher = TemplateLauncher()
    if launcher.template_available():
        return launcher
    launcher.close()
    return None


def reach_for(lab_name: str) -> Reach:
    """How a grader that grades many submissions of ``lab_name`` reaches the reference: its answers kept in
    the cache and in memory (the instructor's course: the reference runs at most once per answer), or the
    release's recorded ones, read once (grader.grading.reference.automatic)."""
    return automatic(find_lab(lab_name))


def run_job(job: Job, on_check: Callable[[dict[str, Any]], None] | None = None,
            launcher: Launcher | None = None, reach: Reach | None = None) -> dict[str, Any]:
    """Grade ``job`` (workers from ``launcher``, the reference reached by ``reach``, when given);
    returns ``GradeResult.to_dict()``.  Raises SetupError when it cannot start.  Every check is
    graded, those students see only after the due date (or never) included."""
    def check_finished(check: Any) -> None:
        if on_check is not None:
            on_check({"name": check.name, "status": check.status, "score": check.score})

    if job.source:   # the file came as text: this grader does not share the controller's disk
        with tempfile.TemporaryDirectory(prefix="grade-job-") as folder:
            code = Path(folder) / (find_lab(job.lab).module + Path(job.code).suffix)   # .py, or a notebook
            code.write_bytes(job.source.encode("utf-8", "surrogateescape"))   # the bytes staged
            result = grade(job.lab, code, keyword=job.keyword, call_timeout=job.call_timeout,
                           import_timeout=job.import_timeout, on_check=check_finished, launcher=launcher,
                           reach=reach, student=False)
    else:
        result = grade(job.lab, Path(job.code), keyword=job.keyword, call_timeout=job.call_timeout,
                       import_timeout=job.import_timeout, on_check=check_finished, launcher=launcher,
                       reach=reach, student=False)
    result.submission = job.key
    return result.to_dict()
