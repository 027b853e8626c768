"""Benchmark: a ``grade lab4 --watch`` regrade after a save, against a cold ``grade lab4``.

The student's file is the reference solution; each save changes one function
(a harmless line in ``to_unet_input``, added and removed in turn).  A regrade
is timed from the save to the end of the report that follows it (the watch
prints ``Ctrl-C stops`` last); a cold grade is ``grade lab4 --submission FILE``
in a fresh process, start to exit.  Measured in the same run, alternately.

    python benchmarks/bench_watch.py [--repeat 5] [--lab lab4]
"""

from __future__ import annotations

import argparse
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(Path(__file__).resolve().parent))
from process_tree import load  # noqa: E402

DONE = "Ctrl-C stops"


def wait_for(output: Path, count: int, seconds: float = 300) -> float:
    """Wait until the watch has printed its ``count``-th report; the time it was seen."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if output.read_text(errors="replace").count(DONE) >= count:
            return time.perf_counter()
        time.sleep(0.01)
    sys.exit(f"the watch printed no report {count} in {seconds} s:\n{output.read_text()[-2000:]}")


def cold(submission: Path, lab: str) -> float:
    started = time.perf_counter()
    subprocess.run([sys.executable, "-m", "grader", lab, "--submission", str(submission), "--format", "json"],
                   cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--lab", default="lab4")
    args = parser.parse_args()
    print(f"load before: {load()}, {os.cpu_count()} CPUs")
    reference = next((REPO / "reference" / args.lab).glob("*.py"))
    source = reference.read_text()
    marker = "def to_unet_input(" if args.lab == "lab4" else "\ndef "
    at = source.index("\n", source.index(marker)) + 1
    changed = source[:at] + "    _unused = 0   # a save\n" + source[at:]
    with tempfile.TemporaryDirectory(prefix="bench-watch-") as folder:
        submission, output = Path(folder) / reference.name, Path(folder) / "watch.txt"
        submission.write_text(source)
        cold(submission, args.lab)   # warm: page cache, numba's cache, the kept answers
        env = {**os.environ, "NO_COLOR": "1", "COLUMNS": "200"}
        with output.open("w") as out:
            watching = subprocess.Popen([sys.executable, "-m", "grader", args.lab, "--watch", "--submission",
                                         str(submission)], cwd=REPO, env=env, stdout=out, stderr=subprocess.STDOUT)
        try:
            wait_for(output, 1)
            regrades, colds = [], []
            for index in range(args.repeat):
                time.sleep(0.5)
                saved = time.perf_counter()
                submission.write_text(changed if index % 2 == 0 else source)
                regrades.append(wait_for(output, index + 2) - saved)
                colds.append(cold(submission, args.lab))
        finally:
            watching.send_signal(signal.SIGINT)
            watching.wait(60)
    best, median = min(regrades), statistics.median(regrades)
    print(f"watch regrade after a save: best {best:.2f} s  median {median:.2f} s  ({', '.join(f'{t:.2f}' for t in regrades)})")
    print(f"cold grade {args.lab}:            best {min(colds):.2f} s  median {statistics.median(colds):.2f} s")
    print(f"ratio regrade/cold: best {best / min(colds):.2f}  median {median / statistics.median(colds):.2f}")
    print(f"load after: {load()}")


if __name__ == "__main__":
    main()
