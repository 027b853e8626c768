"""Benchmark: one ``grade lab4`` against the floor of its own work, in the checkout and in the release.

The floor is what any Lab 4 grading must at least do: start Python, import
torch and librosa, load a 30 s clip and take its STFT magnitude as a tensor.
Each way is measured in the same run, alternately, ``--repeat`` times, after
one unmeasured run of each (the page cache, numba's cache, the kept answers):

- checkout: ``grade lab4 --reference`` in this checkout (the reference's
  answers replayed from the cache, as every run after the first);
- release (``--release``): ``grade release lab4`` built here, installed in a
  fresh venv (that sees this environment's packages), and ``grade lab4`` run
  there on the reference solution copied in as the student's file.

Printed: best and median seconds of each, the ratios to the floor (best to
best, median to median), the peak memory of the whole process tree (grader
and worker, sampled every 20 ms), and the machine's load before and after.

    python benchmarks/bench_grade.py [--repeat 5] [--lab lab4] [--release]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psutil

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(REPO))
from process_tree import load, wait_measuring  # noqa: E402

FLOOR = """
import sys, torch, librosa, numpy as np
audio, sr = librosa.load(sys.argv[1], sr=22050)
magnitude = np.abs(librosa.stft(audio, n_fft=2048, hop_length=512))
tensor = torch.from_numpy(magnitude).unsqueeze(0).unsqueeze(0)
assert tensor.shape[-1] == 1 + len(audio) // 512
"""


def run(command: list[str], cwd: Path | None = None, env: dict | None = None) -> tuple[float, int]:
    """Wall seconds and peak RSS (bytes) of the command's whole process tree."""
    started = time.perf_counter()
    process = psutil.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, cwd=cwd, env=env)
    peak = wait_measuring(process)
    seconds = time.perf_counter() - started
    if process.returncode not in (0, 1):
        sys.exit(f"{' '.join(map(str, command))} failed ({process.returncode}): {process.stderr.read().decode()[-800:]}")
    return seconds, peak


def release_command(lab: str, home: Path) -> tuple[list[str], Path, dict]:
    """Build the lab's student release, install it in a venv under ``home``; the student's command."""
    from tests.helpers import venv_seeing_this_environment

    out = home / "release"
    subprocess.run([sys.executable, "-m", "grader", "release", lab, "--out", str(out)], cwd=REPO, check=True,
                   stdout=subprocess.DEVNULL)
    venv = venv_seeing_this_environment(home / "venv")
    subprocess.run([str(venv / "bin" / "python"), "-m", "pip", "install", "-q", "--no-deps", "--no-index",
                    "--no-build-isolation", str(out)], check=True, cwd=home)
    reference = next((REPO / "reference" / lab).glob("*.py"))
    shutil.copy(reference, out / "assignments" / lab / reference.name)   # a student whose file is right
    env = {k: v for k, v in os.environ.items() if k not in ("GRADE_COURSE", "PYTHONPATH", "GRADE_STUDENT")}
    return [str(venv / "bin" / "grade"), lab, "--format", "json"], out, env


def summary(name: str, times: list[float], floor: list[float]) -> str:
    best, median = min(times), statistics.median(times)
    return (f"{name:<28} best {best:5.2f} s  median {median:5.2f} s   ratio to the floor: best {best / min(floor):.2f}x"
            f"  median {median / statistics.median(floor):.2f}x")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--lab", default="lab4")
    parser.add_argument("--release", action="store_true", help="also the student release, installed in a venv")
    args = parser.parse_args()
    from grader.grading.fixtures import tone, write

    print(f"load before: {load()}, {os.cpu_count()} CPUs")
    home = Path(tempfile.mkdtemp(prefix="bench-grade-", dir="/var/tmp" if os.path.isdir("/var/tmp") else None))
    try:
        clip = write(home / "clip_30s.wav", tone(440, 44100, 30.0), 44100)
        commands = {"floor": ([sys.executable, "-c", FLOOR, str(clip)], None, None),
                    f"checkout grade {args.lab}": ([sys.executable, "-m", "grader", args.lab, "--reference",
                                                    "--format", "json"], REPO, None)}
        if args.release:
            commands[f"release grade {args.lab}"] = release_command(args.lab, home)
        for command, cwd, env in commands.values():
            run(command, cwd, env)   # warm: page cache, numba's cache, the kept answers
        times = {name: [] for name in commands}
        peaks = {name: 0 for name in commands}
        for _ in range(args.repeat):
            for name, (command, cwd, env) in commands.items():
                seconds, peak = run(command, cwd, env)
                times[name].append(seconds)
                peaks[name] = max(peaks[name], peak)
    finally:
        shutil.rmtree(home, ignore_errors=True)
    floor = times["floor"]
    print(f"floor (python, import torch+librosa, 30 s clip → STFT tensor): best {min(floor):.2f} s  "
          f"median {statistics.median(floor):.2f} s  ({args.repeat} runs each, alternating)")
    for name in list(commands)[1:]:
        print(summary(name, times[name], floor) + f"   peak memory {peaks[name] / 2**20:.0f} MiB")
    print(f"load after: {load()}")


if __name__ == "__main__":
    main()
