"""Side checks count only on top of a working function.

A check of a side property -- an error path, inputs left untouched, a plain
tensor returned, memory shared -- is easy to pass with a function that does
nothing useful: a function that always raises passes every error path, one
that returns its input untouched leaves it untouched.  A suite marks such a
check ``@pytest.mark.side_of("test_main_check", ...)``; after the run, it
keeps its points only if every named main check passed (every example of
it, when it is parametrised).  Otherwise it is failed, with score 0 and
feedback that says which check it waits for.  Applied once every check has
run, so the order of the checks does not matter.
"""

from __future__ import annotations

import pytest

from grader.results import Feedback
from grader.results import CheckResult

MARKER = "side_of"
DESCRIPTION = "side_of(*checks): counts only when every named main check of the same function passes"


def requirements(item: pytest.Item) -> tuple[str, ...]:
    """The main checks an item's ``side_of`` markers name (none when it is a main check)."""
    names: list[str] = []
    for marker in item.iter_markers(MARKER):
        names += [str(name) for name in marker.args]
    return tuple(dict.fromkeys(names))


def base_name(name: str) -> str:
    """``test_f[example]`` -> ``test_f``: the examples of a parametrised check count together."""
    return name.partition("[")[0]


def settle(results: list[CheckResult], required: dict[str, tuple[str, ...]], titles: dict[str, str]) -> None:
    """Fail every passed side check whose main checks did not all pass (in place).

    ``required`` maps a side check's name to the main checks it needs;
    ``titles`` maps check names to the titles shown in the report.
    """
    passed: dict[str, bool] = {}
    for result in results:
        name = base_name(result.name)
        passed[name] = passed.get(name, True) and result.status == "passed"
    for result in results:
        needs = required.get(result.name, ())
        missing = [name for name in needs if not passed.get(name, False)]
        if result.status != "passed" or not missing:
            continue
        shown = " and ".join(f"“{titles.get(name, name)}”" for name in missing)
        not_run = [name for name in missing if name not in passed]
        why = f" ({', '.join(not_run)} did not run: select it with -k too)" if not_run else ""
        result.status, result.score = "failed", 0.0
        result.feedback = Feedback(
            f"this check passed, but it counts once {shown} passes{why}",
            rows=[("depends on", f"{shown} passing", "not passed yet")],
            hint="a side property (an error path, inputs left alone, the kind of result) earns its points "
                 "on top of a function that works: make the main check pass first")

