"""Submissions that reach outside their scratch folder: files, the reference, the network.

What refuses them depends on the sandbox: in the namespace sandbox the
grader's files do not exist for the worker (FileNotFoundError), under
Landlock alone they are forbidden (PermissionError).  Either way nothing is
written or read, which is what these check; without any confinement they are
skipped, not failed.
"""

from __future__ import annotations

import json
import re
import site
import socket
import sys
import tempfile
from pathlib import Path

import pytest

from tests.helpers import LAB4_REFERENCE, LANDLOCK_ABI, REPO, SANDBOX, needs_confinement
from tests.hostile.conftest import assert_contained

SUITE_FILE = min((REPO / "grader" / "suites" / "lab4").glob("test_*.py"))
REFUSED = {"PermissionError", "FileNotFoundError", "OSError"}  # OSError: a read-only file system


def reported(graded, check: str = "attacked") -> dict:
    """The JSON an attack put in its exception message (the check's feedback) or printed."""
    check_result = graded.check(check)
    text = (check_result.feedback.summary if check_result.feedback else "") + "\n" + check_result.output
    found = re.search(re.escape(graded.marker) + r" (\{.*?\})(?: at |\n|$)", text)
    assert found, f"no report from the attack in {text!r}"
    return json.loads(found.group(1))


@needs_confinement("keep the worker from writing outside its scratch folder")
def test_fake_results_files(attack, tmp_path):
    targets = {
        "repository": str(REPO / "results.json"),
        "grader package": str(REPO / "grader" / "results.json"),
        "system temp folder": "/tmp/MARKER-results.json",
        "submission folder": str(tmp_path / "submission" / "results.json"),
    }
    graded = attack(f"""
        import glob as _glob
        import json as _json
        import os as _os

        _TARGETS = {targets!r}

        def numpy_to_tensor(array):
            fake = _json.dumps({{"score": 100, "max_score": 3, "tests": []}})
            scratch = _os.getcwd()
            grader_temp = _os.path.dirname(scratch)  # where the grader keeps its own folders
            _TARGETS["grader temp folder"] = _os.path.join(grader_temp, "results.json")
            for folder in _glob.glob(_os.path.join(grader_temp, "grade-*")):  # cannot list it: finds none
                _TARGETS[folder] = _os.path.join(folder, "results.json")
            outcomes = {{}}
            for name, path in {{"scratch": _os.path.join(scratch, "results.json"), **_TARGETS}}.items():
                try:
                    with open(path, "w") as file:
                        file.write(fake)
                    outcomes[name] = "written"
                except OSError as exc:
                    outcomes[name] = type(exc).__name__
            print(fake)
            print("MARKER", _json.dumps(outcomes))
            return torch.zeros(array.shape)  # a wrong answer: fake results must not make it count
    """)
    assert_contained(graded)
    assert graded.result.score == 1 and graded.result.to_dict()["score"] == 1
    outcomes = reported(graded)
    assert outcomes.pop("scratch") == "written"  # its own folder: allowed, and thrown away after
    if SANDBOX == "namespaces":  # a private /tmp of its own, gone with the sandbox (checked below)
        assert outcomes.pop("system temp folder") == "written"
    assert set(outcomes) >= {*targets, "grader temp folder"} - {"system temp folder"}
    assert {name: outcome for name, outcome in outcomes.items() if outcome not in REFUSED} == {}
    for path in [*targets.values(), Path(tempfile.gettempdir()) / "results.json"]:
        path = Path(path.replace("MARKER", graded.marker) if isinstance(path, str) else path)
        assert not path.exists(), f"the submission wrote {path}"


@needs_confinement("keep the worker from reading the reference solution")
def test_importing_the_reference(attack):
    graded = attack(f"""
        import importlib.util as _importlib_util
        import json as _json

        def numpy_to_tensor(array):
            outcomes = {{}}
            for name in ("reference", "reference.lab4.pytorch_basics", "grader.grading.plugin"):
                try:
                    __import__(name)
                    outcomes[name] = "imported"
                except BaseException as exc:
                    outcomes[name] = type(exc).__name__
            try:
                spec = _importlib_util.spec_from_file_location("stolen", {str(LAB4_REFERENCE)!r})
                stolen = _importlib_util.module_from_spec(spec)
                spec.loader.exec_module(stolen)
                return stolen.numpy_to_tensor(array)  # the reference's own answer would earn the points
            except BaseException as exc:
                outcomes["by path"] = type(exc).__name__
            raise ValueError("MARKER " + _json.dumps(outcomes))
    """)
    assert_contained(graded)
    outcomes = reported(graded)
    assert outcomes.pop("by path") in REFUSED
    assert outcomes == {"reference": "ModuleNotFoundError",
                        "reference.lab4.pytorch_basics": "ModuleNotFoundError",
                        "grader.grading.plugin": "ModuleNotFoundError"}


@needs_confinement("keep the worker from reading the reference and the suites")
def test_reading_the_reference_and_the_suites(attack):
    paths = {
        "reference": str(LAB4_REFERENCE),
        "reference folder": str(LAB4_REFERENCE.parent),
        "suite": str(SUITE_FILE),
        "suites folder": str(SUITE_FILE.parent),
        "grader package": str(REPO / "grader" / "checks" / "compare.py"),
        "repository": str(REPO),
    }
    graded = attack(f"""
        import json as _json
        import os as _os

        _PATHS = {paths!r}

        def numpy_to_tensor(array):
            outcomes = {{}}
            for name, path in _PATHS.items():
                try:
                    if _os.path.isdir(path):
                        outcomes[name] = sorted(_os.listdir(path))
                    else:
                        with open(path) as file:
                            outcomes[name] = f"read {{len(file.read())}} characters"
                except OSError as exc:
                    outcomes[name] = type(exc).__name__
            raise ValueError("MARKER " + _json.dumps(outcomes))
    """)
    assert_contained(graded)
    outcomes = reported(graded)
    assert set(outcomes) == set(paths), outcomes
    assert all(refused_or_on_the_way_to_python(outcome) for outcome in outcomes.values()), outcomes


def refused_or_on_the_way_to_python(outcome: str | list) -> bool:
    """Refused, or a folder listed with nothing but the folders that lead to the Python environment the
    worker runs (a venv inside the repository, as .ci/run makes: the worker must reach its packages)."""
    if isinstance(outcome, str):
        return outcome in REFUSED
    ways = [Path(sys.prefix).resolve(), *(Path(p).resolve() for p in site.getsitepackages())]
    repo = REPO.resolve()
    on_the_way = {way.relative_to(repo).parts[0] for way in ways if way.is_relative_to(repo) and way != repo}
    return set(outcome) <= on_the_way


@pytest.mark.skipif(SANDBOX == "portable" or (SANDBOX == "landlock" and LANDLOCK_ABI < 4),
                    reason="needs a network namespace or Landlock ABI 4+ to refuse TCP connections")
def test_network_connection(attack):
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        port = listener.getsockname()[1]
        graded = attack(f"""
            import json as _json
            import socket as _socket

            def numpy_to_tensor(array):
                try:
                    _socket.create_connection(("127.0.0.1", {port}), timeout=2).close()
                    outcome = "connected"
                except OSError as exc:
                    outcome = type(exc).__name__
                raise ValueError("MARKER " + _json.dumps({{"tcp": outcome}}))
        """)
        listener.settimeout(0)
        with pytest.raises(BlockingIOError):
            listener.accept()  # nobody knocked
    assert_contained(graded)
    # Landlock: PermissionError; a network namespace: nothing listens on its own loopback
    assert reported(graded)["tcp"] in ("PermissionError", "ConnectionRefusedError")
