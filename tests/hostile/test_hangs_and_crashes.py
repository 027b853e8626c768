"""Submissions that hang, exit, crash, flood or hoard: each costs its own check only."""

from __future__ import annotations

import pytest

from grader.grading.session import OUTPUT_SHOWN
from tests.hostile.conftest import assert_contained


def test_endless_loop_at_import(attack):
    graded = attack("""
        while True:
            pass
    """, import_timeout=5)
    assert_contained(graded, untouched="failed", bound=45)
    for check in graded.result.checks:
        assert "timed out after 5 s while importing pytorch_basics.py" in check.feedback.summary
    assert "timed out" in graded.result.import_error


def test_input_at_import_is_an_import_error_not_a_hang(attack):
    graded = attack("""
        PASSWORD = input("MARKER password: ")
    """)
    assert_contained(graded, untouched="failed", bound=45)
    for check in graded.result.checks:
        assert "could not be imported" in check.feedback.summary
        assert "EOFError" in check.feedback.summary
    assert "EOFError" in graded.result.import_error


def test_endless_loop_in_a_call(attack):
    graded = attack("""
        def numpy_to_tensor(array):
            print("MARKER about to loop")
            while True:
                pass
    """)
    assert_contained(graded, reason="timed out after 3 s while calling numpy_to_tensor()")
    assert f"{graded.marker} about to loop" in graded.check("attacked").output  # shown, though it hung


def test_loop_that_ignores_signals(attack):
    graded = attack("""
        import ctypes as _ctypes
        import signal as _signal

        def numpy_to_tensor(array):
            _ctypes.CDLL(None).prctl(15, b"MARKER", 0, 0, 0)  # name the worker, to look for it afterwards
            for sig in (_signal.SIGTERM, _signal.SIGINT, _signal.SIGHUP, _signal.SIGQUIT, _signal.SIGUSR1):
                _signal.signal(sig, _signal.SIG_IGN)
            while True:
                pass
    """)
    assert_contained(graded, reason="timed out after 3 s")


def test_sys_exit_in_a_call(attack):
    graded = attack("""
        import sys as _sys

        def numpy_to_tensor(array):
            _sys.exit(0)
    """)
    assert_contained(graded, reason="called sys.exit(0)")


def test_os_exit_in_a_call(attack):
    graded = attack("""
        import os as _os

        def numpy_to_tensor(array):
            _os._exit(0)
    """)
    assert_contained(graded, reason="worker exited with status 0")


def test_keyboard_interrupt(attack):
    graded = attack("""
        def numpy_to_tensor(array):
            raise KeyboardInterrupt
    """)
    assert_contained(graded, reason="raised KeyboardInterrupt")


def test_bare_base_exception(attack):
    graded = attack("""
        class Escape(BaseException):
            pass

        def numpy_to_tensor(array):
            raise Escape("not an Exception")
    """)
    assert_contained(graded, reason="raised Escape: not an Exception")


def test_segfault(attack):
    graded = attack("""
        import ctypes as _ctypes

        def numpy_to_tensor(array):
            return _ctypes.string_at(0)
    """)
    assert_contained(graded, reason="segmentation fault")


def test_thread_that_never_ends(attack):
    graded = attack("""
        import ctypes as _ctypes
        import threading as _threading
        import time as _time

        def _forever():
            while True:
                _time.sleep(0.05)

        _threading.Thread(target=_forever).start()  # not a daemon: it would keep Python from exiting
        _ctypes.CDLL(None).prctl(15, b"MARKER", 0, 0, 0)  # name the worker, to look for it afterwards
    """)
    assert_contained(graded, attacked="passed")  # no effect on the grade, and the run still ends


def test_gigabytes_of_output(attack):
    graded = attack("""
        _reference_to_numpy = to_numpy

        def to_numpy(tensor):
            print("MARKER output of a later check")
            return _reference_to_numpy(tensor)

        def numpy_to_tensor(array):
            line = "flood " * 200_000
            while True:
                try:
                    print(line)
                except OSError:  # the file size limit: keep trying
                    pass
    """)
    assert_contained(graded)
    shown = graded.check("attacked").output
    assert shown.endswith("(output truncated)") and len(shown) < OUTPUT_SHOWN + 100
    assert len(graded.result.to_dict()["tests"][0]["output"]) < OUTPUT_SHOWN + 1000
    # the flood filled the log up to the file size limit; later checks still show their output
    assert f"{graded.marker} output of a later check" in graded.check("untouched").output


def test_one_huge_allocation(attack):
    graded = attack("""
        def numpy_to_tensor(array):
            hoard = bytearray(20 * 10**9)
            return hoard
    """)
    assert_contained(graded, reason="MemoryError")


def test_allocating_until_memory_runs_out(attack):
    graded = attack("""
        def numpy_to_tensor(array):
            hoard = []
            while True:
                hoard.append(bytes(1 << 27))
    """)
    assert_contained(graded, reason="MemoryError")


MEMORY_BOMB = """
    import types as _types

    def _bomb(*args, **kwargs):
        hoard = []
        while True:
            hoard.append(b"MARKER" * (1 << 28))   # 1.5 GiB, written: every page is touched

    for _name, _value in list(globals().items()):
        if isinstance(_value, _types.FunctionType) and _value.__module__ == __name__ and not _name.startswith("_"):
            globals()[_name] = _bomb
"""


@pytest.mark.slow
def test_a_memory_bomb_in_every_function_is_graded_within_a_minute(attack):
    """Every Lab 4 function allocates until it fails: the lab's memory limit (lab.toml) makes each call fail
    at once, the failures count like crashes, and the whole lab is graded well within a minute."""
    graded = attack(MEMORY_BOMB, lab="lab4", keyword=None, call_timeout=10)
    checks = graded.result.checks
    assert len(checks) > 40 and graded.result.score == 0
    said = [c.feedback.summary for c in checks if c.feedback]
    assert any("MemoryError" in text for text in said)
    assert sum("fail at once" in text for text in said) > len(checks) / 2
    assert graded.seconds < 60, f"the run took {graded.seconds:.1f} s"
    assert graded.leftover_folders == set() and graded.leftover_processes == []


@pytest.mark.slow
def test_code_that_is_slow_everywhere_is_bounded_by_the_runs_budget(attack):
    """Every function sleeps just under its call limit: no call times out, so no crash budget helps;
    the run's budget for the student's code does (40 s by default; 4 s here)."""
    slow = MEMORY_BOMB.replace("hoard = []\n        while True:\n            hoard.append(b\"MARKER\" * (1 << 28))"
                               "   # 1.5 GiB, written: every page is touched",
                               "import time\n        time.sleep(2.5)")
    graded = attack(slow, lab="lab4", keyword=None, call_timeout=3, budget=4)
    said = [c.feedback.summary for c in graded.result.checks if c.status != "skipped"]
    assert graded.result.score == 0 and len(said) > 40
    assert sum("your code has used the 4 s a grading run allows it" in text for text in said) > 40
    assert any("the last of the 4 s a run allows your code" in text for text in said)
    assert graded.seconds < 30, f"the run took {graded.seconds:.1f} s"
