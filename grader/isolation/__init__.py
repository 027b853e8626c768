"""Isolation: how a worker is started, confined and ended (standard library, numpy, torch only).

- :mod:`~grader.isolation.spec`: what a worker is asked to be, and what it sees;
- :mod:`~grader.isolation.system`: what this system offers (tools, Linux calls, Landlock, rlimits, ...);
- :mod:`~grader.isolation.launchers`: launcher objects (the base, Landlock only) that own their workers;
- :mod:`~grader.isolation.namespaces`: the bubblewrap / ``unshare`` sandbox;
- :mod:`~grader.isolation.portable`: a plain process with what each system offers (Linux, macOS, Windows);
- :mod:`~grader.isolation.winjob`: Windows Job Objects (imported on Windows only);
- :mod:`~grader.isolation.choice`: :func:`choose_launcher` picks the strongest that works here;
- :mod:`~grader.isolation.template`: namespace-sandboxed workers forked from a warm template;
- :mod:`~grader.isolation.cache`: the trusted, read-only compiled-code cache;
- :mod:`~grader.isolation.processes`: finding and killing exactly one worker's processes;
- :mod:`~grader.isolation.doctor`: ``grade doctor``, what is in effect here;
- ``inside/``: everything that runs in the sandbox with the student's code (the worker, the
  template, Landlock, the wire codec, the probes), staged as one folder and loaded by path.
"""

from grader.isolation.choice import choose_launcher
from grader.isolation.launchers import IsolationError, LandlockLauncher, Launcher, WorkerHandle
from grader.isolation.namespaces import NamespaceLauncher
from grader.isolation.portable import NoIsolation, PortableLauncher
from grader.isolation.spec import WorkerSpec
from grader.isolation.system import System
from grader.isolation.template import TemplateLauncher

__all__ = ["IsolationError", "LandlockLauncher", "Launcher", "NamespaceLauncher", "NoIsolation", "PortableLauncher",
           "System", "TemplateLauncher", "WorkerHandle", "WorkerSpec", "choose_launcher"]
