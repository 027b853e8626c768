"""The batch controller and local scheduler, with a fake grading function (no real grading).

Each batch still starts grader processes (a Python each): one batch is in the fast tier, the rest are slow.
"""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from grader.instructor.batch.controller import BatchOptions, Controller
from grader.instructor.batch.layouts import discover
from grader.instructor.batch.schedulers import LocalScheduler
from grader.instructor.gradebook import Gradebook
from grader.course.folder import find_lab

from tests.helpers import REPO, processes_with

LAB = find_lab("lab4")
FAKE = dict(grade_target="tests.batch_fakes:grade", warm_target="tests.batch_fakes:warm")


def make_class(folder: Path, students: dict[str, str]) -> Path:
    for name, text in students.items():
        (folder / name).mkdir(parents=True, exist_ok=True)
        (folder / name / "pytorch_basics.py").write_text(text + "\n")
    return folder


def run_batch(tmp_path: Path, subs: Path, jobs: int = 2, options: BatchOptions = BatchOptions(), budget=None):
    roster = discover(LAB, subs, tmp_path / "staging")
    with Gradebook(tmp_path / "grades.db") as book:
        scheduler = LocalScheduler("lab4", jobs, submission_budget=budget, **FAKE)
        report = Controller(LAB, roster, book, scheduler, options, jobs=jobs).run()
        rows = {r.student: r for r in book.submissions("lab4")}
    return report, rows


def test_every_submission_lands_in_the_gradebook(tmp_path):
    subs = make_class(tmp_path / "subs", {"alice": "SCORE 1 1", "bob": "SCORE 0 1", "carol": "SCORE 0 0"})
    report, rows = run_batch(tmp_path, subs)
    assert sorted(report.graded) == ["alice", "bob", "carol"] and not report.crashed
    assert {k: (r.score, r.max_score, r.status) for k, r in rows.items()} == {
        "alice": (2, 2, "graded"), "bob": (1, 2, "graded"), "carol": (0, 2, "graded")}
    with Gradebook(tmp_path / "grades.db") as book:
        checks = book.checks("bob", "lab4")
        result = book.submissions("lab4")[1].grade_result()
    assert [(c["name"], c["status"], c["visibility"], c["output"]) for c in checks] == [
        ("test_0", "failed", "visible", "out 0"), ("test_1", "passed", "visible", "out 1")]
    assert result.score == 1 and result.checks[0].output == "out 0"


@pytest.mark.slow   # five batches, two grader processes each
def test_rerun_skips_unchanged_and_regrades_changed_or_forced(tmp_path):
    subs = make_class(tmp_path / "subs", {"alice": "SCORE 1 1", "bob": "SCORE 0 1"})
    run_batch(tmp_path, subs)
    report, _ = run_batch(tmp_path, subs)
    assert report.graded == [] and sorted(report.skipped) == ["alice", "bob"]
    (subs / "bob" / "pytorch_basics.py").write_text("SCORE 1 1\n")
    report, rows = run_batch(tmp_path, subs)
    assert report.graded == ["bob"] and rows["bob"].score == 2
    report, _ = run_batch(tmp_path, subs, options=BatchOptions(regrade=True))
    assert sorted(report.graded) == ["alice", "bob"]
    report, _ = run_batch(tmp_path, subs, options=BatchOptions(keyword="something_else"))
    assert sorted(report.graded) == ["alice", "bob"]      # another grader version: regraded


@pytest.mark.slow   # grader processes die and are replaced
def test_a_dead_grader_is_replaced_and_its_submission_tried_again(tmp_path):
    marker = tmp_path / "crashed-once"
    subs = make_class(tmp_path / "subs", {"alice": f"CRASH_ONCE {marker}", "bob": "SCORE 1 0"})
    report, rows = run_batch(tmp_path, subs)
    assert marker.exists() and report.restarts == 1
    assert sorted(report.graded) == ["alice", "bob"] and rows["alice"].score == 2


@pytest.mark.slow   # two batches, two grader processes each
def test_a_worker_that_cannot_start_is_listed_as_the_graders_problem_not_a_grade(tmp_path):
    """WorkerStartError (a sandbox tool, a confinement step, a library of the lab): no score, its own status,
    tried again next run; the other students are graded."""
    from csv import DictReader

    from grader.instructor.gradebook.exports import write_csv

    subs = make_class(tmp_path / "subs", {"alice": "NO_WORKER", "bob": "SCORE 1 0"})
    report, rows = run_batch(tmp_path, subs)
    assert rows["alice"].status == "grader problem" and "a problem of the grader" in rows["alice"].note
    assert "could not start its worker" in rows["alice"].note and rows["alice"].percent is None
    assert rows["bob"].status == "graded" and report.graded == ["bob"]
    with Gradebook(tmp_path / "grades.db") as book:
        (csv,) = write_csv(book, "lab4", tmp_path)
    (alice,) = [row for row in DictReader(csv.read_text().splitlines()) if row["student"] == "alice"]
    assert (alice["score"], alice["max_score"], alice["percent"], alice["status"]) == ("", "", "", "grader problem")
    assert alice["note"].startswith("not graded")
    report, _ = run_batch(tmp_path, subs)
    assert "alice" in report.crashed and report.skipped == ["bob"]   # tried again, not taken as current


@pytest.mark.slow   # two batches whose grader processes die and are replaced
def test_a_submission_that_always_kills_its_grader_is_recorded_as_crashed(tmp_path):
    subs = make_class(tmp_path / "subs", {"alice": "CRASH", "bob": "SCORE 1 0", "carol": "ERROR"})
    report, rows = run_batch(tmp_path, subs)
    assert rows["bob"].score == 1 and rows["bob"].status == "graded"
    assert rows["alice"].status == "crashed" and "exit status 3" in rows["alice"].note
    assert rows["carol"].status == "crashed" and "the suite broke" in rows["carol"].note
    assert set(report.crashed) == {"alice", "carol"} and report.restarts == 2   # first try + one retry
    report, _ = run_batch(tmp_path, subs)
    assert set(report.crashed) == {"alice", "carol"} and report.skipped == ["bob"]   # crashes are retried


@pytest.mark.slow   # two batches, one waiting out its budget
def test_a_submission_over_its_budget_is_stopped_and_recorded_as_timeout(tmp_path):
    subs = make_class(tmp_path / "subs", {"alice": "HANG", "bob": "SCORE 1 1"})
    report, rows = run_batch(tmp_path, subs, budget=3.0)
    assert rows["alice"].status == "timeout" and "3 s budget" in rows["alice"].note
    assert rows["bob"].score == 2
    report, _ = run_batch(tmp_path, subs, budget=3.0)
    assert sorted(report.skipped) == ["alice", "bob"]       # a timeout is a result, not retried


@pytest.mark.slow   # three submissions wait out their budget, one at a time
def test_submissions_over_their_budget_never_stop_the_batch(tmp_path):
    """A stop for a submission's budget is that submission's doing, however many there are (issue 20, item 5)."""
    subs = make_class(tmp_path / "subs", {**{f"h{i}": "HANG" for i in range(3)}, "zoe": "SCORE 1 1"})
    report, rows = run_batch(tmp_path, subs, jobs=1, options=BatchOptions(max_restarts=1), budget=2.0)
    assert report.aborted == "" and report.restarts == 3
    assert [rows[f"h{i}"].status for i in range(3)] == ["timeout"] * 3 and rows["zoe"].score == 2


@pytest.mark.slow   # grader processes die and are replaced
def test_too_many_dead_graders_stop_the_batch(tmp_path):
    subs = make_class(tmp_path / "subs", {f"s{i}": "CRASH" for i in range(4)})
    report, _ = run_batch(tmp_path, subs, jobs=1, options=BatchOptions(max_restarts=2))
    assert "limit 2" in report.aborted


RUNNER = """
import sys
from pathlib import Path
from grader.instructor.batch.controller import Controller
from grader.instructor.batch.layouts import discover
from grader.instructor.batch.schedulers import LocalScheduler
from grader.instructor.gradebook import Gradebook
from grader.course.folder import find_lab
lab = find_lab("lab4")
subs, out = Path(sys.argv[1]), Path(sys.argv[2])
roster = discover(lab, subs, out / "staging")
with Gradebook(out / "grades.db") as book:
    scheduler = LocalScheduler("lab4", 2, grade_target="tests.batch_fakes:grade", warm_target="tests.batch_fakes:warm")
    report = Controller(lab, roster, book, scheduler, jobs=2).run()
print("INTERRUPTED" if report.interrupted else "DONE", len(report.graded), flush=True)
"""


def graded_count(db: Path) -> int:
    if not db.exists():
        return 0
    with sqlite3.connect(db, timeout=5) as conn:
        try:
            return conn.execute("SELECT count(*) FROM submission").fetchone()[0]
        except sqlite3.OperationalError:
            return 0


@pytest.mark.slow   # a batch of 16 in a controller process, stopped, then run again
@pytest.mark.parametrize("how", [signal.SIGINT, signal.SIGKILL], ids=["ctrl-c", "kill-9"])
def test_an_interrupted_batch_resumes_where_it_stopped(tmp_path, how):
    students = {f"s{i:02d}": "SLEEP 0.4 SCORE 1 0" for i in range(16)}
    subs = make_class(tmp_path / "subs", students)
    out = tmp_path / "out"
    out.mkdir()
    command = [sys.executable, "-c", RUNNER, str(subs), str(out)]
    process = subprocess.Popen(command, cwd=REPO, stdout=subprocess.PIPE, text=True,
                               start_new_session=True)
    deadline = time.monotonic() + 120
    while graded_count(out / "grades.db") < 3 and time.monotonic() < deadline and process.poll() is None:
        time.sleep(0.1)
    os.kill(process.pid, how)
    stdout, _ = process.communicate(timeout=60)
    if how == signal.SIGINT:
        assert stdout.startswith("INTERRUPTED"), stdout
        assert process.returncode == 0
    first = graded_count(out / "grades.db")
    assert 3 <= first < len(students)
    time.sleep(1.0)      # graders of a killed controller notice (parent-death signal) and leave
    assert processes_with("grade-batch-g") == [] or all("defunct" in p for p in processes_with("grade-batch-g"))
    rerun = subprocess.run(command, cwd=REPO, capture_output=True, text=True, timeout=180)
    assert rerun.stdout.split() == ["DONE", str(len(students) - first)], rerun.stderr[-2000:]
    with Gradebook(out / "grades.db") as book:
        rows = book.submissions("lab4")
    assert sorted(r.student for r in rows) == sorted(students) and {r.score for r in rows} == {1.0}
