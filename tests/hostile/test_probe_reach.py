"""Probes against student code that runs when no call is being made (the second red team of issue 20).

Issue 20's first round made a probe's call look like a plain one from the student's frame and bound
what probes use before the submission is imported. Student code has more ways in than its call:
a trace or profile function, a signal handler, a thread, a finalizer run by the garbage collector,
and the heap itself (``gc.get_objects()`` finds the probe waiting for the call). Each liar below is
graded beside its honest twin (the same code without the lie) and must earn no more than it.

Hooks (trace, profile, signals) used to run while the probe observed, and mirrored the probe's write
into a copy: a copying numpy_to_tensor passed both memory-sharing checks. The worker now gives student
code no turn between a call's return and the reply (grader/isolation/inside/worker.py), and probes ask
about classes bound before the submission is imported. What cannot be held while the observation is
made in the student's own process is a strict xfail that says so (the module's last section).
"""

from __future__ import annotations

import pytest

from tests.hostile.conftest import Graded

pytestmark = pytest.mark.slow

SHARING = "numpy_to_tensor_shares_memory"
KEYWORD = "numpy_to_tensor"   # the side checks count once the main one passes: it must run too

# numpy_to_tensor copies: the honest twin of every liar below.
TWIN = """
_honest_numpy_to_tensor = numpy_to_tensor


def numpy_to_tensor(array):
    return _honest_numpy_to_tensor(array).clone()
"""

# A trace function, installed by the copying numpy_to_tensor: it sees every line the worker runs after
# the call returns, and when a probe's frame has just written into the array it handed over (``owner``),
# writes the same into the copy, before the probe reads the copy.
TRACER = TWIN + """
import sys as _sys
import torch as _torch

_copies = {}


def _mirror(frame, event, arg):
    owner = frame.f_locals.get("owner")
    if owner is not None:
        for array, copy in list(_copies.values()):
            if array is owner or getattr(owner, "base", None) is array:
                with _torch.no_grad():
                    copy.copy_(_torch.from_numpy(array).reshape(copy.shape))
    return _mirror


_copying = numpy_to_tensor


def numpy_to_tensor(array):
    copy = _copying(array)
    _copies[id(copy)] = (array, copy)
    _sys.settrace(_mirror)
    return copy
"""

# The same mirror from a profile function (called on every call and return, C functions included).
PROFILER = TRACER.replace("_sys.settrace(_mirror)", "_sys.setprofile(lambda frame, event, arg: _walk(frame))") + """

def _walk(frame):
    while frame is not None:
        _mirror(frame, "profile", None)
        frame = frame.f_back
"""

# The same mirror from a signal handler, run between two bytecodes of whatever runs, every 2 µs.
SIGNALS = TRACER.replace("_sys.settrace(_mirror)", """
    import signal as _signal
    _signal.signal(_signal.SIGALRM, lambda number, frame: _walk(frame))
    _signal.setitimer(_signal.ITIMER_REAL, 0.000002, 0.000002)""") + """

def _walk(frame):
    while frame is not None:
        _mirror(frame, "signal", None)
        frame = frame.f_back
"""

# A probe's generator waits in the heap while the call runs: the copying function finds it, and, being
# watched, returns what a sharing function would.
HEAP = TWIN + """
import gc as _gc


def _watched():
    return any(type(o).__name__ == "generator" and getattr(o, "gi_code", None) is not None
               and o.gi_code.co_name == "shares_memory" for o in _gc.get_objects())


_copying = numpy_to_tensor


def numpy_to_tensor(array):
    return _honest_numpy_to_tensor(array) if _watched() else _copying(array)
"""

# SpectrogramDataset without torch's Dataset as its base (its honest twin), and, in the liar, torch's
# Dataset replaced by ``object`` before the probe asks whether the class derives from it.
NOT_A_DATASET = """
_Honest = SpectrogramDataset


class SpectrogramDataset:
    __init__, __len__, __getitem__ = _Honest.__init__, _Honest.__len__, _Honest.__getitem__
"""
DATASET_PATCHED = NOT_A_DATASET + """
import torch.utils.data as _data

_data.Dataset = object
"""


def points(graded: Graded) -> dict[str, float]:
    return {c.name: c.score for c in graded.result.checks}


def assert_no_more_than_twin(twin: Graded, liar: Graded) -> None:
    gained = {name: score for name, score in points(liar).items() if score > points(twin).get(name, 0)}
    assert not gained, f"the liar earned more than its honest twin: {gained}"


@pytest.mark.parametrize("liar", [TRACER, PROFILER, SIGNALS], ids=["trace", "profile", "signals"])
def test_student_code_run_by_a_hook_while_the_probe_observes_earns_nothing(attack, liar):
    twin = attack(TWIN, lab="lab4", keyword=KEYWORD)
    graded = attack(liar, lab="lab4", keyword=KEYWORD)
    assert_no_more_than_twin(twin, graded)


def test_the_class_a_probe_asks_about_is_the_one_torch_had_before_the_submission(attack):
    twin = attack(NOT_A_DATASET, lab="lab4", keyword="dataset_is_a_torch_dataset")
    liar = attack(DATASET_PATCHED, lab="lab4", keyword="dataset_is_a_torch_dataset")
    assert_no_more_than_twin(twin, liar)
    assert liar.check("dataset_is_a_torch_dataset").score == 0


# ------------------------------------------------------------------ what stays open
# A probe observes in the student's process, and while its call runs the student's code can read and
# write anything there: gc.get_objects() finds the probe's generator waiting for the call (so the call
# can tell it is watched and behave only then), or the request being served (whose outcome it can
# replace), and a thread it started runs beside the probe's observation. Hiding the probe does not
# help: whatever refers to it is a GC-tracked object or frame, and gc.get_referrers() finds it from
# the probe's function. No reply can be authenticated either: any key the worker's trusted code can
# use, the student's code, running in the same process, can read (see test_probe_lies.py's forged
# reply). Closing this means observing where the student's code cannot reach: in the grader, on data
# the grader alone made (an observation of values compared with the reference cannot be forged without
# the answer; a property such as "shares memory" can), or by watching every call, so that no call is
# unwatched (a submission honest when watched is then honest). Until then, the properties probes
# observe are side checks: they count only once the function's main check passes.
@pytest.mark.xfail(strict=True, reason="the heap of the student's process is the student's: it finds the probe "
                                       "waiting for the call (open: observe outside the student's process)")
def test_a_function_that_finds_the_probe_in_the_heap_earns_nothing(attack):
    twin = attack(TWIN, lab="lab4", keyword=KEYWORD)
    liar = attack(HEAP, lab="lab4", keyword=KEYWORD)
    assert_no_more_than_twin(twin, liar)

