"""``grade lab4 --watch``: what a save changed, the changed functions' checks first, regrades on a
warm template (or fresh workers, said in one line), and Ctrl-C leaves nothing running."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest

from grader.grading.run import grade
from grader.grading.watch import changed_definitions, watch_launcher
from grader.isolation import TemplateLauncher
from tests.helpers import LAB4_REFERENCE, REPO, SANDBOX

BEFORE = '''
import numpy as np

LIMIT = 3


def first(x):
    """One."""
    return x + 1


def second(x):
    return x * 2


class Model:
    size = 4

    def forward(self, x):
        return x

    def reset(self):
        pass
'''


@pytest.mark.parametrize("after, changed", [
    (BEFORE.replace("return x + 1", "return x + 2"), {"first"}),
    (BEFORE.replace('"""One."""', '"""One, and more."""').replace("x * 2", "2 * x"), {"first", "second"}),
    (BEFORE.replace("    return x + 1", "    # add one\n\n    return x + 1"), set()),   # comments, blank lines
    (BEFORE.replace("        return x\n", "        return -x\n"), {"Model.forward"}),
    (BEFORE.replace("size = 4", "size = 5"), {"Model"}),
    (BEFORE + "\n\ndef third():\n    pass\n", {"third"}),
    (BEFORE.replace("LIMIT = 3", "LIMIT = 4"), None),       # code outside the functions: everything may change
    (BEFORE.replace("import numpy as np", "import numpy"), None),
    (BEFORE.replace("def second(x):", "def second(x)"), None),  # cannot parse: cannot tell
])
def test_what_a_save_changed(after, changed):
    assert changed_definitions(BEFORE, after) == changed


def test_a_first_run_cannot_tell_what_changed():
    assert changed_definitions(None, BEFORE) is None


def test_the_changed_functions_checks_run_first_and_the_grade_is_the_same():
    keyword = "select_device or to_unet_input"
    plain = grade("lab4", reference=True, keyword=keyword)
    first = grade("lab4", reference=True, keyword=keyword, first={"to_unet_input"})
    order = [c.function for c in first.checks]
    assert order[:order.count("to_unet_input")] == ["to_unet_input"] * order.count("to_unet_input")
    assert [c.function for c in plain.checks][0] == "select_device"   # the suite's own order otherwise
    assert sorted((c.name, c.status, c.score) for c in first.checks) == \
        sorted((c.name, c.status, c.score) for c in plain.checks)


def test_where_no_template_works_watch_says_so_in_one_line(monkeypatch):
    monkeypatch.setenv("GRADE_SANDBOX", "none")
    launcher, note = watch_launcher()
    with launcher:
        assert not isinstance(launcher, TemplateLauncher)
        assert note == ("watch: each regrade starts a fresh worker (no warm template here: "
                        f"this sandbox ({launcher.kind}) has none)")


@pytest.mark.skipif(SANDBOX != "namespaces", reason="templates are namespace sandboxes")
def test_where_templates_work_watch_uses_one():
    launcher, note = watch_launcher()
    with launcher:
        if not (isinstance(launcher, TemplateLauncher) and launcher.template_available()):
            pytest.skip(f"no template here: {note}")
        assert note == ""


def wait_for(path: Path, text: str, count: int, seconds: float = 240) -> str:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        seen = path.read_text(errors="replace")
        if seen.count(text) >= count:
            return seen
        time.sleep(0.2)
    raise AssertionError(f"{text!r} not seen {count} times in {seconds} s:\n{path.read_text()[-3000:]}")


@pytest.mark.slow
def test_watch_regrades_on_save_with_the_changed_function_first_and_ctrl_c_leaves_nothing(tmp_path):
    submission = tmp_path / "pytorch_basics.py"
    submission.write_text(LAB4_REFERENCE.read_text())
    output = tmp_path / "watch.txt"
    env = {**os.environ, "NO_COLOR": "1", "COLUMNS": "100"}
    with output.open("w") as out:
        watching = psutil.Popen([sys.executable, "-m", "grader", "lab4", "--watch", "--submission", str(submission),
                                 "-k", "select_device or to_unet_input"], cwd=REPO, env=env, stdout=out,
                                stderr=subprocess.STDOUT)
    try:
        wait_for(output, "Ctrl-C stops", 1)
        source = submission.read_text()
        submission.write_text(source.replace("def to_unet_input(", "def to_unet_input(", 1) + "\n# a comment\n")
        time.sleep(1.5)   # a save that changes nothing the checks see: graded again, nothing checked first
        at = source.index("    if isinstance(x, np.ndarray)", source.index("def to_unet_input("))
        submission.write_text(source[:at] + "    x = x   # a change that keeps it right\n" + source[at:])
        seen = wait_for(output, "Ctrl-C stops", 3)
        assert "checked first: to_unet_input" in seen
        assert "to_unet_input: 7 of 7 checks pass (the rest of the lab follows)" in seen
        family = [watching, *watching.children(recursive=True)]
        watching.send_signal(signal.SIGINT)
        assert watching.wait(60) == 0
        assert "stopped watching" in output.read_text()
        gone, alive = psutil.wait_procs(family, timeout=10)
        assert alive == [], f"left running after Ctrl-C: {alive}"
    finally:
        if watching.poll() is None:
            watching.kill()


def test_the_watched_path_is_shown_as_it_is_never_read_as_markup(tmp_path):
    """A folder named like rich markup ([/], [bold]) is printed as it is (it ended --watch with a MarkupError)."""
    import io

    from rich.console import Console

    from grader.cli import watching_line

    path = tmp_path / "[/]" / "[bold]x" / "pytorch_basics.py"
    out = io.StringIO()
    Console(file=out, width=400).print(watching_line(path), soft_wrap=True)
    assert f"watching {path}: save it" in out.getvalue()
