"""``grade mutants LAB``: the mutation score of a lab's suite.

    grade mutants lab2                       every mutant of reference/lab2, 2 at a time
    grade mutants lab2 --function rms        only the mutants inside rms()
    grade mutants lab2 --id rms/Lt_LtE/e761ee65   one mutant, e.g. a survivor being fixed
    grade mutants lab2 --output report.txt   the report to a file

Exit status: 0 no mutant survives unexplained, 1 some do, 2 the run could not start.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from grader.errors import EXIT_FAILED, EXIT_PASSED, SetupError, seconds


def arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("lab", help="lab whose suite is measured (lab1 … lab5)")
    p.add_argument("--jobs", type=int, default=2, metavar="N", help="mutants graded at once (default: 2)")
    p.add_argument("--function", action="append", metavar="NAME",
                   help="only mutants inside this top-level function (repeatable)")
    p.add_argument("--operator", action="append", metavar="NAME", help="only this operator (repeatable)")
    p.add_argument("--id", action="append", metavar="ID", dest="ids",
                   help="only the mutant with this id, e.g. a survivor being fixed (repeatable)")
    p.add_argument("--limit", type=int, metavar="N", help="grade only the first N mutants")
    p.add_argument("--all-checks", action="store_true",
                   help="grade every mutant with the whole suite (default: its function's checks first)")
    p.add_argument("--timeout", type=seconds, default=10.0, metavar="S", help="seconds per call (default: 10)")
    p.add_argument("--output", type=Path, metavar="FILE", help="write the report to FILE instead of stdout")
    p.add_argument("--list", action="store_true", help="list the mutants with their diffs, grade nothing")
    p.add_argument("--quiet", action="store_true", help="no progress lines on stderr")


def run(args: argparse.Namespace) -> int:
    from grader.course import find_lab
    from grader.instructor.mutation import report
    from grader.instructor.mutation.mutants import make_mutants
    from grader.instructor.mutation.operators import default_operators
    from grader.instructor.mutation.runner import grade_mutants

    lab = find_lab(args.lab)
    if args.output is not None and not args.output.parent.is_dir():
        raise SetupError(f"--output {args.output}: folder {args.output.parent} does not exist")
    operators = default_operators()
    unknown = sorted(set(args.operator or ()) - set(operators))
    if unknown:
        raise SetupError(f"unknown operator {unknown[0]!r} (operators: {', '.join(sorted(operators))})")
    if args.operator:
        operators = {name: op for name, op in operators.items() if name in args.operator}
    source = lab.reference_file.read_text()
    everything = make_mutants(source, default_operators())
    mutants = make_mutants(source, operators, set(args.function) if args.function else None)
    if args.ids:
        mutants = [m for m in mutants if m.id in set(args.ids)]
    if args.limit is not None:
        mutants = mutants[:args.limit]
    if not mutants:
        raise SetupError("no mutants match")
    if args.list:
        print("\n\n".join(f"── {m.id}  (line {m.line}, {m.operator})\n{m.diff}" for m in mutants))
        return EXIT_PASSED
    started, done = time.perf_counter(), []

    def progress(outcome) -> None:
        done.append(outcome)
        if not args.quiet:
            print(f"[{len(done)}/{len(mutants)}] {outcome.status:<8} {outcome.mutant.id} ({outcome.seconds:.0f} s)",
                  file=sys.stderr, flush=True)

    outcomes = grade_mutants(lab, mutants, jobs=args.jobs, restrict=not args.all_checks,
                             call_timeout=args.timeout, progress=progress)
    equivalents = report.load_equivalents(report.equivalents_path(lab))
    complete = not (args.function or args.operator or args.limit or args.ids)
    text = report.render(lab, outcomes, equivalents, seconds=time.perf_counter() - started,
                         made={m.id for m in everything} if complete else None)
    if args.output is None:
        print(text, end="")
    else:
        args.output.write_text(text, encoding="utf-8")
    return EXIT_FAILED if report.score(outcomes, equivalents).survived else EXIT_PASSED
