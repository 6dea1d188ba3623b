"""Figures drawn from a finished results folder: alignment over time and bloc membership.

`plot_alignment` (one chart, lines per state, dated events in a strip above),
`plot_alignment_grid` (small multiples, one panel per state) and `plot_blocs` (membership
timeline) each write `<name>.png` / `<name>.svg` and return the paths.

Plots only read what a run wrote (timeseries.parquet, events.csv, manifest.json); they never
build or run a model. Figures use matplotlib's object-oriented API on a private `Figure`, so
nothing touches pyplot's global state, and every file is written atomically.

Conventions shared by the figures:

* x is the date of each step's period label (`YYYY-MM`, the first of the month); step 0, the
  initial condition, sits one period before the start.
* Across replicates a line is the median and the shaded band the 10th-90th percentile.
* Dated events are marked when the same event (kind, actor, target, step) happens in at least
  half of the replicates, so one-off draws of a stochastic run do not clutter the figure.
"""

from __future__ import annotations

import json
import math
import os
import warnings
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import matplotlib as mpl
import matplotlib.dates as mdates
import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import RendererAgg
from matplotlib.colors import to_rgba
from matplotlib.figure import Figure
from matplotlib.font_manager import FontProperties
from matplotlib.lines import Line2D
from matplotlib.patches import Patch
from matplotlib.transforms import blended_transform_factory
from numpy.typing import NDArray

from sim.calendar import UNIT_MONTHS
from sim.errors import FigureNotApplicable, ResultsError
from sim.results import RunFolder
from sim.scenario import Scenario

__all__ = [
    "MARKED_KINDS",
    "MAX_HIGHLIGHT",
    "Mark",
    "Panel",
    "check_formats",
    "choose_states",
    "marked_events",
    "plot_alignment",
    "plot_alignment_grid",
    "plot_blocs",
    "save_figure",
    "scenario_states",
]

FloatArray = NDArray[np.float64]

MAX_HIGHLIGHT = 8
"""Most states drawn in colour when a run has more than `FEW_STATES` and none are chosen."""
FEW_STATES = 10
"""Up to this many states, every state is drawn in colour."""
MARKED_KINDS = ("threat", "tariff_imposed", "left", "joined")
"""Event kinds marked on the alignment figure, in the order they stack on one date."""

DPI = 150
WIDTH_IN = 10.0
# Margins in inches; the right one holds the state labels at the end of each line.
LEFT_IN, RIGHT_IN, TOP_IN, BOTTOM_IN, NOTE_IN = 0.85, 0.75, 0.55, 0.45, 0.3
MAIN_H_IN = 4.6
ROW_PT = 12.0
EVENT_FONT = 7.5
TEXT_OFFSET_PT = 6.0
LABEL_FONT = 9.0
INK = "0.15"
QUIET = "0.55"

_NO_DATE: dict[str, dict[str, Any]] = {
    "svg": {"Date": None},
    "pdf": {"CreationDate": None},
    "png": {},
}

_MARKERS = {"threat": "v", "tariff_imposed": "s", "left": "X", "joined": "P"}


# --------------------------------------------------------------------------- reading


@dataclass(frozen=True)
class Panel:
    """One variable of a run as an array: replicates x steps x states, with dates."""

    variable: str
    dates: NDArray[np.datetime64]
    states: list[str]
    values: FloatArray

    def quantile(self, q: float) -> FloatArray:
        """Per step and state, the q-quantile across replicates (NaN where none has data)."""
        with warnings.catch_warnings():
            # A state without a value for this variable (a tie given as null) is all-NaN: fine.
            warnings.simplefilter("ignore", RuntimeWarning)
            return np.asarray(np.nanquantile(self.values, q, axis=0), dtype=np.float64)


def _open(folder: str | Path | RunFolder) -> RunFolder:
    return folder if isinstance(folder, RunFolder) else RunFolder.open(folder)


def _to_dates(labels: Iterable[str]) -> NDArray[np.datetime64]:
    return np.array([np.datetime64(str(label)[:7], "D") for label in labels])


def _ordered(series: pd.Series[Any]) -> list[str]:
    """Distinct values as strings, in order of first appearance (the model's order)."""
    return [str(v) for v in pd.unique(series.astype(str))]


def _panel(ts: pd.DataFrame, variable: str) -> Panel:
    """Reshape the long table's rows for `variable` into a dense array."""
    steps = ts[["step", "date"]].drop_duplicates("step").sort_values("step")
    step_ix = pd.Index(steps["step"].to_numpy())
    states = _ordered(ts["state"])
    reps = pd.Index(np.sort(ts["replicate"].unique()))
    sub = ts.loc[ts["variable"].astype(str) == variable]
    values = np.full((len(reps), len(step_ix), len(states)), np.nan)
    values[
        reps.get_indexer(pd.Index(sub["replicate"])),
        step_ix.get_indexer(pd.Index(sub["step"])),
        pd.Index(states).get_indexer(pd.Index(sub["state"].astype(str))),
    ] = sub["value"].to_numpy(dtype=np.float64)
    return Panel(variable, _to_dates(steps["date"].astype(str)), states, values)


def _check_states(wanted: Sequence[str] | None, valid: Sequence[str]) -> list[str] | None:
    if wanted is None:
        return None
    if isinstance(wanted, str):
        wanted = [wanted]  # a single code is a common slip; treat it as a one-item selection
    unknown = [s for s in wanted if s not in valid]
    if unknown:
        raise ResultsError(
            f"unknown state{'s' if len(unknown) > 1 else ''} {', '.join(map(repr, unknown))} "
            f"(valid: {', '.join(valid)})"
        )
    if not wanted:
        raise ResultsError(f"no states selected (valid: {', '.join(valid)})")
    return list(dict.fromkeys(wanted))


def _check_variable(variable: str, ts: pd.DataFrame) -> None:
    valid = _ordered(ts["variable"])
    if variable not in valid:
        raise ResultsError(f"unknown variable {variable!r} (valid: {', '.join(valid)})")


# --------------------------------------------------------------------------- events


@dataclass(frozen=True)
class Mark:
    """A dated event seen in at least half of the replicates."""

    kind: str
    date: np.datetime64
    state: str
    text: str
    share: float

    @property
    def label(self) -> str:
        """The text shown: the share of replicates is added when not all show the event."""
        return self.text if self.share >= 0.999 else f"{self.text} ({self.share:.0%})"


def _mode(values: Iterable[Any]) -> Any:
    items = list(values)
    return max(set(items), key=items.count) if items else None


def _event_text(kind: str, actor: str, target: str, details: list[dict[str, Any]]) -> str:
    if kind == "threat":
        return f"{actor}→{target} threat"
    if kind == "tariff_imposed":
        rate = _mode(d.get("rate") for d in details)
        pct = f" {float(rate):.0%}" if isinstance(rate, int | float) else ""
        return f"{actor} tariff{pct} on {target}"
    if kind == "left":
        return f"{actor} left {target}"
    status = _mode(d.get("status") for d in details)
    return f"{actor} joined {target}" + (" as partner" if status == "partner" else "")


def marked_events(events: pd.DataFrame, replicates: int) -> list[Mark]:
    """Events of `MARKED_KINDS` that happen at the same step in at least half the replicates."""
    ev = events.loc[events["kind"].isin(MARKED_KINDS)]
    marks: list[Mark] = []
    for (kind, actor, target, _step), grp in ev.groupby(["kind", "actor", "target", "step"]):
        seen = grp["replicate"].nunique()
        if 2 * seen < replicates:
            continue
        details = [json.loads(d) if d else {} for d in grp["details"]]
        k, a, t = str(kind), str(actor), str(target)
        marks.append(
            Mark(
                kind=k,
                date=_to_dates([str(grp["date"].iloc[0])])[0],
                # The state the event is about: threats and tariffs hit the target; joins and
                # exits are made by the actor.
                state=t if k in ("threat", "tariff_imposed") else a,
                text=_event_text(k, a, t, details),
                share=seen / replicates,
            )
        )
    order = {k: i for i, k in enumerate(MARKED_KINDS)}
    return sorted(marks, key=lambda m: (m.date, order[m.kind], m.state, m.text))


def scenario_states(scenario: Scenario) -> list[str]:
    """States a scenario's dated events name (targets, visited, joining, leaving, ...)."""
    named: list[str] = []
    for ev in scenario.events.values():
        for attr in ("target", "state"):
            code = getattr(ev, attr, None)
            if isinstance(code, str):
                named.append(code)
        named.extend(getattr(ev, "states", None) or [])
    return [s for s in dict.fromkeys(named) if s in scenario.states]


# --------------------------------------------------------------------------- layout helpers


def _spread(want: Sequence[float], gap: float, lo: float, hi: float) -> list[float]:
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


def _colours(n: int) -> list[tuple[float, float, float, float]]:
    """Distinct colours: Tableau 10, then Tableau 20, then an even sweep of a wide map."""
    tab10 = [mpl.colormaps["tab10"](i) for i in range(10)]
    if n <= 9:
        # Tableau's grey is left out: grey is reserved for context lines.
        return [to_rgba(c) for c in (tab10[:7] + tab10[8:])[:n]]
    if n == 10:
        return [to_rgba(c) for c in tab10]
    if n <= 20:
        # Pairs in tab20 are a dark and a light shade; take the darks first, lights after.
        cols = [mpl.colormaps["tab20"](i) for i in range(20)]
        return [to_rgba(c) for c in (list(cols[0::2]) + list(cols[1::2]))[:n]]
    cmap = mpl.colormaps["turbo"]
    # Darkened a little so the yellows and light greens stay readable as text on white.
    return [
        (0.85 * r, 0.85 * g, 0.85 * b, 1.0)
        for r, g, b, _ in (cmap(0.05 + 0.9 * i / (n - 1)) for i in range(n))
    ]


def _assign_colours(
    states: list[str], ends: list[float]
) -> dict[str, tuple[float, float, float, float]]:
    """Colour per state; with many states, lines that end next to each other get far-apart hues.

    States are ranked by where they end and rank r takes palette entry (r * k) mod n, with k
    near 0.38 n and coprime with n, so neighbouring labels never share a shade.
    """
    n = len(states)
    palette = _colours(n)
    if n <= 10:
        return dict(zip(states, palette, strict=True))
    k = max(2, round(0.38 * n))
    while math.gcd(k, n) != 1:
        k += 1
    rank = sorted(range(n), key=lambda i: (np.nan_to_num(ends[i], nan=-np.inf), states[i]))
    return {states[i]: palette[(r * k) % n] for r, i in enumerate(rank)}


def _text_width_pt(texts: Sequence[str], size: float) -> list[float]:
    # A bare Agg renderer at 72 dpi measures text in points without making a figure.
    renderer = RendererAgg(10, 10, 72)  # type: ignore[no-untyped-call]
    prop = FontProperties(size=size)
    measure = renderer.get_text_width_height_descent
    return [float(measure(t, prop, ismath=False)[0]) for t in texts]  # type: ignore[no-untyped-call]


def _date_axis(ax: Axes, maxticks: int = 10) -> None:
    # matplotlib.dates has no type hints.
    locator = mdates.AutoDateLocator(minticks=3, maxticks=maxticks)  # type: ignore[no-untyped-call]
    ax.xaxis.set_major_locator(locator)
    ax.xaxis.set_major_formatter(mdates.ConciseDateFormatter(locator))  # type: ignore[no-untyped-call]


def _variable_label(variable: str, powers: tuple[str, str]) -> tuple[str, float]:
    """Axis label and the factor values are multiplied by for display."""
    prefix, _, name = variable.partition(".")
    if variable == "tilt":
        return f"tilt   ← toward {powers[0]}  |  toward {powers[1]} →", 1.0
    labels = {
        "affinity": (f"affinity to {name} (0 to 1)", 1.0),
        "exports": (f"exports to {name}, US$ bn per year", 1e-9),
        "fdi": (f"FDI stock from {name}, US$ bn", 1e-9),
        "debt": (f"debt owed to {name}, US$ bn", 1e-9),
        "tariff": (f"{name} tariff on the state's exports, %", 100.0),
        "bloc": (f"status in {name} (0 none, 1 partner, 2 member)", 1.0),
        "policy": (f"policy {name} (1 = in force)", 1.0),
    }
    return labels.get(prefix, (variable, 1.0))


# --------------------------------------------------------------------------- saving


def check_formats(formats: Sequence[str]) -> list[str]:
    """The formats, deduplicated; ResultsError unless matplotlib can write every one."""
    if isinstance(formats, str):
        formats = [formats]  # "png" alone would otherwise be read as "p", "n", "g"
    supported = Figure().canvas.get_supported_filetypes()
    bad = [f for f in formats if f not in supported]
    if bad or not formats:
        raise ResultsError(
            f"unknown figure format {', '.join(map(repr, bad))} "
            f"(supported: {', '.join(sorted(supported))})"
            if bad
            else "no figure format given"
        )
    return list(dict.fromkeys(formats))


def save_figure(fig: Figure, out: Path, stem: str, formats: Sequence[str]) -> list[Path]:
    """Write `fig` as `out/<stem>.<fmt>` for each format, each via a temporary file and rename."""
    formats = check_formats(formats)
    out.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    for fmt in formats:
        target = out / f"{stem}.{fmt}"
        # Same folder, so the rename is atomic; the pid keeps concurrent writers apart. The rc
        # settings last for this save only: SVG text stays text (searchable, editable), and a
        # fixed id salt with no timestamp makes equal figures give equal bytes.
        tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
        try:
            rc = mpl.rc_context(
                {"svg.fonttype": "none", "svg.hashsalt": "geosim", "pdf.fonttype": 42}
            )
            with rc, tmp.open("wb") as fh:
                fig.savefig(fh, format=fmt, dpi=DPI, metadata=_NO_DATE.get(fmt))
            os.replace(tmp, target)
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise
        written.append(target)
    return written


# --------------------------------------------------------------------------- alignment


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
    rf = _open(folder)
    scenario = rf.scenario()
    ts = rf.timeseries()
    _check_variable(variable, ts)
    panel = _panel(ts, variable)
    selected = _check_states(states, panel.states)
    chosen = selected
    replicates = panel.values.shape[0]
    marks = marked_events(rf.events(), replicates)
    has_data = [s for i, s in enumerate(panel.states) if np.isfinite(panel.values[..., i]).any()]
    context: list[str] = []
    if chosen is None:
        if len(has_data) > FEW_STATES:
            named = scenario_states(scenario) + [m.state for m in marks]
            chosen = choose_states(panel, [s for s in named if s in has_data])
            context = [s for s in has_data if s not in chosen]
        else:
            chosen = has_data
    # States whose tie to a power is unknown (null in the scenario) have no values at all.
    missing = [s for s in (selected or panel.states) if s not in has_data]
    chosen = [s for s in chosen if s in has_data]
    if not chosen:
        raise ResultsError(f"no values of {variable!r} for {', '.join(missing)}")
    marks = [m for m in marks if m.state in chosen]

    notes = []
    if context:
        notes.append(
            f"Grey: the other {len(context)} states (median). Coloured: states the events are "
            "about, then those that moved most."
        )
    if missing:
        notes.append(f"No values for {', '.join(missing)}.")
    fig = _alignment_figure(
        panel, scenario, chosen, context, marks, variable, replicates, title, " ".join(notes)
    )
    stem = "alignment" if variable == "tilt" else variable
    return save_figure(fig, Path(out) if out is not None else rf.path, stem, formats)


def draw_title(fig: Figure, left_in: float, top_in: float, height: float, text: str) -> None:
    """The bold title of a figure, `top_in` inches below its top edge (every plot uses it)."""
    fig.text(
        left_in / WIDTH_IN,
        1 - top_in / height,
        text,
        fontsize=12,
        fontweight="bold",
        ha="left",
        va="top",
        color=INK,
    )


def _bands(
    panel: Panel, scenario: Scenario, variable: str
) -> tuple[tuple[str, str], str, Any, Any, Any, dict[str, int]]:
    """Tilt powers, y label, 10/50/90% quantiles (scaled) and column of each state."""
    powers = scenario.rules.alignment.tilt_powers
    ylabel, scale = _variable_label(variable, powers)
    lo, mid, hi = (panel.quantile(q) * scale for q in (0.1, 0.5, 0.9))
    return powers, ylabel, lo, mid, hi, {st: i for i, st in enumerate(panel.states)}


def _alignment_figure(
    panel: Panel,
    scenario: Scenario,
    chosen: list[str],
    context: list[str],
    marks: list[Mark],
    variable: str,
    replicates: int,
    title: str | None,
    note: str,
) -> Figure:
    powers, ylabel, lo, mid, hi, col = _bands(panel, scenario, variable)
    colours = _assign_colours(chosen, [float(mid[-1, col[s]]) for s in chosen])
    x = panel.dates
    x0, x1 = x[0], x[-1] + np.timedelta64(2, "D")
    axes_w_pt = (WIDTH_IN - LEFT_IN - RIGHT_IN) * 72

    # Event strip: each mark gets a row where its text does not run into another's.
    rows = _event_rows(marks, x0, x1, axes_w_pt)
    n_rows = max((r for r, _ in rows), default=-1) + 1
    strip_h_in = (n_rows * ROW_PT + 8) / 72 if marks else 0.0
    gap_in = 0.08 if marks else 0.0
    bottom_in = BOTTOM_IN + (NOTE_IN if note else 0.0)
    height = TOP_IN + strip_h_in + gap_in + MAIN_H_IN + bottom_in
    fig = Figure(figsize=(WIDTH_IN, height), dpi=DPI)
    w = (WIDTH_IN - LEFT_IN - RIGHT_IN) / WIDTH_IN
    ax = fig.add_axes((LEFT_IN / WIDTH_IN, bottom_in / height, w, MAIN_H_IN / height))
    if note:
        fig.text(
            LEFT_IN / WIDTH_IN,
            0.12 / height,
            note,
            fontsize=7.5,
            color=QUIET,
            ha="left",
            va="bottom",
        )

    # Grey context first so coloured lines sit on top.
    for s in context:
        ax.plot(x, mid[:, col[s]], color="0.8", lw=0.7, zorder=1)
    step_like = variable.startswith(("bloc.", "policy."))
    drawstyle = "steps-post" if step_like else "default"
    for s in chosen:
        c = colours[s]
        if replicates > 1:
            ax.fill_between(
                x,
                lo[:, col[s]],
                hi[:, col[s]],
                color=c,
                alpha=0.18 if len(chosen) <= FEW_STATES else 0.08,
                lw=0,
                zorder=2,
                step="post" if step_like else None,
            )
        ax.plot(x, mid[:, col[s]], color=c, lw=1.8, zorder=3, drawstyle=drawstyle)

    shown = [col[s] for s in chosen + context]
    ymin = float(np.nanmin(lo[:, shown] if replicates > 1 else mid[:, shown]))
    ymax = float(np.nanmax(hi[:, shown] if replicates > 1 else mid[:, shown]))
    if variable == "tilt":
        ymin, ymax = min(ymin, 0.0), max(ymax, 0.0)
        ax.axhline(0.0, color="0.35", lw=0.9, zorder=1.5)
    # A flat series (a policy never switched) still needs a visible range around it.
    span = ymax - ymin
    pad = span * 0.06 if span > 1e-12 else max(abs(ymax) * 0.1, 0.5)
    if variable == "tilt":
        pad = max(pad, 0.02)
    ylim = (ymin - pad, ymax + pad)
    if variable == "tilt":
        ylim = (max(ylim[0], -1.02), min(ylim[1], 1.02))
    ax.set_ylim(*ylim)
    ax.set_xlim(x0, x1)
    ax.set_ylabel(ylabel, fontsize=10)
    _date_axis(ax)
    ax.tick_params(labelsize=9)
    ax.grid(axis="y", color="0.92", lw=0.8, zorder=0)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)

    for date in sorted({m.date for m in marks}):
        ax.vlines(
            date,
            0,
            1,
            transform=ax.get_xaxis_transform(),
            color="0.6",
            lw=0.7,
            ls=(0, (2, 2)),
            zorder=0.5,
        )

    _end_labels(ax, [(s, float(mid[-1, col[s]]), colours[s]) for s in chosen], ylim)

    if marks:
        strip_bottom = (bottom_in + MAIN_H_IN + gap_in) / height
        strip = fig.add_axes((LEFT_IN / WIDTH_IN, strip_bottom, w, strip_h_in / height), sharex=ax)
        _draw_strip(strip, marks, rows, n_rows, colours)

    what = f"tilt between {powers[0]} and {powers[1]}" if variable == "tilt" else ylabel
    draw_title(fig, LEFT_IN, 0.16, height, title or f"{scenario.meta.name}: {what}")
    band = "; shaded: 10th to 90th percentile" if replicates > 1 else ""
    sub = f"Lines: median of {replicates} replicate{'s' if replicates > 1 else ''}{band}."
    if marks:
        sub += " Top: events in at least half of the replicates."
    fig.text(
        LEFT_IN / WIDTH_IN, 1 - 0.38 / height, sub, fontsize=8.5, color=QUIET, ha="left", va="top"
    )
    return fig


def _end_labels(
    ax: Axes,
    items: list[tuple[str, float, tuple[float, float, float, float]]],
    ylim: tuple[float, float],
) -> None:
    """Label each line at its right end, spread so that no two labels overlap."""
    items = [it for it in items if np.isfinite(it[1])]
    if not items:
        return
    items.sort(key=lambda it: it[1])
    span = ylim[1] - ylim[0]
    h_pt = MAIN_H_IN * 72
    want = [(y - ylim[0]) / span * h_pt for _, y, _ in items]
    got = _spread(want, LABEL_FONT * 1.25, LABEL_FONT * 0.6, h_pt - LABEL_FONT * 0.6)
    tr = blended_transform_factory(ax.transAxes, ax.transData)
    for (code, y, c), p in zip(items, got, strict=True):
        y_label = ylim[0] + p / h_pt * span
        ax.add_line(
            Line2D(
                [1.0, 1.012, 1.025],
                [y, y_label, y_label],
                transform=tr,
                color=c,
                lw=0.8,
                clip_on=False,
            )
        )
        ax.text(
            1.03,
            y_label,
            code,
            transform=tr,
            color=c,
            fontsize=LABEL_FONT,
            fontweight="bold",
            va="center",
            ha="left",
            clip_on=False,
        )


def _event_rows(
    marks: list[Mark], x0: np.datetime64, x1: np.datetime64, width_pt: float
) -> list[tuple[int, bool]]:
    """Row of each mark in the strip (the first where its text fits) and whether the text flips.

    Greedy by date; near the right edge the text goes to the left of its marker.
    """
    span = float((x1 - x0) / np.timedelta64(1, "D"))
    widths = _text_width_pt([m.label for m in marks], EVENT_FONT)
    ends: list[float] = []
    placed: list[tuple[int, bool]] = []
    for m, wt in zip(marks, widths, strict=True):
        at = float((m.date - x0) / np.timedelta64(1, "D")) / span * width_pt
        left, right = at - 5, at + TEXT_OFFSET_PT + wt
        flip = right > width_pt + RIGHT_IN * 72 * 0.5
        if flip:
            left, right = at - TEXT_OFFSET_PT - wt, at + 5
        for r, end in enumerate(ends):
            if left > end + 4:
                ends[r] = right
                placed.append((r, flip))
                break
        else:
            ends.append(right)
            placed.append((len(ends) - 1, flip))
    return placed


def _draw_strip(
    strip: Axes,
    marks: list[Mark],
    rows: list[tuple[int, bool]],
    n_rows: int,
    colours: dict[str, tuple[float, float, float, float]],
) -> None:
    strip.set_ylim(n_rows - 0.4, -0.7)  # row 0 at the top, next to the title
    strip.set_yticks([])
    strip.tick_params(axis="x", which="both", bottom=False, labelbottom=False)
    for side in ("top", "right", "left"):
        strip.spines[side].set_visible(False)
    strip.spines["bottom"].set_color("0.8")
    for m, (r, flip) in zip(marks, rows, strict=True):
        c = colours.get(m.state, (0.3, 0.3, 0.3, 1.0))
        strip.plot([m.date, m.date], [r, n_rows - 0.4], color="0.78", lw=0.6, zorder=1)
        strip.plot(
            [m.date],
            [r],
            marker=_MARKERS[m.kind],
            color=c,
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
            fontsize=EVENT_FONT,
            color=INK,
            va="center",
            ha="right" if flip else "left",
            annotation_clip=False,
        )


# --------------------------------------------------------------------------- small multiples

GRID_PANEL_H_IN = 1.25
GRID_GAP_IN = 0.38


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
    rf = _open(folder)
    scenario = rf.scenario()
    ts = rf.timeseries()
    _check_variable(variable, ts)
    panel = _panel(ts, variable)
    chosen = _check_states(states, panel.states) or panel.states
    has_data = [s for i, s in enumerate(panel.states) if np.isfinite(panel.values[..., i]).any()]
    chosen = [s for s in chosen if s in has_data]
    if not chosen:
        raise ResultsError(f"no values of {variable!r} for the states selected")
    replicates = panel.values.shape[0]
    marks = [m for m in marked_events(rf.events(), replicates) if m.state in chosen]
    fig = _grid_figure(
        panel, scenario, chosen, has_data, marks, variable, replicates, title, columns
    )
    stem = ("alignment" if variable == "tilt" else variable) + "_grid"
    return save_figure(fig, Path(out) if out is not None else rf.path, stem, formats)


def _grid_figure(
    panel: Panel,
    scenario: Scenario,
    chosen: list[str],
    context: list[str],
    marks: list[Mark],
    variable: str,
    replicates: int,
    title: str | None,
    columns: int,
) -> Figure:
    powers, ylabel, lo, mid, hi, col = _bands(panel, scenario, variable)
    x = panel.dates
    ncols = min(columns, len(chosen))
    nrows = math.ceil(len(chosen) / ncols)
    left_in, right_in, top_in = 0.85, 0.25, 0.75
    bottom_in = 0.75 if marks else 0.45
    height = top_in + nrows * GRID_PANEL_H_IN + (nrows - 1) * GRID_GAP_IN + bottom_in
    fig = Figure(figsize=(WIDTH_IN, height), dpi=DPI)
    axes = fig.subplots(nrows, ncols, sharex=True, sharey=True, squeeze=False)
    panel_w = (WIDTH_IN - left_in - right_in) / ncols
    fig.subplots_adjust(
        left=left_in / WIDTH_IN,
        right=1 - right_in / WIDTH_IN,
        bottom=bottom_in / height,
        top=1 - top_in / height,
        hspace=GRID_GAP_IN / GRID_PANEL_H_IN,
        wspace=0.18 / (panel_w - 0.18),
    )
    shown = [col[s] for s in context]
    ymin = float(np.nanmin(lo[:, shown] if replicates > 1 else mid[:, shown]))
    ymax = float(np.nanmax(hi[:, shown] if replicates > 1 else mid[:, shown]))
    if variable == "tilt":
        ymin, ymax = min(ymin, 0.0), max(ymax, 0.0)
    pad = (ymax - ymin) * 0.08 or 0.05
    line, band = "tab:blue", to_rgba("tab:blue", 0.25)
    kinds_seen: list[str] = []
    for n, ax in enumerate(axes.flat):
        if n >= len(chosen):
            ax.set_visible(False)
            continue
        s = chosen[n]
        for other in context:
            if other != s:
                ax.plot(x, mid[:, col[other]], color="0.88", lw=0.5, zorder=1)
        if variable == "tilt":
            ax.axhline(0.0, color="0.45", lw=0.7, zorder=1.5)
        if replicates > 1:
            ax.fill_between(x, lo[:, col[s]], hi[:, col[s]], color=band, lw=0, zorder=2)
        ax.plot(x, mid[:, col[s]], color=line, lw=1.5, zorder=3)
        name = scenario.states[s].name if s in scenario.states else ""
        ax.set_title(f"{s}  {name}".rstrip(), loc="left", fontsize=8.5, color=INK, pad=3)
        stacked: dict[np.datetime64, int] = {}
        for m in (m for m in marks if m.state == s):
            # Event ticks sit in the room kept above the data; same-date events stack down.
            level = stacked.get(m.date, 0)
            stacked[m.date] = level + 1
            ax.vlines(
                m.date,
                0,
                1,
                transform=ax.get_xaxis_transform(),
                color="0.6",
                lw=0.6,
                ls=(0, (2, 2)),
                zorder=0.5,
            )
            ax.plot(
                [m.date],
                [0.93 - 0.12 * level],
                marker=_MARKERS[m.kind],
                color="0.2",
                ms=4.5,
                mec="white",
                mew=0.4,
                transform=ax.get_xaxis_transform(),
                zorder=4,
                clip_on=False,
            )
            if m.kind not in kinds_seen:
                kinds_seen.append(m.kind)
        ax.tick_params(labelsize=7.5)
        ax.grid(axis="y", color="0.93", lw=0.6, zorder=0)
        for side in ("top", "right"):
            ax.spines[side].set_visible(False)
    per_date = pd.Series([(m.state, m.date) for m in marks]).value_counts()
    depth = int(per_date.max()) if marks else 0
    top_room = (0.06 + 0.14 * depth) * (ymax - ymin + 2 * pad)
    axes[0, 0].set_ylim(ymin - pad, ymax + pad + top_room)
    axes[0, 0].set_xlim(x[0], x[-1])
    _date_axis(axes[0, 0], maxticks=max(5, 16 // ncols))
    if variable == "tilt":
        # The full direction label is too long for a small panel; the subtitle gives it whole.
        for ax in axes[:, 0]:
            ax.set_ylabel(f"← {powers[0]} | {powers[1]} →", fontsize=8, color=INK)
    what = f"tilt between {powers[0]} and {powers[1]}" if variable == "tilt" else ylabel
    draw_title(fig, left_in, 0.14, height, title or f"{scenario.meta.name}: {what}")
    band_text = "; shaded: 10th to 90th percentile" if replicates > 1 else ""
    fig.text(
        left_in / WIDTH_IN,
        1 - 0.36 / height,
        f"{ylabel + '. ' if variable == 'tilt' else ''}"
        f"Blue: median of {replicates} replicate{'s' if replicates > 1 else ''}"
        f"{band_text}. Grey: the other states' medians.",
        fontsize=8.5,
        color=QUIET,
        ha="left",
        va="top",
    )
    if kinds_seen:
        names = {
            "threat": "threat received",
            "tariff_imposed": "tariff imposed on it",
            "left": "left a bloc",
            "joined": "joined a bloc",
        }
        handles = [
            Line2D([], [], ls="none", marker=_MARKERS[k], color="0.2", ms=5, label=names[k])
            for k in MARKED_KINDS
            if k in kinds_seen
        ]
        fig.legend(
            handles=handles,
            loc="lower left",
            bbox_to_anchor=(left_in / WIDTH_IN, 0.0),
            ncol=len(handles),
            fontsize=8,
            frameon=False,
            title="Events in at least half of the replicates:",
            title_fontsize=8,
            alignment="left",
        )
    return fig


# --------------------------------------------------------------------------- blocs

_BLOC_COLOURS = (
    "tab:red",
    "tab:blue",
    "tab:purple",
    "tab:orange",
    "tab:green",
    "tab:brown",
    "tab:pink",
    "tab:olive",
    "tab:cyan",
)
BLOC_ROW_IN = 0.24


def _tint(colour: str, amount: float) -> tuple[float, float, float, float]:
    """`colour` mixed with white (amount 0: unchanged, 1: white)."""
    r, g, b, _ = to_rgba(colour)
    return (r + (1 - r) * amount, g + (1 - g) * amount, b + (1 - b) * amount, 1.0)


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
    rf = _open(folder)
    scenario = rf.scenario()
    ts = rf.timeseries()
    blocs = [v.partition(".")[2] for v in _ordered(ts["variable"]) if v.startswith("bloc.")]
    if not blocs:
        raise FigureNotApplicable("the scenario has no blocs")
    panels = {b: _panel(ts, f"bloc.{b}") for b in blocs}
    first = panels[blocs[0]]
    chosen = _check_states(states, first.states) or first.states
    replicates = first.values.shape[0]

    rows: list[tuple[str, str, FloatArray, FloatArray]] = []  # bloc, state, member, partner
    for b in blocs:
        p = panels[b]
        found = []
        for s in chosen:
            v = p.values[..., p.states.index(s)]
            member = (v == 2).mean(axis=0)
            partner = (v == 1).mean(axis=0)
            ever = member + partner
            if not (ever > 0).any():
                continue
            joined_at = int(np.argmax(ever > 0))
            key = (-ever[0], joined_at, -float(ever.mean()), s)
            found.append((key, (b, s, member, partner)))
        rows += [row for _, row in sorted(found, key=lambda kv: kv[0])]
    if not rows:
        which = "" if states is None else f" for {', '.join(chosen)}"
        raise FigureNotApplicable(f"no bloc memberships or partnerships{which} in any replicate")

    fig = _blocs_figure(first.dates, rows, blocs, scenario, replicates, title)
    return save_figure(fig, Path(out) if out is not None else rf.path, "blocs", formats)


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


def _blocs_figure(
    dates: NDArray[np.datetime64],
    rows: list[tuple[str, str, FloatArray, FloatArray]],
    blocs: list[str],
    scenario: Scenario,
    replicates: int,
    title: str | None,
) -> Figure:
    # Each step's value holds until the next step; the last one for one more period.
    unit = UNIT_MONTHS[scenario.time.unit]
    last = dates[-1].astype("datetime64[M]") + np.timedelta64(unit, "M")
    edges = np.append(dates, last.astype("datetime64[D]"))
    used = [b for b in blocs if any(r[0] == b for r in rows)]
    colour = {b: _BLOC_COLOURS[i % len(_BLOC_COLOURS)] for i, b in enumerate(blocs)}

    # y positions top-down, with a header line before each bloc's group.
    y = 0.0
    header_y: dict[str, float] = {}
    row_y: list[float] = []
    for i, (b, *_rest) in enumerate(rows):
        if i == 0 or rows[i - 1][0] != b:
            y += 0.4 if i else 0.0
            header_y[b] = y
            y += 1.0
        row_y.append(y)
        y += 1.0
    n_units = y
    labels = [
        f"{s}  {scenario.states[s].name if s in scenario.states else ''}".rstrip()
        for _, s, _, _ in rows
    ]
    heads = {}
    for b in header_y:
        bl = scenario.blocs.get(b)
        heads[b] = f"{b}" + (f"  {bl.name}, led by {bl.leader}" if bl is not None else "")
    # The left margin fits the longest state label; bloc headers may run over the bars' start.
    left_in = 0.2 + max(_text_width_pt(labels, 8.0)) / 72
    right_in, top_in, bottom_in = 0.3, 0.85, 0.75
    main_h = n_units * BLOC_ROW_IN
    height = top_in + main_h + bottom_in
    fig = Figure(figsize=(WIDTH_IN, height), dpi=DPI)
    ax = fig.add_axes(
        (
            left_in / WIDTH_IN,
            bottom_in / height,
            (WIDTH_IN - left_in - right_in) / WIDTH_IN,
            main_h / height,
        )
    )
    bar = 0.72
    for (b, _s, member, partner), yy in zip(rows, row_y, strict=True):
        base = yy + bar / 2  # y grows downwards (inverted axis): bars fill from the bottom
        ax.fill_between(edges[[0, -1]], base - bar, base, color="0.95", lw=0, zorder=1)
        # Only the steps where a share changes are kept: the same picture, a far smaller SVG.
        x, m, p = _breaks(edges, member, partner)
        if (m > 0).any():
            ax.fill_between(x, base, base - bar * m, color=colour[b], lw=0, step="post", zorder=2)
        if (p > 0).any():
            ax.fill_between(
                x,
                base - bar * m,
                base - bar * (m + p),
                color=_tint(colour[b], 0.6),
                lw=0,
                step="post",
                zorder=2,
            )
    ax.set_ylim(n_units - 0.3, -0.5)
    ax.set_xlim(edges[0], edges[-1])
    ax.set_yticks(row_y, labels, fontsize=8)
    ax.tick_params(axis="y", length=0)
    for b, hy in header_y.items():
        ax.annotate(
            heads[b],
            (0.0, hy),
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
    _date_axis(ax)
    ax.tick_params(axis="x", labelsize=9, labeltop=True, top=True)
    ax.grid(axis="x", color="0.85", lw=0.6, zorder=0)
    ax.set_axisbelow(True)
    for side in ("left", "right"):
        ax.spines[side].set_visible(False)

    handles = []
    for b in used:
        # Only the statuses that occur get a legend entry.
        if any(r[0] == b and (r[2] > 0).any() for r in rows):
            handles.append(Patch(color=colour[b], label=f"{b} member"))
        if any(r[0] == b and (r[3] > 0).any() for r in rows):
            handles.append(Patch(color=_tint(colour[b], 0.6), label=f"{b} partner"))
    handles.append(Patch(color="0.95", label="none"))
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
    draw_title(fig, left_in, 0.14, height, title or f"{scenario.meta.name}: bloc membership")
    fig.text(
        left_in / WIDTH_IN,
        1 - 0.36 / height,
        f"Bar height: share of the {replicates} replicates with the status at each date.",
        fontsize=8.5,
        color=QUIET,
        ha="left",
        va="top",
    )
    return fig
