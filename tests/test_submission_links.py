"""No symbolic link is followed where a submission is read (issue 20, item 7): the grader can read
what its worker cannot (the reference), so a link handed in as the lab's file is refused, not copied."""

from __future__ import annotations

import os

import pytest

from grader.grading.files import LINK, Unreadable, read_no_follow
from tests.helpers import LAB4_REFERENCE, REPO
from tests.test_course import grade_cli


def test_read_no_follow_reads_files_and_refuses_links_pipes_and_giants(tmp_path):
    real = tmp_path / "real.py"
    real.write_text("x = 1\n")
    assert read_no_follow(real) == b"x = 1\n"
    os.symlink(real, tmp_path / "link.py")
    with pytest.raises(Unreadable, match="symbolic link"):
        read_no_follow(tmp_path / "link.py")
    os.mkfifo(tmp_path / "pipe.py")
    with pytest.raises(Unreadable, match="not a regular file"):
        read_no_follow(tmp_path / "pipe.py")       # and it does not block on the pipe
    real.write_bytes(b"x" * 2000)
    with pytest.raises(Unreadable, match="too large"):
        read_no_follow(real, limit=1000)


@pytest.mark.parametrize("how", ["file", "folder", "notebook", "dangling"])
def test_a_single_run_refuses_a_link_in_one_line(tmp_path, how):
    target = {"file": LAB4_REFERENCE, "folder": LAB4_REFERENCE, "notebook": LAB4_REFERENCE,
              "dangling": tmp_path / "gone.py"}[how]
    name = {"file": "mine.py", "folder": "folder/pytorch_basics.py", "notebook": "pytorch_basics.ipynb",
            "dangling": "folder/pytorch_basics.py"}[how]
    link = tmp_path / name
    link.parent.mkdir(exist_ok=True)
    os.symlink(target, link)
    given = link.parent if how in ("folder", "dangling") else link
    run = grade_cli("lab4", "--submission", str(given), "-k", "select_device", cwd=REPO)
    assert run.returncode == 2, run.stdout[-2000:]
    (line,) = run.stderr.strip().splitlines()
    assert LINK in line and "Traceback" not in run.stderr
    assert "Score" not in run.stdout
