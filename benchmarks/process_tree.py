"""Timing a command together with its whole process tree, for the benchmarks."""

from __future__ import annotations

import time

import psutil


def wait_measuring(process: psutil.Popen) -> int:
    """Wait for ``process``; return the peak RSS (bytes) of it and all its descendants.

    Workers and grader processes are children of the command, so the
    command's own RSS alone would miss most of the memory a run takes.
    """
    peak = 0
    while process.poll() is None:
        try:
            tree = [process, *process.children(recursive=True)]
            peak = max(peak, sum(p.memory_info().rss for p in tree if p.is_running()))
        except psutil.Error:
            pass
        time.sleep(0.02)
    return peak


def load() -> str:
    """The machine's load average (1, 5, 15 minutes), as /proc/loadavg says it."""
    try:
        with open("/proc/loadavg") as handle:
            return " ".join(handle.read().split()[:3])
    except OSError:
        return "unknown"
