"""``grade similarity`` (and the class report's similar pairs) against hand-ins made to be expensive to
compare, or to hide a copy (the second red team of issue 20).

The promises: comparing a class takes time bounded by what each hand-in is, linear in it, whatever
its code looks like (thousands of functions, one long line, nesting, bytes that are no code); and a
file longer than what is compared says so where the pairs are shown, so padding a copy until it is
no longer compared is itself a lead.
"""

from __future__ import annotations

import time

import pytest

from grader.cli import main
from grader.instructor.similarity.detect import MAX_CHARACTERS, all_pairs, not_compared_whole, similar_pairs
from tests.corpus import STUB, solution


def many_functions(count: int) -> str:
    return "".join(f"def f{i}(a):\n    return a * {i} + {i % 7}\n" for i in range(count))


def test_two_hand_ins_of_thousands_of_shared_functions_are_compared_in_linear_time():
    """Each shared fingerprint used to look through every function of the file for the one holding it:
    two colluding hand-ins of 20 000 small functions took 232 s, a class of them hours."""
    code = many_functions(6_500)
    assert len(code) < MAX_CHARACTERS
    started = time.monotonic()
    (pair,) = similar_pairs({"a": code, "b": code}, STUB, "pytorch_basics.py")
    assert time.monotonic() - started < 20
    assert pair.score == 1.0 and len(pair.fragments) > 6_000
    assert pair.fragments[0].a_name == pair.fragments[0].b_name


@pytest.mark.parametrize("shape", ["one long line", "nesting", "bytes", "unclosed string"])
def test_code_that_is_slow_to_tokenise_costs_at_most_what_is_compared(shape):
    hostile = {"one long line": "x = " + "+".join(["a"] * 600_000) + "\n",
               "nesting": "x = " + "(" * 300_000 + ")" * 300_000 + "\n",
               "bytes": bytes(range(256)).decode("latin-1") * 8_000,
               "unclosed string": '"""' + "\\\n" * 600_000}[shape]
    started = time.monotonic()
    pairs = all_pairs({"hostile": hostile, "twin": hostile, "honest": solution("careful")}, STUB, "x.py")
    assert time.monotonic() - started < 30
    assert len(pairs) == 3


@pytest.mark.parametrize("padding", ["# " + "x" * 70 + "\n", "\n", '"""' + "x" * 70 + '"""\n'])
def test_a_copy_padded_beyond_what_is_compared_is_named(padding):
    """A copy behind a megabyte of comments, blank lines or strings is not compared (only the first
    MAX_CHARACTERS are read: tokenising is what costs), so it used to vanish without a word. It is named."""
    copy = padding * (MAX_CHARACTERS // len(padding) + 1) + solution("careful")
    codes = {"careful": solution("careful"), "copy": copy, "compact": solution("compact")}
    assert not_compared_whole(codes) == [("copy", len(copy))]
    assert not similar_pairs(codes, STUB, "x.py")       # the pair itself is lost: the name is the lead


def test_the_command_names_what_it_did_not_compare_whole(tmp_path, capsys):
    subs = tmp_path / "subs"
    for name, code in (("careful", solution("careful")), ("padded", "#\n" * MAX_CHARACTERS + solution("careful"))):
        (subs / name).mkdir(parents=True)
        (subs / name / "pytorch_basics.py").write_text(code)
    assert main(["similarity", str(subs), "--lab", "lab4"]) == 0
    out = capsys.readouterr().out
    assert "padded" in out and "not compared whole" in out, out


def test_the_class_report_names_what_it_did_not_compare_whole(tmp_path):
    from grader.instructor.gradebook import Gradebook
    from grader.instructor.gradebook.exports import ExportOptions, export
    from grader.instructor.gradebook.store import Handin
    from tests.test_class_report import CLASS

    with Gradebook(tmp_path / "grades.db") as book:
        for student in ("alice", "bob"):
            book.record(student, "lab4", f"h-{student}", "v1", CLASS[student])
        book.set_handins("lab4", [("alice", Handin(), solution("careful")),
                                  ("bob", Handin(), "\n" * MAX_CHARACTERS + solution("careful"))])
        export(book, tmp_path / "out", ("html",), "lab4", ExportOptions(stubs={"lab4": STUB}))
    page = (tmp_path / "out" / "report.html").read_text()
    text = (tmp_path / "out" / "report.txt").read_text()
    assert "id='not-compared-whole'" in page and "<li>bob: " in page
    assert "bob: not compared whole" in text
