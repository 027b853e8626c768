"""Benchmark: `grade lab4 --reference` against the floor of its own work.

The floor is what any Lab 4 grading must at least do: start Python, import
torch and librosa, load a 30 s clip and take its STFT magnitude as a tensor.
Both are measured in the same run, alternately, and reported as a ratio;
peak memory is the largest resident set of the whole process tree (grader
and worker) sampled every 20 ms.

    python benchmarks/bench_grade.py [--repeat 3] [--lab lab4]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psutil

sys.path.insert(0, str(Path(__file__).resolve().parent))
from process_tree import wait_measuring  # noqa: E402

FLOOR = """
import sys, torch, librosa, numpy as np
audio, sr = librosa.load(sys.argv[1], sr=22050)
magnitude = np.abs(librosa.stft(audio, n_fft=2048, hop_length=512))
tensor = torch.from_numpy(magnitude).unsqueeze(0).unsqueeze(0)
assert tensor.shape[-1] == 1 + len(audio) // 512
"""


def run(command: list[str]) -> tuple[float, int]:
    """Wall seconds and peak RSS (bytes) of the command's whole process tree."""
    started = time.perf_counter()
    peak = wait_measuring(psutil.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
    return time.perf_counter() - started, peak


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--lab", default="lab4")
    args = parser.parse_args()
    from grader.grading.fixtures import tone, write

    with tempfile.TemporaryDirectory() as folder:
        clip = write(Path(folder) / "clip_30s.wav", tone(440, 44100, 30.0), 44100)
        floor_cmd = [sys.executable, "-c", FLOOR, str(clip)]
        grade_cmd = [sys.executable, "-m", "grader", args.lab, "--reference", "--format", "json"]
        run(floor_cmd), run(grade_cmd)  # warm the page cache and numba's cache
        floors, grades, peaks = [], [], []
        for _ in range(args.repeat):
            floors.append(run(floor_cmd)[0])
            seconds, peak = run(grade_cmd)
            grades.append(seconds)
            peaks.append(peak)
    floor, graded = statistics.median(floors), statistics.median(grades)
    print(f"floor (import torch+librosa, 30 s clip → tensor): {floor:.2f} s (median of {args.repeat})")
    print(f"grade {args.lab} --reference:                      {graded:.2f} s")
    print(f"ratio grade/floor:                               {graded / floor:.2f}x")
    print(f"peak memory, grader + worker:                    {max(peaks) / 2**20:.0f} MiB")


if __name__ == "__main__":
    main()
