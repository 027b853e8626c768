"""Isolation: how a worker is started, confined and ended (standard library, numpy, torch only).

- :mod:`~grader.isolation.spec`: what a worker is asked to be, and what it sees;
- :mod:`~grader.isolation.launchers`: launcher objects (namespaces, Landlock only,
  none) that own their workers; :func:`choose_launcher` picks the strongest;
- :mod:`~grader.isolation.namespaces`: the bubblewrap / ``unshare`` sandbox;
- :mod:`~grader.isolation.template`: namespace-sandboxed workers forked from a warm template;
- :mod:`~grader.isolation.cache`: the trusted, read-only compiled-code cache;
- :mod:`~grader.isolation.processes`: finding and killing exactly one worker's processes;
- ``worker.py``, ``landlock.py`` and ``zygote.py`` (the template): run inside the sandbox, loaded by path.
"""

from grader.isolation.launchers import (IsolationError, LandlockLauncher, Launcher, NoIsolation, WorkerHandle,
                                        choose_launcher)
from grader.isolation.namespaces import NamespaceLauncher
from grader.isolation.spec import WorkerSpec
from grader.isolation.template import TemplateLauncher

__all__ = ["IsolationError", "LandlockLauncher", "Launcher", "NamespaceLauncher", "NoIsolation",
           "TemplateLauncher", "WorkerHandle", "WorkerSpec", "choose_launcher"]
