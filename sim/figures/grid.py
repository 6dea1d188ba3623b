"""The small-multiples figure: one panel per state, sharing axes, over the others in grey.

Each panel shows the state's median and 10-90% band in the state's own colour (the colour it
has in every figure) over every other state's median in light grey, and marks the state's own
dated events; a legend explains the marker shapes.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from numpy.typing import NDArray

from sim.errors import ResultsError
from sim.figures.labels import median_phrase, state_name, subject, variable_label
from sim.figures.marks import MARK_STYLES, MARKED_KINDS, Mark, marked_events
from sim.figures.panels import Bands, Panel, check_states, check_variable, open_run, read_panel
from sim.figures.saving import check_formats, save_figure
from sim.figures.style import (
    EVENT_LINE,
    INK,
    WIDTH_IN,
    date_axis,
    draw_subtitle,
    draw_title,
    small_multiples,
    state_colour,
    tidy,
    y_grid,
)
from sim.results import RunFolder
from sim.scenario import Scenario
from sim.vocabulary import LogKind

__all__ = ["grid_figure", "plot_alignment_grid"]

PANEL_H_IN = 1.25
ROW_GAP_IN = 0.38
COLUMN_GAP_IN = 0.18
LEFT_IN, RIGHT_IN, TOP_IN = 0.85, 0.25, 0.75
OTHERS = "0.88"
"""The other states' medians behind each panel's state."""
TITLE_PT = 8.5


def plot_alignment_grid(
    folder: str | Path | RunFolder,
    out: Path | None = None,
    states: Sequence[str] | None = None,
    variable: str = "tilt",
    formats: Sequence[str] = ("png", "svg"),
    title: str | None = None,
    columns: int = 4,
) -> list[Path]:
    """Draw one small panel per state (all by default), sharing axes; return the files written.

    Each panel shows the state's median and 10-90% band over every other state's median in
    light grey, and marks the state's own dated events (a legend explains the marker shapes).
    Files are `alignment_grid.*` for tilt, `<variable>_grid.*` otherwise.
    """
    formats = check_formats(formats)
    if columns < 1:
        raise ResultsError(f"columns must be at least 1 (got {columns})")
    rf = open_run(folder)
    scenario = rf.scenario()
    ts = rf.timeseries()
    check_variable(variable, ts)
    panel = read_panel(ts, variable)
    has_data = panel.states_with_data()
    chosen = check_states(states, panel.states) or panel.states
    chosen = [s for s in chosen if s in has_data]
    if not chosen:
        raise ResultsError(f"no values of {variable!r} for the states selected")
    marks = [m for m in marked_events(rf.events(), panel.replicates) if m.state in chosen]
    fig = grid_figure(panel, scenario, chosen, has_data, marks, title, columns)
    stem = ("alignment" if variable == "tilt" else variable) + "_grid"
    return save_figure(fig, Path(out) if out is not None else rf.path, stem, formats)


def grid_figure(
    panel: Panel,
    scenario: Scenario,
    chosen: Sequence[str],
    context: Sequence[str],
    marks: Sequence[Mark],
    title: str | None = None,
    columns: int = 4,
) -> Figure:
    """The small multiples of `chosen` states over the `context` states' medians (not saved)."""
    powers = scenario.rules.alignment.tilt_powers
    ylabel, scale = variable_label(panel.variable, powers)
    bands = panel.bands(scale)
    margins = (LEFT_IN, RIGHT_IN, TOP_IN, 0.75 if marks else 0.45)
    fig, axes = small_multiples(
        len(chosen), columns, PANEL_H_IN, margins, (ROW_GAP_IN, COLUMN_GAP_IN)
    )
    for ax, state in zip(axes.flat, chosen, strict=False):
        _draw_state(ax, panel.dates, bands, state, context, panel.variable)
        colour = state_colour(state)
        ax.set_title(
            state_name(scenario, state), loc="left", fontsize=TITLE_PT, color=colour, pad=3
        )
        _mark_events(ax, [m for m in marks if m.state == state])
    _shared_axes(axes, panel, bands, context, marks)
    if panel.variable == "tilt":
        # The full direction label is too long for a small panel; the subtitle gives it whole.
        for ax in axes[:, 0]:
            ax.set_ylabel(f"← {powers[0]} | {powers[1]} →", fontsize=8, color=INK)
    height = float(fig.get_size_inches()[1])
    what = subject(panel.variable, powers)
    draw_title(fig, LEFT_IN, 0.14, height, title or f"{scenario.meta.name}: {what}")
    lead = f"{ylabel}. " if panel.variable == "tilt" else ""
    sub = f"{lead}Coloured: the state's {median_phrase(panel.replicates)}. "
    draw_subtitle(fig, LEFT_IN, 0.36, height, sub + "Grey: the other states' medians.")
    _legend(fig, [k for k in MARKED_KINDS if any(m.kind == k for m in marks)])
    return fig


def _draw_state(
    ax: Axes,
    x: NDArray[np.datetime64],
    bands: Bands,
    state: str,
    context: Sequence[str],
    variable: str,
) -> None:
    """One panel: the other states' medians in grey, the state's band and median in colour."""
    for other in context:
        if other != state:
            ax.plot(x, bands.median(other), color=OTHERS, lw=0.5, zorder=1)
    if variable == "tilt":
        ax.axhline(0.0, color="0.45", lw=0.7, zorder=1.5)
    colour = state_colour(state)
    if bands.banded:
        lo, hi = bands.band(state)
        ax.fill_between(x, lo, hi, color=colour, alpha=0.25, lw=0, zorder=2)
    ax.plot(x, bands.median(state), color=colour, lw=1.5, zorder=3)
    y_grid(ax, "0.93", 0.6)
    tidy(ax, labelsize=7.5)


def _mark_events(ax: Axes, marks: Sequence[Mark]) -> None:
    """The state's events: a dotted line and a marker in the room kept above the data."""
    stacked: Counter[np.datetime64] = Counter()
    for m in marks:
        level = stacked[m.date]  # same-date events stack downwards
        stacked[m.date] += 1
        ax.vlines(m.date, 0, 1, transform=ax.get_xaxis_transform(), **EVENT_LINE, lw=0.6)
        ax.plot(
            [m.date],
            [0.93 - 0.12 * level],
            marker=m.style.marker,
            color="0.2",
            ms=4.5,
            mec="white",
            mew=0.4,
            transform=ax.get_xaxis_transform(),
            zorder=4,
            clip_on=False,
        )


def _shared_axes(
    axes: NDArray[Any],
    panel: Panel,
    bands: Bands,
    context: Sequence[str],
    marks: Sequence[Mark],
) -> None:
    """Limits (with room above the data for stacked event markers) and the date axis."""
    ymin, ymax = bands.extent(context)
    if panel.variable == "tilt":
        ymin, ymax = min(ymin, 0.0), max(ymax, 0.0)
    pad = (ymax - ymin) * 0.08 or 0.05
    depth = max(Counter((m.state, m.date) for m in marks).values(), default=0)
    top_room = (0.06 + 0.14 * depth) * (ymax - ymin + 2 * pad)
    first = axes[0, 0]
    first.set_ylim(ymin - pad, ymax + pad + top_room)
    first.set_xlim(panel.dates[0], panel.dates[-1])
    date_axis(first, maxticks=max(5, 16 // axes.shape[1]))


def _legend(fig: Figure, kinds: Sequence[LogKind]) -> None:
    """What each marker shape means, for the kinds the figure shows (none: no legend)."""
    if not kinds:
        return
    handles = [
        Line2D([], [], ls="none", marker=style.marker, color="0.2", ms=5, label=style.legend)
        for style in (MARK_STYLES[k] for k in kinds)
    ]
    fig.legend(
        handles=handles,
        loc="lower left",
        bbox_to_anchor=(LEFT_IN / WIDTH_IN, 0.0),
        ncol=len(handles),
        fontsize=8,
        frameon=False,
        title="Events in at least half of the replicates:",
        title_fontsize=8,
        alignment="left",
    )
