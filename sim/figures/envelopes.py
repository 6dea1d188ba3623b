"""Sweep envelopes: a variable over time, one median line and 10-90% band per parameter value.

One panel per state, titled in the state's own colour (the colour it has in every figure); the
lines and bands take a dark-to-light colour per value (or bin) of the parameter.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from numpy.typing import NDArray

from sim.errors import ResultsError
from sim.figures.groups import Groups, group_values, grouping_note
from sim.figures.labels import BAND_PHRASE, state_name, subject, variable_label
from sim.figures.marks import scenario_states
from sim.figures.panels import BAND
from sim.figures.saving import check_formats, file_stem, save_figure
from sim.figures.style import (
    INK,
    RGBA,
    SUBTITLE_PT,
    WIDTH_IN,
    date_axis,
    draw_head,
    head_height_in,
    sequential,
    small_multiples,
    state_colour,
    subtitle_lines,
    tidy,
    y_grid,
)
from sim.figures.sweep_data import HasPath, SweepData, open_sweep, resolve_parameter

__all__ = ["MAX_PANELS", "MEAN", "envelopes_figure", "plot_envelopes"]

MAX_PANELS = 6
"""Most state panels `plot_envelopes` draws by default."""
MEAN = "mean"
"""Pseudo-state of `plot_envelopes`: the variable averaged over every state."""

PANEL_H_IN = 1.9
ROW_GAP_IN, COLUMN_GAP_IN = 0.45, 0.2
LEFT_IN, RIGHT_IN, LEGEND_IN, BOTTOM_IN = 0.85, 0.25, 0.62, 0.45
COLUMNS = 3


def plot_envelopes(
    folder: str | Path | HasPath | SweepData,
    by: str,
    out: Path | None = None,
    states: Sequence[str] | None = None,
    variable: str = "tilt",
    formats: Sequence[str] = ("png", "svg"),
    title: str | None = None,
) -> list[Path]:
    """Draw a variable over time, one median line and 10-90% band per value of `by`; return files.

    One panel per state. By default the states the scenario's dated events name (at most
    `MAX_PANELS`, in event order), or, if there are none, the variable's mean over all states;
    `states` may name `MEAN` (`"mean"`) for that panel too. Files are
    `envelopes-<by>.*` (tilt) or `envelopes-<variable>-<by>.*`.
    """
    formats = check_formats(formats)
    sweep = open_sweep(folder)
    by = resolve_parameter(sweep, by)
    ts = sweep.timeseries(variable)
    if ts.empty:
        raise ResultsError(f"{sweep.path}: no successful run has a time series of {variable!r}")
    if not ts["value"].notna().any():  # empty cells are values not known (results format)
        raise ResultsError(f"{sweep.path}: no successful run has a known value of {variable!r}")
    chosen = _panel_states(sweep, list(dict.fromkeys(ts["state"])), states)
    ok = sweep.ok.reset_index(drop=True)
    groups = group_values(ok[by], by)
    group_of = pd.Series(groups.codes, index=ok["run"].to_numpy())
    stats = _envelope_stats(ts, group_of, chosen)
    fig = envelopes_figure(sweep, stats, groups, chosen, variable, title)
    stem = (
        file_stem("envelopes", by) if variable == "tilt" else file_stem("envelopes", variable, by)
    )
    return save_figure(fig, Path(out) if out is not None else sweep.path, stem, formats)


def _panel_states(sweep: SweepData, valid: list[str], states: Sequence[str] | None) -> list[str]:
    """The panels asked for (states or `MEAN`), or by default the states the events name."""
    if states is None:
        named = [s for s in scenario_states(sweep.scenario) if s in valid]
        return named[:MAX_PANELS] or [MEAN]
    if isinstance(states, str):
        states = [states]
    unknown = [s for s in states if s not in valid and s != MEAN]
    if unknown or not states:
        raise ResultsError(
            f"unknown state{'s' if len(unknown) > 1 else ''} "
            f"{', '.join(map(repr, unknown))} (valid: {MEAN}, {', '.join(valid)})"
            if unknown
            else f"no states selected (valid: {MEAN}, {', '.join(valid)})"
        )
    return list(dict.fromkeys(states))


def _envelope_stats(ts: pd.DataFrame, group_of: pd.Series[Any], panels: list[str]) -> pd.DataFrame:
    """Per panel, group and step: the band quantiles across runs (columns lo, mid, hi)."""
    frames = []
    for s in panels:
        part: pd.DataFrame
        if s == MEAN:
            part = ts.groupby(["run", "step"])["value"].mean().reset_index()
        else:
            part = ts.loc[ts["state"] == s, ["run", "step", "value"]]
        frames.append(part.assign(panel=s))
    long = pd.concat(frames, ignore_index=True)
    long["group"] = group_of.reindex(long["run"].to_numpy()).to_numpy()
    return (
        long.groupby(["panel", "group", "step"])["value"]
        .quantile(np.array(BAND))
        .unstack()
        .rename(columns=dict(zip(BAND, ("lo", "mid", "hi"), strict=True)))
        .reset_index()
    )


@dataclass(frozen=True)
class _Drawing:
    """What every panel shares: dates of the steps, colours per group, display scale."""

    dates: dict[int, np.datetime64]
    colours: list[RGBA]
    alpha: float
    scale: float


def envelopes_figure(
    sweep: SweepData,
    stats: pd.DataFrame,
    groups: Groups,
    panels: list[str],
    variable: str,
    title: str | None = None,
) -> Figure:
    """The envelopes of `stats` (from `plot_envelopes`), one panel per entry of `panels`."""
    scenario = sweep.scenario
    powers = scenario.rules.alignment.tilt_powers
    ylabel, scale = variable_label(variable, powers)
    calendar = scenario.time.calendar()
    steps = np.sort(stats["step"].unique())
    dates = {int(k): np.datetime64(calendar.label(int(k))[:7], "D") for k in steps}
    # Bands overlap when the parameter matters little: faint fills (fainter the more groups)
    # with their edges drawn keep each one traceable.
    alpha = max(0.05, 0.3 / len(groups.labels))
    drawing = _Drawing(dates, sequential(len(groups.labels)), alpha, scale)
    lines = subtitle_lines(
        f"{ylabel + '. ' if variable == 'tilt' else ''}Lines: median over the runs of each "
        f"group; {BAND_PHRASE}.",
        f"{len(sweep.ok)} runs. {grouping_note([groups], sweep)}",
        note=sweep.note(),
    )
    top_in = head_height_in(lines) + 0.12 + LEGEND_IN
    margins = (LEFT_IN, RIGHT_IN, top_in, BOTTOM_IN)
    gaps = (ROW_GAP_IN, COLUMN_GAP_IN)
    fig, axes = small_multiples(len(panels), COLUMNS, PANEL_H_IN, margins, gaps)
    height = float(fig.get_size_inches()[1])
    what = f"{subject(variable, powers)}, by {groups.parameter}"
    draw_head(fig, height, LEFT_IN, title or f"{scenario.meta.name} sweep: {what}", lines)
    for ax, s in zip(axes.flat, panels, strict=False):  # the grid may have spare cells
        _draw_panel(ax, stats, s, drawing, sweep)
    ylim = _y_extent(stats, panels, scale)
    _shared_axes(axes, len(panels), ylim, variable, (dates[int(steps[0])], dates[int(steps[-1])]))
    for ax in axes[:, 0]:
        ax.set_ylabel(
            f"← {powers[0]} | {powers[1]} →" if variable == "tilt" else variable,
            fontsize=8.5,
            color=INK,
        )
    _legend(fig, groups, drawing.colours, 1 - (top_in - LEGEND_IN - 0.04) / height)
    return fig


def _draw_panel(
    ax: Axes, stats: pd.DataFrame, panel: str, drawing: _Drawing, sweep: SweepData
) -> None:
    """One panel: each group's band, band edges and median."""
    rows = stats.loc[stats["panel"] == panel]
    if panel == MEAN:
        ax.set_title("mean over all states", loc="left", fontsize=9, color=INK, pad=3)
    else:
        name = state_name(sweep.scenario, panel)
        ax.set_title(name, loc="left", fontsize=9, color=state_colour(panel), pad=3)
    for g, colour in enumerate(drawing.colours):
        group = rows.loc[rows["group"] == g].sort_values("step")
        if group.empty:
            continue
        x = np.array([drawing.dates[int(k)] for k in group["step"]])
        lo, mid, hi = (group[c].to_numpy(dtype=float) * drawing.scale for c in ("lo", "mid", "hi"))
        ax.fill_between(x, lo, hi, color=colour, alpha=drawing.alpha, lw=0, zorder=2)
        for edge in (lo, hi):
            ax.plot(x, edge, color=colour, lw=0.6, alpha=0.55, zorder=2.5)
        ax.plot(x, mid, color=colour, lw=1.6, zorder=3 + g * 0.01)
    y_grid(ax, "0.93", 0.6)
    tidy(ax)


def _y_extent(stats: pd.DataFrame, panels: list[str], scale: float) -> tuple[float, float]:
    """The lowest band end and the highest over the panels drawn, as displayed; (0, 0) when
    none has a known value (a state's value may be unknown: NaN bands have no say)."""
    shown = stats.loc[stats["panel"].isin(panels)]
    lo = shown["lo"].to_numpy(dtype=float) * scale
    hi = shown["hi"].to_numpy(dtype=float) * scale
    if not (np.isfinite(lo).any() and np.isfinite(hi).any()):
        return 0.0, 0.0
    return float(np.nanmin(lo)), float(np.nanmax(hi))


def _shared_axes(
    axes: NDArray[Any],
    panels: int,
    ylim: tuple[float, float],
    variable: str,
    xlim: tuple[np.datetime64, np.datetime64],
) -> None:
    """Limits shared by every panel (`ylim` padded), a zero line for tilt on each of the
    `panels` drawn, and the date axis."""
    ymin, ymax = ylim
    if variable == "tilt":
        ymin, ymax = min(ymin, 0.0), max(ymax, 0.0)
        for ax in axes.flat[:panels]:
            ax.axhline(0.0, color="0.45", lw=0.7, zorder=1.5)
    pad = (ymax - ymin) * 0.06 or 0.05
    axes[0, 0].set_ylim(ymin - pad, ymax + pad)
    axes[0, 0].set_xlim(*xlim)
    date_axis(axes[0, 0], maxticks=max(5, 16 // axes.shape[1]))


def _legend(fig: Figure, groups: Groups, colours: list[RGBA], top: float) -> None:
    """One entry per group with its run count, under the title; `top` in figure fractions."""
    handles = [
        Line2D([], [], color=c, lw=2.2, label=f"{lab}  (n={k})")
        for c, lab, k in zip(colours, groups.labels, groups.counts(), strict=True)
    ]
    fig.legend(
        handles=handles,
        loc="upper left",
        bbox_to_anchor=(LEFT_IN / WIDTH_IN - 0.008, top),
        ncol=len(handles),
        fontsize=SUBTITLE_PT,
        frameon=False,
        title=groups.title,
        title_fontsize=SUBTITLE_PT,
        alignment="left",
        handlelength=1.6,
        columnspacing=1.4,
    )
