"""The bloc timeline: one bar per (bloc, state) ever in the bloc, grouped by bloc.

Each bar is a small stacked area: the dark part's height is the share of replicates in which
the state is a member at that date, the light part above it the share in which it is a
partner; an empty bar means no replicate has it in the bloc. Bars take their bloc's colour.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.patches import Patch
from numpy.typing import NDArray

from sim.calendar import UNIT_MONTHS
from sim.errors import FigureNotApplicable
from sim.figures.labels import state_name
from sim.figures.panels import FloatArray, Panel, check_states, open_run, ordered, read_panel
from sim.figures.saving import check_formats, save_figure
from sim.figures.style import (
    BLOC_COLOURS,
    DPI,
    WIDTH_IN,
    axes_in,
    date_axis,
    draw_subtitle,
    draw_title,
    text_width_pt,
    tint,
)
from sim.results import RunFolder
from sim.scenario import Scenario

__all__ = ["BlocRow", "blocs_figure", "plot_blocs"]

ROW_IN = 0.24
"""Height of one bar's row."""
BAR = 0.72
"""Height of a bar, in rows."""
RIGHT_IN, TOP_IN, BOTTOM_IN = 0.3, 0.85, 0.75
NONE = "0.95"
"""The empty part of a bar."""
PARTNER_TINT = 0.6
"""How much lighter a partner's bar is than a member's."""


@dataclass(frozen=True)
class BlocRow:
    """One bar: a state's share of replicates as member and as partner of a bloc, per step."""

    bloc: str
    state: str
    member: FloatArray
    partner: FloatArray


def plot_blocs(
    folder: str | Path | RunFolder,
    out: Path | None = None,
    states: Sequence[str] | None = None,
    formats: Sequence[str] = ("png", "svg"),
    title: str | None = None,
) -> list[Path]:
    """Draw a bloc-membership timeline, one bar per (bloc, state) ever in the bloc; return files.

    Each bar is a small stacked area: the dark part's height is the share of replicates in which
    the state is a member at that date, the light part above it the share in which it is a
    partner; an empty bar means no replicate has it in the bloc.
    """
    formats = check_formats(formats)
    rf = open_run(folder)
    scenario = rf.scenario()
    ts = rf.timeseries()
    blocs = [v.partition(".")[2] for v in ordered(ts["variable"]) if v.startswith("bloc.")]
    if not blocs:
        raise FigureNotApplicable("the scenario has no blocs")
    panels = {b: read_panel(ts, f"bloc.{b}") for b in blocs}
    first = panels[blocs[0]]
    chosen = check_states(states, first.states) or first.states
    rows = [row for b in blocs for row in bloc_rows(b, panels[b], chosen)]
    if not rows:
        which = "" if states is None else f" for {', '.join(chosen)}"
        raise FigureNotApplicable(f"no bloc memberships or partnerships{which} in any replicate")
    fig = blocs_figure(first.dates, rows, blocs, scenario, first.replicates, title)
    return save_figure(fig, Path(out) if out is not None else rf.path, "blocs", formats)


def bloc_rows(bloc: str, panel: Panel, states: Sequence[str]) -> list[BlocRow]:
    """Bars of the `states` ever in `bloc`: those in it at the start first, then by joining date."""
    found = []
    for s in states:
        v = panel.values[..., panel.states.index(s)]
        member = (v == 2).mean(axis=0)
        partner = (v == 1).mean(axis=0)
        ever = member + partner
        if not (ever > 0).any():
            continue
        key = (-ever[0], int(np.argmax(ever > 0)), -float(ever.mean()), s)
        found.append((key, BlocRow(bloc, s, member, partner)))
    return [row for _, row in sorted(found, key=lambda kv: kv[0])]


@dataclass(frozen=True)
class _Layout:
    """Where rows go, top-down in row units: a header line before each bloc's group."""

    header_y: dict[str, float]
    row_y: list[float]
    units: float

    @classmethod
    def of(cls, rows: Sequence[BlocRow]) -> _Layout:
        y = 0.0
        header_y: dict[str, float] = {}
        row_y: list[float] = []
        for i, row in enumerate(rows):
            if i == 0 or rows[i - 1].bloc != row.bloc:
                y += 0.4 if i else 0.0
                header_y[row.bloc] = y
                y += 1.0
            row_y.append(y)
            y += 1.0
        return cls(header_y, row_y, y)


def blocs_figure(
    dates: NDArray[np.datetime64],
    rows: Sequence[BlocRow],
    blocs: Sequence[str],
    scenario: Scenario,
    replicates: int,
    title: str | None = None,
) -> Figure:
    """The bloc timeline of `rows` (not saved)."""
    # Each step's value holds until the next step; the last one for one more period.
    last = dates[-1].astype("datetime64[M]") + np.timedelta64(UNIT_MONTHS[scenario.time.unit], "M")
    edges = np.append(dates, last.astype("datetime64[D]"))
    colour = {b: BLOC_COLOURS[i % len(BLOC_COLOURS)] for i, b in enumerate(blocs)}
    layout = _Layout.of(rows)
    labels = [state_name(scenario, r.state) for r in rows]
    # The left margin fits the longest state label; bloc headers may run over the bars' start.
    left_in = 0.2 + max(text_width_pt(labels, 8.0)) / 72
    main_h = layout.units * ROW_IN
    height = TOP_IN + main_h + BOTTOM_IN
    fig = Figure(figsize=(WIDTH_IN, height), dpi=DPI)
    ax = axes_in(fig, left_in, BOTTOM_IN, WIDTH_IN - left_in - RIGHT_IN, main_h)
    for row, y in zip(rows, layout.row_y, strict=True):
        _draw_bar(ax, row, y, edges, colour[row.bloc])
    ax.set_ylim(layout.units - 0.3, -0.5)
    ax.set_xlim(edges[0], edges[-1])
    ax.set_yticks(layout.row_y, labels, fontsize=8)
    _bloc_headers(ax, layout.header_y, scenario, colour, left_in)
    _style_axes(ax)
    _legend(fig, rows, colour, left_in)
    draw_title(fig, left_in, 0.14, height, title or f"{scenario.meta.name}: bloc membership")
    sub = f"Bar height: share of the {replicates} replicates with the status at each date."
    draw_subtitle(fig, left_in, 0.36, height, sub)
    return fig


def _breaks(
    edges: NDArray[np.datetime64], *series: FloatArray
) -> tuple[NDArray[np.datetime64], FloatArray, FloatArray]:
    """Step-function vertices (x, member, partner) at the first step and at each change only.

    `edges` has one more entry than each series; the last value is repeated at the end, as
    `fill_between(step="post")` needs.
    """
    stacked = np.vstack(series)
    keep = np.ones(stacked.shape[1], dtype=bool)
    keep[1:] = (np.diff(stacked, axis=1) != 0).any(axis=0)
    idx = np.append(np.flatnonzero(keep), stacked.shape[1])
    values = np.append(stacked[:, idx[:-1]], stacked[:, idx[-2:-1]], axis=1)
    return edges[idx], values[0], values[1]


def _draw_bar(ax: Axes, row: BlocRow, y: float, edges: NDArray[np.datetime64], colour: str) -> None:
    """One bar: grey where the state is out, the bloc's colour (lighter: partner) where in."""
    base = y + BAR / 2  # y grows downwards (inverted axis): bars fill from the bottom
    ax.fill_between(edges[[0, -1]], base - BAR, base, color=NONE, lw=0, zorder=1)
    # Only the steps where a share changes are kept: the same picture, a far smaller SVG.
    x, m, p = _breaks(edges, row.member, row.partner)
    if (m > 0).any():
        ax.fill_between(x, base, base - BAR * m, color=colour, lw=0, step="post", zorder=2)
    if (p > 0).any():
        light = tint(colour, PARTNER_TINT)
        top = base - BAR * (m + p)
        ax.fill_between(x, base - BAR * m, top, color=light, lw=0, step="post", zorder=2)


def _bloc_headers(
    ax: Axes,
    header_y: dict[str, float],
    scenario: Scenario,
    colour: dict[str, str],
    left_in: float,
) -> None:
    """Each bloc's name (and leader) in its colour above its group of bars."""
    for b, y in header_y.items():
        bloc = scenario.blocs.get(b)
        text = b + (f"  {bloc.name}, led by {bloc.leader}" if bloc is not None else "")
        ax.annotate(
            text,
            (0.0, y),
            xycoords=("axes fraction", "data"),
            xytext=(-(left_in - 0.1) * 72, 0),
            textcoords="offset points",
            fontsize=9,
            fontweight="bold",
            color=colour[b],
            va="center",
            ha="left",
            annotation_clip=False,
        )


def _style_axes(ax: Axes) -> None:
    ax.tick_params(axis="y", length=0)
    date_axis(ax)
    ax.tick_params(axis="x", labelsize=9, labeltop=True, top=True)
    ax.grid(axis="x", color="0.85", lw=0.6, zorder=0)
    ax.set_axisbelow(True)
    for side in ("left", "right"):
        ax.spines[side].set_visible(False)


def _legend(fig: Figure, rows: Sequence[BlocRow], colour: dict[str, str], left_in: float) -> None:
    """One entry per bloc and status that occurs, then the empty bar."""
    handles = []
    for b in dict.fromkeys(r.bloc for r in rows):
        if any(r.bloc == b and (r.member > 0).any() for r in rows):
            handles.append(Patch(color=colour[b], label=f"{b} member"))
        if any(r.bloc == b and (r.partner > 0).any() for r in rows):
            handles.append(Patch(color=tint(colour[b], PARTNER_TINT), label=f"{b} partner"))
    handles.append(Patch(color=NONE, label="none"))
    fig.legend(
        handles=handles,
        loc="lower left",
        bbox_to_anchor=(left_in / WIDTH_IN, 0.0),
        ncol=len(handles),
        fontsize=8,
        frameon=False,
        handlelength=1.4,
        columnspacing=1.2,
    )
