"""``choose_launcher()`` on each system, from what the system offers (a :class:`System` value), and
what each launcher then asks of its workers.  Fast: nothing is started but the probes the
launchers run here (bubblewrap where a test gives its path)."""

from __future__ import annotations

import os

import pytest

from grader.feedback.report import sandbox_words
from grader.isolation import IsolationError, LandlockLauncher, NamespaceLauncher, PortableLauncher, System, WorkerSpec
from grader.isolation.choice import choose_launcher
from grader.isolation.doctor import weaker
from grader.isolation.system import resolve_tools

MACOS = System(name="macos", tools={"sh": "/bin/sh"}, rlimits=True, fd_passing=True)
WINDOWS = System(name="windows", job_objects=True)
WINDOWS_WITHOUT_PYWIN32 = System(name="windows")
LINUX_CONTAINER = System(name="linux", tools={"sh": "/bin/sh"}, linux_calls=frozenset({"prctl", "capset"}),
                         rlimits=True, fd_passing=True, proc=True)          # no bubblewrap, no Landlock
LINUX_LANDLOCK = System(name="linux", tools={"sh": "/bin/sh"}, landlock_abi=4, rlimits=True, fd_passing=True,
                        proc=True, linux_calls=frozenset({"prctl", "capset", "unshare", "mount"}))


@pytest.fixture(autouse=True)
def no_grade_sandbox(monkeypatch):
    monkeypatch.delenv("GRADE_SANDBOX", raising=False)


def chosen(system: System, kind: str | None = None):
    launcher = choose_launcher(kind, system=system)
    launcher.close()
    return launcher


@pytest.mark.parametrize("system", [MACOS, WINDOWS, WINDOWS_WITHOUT_PYWIN32, LINUX_CONTAINER],
                         ids=["macos", "windows", "windows-without-pywin32", "linux-container"])
def test_where_there_are_neither_namespaces_nor_landlock_the_portable_launcher_is_chosen(system):
    launcher = chosen(system)
    assert isinstance(launcher, PortableLauncher) and launcher.kind == "portable"
    said, warning = sandbox_words(launcher.describe())
    assert said.startswith("your code ran as a plain process") and warning.startswith("⚠")


def test_landlock_without_bubblewrap_is_chosen_on_linux():
    assert isinstance(chosen(LINUX_LANDLOCK), LandlockLauncher)


def test_landlock_needs_the_c_librarys_calls():
    """A kernel with Landlock but a C library without prctl (a stand-in, or an odd libc): not Landlock."""
    odd = System(name="linux", landlock_abi=4, rlimits=True, fd_passing=True, proc=True)
    launcher = LandlockLauncher(system=odd)
    assert not launcher.available() and "prctl" in launcher.unavailable_reason()


def test_a_bubblewrap_that_does_not_work_is_not_chosen():
    broken = System(name="linux", tools={"bwrap": "/nonexistent/bwrap"}, rlimits=True, fd_passing=True, proc=True)
    launcher = NamespaceLauncher(system=broken)
    assert not launcher.available() and "bwrap" in launcher.unavailable_reason()
    assert isinstance(chosen(broken), PortableLauncher)


def test_namespaces_where_bubblewrap_works():
    here = System.detect()
    if not NamespaceLauncher(system=here, tool="bwrap").available():
        pytest.skip("bubblewrap does not work here")
    launcher = chosen(here)
    assert isinstance(launcher, NamespaceLauncher) and launcher.bwrap == here.tools["bwrap"]
    assert os.path.isabs(launcher.bwrap)


@pytest.mark.parametrize("asked", ["namespaces", "landlock"])
def test_asking_for_a_sandbox_a_mac_does_not_have_is_one_line(asked, monkeypatch):
    monkeypatch.setenv("GRADE_SANDBOX", asked)
    with pytest.raises(IsolationError) as raised:
        choose_launcher(system=MACOS)
    assert str(raised.value).startswith(f"sandbox {asked!r} is not available here: ")
    assert "macos" in str(raised.value) and "\n" not in str(raised.value)


@pytest.mark.parametrize("name", ["portable", "none", "Portable"])
def test_grade_sandbox_selects_the_portable_launcher_by_its_names(name, monkeypatch):
    monkeypatch.setenv("GRADE_SANDBOX", name)
    assert isinstance(chosen(System.detect()), PortableLauncher)


def test_tools_are_resolved_once_to_absolute_paths(tmp_path):
    for name in ("bwrap", "sh"):
        (tmp_path / name).write_text("#!/bin/sh\n")
        (tmp_path / name).chmod(0o755)
    assert resolve_tools(str(tmp_path)) == {"bwrap": str(tmp_path / "bwrap"), "sh": str(tmp_path / "sh")}


# ------------------------------------------------------------------ what a worker is asked to do
def view_of(system: System, tmp_path):
    (tmp_path / "nothing.py").write_text("")
    with PortableLauncher(system=system) as launcher:
        return launcher, launcher.view(WorkerSpec(tmp_path, "nothing", preload=[]))


def test_on_a_mac_the_worker_watches_its_parent_and_takes_no_linux_step(tmp_path):
    launcher, view = view_of(MACOS, tmp_path)
    assert (view.ties, view.subreaper, view.drop_privileges, view.landlock, view.max_tasks) == \
        ("watch", False, False, False, None)
    enforced, missing = launcher.enforcement()
    assert "ending with the grader" in enforced and "processes that detach themselves" in missing
    assert any(e.startswith("memory (RLIMIT_DATA") for e in enforced) and "number of processes" in missing
    assert launcher._process_options((5,)) == {"pass_fds": (5,), "start_new_session": True}


def test_on_windows_the_job_object_holds_the_tree_and_no_descriptor_is_passed(tmp_path):
    launcher, view = view_of(WINDOWS, tmp_path)
    assert (view.ties, view.subreaper, view.drop_privileges) == ("", False, False)
    enforced, missing = launcher.enforcement()
    assert "memory (job object)" in enforced and "number of processes (job object)" in enforced
    assert "file size" in missing and "ending with the grader" in enforced
    assert "pass_fds" not in launcher._process_options((5,))
    _, bare = view_of(WINDOWS_WITHOUT_PYWIN32, tmp_path)
    assert bare.ties == ""   # Windows never re-parents: no parent to watch
    assert "ending with the grader" in PortableLauncher(system=WINDOWS_WITHOUT_PYWIN32).enforcement()[1]


def test_on_linux_the_portable_worker_keeps_linuxs_own_steps(tmp_path):
    _, view = view_of(LINUX_CONTAINER, tmp_path)
    assert (view.ties, view.subreaper, view.drop_privileges, view.landlock) == ("prctl", True, True, False)


def test_the_doctor_says_what_to_do_on_each_system():
    assert "apt-get install bubblewrap" in weaker(LINUX_CONTAINER)
    assert "macos has no sandbox" in weaker(MACOS) and "bubblewrap" in weaker(MACOS)
