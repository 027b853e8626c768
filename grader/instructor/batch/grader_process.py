"""A warm grader process: imports pytest, torch and the suite once, then grades job after job.

Started with multiprocessing's "spawn" context (a fresh interpreter, never a
fork of a process that may hold torch's thread pools). It ignores Ctrl-C
(the controller decides when to stop); SIGTERM, or its controller dying,
stops it: the submission in flight is abandoned, its worker killed on the
way out, and nothing is reported for it.
"""

from __future__ import annotations

import ctypes
import functools
import importlib
import os
import signal
import sys
from typing import Any, Callable

from grader.instructor.batch.events import CHECK_FINISHED, DONE, READY, STARTED, Event, Job, failure

_PR_SET_PDEATHSIG = 1
# how a grader reaches the reference, by name like the grade and warm-up targets: importing the grading
# code (torch) is the grader process's work, not its controller's
REACH_TARGET = "grader.instructor.batch.job:reach_for"
_stopping = False


def resolve(target: str) -> Callable[..., Any]:
    """``"package.module:function"`` → the function (picklable by name across spawn)."""
    module, _, name = target.partition(":")
    return getattr(importlib.import_module(module), name)


def serve(name: str, lab: str, conn: Any, grade_target: str, warm_target: str, parent: int) -> None:
    """The grader's loop: one job at a time from ``conn`` (its private pipe) until a ``None``."""
    _install_signals(parent)
    launcher = None
    try:
        launcher = resolve(warm_target)(lab)   # a warm template for the workers, or None
        # the reference's answers: kept across runs in the cache (computed at most once), or the release's
        grade_job = functools.partial(resolve(grade_target), reach=resolve(REACH_TARGET)(lab))
        if launcher is not None:
            grade_job = functools.partial(grade_job, launcher=launcher)
        conn.send(Event(READY, name))
        while not _stopping:
            job: Job | None = conn.recv()
            if job is None:
                break
            _grade_one(name, job, grade_job, conn)
    except (KeyboardInterrupt, EOFError, BrokenPipeError):   # stopped, or the controller is gone
        pass
    finally:
        if launcher is not None:
            launcher.close()


def _grade_one(name: str, job: Job, grade_job: Callable[..., dict], conn: Any) -> None:
    conn.send(Event(STARTED, name, job.key, job.attempt))

    def on_check(check: dict[str, Any]) -> None:
        conn.send(Event(CHECK_FINISHED, name, job.key, job.attempt, check))

    try:
        data = {"result": grade_job(job, on_check)}
    except KeyboardInterrupt:
        raise
    except Exception as exc:   # SetupError and the like: the controller records it, we go on
        data = failure(exc)
    if not _stopping:          # a result cut short by a stop is not a grade
        conn.send(Event(DONE, name, job.key, job.attempt, data))


def _install_signals(parent: int) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, _on_term)
    if sys.platform.startswith("linux"):
        ctypes.CDLL(None).prctl(_PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)
    if os.getppid() != parent:   # the controller died before we could ask to be told
        os.kill(os.getpid(), signal.SIGTERM)


def _on_term(signum: int, frame: Any) -> None:
    global _stopping
    if not _stopping:
        _stopping = True
        raise KeyboardInterrupt   # unwinds the run: pytest stops, the worker is killed on the way out
