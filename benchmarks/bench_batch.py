"""Benchmark: ``grade batch lab4 --jobs 2`` against N sequential ``grade lab4 --submission`` calls.

The class is generated: variants of the reference (comments, blank lines,
renamed helpers: different files, the same grade) and broken versions (one
function wrong, the kind of bug the suite exists to catch). Both ways are
timed in the same run (the batch ``--repeat`` times, a share of the sequential
calls after each), their per-check results compared, and the peak resident
memory of each whole process tree (controller, graders, workers) sampled every
20 ms; the machine's load is printed before and after.

    python benchmarks/bench_batch.py [--n 40] [--jobs 2] [--repeat 3] [--sequential N]

``--sequential N`` times only the first N sequential calls (the ratio then
uses their mean per submission, and says so); the default times all of them.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psutil

sys.path.insert(0, str(Path(__file__).resolve().parent))
from process_tree import load, wait_measuring  # noqa: E402

REPO = Path(__file__).resolve().parent.parent
REFERENCE = (REPO / "reference" / "lab4" / "pytorch_basics.py").read_text()
BUGS = [
    "\ndef to_unet_input(x):\n    import torch\n    t = torch.as_tensor(x)\n    return t.unsqueeze(1).unsqueeze(1)\n",
    "\ndef numpy_to_tensor(array):\n    import torch\n    return torch.tensor(array, dtype=torch.float32)\n",
    "\ndef to_numpy(tensor):\n    return tensor.numpy()\n",
    "\ndef mse_gradient(prediction, target):\n    raise NotImplementedError\n",
]


def variant(index: int) -> str:
    """Every third submission has a bug; the others are reshuffled copies of the reference."""
    if index % 3 == 2:
        return REFERENCE + f"\n# student {index}\n" + BUGS[(index // 3) % len(BUGS)]
    return f"# submission {index}\n" + REFERENCE.replace("\n\n\n", "\n\n\n" + "\n" * (index % 2)) + f"\n_unused_{index} = {index}\n"


def measured(command: list[str]) -> tuple[float, int, subprocess.CompletedProcess]:
    """Wall seconds and peak RSS (bytes) of the command's process tree, and its output.

    The output goes to files, not pipes: a JSON report larger than a pipe holds would
    block the command while we only poll its memory."""
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        started = time.perf_counter()
        process = psutil.Popen(command, cwd=REPO, stdout=out, stderr=err, text=True)
        peak = wait_measuring(process)
        seconds = time.perf_counter() - started
        out.seek(0), err.seek(0)
        return seconds, peak, subprocess.CompletedProcess(command, process.returncode, out.read(), err.read())


def outcome(checks: list[dict]) -> list[tuple]:
    return [(c["name"], c["status"], c["score"]) for c in checks]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=40, help="submissions (default 40: a section)")
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--sequential", type=int, help="time only this many sequential calls")
    parser.add_argument("--repeat", type=int, default=3, help="batch runs, with a share of the sequential ones "
                                                              "between them (default 3)")
    args = parser.parse_args()
    sys.path.insert(0, str(REPO))
    from grader.instructor.gradebook import Gradebook

    print(f"load before: {load()}")

    with tempfile.TemporaryDirectory(prefix="bench-batch-") as folder:
        subs = Path(folder) / "subs"
        for i in range(args.n):
            (subs / f"s{i:03d}").mkdir(parents=True)
            (subs / f"s{i:03d}" / "pytorch_basics.py").write_text(variant(i))
        count = args.sequential or args.n
        students = [f"s{i:03d}" for i in range(count)]
        chunks = [students[r::args.repeat] for r in range(args.repeat)]   # sequential runs between the batches
        batches, batch_peak, sequential, seq_peak, alone, in_batch = [], 0, [], 0, {}, {}
        for repeat, chunk in enumerate(chunks):
            out = Path(folder) / f"out{repeat}"
            seconds, peak, run = measured([sys.executable, "-m", "grader", "batch", "lab4", str(subs), "--out",
                                           str(out), "--jobs", str(args.jobs), "--quiet"])
            if run.returncode != 0:
                sys.exit(f"batch failed: {run.stderr[-2000:]}")
            batches.append(seconds)
            batch_peak = max(batch_peak, peak)
            with Gradebook(out / "grades.db") as book:
                in_batch = {r.student: outcome(book.checks(r.student, "lab4")) for r in book.submissions("lab4")}
            for student in chunk:
                seconds, peak, run = measured([sys.executable, "-m", "grader", "lab4", "--submission",
                                               str(subs / student), "--format", "json"])
                sequential.append(seconds)
                seq_peak = max(seq_peak, peak)
                alone[student] = outcome(json.loads(run.stdout)["extra_data"]["checks"])
    same = sum(in_batch.get(k) == v for k, v in alone.items())
    per_seq = sum(sequential) / count
    best, median = min(batches), statistics.median(batches)
    print(f"lab4, {args.n} submissions ({sum(i % 3 == 2 for i in range(args.n))} with a bug), --jobs {args.jobs}, "
          f"{psutil.cpu_count()} CPUs")
    print(f"batch ({args.repeat} runs):  best {best:6.1f} s  median {median:6.1f} s  "
          f"({median / args.n:.2f} s/submission)   peak {batch_peak / 2**20:6.0f} MiB")
    label = "sequential" if count == args.n else f"sequential (first {count}, scaled to {args.n})"
    print(f"{label}: {per_seq * args.n:7.1f} s   {per_seq:5.2f} s/submission "
          f"(median {statistics.median(sequential):.2f})   peak {seq_peak / 2**20:6.0f} MiB")
    print(f"ratio batch/sequential: best {best / (per_seq * args.n):.2f}  median {median / (per_seq * args.n):.2f}")
    print(f"same per-check results: {same}/{len(alone)}")
    print(f"load after: {load()}")


if __name__ == "__main__":
    main()
