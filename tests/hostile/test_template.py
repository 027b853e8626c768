"""Workers forked from a warm template (grader.isolation.template): what only a shared template could break.

Every attack of the other files runs against template workers too (the
``worker_source`` parameter of ``attack``); these check what a template adds:
it stays single-threaded and never imports a submission, one submission sees
nothing of the previous one's, and a crash, a bomb or a hang in one child
leaves the template serving the next.
"""

from __future__ import annotations

import pytest

from grader.isolation import TemplateLauncher, WorkerSpec
from tests.hostile.conftest import assert_contained
from tests.hostile.test_confinement import reported

only_template = pytest.mark.parametrize("worker_source", ["template"])

LEAVE = """
    import ctypes as _ctypes
    import os as _os
    import time as _time

    _reference_numpy_to_tensor = numpy_to_tensor

    def numpy_to_tensor(array):
        for folder in ("/tmp", "/dev/shm", "."):
            with open(_os.path.join(folder, "MARKER-left"), "w") as file:
                file.write("for the next one")
        if _os.fork() == 0:
            _ctypes.CDLL(None).prctl(15, b"MARKER", 0, 0, 0)
            while True:
                _time.sleep(1)
        return _reference_numpy_to_tensor(array)
"""

LOOK = """
    import glob as _glob
    import json as _json
    import os as _os

    _reference_numpy_to_tensor = numpy_to_tensor

    def _names():
        found = []
        for status in _glob.glob("/proc/[0-9]*/comm"):
            try:
                found.append(open(status).read().strip())
            except OSError:
                pass
        return found

    def numpy_to_tensor(array):
        seen = {"files": [p for folder in ("/tmp", "/dev/shm", ".") for p in _os.listdir(folder) if "FIRST" in p],
                "processes": [n for n in _names() if "FIRST" in n], "process count": len(_names())}
        print("MARKER", _json.dumps(seen))
        return _reference_numpy_to_tensor(array)
"""

PRIVILEGES = """
    import ctypes as _ctypes
    import json as _json
    import os as _os

    _reference_numpy_to_tensor = numpy_to_tensor

    def numpy_to_tensor(array):
        libc = _ctypes.CDLL(None, use_errno=True)
        status = dict(line.split(":", 1) for line in open("/proc/self/status").read().splitlines() if ":" in line)
        failed = libc.unshare(0x10000000) != 0  # CLONE_NEWUSER: no namespace of its own, hence no capabilities back
        seen = {"user namespace refused": failed, "errno": _ctypes.get_errno(),
                "CapEff": status["CapEff"].strip(), "CapBnd": status["CapBnd"].strip(),
                "NoNewPrivs": status["NoNewPrivs"].strip()}
        print("MARKER", _json.dumps(seen))
        return _reference_numpy_to_tensor(array)
"""


def template_of(launcher: TemplateLauncher, lab: str, course) -> object:
    """The running template that served ``lab`` (one per kind of worker)."""
    from grader.course.folder import find

    found = find(course).lab(lab)
    spec = WorkerSpec(launcher.run_folder() / "x", found.module, preload=list(found.preload), probes=list(found.probes),
                      warm_up=list(found.warm_up), environment=dict(found.environment), cache_dirs=dict(found.cache))
    from grader.isolation.template import template_key

    known = [t for key, t in launcher._templates.items() if key[:4] == template_key(spec)[:4]]
    assert len(known) == 1, "expected one template for the lab"
    return known[0]


@only_template
def test_a_submission_sees_nothing_of_the_previous_one(attack):
    first = attack(LEAVE)
    assert_contained(first, attacked="passed")
    second = attack(LOOK.replace("FIRST", first.marker))
    assert_contained(second, attacked="passed")
    seen = reported(second)
    assert seen["files"] == [] and seen["processes"] == [], seen
    # its /proc is the template sandbox's: bubblewrap's init, the template, its own two (init, worker)
    assert seen["process count"] <= 5, seen


@only_template
def test_the_template_stays_single_threaded_and_never_imports_a_submission(attack, template_launcher,
                                                                           hostile_course):
    graded = attack("import threading as _t\n_t.Thread(target=lambda: __import__('time').sleep(60)).start()")
    assert_contained(graded, attacked="passed")
    template = template_of(template_launcher, "hostile4", hostile_course)
    assert template.threads == 1
    assert template.request({"op": "threads"})["threads"] == 1
    modules = template.request({"op": "modules"})["modules"]
    assert "pytorch_basics" not in modules and not [m for m in modules if graded.marker in m]
    assert "torch" in modules   # it did import the preloads: that is what it is for


@only_template
@pytest.mark.parametrize("harm", ["bomb", "segfault", "hang"])
def test_a_child_that_crashes_bombs_or_hangs_leaves_the_template_serving(attack, template_launcher,
                                                                          hostile_course, harm):
    attacks = {
        "bomb": "import os as _os\ndef numpy_to_tensor(array):\n    while True:\n        try:\n"
                "            _os.fork()\n        except OSError:\n            pass\n",
        "segfault": "import ctypes as _ctypes\ndef numpy_to_tensor(array):\n    _ctypes.string_at(0)\n",
        "hang": "def numpy_to_tensor(array):\n    while True:\n        pass\n",
    }
    attack("")   # the template is up
    template = template_of(template_launcher, "hostile4", hostile_course)
    assert_contained(attack(attacks[harm], call_timeout=5), attacked="failed")
    after = attack("")
    assert_contained(after, attacked="passed")
    assert template_of(template_launcher, "hostile4", hostile_course) is template and template.alive()
    assert template.request({"op": "threads"})["threads"] == 1


def test_no_user_namespace_no_capabilities_no_new_privileges(attack):
    graded = attack(PRIVILEGES)
    assert_contained(graded, attacked="passed")
    seen = reported(graded)
    assert seen["user namespace refused"], seen
    assert int(seen["CapEff"], 16) == 0 and int(seen["CapBnd"], 16) == 0 and seen["NoNewPrivs"] == "1", seen
