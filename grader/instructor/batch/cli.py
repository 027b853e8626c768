"""``grade batch`` and ``grade export``: the instructor's commands for a whole class.

    grade batch LAB SUBMISSIONS --out DIR [--jobs N] [--regrade] [--scheduler ADDRESS] [--due TIME]
    grade export DIR [--format csv|json|reports|junit|html|canvas|grades|all] [--late-policy P]

Exit status of ``batch``: 0 every submission has a grade (crashes and
timeouts are grades of 0 with a reason), 1 the batch stopped early (Ctrl-C, too
many dead graders: run it again to continue), 2 it could not start.
"""

from __future__ import annotations

import argparse
import os
import sqlite3
import sys
import tempfile
from pathlib import Path

from rich.console import Console

from grader.errors import EXIT_FAILED, EXIT_PASSED, SetupError, seconds
from grader.instructor.gradebook import FORMATS


def batch_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("lab", help="lab to grade (lab1 … lab5)")
    p.add_argument("submissions", type=Path,
                   help="folder with a sub-folder, .py or .ipynb per student (or LMS export), or a .zip of one")
    p.add_argument("--out", type=Path, required=True, metavar="DIR", help="gradebook folder (DIR/grades.db)")
    p.add_argument("--jobs", type=int, default=os.cpu_count() or 1, metavar="N",
                   help="grader processes on this machine (default: one per CPU)")
    p.add_argument("--regrade", action="store_true", help="grade again even what is unchanged")
    p.add_argument("--scheduler", metavar="ADDRESS", help="grade on this Dask cluster (tcp://host:8786)")
    p.add_argument("-k", dest="keyword", metavar="EXPR", help="only run checks matching EXPR, as pytest -k")
    p.add_argument("--timeout", type=seconds, default=10.0, metavar="S", help="seconds per call (default: 10)")
    p.add_argument("--import-timeout", type=seconds, default=60.0, metavar="S",
                   help="seconds to start the worker and import a submission (default: 60)")
    p.add_argument("--submission-budget", type=seconds, default=900.0, metavar="S",
                   help="total seconds one submission may take before it is stopped (default: 900)")
    p.add_argument("--max-restarts", type=int, metavar="N", help="dead grader processes replaced before "
                   "giving up (default: 4 per job)")
    p.add_argument("--quiet", action="store_true", help="no progress bar or summary")
    p.add_argument("--due", type=due_time, metavar="TIME",
                   help="the lab's due time, e.g. 2025-03-01T23:59 or 2025-03-01T23:59-08:00 (local time without an "
                        "offset): a submission made later (Gradescope's metadata) is marked late")


def export_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("dir", type=Path, help="the folder given to grade batch --out")
    p.add_argument("--format", choices=(*FORMATS, "all"), action="append", dest="formats",
                   help="what to write (repeatable; default: all)")
    p.add_argument("--lab", help="only this lab (default: every lab in the gradebook)")
    p.add_argument("--late-policy", type=policy, metavar="PERCENT",
                   help="take PERCENT of the maximum off per day started after the due time (e.g. 10 or 10%%/day; "
                        "a late mark without a time counts as one day); default: no penalty, lateness only shown")
    p.add_argument("--assignment", default="", metavar="NAME",
                   help="Canvas's assignment column (default: the lab's title; 'Lab 4 (1234)' updates "
                        "Canvas's assignment 1234)")
    p.add_argument("--threshold", type=fraction, default=None, metavar="F",
                   help="the class report's similar pairs: sharing at least this part of one's own code (default: 0.5)")


def due_time(text: str) -> str:
    from grader.instructor.batch.layouts import parse_time

    try:
        return parse_time(text).isoformat()
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a time (e.g. 2025-03-01T23:59)") from None


def policy(text: str):
    from grader.instructor.gradebook.lateness import late_policy

    try:
        return late_policy(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def fraction(text: str) -> float:
    from grader.instructor.similarity.cli import _fraction

    return _fraction(text)


def batch_command(args: argparse.Namespace) -> int:
    from grader.course import find_lab
    from grader.instructor.batch.controller import BatchOptions, Controller
    from grader.instructor.batch.layouts import LayoutError, discover
    from grader.instructor.batch.progress import summary
    from grader.instructor.batch.schedulers import SchedulerUnavailable
    from grader.instructor.gradebook.store import Gradebook, GradebookError

    lab = find_lab(args.lab)
    if args.jobs < 1:
        raise SetupError("--jobs must be at least 1")
    if args.submissions.is_dir() and args.out.resolve().is_relative_to(args.submissions.resolve()):
        # the gradebook and the exports would become a hand-in, and overwrite one (a student's report.txt)
        raise SetupError(f"--out {args.out} is inside the submissions {args.submissions}; give a folder outside it")
    try:
        args.out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise SetupError(f"cannot create --out {args.out}: {exc.strerror}") from None
    console = Console(stderr=True, quiet=args.quiet)
    options = BatchOptions(keyword=args.keyword, call_timeout=args.timeout, import_timeout=args.import_timeout,
                           regrade=args.regrade, max_restarts=args.max_restarts, due=args.due or "")
    with tempfile.TemporaryDirectory(prefix="grade-batch-staging-") as staging:
        try:
            roster = discover(lab, args.submissions, Path(staging))
            book = Gradebook(args.out / "grades.db")
        except (LayoutError, GradebookError) as exc:
            raise SetupError(str(exc)) from None
        with book:
            scheduler = make_scheduler(args, lab.name)
            progress = None if args.quiet else _progress(console)
            try:
                report = Controller(lab, roster, book, scheduler, options, progress, jobs=args.jobs).run()
            except SchedulerUnavailable as exc:
                raise SetupError(str(exc)) from None
            except sqlite3.DatabaseError as exc:   # a gradebook damaged past its header: found when a page is read
                raise SetupError(f"{args.out / 'grades.db'} is damaged ({exc}); give another --out") from None
            console.print(summary(book, lab.name, roster, report))
    if report.interrupted or report.aborted:
        why = "interrupted" if report.interrupted else f"stopped: {report.aborted}"
        print(f"grade: {why}; {len(report.graded)} graded this run, kept in {args.out / 'grades.db'}; "
              f"run the same command again to continue", file=sys.stderr)
        return EXIT_FAILED
    return EXIT_PASSED


def make_scheduler(args: argparse.Namespace, lab: str):
    from grader.instructor.batch.schedulers import DaskScheduler, LocalScheduler

    if args.scheduler:
        try:
            import distributed  # noqa: F401  (fail early, with one line, when dask is missing)
        except ImportError:
            raise SetupError("--scheduler needs dask.distributed: pip install 'grade[cluster]'") from None
        return DaskScheduler(args.scheduler, lab)
    return LocalScheduler(lab, args.jobs, submission_budget=args.submission_budget)


def _progress(console: Console):
    from grader.instructor.batch.progress import RichProgress

    return RichProgress(console)


def export_command(args: argparse.Namespace) -> int:
    from grader.course import find_lab
    from grader.instructor.gradebook.exports import ExportOptions, export
    from grader.instructor.gradebook.lateness import NO_POLICY
    from grader.instructor.gradebook.store import Gradebook, GradebookError
    from grader.instructor.similarity.model import THRESHOLD

    database = args.dir / "grades.db"
    if not database.is_file():
        raise SetupError(f"no gradebook at {database} (run grade batch ... --out {args.dir} first)")
    formats = FORMATS if not args.formats or "all" in args.formats else tuple(dict.fromkeys(args.formats))
    try:
        with Gradebook(database) as book:
            if args.lab and args.lab not in book.labs():
                raise SetupError(f"the gradebook has no {args.lab} (it has: {', '.join(book.labs()) or 'nothing'})")
            stubs = {}
            if "html" in formats:   # the similarity section compares beyond each lab's stub
                for name in [args.lab] if args.lab else book.labs():
                    stub = find_lab(name).assignment_file()
                    if stub.is_file():
                        stubs[name] = stub.read_text(encoding="utf-8")
            options = ExportOptions(policy=args.late_policy or NO_POLICY, assignment=args.assignment,
                                    threshold=THRESHOLD if args.threshold is None else args.threshold,
                                    stubs=stubs)
            written = export(book, args.dir, formats, args.lab, options)
    except GradebookError as exc:
        raise SetupError(str(exc)) from None
    except sqlite3.DatabaseError as exc:   # damaged past its header: found only when a page is read
        raise SetupError(f"{database} is damaged ({exc})") from None
    except OSError as exc:   # a file where an export's folder goes, a read-only folder, a full disk
        raise SetupError(f"cannot write {exc.filename or args.dir}: {exc.strerror or exc}") from None
    print(f"wrote {len(written)} file(s) to {args.dir}")
    return EXIT_PASSED
