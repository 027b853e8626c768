"""``grade similarity``: the project's own corpus of independent Lab 4 hand-ins, and a disguised copy."""

from __future__ import annotations

import random
import time

import pytest

from grader.cli import main
from grader.grading.run import grade
from grader.instructor.similarity.detect import all_pairs, similar_pairs
from tests.corpus import SOLUTIONS, STUB, disguised, solution
from tests.submissions import lab4_hard_coded_cuda

INDEPENDENT = ["reference", *SOLUTIONS]


def corpus() -> dict[str, str]:
    """The independent correct hand-ins, the copy of one, the untouched stub and a one-line mistake."""
    codes = {name: solution(name) for name in INDEPENDENT}
    codes["copy_of_careful"] = disguised(solution("careful"))
    codes["stub"] = STUB
    return codes


def test_a_disguised_copy_ranks_above_every_pair_of_independent_hand_ins():
    pairs = all_pairs(corpus(), STUB, "pytorch_basics.py")
    ranked = [(p.a, p.b) for p in pairs]
    assert ranked[0] == ("careful", "copy_of_careful")
    independent = [p for p in pairs if p.a in INDEPENDENT and p.b in INDEPENDENT]
    assert len(independent) == 6 and pairs[0].score > 0.85 > 0.5 > max(p.score for p in independent)
    assert [p.score for p in pairs if "stub" in (p.a, p.b)] == [0.0] * 5   # the stub is everyone's: no match
    shown = similar_pairs(corpus(), STUB, "pytorch_basics.py")
    assert [(p.a, p.b) for p in shown] == [("careful", "copy_of_careful")]
    assert {f.a_name for f in shown[0].fragments} >= {"select_device", "numpy_to_tensor", "batch_spectrograms"}
    first = shown[0].fragments[0]
    assert first.a_name == first.b_name            # side by side: the same function, wherever the copy moved it


def test_without_the_stub_as_boilerplate_independent_hand_ins_look_alike():
    """What the boilerplate buys: the stub's signatures and docstrings, everyone's, do not count."""
    with_stub = {(p.a, p.b): p.score for p in all_pairs({n: solution(n) for n in SOLUTIONS}, STUB, "x.py")}
    without = {(p.a, p.b): p.score for p in all_pairs({n: solution(n) for n in SOLUTIONS}, "", "x.py")}
    assert all(without[pair] - with_stub[pair] > 0.1 for pair in with_stub), (with_stub, without)


def test_code_is_only_read_never_run(tmp_path):
    marker = tmp_path / "ran"
    hostile = f"open({str(marker)!r}, 'w').write('x')\nimport os\nos._exit(3)\n" + solution("compact")
    broken = "def select_device((:\n" + solution("loops")     # does not parse: compared all the same
    pairs = all_pairs({"hostile": hostile, "broken": broken, "other": solution("loops")}, STUB, "x.py")
    assert not marker.exists()
    assert max(p.score for p in pairs if {p.a, p.b} == {"broken", "other"}) > 0.9


def hundred(folder) -> None:
    """100 hand-ins: the four independent ones, each renamed and reordered into 24 more, and a mistake."""
    rng = random.Random(19)
    for index in range(100):
        name = INDEPENDENT[index % 4]
        code = solution(name) if index < 4 else disguised(solution(name)) if index % 3 else lab4_hard_coded_cuda()
        code += "\n" * rng.randint(0, 3) + f"# hand-in {index}\n"
        (folder / f"student{index:03d}.py").write_text(code)


@pytest.mark.slow   # a hundred hand-ins, 4950 pairs: a measurement (over 10 s here)
def test_a_hundred_hand_ins_in_under_a_minute(tmp_path, capsys):
    hundred(tmp_path)
    started = time.perf_counter()
    assert main(["similarity", str(tmp_path), "--lab", "lab4", "--fragments", "0"]) == 0
    elapsed = time.perf_counter() - started
    out = capsys.readouterr().out
    assert "lab4: 100 submissions, 4950 pairs" in out
    assert elapsed < 60, elapsed


def test_the_command_says_what_it_needs(tmp_path, capsys):
    assert main(["similarity", str(tmp_path)]) == 2
    assert "give --lab" in capsys.readouterr().err


@pytest.mark.slow
@pytest.mark.parametrize("name", list(SOLUTIONS))
def test_the_independent_hand_ins_are_correct(name, tmp_path):
    """The corpus is what it claims: each solution earns full marks (so their likeness is honest work's)."""
    (tmp_path / "pytorch_basics.py").write_text(solution(name))
    result = grade("lab4", tmp_path)
    assert result.score == result.max_score > 0, [(c.name, c.feedback) for c in result.checks
                                                  if c.status == "failed"]
