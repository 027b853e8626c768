"""The class report's plots, drawn with matplotlib as inline SVG (crisp, small, no file beside the page).

No pyplot: each plot is its own ``Figure`` (no global state); text is drawn
as paths (no font needed where the page is opened) and the SVG's ids are
salted with a fixed string, so the same gradebook gives the same page.
"""

from __future__ import annotations

import io
from typing import Sequence

import matplotlib
from matplotlib.figure import Figure

from grader.instructor.gradebook.class_report import CheckRow, FunctionRow

BLUE, GREEN, YELLOW, RED, GREY = "#4477aa", "#228833", "#ccbb44", "#ee6677", "#bbbbbb"
LABEL = 60   # characters of a check's title on an axis


def svg(figure: Figure) -> str:
    """The figure as an ``<svg>`` element (no XML prolog: it sits inside HTML)."""
    buffer = io.StringIO()
    with matplotlib.rc_context({"svg.hashsalt": "grade", "svg.fonttype": "path"}):
        figure.savefig(buffer, format="svg", metadata={"Date": None, "Creator": None})
    text = buffer.getvalue()
    return text[text.index("<svg"):]


def _figure(width: float, height: float) -> Figure:
    return Figure(figsize=(width, height), dpi=100, layout="constrained")


def histogram(bins: Sequence[tuple[str, int]]) -> str:
    figure = _figure(7, 2.8)
    axes = figure.add_subplot()
    labels, counts = [label for label, _ in bins], [count for _, count in bins]
    bars = axes.bar(labels, counts, color=BLUE)
    axes.bar_label(bars, labels=[str(c) if c else "" for c in counts], fontsize=8)
    axes.set_xlabel("score (% of the maximum)")
    axes.set_ylabel("students")
    axes.tick_params(axis="x", labelsize=8, labelrotation=30)
    axes.yaxis.get_major_locator().set_params(integer=True)
    axes.spines[["top", "right"]].set_visible(False)
    return svg(figure)


def functions(rows: Sequence[FunctionRow]) -> str:
    """Per function, in the lab's order (top to bottom): students fully right, partly, none, not started."""
    figure = _figure(7, max(1.6, 0.32 * len(rows) + 0.9))
    axes = figure.add_subplot()
    shown = list(reversed(rows))   # barh draws bottom-up: the lab's first function on top
    names = [row.name for row in shown]
    left = [0] * len(shown)
    for label, colour, values in (("fully right", GREEN, [r.right for r in shown]),
                                  ("partly", YELLOW, [r.partly for r in shown]),
                                  ("no check passes", RED, [r.wrong for r in shown]),
                                  ("not started", GREY, [r.not_started for r in shown])):
        axes.barh(names, values, left=left, color=colour, label=label)
        left = [a + b for a, b in zip(left, values)]
    axes.set_xlabel("students")
    axes.xaxis.get_major_locator().set_params(integer=True)
    axes.tick_params(axis="y", labelsize=8)
    axes.legend(loc="lower center", bbox_to_anchor=(0.5, 1.0), ncols=4, fontsize=8, frameon=False)
    axes.spines[["top", "right"]].set_visible(False)
    return svg(figure)


def pass_rates(rows: Sequence[CheckRow]) -> str:
    """Each check that ran, hardest on top, labelled by its title: the share of students passing it."""
    figure = _figure(7, max(1.6, 0.2 * len(rows) + 0.8))
    axes = figure.add_subplot()
    shown = list(reversed(rows))
    titles = [row.title if len(row.title) <= LABEL else row.title[:LABEL - 1] + "…" for row in shown]
    positions = range(len(shown))
    axes.barh(positions, [100 * row.rate for row in shown], color=[_rate_colour(r.rate) for r in shown])
    axes.set_yticks(positions, titles, fontsize=6.5)
    axes.set_xlim(0, 100)
    axes.set_xlabel("% of the students it ran for who pass it")
    axes.spines[["top", "right"]].set_visible(False)
    return svg(figure)


def _rate_colour(rate: float) -> str:
    return RED if rate < 0.5 else YELLOW if rate < 0.8 else GREEN
