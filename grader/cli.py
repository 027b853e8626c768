"""``grade``: the command students and instructors run.

    grade lab4                      grade assignments/lab4/ of this course folder
    grade lab4 --submission PATH    grade a student's folder or .py file
    grade lab4 --reference          grade the instructor's solution
    grade ... --course DIR          the course folder (reference/, assignments/); else $GRADE_COURSE,
                                    the current folder, or the source checkout
    grade list                      the labs and their points
    grade doctor                    the sandbox, device and cache in effect here
    grade check [LAB ...] [--junit FILE]   references full marks, stubs 0 (course CI)
    grade gradescope LAB --out autograder.zip   a Gradescope autograder
    grade release [LAB ...] --out DIR   the student course: stubs, public checks, no solutions
    grade mutants lab4              the mutation score of lab4's suite
    grade batch LAB SUBMISSIONS --out DIR   a whole class (see grader/instructor/batch/cli.py)
    grade export DIR                grades.csv, results.json, JUnit, report.html

``grade lab4`` is short for ``grade run lab4``.  Each subcommand is one entry
of :data:`COMMANDS` (its arguments and the function that runs it), so a new
one is a function and a line.  Exit status: 0 every check that ran passed,
1 some failed, 2 the run could not start or an option is wrong (one line on
stderr says why, never a traceback).
"""

from __future__ import annotations

import argparse
import contextlib
import math
import os
import signal
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, NoReturn

EXIT_PASSED, EXIT_FAILED, EXIT_SETUP = 0, 1, 2


class OneLineParser(argparse.ArgumentParser):
    """argparse, but a wrong option is one line on stderr (no usage block) and exit status 2."""

    def error(self, message: str) -> NoReturn:
        print(f"grade: error: {message}", file=sys.stderr)
        sys.exit(EXIT_SETUP)


def seconds(text: str) -> float:
    """A time limit: a finite, positive number of seconds (0, -1, nan and inf are refused)."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number of seconds, got {text!r}") from None
    if not math.isfinite(value) or value <= 0:
        raise argparse.ArgumentTypeError(f"must be a positive, finite number of seconds, got {text!r}")
    return value


@dataclass(frozen=True)
class Command:
    help: str
    arguments: Callable[[argparse.ArgumentParser], None]
    run: Callable[[argparse.Namespace], int]


# ------------------------------------------------------------------ grade run lab4
def run_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("lab", help="lab to grade (lab1 … lab5)")
    source = p.add_mutually_exclusive_group()
    source.add_argument("--submission", type=Path, metavar="PATH",
                        help="a folder holding the lab's file, the .py file itself, or a notebook (.ipynb)")
    source.add_argument("--reference", action="store_true", help="grade the reference solution")
    p.add_argument("--student", action="store_true", default=None,
                   help="grade as students do: only the checks they see (default: $GRADE_STUDENT)")
    p.add_argument("--format", choices=("text", "json"), default="text", help="report format (default: text)")
    p.add_argument("--output", type=Path, metavar="FILE", help="write the report to FILE instead of stdout")
    p.add_argument("--overwrite", action="store_true", help="let --output replace an existing file")
    p.add_argument("-k", dest="keyword", metavar="EXPR",
                   help="only run checks matching EXPR, as pytest -k: test names, titles and function names")
    p.add_argument("-v", "--verbose", action="store_true",
                   help="list every check, and the sandbox's technical description")
    p.add_argument("--timeout", type=seconds, default=10.0, metavar="S", help="seconds per call (default: 10)")
    p.add_argument("--import-timeout", type=seconds, default=60.0, metavar="S",
                   help="seconds to start the worker and import the submission (default: 60)")


@contextlib.contextmanager
def signals_interrupt() -> Iterator[None]:
    """SIGTERM and SIGHUP (a closed terminal) stop the run like Ctrl-C: it unwinds,
    and its workers and temporary folders go with it.  A second one is ignored,
    so it cannot cut the clean-up short.  Restored afterwards."""
    def interrupt(signum: int, frame: object) -> None:
        for which in saved:
            signal.signal(which, signal.SIG_IGN)
        raise KeyboardInterrupt

    saved = {}
    for which in (signal.SIGTERM, getattr(signal, "SIGHUP", None)):
        try:
            saved[which] = signal.signal(which, interrupt)
        except (TypeError, ValueError):  # no such signal here, or not the main thread
            pass
    try:
        yield
    finally:
        for which, handler in saved.items():
            signal.signal(which, handler)


def run_command(args: argparse.Namespace) -> int:
    from grader.feedback import progress
    from grader.grading.run import grade
    from grader.errors import SetupError

    if args.output is not None:
        problem = output_problem(args.output, args.overwrite, args.submission)
        if problem:
            return fail(problem)
    live = progress.LiveProgress() if progress.wanted(args.format, sys.stdout, sys.stderr) else None
    try:
        if live is None:
            result = grade(args.lab, args.submission, reference=args.reference, keyword=args.keyword,
                           call_timeout=args.timeout, import_timeout=args.import_timeout, student=args.student)
        else:
            with live:
                result = grade(args.lab, args.submission, reference=args.reference, keyword=args.keyword,
                               call_timeout=args.timeout, import_timeout=args.import_timeout, progress=live,
                               student=args.student)
    except SetupError as exc:
        return fail(str(exc))
    if not result.checks:
        return fail(f"no checks of {args.lab} match -k {args.keyword!r}" if args.keyword else "no checks ran")
    from grader.feedback import report

    if args.format == "json":
        text = report.to_json(result)
    elif args.output is not None:
        text = report.as_text(result, verbose=args.verbose)
    else:
        report.print_report(result, verbose=args.verbose)
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


# ------------------------------------------------------------------ grade list
def list_command(args: argparse.Namespace) -> int:
    from rich.console import Console

    from grader.course.folder import available_labs
    from grader.feedback.report import lab_table
    from grader.grading.run import list_checks
    from grader.errors import SetupError

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


# ------------------------------------------------------------------ grade check
def check_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("labs", nargs="*", metavar="LAB", help="labs to check (default: every lab of the course)")
    p.add_argument("--junit", type=Path, metavar="FILE", help="also write the outcome as JUnit XML to FILE")


def check_command(args: argparse.Namespace) -> int:
    from grader.course.folder import available_labs
    from grader.instructor.selfcheck import check_lab, junit, line

    if args.junit is not None and not args.junit.parent.is_dir():
        return fail(f"--junit {args.junit}: folder {args.junit.parent} does not exist")
    try:
        known = [lab.name for lab in available_labs()]
    except KeyError as exc:
        return fail(exc.args[0])
    unknown = [name for name in args.labs if name.lower() not in known]
    if unknown:
        return fail(f"unknown lab {unknown[0]!r} (labs: {', '.join(known)})")
    found = []
    for name in [name.lower() for name in args.labs] or known:
        sides = check_lab(name, None)
        print(line(name, sides), flush=True)
        found += sides
    if args.junit is not None:
        junit(found).write(args.junit, encoding="utf-8", xml_declaration=True)
    return EXIT_PASSED if all(e.holds for e in found) else EXIT_FAILED


# ------------------------------------------------------------------ grade gradescope
def gradescope_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("lab", help="the lab to build an autograder for")
    p.add_argument("--out", type=Path, metavar="ZIP", required=True, help="where to write the autograder zip")
    p.add_argument("--overwrite", action="store_true", help="let --out replace an existing file")


def gradescope_command(args: argparse.Namespace) -> int:
    from grader.instructor.gradescope import build
    from grader.errors import SetupError

    if not args.out.parent.is_dir():
        return fail(f"--out {args.out}: folder {args.out.parent} does not exist")
    if args.out.exists() and not args.overwrite:
        return fail(f"--out {args.out} already exists (pass --overwrite to replace it)")
    try:
        names = build(args.lab, args.out)
    except SetupError as exc:
        return fail(str(exc))
    print(f"{args.out}: {len(names)} files, {args.out.stat().st_size / 2**20:.1f} MiB "
          f"(upload it as the autograder of {args.lab} on Gradescope)")
    return EXIT_PASSED


# ------------------------------------------------------------------ grade release
def release_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("labs", nargs="*", metavar="LAB", help="labs to release (default: every lab of the course)")
    p.add_argument("--out", type=Path, metavar="DIR", required=True, help="a new or empty folder for the release")


def release_command(args: argparse.Namespace) -> int:
    from grader.instructor.release import ReleaseError, build, summary

    try:
        print(summary(build(args.labs, args.out)))
    except ReleaseError as exc:
        return fail(str(exc))
    return EXIT_PASSED


# ------------------------------------------------------------------ the command line
def doctor_command(args: argparse.Namespace) -> int:
    from grader.course import CourseError, LabError, find
    from grader.isolation.cache import WarmUp
    from grader.isolation.doctor import doctor

    try:
        warm_up = WarmUp.of(find().labs())
    except (CourseError, LabError):
        warm_up = WarmUp()
    return doctor(warm_up)


COMMANDS: dict[str, Command] = {
    "run": Command("grade a lab (`grade lab4` is short for `grade run lab4`)", run_arguments, run_command),
    "list": Command("the labs, with their checks and points", lambda p: None, list_command),
    "doctor": Command("the sandbox, device and cache in effect here", lambda p: None, doctor_command),
    "gradescope": Command("build a Gradescope autograder zip for a lab", gradescope_arguments,
                          gradescope_command),
    "check": Command("each lab's reference earns full marks and its stub 0 (course CI)", check_arguments,
                     check_command),
    "release": Command("write the student course: stubs, public checks, no solutions", release_arguments,
                       release_command),
}
INSTRUCTOR_COMMANDS = ("mutants", "batch", "export", "gradescope", "check", "release")
DEFAULT_COMMAND = "run"


def parser() -> argparse.ArgumentParser:
    p = OneLineParser(prog="grade", description="Grade a lab of the audio → U-Net course.")
    commands = p.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name, command in COMMANDS.items():
        command.arguments(commands.add_parser(name, help=command.help, description=command.help))
    return p


def fail(message: str) -> int:
    print(f"grade: error: {message}", file=sys.stderr)
    return EXIT_SETUP


def take_course(argv: list[str]) -> str:
    """Remove ``--course DIR`` from ``argv`` (any subcommand takes it) and make it the course of
    this process and the processes it starts (GRADE_COURSE); a problem with it, or ''."""
    for index, word in enumerate(argv):
        if word == "--course" or word.startswith("--course="):
            value = word.partition("=")[2] if "=" in word else (argv[index + 1] if index + 1 < len(argv) else "")
            del argv[index:index + (1 if "=" in word else 2)]
            if not value or not Path(value).is_dir():
                return f"--course {value}: not a folder" if value else "--course needs a folder"
            from grader.course.folder import ENVIRONMENT

            os.environ[ENVIRONMENT] = str(Path(value).resolve())
            return ""
    return ""


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    problem = take_course(argv)
    if problem:
        return fail(problem)
    from grader.course.edition import is_student_release

    if argv[:1] and argv[0] in INSTRUCTOR_COMMANDS and is_student_release():
        return fail(f"grade {argv[0]} is for instructors: this is the students' release of the course")
    if argv[:1] == ["mutants"]:  # a subcommand with a parser of its own, for suite authors
        from grader.instructor.mutation.cli import main as mutants

        return mutants(argv[1:])
    if argv[:1] in (["batch"], ["export"]):  # the instructor's class commands: grader/instructor/batch/cli.py
        from grader.instructor.batch.cli import main as class_main

        return class_main(argv)
    if not argv or (argv[0] not in COMMANDS and argv[0] not in ("-h", "--help")):
        argv.insert(0, DEFAULT_COMMAND)  # `grade lab4 ...` is `grade run lab4 ...`
    args = parser().parse_args(argv)
    try:
        with signals_interrupt():
            return COMMANDS[args.command].run(args)
    except KeyboardInterrupt:
        return fail("interrupted")
    except BrokenPipeError:  # the reader went away (e.g. `grade ... | head`)
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_FAILED


if __name__ == "__main__":
    sys.exit(main())
