"""What a check printed, apart from warnings that libraries raised."""

from __future__ import annotations

from grader.grading.outputs import split_warnings

PRINTED = """my debug line
/usr/lib/python3.11/site-packages/librosa/core/spectrum.py:266: UserWarning: n_fft=2048 is too large for input signal of length=1102
  return f(*args, **kwargs)
/tmp/grade-scratch-x/pytorch_basics.py:12: UserWarning: careful, this is slow
  warnings.warn("careful, this is slow")
/usr/lib/python3.11/site-packages/librosa/core/spectrum.py:266: UserWarning: n_fft=2048 is too large for input signal of length=1102
  return f(*args, **kwargs)
/usr/lib/python3.11/site-packages/numpy/_core/_methods.py:138: RuntimeWarning: Mean of empty slice
last line
"""


def test_only_warnings_from_the_students_file_are_theirs():
    printed, library = split_warnings(PRINTED, "pytorch_basics.py")
    assert printed == ("my debug line\n"
                       "/tmp/grade-scratch-x/pytorch_basics.py:12: UserWarning: careful, this is slow\n"
                       '  warnings.warn("careful, this is slow")\n'
                       "last line\n")
    assert library.splitlines() == [
        "UserWarning: n_fft=2048 is too large for input signal of length=1102 (librosa/core/spectrum.py, line 266)",
        "RuntimeWarning: Mean of empty slice (numpy/_core/_methods.py, line 138)",
    ]  # each once, named by the library's own path


def test_plain_output_is_left_alone():
    text = "epoch 1: loss 0.3\nWarning: this is just a print\nx:1: not a warning\n"
    assert split_warnings(text, "unet.py") == (text, "")


def test_a_warning_the_lab_expects_is_left_out():
    """A library warning a check's own input provokes (lab.toml's expected_warnings) is not shown."""
    printed, library = split_warnings(PRINTED, "pytorch_basics.py", (r"n_fft=\d+ is too large for input signal",))
    assert library.splitlines() == ["RuntimeWarning: Mean of empty slice (numpy/_core/_methods.py, line 138)"]
    assert "careful, this is slow" in printed          # the student's own warning is never expected away
    _, kept = split_warnings(PRINTED, "pytorch_basics.py", (r"careful",))
    assert "careful" not in kept and "n_fft" in kept   # a pattern matches library warnings only
