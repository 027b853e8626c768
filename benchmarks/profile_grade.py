"""Profile: where the time of one ``grade LAB --reference`` goes.

Runs the command's own code in this process (``grader.cli.main``), in the command's own
order, with timers wrapped around its phases, and prints one line per phase:

- ``grader start``: a fresh interpreter importing the grader's command line (measured apart:
  this one has it already);
- ``setup``: finding the course and lab, choosing (probing) the launcher, the trusted cache,
  up to the worker's launch;
- ``grading code imported``: torch, pytest and the grading modules, imported after the launch;
- ``suite collected``: launch to the end of pytest's collection (this process);
- ``worker ready``: launch to the worker's hello (sandbox, imports, warm-ups; the other core);
- ``waiting for the worker``: how long this process waited for the hello and the import
  (0 when collecting took longer than the worker's start);
- ``reference``: loading the reference module and its live calls (0 when replayed);
- ``checks themselves``: the checks, less the waits and the reference;
- ``report``: rendering it.

    python benchmarks/profile_grade.py [--lab lab4] [--repeat 1] [-- EXTRA grade ARGUMENTS]

Run it with the Python of a student release's venv (from a folder outside this checkout)
to profile the release.
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import inspect
import io
import os
import subprocess
import sys
import time
from collections import defaultdict


class Clock:
    """Total seconds per phase (a nested call of the same phase counted once), and marks."""

    def __init__(self) -> None:
        self.total: dict[str, float] = defaultdict(float)
        self.marks: dict[str, float] = {}
        self.inside: set[str] = set()
        self.start = time.perf_counter()

    def wrap(self, owner: object, name: str, phase: str) -> None:
        original = getattr(owner, name)

        @functools.wraps(original)
        def timed(*args, **kwargs):
            if phase in self.inside:
                return original(*args, **kwargs)
            self.inside.add(phase)
            started = time.perf_counter()
            try:
                return original(*args, **kwargs)
            finally:
                self.inside.discard(phase)
                self.total[phase] += time.perf_counter() - started
        setattr(owner, name, timed)

    def mark(self, what: str) -> None:
        self.marks.setdefault(what, time.perf_counter() - self.start)

    def since(self, first: str, then: str) -> float:
        return self.marks.get(then, float("nan")) - self.marks.get(first, float("nan"))


def grader_start_seconds() -> float:
    started = time.perf_counter()
    subprocess.run([sys.executable, "-c", "import grader.cli"], check=True)
    return time.perf_counter() - started


def instrument_grading(clock: Clock) -> None:
    """Timers on the modules the command imports after the launch (imported here at that moment)."""
    from grader.feedback import report
    from grader.grading import plugin, reference, session

    clock.mark("grading code imported")
    loaded = reference.load_reference

    def load_timed(lab):   # live: the suite calls the module's functions directly; time them
        started = time.perf_counter()
        module = loaded(lab)
        clock.total["reference"] += time.perf_counter() - started
        for name, value in list(vars(module).items()):
            if inspect.isfunction(value) and value.__module__ == module.__name__:
                clock.wrap(module, name, "reference")
        return module
    reference.load_reference = load_timed
    clock.wrap(report, "print_report", "report")
    clock.wrap(report, "to_json", "report")

    original_call = reference.Book.call

    def call(book, name, args, kwargs, live):
        def timed_live(module):
            if "reference" in clock.inside:
                return live(module)
            clock.inside.add("reference")
            started = time.perf_counter()
            try:
                return live(module)
            finally:
                clock.inside.discard("reference")
                clock.total["reference"] += time.perf_counter() - started
        return original_call(book, name, args, kwargs, timed_live)
    reference.Book.call = call

    original_receive = session.WorkerSession._receive

    def receive(self, deadline, doing, seconds):
        started = time.perf_counter()
        try:
            return original_receive(self, deadline, doing, seconds)
        finally:
            if doing == "starting" or doing.startswith("importing"):   # the hello ("starting" since #16), the import
                clock.total["waiting for worker"] += time.perf_counter() - started
                clock.mark("worker hello" if "worker hello" not in clock.marks else "submission imported")
    session.WorkerSession._receive = receive

    original_finish = plugin.GradingPlugin.pytest_collection_finish
    original_sessionfinish = plugin.GradingPlugin.pytest_sessionfinish

    def collection_finish(self, session):
        clock.mark("suite collected")
        return original_finish(self, session)

    def session_finish(self):
        clock.mark("checks done")
        return original_sessionfinish(self)
    plugin.GradingPlugin.pytest_collection_finish = collection_finish
    plugin.GradingPlugin.pytest_sessionfinish = session_finish


def instrument_setup(clock: Clock, prepare) -> None:
    """The command launches the worker (grading/prepare.py), then imports the grading code."""
    clock.wrap(prepare, "find", "setup: course")
    clock.wrap(prepare, "choose", "setup: launcher")
    clock.wrap(prepare, "trusted_cache", "setup: cache")
    original_launch = prepare.launch

    def launch(launcher, spec):
        clock.mark("worker launched")
        return original_launch(launcher, spec)
    prepare.launch = launch
    original_prepare = prepare.prepare

    def prepare_then_instrument(*args, **kwargs):
        prepared = original_prepare(*args, **kwargs)
        instrument_grading(clock)   # what the command imports next, imported now
        return prepared
    prepare.prepare = prepare_then_instrument


def instrument_old_setup(clock: Clock) -> None:
    """The command imports the grading code (torch), then sets up and launches the worker."""
    instrument_grading(clock)
    from grader.grading import run, session

    clock.wrap(run, "find", "setup: course")
    clock.wrap(run, "_launcher", "setup: launcher")
    clock.wrap(run, "trusted_cache", "setup: cache")
    original_start = session.WorkerSession.start

    def start(self):
        clock.mark("worker launched")
        return original_start(self)
    session.WorkerSession.start = start


def profile_once(lab: str, extra: list[str], startup: float) -> list[tuple[str, float]]:
    clock = Clock()
    from grader import cli

    try:
        from grader.grading import prepare
    except ImportError:   # a grader from before grading/prepare.py (main before issue 18): the old order
        instrument_old_setup(clock)
    else:
        instrument_setup(clock, prepare)
    with contextlib.redirect_stdout(io.StringIO()):
        code = cli.main([lab, "--reference", *extra])
    total = time.perf_counter() - clock.start
    checks = clock.since("suite collected", "checks done") - clock.total["reference"] \
        - clock.total["waiting for worker"]
    return [("grader start (fresh interpreter, import grader.cli)", startup),
            ("setup: course, lab", clock.total["setup: course"]),
            ("setup: launcher (probes the sandbox)", clock.total["setup: launcher"]),
            ("setup: trusted cache", clock.total["setup: cache"]),
            ("grading code imported (torch, pytest) at", clock.marks.get("grading code imported", float("nan"))),
            ("worker launched at", clock.marks.get("worker launched", float("nan"))),
            ("suite collected, from the launch", clock.since("worker launched", "suite collected")),
            ("worker ready, from the launch (other core)", clock.since("worker launched", "worker hello")),
            ("submission import", clock.since("worker hello", "submission imported")),
            ("waiting for the worker (hello + import)", clock.total["waiting for worker"]),
            ("reference (module load + live calls)", clock.total["reference"]),
            ("checks themselves", checks),
            ("report", clock.total["report"]),
            (f"total in this process (exit status {code})", total),
            ("total with grader start", total + startup)]


FLOOR = """
import sys, torch, librosa, numpy as np
audio, sr = librosa.load(sys.argv[1], sr=22050)
magnitude = np.abs(librosa.stft(audio, n_fft=2048, hop_length=512))
tensor = torch.from_numpy(magnitude).unsqueeze(0).unsqueeze(0)
"""


def floor_seconds(runs: int = 3) -> float:
    """bench_grade.py's floor, best of ``runs``: Python, torch and librosa, a 30 s clip's STFT."""
    import tempfile
    from pathlib import Path

    from grader.grading.fixtures import tone, write

    with tempfile.TemporaryDirectory() as folder:
        clip = write(Path(folder) / "clip.wav", tone(440, 44100, 30.0), 44100)
        times = []
        for _ in range(runs):
            started = time.perf_counter()
            subprocess.run([sys.executable, "-c", FLOOR, str(clip)], check=True)
            times.append(time.perf_counter() - started)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--lab", default="lab4")
    parser.add_argument("extra", nargs="*", help="more arguments for grade (after --)")
    args = parser.parse_args()
    load = open("/proc/loadavg").read().split()[:3] if os.path.exists("/proc/loadavg") else ["?"] * 3
    floor = floor_seconds()
    startup = grader_start_seconds()
    rows = profile_once(args.lab, args.extra, startup)
    print(f"profile of grade {args.lab} --reference {' '.join(args.extra)}  (load {' '.join(load)})")
    for label, seconds in rows:
        print(f"  {label:<58} {seconds:6.2f} s")
    print(f"  {'floor (best of 3), and the total over it':<58} {floor:6.2f} s   {rows[-1][1] / floor:.2f}x")


if __name__ == "__main__":
    main()
