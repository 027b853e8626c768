"""Submissions that leave processes behind: none may outlive the grading run."""

from __future__ import annotations

from tests.hostile.conftest import assert_contained


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
