"""The `grade` command's contract: exit codes, JSON, one-line errors, safe output.

A few runs go through a real `python -m grader` process (exit status, piped output, --help);
the others go through ``main()`` in this process: the same code, without paying a fresh
interpreter's imports (seconds) for each.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from grader.cli import main
from grader.course.folder import ENVIRONMENT
from grader.feedback.report import as_text
from grader.results import CheckResult, GradeResult

REPO = Path(__file__).resolve().parents[1]
REFERENCE = REPO / "reference" / "lab4" / "pytorch_basics.py"
STUB = REPO / "assignments" / "lab4" / "pytorch_basics.py"
ONE_CHECK = "numpy_to_tensor"


def grade(*args: str, cwd: Path = REPO) -> subprocess.CompletedProcess:
    env = {**os.environ, "NO_COLOR": "1", "COLUMNS": "80"}
    return subprocess.run([sys.executable, "-m", "grader", *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=300)


def grade_here(capsys: pytest.CaptureFixture, *args: str) -> subprocess.CompletedProcess:
    """`grade ARGS` through ``main()`` in this process: its exit status, stdout and stderr."""
    try:
        code = main(list(args))
    except SystemExit as exc:   # argparse's errors leave as the real command does
        code = exc.code
    out = capsys.readouterr()
    return subprocess.CompletedProcess(["grade", *args], code, out.out, out.err)


def test_reference_exits_0_with_full_marks_in_json():
    run = grade("lab4", "--reference", "-k", ONE_CHECK, "--format", "json")
    assert run.returncode == 0, run.stderr
    result = json.loads(run.stdout)
    assert result["score"] == result["max_score"] > 0
    assert {t["status"] for t in result["tests"]} == {"passed"}
    assert set(result["tests"][0]) >= {"name", "score", "max_score", "status", "output"}


def test_stub_exits_1_and_reports_not_started():
    run = grade("lab4", "-k", ONE_CHECK)
    assert run.returncode == 1
    assert "1 of 1 function not started yet: `numpy_to_tensor`." in run.stdout
    assert "Score 0/" in run.stdout
    assert run.stderr == "" and "\r" not in run.stdout + run.stderr  # piped: no live progress at all


def test_syntax_error_is_one_clear_failure_per_check(tmp_path, capsys):
    broken = tmp_path / "pytorch_basics.py"
    broken.write_text(REFERENCE.read_text().replace("def select_device(", "def select_device((", 1))
    run = grade_here(capsys, "lab4", "--submission", str(tmp_path), "-k", ONE_CHECK, "--format", "json")
    assert run.returncode == 1
    result = json.loads(run.stdout)
    assert result["score"] == 0
    assert "SyntaxError" in result["import_error"] and "pytorch_basics.py line" in result["import_error"]
    assert all(t["status"] == "failed" for t in result["tests"])
    assert "Traceback" not in run.stdout + run.stderr


@pytest.mark.parametrize("args, message", [
    (["lab9"], "unknown lab"),
    (["lab4", "--submission", "/no/such/folder"], "submission not found"),
    (["lab4", "--submission", str(REPO / "README.md")], "not a Python file"),
])
def test_setup_errors_are_one_line_and_exit_2(capsys, args, message):
    run = grade_here(capsys, *args)
    assert run.returncode == 2
    assert message in run.stderr
    assert len(run.stderr.strip().splitlines()) == 1
    assert "Traceback" not in run.stderr


@pytest.mark.parametrize("option", ["--timeout", "--import-timeout"])
@pytest.mark.parametrize("value", ["0", "-1", "nan", "inf", "soon"])
def test_time_limits_must_be_finite_and_positive(capsys, option, value):
    run = grade_here(capsys, "lab4", "--reference", option, value)
    assert run.returncode == 2
    assert run.stderr.count("\n") == 1 and option in run.stderr and value in run.stderr
    assert run.stdout == ""


def test_grade_lab4_is_short_for_grade_run_lab4(capsys):
    for args in (["lab9"], ["run", "lab9"]):
        run = grade_here(capsys, *args)
        assert run.returncode == 2 and "unknown lab 'lab9'" in run.stderr


def test_grade_outside_a_course_folder_explains_itself(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv(ENVIRONMENT, raising=False)
    run = grade_here(capsys, "lab4")
    assert run.returncode == 2
    assert "assignments/lab4/pytorch_basics.py" in run.stderr


def test_output_never_replaces_an_existing_file(tmp_path, capsys):
    existing = tmp_path / "grades.json"
    existing.write_text("keep me")
    run = grade_here(capsys, "lab4", "--reference", "-k", ONE_CHECK, "--format", "json", "--output", str(existing))
    assert run.returncode == 2 and "already exists" in run.stderr
    assert existing.read_text() == "keep me"
    fresh = tmp_path / "new.json"
    run = grade_here(capsys, "lab4", "--reference", "-k", ONE_CHECK, "--format", "json", "--output", str(fresh))
    assert run.returncode == 0 and json.loads(fresh.read_text())["score"] > 0


def test_report_fits_80_columns_without_colour():
    result = GradeResult("lab4", "PyTorch Essentials", "alice/pytorch_basics.py", [
        CheckResult("test_a", "a check with a rather long title that has to wrap somewhere", 2, "passed", 2),
        CheckResult("test_b", "a failing check", 3, "failed", 0,
                    {"summary": "to_unet_input: wrong shape", "function": "to_unet_input",
                     "input": "to_unet_input(float32 array of shape (1025, 44))",
                     "rows": [("shape", "(1, 1, 1025, 44)", "(1025, 1, 1, 44)")],
                     "hint": "unsqueeze(0) adds the batch dimension"}),
        CheckResult("test_c", "moves to CUDA", 1, "skipped", skip_reason="needs a CUDA GPU"),
    ])
    text = as_text(result, width=80)
    assert max(len(line) for line in text.splitlines()) <= 80
    assert "\x1b[" not in text
    flowing = " ".join(text.split())
    for expected in ("Score 2/5", "(1, 1, 1025, 44)", "(1025, 1, 1, 44)", "hint:", "skipped", "left out of the maximum"):
        assert expected in flowing


def test_help_lists_every_command_with_one_line():
    from grader.cli import COMMANDS

    run = grade("--help")
    assert run.returncode == 0
    listed = [line.split()[0] for line in run.stdout.splitlines() if line.startswith("    ") and line.split()]
    assert set(COMMANDS) <= set(listed)
    assert {"run", "list", "doctor", "check", "gradescope", "release", "batch", "export", "mutants"} <= set(COMMANDS)


@pytest.mark.parametrize("argv", [["lab9"], ["lab9", "--reference"], ["check", "lab9"], ["mutants", "lab9"],
                                  ["gradescope", "lab9", "--out", "{tmp}/a.zip"], ["release", "lab9", "--out", "{tmp}/r"],
                                  ["batch", "lab9", "{tmp}", "--out", "{tmp}/out"]])
def test_a_missing_lab_is_the_same_one_line_from_every_command(argv, tmp_path):
    from grader.cli import main

    import contextlib
    import io

    err = io.StringIO()
    with contextlib.redirect_stderr(err):
        code = main([a.format(tmp=tmp_path) for a in argv])
    assert code == 2
    assert err.getvalue() == "grade: error: unknown lab 'lab9' (labs: lab1, lab2, lab3, lab4, lab5)\n"
