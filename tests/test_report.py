"""The report, rendered from results as data (no grading): it follows the lab and says each thing once."""

from __future__ import annotations

import json
import re

from grader.feedback.report import as_text, function_groups, sandbox_words, to_json
from grader.results import CheckResult, GradeResult, explain_builds_on, plural

LAB4_FUNCTIONS = ["select_device", "setup_report", "numpy_to_tensor", "to_unet_input", "to_device", "to_numpy",
                  "audio_to_tensor", "simple_neural_operation", "mse_gradient", "batch_spectrograms",
                  "SpectrogramDataset"]


def flow(text: str) -> str:
    """The report's words in one line, without panel borders and wrapping."""
    return " ".join(re.sub(r"[│╭╮╰╯─]", " ", text).split())


def frame(function: str, line: int, code: str, file: str = "pytorch_basics.py") -> dict:
    return {"file": file, "line": line, "function": function, "code": code}


def not_implemented(function: str, line: int = 10) -> dict:
    return {"type": "NotImplementedError", "message": f"{function}: write me", "where": "",
            "frames": [frame(function, line, "raise NotImplementedError(...)")]}


def check(name: str, function: str, status: str = "passed", points: float = 1, error: dict | None = None,
          title: str = "", summary: str = "", **more) -> CheckResult:
    feedback = None
    if status == "failed":
        feedback = {"summary": summary or f"{function} is wrong", "function": function, "input": f"{function}(x)",
                    "rows": [], "hint": more.pop("hint", "")}
    return CheckResult(name, title or f"{function} does thing {name}", points, status,
                       points if status == "passed" else 0.0, feedback, function=function, error=error, **more)


def result_of(checks: list[CheckResult], functions: list[str] = LAB4_FUNCTIONS, **more) -> GradeResult:
    return GradeResult("lab4", "PyTorch Essentials", "alice/pytorch_basics.py", checks, execution_time=12.3,
                       sandbox=more.pop("sandbox", "namespaces (bubblewrap), Landlock ABI 7"), functions=functions,
                       **more)


def untouched_stub() -> GradeResult:
    """Every check of every function fails on the stub's own NotImplementedError; 3 need CUDA."""
    checks = []
    for i, function in enumerate(reversed(LAB4_FUNCTIONS)):  # the suite's order is not the lab's
        for j in range(5):
            checks.append(check(f"test_{function}_{j}", function, "failed", error=not_implemented(function, 60 + i),
                                summary=f"{function} is not implemented yet"))
    checks += [CheckResult(f"test_cuda_{k}", f"on a GPU {k}", 1, "skipped", skip_reason="needs a CUDA GPU",
                           function="to_device") for k in range(3)]
    return result_of(checks)


def test_the_untouched_stub_fits_one_screen_and_says_where_to_start():
    text = as_text(untouched_stub(), width=80)
    lines = text.splitlines()
    assert len(lines) <= 60 and max(map(len, lines)) <= 80
    assert "11 of 11 functions not started yet: start with `select_device`." in flow(text)
    assert "not implemented" not in text  # no panel per check: one line per function
    order = [text.index(f"{name} · not started yet") for name in LAB4_FUNCTIONS]
    assert order == sorted(order), "functions must appear in the stub's order"


def test_groups_follow_the_stub_and_show_their_points():
    result = result_of([check("test_b", "numpy_to_tensor", "failed", points=2), check("test_a", "select_device"),
                        check("test_c", "numpy_to_tensor", points=3), check("test_x", "")])
    groups = function_groups(result)
    assert [g.name for g in groups] == ["select_device", "numpy_to_tensor", "other checks"]
    text = as_text(result)
    assert "numpy_to_tensor · 1 of 2 checks pass" in text and "3/5" in text
    assert "select_device · the check passes" in text


def test_a_started_function_lists_its_checks_and_a_finished_one_is_one_line():
    result = result_of([check("test_ok1", "select_device", title="select_device picks cpu"),
                        check("test_ok2", "select_device", title="select_device picks cuda"),
                        check("test_bad", "to_numpy", "failed", title="to_numpy detaches")])
    text = as_text(result)
    assert "select_device · both checks pass" in text and "picks cpu" not in text
    assert "to_numpy · the check fails" in text
    assert as_text(result, verbose=True).count("select_device picks") == 2  # --verbose lists every check


def test_one_root_cause_is_one_panel_with_the_student_frames_outermost_first():
    error = {"type": "RuntimeError", "message": "Given groups=1, weight of size [64, 128, 3, 3], expected "
             "input[2, 64, 4, 6] to have 128 channels, but got 64 channels instead", "where": "",
             "frames": [frame("UNet.forward", 98, "x = self.up1(x5, x4)", "unet.py"),
                        frame("Up.forward", 79, "return self.conv(x1)", "unet.py"),
                        frame("DoubleConv.forward", 42, "return self.double_conv(x)", "unet.py")]}
    checks = [check(f"test_{i}", "UNet.forward", "failed", points=2, error=error, title=f"forward property {i}",
                    summary=f"UNet.forward raised RuntimeError ({i})") for i in range(5)]
    result = result_of(checks, functions=["DoubleConv.forward", "Up.forward", "UNet.forward"])
    text = as_text(result)
    flowing = flow(text)
    assert text.count("RuntimeError") == 1, "the exception is said once"
    assert "UNet.forward line 98 → Up.forward line 79 → DoubleConv.forward line 42" in flowing
    assert "one mistake, 5 checks (10 points) lost to it" in flowing
    assert all(f"forward property {i} (2 points)" in flowing for i in range(5))


def test_the_same_exception_at_different_lines_is_two_panels():
    first = {"type": "TypeError", "message": "bad", "where": "", "frames": [frame("to_numpy", 10, "x")]}
    second = {**first, "frames": [frame("to_numpy", 12, "y")]}
    checks = [check(f"test_{i}", "to_numpy", "failed", error=error) for i, error in
              enumerate([first, first, second, second])]
    assert as_text(result_of(checks)).count("one mistake, 2 checks") == 2


def test_a_check_that_builds_on_a_failed_one_says_so_instead_of_its_hint():
    forward = check("test_forward_matches_reference", "UNet.forward", "failed", hint="pad to 16")
    separate = check("test_separate_matches", "separate", "failed", hint="a misleading eval-mode hint",
                     builds_on=["test_forward_matches_reference"])
    passing = check("test_separate_shape", "separate", "passed", builds_on=["test_forward_matches_reference"])
    result = result_of([separate, passing, forward], functions=["UNet.forward", "separate"])
    explain_builds_on(result.checks)
    assert separate.explained_by == ["UNet.forward"] and passing.explained_by == []
    assert separate.score == 0 and passing.score == 1  # explanation only: scores unchanged
    flowing = flow(as_text(result))
    assert "this also fails because `UNet.forward` does (see above)" in flowing
    assert "misleading eval-mode hint" not in flowing
    assert "also fails because" in to_json(result)


def test_a_base_that_passed_leaves_the_hint_alone():
    forward = check("test_forward_matches_reference", "UNet.forward", "passed")
    separate = check("test_separate", "separate", "failed", hint="use eval mode",
                     builds_on=["test_forward_matches_reference"])
    result = result_of([forward, separate], functions=["UNet.forward", "separate"])
    explain_builds_on(result.checks)
    assert separate.explained_by == [] and "use eval mode" in as_text(result)


def test_long_titles_wrap_in_panels_instead_of_being_cut():
    title = "a check with a very long title that goes on well past the eighty columns of a terminal, to the end"
    result = result_of([check("test_long", "to_numpy", "failed", points=3, title=title)])
    flowing = flow(as_text(result))
    assert f"✘ {title} · 0/3 points" in flowing


def test_plurals():
    assert [plural(1, "point"), plural(2, "point"), plural(1.5, "point"), plural(1, "check")] == \
        ["1 point", "2 points", "1.5 points", "1 check"]
    result = result_of([check("test_a", "to_numpy", "failed"),
                        CheckResult("test_gpu", "on a GPU", 1, "skipped", skip_reason="needs a CUDA GPU")])
    flowing = flow(as_text(result))
    assert "0/1 point" in flowing and "1 check (1 point) was skipped" in flowing
    assert "pts" not in flowing and "(s)" not in flowing


def test_the_footer_speaks_a_students_words_and_warns_once_when_the_sandbox_is_weak():
    assert sandbox_words("namespaces (bubblewrap), Landlock ABI 7")[1] == ""
    for technical in ("landlock ABI 7: files limited", "Landlock ABI 7: files limited", "none (no Landlock)",
                      "portable: a plain process; not enforced: network"):
        said, warning = sandbox_words(technical)
        assert said and warning.startswith("⚠")
        text = as_text(result_of([check("test_a", "to_numpy")], sandbox=technical))
        assert text.count("⚠") == 1 and "ABI" not in text
        assert technical in as_text(result_of([check("test_a", "to_numpy")], sandbox=technical), verbose=True)
    strong = as_text(result_of([check("test_a", "to_numpy")]))
    assert "⚠" not in strong and "bubblewrap" not in strong and "sandbox" in strong
    assert json.loads(to_json(result_of([], sandbox="landlock ABI 7")))["sandbox"] == "landlock ABI 7"


def test_student_strings_are_shown_as_text_never_as_markup():
    sneaky = "[bold red]fake[/] [link=http://x]click[/link]"
    error = {"type": "ValueError", "message": sneaky, "where": "", "frames": [frame("to_numpy", 3, sneaky)]}
    failed = check("test_a", "to_numpy", "failed", error=error, summary=sneaky, output=sneaky + "\n",
                   warnings="UserWarning: " + sneaky)
    text = as_text(result_of([failed]))
    assert text.count("[bold red]fake[/]") >= 3  # summary, code line, printed output: all literal


def test_library_warnings_are_shown_apart_from_what_the_code_printed():
    failed = check("test_a", "audio_to_tensor", "failed", output="my debug line\n",
                   warnings="UserWarning: n_fft=2048 is too large (librosa/core/spectrum.py, line 266)")
    flowing = flow(as_text(result_of([failed])))
    printed = flowing.index("your code printed: my debug line")
    library = flowing.index("warnings from libraries (not from your code): UserWarning: n_fft=2048")
    assert printed < library
