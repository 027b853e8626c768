"""``grade``: the command students and instructors run.

    grade lab4                      grade assignments/lab4/ of this course folder
    grade lab4 --submission PATH    grade a student's folder, .py file or notebook
    grade lab4 --reference          grade the instructor's solution
    grade ... --course DIR          the course folder (reference/, assignments/); else $GRADE_COURSE,
                                    the current folder, or the source checkout
    grade list                      the labs and their points
    grade doctor                    the sandbox, device and cache in effect here
    grade check | gradescope | release | batch | export | mutants | similarity
                                    the instructor's commands (grader/instructor/commands.py)

``grade lab4`` is short for ``grade run lab4``.  Every subcommand is one entry
of :data:`COMMANDS` (one line of help, the function that adds its arguments,
the function that runs it): the student's three here, the instructor's
contributed by :mod:`grader.instructor.commands` (absent from a student
release, which says so).  A command function imports what does its work when
it runs, so ``grade --help`` starts at once.  Exit status: 0 all is well, 1
something failed, 2 the run could not start or an option is wrong: a
:class:`grader.errors.SetupError` raised anywhere becomes one line on stderr
(never a traceback).
"""

from __future__ import annotations

import argparse
import contextlib
import os
import signal
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, NoReturn

from grader.course.edition import is_student_release
from grader.course.folder import ENVIRONMENT, find
from grader.errors import EXIT_FAILED, EXIT_PASSED, EXIT_SETUP, SetupError, fail, seconds

if (Path(__file__).resolve().parent / "instructor").is_dir():
    from grader.instructor.commands import COMMANDS as INSTRUCTOR   # a broken import there fails loudly
else:   # a student release: the instructor's folder is left out
    INSTRUCTOR = {}

INSTRUCTOR_COMMANDS = ("check", "gradescope", "release", "batch", "export", "mutants", "similarity")


class OneLineParser(argparse.ArgumentParser):
    """argparse, but a wrong option is one line on stderr (no usage block) and exit status 2."""

    def error(self, message: str) -> NoReturn:
        fail(message)
        sys.exit(EXIT_SETUP)


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
    p.add_argument("--live", action="store_true",
                   help="run the reference solution for every expected value, instead of replaying its answers "
                        "kept from an earlier run (the instructor's checkout)")
    p.add_argument("--student", action="store_true", default=None,
                   help="grade as students do: only the checks they see (default: $GRADE_STUDENT)")
    p.add_argument("--format", choices=("text", "json"), default="text", help="report format (default: text)")
    p.add_argument("--output", type=Path, metavar="FILE", help="write the report to FILE instead of stdout")
    p.add_argument("--overwrite", action="store_true", help="let --output replace an existing file")
    p.add_argument("-k", dest="keyword", metavar="EXPR",
                   help="only run checks matching EXPR, as pytest -k: test names, titles and function names")
    p.add_argument("-v", "--verbose", action="store_true",
                   help="list every check, and the sandbox's technical description")
    p.add_argument("--watch", action="store_true",
                   help="grade, then grade again each time the file is saved (the changed functions first); "
                        "Ctrl-C stops")
    p.add_argument("--timeout", type=seconds, default=10.0, metavar="S", help="seconds per call (default: 10)")
    p.add_argument("--import-timeout", type=seconds, default=60.0, metavar="S",
                   help="seconds to import the submission (default: 60); the worker's own start before it "
                        "may take this or 120 s, whichever is longer")


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
    from grader.grading.prepare import prepare

    if args.watch:
        return watch_command(args)
    if args.output is not None:
        problem = output_problem(args.output, args.overwrite, args.submission)
        if problem:
            raise SetupError(problem)
    # the worker first: it imports torch and librosa while this process imports torch and pytest
    prepared = prepare(args.lab, args.submission, reference=args.reference, say=say)
    with prepared:
        from grader.feedback import progress, report
        from grader.grading.run import grade

        shown = progress.LiveProgress() if progress.wanted(args.format, sys.stdout, sys.stderr) else None
        with shown if shown is not None else contextlib.nullcontext():
            result = grade(args.lab, keyword=args.keyword, call_timeout=args.timeout,
                           import_timeout=args.import_timeout, progress=shown, student=args.student,
                           prepared=prepared, reach=live_reference(prepared.lab) if args.live else None)
    if not result.checks:
        raise SetupError(f"no checks of {args.lab} match -k {args.keyword!r}" if args.keyword else "no checks ran")
    if args.format == "json":
        text = report.to_json(result) + "\n"
    elif args.output is not None or not sys.stdout.isatty():
        # a file or a pipe gets plain text: the same text an exported report.txt holds (grade export)
        text = report.as_text(result, verbose=args.verbose)
    else:
        report.print_report(result, verbose=args.verbose)
        text = None
    if text is not None:
        if args.output is None:
            sys.stdout.write(text)
        else:
            args.output.write_text(text, encoding="utf-8")
    return EXIT_PASSED if result.all_passed else EXIT_FAILED


def say(line: str) -> None:
    """A line about the run itself (not its report), on stderr: JSON on stdout stays JSON."""
    print(f"grade: {line}", file=sys.stderr, flush=True)


def watching_line(path: Path):
    """The line under each watched report, as rich text: a path is never read as markup (a folder
    named ``[/]`` ended --watch with a MarkupError)."""
    from rich.text import Text

    return Text(f"watching {path}: save it to grade again; Ctrl-C stops", style="dim")


def watch_command(args: argparse.Namespace) -> int:
    """``grade lab4 --watch``: the report after every save, until Ctrl-C (grader/grading/watch.py)."""
    import time

    from rich.console import Console

    from grader.feedback import progress, report
    from grader.grading.watch import Watch, ordered, watch_launcher

    if args.format != "text" or args.output is not None or args.reference:
        raise SetupError("--watch shows the report of your file on this terminal: "
                         "not with --format json, --output or --reference")
    console = Console(file=sys.stdout)   # this stream: a run redirects sys.stdout while its checks run

    def show(result, first, took):
        changed = f" · checked first: {', '.join(ordered(first, watcher.last_source or ''))}" if first else ""
        console.rule(f"{time.strftime('%H:%M:%S')} · {args.lab} graded in {took:.1f} s{changed}", style="dim")
        report.print_report(result, console, verbose=args.verbose)
        console.print(watching_line(watcher.path), soft_wrap=True)

    def early(function, checks):
        passed = sum(c.status == "passed" for c in checks)
        console.print(f"{function}: {passed} of {len(checks)} checks pass (the rest of the lab follows)", markup=False)

    wanted = progress.wanted(args.format, sys.stdout, sys.stderr)
    watcher = Watch(args.lab, args.submission, show=show, early=early, say=say,
                    progress=lambda: progress.LiveProgress() if wanted else None,
                    options={"keyword": args.keyword, "call_timeout": args.timeout,
                             "import_timeout": args.import_timeout, "student": args.student,
                             "reach": live_reference(find().lab(args.lab)) if args.live else None})
    launcher, note = watch_launcher()
    with launcher:
        if note:
            print(note, file=sys.stderr)
        try:
            watcher.run(launcher)
            for changed in watcher.saves(watcher.path):
                try:
                    watcher.run(launcher, changed)
                except SetupError as exc:   # e.g. the file is gone for a moment: say so, keep watching
                    print(f"grade: {exc}", file=sys.stderr)
        except KeyboardInterrupt:
            print("stopped watching", file=sys.stderr)
    return EXIT_PASSED


def live_reference(lab):
    """``--live``: the reference module itself, where it is installed; one line where it is not."""
    from grader.grading.reference import Live

    if not lab.reference_file.is_file():
        raise SetupError(f"--live runs the reference solution, and there is none here ({lab.reference_file})")
    return Live()


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


# ------------------------------------------------------------------ grade list, grade doctor
def list_command(args: argparse.Namespace) -> int:
    from rich.console import Console

    from grader.feedback.report import lab_table
    from grader.grading.run import collect

    rows = []
    for lab in find().labs():
        checks = collect(lab).collected
        rows.append({"lab": lab.name, "title": lab.title, "file": lab.filename,
                     "checks": len(checks), "points": sum(c.points for c in checks)})
    Console().print(lab_table(rows))
    return EXIT_PASSED


def doctor_command(args: argparse.Namespace) -> int:
    from grader.isolation.cache import WarmUp
    from grader.isolation.doctor import doctor

    try:
        warm_up = WarmUp.of(find().labs())
    except SetupError:
        warm_up = WarmUp()
    return doctor(warm_up)


# ------------------------------------------------------------------ the command line
COMMANDS: dict[str, Command] = {
    "run": Command("grade a lab (`grade lab4` is short for `grade run lab4`)", run_arguments, run_command),
    "list": Command("the labs, with their checks and points", lambda p: None, list_command),
    "doctor": Command("the sandbox, device and cache in effect here", lambda p: None, doctor_command),
    **{name: Command(*entry) for name, entry in INSTRUCTOR.items()},
}
DEFAULT_COMMAND = "run"


def parser() -> argparse.ArgumentParser:
    p = OneLineParser(prog="grade", description="Grade a lab of the audio → U-Net course.")
    commands = p.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name, command in COMMANDS.items():
        command.arguments(commands.add_parser(name, help=command.help, description=command.help))
    return p


def take_course(argv: list[str]) -> str:
    """Remove ``--course DIR`` from ``argv`` (any subcommand takes it) and make it the course of
    this process and the processes it starts (GRADE_COURSE); a problem with it, or ''."""
    for index, word in enumerate(argv):
        if word == "--course" or word.startswith("--course="):
            value = word.partition("=")[2] if "=" in word else (argv[index + 1] if index + 1 < len(argv) else "")
            del argv[index:index + (1 if "=" in word else 2)]
            if not value or not Path(value).is_dir():
                return f"--course {value}: not a folder" if value else "--course needs a folder"
            os.environ[ENVIRONMENT] = str(Path(value).resolve())
            return ""
    return ""


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    problem = take_course(argv)
    if problem:
        return fail(problem)
    if argv[:1] and argv[0] in INSTRUCTOR_COMMANDS and (is_student_release() or argv[0] not in COMMANDS):
        return fail(f"grade {argv[0]} is for instructors: this is the students' release of the course")
    if not argv or (argv[0] not in COMMANDS and argv[0] not in ("-h", "--help")):
        argv.insert(0, DEFAULT_COMMAND)  # `grade lab4 ...` is `grade run lab4 ...`
    args = parser().parse_args(argv)
    try:
        with signals_interrupt():
            return COMMANDS[args.command].run(args)
    except SetupError as exc:
        return fail(str(exc))
    except KeyboardInterrupt:
        return fail("interrupted")
    except BrokenPipeError:  # the reader went away (e.g. `grade ... | head`)
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_FAILED


if __name__ == "__main__":
    sys.exit(main())
