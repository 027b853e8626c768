"""Benchmark: the mutation score of each lab's suite (long: minutes per lab; not part of CI).

Grades every mutant of each lab's reference with its suite (see
grader/mutation) and saves, per lab, the text report and the raw outcomes:

    benchmarks/results/mutants-<lab>-<tag>.txt
    benchmarks/results/mutants-<lab>-<tag>.json

    python benchmarks/mutation_score.py --labs lab1 lab2 lab3 --tag after [--jobs 2]
    python benchmarks/mutation_score.py --rescore before after   # scores of saved runs, today's equivalents
    python benchmarks/mutation_score.py --recheck after          # survivors graded again after new checks

``--rescore`` recounts saved runs against the equivalents recorded now (and
rewrites their text reports), so a run made before the suites changed is
scored on the same footing as one after.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from grader.course.folder import find_lab  # noqa: E402
from grader.instructor.mutation import report  # noqa: E402
from grader.instructor.mutation.mutants import Mutant, make_mutants  # noqa: E402
from grader.instructor.mutation.operators import default_operators  # noqa: E402
from grader.instructor.mutation.runner import Outcome, grade_mutants  # noqa: E402

RESULTS = REPO / "benchmarks" / "results"


def run(lab_name: str, tag: str, jobs: int, results: Path) -> None:
    lab = find_lab(lab_name)
    mutants = make_mutants(lab.reference_file.read_text(), default_operators())
    started = time.perf_counter()
    count = [0]

    def progress(outcome: Outcome) -> None:
        count[0] += 1
        print(f"{lab_name} [{count[0]}/{len(mutants)}] {outcome.status:<8} {outcome.mutant.id}", flush=True)

    outcomes = grade_mutants(lab, mutants, jobs=jobs, progress=progress)
    seconds = time.perf_counter() - started
    equivalents = report.load_equivalents(report.equivalents_path(lab))
    text = report.render(lab, outcomes, equivalents, title=tag, seconds=seconds, made={m.id for m in mutants})
    (results / f"mutants-{lab_name}-{tag}.txt").write_text(text)
    raw = [{"id": o.mutant.id, "function": o.mutant.function, "operator": o.mutant.operator,
            "line": o.mutant.line, "diff": o.mutant.diff, "status": o.status, "failed": o.failed,
            "detail": o.detail, "seconds": round(o.seconds, 2)} for o in outcomes]
    (results / f"mutants-{lab_name}-{tag}.json").write_text(json.dumps({"seconds": seconds, "outcomes": raw}))
    print(f"{lab_name} {tag}: {report.score(outcomes, equivalents).line()} ({seconds:.0f} s)", flush=True)


def recheck(tag: str, labs: list[str], jobs: int, results: Path) -> None:
    """Grade the survivors of a saved run again with today's suite, and update the run.

    For a suite that only gained checks since the run: a mutant it killed then
    is killed now, so only the survivors need grading again.
    """
    for lab_name in labs:
        path = results / f"mutants-{lab_name}-{tag}.json"
        data = json.loads(path.read_text())
        lab = find_lab(lab_name)
        wanted = {r["id"] for r in data["outcomes"] if r["status"] != "killed"}
        mutants = [m for m in make_mutants(lab.reference_file.read_text(), default_operators()) if m.id in wanted]
        started = time.perf_counter()
        fresh = {o.mutant.id: o for o in grade_mutants(lab, mutants, jobs=jobs)}
        for record in data["outcomes"]:
            if record["id"] in fresh:
                outcome = fresh[record["id"]]
                record.update(status=outcome.status, failed=outcome.failed, detail=outcome.detail)
        data["seconds"] += time.perf_counter() - started
        data["rechecked"] = sorted(fresh)
        path.write_text(json.dumps(data))
        print(f"{lab_name} {tag}: {len(fresh)} survivors graded again", flush=True)
    rescore([tag], labs, results)


def rescore(tags: list[str], labs: list[str], results: Path) -> None:
    for lab_name in labs:
        lab = find_lab(lab_name)
        equivalents = report.load_equivalents(report.equivalents_path(lab))
        for tag in tags:
            path = results / f"mutants-{lab_name}-{tag}.json"
            if not path.is_file():
                continue
            data = json.loads(path.read_text())
            outcomes = [Outcome(Mutant(r["id"], r["function"], r["operator"], r["line"], "", r["diff"]),
                                r["status"], r["failed"], r["detail"], r["seconds"]) for r in data["outcomes"]]
            print(f"{lab_name} {tag:<8} {report.score(outcomes, equivalents).line()} ({data['seconds']:.0f} s)")
            text = report.render(lab, outcomes, equivalents, title=f"{tag}, rescored with today's equivalents",
                                 seconds=data["seconds"])
            (results / f"mutants-{lab_name}-{tag}.txt").write_text(text)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--labs", nargs="+", default=["lab1", "lab2", "lab3"])
    parser.add_argument("--tag", default="now", help="names the saved files (e.g. before, after)")
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--results", type=Path, default=RESULTS)
    parser.add_argument("--rescore", nargs="+", metavar="TAG", help="score saved runs, grade nothing")
    parser.add_argument("--recheck", metavar="TAG", help="grade a saved run's survivors again, update the run")
    args = parser.parse_args()
    args.results.mkdir(parents=True, exist_ok=True)
    if args.recheck:
        recheck(args.recheck, args.labs, args.jobs, args.results)
        return
    if args.rescore:
        rescore(args.rescore, args.labs, args.results)
        return
    for lab_name in args.labs:
        run(lab_name, args.tag, args.jobs, args.results)


if __name__ == "__main__":
    main()
