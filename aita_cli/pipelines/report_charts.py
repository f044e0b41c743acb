"""The reports' charts, drawn by matplotlib (Agg, no display) as SVG to inline in a page.

Inline SVG needs no file beside the page and no network, scales on any screen, and
carries its text as text (the charts' titles say what they show for screen readers).
"""

from __future__ import annotations

import io
from collections.abc import Sequence

import matplotlib

matplotlib.use("Agg")  # before pyplot: no display, ever

import matplotlib.pyplot as plt
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

__all__ = ["percent_histogram", "question_bars"]

_BAR = "#3b6ea5"
_FLAGGED = "#c0392b"
_SO_FAR = "#b8bfcc"
# Figures are drawn with a fixed hash salt so the same data gives the same SVG bytes.
plt.rcParams["svg.hashsalt"] = "aita"
plt.rcParams["svg.fonttype"] = "none"  # text stays text: selectable, and read aloud


def percent_histogram(complete: Sequence[float], so_far: Sequence[float] = ()) -> str:
    """A histogram of the students' percents in 10-point bins, as inline SVG: complete
    students in colour, incomplete ones (their total so far, not final) stacked in grey."""
    figure, axes = plt.subplots(figsize=(6.4, 2.8))
    bins = list(range(0, 101, 10))
    series = [[min(max(value, 0.0), 100.0) for value in values] for values in (complete, so_far)]
    axes.hist(series, bins=bins, stacked=True, color=[_BAR, _SO_FAR], edgecolor="white",
              label=["complete", "incomplete (so far)"])  # fmt: skip
    axes.set_xlim(0, 100)
    axes.set_xticks(bins)
    axes.set_xlabel("percent")
    axes.set_ylabel("students")
    axes.yaxis.set_major_locator(MaxNLocator(integer=True))
    if so_far:
        axes.legend(loc="upper left", frameon=False, fontsize=8)
    axes.set_title("Score distribution")
    return _svg(figure)


def question_bars(labels: Sequence[str], shares: Sequence[float | None]) -> str:
    """Each question's mean score as a share of its points, as inline SVG; a question
    with no grade yet has no bar."""
    figure, axes = plt.subplots(figsize=(6.4, 2.8))
    values = [100.0 * share if share is not None else 0.0 for share in shares]
    colours = [_FLAGGED if value < 50 else _BAR for value in values]
    bars = axes.bar([f"Q{label}" for label in labels], values, color=colours)
    # A 0% bar is invisible and a question nobody has a grade for has none: say which.
    texts = [
        f"{value:.0f}" if share is not None else "n/a"
        for value, share in zip(values, shares, strict=True)
    ]
    axes.bar_label(bars, labels=texts, fontsize=7, padding=2)
    axes.set_ylim(0, 110)
    axes.set_ylabel("mean % of points")
    axes.set_title("Mean score per question (red: under half)")
    axes.tick_params(axis="x", labelrotation=45 if len(labels) > 12 else 0)
    return _svg(figure)


def _svg(figure: Figure) -> str:
    figure.tight_layout()
    buffer = io.StringIO()
    figure.savefig(buffer, format="svg", metadata={"Date": None})
    plt.close(figure)
    text = buffer.getvalue()
    # Inline SVG needs no XML prolog or DOCTYPE; everything from <svg on is kept.
    return text[text.index("<svg") :] if "<svg" in text else text
