"""The Dask path: a real ``distributed.LocalCluster`` (worker processes) grades like the local pool."""

from __future__ import annotations

import pytest

from grader.instructor.batch.controller import BatchOptions, Controller
from grader.instructor.batch.job import worker_launcher
from grader.instructor.batch.layouts import discover
from grader.instructor.batch.schedulers import DaskScheduler, LocalScheduler, SchedulerUnavailable
from grader.instructor.gradebook import Gradebook
from grader.course.folder import find_lab
from tests.helpers import LAB4_REFERENCE

distributed = pytest.importorskip("distributed")
LAB = find_lab("lab4")
OPTIONS = BatchOptions(keyword="numpy_to_tensor_converts_float64 or to_unet_input")


def grade_class(tmp_path, name, scheduler):
    subs = tmp_path / "subs"
    if not subs.exists():
        for student, extra in (("ref", ""), ("partial", "\ndef to_unet_input(x):\n    return x\n")):
            (subs / student).mkdir(parents=True)
            (subs / student / "pytorch_basics.py").write_text(LAB4_REFERENCE.read_text() + extra)
    roster = discover(LAB, subs, tmp_path / f"staging-{name}")
    with Gradebook(tmp_path / f"{name}.db") as book:
        report = Controller(LAB, roster, book, scheduler, OPTIONS).run()
        results = {r.student: r.grade_result() for r in book.submissions("lab4")}
    return report, results


def outcomes(result):
    return [(c.name, c.status, c.score, c.feedback) for c in result.checks]


@pytest.mark.slow   # a local Dask cluster of worker processes, and two batches
def test_a_dask_cluster_gives_the_same_grades_as_local_graders(tmp_path):
    with distributed.LocalCluster(n_workers=1, threads_per_worker=1, processes=True,
                                  dashboard_address=None) as cluster:
        report, on_dask = grade_class(tmp_path, "dask", DaskScheduler(cluster.scheduler_address, "lab4"))
        workers = set(cluster.scheduler_info["workers"])
    assert sorted(report.graded) == ["partial", "ref"] and not report.crashed
    _, local = grade_class(tmp_path, "local", LocalScheduler("lab4", 1))
    assert {k: outcomes(v) for k, v in on_dask.items()} == {k: outcomes(v) for k, v in local.items()}
    assert on_dask["ref"].score == on_dask["ref"].max_score > on_dask["partial"].score
    assert set(report.graded_by.values()) <= workers and report.graded_by   # graded on the cluster's worker
    launcher = worker_launcher()   # where templates work, the Dask worker keeps one, as local graders do
    if launcher is not None:
        launcher.close()
        assert all("forked from a warm template" in r.sandbox for r in on_dask.values()), \
            {k: r.sandbox for k, r in on_dask.items()}


def test_an_unreachable_scheduler_is_one_clear_error():
    with pytest.raises(SchedulerUnavailable, match="could not reach"):
        DaskScheduler("tcp://127.0.0.1:1", "lab4", connect_timeout="2s").start()
