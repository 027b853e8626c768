"""Submissions that leave something for the next one: caches, /dev/shm, home, /tmp.

The worst hole once: every worker could write numba's shared cache, which
the next worker read before its confinement, so a submission that rewrote the
cache index ran its code, unconfined, in every later run.  Now the cache is
filled by a trusted warm-up, read-only to workers, and each worker writes a
private copy that is thrown away; every writable place is private.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from grader.course.folder import find
from grader.grading.run import trusted_cache
from tests.helpers import needs_confinement
from tests.hostile.conftest import assert_contained
from tests.hostile.test_confinement import reported

PLANT = """
    import glob as _glob
    import json as _json
    import os as _os

    _reference_numpy_to_tensor = numpy_to_tensor
    _PLACES = {{"numba cache": _os.environ.get("NUMBA_CACHE_DIR", "~"),
               "matplotlib cache": _os.environ.get("MPLCONFIGDIR", "~"),
               "shared memory": "/dev/shm", "home": "~", "temp": "/tmp", "trusted cache": {master!r}}}

    def _plant(folder):
        try:
            with open(_os.path.join(_os.path.expanduser(folder), "MARKER-planted"), "w") as file:
                file.write("x" * 1_000_000)
            return "written"
        except OSError as exc:
            return type(exc).__name__

    def _poison_numba_index():
        poisoned = 0
        for index in _glob.glob(_os.path.join(_PLACES["numba cache"], "**", "*.nbi"), recursive=True):
            try:
                with open(index, "ab") as file:
                    file.write(b"MARKER-poisoned")
                poisoned += 1
            except OSError:
                pass
        return poisoned

    def numpy_to_tensor(array):
        outcomes = {{name: _plant(folder) for name, folder in _PLACES.items()}}
        outcomes["numba indexes poisoned"] = _poison_numba_index()
        print("MARKER", _json.dumps(outcomes))
        return _reference_numpy_to_tensor(array)
"""

LOOK = """
    import glob as _glob
    import json as _json
    import os as _os

    _reference_numpy_to_tensor = numpy_to_tensor

    def numpy_to_tensor(array):
        seen = {}
        for folder in (_os.environ.get("NUMBA_CACHE_DIR", "~"), _os.environ.get("MPLCONFIGDIR", "~"),
                       "/dev/shm", "~", "/tmp"):
            folder = _os.path.expanduser(folder)
            seen[folder] = sorted(_os.path.basename(p) for p in _glob.glob(_os.path.join(folder, "*-planted")))
        indexes = _glob.glob(_os.path.join(_os.environ.get("NUMBA_CACHE_DIR", "~"), "**", "*.nbi"), recursive=True)
        seen["poisoned indexes"] = [p for p in indexes if b"-poisoned" in open(p, "rb").read()]
        seen["indexes"] = len(indexes)
        print("MARKER", _json.dumps(seen))
        return _reference_numpy_to_tensor(array)
"""


def tree_digest(folder: Path) -> str:
    digest = hashlib.sha256()
    for path in sorted(folder.rglob("*")):
        digest.update(str(path.relative_to(folder)).encode())
        if path.is_file():
            digest.update(path.read_bytes())
    return digest.hexdigest()


@needs_confinement("keep what one submission writes from the next")
def test_nothing_written_reaches_the_next_submission(attack, hostile_course):
    master = trusted_cache(find(hostile_course)).master
    planted = attack(PLANT.format(master=str(master)))  # the first run warms the cache if needed
    assert master.is_dir(), "the trusted cache was not published"
    before = tree_digest(master)
    assert_contained(planted, attacked="passed")
    outcomes = reported(planted)
    assert outcomes["trusted cache"] != "written"
    # its private cache copy is writable (numba needs that), so the poison did land there
    assert outcomes["numba cache"] == "written" and outcomes["numba indexes poisoned"] > 0

    looked = attack(LOOK)
    assert_contained(looked, attacked="passed")
    seen = reported(looked)
    assert seen.pop("poisoned indexes") == []
    assert seen.pop("indexes") > 0, "the worker got no numba cache: it would compile on every run"
    assert all(found == [] for found in seen.values()), seen
    assert tree_digest(master) == before, "the trusted cache changed"
    for folder in ("/dev/shm", "/tmp"):
        assert not list(Path(folder).glob(f"{planted.marker}-planted")), f"a planted file is left in {folder}"
    assert json.loads((master / "stamp.json").read_text())["versions"]
