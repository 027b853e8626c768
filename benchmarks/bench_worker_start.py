"""Benchmark: a Lab 4 worker's launch-to-ready time, fresh sandbox against a fork of the warm template.

"Ready" is the worker's hello: sandboxed, preloads imported, warm-ups run,
rlimits set, about to import the submission.  The template's own start is
timed once, apart.  Each way is repeated and the median printed.

    python benchmarks/bench_worker_start.py [--repeat 7] [--lab lab4]
"""

from __future__ import annotations

import argparse
import os
import socket
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def ready_seconds(launcher, spec, repeat: int) -> list[float]:
    from grader.isolation.inside import wire

    times = []
    for _ in range(repeat):
        ours, theirs = socket.socketpair()
        with open(os.devnull, "wb") as output:
            started = time.perf_counter()
            handle = launcher.launch(spec, theirs.fileno(), output.fileno())
            theirs.close()
            wire.recv_frame(ours, 1 << 20, time.monotonic() + 300)
            times.append(time.perf_counter() - started)
        handle.kill()
        ours.close()
    return times


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--lab", default="lab4")
    args = parser.parse_args()
    sys.path.insert(0, str(REPO))
    from grader.course.folder import find
    from grader.isolation import NamespaceLauncher, TemplateLauncher, WorkerSpec
    from grader.grading.run import trusted_cache

    course = find(None)
    lab = course.lab(args.lab)
    source = (lab.reference_file).read_text()
    for name, make in (("fresh sandbox", lambda: NamespaceLauncher(tool="bwrap")), ("from template", TemplateLauncher)):
        with make() as launcher, tempfile.TemporaryDirectory(dir=launcher.run_folder()) as folder:
            scratch = Path(folder) / "submission"
            scratch.mkdir()
            (scratch / lab.filename).write_text(source)
            spec = WorkerSpec(scratch, lab.module, preload=list(lab.preload), probes=list(lab.probes),
                              warm_up=list(lab.warm_up), environment=dict(lab.environment),
                              cache_dirs=dict(lab.cache), cache=trusted_cache(course).ensure(launcher))
            if isinstance(launcher, TemplateLauncher):
                if not launcher.template_available():
                    print(f"{name}: not available here ({launcher.template_unavailable_reason()})")
                    continue
                started = time.perf_counter()
                launcher.template_for(spec)
                print(f"template start (once per grader process and lab): {time.perf_counter() - started:.2f} s")
            times = ready_seconds(launcher, spec, args.repeat)
            print(f"{name}: launch-to-ready median {statistics.median(times):.2f} s "
                  f"({', '.join(f'{t:.2f}' for t in times)})")
    print(f"load average: {' '.join(f'{x:.1f}' for x in os.getloadavg())}, {os.cpu_count()} CPUs")


if __name__ == "__main__":
    main()
