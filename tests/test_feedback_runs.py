"""Whole grading runs of typical mistakes: what the report says about each, and how fast a hopeless file fails."""

from __future__ import annotations

import re
import time

import pytest

from grader.grading.budget import PER_FUNCTION
from grader.feedback.report import as_text
from grader.grading.run import grade
from grader.course.stub import lab_definitions
from grader.course.folder import find_lab
from tests import submissions


def flow(text: str) -> str:
    """The report's words in one line, without panel borders and wrapping."""
    return " ".join(re.sub(r"[│╭╮╰╯─]", " ", text).split())


def timed(run):
    started = time.monotonic()
    result = run()
    return result, time.monotonic() - started


@pytest.fixture
def graded(tmp_path_factory, warm_launcher):
    """``graded(lab, filename, source, **options)``: (result, seconds) of grading ``source`` saved as ``filename``,
    its workers from the session's warm launcher (these tests are about the report, not about starting workers)."""
    def run(lab: str, filename: str, source: str, **options):
        folder = submissions.write(tmp_path_factory.mktemp(lab), filename, source)
        return timed(lambda: grade(lab, folder, launcher=warm_launcher, **options))
    return run


def failed(result):
    return [c for c in result.checks if c.status == "failed"]


# ------------------------------------------------------------------ the untouched stub
def test_the_untouched_stub_is_one_screen_that_says_where_to_start(lab4_stub_run):
    result = lab4_stub_run
    text = as_text(result, width=80)
    assert len(text.splitlines()) <= 60, text
    assert "11 of 11 functions not started yet: start with `select_device`." in flow(text)
    graded_names = [d.name for d in lab_definitions(find_lab("lab4")) if any(c.function == d.name for c in result.checks)]
    rows = [text.index(f"{name} · not started yet") for name in graded_names]
    assert len(rows) == 11 and rows == sorted(rows), "one line per function, in the stub's order"


# ------------------------------------------------------------------ one mistake, said once
def test_a_hard_coded_cuda_is_one_panel_pointing_at_the_device_argument(graded):
    result, _ = graded("lab4", "pytorch_basics.py", submissions.lab4_hard_coded_cuda())
    lost = failed(result)
    assert len(lost) > 1 and {c.function for c in lost} == {"audio_to_tensor"}
    text = flow(as_text(result))
    assert text.count("Torch not compiled with CUDA enabled") == 1
    raised = [c for c in lost if c.error]  # the others are side checks, which count once their main check passes
    assert raised and all("counts once" in c.feedback.summary for c in lost if not c.error)
    assert f"one mistake, {len(raised)} checks" in text
    assert 'your line 175 asks for "cuda"' in text
    assert "use `audio_to_tensor`'s `device` argument instead of a fixed device" in text


@pytest.mark.slow   # Lab 5's whole suite, a U-Net per check
def test_a_unet_without_skip_connections_blames_the_chain_once(graded):
    result, _ = graded("lab5", "unet.py", submissions.lab5_without_skip_connections())
    text = flow(as_text(result))
    assert text.count("RuntimeError") == 1
    assert re.search(r"where: UNet\.forward line \d+ → Up\.forward line \d+ → DoubleConv\.forward line \d+", text)
    raised = [c for c in failed(result) if c.error]  # side checks that passed count once their main check does
    assert f"one mistake, {len(raised)} checks" in text
    assert re.search(r"Look at the tensor that reaches it from `Up\.forward` line \d+", text)


@pytest.mark.slow   # Lab 5's whole suite, a U-Net per check
def test_separate_and_train_step_say_they_fail_because_forward_does(graded):
    result, _ = graded("lab5", "unet.py", submissions.lab5_skip_in_wrong_order())
    by_name = {c.name: c for c in result.checks}
    assert by_name["test_forward_matches_reference"].status == "failed"
    dependents = [c for c in failed(result) if c.function in ("separate", "train_step")]
    assert dependents and all(c.explained_by == ["UNet.forward"] and c.score == 0 for c in dependents)
    assert result.score == sum(c.points for c in result.checks if c.status == "passed")  # scores unchanged
    text = flow(as_text(result))
    assert text.count("this also fails because `UNet.forward` does (see above)") == len(dependents)
    assert "so BatchNorm uses its running statistics" not in text  # the misleading eval-mode hint is gone


def test_library_warnings_are_not_the_students(graded):
    result, _ = graded("lab4", "pytorch_basics.py", submissions.lab4_noisy_to_numpy(),
                       keyword="to_numpy_detaches")
    (check,) = result.checks
    assert check.status == "failed"
    assert "debugging to_numpy" in check.output and "this is my own warning" in check.output
    assert "Mean of empty slice" in check.warnings and "Mean of empty slice" not in check.output
    assert "warnings from libraries (not from your code): RuntimeWarning: Mean of empty slice" in \
        flow(as_text(result))


# ------------------------------------------------------------------ failing fast
def test_a_syntax_error_is_no_slower_than_the_stub(graded, lab4_stub_run):
    stub_seconds = lab4_stub_run.execution_time
    result, seconds = graded("lab4", "pytorch_basics.py", submissions.lab4_syntax_error())
    assert "SyntaxError" in result.import_error
    assert all(c.status in ("failed", "skipped") for c in result.checks)
    # before: 40-45 s against 15 s, the cached exception's traceback growing with every check
    assert seconds <= 2 * stub_seconds + 10, (seconds, stub_seconds)


@pytest.mark.parametrize("source, said", [
    (submissions.lab4_missing_package, "ModuleNotFoundError"),
    (submissions.lab4_input_at_import, "EOFError"),
])
def test_other_unimportable_files_fail_every_check_with_the_reason(graded, source, said):
    result, _ = graded("lab4", "pytorch_basics.py", source(), keyword="numpy_to_tensor")
    assert said in result.import_error
    assert all("could not be imported" in c.feedback.summary for c in failed(result))
    assert flow(as_text(result)).count(said) == 1


def test_after_a_function_times_out_twice_its_other_checks_fail_at_once(graded):
    result, seconds = graded("lab4", "pytorch_basics.py", submissions.lab4_endless_loop_everywhere(),
                             keyword="numpy_to_tensor", call_timeout=1)
    ran = failed(result)
    timed_out = [c for c in ran if "timed out after 1 s" in c.feedback.summary]
    not_run = [c for c in ran if c.feedback.summary.startswith("not run:")]
    assert len(timed_out) == PER_FUNCTION and ran[:PER_FUNCTION] == timed_out
    assert not_run == ran[PER_FUNCTION:] and not_run
    assert all(c.seconds < 1 for c in not_run), [c.seconds for c in not_run]
    assert f"one mistake, {len(not_run)} checks" in flow(as_text(result))


def test_pytest_formats_no_more_than_a_line_per_traceback_entry(graded, monkeypatch):
    """Feedback is data: pytest's own tracebacks are never shown, so they must stay cheap to format."""
    import grader.grading.plugin
    import grader.grading.run

    sizes: list[int] = []

    class Measuring(grader.grading.plugin.GradingPlugin):
        def pytest_runtest_logreport(self, report):
            if report.failed:
                sizes.append(len(report.longreprtext))

    monkeypatch.setattr(grader.grading.run, "GradingPlugin", Measuring)   # the class a run makes its plugin from
    result, _ = graded("lab4", "pytorch_basics.py", submissions.lab4_syntax_error(),
                       keyword="numpy_to_tensor")
    assert len(sizes) == len(failed(result)) > 1
    # one line per entry: about 170 characters here, against 2200 with pytest's source listings
    assert max(sizes) < 600 and sizes[0] == sizes[-1], sizes  # and no growth from one check to the next
