"""`grade mutants`: the operators, mutant ids, the keyword shortcut, the report,
the recorded equivalents, and a small sample graded by a real suite."""

from __future__ import annotations

import pytest

pytest.importorskip("cosmic_ray")

from cosmic_ray.mutating import MutationVisitor  # noqa: E402

from grader import cli  # noqa: E402
from grader.course.folder import find_lab  # noqa: E402
from grader.instructor.mutation import report  # noqa: E402
from grader.instructor.mutation.mutants import make_mutants  # noqa: E402
from grader.instructor.mutation.operators import default_operators  # noqa: E402
from grader.instructor.mutation.runner import KILLED, SURVIVED, Outcome, check_keywords, grade_mutants  # noqa: E402

OPERATORS = default_operators()
OURS = ["DropKeyword", "DropCall", "RemoveRaise", "DropExcept"]

SOURCE = '''
from __future__ import annotations

import numpy as np


def _clean(x: Literal[1, 2] | np.ndarray) -> Literal[3]:
    return np.asarray(x)


def level(x: np.ndarray, floor: float = 0.5) -> float:
    x = _clean(x)
    if x.size == 0:
        raise ValueError("empty")
    return float(np.mean(np.abs(x), axis=-1).max()) - floor


def unrelated(y):
    return y
'''


@pytest.mark.parametrize("name", OURS)
def test_our_operators_make_their_documented_examples(name):
    operator = OPERATORS[name]
    examples = operator.examples()
    assert examples
    for example in examples:
        mutated = MutationVisitor.mutate_code(example.pre_mutation_code, operator, example.occurrence)
        assert mutated == example.post_mutation_code


def test_operator_choice_leaves_out_bitwise_and_random_operators():
    assert "Add_Sub" in OPERATORS and "Lt_LtE" in OPERATORS and "Number" in OPERATORS
    assert not any("BitOr" in name or "LShift" in name or "Variable" in name for name in OPERATORS)


def test_mutants_have_unique_ids_that_survive_edits_elsewhere():
    before = make_mutants(SOURCE, OPERATORS)
    ids = [m.id for m in before]
    assert len(ids) == len(set(ids)) and ids
    edited = SOURCE.replace("def unrelated(y):\n    return y", "def unrelated(y):\n    z = y + 1\n    return z")
    after = {m.id for m in make_mutants(edited, OPERATORS) if m.function == "level"}
    assert {m.id for m in before if m.function == "level"} == after


def test_mutants_are_attributed_to_their_function_and_skip_annotations():
    mutants = make_mutants(SOURCE, OPERATORS)
    assert {m.function for m in mutants} == {"_clean", "level"}  # nothing to mutate in `return y`
    # annotations never run: their numbers stay; a default's number is mutated
    assert not any("Literal" in line for m in mutants for line in m.diff.splitlines() if line.startswith("+"))
    assert any(m.operator == "Number" and "floor: float = 1.5" in m.diff for m in mutants)
    by_operator = {m.operator for m in mutants if m.function == "level"}
    assert {"RemoveRaise", "DropKeyword", "DropCall", "Eq_NotEq", "Sub_Add"} <= by_operator
    for mutant in mutants:
        assert mutant.source != SOURCE and mutant.diff.startswith("@@")
        compile(mutant.source, mutant.id, "exec")  # every mutant is valid Python


def test_mutants_of_chosen_functions_only():
    mutants = make_mutants(SOURCE, OPERATORS, {"_clean"})
    assert mutants and {m.function for m in mutants} == {"_clean"}


def test_keywords_select_a_function_or_the_callers_of_a_helper():
    keywords = check_keywords(SOURCE)
    assert keywords["level"] == "level"
    assert keywords["_clean"] == "level"  # a helper's checks are its public callers'


def outcome(mutant, status, failed=()):
    return Outcome(mutant, status, list(failed))


def test_score_counts_equivalents_out_and_report_lists_survivors_with_diffs():
    lab = find_lab("lab2")
    a, b, c, d = make_mutants(SOURCE, OPERATORS)[:4]
    outcomes = [outcome(a, KILLED, ["test_x"]), outcome(b, SURVIVED), outcome(c, SURVIVED),
                outcome(d, KILLED, ["test_y"])]
    equivalents = {c.id: "no documented input tells them apart", d.id: "wrongly recorded"}
    score = report.score(outcomes, equivalents)
    assert (score.mutants, score.killed, score.equivalent, score.survived) == (4, 2, 1, 1)
    assert score.ratio == 2 / 3
    text = report.render(lab, outcomes, equivalents, made={a.id, b.id, c.id, d.id, })
    assert "score 2/3" in text
    survivors = text.split("Surviving mutants")[1].split("Recorded as equivalent but killed")[0]
    assert b.id in survivors and b.diff in survivors and c.id not in survivors
    assert f"{d.id}: killed by test_y" in text           # a wrong record is called out
    assert "no documented input tells them apart" in text
    stale = report.render(lab, outcomes, {"gone/Number/0000": "old"}, made={a.id})
    assert "no longer made" in stale and "gone/Number/0000" in stale


@pytest.mark.slow   # makes every mutant of each lab's reference (seconds per lab)
@pytest.mark.parametrize("lab_name", ["lab1", "lab2", "lab3", "lab4", "lab5"])
def test_recorded_equivalents_are_current_and_explained(lab_name):
    lab = find_lab(lab_name)
    equivalents = report.load_equivalents(report.equivalents_path(lab))
    assert equivalents, f"{lab_name} has no equivalent_mutants.toml"
    made = {m.id for m in make_mutants(lab.reference_file.read_text(), OPERATORS)}
    assert set(equivalents) <= made, sorted(set(equivalents) - made)
    assert all(len(reason) > 20 for reason in equivalents.values())


# ------------------------------------------------------------------ a small sample, really graded
@pytest.mark.slow   # a mutation sample, graded
def test_sample_of_lab2_mutants_graded_in_parallel():
    """rms with axis=1 for axis=-1 is caught; rms raising for 1-D frames is recorded as equivalent."""
    lab = find_lab("lab2")
    mutants = {m.operator: m for m in make_mutants(lab.reference_file.read_text(), OPERATORS, {"rms"})
               if m.operator in ("Delete_USub", "Lt_LtE")}
    outcomes = {o.mutant.operator: o for o in grade_mutants(lab, list(mutants.values()), jobs=2)}
    assert outcomes["Delete_USub"].status == KILLED
    assert any("rms" in name for name in outcomes["Delete_USub"].failed)
    survivor = outcomes["Lt_LtE"]
    assert survivor.status == SURVIVED and survivor.full_suite  # confirmed with every check
    equivalents = report.load_equivalents(report.equivalents_path(lab))
    assert survivor.mutant.id in equivalents


@pytest.mark.slow   # a mutation sample, graded
def test_cli_mutants_writes_a_report(tmp_path, capsys):
    out = tmp_path / "report.txt"
    code = cli.main(["mutants", "lab2", "--function", "rms", "--operator", "Delete_USub", "--jobs", "1",
                     "--output", str(out), "--quiet"])
    text = out.read_text()
    assert code == 0 and "score 1/1" in text and "Surviving mutants (0)" in text


def test_cli_mutants_bad_input_is_one_line(capsys):
    assert cli.main(["mutants", "lab99"]) == 2
    assert cli.main(["mutants", "lab2", "--operator", "Nope"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 2 and all(line.startswith("grade: error:") for line in err)
