"""Words placed beside a figure's data: labels at the end of lines and the dated-event strip.

Both are laid out in points before anything is drawn, so labels never overlap: end labels are
spread apart vertically, and each event's text takes the first strip row where it fits.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from matplotlib.axes import Axes
from matplotlib.lines import Line2D
from matplotlib.transforms import blended_transform_factory

from sim.figures.marks import Mark
from sim.figures.style import INK, state_colour, text_width_pt

__all__ = [
    "EVENT_PT",
    "LABEL_PT",
    "ROW_PT",
    "draw_strip",
    "end_labels",
    "event_rows",
    "spread",
    "strip_height_in",
]

LABEL_PT = 9.0
"""Font size of the labels at the end of lines."""
EVENT_PT = 7.5
"""Font size of the event texts."""
ROW_PT = 12.0
"""Height of one row of the event strip."""
TEXT_OFFSET_PT = 6.0
"""Gap between an event's marker and its text."""

EndLabel = tuple[str, float, str]
"""A line's label, its last value and its colour."""
Row = tuple[int, bool]
"""An event's strip row and whether its text sits left of the marker."""


def spread(want: Sequence[float], gap: float, lo: float, hi: float) -> list[float]:
    """Positions as close as possible to `want` (sorted) with at least `gap` between neighbours."""
    # Overlapping labels merge into clusters centred on their mean wish, which keeps each label
    # near its line; the result is then pushed inside [lo, hi].
    clusters: list[list[float]] = [[w] for w in want]

    def bottom(c: list[float]) -> float:
        return sum(c) / len(c) - gap * (len(c) - 1) / 2

    merged = True
    while merged:
        merged = False
        for i in range(len(clusters) - 1):
            a, b = clusters[i], clusters[i + 1]
            if bottom(a) + gap * len(a) > bottom(b):
                clusters[i : i + 2] = [a + b]
                merged = True
                break
    pos = [bottom(c) + gap * j for c in clusters for j in range(len(c))]
    for i in range(len(pos)):
        pos[i] = max(pos[i], lo if i == 0 else pos[i - 1] + gap)
    for i in reversed(range(len(pos))):
        pos[i] = min(pos[i], hi if i == len(pos) - 1 else pos[i + 1] - gap)
    return pos


def end_labels(
    ax: Axes, items: Sequence[EndLabel], ylim: tuple[float, float], height_pt: float
) -> None:
    """Label each line at its right end, spread so that no two labels overlap.

    `height_pt` is the height of the axes in points.
    """
    shown = sorted((it for it in items if np.isfinite(it[1])), key=lambda it: it[1])
    if not shown:
        return
    span = ylim[1] - ylim[0]
    want = [(y - ylim[0]) / span * height_pt for _, y, _ in shown]
    got = spread(want, LABEL_PT * 1.25, LABEL_PT * 0.6, height_pt - LABEL_PT * 0.6)
    tr = blended_transform_factory(ax.transAxes, ax.transData)
    for (code, y, colour), p in zip(shown, got, strict=True):
        y_label = ylim[0] + p / height_pt * span
        ax.add_line(
            Line2D(
                [1.0, 1.012, 1.025],
                [y, y_label, y_label],
                transform=tr,
                color=colour,
                lw=0.8,
                clip_on=False,
            )
        )
        ax.text(
            1.03,
            y_label,
            code,
            transform=tr,
            color=colour,
            fontsize=LABEL_PT,
            fontweight="bold",
            va="center",
            ha="left",
            clip_on=False,
        )


def event_rows(
    marks: Sequence[Mark],
    x0: np.datetime64,
    x1: np.datetime64,
    width_pt: float,
    overhang_pt: float,
) -> list[Row]:
    """Row of each mark in the strip (the first where its text fits) and whether the text flips.

    Greedy by date; a text that would run more than `overhang_pt` past the right edge of the
    `width_pt` wide strip goes to the left of its marker instead.
    """
    span = float((x1 - x0) / np.timedelta64(1, "D"))
    widths = text_width_pt([m.label for m in marks], EVENT_PT)
    ends: list[float] = []
    placed: list[Row] = []
    for m, wt in zip(marks, widths, strict=True):
        at = float((m.date - x0) / np.timedelta64(1, "D")) / span * width_pt
        left, right = at - 5, at + TEXT_OFFSET_PT + wt
        flip = right > width_pt + overhang_pt
        if flip:
            left, right = at - TEXT_OFFSET_PT - wt, at + 5
        row = next((r for r, end in enumerate(ends) if left > end + 4), len(ends))
        if row == len(ends):
            ends.append(right)
        ends[row] = right
        placed.append((row, flip))
    return placed


def strip_height_in(rows: Sequence[Row]) -> float:
    """Height of an event strip with these rows (0 without events)."""
    if not rows:
        return 0.0
    return ((max(r for r, _ in rows) + 1) * ROW_PT + 8) / 72


def draw_strip(strip: Axes, marks: Sequence[Mark], rows: Sequence[Row]) -> None:
    """The events above a chart: a marker in the state's colour and its text, one per row."""
    n_rows = max(r for r, _ in rows) + 1
    strip.set_ylim(n_rows - 0.4, -0.7)  # row 0 at the top, next to the title
    strip.set_yticks([])
    strip.tick_params(axis="x", which="both", bottom=False, labelbottom=False)
    for side in ("top", "right", "left"):
        strip.spines[side].set_visible(False)
    strip.spines["bottom"].set_color("0.8")
    for m, (r, flip) in zip(marks, rows, strict=True):
        strip.plot([m.date, m.date], [r, n_rows - 0.4], color="0.78", lw=0.6, zorder=1)
        strip.plot(
            [m.date],
            [r],
            marker=m.style.marker,
            color=state_colour(m.state),
            ms=5.5,
            mec="white",
            mew=0.5,
            zorder=3,
            clip_on=False,
        )
        strip.annotate(
            m.label,
            (m.date, r),
            xytext=(-TEXT_OFFSET_PT if flip else TEXT_OFFSET_PT, 0),
            textcoords="offset points",
            fontsize=EVENT_PT,
            color=INK,
            va="center",
            ha="right" if flip else "left",
            annotation_clip=False,
        )
