"""The instructor's commands, contributed to ``grade``'s one command table (:mod:`grader.cli`).

    grade check [LAB ...] [--junit FILE]          references full marks, stubs 0 (course CI)
    grade gradescope LAB --out autograder.zip     a Gradescope autograder
    grade release [LAB ...] --out DIR             the student course: stubs, public checks, no solutions
    grade batch LAB SUBMISSIONS --out DIR         a whole class (grader/instructor/batch/cli.py)
    grade export DIR                              grades.csv, results.json, JUnit, report.html
    grade mutants LAB                             the mutation score of a lab's suite
    grade similarity DIR                          submissions alike beyond the stub (grader/instructor/similarity/)

Each entry is (one line of help, the function that adds its arguments, the function that runs
it).  Importing this module is cheap (``grade --help`` reads it): a command imports what does
its work when it runs.  A student release leaves the whole ``instructor`` folder out, and with it
these commands.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Callable

from grader.errors import EXIT_FAILED, EXIT_PASSED, SetupError
from grader.instructor.batch import cli as batch_cli
from grader.instructor.mutation import cli as mutation_cli
from grader.instructor.similarity import cli as similarity_cli

Entry = tuple[str, Callable[[argparse.ArgumentParser], None], Callable[[argparse.Namespace], int]]


# ------------------------------------------------------------------ grade check
def check_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("labs", nargs="*", metavar="LAB", help="labs to check (default: every lab of the course)")
    p.add_argument("--junit", type=Path, metavar="FILE", help="also write the outcome as JUnit XML to FILE")


def check_command(args: argparse.Namespace) -> int:
    from grader.course import find, find_lab
    from grader.instructor.selfcheck import check_lab, junit, line

    if args.junit is not None and not args.junit.parent.is_dir():
        raise SetupError(f"--junit {args.junit}: folder {args.junit.parent} does not exist")
    names = [find_lab(name).name for name in args.labs] or [lab.name for lab in find().labs()]
    found = []
    for name in names:
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

    if not args.out.parent.is_dir():
        raise SetupError(f"--out {args.out}: folder {args.out.parent} does not exist")
    if args.out.exists() and not args.overwrite:
        raise SetupError(f"--out {args.out} already exists (pass --overwrite to replace it)")
    names = build(args.lab, args.out)
    print(f"{args.out}: {len(names)} files, {args.out.stat().st_size / 2**20:.1f} MiB "
          f"(upload it as the autograder of {args.lab} on Gradescope)")
    return EXIT_PASSED


# ------------------------------------------------------------------ grade release
def release_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("labs", nargs="*", metavar="LAB", help="labs to release (default: every lab of the course)")
    p.add_argument("--out", type=Path, metavar="DIR", required=True, help="a new or empty folder for the release")
    p.add_argument("--after-due-date", action="store_true",
                   help="also release the checks marked after_due_date (students see them once it has passed)")


def release_command(args: argparse.Namespace) -> int:
    from grader.instructor.release import build, summary

    print(summary(build(args.labs, args.out, after_due_date=args.after_due_date)))   # a ReleaseError is a SetupError: one line, exit 2
    return EXIT_PASSED


COMMANDS: dict[str, Entry] = {
    "check": ("each lab's reference earns full marks and its stub 0 (course CI)", check_arguments, check_command),
    "gradescope": ("build a Gradescope autograder zip for a lab", gradescope_arguments, gradescope_command),
    "release": ("write the student course: stubs, public checks, no solutions", release_arguments,
                release_command),
    "batch": ("grade a whole class's submissions of a lab, in parallel, into a gradebook",
              batch_cli.batch_arguments, batch_cli.batch_command),
    "export": ("write a gradebook's grades.csv, results, JUnit and reports", batch_cli.export_arguments,
               batch_cli.export_command),
    "mutants": ("the mutation score of a lab's suite (its reference's mutants, graded)",
                mutation_cli.arguments, mutation_cli.run),
    "similarity": ("pairs of a class's submissions alike beyond the stub (read as text, never run)",
                   similarity_cli.arguments, similarity_cli.run),
}
