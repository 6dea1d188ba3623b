"""The alignment figure: one variable per state over time, replicate bands, events in a strip.

Each state is drawn in its own colour (`sim.figures.style.state_colour`) and labelled at the end
of its line. With more than `FEW_STATES` states and none chosen, at most `MAX_HIGHLIGHT` are
drawn in colour (the states the events are about, then the biggest movers) and the others as
thin grey medians for context. Dated events seen in at least half of the replicates sit in a
strip above the chart, each marker in the colour of the state it is about.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from sim.errors import ResultsError
from sim.figures.callouts import draw_strip, end_labels, event_rows, strip_height_in
from sim.figures.labels import median_phrase, subject, variable_label
from sim.figures.marks import Mark, marked_events, scenario_states
from sim.figures.panels import Bands, Panel, check_states, check_variable, open_run, read_panel
from sim.figures.saving import check_formats, save_figure
from sim.figures.style import (
    CONTEXT,
    DPI,
    EVENT_LINE,
    QUIET,
    WIDTH_IN,
    axes_in,
    date_axis,
    draw_subtitle,
    draw_title,
    state_colour,
    tidy,
    y_grid,
)
from sim.results import RunFolder
from sim.scenario import Scenario

__all__ = [
    "FEW_STATES",
    "MAX_HIGHLIGHT",
    "Selection",
    "alignment_figure",
    "choose_states",
    "plot_alignment",
    "select_states",
]

MAX_HIGHLIGHT = 8
"""Most states drawn in colour when a run has more than `FEW_STATES` and none are chosen."""
FEW_STATES = 10
"""Up to this many states, every state is drawn in colour."""

# Margins in inches; the right one holds the state labels at the end of each line.
LEFT_IN, RIGHT_IN, TOP_IN, BOTTOM_IN, NOTE_IN = 0.85, 0.75, 0.55, 0.45, 0.3
MAIN_H_IN = 4.6
AXES_W_IN = WIDTH_IN - LEFT_IN - RIGHT_IN


@dataclass(frozen=True)
class Selection:
    """Which states a figure draws in colour, which in grey, and which have no values."""

    chosen: list[str]
    context: list[str]
    missing: list[str]

    def note(self) -> str:
        """The footnote saying what is grey and what has no values (empty if neither)."""
        notes = []
        if self.context:
            notes.append(
                f"Grey: the other {len(self.context)} states (median). Coloured: states the "
                "events are about, then those that moved most."
            )
        if self.missing:
            notes.append(f"No values for {', '.join(self.missing)}.")
        return " ".join(notes)


def choose_states(panel: Panel, named: Sequence[str], limit: int = MAX_HIGHLIGHT) -> list[str]:
    """States to draw in colour when there are many: those `named` first, then the biggest movers.

    A mover's size is the range (max - min) of its median path. Named states are the ones the
    scenario's events and the marked events are about; if they alone exceed `limit`, the ones
    that move most are kept.
    """
    median = panel.quantile(0.5)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        moved = np.nan_to_num(np.nanmax(median, axis=0) - np.nanmin(median, axis=0), nan=-1.0)
    size = dict(zip(panel.states, moved.tolist(), strict=True))
    first = sorted((s for s in dict.fromkeys(named) if s in size), key=lambda s: -size[s])
    rest = sorted((s for s in panel.states if s not in first), key=lambda s: -size[s])
    chosen = (first + rest)[:limit]
    return [s for s in panel.states if s in chosen]


def select_states(
    panel: Panel, scenario: Scenario, marks: Sequence[Mark], states: Sequence[str] | None
) -> Selection:
    """The states asked for, or by default all of them, or if many the named ones and movers."""
    selected = check_states(states, panel.states)
    has_data = panel.states_with_data()
    chosen, context = selected, []
    if chosen is None:
        if len(has_data) > FEW_STATES:
            named = scenario_states(scenario) + [m.state for m in marks]
            chosen = choose_states(panel, [s for s in named if s in has_data])
            context = [s for s in has_data if s not in chosen]
        else:
            chosen = has_data
    # States whose tie to a power is unknown (null in the scenario) have no values at all.
    missing = [s for s in (selected or panel.states) if s not in has_data]
    return Selection([s for s in chosen if s in has_data], context, missing)


def plot_alignment(
    folder: str | Path | RunFolder,
    out: Path | None = None,
    states: Sequence[str] | None = None,
    variable: str = "tilt",
    formats: Sequence[str] = ("png", "svg"),
    title: str | None = None,
) -> list[Path]:
    """Draw one variable per state over time with replicate bands and dated events; return files.

    With more than `FEW_STATES` states and no `states` given, `choose_states` picks at most
    `MAX_HIGHLIGHT` to draw in colour (the states the events are about, then the biggest
    movers); the others are drawn as thin grey median lines for context.
    """
    formats = check_formats(formats)
    rf = open_run(folder)
    scenario = rf.scenario()
    ts = rf.timeseries()
    check_variable(variable, ts)
    panel = read_panel(ts, variable)
    marks = marked_events(rf.events(), panel.replicates)
    selection = select_states(panel, scenario, marks, states)
    if not selection.chosen:
        raise ResultsError(f"no values of {variable!r} for {', '.join(selection.missing)}")
    marks = [m for m in marks if m.state in selection.chosen]
    fig = alignment_figure(panel, scenario, selection, marks, title)
    stem = "alignment" if variable == "tilt" else variable
    return save_figure(fig, Path(out) if out is not None else rf.path, stem, formats)


def alignment_figure(
    panel: Panel,
    scenario: Scenario,
    selection: Selection,
    marks: Sequence[Mark],
    title: str | None = None,
) -> Figure:
    """The alignment figure of `panel`'s variable (not saved)."""
    ylabel, scale = variable_label(panel.variable, scenario.rules.alignment.tilt_powers)
    bands = panel.bands(scale)
    x0, x1 = panel.dates[0], panel.dates[-1] + np.timedelta64(2, "D")
    # Event strip: each mark gets a row where its text does not run into another's.
    rows = event_rows(marks, x0, x1, AXES_W_IN * 72, RIGHT_IN * 72 * 0.5)
    strip_in = strip_height_in(rows)
    gap_in = 0.08 if marks else 0.0
    note = selection.note()
    bottom_in = BOTTOM_IN + (NOTE_IN if note else 0.0)
    height = TOP_IN + strip_in + gap_in + MAIN_H_IN + bottom_in
    fig = Figure(figsize=(WIDTH_IN, height), dpi=DPI)
    ax = axes_in(fig, LEFT_IN, bottom_in, AXES_W_IN, MAIN_H_IN)
    _draw_lines(ax, panel, bands, selection)
    ylim = _y_limits(bands, selection.chosen + selection.context, panel.variable)
    _style_chart(ax, ylim, ylabel, panel.variable)
    ax.set_xlim(x0, x1)
    for date in sorted({m.date for m in marks}):
        ax.vlines(date, 0, 1, transform=ax.get_xaxis_transform(), **EVENT_LINE, lw=0.7)
    ends = [(s, bands.end(s), state_colour(s)) for s in selection.chosen]
    end_labels(ax, ends, ylim, MAIN_H_IN * 72)
    if marks:
        strip = axes_in(
            fig, LEFT_IN, bottom_in + MAIN_H_IN + gap_in, AXES_W_IN, strip_in, sharex=ax
        )
        draw_strip(strip, marks, rows)
    _draw_text(fig, height, scenario, panel, title, note, bool(marks))
    return fig


def _draw_lines(ax: Axes, panel: Panel, bands: Bands, selection: Selection) -> None:
    """Grey context medians, then each chosen state's band and median in its colour."""
    x = panel.dates
    for s in selection.context:  # first, so coloured lines sit on top
        ax.plot(x, bands.median(s), color=CONTEXT, lw=0.7, zorder=1)
    step_like = panel.variable.startswith(("bloc.", "policy."))
    alpha = 0.18 if len(selection.chosen) <= FEW_STATES else 0.08
    for s in selection.chosen:
        colour = state_colour(s)
        if bands.banded:
            lo, hi = bands.band(s)
            step: Literal["post"] | None = "post" if step_like else None
            ax.fill_between(x, lo, hi, color=colour, alpha=alpha, lw=0, zorder=2, step=step)
        drawstyle = "steps-post" if step_like else "default"
        ax.plot(x, bands.median(s), color=colour, lw=1.8, zorder=3, drawstyle=drawstyle)


def _y_limits(bands: Bands, states: Sequence[str], variable: str) -> tuple[float, float]:
    """The y range: everything drawn, with a margin; tilt always shows 0 and stays in [-1, 1]."""
    ymin, ymax = bands.extent(states)
    tilt = variable == "tilt"
    if tilt:
        ymin, ymax = min(ymin, 0.0), max(ymax, 0.0)
    span = ymax - ymin
    # A flat series (a policy never switched) still needs a visible range around it.
    pad = span * 0.06 if span > 1e-12 else max(abs(ymax) * 0.1, 0.5)
    if not tilt:
        return ymin - pad, ymax + pad
    pad = max(pad, 0.02)
    return max(ymin - pad, -1.02), min(ymax + pad, 1.02)


def _style_chart(
    ax: Axes,
    ylim: tuple[float, float],
    ylabel: str,
    variable: str,
) -> None:
    if variable == "tilt":
        ax.axhline(0.0, color="0.35", lw=0.9, zorder=1.5)
    ax.set_ylim(*ylim)
    ax.set_ylabel(ylabel, fontsize=10)
    date_axis(ax)
    y_grid(ax, "0.92", 0.8)
    tidy(ax, labelsize=9)


def _draw_text(
    fig: Figure,
    height: float,
    scenario: Scenario,
    panel: Panel,
    title: str | None,
    note: str,
    marked: bool,
) -> None:
    """Title, subtitle and the footnote."""
    what = subject(panel.variable, scenario.rules.alignment.tilt_powers)
    draw_title(fig, LEFT_IN, 0.16, height, title or f"{scenario.meta.name}: {what}")
    sub = f"Lines: {median_phrase(panel.replicates)}."
    if marked:
        sub += " Top: events in at least half of the replicates."
    draw_subtitle(fig, LEFT_IN, 0.38, height, sub)
    if note:
        fig.text(LEFT_IN / WIDTH_IN, 0.12 / height, note, fontsize=7.5, color=QUIET, va="bottom")
