"""Launchers (grader.isolation), without grading runs: choice, views, exact kills, clean-up."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import time
import uuid
from pathlib import Path

import pytest

from grader.isolation import (IsolationError, LandlockLauncher, NamespaceLauncher, NoIsolation, TemplateLauncher,
                              WorkerSpec, choose_launcher)
from grader.isolation.doctor import run_without_submission
from grader.isolation.namespaces import bwrap_filesystem, mounts
from grader.isolation.processes import PidsCgroup, descendants, parent_of
from grader.isolation.spec import GRADER
from grader.grading.session import WorkerSession
from tests.helpers import REPO, processes_with

LAUNCHERS = {  # without a pids cgroup too: how a non-root user grades
    "bwrap": lambda: NamespaceLauncher(tool="bwrap"),
    "bwrap-no-cgroup": lambda: NamespaceLauncher(tool="bwrap", cgroups=False),
    "unshare": lambda: NamespaceLauncher(tool="unshare"),
    "landlock": LandlockLauncher,
    "landlock-no-cgroup": lambda: LandlockLauncher(cgroups=False),
    "none-no-cgroup": lambda: NoIsolation(cgroups=False),
}


@pytest.fixture(params=list(LAUNCHERS))
def launcher(request):
    launcher = LAUNCHERS[request.param]()
    if not launcher.available():
        pytest.skip(f"{request.param} is not available here: {launcher.unavailable_reason()}")
    with launcher:
        yield launcher


def empty_spec(folder: Path, **kwargs) -> WorkerSpec:
    (folder / "nothing.py").write_text("")
    return WorkerSpec(folder, "nothing", preload=[], warm_up_only=True, **kwargs)


# ------------------------------------------------------------------ choosing
def test_choice_follows_grade_sandbox(monkeypatch):
    monkeypatch.setenv("GRADE_SANDBOX", "none")
    assert isinstance(choose_launcher(), NoIsolation)
    monkeypatch.setenv("GRADE_SANDBOX", "chroot")
    with pytest.raises(IsolationError, match="unknown sandbox 'chroot'"):
        choose_launcher()


def test_launchers_share_no_state(tmp_path):
    """Two launchers in one process: closing one leaves the other's workers running."""
    with NoIsolation() as first, NoIsolation() as second:
        a, b = (WorkerSession(empty_spec(tmp_path), launcher=launcher) for launcher in (first, second))
        for session in (a, b):
            session.start()
        first.close()
        assert a.process.poll() is not None and b.process.poll() is None
        b.close()


def test_description_starts_with_the_kind(launcher):
    assert launcher.describe().split()[0].strip(":") == launcher.kind


# ------------------------------------------------------------------ starting and ending
def test_a_worker_starts_and_leaves_nothing(launcher, tmp_path):
    reported = run_without_submission(launcher, empty_spec(tmp_path), timeout=60)
    assert reported.startswith("Landlock ABI") or (launcher.kind == "portable" and reported.startswith("no Landlock"))
    assert [p.name for p in launcher.folder().iterdir() if p.name.startswith("box-")] == []
    folder = launcher.folder()
    launcher.close()
    assert not folder.exists()


def test_kill_ends_exactly_the_workers_processes(launcher, tmp_path):
    """A worker that starts a detached daemon: kill() ends both, and not our own child."""
    marker = f"gi{uuid.uuid4().hex[:10]}"
    (tmp_path / "daemonic.py").write_text(textwrap.dedent(f"""
        import subprocess, sys
        def spawn():
            daemon = "import os, time\\nif os.fork(): os._exit(0)\\nos.setsid()\\nwhile True: time.sleep(1)"
            subprocess.Popen([sys.executable, "-c", daemon, "{marker}"], start_new_session=True, env={{}}).wait()
    """))
    bystander = subprocess.Popen(["sleep", "60"])
    session = WorkerSession(WorkerSpec(tmp_path, "daemonic", preload=[]), launcher=launcher, import_timeout=60)
    try:
        session.call(("module", "spawn"))
        assert len(processes_with(marker)) == 1
        session.stop()
        assert processes_with(marker) == [] and bystander.poll() is None
    finally:
        session.close()
        bystander.kill()
        bystander.wait()


# ------------------------------------------------------------------ what the worker sees
def test_the_sandbox_shows_nothing_of_the_grader(tmp_path):
    lab5_probes = GRADER / "suites" / "lab5" / "probes.py"
    spec = empty_spec(tmp_path, probes=[lab5_probes], readable=[tmp_path])
    with NamespaceLauncher(tool="bwrap") as launcher:
        stage = launcher.stage(spec)
        assert sorted(p.name for p in stage.iterdir()) == sorted(
            ["worker.py", "landlock.py", "zygote.py", "wire.py", "probes.py", "lab_probes_0.py"])  # not other labs' probes
        assert (stage / "lab_probes_0.py").read_bytes() == lab5_probes.read_bytes()
        seen = " ".join(mounts(bwrap_filesystem(spec, stage)))
    for hidden in (REPO, REPO / "reference", GRADER / "suites", Path.home()):
        assert f"{hidden} (" not in seen, hidden
    assert "/tmp (private tmpfs)" in seen and "/dev/shm (private tmpfs)" in seen and "/proc (private /proc)" in seen


# ------------------------------------------------------------------ processes
def test_parent_is_not_fooled_by_a_process_name():
    """The name is chosen by the process: "x) S 1 1" once made a child look like init's."""
    child = subprocess.Popen([sys.executable, "-c", textwrap.dedent("""
        import ctypes, time
        ctypes.CDLL(None).prctl(15, b"x) S 1 1\\nPPid:\\t1", 0, 0, 0)
        time.sleep(30)
    """)])
    try:
        time.sleep(0.3)
        assert parent_of(child.pid) == os.getpid()
        assert child.pid in descendants(os.getpid())
    finally:
        child.kill()
        child.wait()


def test_pids_cgroup_bounds_and_lists_its_members(tmp_path):
    base = PidsCgroup.base()
    if base is None:
        pytest.skip("no writable pids cgroup here (usual when not root)")
    cgroup = PidsCgroup.create(base, f"grade-test-{uuid.uuid4().hex[:8]}", 5)
    try:
        forks = "import os, time\nn = 0\ntry:\n    while n < 50:\n        if os.fork() == 0:\n" \
                "            time.sleep(30)\n            os._exit(0)\n        n += 1\nexcept OSError:\n    pass\nprint(n)"
        process = subprocess.Popen(cgroup.enter([sys.executable, "-c", forks]), stdout=subprocess.PIPE, text=True)
        assert int(process.stdout.readline()) == 4  # five tasks: itself and four children
        assert process.pid in cgroup.members() and len(cgroup.members()) == 5
        cgroup.kill()
        process.wait()
        assert cgroup.members() == []
    finally:
        cgroup.kill()
        cgroup.remove()
    assert not cgroup.path.exists()


# ------------------------------------------------------------------ warm templates
@pytest.mark.skipif(not NamespaceLauncher(tool="bwrap").available(), reason="needs bubblewrap")
def test_without_templates_batch_graders_start_each_worker_fresh_and_say_so(monkeypatch, capsys):
    from grader.instructor.batch.job import worker_launcher
    from grader.isolation.doctor import template_line

    monkeypatch.setattr(TemplateLauncher, "_probe_template", lambda self: (False, "nested user namespaces refused"))
    assert worker_launcher() is None
    assert template_line() == "each worker starts fresh (no warm template here: nested user namespaces refused)"
    with TemplateLauncher() as launcher:
        assert "template" not in launcher.describe()


def test_templates_can_be_turned_off(monkeypatch):
    from grader.instructor.batch.job import worker_launcher

    monkeypatch.setenv("GRADE_TEMPLATE", "0")
    assert worker_launcher() is None
    monkeypatch.delenv("GRADE_TEMPLATE")
    monkeypatch.setenv("GRADE_SANDBOX", "landlock")
    assert worker_launcher() is None


@pytest.mark.skipif(not NamespaceLauncher(tool="bwrap").available(), reason="needs bubblewrap")
def test_a_worker_the_template_cannot_serve_starts_fresh(tmp_path):
    """A warm-up worker, or one whose files lie outside the template's run folder, starts the ordinary way."""
    with TemplateLauncher() as launcher:
        run_without_submission(launcher, empty_spec(tmp_path), 30)
        assert launcher.fallback_reason == "a warm-up worker starts fresh"
        spec = WorkerSpec(tmp_path, "nothing", preload=[])
        assert launcher._cannot_serve(spec).endswith("is outside the template's run folder")
