"""The grader's side of a worker (grader.grading.session.WorkerSession), without pytest runs.

One session is shared by the module: each test starts a new "check" with
``begin_check()``, as the plugin does, so a crash in one test costs only that
test and the next one gets a fresh worker.
"""

from __future__ import annotations

import os
import textwrap
import time
import uuid
from pathlib import Path

import numpy as np
import pytest
import torch

from grader.grading.budget import CrashBudget
from grader.grading.session import RemoteObject, StudentError, SubmissionImportError, WorkerCrash, WorkerSession
from grader.isolation import WorkerSpec
from grader.isolation.inside.wire import TensorValue

from tests.helpers import needs_confinement, needs_landlock, processes_with

MODULE = '''
import ctypes, os, signal, sys, time
import numpy as np
import torch

print("module imported")
WORKER = os.urandom(8).hex()  # tells one worker process from the next (PIDs repeat in a PID namespace)

def echo(*args, **kwargs):
    return {"args": list(args), "kwargs": kwargs}

def double(x):
    return x * 2

def ident():
    return WORKER

def name_me(name):
    ctypes.CDLL(None).prctl(15, name.encode(), 0, 0, 0)  # PR_SET_NAME: findable from the host
    return WORKER

def spin(label=""):
    print("spinning", label)
    while True:
        pass

def segfault():
    ctypes.string_at(0)

def leave(code):
    os._exit(code)

def quit(code):
    sys.exit(code)

def boom():
    raise ValueError("boom")

class Counter:
    def __init__(self):
        self.n = 0
    def add(self, k):
        self.n += k
        return self.n
    def __call__(self):
        return self.n

def make_counter():
    return Counter()

def signal_grader(grader):
    try:
        os.kill(grader, signal.SIGURG)   # ignored by default: harmless even if it got through
    except OSError as exc:
        return type(exc).__name__
    return "delivered"

def grader_files(grader):
    seen = {}
    for name in ("environ", "maps"):
        try:
            with open(f"/proc/{grader}/{name}", "rb") as file:
                seen[name] = f"read {len(file.read())} bytes"
        except OSError as exc:
            seen[name] = type(exc).__name__
    return seen

def copy_not_share(array):
    return torch.tensor(array)   # a copy: it does not share memory with the array

def patch_torch_equal():
    torch.equal = lambda *args, **kwargs: False
    torch.Tensor.clone = torch.Tensor.detach = lambda self, *args, **kwargs: torch.zeros(self.shape)

def share_memory(array):
    return torch.from_numpy(array)
'''


def make_session(tmp_path: Path, source: str, **kwargs) -> WorkerSession:
    (tmp_path / "hostile_module.py").write_text(textwrap.dedent(source))
    return WorkerSession(WorkerSpec(submission_dir=tmp_path, module="hostile_module"), **kwargs)


@pytest.fixture(scope="module")
def shared(tmp_path_factory):
    # its tests crash the worker on purpose, one after another: no budget (tests/test_session_budget.py)
    session = make_session(tmp_path_factory.mktemp("worker"), MODULE, call_timeout=2, import_timeout=60,
                           crash_budget=CrashBudget(functions=1_000_000, per_function=1_000_000))
    yield session
    session.close()
    assert session.process is None


@pytest.fixture
def session(shared: WorkerSession) -> WorkerSession:
    shared.begin_check()
    return shared


def call(session: WorkerSession, name: str, *args, **kwargs):
    return session.call(("module", name), args, kwargs)


def named(session: WorkerSession) -> str:
    """Give the current worker process a unique name; returns it (``processes_with`` finds it)."""
    name = f"gw{uuid.uuid4().hex[:10]}"
    call(session, "name_me", name)
    return name


# ------------------------------------------------------------------ ordinary calls
def test_calls_return_data(session):
    got = call(session, "echo", 1, (2.5, "x"), np.arange(3), key=torch.ones(2))
    assert got["args"][:2] == [1, (2.5, "x")]
    np.testing.assert_array_equal(got["args"][2], np.arange(3))
    assert isinstance(got["kwargs"]["key"], TensorValue) and torch.equal(got["kwargs"]["key"].data, torch.ones(2))
    doubled = call(session, "double", torch.arange(3.0, requires_grad=True))
    assert torch.equal(doubled.data, torch.tensor([0.0, 2.0, 4.0])) and doubled.grad_fn == "MulBackward0"
    assert session.sandbox.startswith(session.launcher.kind) and "; " in session.sandbox  # the worker said hello


def test_student_exception_is_data(session):
    before = call(session, "ident")
    with pytest.raises(StudentError) as caught:
        call(session, "boom")
    error = caught.value
    assert error.type_name == "ValueError" and error.message == "boom"
    assert error.is_a("Exception") and "hostile_module.py line" in error.where
    assert call(session, "ident") == before  # the worker lives on


def test_sys_exit_is_an_exception_not_an_exit(session):
    before = call(session, "ident")
    with pytest.raises(StudentError, match=r"called sys.exit\(2\)"):
        call(session, "quit", 2)
    assert call(session, "ident") == before


def test_import_output_is_captured(session):
    call(session, "ident")
    with open(session.log_path, encoding="utf-8") as log:
        assert "module imported" in log.read()


# ------------------------------------------------------------------ crashes
def test_timeout_kills_the_worker(session):
    name = named(session)
    offset = session.output_offset()
    started = time.monotonic()
    with pytest.raises(WorkerCrash, match=r"timed out after 2 s while calling spin\(\)"):
        call(session, "spin", "label-before-the-loop")
    assert time.monotonic() - started < 10
    assert processes_with(name) == []
    assert "spinning label-before-the-loop" in session.output_since(offset)  # printed before it hung


def test_crash_is_latched_for_the_rest_of_the_check(session):
    with pytest.raises(WorkerCrash, match="segmentation fault") as first:
        call(session, "segfault")
    starts = session.starts
    with pytest.raises(WorkerCrash) as again:
        call(session, "ident")
    assert str(again.value) == str(first.value) and session.starts == starts  # no new worker for this check
    assert again.value is not first.value  # a fresh exception: one object raised again grows its traceback


def test_next_check_gets_a_fresh_worker(session):
    with pytest.raises(WorkerCrash, match="segmentation fault"):
        call(session, "segfault")
    dead_generation = session.generation
    session.begin_check()
    name = named(session)
    assert session.generation == dead_generation + 1 and processes_with(name) != []


def test_os_exit_in_a_call(session):
    with pytest.raises(WorkerCrash, match="exited with status 3"):
        call(session, "leave", 3)


def test_handles_work_until_the_worker_restarts(session):
    counter = call(session, "make_counter")
    assert isinstance(counter, RemoteObject) and counter.type_name == "hostile_module.Counter"
    assert counter.call("add", 2) == 2 and counter.call("add", 3) == 5 and counter() == 5
    with pytest.raises(WorkerCrash):
        call(session, "segfault")
    session.begin_check()
    call(session, "ident")  # a fresh worker
    with pytest.raises(WorkerCrash, match="lost when the worker restarted"):
        counter.call("add", 1)
    with pytest.raises(WorkerCrash, match="lost"):
        counter()


def test_handles_can_be_released(session):
    counter = call(session, "make_counter")
    session.release(counter)
    with pytest.raises(StudentError, match="no object with handle"):
        counter.call("add", 1)


def test_stop_ends_the_worker_and_a_call_starts_another(session):
    before, name = call(session, "ident"), named(session)
    session.stop()
    assert session.process is None and processes_with(name) == []
    assert call(session, "ident") != before


# ------------------------------------------------------------------ imports
def test_import_failure_is_latched(tmp_path):
    session = make_session(tmp_path, "raise RuntimeError('broken at import')\n", call_timeout=2)
    try:
        with pytest.raises(SubmissionImportError, match="broken at import") as first:
            session.call(("module", "anything"))
        session.begin_check()
        with pytest.raises(SubmissionImportError) as again:
            session.call(("module", "anything"))
        assert str(again.value) == str(first.value) and session.starts == 1
        assert again.value is not first.value  # a fresh exception: one object raised again grows its traceback
    finally:
        session.close()


def test_import_timeout_is_latched(tmp_path):
    session = make_session(tmp_path, "while True:\n    pass\n", call_timeout=1, import_timeout=4)
    try:
        started = time.monotonic()
        with pytest.raises(WorkerCrash, match="timed out after 4 s while importing hostile_module.py"):
            session.call(("module", "anything"))
        session.begin_check()
        with pytest.raises(WorkerCrash, match="timed out"):
            session.call(("module", "anything"))
        assert session.starts == 1 and time.monotonic() - started < 30
    finally:
        session.close()


# ------------------------------------------------------------------ confinement
@needs_landlock(6, "stop the worker from signalling processes outside its sandbox")
def test_worker_cannot_signal_the_grader(session):
    # PermissionError under Landlock alone; in a PID namespace the grader does not even exist
    assert call(session, "signal_grader", os.getpid()) in ("PermissionError", "ProcessLookupError")


@needs_confinement("keep the worker out of the grader's /proc/PID/environ and maps")
def test_worker_cannot_read_the_grader_environment_or_memory_map(session):
    # was a known gap as root: CAP_SYS_PTRACE passes Landlock's ptrace check; now the worker has no
    # capabilities, and in a PID namespace the grader's /proc entry does not exist
    seen = call(session, "grader_files", os.getpid())
    assert set(seen.values()) <= {"PermissionError", "FileNotFoundError"}, seen


def test_probe_cannot_be_fooled_by_patching_torch(session):
    """Probes read tensors through torch._C.TensorBase and return observations; the grader judges
    them.  Patching torch.equal or torch.Tensor's methods changes neither."""
    try:
        call(session, "patch_torch_equal")
        array = np.ones((3, 4), np.float32)
        copied = session.call(("probe", "shares_memory"), ("copy_not_share", array))
        shared = session.call(("probe", "shares_memory"), ("share_memory", array))
    finally:
        session.stop()  # the next test gets an unpatched worker
    assert torch.equal(copied["after_write"].data, copied["result"].data)      # a copy did not move
    assert torch.equal(shared["after_write"].data, shared["result"].data + 1)  # shared memory did
    assert torch.equal(shared["result"].data, torch.ones(3, 4))
