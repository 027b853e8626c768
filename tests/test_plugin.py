"""The plugin on current pytest: plain fixtures, and grader deprecations are errors while grading."""

from __future__ import annotations

import warnings

import pytest

import grader.grading.run
from grader.grading.plugin import GradingPlugin
from grader.grading.run import grade


def test_fixtures_are_plain_module_level_fixtures_not_instance_methods():
    on_the_class = [name for name in vars(GradingPlugin) if name in ("submission", "reference", "clips")]
    assert on_the_class == []
    for name in ("submission", "reference", "clips"):
        assert "FixtureFunctionDefinition" in type(getattr(grader.grading.plugin, name)).__name__


def test_grading_warns_nothing_about_pytest_and_fails_grader_deprecations(monkeypatch, warm_launcher):
    seen: list[bool] = []

    class Watching(GradingPlugin):
        def pytest_runtest_call(self):
            seen.append(any(action == "error" and category is DeprecationWarning and module is not None
                            and module.match("grader.checks.compare") for action, _, category, module, _ in warnings.filters))

    monkeypatch.setattr(grader.grading.run, "GradingPlugin", Watching)   # the class a run makes its plugin from
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        before = warnings.filters[:]
        result = grade("lab4", reference=True, keyword="to_numpy_detaches", launcher=warm_launcher)
        assert warnings.filters == before, "the filter is the grading run's only"
    assert result.all_passed and seen == [True]
    from_pytest = [w for w in caught if issubclass(w.category, pytest.PytestWarning)]
    assert from_pytest == []
