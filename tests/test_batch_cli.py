"""``grade batch`` / ``grade export`` set-up errors: one readable line, exit status 2, nothing graded."""

from __future__ import annotations

import pytest

from grader.cli import main


@pytest.mark.parametrize("argv, message", [
    (["batch", "lab9", "{subs}", "--out", "{out}"], "unknown lab 'lab9'"),
    (["batch", "lab4", "{missing}", "--out", "{out}"], "neither a folder of submissions nor a .zip"),
    (["batch", "lab4", "{subs}", "--out", "{out}", "--jobs", "0"], "--jobs must be at least 1"),
    (["batch", "lab4", "{subs}", "--out", "{file}/x"], "cannot create --out"),
    pytest.param(["batch", "lab4", "{subs}", "--out", "{out}", "--scheduler", "tcp://127.0.0.1:1"], "could not reach the Dask",
                 marks=pytest.mark.slow),   # waits out the connection timeout (30 s)
    (["batch", "lab4", "{subs}", "--out", "{subs}"], "is inside the submissions"),       # red team 3: the export
    (["batch", "lab4", "{subs}", "--out", "{subs}/alice/out"], "is inside the submissions"),   # overwrote hand-ins
    (["export", "{missing}"], "no gradebook at"),
    (["export", "{bad}"], "is not a gradebook"),
])
def test_setup_errors_are_one_line(tmp_path, capsys, argv, message):
    (tmp_path / "subs" / "alice").mkdir(parents=True)
    (tmp_path / "subs" / "alice" / "pytorch_basics.py").write_text("x = 1\n")
    (tmp_path / "file").write_text("")
    (tmp_path / "bad").mkdir()
    (tmp_path / "bad" / "grades.db").write_text("not sqlite " * 200)
    paths = {"subs": tmp_path / "subs", "out": tmp_path / "out", "missing": tmp_path / "missing",
             "file": tmp_path / "file", "bad": tmp_path / "bad"}
    assert main([a.format(**paths) for a in argv]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("grade: error: ") and message in err[0]
