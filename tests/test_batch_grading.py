"""Real batches of Lab 4 through ``grade batch``: the same grades as grading alone, hostile classmates included.

One batch (run once for the module, restricted with -k to two functions so it
stays affordable) holds honest submissions (the reference, the stub, a partly
broken one) beside hostile ones: one that never returns, one that writes into
other students' files, the staging copies and the gradebook, and one whose
file is a symbolic link to the reference.
"""

from __future__ import annotations

import hashlib
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from grader.instructor.gradebook import Gradebook
from grader.grading.run import grade
from tests.helpers import LAB4_REFERENCE, REPO

KEYWORD = "numpy_to_tensor or to_unet_input"
HONEST = ("ref", "stub", "partial")

pytestmark = pytest.mark.slow   # real batches: grader processes, warm templates, a worker per submission

PARTIAL = '''

def to_unet_input(x):
    raise NotImplementedError("not done yet")
'''

NEVER_RETURNS = '''

def numpy_to_tensor(array):
    while True:
        pass
'''

VANDAL = '''
import glob, os
for _pattern in {patterns!r}:
    for _path in glob.glob(_pattern):
        for _attempt in (lambda p: open(p, "w").write("def numpy_to_tensor(a):\\n    return None\\n"),
                         lambda p: os.remove(p), lambda p: os.symlink("/dev/null", p + ".lnk")):
            try:
                _attempt(_path)
            except Exception:
                pass
'''


def build_class(folder: Path, out: Path) -> Path:
    reference = LAB4_REFERENCE.read_text()
    files = {
        "ref": reference,
        "stub": (REPO / "assignments" / "lab4" / "pytorch_basics.py").read_text(),
        "partial": reference + PARTIAL,
        "zz_never_returns": reference + NEVER_RETURNS,
        "aa_vandal": reference + VANDAL.format(patterns=[str(folder / "*" / "*.py"), str(out / "*"),
                                             "/tmp/grade-batch-staging-*/entries/*/*.py",
                                             f"{os.environ.get('TMPDIR', '/tmp')}/grade-batch-staging-*/entries/*/*.py"]),
    }
    for student, text in files.items():
        (folder / student).mkdir(parents=True)
        (folder / student / "pytorch_basics.py").write_text(text)
    (folder / "mallory").mkdir()
    os.symlink(LAB4_REFERENCE, folder / "mallory" / "pytorch_basics.py")
    return folder


def digest(folder: Path) -> dict[str, str]:
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*.py")) if not p.is_symlink()}


@pytest.fixture(scope="module")
def batch(tmp_path_factory):
    root = tmp_path_factory.mktemp("batch")
    out = root / "out"
    subs = build_class(root / "subs", out)
    before = digest(subs)
    command = [sys.executable, "-m", "grader", "batch", "lab4", str(subs), "--out", str(out), "--jobs", "2",
               "-k", KEYWORD, "--timeout", "2", "--submission-budget", "240"]
    run = subprocess.run(command, cwd=REPO, capture_output=True, text=True, timeout=600)
    with Gradebook(out / "grades.db") as book:
        rows = {r.student: r for r in book.submissions("lab4")}
        problems = book.problems("lab4")
    return {"run": run, "rows": rows, "problems": problems, "subs": subs, "out": out, "before": before,
            "command": command}


def outcomes(result):
    return [(c.name, c.status, c.score, c.points) for c in result.checks]


def test_the_batch_completes_and_lists_what_it_did_not_grade(batch):
    run = batch["run"]
    assert run.returncode == 0, run.stderr[-3000:]
    assert sorted(batch["rows"]) == ["aa_vandal", "partial", "ref", "stub", "zz_never_returns"]
    assert [(p["student"], p["kind"]) for p in batch["problems"]] == [("mallory", "unreadable")]
    assert "mallory" in run.stderr and "symbolic link" in run.stderr     # the summary lists it


@pytest.mark.parametrize("student", HONEST)
def test_honest_grades_equal_grading_alone(batch, student):
    alone = grade("lab4", batch["subs"] / student, keyword=KEYWORD, call_timeout=2)
    in_batch = batch["rows"][student].grade_result()
    assert outcomes(in_batch) == outcomes(alone)
    assert [c.feedback for c in in_batch.checks] == [c.feedback for c in alone.checks]
    assert batch["rows"][student].status == "graded"


def test_the_batch_forks_workers_from_a_warm_template(batch):
    """Where templates work, the graders' workers come from one (the honest grades above equal fresh ones)."""
    from grader.isolation import TemplateLauncher

    with TemplateLauncher() as launcher:
        if not launcher.template_available():
            pytest.skip(f"no warm template here: {launcher.template_unavailable_reason()}")
    sandboxes = {student: batch["rows"][student].grade_result().sandbox for student in HONEST}
    assert all("forked from a warm template" in s for s in sandboxes.values()), sandboxes


def test_expected_scores(batch):
    rows = batch["rows"]
    assert rows["ref"].score == rows["ref"].max_score > 0
    assert rows["stub"].score == 0
    assert 0 < rows["partial"].score < rows["partial"].max_score


def test_a_submission_that_never_returns_fails_without_holding_up_the_class(batch):
    row = batch["rows"]["zz_never_returns"]
    result = row.grade_result()
    attacked = [c for c in result.checks if c.name.startswith("test_numpy_to_tensor")]
    assert attacked and all(c.status == "failed" for c in attacked)
    assert any(c.status == "passed" for c in result.checks if c.name.startswith("test_to_unet_input"))


def test_a_vandal_changes_no_one_elses_files_or_the_gradebook(batch):
    assert digest(batch["subs"]) == batch["before"]
    assert not list(batch["subs"].rglob("*.lnk")) and not list(batch["out"].glob("*.lnk"))
    with Gradebook(batch["out"] / "grades.db") as book:       # still a readable gradebook
        assert book.db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    # the vandal is the reference plus its attack: it earns what the reference earns
    assert batch["rows"]["aa_vandal"].score == batch["rows"]["ref"].score


def test_a_second_run_grades_nothing_and_regrade_grades_again(batch):
    again = subprocess.run(batch["command"], cwd=REPO, capture_output=True, text=True, timeout=300)
    assert again.returncode == 0 and "5 submission(s) already graded" in again.stderr.replace("\n", " ")
    with Gradebook(batch["out"] / "grades.db") as book:
        assert {r.student: r.graded_at for r in book.submissions("lab4")} == \
            {k: r.graded_at for k, r in batch["rows"].items()}
    export = subprocess.run([sys.executable, "-m", "grader", "export", str(batch["out"])], cwd=REPO,
                            capture_output=True, text=True, timeout=300)
    assert export.returncode == 0, export.stderr
    ref = json.loads((batch["out"] / "students" / "ref" / "results.json").read_text())
    assert ref["score"] == batch["rows"]["ref"].score


def test_regrade_forces_a_new_grade(tmp_path):
    subs = tmp_path / "subs"
    (subs / "ref").mkdir(parents=True)
    (subs / "ref" / "pytorch_basics.py").write_text(LAB4_REFERENCE.read_text())
    command = [sys.executable, "-m", "grader", "batch", "lab4", str(subs), "--out", str(tmp_path / "out"),
               "--jobs", "1", "-k", "numpy_to_tensor_converts_float64", "--quiet"]
    stamps = []
    for extra in ([], ["--regrade"]):
        run = subprocess.run(command + extra, cwd=REPO, capture_output=True, text=True, timeout=300)
        assert run.returncode == 0, run.stderr[-2000:]
        with Gradebook(tmp_path / "out" / "grades.db") as book:
            (row,) = book.submissions("lab4")
        stamps.append((row.score, row.max_score, row.seconds))
    assert stamps[0][:2] == stamps[1][:2] == (1.0, 1.0)
    assert stamps[0][2] != stamps[1][2]          # a fresh grading run, not the stored one


def graded(db: Path) -> int:
    import sqlite3

    try:
        with sqlite3.connect(db, timeout=5) as conn:
            return conn.execute("SELECT count(*) FROM submission").fetchone()[0]
    except sqlite3.Error:
        return 0


@pytest.mark.parametrize("how", ["ctrl-c", "kill-9"])
def test_a_real_batch_stopped_mid_way_leaves_no_process_and_resumes(tmp_path, how):
    """Ctrl-C (SIGINT to the whole foreground group) or kill -9 of the controller alone:
    graders and student workers all go, the gradebook keeps what was done, a rerun finishes."""
    psutil = pytest.importorskip("psutil")
    subs = tmp_path / "subs"
    for i in range(4):
        (subs / f"s{i}").mkdir(parents=True)
        (subs / f"s{i}" / "pytorch_basics.py").write_text(LAB4_REFERENCE.read_text() + f"\n# variant {i}\n")
    out = tmp_path / "out"
    command = [sys.executable, "-m", "grader", "batch", "lab4", str(subs), "--out", str(out), "--jobs", "2",
               "-k", "numpy_to_tensor_converts_float64 or to_unet_input_adds", "--quiet"]
    controller = psutil.Popen(command, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                              start_new_session=True)
    family: set = set()
    deadline = time.monotonic() + 300
    while controller.poll() is None and time.monotonic() < deadline:
        family |= set(controller.children(recursive=True))
        if graded(out / "grades.db") >= 1 and len(controller.children(recursive=True)) > 2:
            break     # one graded, graders and a student worker running
        time.sleep(0.2)
    assert controller.poll() is None, "the batch finished before it could be stopped"
    family |= set(controller.children(recursive=True))
    if how == "ctrl-c":
        os.killpg(controller.pid, signal.SIGINT)
        _, stderr = controller.communicate(timeout=120)
        assert controller.returncode == 1 and "run the same command again" in stderr.replace("\n", " ")
    else:
        controller.kill()
        controller.wait(30)
    gone, alive = psutil.wait_procs(list(family), timeout=30)
    assert alive == [], [p.cmdline()[:3] for p in alive]
    done = graded(out / "grades.db")
    assert 1 <= done < 4
    rerun = subprocess.run(command, cwd=REPO, capture_output=True, text=True, timeout=300)
    assert rerun.returncode == 0, rerun.stderr[-2000:]
    with Gradebook(out / "grades.db") as book:
        rows = book.submissions("lab4")
    assert sorted(r.student for r in rows) == ["s0", "s1", "s2", "s3"]
    assert len({(r.score, r.max_score) for r in rows}) == 1 and rows[0].score == rows[0].max_score
