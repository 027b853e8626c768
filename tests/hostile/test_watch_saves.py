"""``grade lab4 --watch`` when the watched file is replaced between saves (red team 3): each save is read as
a submission is (grader/grading/files.py), so a pipe, a link or a folder in its place is a save to ignore,
not a watch that hangs forever on a pipe nobody writes, or reads what a link points to."""

from __future__ import annotations

import os
import threading

import pytest

from grader.grading import watch


def read_within(path, seconds: float = 5.0):
    found: list = []
    reader = threading.Thread(target=lambda: found.append(watch._read(path)), daemon=True)
    reader.start()
    reader.join(seconds)
    assert not reader.is_alive(), "reading the saved file hangs"
    return found[0]


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no named pipes here")
def test_a_file_replaced_by_a_pipe_is_skipped_not_waited_on(tmp_path):
    pipe = tmp_path / "pytorch_basics.py"
    os.mkfifo(pipe)
    assert read_within(pipe) is None


def test_a_file_replaced_by_a_link_or_a_folder_is_skipped(tmp_path):
    secret = tmp_path / "secret.py"
    secret.write_text("TOKEN = 1\n")
    link = tmp_path / "pytorch_basics.py"
    link.symlink_to(secret)
    assert read_within(link) is None
    folder = tmp_path / "lab4.py"
    folder.mkdir()
    assert read_within(folder) is None
    plain = tmp_path / "plain.py"
    plain.write_text("x = 1\n")
    assert read_within(plain) == "x = 1\n"
