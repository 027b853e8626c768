"""``grade``: the command students and instructors run.

    grade lab4                      grade assignments/lab4/ of this course folder
    grade lab4 --submission PATH    grade a student's folder or .py file
    grade lab4 --reference          grade the instructor's solution
    grade list                      the labs and their points
    grade batch LAB SUBMISSIONS --out DIR   a whole class (see grader/batch/cli.py)
    grade export DIR                grades.csv, results.json, JUnit, report.html

Exit status: 0 every check that ran passed, 1 some failed, 2 the run could
not start (one line on stderr says why).
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

EXIT_PASSED, EXIT_FAILED, EXIT_SETUP = 0, 1, 2


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="grade", description="Grade a lab of the audio → U-Net course.")
    p.add_argument("lab", help="lab to grade (lab1 … lab5), or 'list' to show the labs")
    source = p.add_mutually_exclusive_group()
    source.add_argument("--submission", type=Path, metavar="PATH",
                        help="a folder holding the lab's file, or the .py file itself")
    source.add_argument("--reference", action="store_true", help="grade the reference solution")
    p.add_argument("--format", choices=("text", "json"), default="text", help="report format (default: text)")
    p.add_argument("--output", type=Path, metavar="FILE", help="write the report to FILE instead of stdout")
    p.add_argument("--overwrite", action="store_true", help="let --output replace an existing file")
    p.add_argument("-k", dest="keyword", metavar="EXPR", help="only run checks matching EXPR, as pytest -k")
    p.add_argument("--timeout", type=float, default=10.0, metavar="S", help="seconds per call (default: 10)")
    p.add_argument("--import-timeout", type=float, default=60.0, metavar="S",
                   help="seconds to start the worker and import the submission (default: 60)")
    return p


def fail(message: str) -> int:
    print(f"grade: error: {message}", file=sys.stderr)
    return EXIT_SETUP


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv and argv[0] in ("batch", "export"):   # the instructor's class commands: grader/batch/cli.py
        from grader.batch.cli import main as class_main

        return class_main(argv)
    args = parser().parse_args(argv)
    try:
        if args.lab == "list":
            return list_labs()
        return grade_command(args)
    except KeyboardInterrupt:
        return fail("interrupted")
    except BrokenPipeError:  # the reader went away (e.g. `grade ... | head`)
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_FAILED


def grade_command(args: argparse.Namespace) -> int:
    from grader.run import SetupError, grade

    if args.output is not None:
        problem = output_problem(args.output, args.overwrite, args.submission)
        if problem:
            return fail(problem)
    try:
        result = grade(args.lab, args.submission, reference=args.reference, keyword=args.keyword,
                       call_timeout=args.timeout, import_timeout=args.import_timeout)
    except SetupError as exc:
        return fail(str(exc))
    if not result.checks:
        return fail(f"no checks of {args.lab} match -k {args.keyword!r}" if args.keyword else "no checks ran")
    from grader import report

    if args.format == "json":
        text = report.to_json(result)
    elif args.output is not None:
        text = report.as_text(result)
    else:
        report.print_report(result)
        text = None
    if text is not None:
        if args.output is None:
            print(text)
        else:
            args.output.write_text(text + "\n")
    return EXIT_PASSED if result.all_passed else EXIT_FAILED


def output_problem(output: Path, overwrite: bool, submission: Path | None) -> str:
    """Why writing the report to ``output`` would lose something, or ''."""
    if output.is_dir():
        return f"--output {output} is a folder"
    if not output.parent.is_dir():
        return f"--output {output}: folder {output.parent} does not exist"
    if submission is not None and submission.exists():
        folder = submission if submission.is_dir() else submission.parent
        if output.resolve().parent == folder.resolve() and output.suffix == ".py":
            return f"--output {output} would overwrite the submission's code"
    if output.exists() and not overwrite:
        return f"--output {output} already exists (pass --overwrite to replace it)"
    return ""


def list_labs() -> int:
    from rich.console import Console

    from grader.labs import available_labs
    from grader.report import lab_table
    from grader.run import SetupError, list_checks

    rows = []
    for lab in available_labs():
        try:
            checks = list_checks(lab.name)
        except SetupError as exc:
            return fail(str(exc))
        rows.append({"lab": lab.name, "title": lab.title, "file": lab.filename,
                     "checks": len(checks), "points": sum(c.points for c in checks)})
    Console().print(lab_table(rows))
    return EXIT_PASSED


if __name__ == "__main__":
    sys.exit(main())
