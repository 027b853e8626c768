"""Recorded expectations (grader/grading/reference.py): fingerprints, the store, the modes, and a release's toy course."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import types
from pathlib import Path

import numpy as np
import pytest
import torch

from grader.course import folder as courses
from grader.grading import reference as E
from grader.grading import store as S
from grader.instructor import recording
from grader.grading.run import grade
from tests.helpers import REPO
from tests.toy_course import LAB, MODULE, SUITE, make_course


# ------------------------------------------------------------------ fingerprints
def sample_arguments(clips: Path) -> tuple[tuple, dict]:
    return ((np.linspace(-1, 1, 12, dtype=np.float32).reshape(3, 4), torch.arange(6, dtype=torch.bfloat16),
             0.1, 3, str(clips / "tone.wav"), [clips / "chirp.wav"], torch.device("cpu"), np.max),
            {"sr": 22050, "top_db": None, "ref": np.float64(0.5)})


def test_fingerprints_ignore_where_the_clips_folder_is_and_tell_apart_everything_else(tmp_path):
    args, kwargs = sample_arguments(tmp_path / "run1")
    same = S.fingerprint(args, kwargs, tmp_path / "run1")
    assert S.fingerprint(*sample_arguments(tmp_path / "run2"), tmp_path / "run2") == same
    assert S.fingerprint(args, dict(reversed(list(kwargs.items()))), tmp_path / "run1") == same  # keyword order
    changed = [
        ((args[0].astype(np.float64), *args[1:]), kwargs),                       # dtype
        ((args[0].reshape(4, 3), *args[1:]), kwargs),                            # shape
        ((*args[:2], np.nextafter(0.1, 1.0), *args[3:]), kwargs),               # one ulp
        ((*args[:3], 3.0, *args[4:]), kwargs),                                   # 3 is not 3.0
        ((*args[:5], tuple(args[5]), *args[6:]), kwargs),                        # list is not tuple
        ((*args[:4], str(tmp_path / "run1" / "other.wav"), *args[5:]), kwargs),  # another clip
        ((*args[:7], np.min), kwargs),                                           # another function
        (args, {**kwargs, "ref": 0.5}),                                          # np.float64 is not float
    ]
    for other in changed:
        assert S.fingerprint(*other, tmp_path / "run1") != same


def test_fingerprints_are_the_same_in_another_process(tmp_path):
    """No id(), no hash() of a str: a fresh interpreter with another hash seed agrees."""
    code = ("import sys; from pathlib import Path; from tests.test_expectations import sample_arguments; "
            "from grader.grading.store import fingerprint; c = Path(sys.argv[1]); "
            "print(fingerprint(*sample_arguments(c), c))")
    runs = [subprocess.run([sys.executable, "-c", code, str(tmp_path / f"clips{seed}")], cwd=REPO, text=True,
                           capture_output=True, env={**os.environ, "PYTHONHASHSEED": str(seed)}, check=True)
            for seed in (1, 2)]
    here = S.fingerprint(*sample_arguments(tmp_path), tmp_path)
    assert runs[0].stdout.strip() == runs[1].stdout.strip() == here


# ------------------------------------------------------------------ the store
VALUES = {
    "float32": np.arange(6, dtype=np.float32).reshape(2, 3) / 7,
    "bfloat16": torch.linspace(0, 1, 5, dtype=torch.bfloat16),
    "meta": torch.empty(2, 3, device="meta"),
    "grad": torch.ones(3, requires_grad=True),
    "scalar": np.float32(1.5),
    "odd floats": (float("nan"), float("inf"), -0.0, 1e-310, 1 + 2j),
    "plain": [1, True, None, "text", 2 ** 70],
    "int keys": {3: torch.device("meta"), "d": torch.float16, "n": np.dtype("int16")},
}


def same(a, b) -> bool:
    if isinstance(a, torch.Tensor):
        return (type(b) is torch.Tensor and a.dtype == b.dtype and a.shape == b.shape and a.device == b.device
                and a.requires_grad == b.requires_grad and (a.device.type == "meta" or torch.equal(a.detach(), b.detach())))
    if isinstance(a, np.ndarray | np.generic):
        return type(a) is type(b) and a.dtype == b.dtype and np.array_equal(a, b)
    if isinstance(a, (list, tuple)):
        return type(a) is type(b) and len(a) == len(b) and all(same(x, y) for x, y in zip(a, b))
    if isinstance(a, dict):
        return type(b) is dict and list(a) == list(b) and all(same(a[k], b[k]) for k in a)
    if isinstance(a, float) and a != a:
        return type(b) is float and b != b
    return type(a) is type(b) and a == b and str(a) == str(b)


def test_the_store_round_trips_data_and_is_read_without_pickle(tmp_path, monkeypatch):
    lab = make_lab(tmp_path)
    store = S.Store.new(lab)
    for name, value in VALUES.items():
        store.add(name, "fp", {"t": "list", "v": []}, {}, value, "test_x")
    store.save(tmp_path / "store")
    assert sorted(p.name for p in (tmp_path / "store").iterdir()) == [S.INDEX, S.ARRAYS]
    loads = []
    real_load = np.load
    monkeypatch.setattr(np, "load", lambda *a, **k: loads.append(k) or real_load(*a, **k))
    loaded = S.Store.load(tmp_path / "store")
    assert loads == [{"allow_pickle": False}]
    for name, value in VALUES.items():
        back = loaded.value(loaded.find(name, "fp")["value"])
        assert same(value, back), (name, value, back)
    back = loaded.value(loaded.find("float32", "fp")["value"])
    back += 1   # a copy: what a check does to its expected value does not reach the next check
    assert same(VALUES["float32"], loaded.value(loaded.find("float32", "fp")["value"]))


def test_objects_are_not_data(tmp_path):
    store = S.Store.new(make_lab(tmp_path))
    for value in (torch.nn.Linear(1, 1), object(), [open(os.devnull)], np.array([object()])):
        with pytest.raises(S.Unrecordable):
            store.add("f", "fp", {"t": "list", "v": []}, {}, value, "test_x")


# ------------------------------------------------------------------ modes, on a module that counts its calls
def counting_module() -> types.ModuleType:
    module = types.ModuleType("fake_reference")
    module.calls = 0

    def double(x):
        module.calls += 1
        return x * 2
    module.double = double
    return module


@E.expectation
def doubled_pair(reference, x):
    """A recorded helper: the reference-side work builds objects, the result is data."""
    return {"pair": (reference.double(x), reference.double(x + 1))}


def test_record_then_replay_without_the_reference(tmp_path):
    lab, module = make_lab(tmp_path), counting_module()
    store = S.Store.new(lab)
    recording = E.Book("record", lab, store, tmp_path, module=lambda: module)
    recording.check = "test_a"
    ref = recording.reference()
    assert ref.double(np.arange(3)).tolist() == [0, 2, 4]
    assert doubled_pair(ref, 5) == {"pair": (10, 12)}
    assert module.calls == 3
    replaying = E.Book("replay", lab, store, tmp_path, module=lambda: pytest.fail("replay imported the reference"))
    replaying.check = "test_b"   # another check, later, another order: keyed by the call, not by who makes it
    ref = replaying.reference()
    assert doubled_pair(ref, 5) == {"pair": (10, 12)}
    assert ref.double(np.arange(3)).tolist() == [0, 2, 4]
    with pytest.raises(S.ReleaseMismatch, match=r"^this release does not match its suite: rebuild it "
                                                r"\(toy1: test_b calls double\(.*\), which was not recorded\)$"):
        ref.double(np.arange(4))
    assert isinstance(replaying.mismatch, S.ReleaseMismatch)
    assert doubled_pair(module, 5) == {"pair": (10, 12)}   # live: the helper is the plain function


def test_memo_computes_each_call_once_per_process(tmp_path):
    lab, module = make_lab(tmp_path), counting_module()
    memo = E.Memo(load=lambda lab: module)
    for run in range(3):   # three submissions, each its own run, clips folder and book
        book = memo.book(lab, tmp_path / f"clips{run}")
        assert book.mode == "memo"
        ref = book.reference()
        assert ref.double(2.5) == 5.0 and doubled_pair(ref, 1) == {"pair": (2, 4)}
        assert ref.double(str(tmp_path / f"clips{run}" / "a.wav")).endswith("a.wav")  # same clip, any folder
    assert module.calls == 4


def test_recording_refuses_a_reference_that_answers_the_same_call_twice_differently(tmp_path):
    lab, module = make_lab(tmp_path), counting_module()
    module.double = lambda x: (module.__dict__.__setitem__("calls", module.calls + 1), module.calls)[1]
    book = E.Book("record", lab, S.Store.new(lab), tmp_path, module=lambda: module)
    book.reference().double(1)
    with pytest.raises(RuntimeError, match="two different results for the same arguments"):
        book.reference().double(1)


def make_lab(root: Path):
    return courses.find(make_course(root)).lab(LAB)


# ------------------------------------------------------------------ a release of the toy course, end to end
def release_of_toy_course(root: Path) -> tuple[Path, Path]:
    """The toy course recorded into ``suites/toy1/expected`` (lab.toml says so), then its reference removed."""
    course = make_course(root / "course", suite=SUITE + WITH_HYPOTHESIS)
    toml = course / "suites" / LAB / "lab.toml"
    toml.write_text('expectations = "expected"\n' + toml.read_text())
    lab = courses.find(course).lab(LAB)
    assert lab.expectations == (course / "suites" / LAB / "expected").resolve()
    assert recording.record_lab(lab, lab.expectations) == lab.expectations
    solution = root / "solution" / f"{MODULE}.py"
    solution.parent.mkdir()
    solution.write_bytes(lab.reference_file.read_bytes())
    lab.reference_file.unlink()
    return course, solution


WITH_HYPOTHESIS = '''
from hypothesis import given, strategies as st


@pytest.mark.points(1)
def test_add_any_numbers(submission, reference):
    """add sums any integer and float"""
    @given(st.integers(-10 ** 6, 10 ** 6), st.floats(-1e3, 1e3, allow_nan=False))
    def run(a, b):
        expect(submission.add(a, b) == reference.add(a, b), f"add({a}, {b}) is wrong", function="add")
    run()
'''


def grade_cli(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    environment = {k: v for k, v in os.environ.items() if k != courses.ENVIRONMENT}
    return subprocess.run([sys.executable, "-m", "grader", *args], cwd=cwd, capture_output=True, text=True,
                          env={**environment, "PYTHONPATH": str(REPO)}, timeout=300)


@pytest.mark.slow   # records a lab, then six gradings, three of them `grade` processes
def test_a_release_grades_from_its_recorded_values_and_stops_where_they_do_not_fit(tmp_path):
    course, solution = release_of_toy_course(tmp_path)
    index = course / "suites" / LAB / "expected" / S.INDEX
    recorded = json.loads(index.read_text())
    assert list(recorded["calls"]) == ["add"] and recorded["hypothesis"] == S.hypothesis_version()
    assert len(recorded["calls"]["add"]) > 10   # (2, 3) and hypothesis's examples
    right = grade(LAB, solution, course=course)
    assert (right.score, right.max_score) == (3, 3), [c.feedback for c in right.checks]
    stub = grade(LAB, course=course)
    assert (stub.score, stub.max_score) == (0, 3)
    again = grade_cli(LAB, "--course", str(course), "--submission", str(solution), cwd=tmp_path)
    assert again.returncode == 0, again.stderr   # another process: the same derandomised examples

    index.write_text(json.dumps({**recorded, "calls": {}}))   # the suite asks for what was never recorded
    run = grade_cli(LAB, "--course", str(course), "--submission", str(solution), cwd=tmp_path)
    assert run.returncode == 2 and run.stdout == "", run.stdout
    assert run.stderr.count("\n") == 1, run.stderr
    assert "this release does not match its suite: rebuild it (toy1: " in run.stderr
    assert "calls add(2, 3), which was not recorded)" in run.stderr

    index.write_text(json.dumps(recorded))
    suite = next((course / "suites" / LAB).glob("test_toy_*.py"))
    suite.write_text(suite.read_text() + "\n# edited after the release was built\n")
    run = grade_cli(LAB, "--course", str(course), "--submission", str(solution), cwd=tmp_path)
    assert run.returncode == 2 and run.stderr.count("\n") == 1, run.stderr
    assert "this release does not match its suite: rebuild it (toy1: recorded with suite " in run.stderr


def test_replay_forgives_the_last_bits_of_float_inputs_and_nothing_more(tmp_path):
    """Inputs computed with np.sin differ by an ulp on another CPU: the same expected value answers."""
    lab, module = make_lab(tmp_path), counting_module()
    store = S.Store.new(lab)
    x = np.sin(np.linspace(0, 3, 50))
    E.Book("record", lab, store, tmp_path, module=lambda: module).reference().double(x)
    replay = E.Book("replay", lab, store, tmp_path).reference()
    assert np.array_equal(replay.double(np.nextafter(x, 2.0)), 2 * x)     # recorded for x, asked for x + 1 ulp
    for other in (x + 1e-3, x.astype(np.float32), x[:-1], [x]):
        with pytest.raises(S.ReleaseMismatch):
            replay.double(other)


def test_hypothesis_examples_do_not_depend_on_what_the_process_imported_before(tmp_path, monkeypatch):
    """Hypothesis draws literals of imported "local" modules: a release (no reference module, the
    suite in site-packages) would see other examples than the recording. The grading profile pins that."""
    from hypothesis import given, settings, strategies as st

    from grader.grading.plugin import register_hypothesis_profile

    register_hypothesis_profile()

    def examples() -> list:
        seen = []

        @settings(derandomize=True, max_examples=60, database=None)
        @given(st.floats(-1e3, 1e3), st.integers(-10 ** 6, 10 ** 6))
        def run(x, n):
            seen.append((x, n))
        run()
        return seen
    before = examples()
    (tmp_path / "course_constants.py").write_text("ODD = (658.191545, 811.5, -431907, 977221, 3.25e-5)\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    import course_constants  # noqa: F401  (a local module full of literals, as a reference solution is)

    assert examples() == before


def test_a_warm_grader_runs_the_reference_once_per_lab(tmp_path):
    """Batch grading (memo): the second submission's checks get the first one's expected values."""
    course, calls = make_course(tmp_path), []
    real_load = E.load_reference

    def counting_load(lab):
        module = real_load(lab)
        add = module.add
        module.add = lambda a, b: calls.append((a, b)) or add(a, b)
        return module
    memo = E.Memo(load=counting_load)
    first = grade(LAB, reference=True, course=course, reach=memo)
    second = grade(LAB, course=course, reach=memo)
    assert (first.score, second.score) == (2, 0)
    assert calls == [(2, 3)]


def test_a_store_from_another_hypothesis_or_suite_is_refused(tmp_path):
    lab = make_lab(tmp_path)
    E.Book("replay", lab, S.Store.new(lab), tmp_path).prepare()   # this suite, this hypothesis: fine
    for changed in ({"hypothesis": "6.0.0"}, {"suite": "0" * 64}):
        store = S.Store(**{**S.Store.new(lab).__dict__, **changed})
        with pytest.raises(S.ReleaseMismatch, match=r"^this release does not match its suite: rebuild it \(toy1: "
                                                    r"recorded with (hypothesis 6\.0\.0|suite 000000000000), this is"):
            E.Book("replay", lab, store, tmp_path).prepare()


# ------------------------------------------------------------------ kept answers (the instructor's checkout)
def test_the_checkout_keeps_the_references_answers_and_replays_them_the_next_run(tmp_path):
    course = make_course(tmp_path / "course")
    assert isinstance(E.automatic(courses.find(course).lab(LAB)), E.Kept)
    root = tmp_path / "kept"
    first, second = E.Kept(root), E.Kept(root)   # two runs: two processes, one cache folder
    graded = grade(LAB, reference=True, course=course, reach=first)
    assert graded.score == 2 and first.last.live_calls == 1
    assert "the reference ran live" in graded.notes[-1]
    again = grade(LAB, reference=True, course=course, reach=second)
    assert second.last.live_calls == 0, "the kept answer was not replayed"
    assert (again.score, again.notes) == (2, [])


def test_kept_answers_of_a_changed_reference_or_suite_are_never_read(tmp_path):
    course = make_course(tmp_path / "course")
    root = tmp_path / "kept"
    grade(LAB, reference=True, course=course, reach=E.Kept(root))
    reference = course / "reference" / LAB / f"{MODULE}.py"
    right = reference.read_text()
    reference.write_text(right.replace("return a + b", "return a + b + 1"))   # the instructor fixes it
    solution = tmp_path / "alice" / f"{MODULE}.py"
    solution.parent.mkdir()
    solution.write_text(right)   # right before the change, wrong after it
    kept = E.Kept(root)
    graded = grade(LAB, solution, course=course, reach=kept)
    assert kept.last.live_calls == 1 and graded.score == 0, "a stale answer graded the submission"
    lab = courses.find(course).lab(LAB)
    before = E.kept_key(lab)
    next(lab.suite_dir.glob("test_toy_*.py")).write_text(SUITE + "\n# a changed suite\n")
    assert E.kept_key(lab) != before


def test_live_runs_the_reference_and_needs_one(tmp_path):
    course = make_course(tmp_path / "course")
    env = {k: v for k, v in os.environ.items() if k != courses.ENVIRONMENT}
    command = [sys.executable, "-m", "grader", LAB, "--reference", "--live", "--course", str(course),
               "--format", "json"]
    run = subprocess.run(command, cwd=REPO, env=env, capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr
    lab = courses.find(course).lab(LAB)
    kept = E.automatic(lab)
    assert json.loads(run.stdout)["notes"] == [] and not kept.folder(lab).exists(), "--live kept answers"
    (course / "reference" / LAB / f"{MODULE}.py").unlink()
    run = subprocess.run([*command[:5], "--live", "--course", str(course)], cwd=REPO, env=env,
                         capture_output=True, text=True, timeout=300)
    assert run.returncode == 2 and run.stderr.count("\n") == 1, run.stderr


def test_kept_answers_that_cannot_be_read_are_computed_again(tmp_path):
    """Half replaced by another run at this moment, or damaged: the reference runs live, no error."""
    lab = make_lab(tmp_path)
    kept = E.Kept(tmp_path / "kept")
    folder = kept.folder(lab)
    folder.mkdir(parents=True)
    (folder / S.INDEX).write_text(json.dumps({"format": S.FORMAT}))   # its arrays are gone
    book = kept.book(lab, tmp_path)
    assert (book.mode, book.kept_calls, book.store.count()) == ("memo", 0, 0)


def test_only_a_labs_latest_kept_answers_stay(tmp_path):
    lab = make_lab(tmp_path)
    root = tmp_path / "kept"
    for age in range(E.KEPT_PER_LAB + 2):   # stores of older references and suites
        old = root / f"{lab.name}-old{age}"
        old.mkdir(parents=True)
        os.utime(old, (1000.0 + age, 1000.0 + age))
    (root / "another-lab-x").mkdir()
    kept = E.Kept(root)
    book = kept.book(lab, tmp_path)
    book.live_calls = 1   # as if the reference had run: the store is published
    kept.finish(book)
    left = sorted(p.name for p in root.iterdir() if not p.name.startswith("."))
    assert left == sorted(["another-lab-x", kept.folder(lab).name,
                           *[f"{lab.name}-old{age}" for age in range(E.KEPT_PER_LAB + 1, 2, -1)]])
