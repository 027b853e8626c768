"""Submissions that leave processes behind: none may outlive the grading run."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import time
import uuid
from pathlib import Path

from tests.helpers import REPO, kill_processes_with, needs_confinement, needs_namespaces, processes_with
from tests.hostile.conftest import assert_contained
from tests.hostile.test_confinement import reported


def test_forked_child_that_sleeps_forever(attack):
    graded = attack("""
        import ctypes as _ctypes
        import os as _os
        import time as _time

        _reference_numpy_to_tensor = numpy_to_tensor

        def numpy_to_tensor(array):
            child = _os.fork()
            if child == 0:
                _ctypes.CDLL(None).prctl(15, b"MARKER", 0, 0, 0)  # a name to look for afterwards
                while True:
                    _time.sleep(1)
            print("MARKER forked", child)
            return _reference_numpy_to_tensor(array)
    """)
    assert_contained(graded, attacked="passed")  # the answer is right: only the child is an attack
    assert f"{graded.marker} forked" in graded.check("attacked").output  # the fork did happen


def test_detached_children_that_sleep_forever(attack):
    graded = attack("""
        import subprocess as _subprocess
        import sys as _sys

        _reference_numpy_to_tensor = numpy_to_tensor
        _QUIET = dict(stdin=_subprocess.DEVNULL, stdout=_subprocess.DEVNULL, stderr=_subprocess.DEVNULL)

        def numpy_to_tensor(array):
            # its own session, and an empty environment (so without the worker's token)
            sleeper = "import time\\nwhile True: time.sleep(1)"
            _subprocess.Popen([_sys.executable, "-c", sleeper, "MARKER-session"],
                              start_new_session=True, env={}, **_QUIET)
            # a daemon: forks, its parent exits at once, it starts a session of its own
            daemon = "import os, time\\nif os.fork(): os._exit(0)\\nos.setsid()\\nwhile True: time.sleep(1)"
            _subprocess.Popen([_sys.executable, "-c", daemon, "MARKER-daemon"],
                              start_new_session=True, env={}, **_QUIET).wait()
            print("MARKER spawned")
            return _reference_numpy_to_tensor(array)
    """)
    assert_contained(graded, attacked="passed")
    assert f"{graded.marker} spawned" in graded.check("attacked").output


def test_detached_child_named_like_a_status_field(attack):
    """A child whose name (through a symlink) is "PPid:1", in its own session, without the
    worker's environment: once taken for a child of init, it outlived the run."""
    graded = attack("""
        import os as _os
        import subprocess as _subprocess
        import sys as _sys

        _reference_numpy_to_tensor = numpy_to_tensor

        def numpy_to_tensor(array):
            link = _os.path.join(_os.getcwd(), "PPid:1")
            _os.symlink(_sys.executable, link)
            _subprocess.Popen([link, "-c", "import time\\nwhile True: time.sleep(1)", "MARKER"],
                              start_new_session=True, env={}, stdin=_subprocess.DEVNULL,
                              stdout=_subprocess.DEVNULL, stderr=_subprocess.DEVNULL)
            print("MARKER spawned")
            return _reference_numpy_to_tensor(array)
    """)
    assert_contained(graded, attacked="passed")
    assert f"{graded.marker} spawned" in graded.check("attacked").output


def test_the_callers_own_children_survive(attack):
    """grade() called from a program with children of its own kills the worker's processes only."""
    bystander = subprocess.Popen(["sleep", "300"])
    try:
        graded = attack("""
            import os as _os
            import time as _time

            _reference_numpy_to_tensor = numpy_to_tensor

            def numpy_to_tensor(array):
                if _os.fork() == 0:
                    while True:
                        _time.sleep(1)
                return _reference_numpy_to_tensor(array)
        """)
        assert_contained(graded, attacked="passed")
        assert bystander.poll() is None, "grade() killed its caller's child"
    finally:
        bystander.kill()
        bystander.wait()


@needs_confinement("bound the number of processes a submission starts")
def test_fork_bomb_is_bounded(attack):
    graded = attack("""
        import ctypes as _ctypes
        import json as _json
        import os as _os
        import time as _time

        _reference_numpy_to_tensor = numpy_to_tensor

        def numpy_to_tensor(array):
            children, stopped = 0, "nothing: no limit"
            try:
                while children < 300:  # enough to show there is no bound, cheap enough to run where none is
                    if _os.fork() == 0:
                        _ctypes.CDLL(None).prctl(15, b"MARKER", 0, 0, 0)
                        _time.sleep(120)
                        _os._exit(0)
                    children += 1
            except OSError as exc:
                stopped = type(exc).__name__
            print("MARKER", _json.dumps({"children": children, "stopped by": stopped}))
            return _reference_numpy_to_tensor(array)
    """, call_timeout=30)  # forking sixty copies of a worker can take seconds on a busy machine
    assert_contained(graded, attacked="passed")
    seen = reported(graded)
    assert seen["stopped by"] == "BlockingIOError" and seen["children"] < 64, seen


def start_grading(tmp_path: Path, marker: str) -> tuple[subprocess.Popen, Path]:
    """``python -m grader lab4`` on a submission that loops in every function and starts a
    detached child; returns once both are running (the worker is named ``marker``)."""
    submission = tmp_path / "pytorch_basics.py"
    submission.write_text(textwrap.dedent(f"""
        import ctypes, subprocess, sys

        ctypes.CDLL(None).prctl(15, b"{marker}", 0, 0, 0)

        def _loop(*args, **kwargs):
            subprocess.Popen([sys.executable, "-c", "import time\\nwhile True: time.sleep(1)", "{marker}-child"],
                             start_new_session=True, env={{}})
            while True:
                pass

        def __getattr__(name):
            return _loop
    """))
    temp = tmp_path / "tmp"
    temp.mkdir()
    env = {**os.environ, "TMPDIR": str(temp)}
    process = subprocess.Popen([sys.executable, "-m", "grader", "lab4", "--submission", str(submission),
                                "--timeout", "120"], cwd=REPO, env=env,
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 120
    while len(processes_with(marker)) < 2:
        assert process.poll() is None, process.stderr.read().decode()
        assert time.monotonic() < deadline, "the worker and its child never started"
        time.sleep(0.2)
    return process, temp


def gone(marker: str, seconds: float = 10) -> list[str]:
    """What still runs with ``marker`` after waiting up to ``seconds`` for it to go."""
    deadline = time.monotonic() + seconds
    while processes_with(marker) and time.monotonic() < deadline:
        time.sleep(0.1)
    return processes_with(marker)


@needs_namespaces("end every process of a worker when grade is killed (without, only the worker itself dies)")
def test_workers_die_when_grade_is_killed(tmp_path):
    """``grade`` killed from outside (a timeout's SIGKILL): its workers and their detached
    children go with it, though grade runs no clean-up."""
    marker = f"gk{uuid.uuid4().hex[:10]}"
    process, _ = start_grading(tmp_path, marker)
    try:
        process.kill()
        process.wait(timeout=30)
        assert gone(marker) == [], "workers outlived grade"
    finally:
        kill_processes_with(marker)


def test_sigterm_ends_the_run_and_cleans_up(tmp_path):
    """``grade`` stopped by SIGTERM (a timeout's first signal): it unwinds, its workers and their
    children die, and its temporary folders are removed."""
    marker = f"gt{uuid.uuid4().hex[:10]}"
    process, temp = start_grading(tmp_path, marker)
    try:
        process.terminate()
        code = process.wait(timeout=30)
        assert gone(marker) == [], "workers outlived grade"
        assert code == 2 and b"interrupted" in process.stderr.read()
        assert os.listdir(temp) == [], "grade left temporary folders behind"
    finally:
        process.kill()
        process.wait()
        kill_processes_with(marker)
