"""An outcome against one swept parameter: a probability or a mean per value, with intervals.

Probabilities (0/1 outcomes) carry a Wilson 95% interval and the count of runs behind each;
means carry a Student-t 95% interval over a scatter of the single runs.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
from matplotlib.axes import Axes
from matplotlib.colors import to_rgba
from matplotlib.figure import Figure
from matplotlib.ticker import PercentFormatter
from numpy.typing import NDArray

from sim.figures.groups import Groups, Stat, group_stats, group_values, grouping_note
from sim.figures.outcome_kinds import is_binary, is_tilt, outcome_label
from sim.figures.saving import check_formats, file_stem, save_figure
from sim.figures.style import (
    DPI,
    QUIET,
    WIDTH_IN,
    axes_in,
    draw_head,
    head_height_in,
    subtitle_lines,
    tidy,
    y_grid,
)
from sim.figures.sweep_data import (
    HasPath,
    OutcomeData,
    SweepData,
    open_sweep,
    outcome_data,
    resolve_parameter,
)

__all__ = ["MAX_TICKS", "outcome_figure", "plot_outcome"]

MAX_TICKS = 12
"""Most parameter values labelled one by one on an x axis."""

LEFT_IN, RIGHT_IN, BOTTOM_IN, MAIN_H_IN = 0.95, 0.35, 0.7, 4.0
ESTIMATE = "tab:blue"


def plot_outcome(
    folder: str | Path | HasPath | SweepData,
    outcome: str,
    x: str,
    out: Path | None = None,
    formats: Sequence[str] = ("png", "svg"),
    title: str | None = None,
) -> list[Path]:
    """Draw an outcome's probability (0/1 outcomes) or mean against one parameter; return files.

    Probabilities carry a Wilson 95% interval and the count of runs behind each; means carry a
    Student-t 95% interval over a scatter of the single runs. Files are `outcome-<outcome>-<x>.*`.
    """
    formats = check_formats(formats)
    sweep = open_sweep(folder)
    x = resolve_parameter(sweep, x)
    data = outcome_data(sweep, outcome)
    groups = group_values(data.rows[x], x, max_exact=data.max_exact)
    fig = outcome_figure(data, groups, title)
    stem = file_stem("outcome", data.outcome, x)
    return save_figure(fig, Path(out) if out is not None else sweep.path, stem, formats)


def _subtitle(data: OutcomeData, groups: Groups, binary: bool) -> list[tuple[str, str]]:
    what = "probability" if binary else "mean"
    interval = "Wilson 95% interval" if binary else "95% interval of the mean"
    sub = f"Points: {what} over the {data.nouns} of each group; bars: {interval}"
    if not binary:
        sub += f"; grey dots: single {data.nouns}"
    sub += "; pale bars: the range of each bin." if groups.binned else "."
    runs = f"{len(data.rows)} {data.nouns}. {grouping_note([groups], data.sweep)}"
    if data.level_note:
        runs += f" {data.level_note}"
    return subtitle_lines(sub, runs, note=data.note())


def outcome_figure(data: OutcomeData, groups: Groups, title: str | None = None) -> Figure:
    """The outcome of `data` against the parameter `groups` groups it by (not saved)."""
    binary = is_binary(data.outcome, data.values)
    stats = group_stats(data.values, groups, binary)
    pos = np.array(groups.positions if groups.numeric else range(len(groups.labels)), dtype=float)
    lines = _subtitle(data, groups, binary)
    top_in = head_height_in(lines) + 0.15
    height = top_in + MAIN_H_IN + BOTTOM_IN
    fig = Figure(figsize=(WIDTH_IN, height), dpi=DPI)
    ax = axes_in(fig, LEFT_IN, BOTTOM_IN, WIDTH_IN - LEFT_IN - RIGHT_IN, MAIN_H_IN)
    name = data.sweep.scenario.meta.name
    head = title or f"{name} sweep: {data.outcome} against {groups.parameter}"
    draw_head(fig, height, LEFT_IN, head, lines)
    if not binary:
        _scatter_runs(ax, data, groups, pos)
    _draw_estimates(ax, stats, groups, pos)
    if binary:
        _probability_axis(ax, stats, pos)
    elif is_tilt(data.outcome):
        ax.axhline(0.0, color="0.45", lw=0.7, zorder=0.5)
    if not groups.numeric or len(pos) <= MAX_TICKS:
        ax.set_xticks(pos, groups.labels)
    ax.set_xlabel(groups.title, fontsize=9)
    powers = data.sweep.scenario.rules.alignment.tilt_powers
    ax.set_ylabel(outcome_label(data.outcome, powers), fontsize=9)
    y_grid(ax, "0.92", 0.7)
    tidy(ax)
    return fig


def _scatter_runs(ax: Axes, data: OutcomeData, groups: Groups, pos: NDArray[np.float64]) -> None:
    """Single runs (or design points) at their own parameter value; a grid's are spread a
    little sideways."""
    if groups.numeric:
        xs = data.rows[groups.parameter].astype(float).to_numpy()
    else:
        xs = pos[groups.codes]
    if not groups.binned:
        span = (pos.max() - pos.min()) if len(pos) > 1 else 1.0
        gap = float(np.min(np.diff(np.sort(pos)))) if len(pos) > 1 else span
        rng = np.random.default_rng(0)  # fixed: the same data give the same picture
        xs = pos[groups.codes] + rng.uniform(-0.12, 0.12, len(xs)) * min(gap, span)
    ys = data.values.to_numpy(dtype=float)
    ax.scatter(xs, ys, s=7, color="0.6", alpha=0.45, lw=0, zorder=1)


def _draw_estimates(
    ax: Axes, stats: Sequence[Stat], groups: Groups, pos: NDArray[np.float64]
) -> None:
    """The estimates joined by a faint line, their intervals, and each bin's range."""
    colour = to_rgba(ESTIMATE)
    centre = np.array([s.centre for s in stats])
    lo = np.array([s.lo for s in stats])
    hi = np.array([s.hi for s in stats])
    ax.plot(pos, centre, color=colour, lw=1.2, alpha=0.6, zorder=2)
    # Clipped: at p = 0 or 1 the Wilson end equals the estimate up to rounding.
    err = np.clip(np.vstack([centre - lo, hi - centre]), 0.0, None)
    if groups.binned:
        spans = np.array(groups.spans)
        ax.hlines(centre, spans[:, 0], spans[:, 1], color=colour, lw=4, alpha=0.25, zorder=2)
    ax.errorbar(
        pos,
        centre,
        yerr=np.nan_to_num(err),
        fmt="o",
        color=colour,
        ms=6,
        capsize=3,
        lw=1.4,
        zorder=3,
    )


def _probability_axis(ax: Axes, stats: Sequence[Stat], pos: NDArray[np.float64]) -> None:
    """A 0-100% axis, with successes/runs written above each interval."""
    ax.set_ylim(-0.04, 1.12)
    ax.yaxis.set_major_formatter(PercentFormatter(1.0))
    for s, at in zip(stats, pos, strict=True):
        ax.annotate(
            f"{s.successes:.0f}/{s.n}",
            (float(at), min(s.hi, 1.0)),
            xytext=(0, 5),
            textcoords="offset points",
            ha="center",
            va="bottom",
            fontsize=7.5,
            color=QUIET,
        )
