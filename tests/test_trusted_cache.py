"""The trusted cache's one-off warm-up (grader/isolation/cache.py): it says what it does and how long it
usually takes, records how long it took, and is not done twice."""

from __future__ import annotations

import json
from pathlib import Path

from grader.isolation import NoIsolation
from grader.isolation.cache import STAMP, WARM_ENVIRONMENT, TrustedCache, WarmUp

WARM = '''
import os
from pathlib import Path


def warm_up():
    Path(os.environ["TOY_CACHE"], "compiled").write_text(os.environ.get("NUMBA_OPT", "default"))
'''


def plan(tmp_path: Path, text: str = WARM) -> WarmUp:
    warm = tmp_path / "warm.py"
    warm.write_text(text)
    return WarmUp(preload=(), files=(warm,), cache_dirs={"TOY_CACHE": "toy"})


def test_the_first_run_says_what_it_prepares_and_how_long_it_took(tmp_path):
    said: list[str] = []
    cache = TrustedCache(tmp_path / "cache", plan(tmp_path))
    with NoIsolation() as launcher:
        master = cache.ensure(launcher, 120, say=said.append)
    assert master is not None and (master / "toy" / "compiled").is_file()
    assert len(said) == 2, said
    assert said[0].startswith("preparing this installation, once: compiling what the labs' libraries cache (toy) "
                              f"into {tmp_path / 'cache'}; this usually takes 15 to 60 s")
    assert said[1].startswith("prepared in ") and said[1].endswith(" s; later runs start at once")
    assert json.loads((master / STAMP).read_text())["seconds"] >= 0
    # the warm-up compiles without LLVM's optimisations (half the time): its environment says so
    assert (master / "toy" / "compiled").read_text() == WARM_ENVIRONMENT["NUMBA_OPT"]
    said.clear()
    with NoIsolation() as launcher:
        assert cache.ensure(launcher, 120, say=said.append) == master
    assert said == [], "a warm cache is not warmed again"


def test_after_an_upgrade_it_says_how_long_it_took_the_last_time(tmp_path):
    with NoIsolation() as launcher:
        TrustedCache(tmp_path / "cache", plan(tmp_path)).ensure(launcher, 120)
        (tmp_path / "v2").mkdir()
        upgraded = TrustedCache(tmp_path / "cache", plan(tmp_path / "v2", WARM + "\n# another version\n"))
        said: list[str] = []
        upgraded.ensure(launcher, 120, say=said.append)
    assert "; it took " in said[0] and said[0].endswith(" s the last time here"), said
