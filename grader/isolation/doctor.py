"""``grade doctor``: what grading on this machine would run under, checked for real.

It starts one worker (no submission, nothing imported) to see the sandbox
work, and prints the isolation in effect, the limits, what a worker can see,
the device and the state of the trusted cache.  It changes nothing.
"""

from __future__ import annotations

import platform
import tempfile
from pathlib import Path

from grader.isolation.cache import TrustedCache, WarmUp, hello_without_submission
from grader.isolation.choice import MAKERS, choose_launcher
from grader.isolation.inside import wire
from grader.isolation.launchers import KINDS, IsolationError, Launcher
from grader.isolation.namespaces import bwrap_filesystem, mounts
from grader.isolation.portable import PortableLauncher
from grader.isolation.spec import WorkerSpec
from grader.isolation.system import System
from grader.isolation.template import TemplateLauncher


def doctor(warm_up: WarmUp = WarmUp(), system: System | None = None) -> int:
    """Print the report; exit status 0 (a weaker sandbox is a warning, not an error).
    ``warm_up``: what the course's labs compile once (their trusted cache); ``system``: this one."""
    system = system or System.detect()
    try:
        launcher = choose_launcher(system=system)
    except IsolationError as exc:
        print(f"sandbox:  {exc}")
        return 0
    with launcher, tempfile.TemporaryDirectory(prefix="grade-doctor-") as folder:
        spec = WorkerSpec(Path(folder), "nothing", preload=[], warm_up_only=True)
        (Path(folder) / "nothing.py").write_text("")
        for line in report(launcher, spec, warm_up):
            print(line)
    return 0


def report(launcher: Launcher, spec: WorkerSpec, warm_up: WarmUp = WarmUp()) -> list[str]:
    system = launcher.system
    lines = [f"system:   {describe_system(system)}",
             f"sandbox:  {launcher.describe()}", f"          {started(launcher, spec)}"]
    if launcher.kind != "namespaces":
        lines.append(f"          warning: {weaker(system)}")
    lines.append(f"          kinds here: {others(system)}; choose with GRADE_SANDBOX={'|'.join(KINDS)}")
    lines.append(f"batch:    {template_line(system)}")
    abi = system.landlock_abi
    lines.append(f"Landlock: {f'ABI {abi}, applied inside the worker' if abi else f'not available on {system.name}'}")
    lines.append(f"limits:   {limits(spec, launcher)}")
    view = launcher.view(spec)
    if getattr(launcher, "tool", None) == "bwrap":
        lines.append(f"sees:     {', '.join(mounts(bwrap_filesystem(spec, launcher.stage(spec))))}; nothing else")
    if launcher.kind == "portable":
        lines.append("reads:    anything the grader's user may read (no sandbox)")
        lines.append("writes:   anything the grader's user may write (no sandbox); it starts in a private folder")
    else:
        lines.append(f"reads:    {', '.join(view.read)}{' (Landlock)' if view.landlock else ''}")
        lines.append(f"writes:   {', '.join(view.write)} (all private to one worker, removed when it ends)")
    lines.append(f"device:   {device()}")
    lines.append(f"cache:    {TrustedCache.default(warm_up).describe()}")
    return lines


def run_without_submission(launcher: Launcher, spec: WorkerSpec, timeout: float) -> str:
    """Start a worker that imports and warms up only, and return the confinement it reports in its
    hello.  RuntimeError when it does not say hello in time, or says something unreadable."""
    try:
        hello = wire.decode(wire.loads(hello_without_submission(launcher, spec, timeout)))
    except wire.WireError as exc:
        raise RuntimeError(f"the worker's hello cannot be read ({exc})") from None
    return str(hello.get("value", {}).get("sandbox", "unknown"))


def describe_system(system: System) -> str:
    """What this system offers grading, in one line."""
    tools = ", ".join(f"{name} {path}" for name, path in sorted(system.tools.items())) or "none found"
    calls = ", ".join(sorted(system.linux_calls)) or "none"
    return (f"{system.name} ({platform.platform(terse=True)}, Python {platform.python_version()}); tools: {tools}; "
            f"Linux calls: {calls}; rlimits: {'yes' if system.rlimits else 'no'}; "
            f"job objects: {'yes' if system.job_objects else 'no'}")


def weaker(system: System) -> str:
    if system.linux:
        return "weaker than a namespace sandbox (install bubblewrap: apt-get install bubblewrap)"
    return (f"{system.name} has no sandbox grade can use: fine for your own code; grade other people's "
            "code on Linux, with bubblewrap")


def started(launcher: Launcher, spec: WorkerSpec) -> str:
    """Start a worker that imports nothing, and say what it reported about itself."""
    try:
        return f"checked: a worker started here and reported: {run_without_submission(launcher, spec, 30)}"
    except (OSError, RuntimeError) as exc:
        return f"PROBLEM: a worker could not start: {exc}"


def others(system: System | None = None) -> str:
    system = system or System.detect()
    found = []
    for make in MAKERS.values():
        candidate = make(system=system)
        found.append(f"{candidate.kind} ({'yes' if candidate.available() else candidate.unavailable_reason()})")
    return ", ".join(found)


def template_line(system: System | None = None) -> str:
    """Whether batch graders fork workers from a warm template here, or start each one fresh."""
    with TemplateLauncher(system=system or System.detect()) as launcher:
        if launcher.template_available():
            return ("workers fork from a warm template (imports paid once per grader process), each in "
                    "namespaces of its own")
        return f"each worker starts fresh (no warm template here: {launcher.template_unavailable_reason()})"


def limits(spec: WorkerSpec, launcher: Launcher) -> str:
    def mib(n: int | None) -> str:
        return "unlimited" if not n else f"{n / 2**20:.0f} MiB"

    if isinstance(launcher, PortableLauncher):
        return (f"memory {mib(spec.memory_bytes)}, each file {mib(spec.file_bytes)}, {spec.max_processes} tasks, "
                "where this system enforces them (the sandbox line says which do)")
    return (f"memory {mib(spec.memory_bytes)} (RLIMIT_DATA), each file {mib(spec.file_bytes)} (RLIMIT_FSIZE), "
            f"{spec.max_processes} tasks, scratch {mib(spec.scratch_bytes)}, /tmp {mib(spec.tmp_bytes)}, "
            f"/dev/shm {mib(spec.shm_bytes)} (tmpfs, namespaces only)")


def device() -> str:
    import torch

    if torch.cuda.is_available():
        return f"CUDA: {torch.cuda.get_device_name(0)} (torch {torch.__version__}, CUDA {torch.version.cuda})"
    mps = getattr(torch.backends, "mps", None)
    if mps is not None and mps.is_available():
        return f"MPS (Apple GPU; torch {torch.__version__})"
    return f"CPU only (torch {torch.__version__}; no CUDA, no MPS): checks that need CUDA are skipped"
