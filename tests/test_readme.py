"""README.md's sample report is the real output of a real run (scripts/readme_report.py)."""

from __future__ import annotations

import importlib.util

from tests.helpers import REPO


def load_script():
    spec = importlib.util.spec_from_file_location("readme_report", REPO / "scripts" / "readme_report.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_readme_shows_what_grading_the_sample_prints():
    script = load_script()
    shown = script.readme_block((REPO / "README.md").read_text(encoding="utf-8"))
    assert script.comparable(shown) == script.comparable(script.sample_report()), \
        "README.md is out of date: run `python scripts/readme_report.py --write`"


def test_comparing_ignores_only_the_time_and_the_machines_sandbox():
    script = load_script()
    a = "Score 1/2\n⚠ a weaker sandbox than usual\ngraded in 3.1 s · your code ran in a partial sandbox\n"
    b = "Score 1/2\ngraded in 12.0 s · your code ran in a sandbox: it could not see your other files\n"
    assert script.comparable(a) == script.comparable(b)
    assert script.comparable(a) != script.comparable(a.replace("1/2", "2/2"))


def test_the_set_up_block_installs_the_cpu_torch_before_grade():
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    block = readme[readme.index("## Set up and test"):readme.index("## Students")]
    commands = [line for line in block.splitlines() if line.startswith(("pip ", "python "))]
    assert commands[0].startswith("pip install torch") and "cpu" in commands[0]
    assert commands[1:] == ['pip install -e ".[test]"', 'python -m pytest -m "not slow"', "python -m pytest -m slow"]
    assert "CUDA" in block  # and says why


def test_the_set_up_block_starts_in_a_fresh_venv_and_ci_runs_it_there():
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    block = readme[readme.index("## Set up and test"):readme.index("## Students")]
    typed = [line for line in block.splitlines() if line and not line.startswith(("#", "`"))]
    assert typed[1].startswith("python3 -m venv ") and ". .venv/bin/activate" in typed[1]
    ci = (REPO / ".ci" / "run").read_text()
    assert ci.index('python3 -m venv "$venv"') < ci.index("pip install --quiet torch") < ci.index("python -m pytest")
    assert ci.index('python -m pytest -m "not slow"') < ci.index("python -m pytest -m slow")   # both tiers, fast first
    assert '. "$venv/bin/activate"' in ci and "/tmp" not in ci.split("venv=", 1)[1].splitlines()[0]
