"""Figures of a sweep folder: alignment envelopes, an outcome against parameters, heatmaps.

`plot_envelopes` (a variable over time per value of one parameter), `plot_outcome` (an
outcome's probability or mean against one parameter) and `plot_heatmap` (an outcome over two
parameters) each write `<stem>.png` / `<stem>.svg` into the sweep folder (or `out`) and return
the paths.

Like `sim.plots`, these only read what a sweep wrote (sweep.json, runs and time series chunks);
they never build or run a model, use matplotlib's object-oriented API on private figures, and
write every file atomically.

Conventions:

* Grouping by a parameter: a grid design's values are used as they are; a parameter with more
  distinct values than a figure can show (any lhs/sobol design, or a long grid axis) is cut
  into at most `BINS` quantile bins of its design values, and the figure says so. Other swept
  parameters are pooled.
* Failed runs are left out of every statistic, and the subtitle says how many were left out;
  so does it for runs without a value of the outcome and for a sweep that is not finished.
* Binary outcomes (every value 0 or 1, e.g. `expect.*`) are shown as probabilities with a
  Wilson 95% interval; other outcomes as means with a Student-t 95% interval.
"""

from __future__ import annotations

import math
import textwrap
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import matplotlib as mpl
import numpy as np
import pandas as pd
from matplotlib.colors import Normalize, TwoSlopeNorm, to_rgba
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.ticker import PercentFormatter
from numpy.typing import NDArray

from sim.design import Design
from sim.errors import ResultsError
from sim.plots import (
    DPI,
    INK,
    QUIET,
    WIDTH_IN,
    _date_axis,
    _text_width_pt,
    _variable_label,
    check_formats,
    draw_title,
    save_figure,
    scenario_states,
)
from sim.scenario import Scenario
from sim.sensitivity import unknown_name
from sim.sweep_folder import SweepFolder

__all__ = [
    "BINS",
    "MAX_PANELS",
    "MEAN",
    "Groups",
    "SweepData",
    "group_values",
    "open_sweep",
    "plot_envelopes",
    "plot_heatmap",
    "plot_outcome",
    "wilson",
]

BINS = 5
"""Most quantile bins a parameter is cut into."""
MAX_EXACT = 6
"""Up to this many distinct values, a parameter's values are shown as they are."""
MAX_PANELS = 6
"""Most state panels `plot_envelopes` draws by default."""
MEAN = "mean"
"""Pseudo-state of `plot_envelopes`: the variable averaged over every state."""

SUBTITLE_PT = 8.5
WARN = "#a34a00"
"""Colour of the subtitle line that says what was left out (failed runs, missing values)."""
MAX_TICKS = 12
"""Most parameter values labelled one by one on an x axis."""

_RUN_COLUMNS = ("run", "point", "replicate", "seed", "status", "error")
_Z95 = 1.959963984540054


class _HasPath(Protocol):
    """Anything with the folder's path, such as `sim.sweep_folder.SweepFolder`."""

    path: Path


# --------------------------------------------------------------------------- reading


@dataclass
class SweepData:
    """What the figures need from a sweep folder: manifest, design, scenario, runs."""

    path: Path
    manifest: dict[str, Any]
    design: Design
    scenario: Scenario
    runs: pd.DataFrame
    """Every run row written so far (failed ones included), sorted by run."""

    @property
    def parameters(self) -> list[str]:
        """Swept parameter paths, in design order."""
        return list(self.design.parameters)

    @property
    def outcomes(self) -> list[str]:
        """Outcome columns of the runs table."""
        skip = {*_RUN_COLUMNS, *self.parameters}
        return [str(c) for c in self.runs.columns if c not in skip]

    @property
    def ok(self) -> pd.DataFrame:
        """Successful runs."""
        return self.runs.loc[self.runs["status"] == "ok"]

    def note(self) -> str:
        """What the statistics leave out: failed runs, runs not done yet (empty if nothing)."""
        total = int(self.manifest.get("runs", len(self.runs)))
        failed = int((self.runs["status"] != "ok").sum())
        parts = []
        if failed:
            parts.append(
                f"{failed} of {len(self.runs)} runs failed and are excluded "
                f"(see errors/; rerun the sweep with --retry-failed)."
            )
        if len(self.runs) < total:
            parts.append(f"Sweep unfinished: {len(self.runs)} of {total} runs done.")
        return " ".join(parts)

    def timeseries(self, variable: str) -> pd.DataFrame:
        """Rows (run, step, state, value) of one variable for the successful runs."""
        kept = [str(v) for v in self.manifest.get("timeseries", [])]
        if not kept:
            raise ResultsError(f"{self.path}: the sweep kept no time series (--timeseries none)")
        if variable not in kept:
            raise ResultsError(f"unknown variable {variable!r} (valid: {', '.join(kept)})")
        files = sorted((self.path / "chunks").glob("ts-*.parquet"))
        ok = set(self.ok["run"].tolist())
        parts = []
        for f in files:
            # Filter on read: a big sweep's series are far larger than the one variable needed.
            df = pd.read_parquet(
                f, columns=["run", "step", "state", "value"], filters=[("variable", "==", variable)]
            )
            parts.append(df.loc[df["run"].isin(ok)])
        if not parts:
            return pd.DataFrame({"run": [], "step": [], "state": [], "value": []})
        out = pd.concat(parts, ignore_index=True)
        out["state"] = out["state"].astype(str)
        return out


def open_sweep(folder: str | Path | _HasPath | SweepData) -> SweepData:
    """Read a sweep folder (a path, a `SweepFolder` or already-read data)."""
    if isinstance(folder, SweepData):
        return folder
    path = Path(folder.path if not isinstance(folder, str | Path) else folder)
    reader = SweepFolder(path)
    manifest = reader.manifest()
    try:
        design = Design.model_validate(manifest["design"])
        scenario = Scenario.model_validate(manifest["resolved_scenario"])
    except (KeyError, ValueError) as exc:
        raise ResultsError(f"{path}/sweep.json: not a geosim sweep manifest ({exc})") from None
    return SweepData(path, manifest, design, scenario, reader.runs())


def _parameter(sweep: SweepData, name: str) -> str:
    """The swept parameter `name` names: its full path, or a unique trailing part of it."""
    valid = sweep.parameters
    if name in valid:
        return name
    ends = [p for p in valid if p.endswith("." + name)]
    if len(ends) == 1:
        return ends[0]
    raise unknown_name("parameter", name, valid)


def _outcome(sweep: SweepData, name: str) -> str:
    valid = sweep.outcomes
    if name in valid:
        return name
    raise unknown_name("outcome", name, valid, compact=True)


# --------------------------------------------------------------------------- grouping


def _fmt(value: Any) -> str:
    """A parameter value as a short label."""
    if isinstance(value, bool) or not isinstance(value, int | float | np.number):
        return str(value)
    v = float(value)
    if v.is_integer() and abs(v) < 1e6:
        return str(int(v))
    return f"{v:.3g}"


@dataclass(frozen=True)
class Groups:
    """Runs grouped by one parameter: a group index per run, labels and positions per group."""

    parameter: str
    codes: NDArray[np.int64]
    labels: list[str]
    positions: list[float]
    """Where each group sits on a numeric axis (value, or mean of a bin), NaN if not numeric."""
    binned: bool
    spans: list[tuple[float, float]]
    """Lowest and highest value in each group (NaN if not numeric)."""


def _numeric(values: pd.Series[Any]) -> bool:
    return bool(values.map(lambda v: isinstance(v, int | float | np.number)).all()) and not bool(
        values.map(lambda v: isinstance(v, bool | np.bool_)).any()
    )


def group_values(values: pd.Series[Any], parameter: str, max_exact: int = MAX_EXACT) -> Groups:
    """Group a parameter's values: as they are if few (or not numbers), else quantile bins."""
    values = values.reset_index(drop=True)
    distinct = list(pd.unique(values))
    if not _numeric(values):
        labels = [str(v) for v in distinct]
        codes = pd.Index(distinct).get_indexer(values).astype(np.int64)
        nan = [math.nan] * len(labels)
        return Groups(parameter, codes, labels, nan, False, [(math.nan, math.nan)] * len(labels))
    x = values.astype(float)
    uniq = np.sort(x.unique())
    if len(uniq) <= max_exact:
        codes = np.searchsorted(uniq, x.to_numpy()).astype(np.int64)
        at = [float(u) for u in uniq]
        return Groups(parameter, codes, [_fmt(u) for u in uniq], at, False, [(u, u) for u in at])
    # Bin edges from the distinct design values, so replicates do not weigh on where bins fall.
    cut = pd.qcut(pd.Series(uniq), BINS, labels=False, duplicates="drop")
    bin_of = dict(zip(uniq.tolist(), cut.astype(int).tolist(), strict=True))
    codes = x.map(bin_of).to_numpy(dtype=np.int64)
    # One number of decimals for every bin label, enough to tell the bins of this range apart.
    decimals = max(0, 1 - math.floor(math.log10(float(uniq[-1] - uniq[0]))))
    labels, positions, spans = [], [], []
    for b in range(int(cut.max()) + 1):
        members = uniq[cut.to_numpy() == b]
        lo, hi = float(members.min()), float(members.max())
        labels.append(f"{lo:.{decimals}f}\N{EN DASH}{hi:.{decimals}f}")
        positions.append(float(x[codes == b].mean()))
        spans.append((lo, hi))
    return Groups(parameter, codes, labels, positions, True, spans)


def _grouping_note(groups: Sequence[Groups], sweep: SweepData) -> str:
    notes = []
    for g in groups:
        if g.binned:
            n = int(sweep.runs[g.parameter].nunique())
            notes.append(
                f"{g.parameter} binned: {len(g.labels)} quantile bins of its {n} distinct values."
            )
    pooled = [p for p in sweep.parameters if p not in {g.parameter for g in groups}]
    if pooled:
        notes.append(f"Pooled over the other swept parameters: {', '.join(pooled)}.")
    return " ".join(notes)


# --------------------------------------------------------------------------- statistics


def wilson(successes: float, n: float, z: float = _Z95) -> tuple[float, float]:
    """Wilson score interval of a proportion (NaNs when n is 0)."""
    if n <= 0:
        return math.nan, math.nan
    p = successes / n
    denom = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
    return max(0.0, centre - half), min(1.0, centre + half)


def _mean_ci(values: NDArray[np.float64]) -> tuple[float, float, float]:
    """Mean and Student-t 95% interval (the interval is NaN with fewer than two values)."""
    n = len(values)
    if n == 0:
        return math.nan, math.nan, math.nan
    mean = float(values.mean())
    if n < 2:
        return mean, math.nan, math.nan
    from scipy.stats import t

    half = float(t.ppf(0.975, n - 1)) * float(values.std(ddof=1)) / math.sqrt(n)
    return mean, mean - half, mean + half


_COUNTS = ("threats", "complied", "defied", "imposed", "backed_down", "tariffs_imposed")


def _is_binary(outcome: str, values: pd.Series[Any]) -> bool:
    """Whether an outcome is a 0/1 event (shown as a probability)."""
    if outcome.startswith("expect."):
        return True
    # Tilts, bloc statuses and counts can all be 0 or 1 by chance in a small sweep.
    if _is_tilt(outcome) or outcome.startswith("bloc_end.") or outcome in _COUNTS:
        return False
    v = values.dropna()
    return len(v) > 0 and bool(v.isin([0.0, 1.0]).all())


def _outcome_label(outcome: str, scenario: Scenario) -> str:
    """Axis label of an outcome column."""
    usa, chn = scenario.rules.alignment.tilt_powers
    parts = outcome.split(".")
    direction = f"(← {usa} | {chn} →)"
    if outcome == "mean_tilt_end":
        return f"mean tilt at the end {direction}"
    if parts[0] == "tilt_end" and len(parts) == 2:
        return f"{parts[1]} tilt at the end {direction}"
    if parts[0] == "tilt_change" and len(parts) == 2:
        return f"{parts[1]} tilt change {direction}"
    if parts[0] == "bloc_end" and len(parts) == 3:
        return f"{parts[2]} status in {parts[1]} at the end (0 none, 1 partner, 2 member)"
    if parts[0] == "expect":
        return f"P(expectation {'.'.join(parts[1:])} met)"
    if outcome in _COUNTS:
        return f"number of events: {outcome.replace('_', ' ')}"
    return outcome


def _is_tilt(outcome: str) -> bool:
    return outcome == "mean_tilt_end" or outcome.startswith(("tilt_end.", "tilt_change."))


def _outcome_values(sweep: SweepData, outcome: str) -> tuple[pd.DataFrame, int]:
    """Successful runs with a value of the outcome, and how many successful runs had none."""
    ok = sweep.ok
    has = ok[outcome].notna()
    return ok.loc[has], int((~has).sum())


# --------------------------------------------------------------------------- layout helpers


def _subtitle(*texts: str, note: str = "") -> list[tuple[str, str]]:
    """Subtitle lines with their colour: each text wrapped in grey, then the note in orange."""
    lines = [(line, QUIET) for t in texts if t for line in _lines_for(t)]
    return lines + [(line, WARN) for line in _lines_for(note)]


def _head(
    fig: Figure, height: float, left_in: float, title: str, lines: list[tuple[str, str]]
) -> None:
    """Title and subtitle lines at the top (`_top_in` inches tall)."""
    draw_title(fig, left_in, 0.14, height, title)
    for i, (line, colour) in enumerate(lines):
        fig.text(
            left_in / WIDTH_IN,
            1 - (0.38 + 0.17 * i) / height,
            line,
            fontsize=SUBTITLE_PT,
            color=colour,
            ha="left",
            va="top",
        )


def _top_in(lines: list[tuple[str, str]]) -> float:
    """Inches the title and `lines` take."""
    return 0.38 + 0.17 * len(lines)


def _tidy(ax: Any) -> None:
    ax.tick_params(labelsize=8)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)


def _sequential(n: int) -> list[tuple[float, float, float, float]]:
    """`n` colours from dark to light along viridis (its palest yellows left out)."""
    cmap = mpl.colormaps["viridis"]
    if n == 1:
        return [to_rgba(cmap(0.35))]
    return [to_rgba(cmap(0.05 + 0.8 * i / (n - 1))) for i in range(n)]


def _lines_for(text: str, width_in: float = WIDTH_IN - 1.2) -> list[str]:
    """Split a subtitle text into lines that fit `width_in` inches at its font size."""
    lines: list[str] = []
    for word in text.split():
        trial = f"{lines[-1]} {word}" if lines else word
        if lines and _text_width_pt([trial], SUBTITLE_PT)[0] <= width_in * 72:
            lines[-1] = trial
        else:
            lines.append(word)
    return lines


def _stem(*parts: str) -> str:
    return "-".join(p.replace("/", "_") for p in parts)


# --------------------------------------------------------------------------- envelopes

PANEL_H_IN = 1.9


def plot_envelopes(
    folder: str | Path | _HasPath | SweepData,
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
    by = _parameter(sweep, by)
    ts = sweep.timeseries(variable)
    if ts.empty:
        raise ResultsError(f"{sweep.path}: no successful run has a time series of {variable!r}")
    valid = list(dict.fromkeys(ts["state"]))
    if states is None:
        named = [s for s in scenario_states(sweep.scenario) if s in valid]
        chosen = named[:MAX_PANELS] or [MEAN]
    else:
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
        chosen = list(dict.fromkeys(states))

    ok = sweep.ok.reset_index(drop=True)
    groups = group_values(ok[by], by)
    group_of = pd.Series(groups.codes, index=ok["run"].to_numpy())
    frames = []
    for s in chosen:
        part: pd.DataFrame
        if s == MEAN:
            part = ts.groupby(["run", "step"])["value"].mean().reset_index()
        else:
            part = ts.loc[ts["state"] == s, ["run", "step", "value"]]
        frames.append(part.assign(panel=s))
    long = pd.concat(frames, ignore_index=True)
    long["group"] = group_of.reindex(long["run"].to_numpy()).to_numpy()
    stats = (
        long.groupby(["panel", "group", "step"])["value"]
        .quantile(np.array([0.1, 0.5, 0.9]))
        .unstack()
        .rename(columns={0.1: "lo", 0.5: "mid", 0.9: "hi"})
        .reset_index()
    )
    counts = [int((groups.codes == g).sum()) for g in range(len(groups.labels))]
    fig = _envelopes_figure(sweep, stats, groups, counts, chosen, variable, title)
    stem = _stem("envelopes", by) if variable == "tilt" else _stem("envelopes", variable, by)
    return save_figure(fig, Path(out) if out is not None else sweep.path, stem, formats)


def _envelopes_figure(
    sweep: SweepData,
    stats: pd.DataFrame,
    groups: Groups,
    counts: list[int],
    chosen: list[str],
    variable: str,
    title: str | None,
) -> Figure:
    scenario = sweep.scenario
    powers = scenario.rules.alignment.tilt_powers
    ylabel, scale = _variable_label(variable, powers)
    calendar = scenario.time.calendar()
    steps = np.sort(stats["step"].unique())
    dates = {int(k): np.datetime64(calendar.label(int(k))[:7], "D") for k in steps}
    colours = _sequential(len(groups.labels))

    what = f"tilt between {powers[0]} and {powers[1]}" if variable == "tilt" else ylabel
    head = title or f"{scenario.meta.name} sweep: {what}, by {groups.parameter}"
    lines = _subtitle(
        f"{ylabel + '. ' if variable == 'tilt' else ''}Lines: median over the runs of each "
        "group; shaded: 10th to 90th percentile.",
        f"{len(sweep.ok)} runs. {_grouping_note([groups], sweep)}",
        note=sweep.note(),
    )

    ncols = min(3, len(chosen))
    nrows = math.ceil(len(chosen) / ncols)
    left_in, right_in, legend_in, bottom_in = 0.85, 0.25, 0.62, 0.45
    top_in = _top_in(lines) + 0.12 + legend_in
    height = top_in + nrows * PANEL_H_IN + (nrows - 1) * 0.45 + bottom_in
    fig = Figure(figsize=(WIDTH_IN, height), dpi=DPI)
    axes = fig.subplots(nrows, ncols, sharex=True, sharey=True, squeeze=False)
    panel_w = (WIDTH_IN - left_in - right_in) / ncols
    fig.subplots_adjust(
        left=left_in / WIDTH_IN,
        right=1 - right_in / WIDTH_IN,
        bottom=bottom_in / height,
        top=1 - top_in / height,
        hspace=0.45 / PANEL_H_IN,
        wspace=0.2 / (panel_w - 0.2),
    )
    _head(fig, height, left_in, head, lines)
    alpha = max(0.05, 0.3 / len(groups.labels))
    lo_all, hi_all = [], []
    for n, ax in enumerate(axes.flat):
        if n >= len(chosen):
            ax.set_visible(False)
            continue
        s = chosen[n]
        sub_stats = stats.loc[stats["panel"] == s]
        if variable == "tilt":
            ax.axhline(0.0, color="0.45", lw=0.7, zorder=1.5)
        for g in range(len(groups.labels)):
            rows = sub_stats.loc[sub_stats["group"] == g].sort_values("step")
            if rows.empty:
                continue
            x = np.array([dates[int(k)] for k in rows["step"]])
            lo, mid, hi = (rows[c].to_numpy(dtype=float) * scale for c in ("lo", "mid", "hi"))
            # Bands overlap when the parameter matters little: faint fills (fainter the more
            # groups) with their edges drawn keep each one traceable.
            ax.fill_between(x, lo, hi, color=colours[g], alpha=alpha, lw=0, zorder=2)
            for edge in (lo, hi):
                ax.plot(x, edge, color=colours[g], lw=0.6, alpha=0.55, zorder=2.5)
            ax.plot(x, mid, color=colours[g], lw=1.6, zorder=3 + g * 0.01)
            lo_all.append(np.nanmin(lo))
            hi_all.append(np.nanmax(hi))
        if s == MEAN:
            name = "mean over all states"
        else:
            name = f"{s}  {scenario.states[s].name}" if s in scenario.states else s
        ax.set_title(name, loc="left", fontsize=9, color=INK, pad=3)
        ax.grid(axis="y", color="0.93", lw=0.6, zorder=0)
        _tidy(ax)
    ymin, ymax = float(min(lo_all)), float(max(hi_all))
    if variable == "tilt":
        ymin, ymax = min(ymin, 0.0), max(ymax, 0.0)
    pad = (ymax - ymin) * 0.06 or 0.05
    axes[0, 0].set_ylim(ymin - pad, ymax + pad)
    first, last = dates[int(steps[0])], dates[int(steps[-1])]
    axes[0, 0].set_xlim(first, last)
    _date_axis(axes[0, 0], maxticks=max(5, 16 // ncols))
    for ax in axes[:, 0]:
        ax.set_ylabel(
            f"← {powers[0]} | {powers[1]} →" if variable == "tilt" else variable,
            fontsize=8.5,
            color=INK,
        )
    handles = [
        Line2D([], [], color=c, lw=2.2, label=f"{lab}  (n={k})")
        for c, lab, k in zip(colours, groups.labels, counts, strict=True)
    ]
    fig.legend(
        handles=handles,
        loc="upper left",
        bbox_to_anchor=(left_in / WIDTH_IN - 0.008, 1 - (top_in - legend_in - 0.04) / height),
        ncol=len(handles),
        fontsize=8.5,
        frameon=False,
        title=groups.parameter + (" (quantile bins)" if groups.binned else ""),
        title_fontsize=8.5,
        alignment="left",
        handlelength=1.6,
        columnspacing=1.4,
    )
    return fig


# --------------------------------------------------------------------------- outcome vs parameter


@dataclass(frozen=True)
class _Stat:
    label: str
    position: float
    n: int
    centre: float
    lo: float
    hi: float
    successes: float


def _group_stats(values: pd.Series[Any], groups: Groups, binary: bool) -> list[_Stat]:
    out = []
    v = values.to_numpy(dtype=float)
    for g, (label, pos) in enumerate(zip(groups.labels, groups.positions, strict=True)):
        member = v[groups.codes == g]
        if binary:
            k = float(member.sum())
            lo, hi = wilson(k, len(member))
            centre = k / len(member) if len(member) else math.nan
            out.append(_Stat(label, pos, len(member), centre, lo, hi, k))
        else:
            mean, lo, hi = _mean_ci(member)
            out.append(_Stat(label, pos, len(member), mean, lo, hi, math.nan))
    return out


def _outcome_data(sweep: SweepData, name: str) -> tuple[str, pd.DataFrame, int, int]:
    """Outcome name, its successful rows, runs without a value, and the exact-values limit."""
    outcome = _outcome(sweep, name)
    data, missing = _outcome_values(sweep, outcome)
    if data.empty:
        raise ResultsError(f"{sweep.path}: no successful run has a value of {outcome!r}")
    # Groups must stay few enough to read; a grid axis is shown whole.
    max_exact = 10_000 if sweep.design.method == "grid" else MAX_EXACT
    return outcome, data.reset_index(drop=True), missing, max_exact


def plot_outcome(
    folder: str | Path | _HasPath | SweepData,
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
    x = _parameter(sweep, x)
    outcome, data, missing, max_exact = _outcome_data(sweep, outcome)
    groups = group_values(data[x], x, max_exact=max_exact)
    binary = _is_binary(outcome, data[outcome])
    stats = _group_stats(data[outcome], groups, binary)
    fig = _outcome_figure(sweep, data, outcome, groups, stats, binary, missing, title)
    return save_figure(
        fig, Path(out) if out is not None else sweep.path, _stem("outcome", outcome, x), formats
    )


def _outcome_figure(
    sweep: SweepData,
    data: pd.DataFrame,
    outcome: str,
    groups: Groups,
    stats: list[_Stat],
    binary: bool,
    missing: int,
    title: str | None,
) -> Figure:
    numeric = not any(math.isnan(p) for p in groups.positions)
    pos = np.array(groups.positions if numeric else range(len(groups.labels)), dtype=float)
    ylabel = _outcome_label(outcome, sweep.scenario)
    what = "probability" if binary else "mean"
    interval = "Wilson 95% interval" if binary else "95% interval of the mean"
    sub = f"Points: {what} over the runs of each group; bars: {interval}"
    if not binary:
        sub += "; grey dots: single runs"
    sub += "; pale bars: the range of each bin." if groups.binned else "."
    note = sweep.note()
    if missing:
        note += f" {missing} successful runs have no value of {outcome} and are left out."
    lines = _subtitle(
        sub, f"{len(data)} runs. {_grouping_note([groups], sweep)}", note=note.strip()
    )
    left_in, right_in, bottom_in, main_h = 0.95, 0.35, 0.7, 4.0
    top_in = _top_in(lines) + 0.15
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
    _head(
        fig,
        height,
        left_in,
        title or f"{sweep.scenario.meta.name} sweep: {outcome} against {groups.parameter}",
        lines,
    )
    colour = to_rgba("tab:blue")
    if not binary:
        # Single runs at their own parameter value; a grid's are spread a little sideways.
        xs = data[groups.parameter].astype(float).to_numpy() if numeric else pos[groups.codes]
        if not groups.binned:
            span = (pos.max() - pos.min()) if len(pos) > 1 else 1.0
            gap = float(np.min(np.diff(np.sort(pos)))) if len(pos) > 1 else span
            rng = np.random.default_rng(0)  # fixed: the same data give the same picture
            xs = pos[groups.codes] + rng.uniform(-0.12, 0.12, len(xs)) * min(gap, span)
        ax.scatter(
            xs,
            data[outcome].to_numpy(dtype=float),
            s=7,
            color="0.6",
            alpha=0.45,
            lw=0,
            zorder=1,
        )
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
    if binary:
        ax.set_ylim(-0.04, 1.12)
        ax.yaxis.set_major_formatter(PercentFormatter(1.0))
        for s in stats:
            ax.annotate(
                f"{s.successes:.0f}/{s.n}",
                (s.position if numeric else stats.index(s), min(s.hi, 1.0)),
                xytext=(0, 5),
                textcoords="offset points",
                ha="center",
                va="bottom",
                fontsize=7.5,
                color=QUIET,
            )
    elif _is_tilt(outcome):
        ax.axhline(0.0, color="0.45", lw=0.7, zorder=0.5)
    if not numeric or len(pos) <= MAX_TICKS:
        ax.set_xticks(pos, groups.labels)
    ax.set_xlabel(groups.parameter + (" (quantile bins)" if groups.binned else ""), fontsize=9)
    ax.set_ylabel(ylabel, fontsize=9)
    ax.grid(axis="y", color="0.92", lw=0.7, zorder=0)
    _tidy(ax)
    return fig


# --------------------------------------------------------------------------- heatmap


def plot_heatmap(
    folder: str | Path | _HasPath | SweepData,
    outcome: str,
    x: str,
    y: str,
    out: Path | None = None,
    formats: Sequence[str] = ("png", "svg"),
    title: str | None = None,
) -> list[Path]:
    """Draw an outcome's mean (probability for 0/1 outcomes) over two parameters; return files.

    Cells are annotated with their value (and their run count when counts differ); a design
    that is not a grid has both parameters cut into quantile bins. Files are
    `heatmap-<outcome>-<x>-<y>.*`.
    """
    formats = check_formats(formats)
    sweep = open_sweep(folder)
    x = _parameter(sweep, x)
    y = _parameter(sweep, y)
    if x == y:
        raise ResultsError(f"--x and --y are the same parameter ({x})")
    outcome, data, missing, max_exact = _outcome_data(sweep, outcome)
    gx = group_values(data[x], x, max_exact=max_exact)
    gy = group_values(data[y], y, max_exact=max_exact)
    binary = _is_binary(outcome, data[outcome])
    v = data[outcome].to_numpy(dtype=float)
    mean = np.full((len(gy.labels), len(gx.labels)), np.nan)
    count = np.zeros_like(mean, dtype=np.int64)
    for i in range(len(gy.labels)):
        for j in range(len(gx.labels)):
            cell = v[(gy.codes == i) & (gx.codes == j)]
            count[i, j] = len(cell)
            if len(cell):
                mean[i, j] = cell.mean()
    fig = _heatmap_figure(sweep, outcome, gx, gy, mean, count, binary, len(data), missing, title)
    stem = _stem("heatmap", outcome, x, y)
    return save_figure(fig, Path(out) if out is not None else sweep.path, stem, formats)


def _heatmap_figure(
    sweep: SweepData,
    outcome: str,
    gx: Groups,
    gy: Groups,
    mean: NDArray[np.float64],
    count: NDArray[np.int64],
    binary: bool,
    n_runs: int,
    missing: int,
    title: str | None,
) -> Figure:
    ny, nx = mean.shape
    label = _outcome_label(outcome, sweep.scenario)
    if binary:
        cmap, norm = mpl.colormaps["viridis"], Normalize(0.0, 1.0)
    elif _is_tilt(outcome):
        # Tilt has a meaning at 0 (neither power): a diverging map centred there.
        lim = float(np.nanmax(np.abs(mean))) or 1.0
        cmap, norm = mpl.colormaps["RdBu_r"], TwoSlopeNorm(0.0, -lim, lim)
    elif outcome.startswith("bloc_end."):
        cmap, norm = mpl.colormaps["viridis"], Normalize(0.0, 2.0)  # none .. member
    else:
        lo, hi = float(np.nanmin(mean)), float(np.nanmax(mean))
        cmap, norm = mpl.colormaps["viridis"], Normalize(lo, hi if hi > lo else lo + 1.0)
    filled = count[count > 0]
    even = len(filled) > 0 and bool((filled == filled[0]).all())
    sub = f"Cells: {'share of runs' if binary else 'mean over runs'}"
    sub += f", {int(filled[0])} runs each." if even else "; run count below each value."
    note = sweep.note()
    if missing:
        note += f" {missing} successful runs have no value of {outcome} and are left out."
    lines = _subtitle(sub, f"{n_runs} runs. {_grouping_note([gx, gy], sweep)}", note=note.strip())

    # The left margin fits the longest row label (bin labels can be long).
    left_in = 0.45 + max(_text_width_pt(gy.labels, 8.0)) / 72 + 0.1
    right_in, bottom_in = 0.4, 0.75
    cell_h = min(0.6, 4.2 / ny)
    main_h = max(2.0, cell_h * ny)
    top_in = _top_in(lines) + 0.2
    height = top_in + main_h + bottom_in
    fig = Figure(figsize=(WIDTH_IN, height), dpi=DPI)
    bar_w_in, gap_in = 0.18, 0.25
    main_w = WIDTH_IN - left_in - right_in - bar_w_in - gap_in - 0.9
    ax = fig.add_axes((left_in / WIDTH_IN, bottom_in / height, main_w / WIDTH_IN, main_h / height))
    cax = fig.add_axes(
        (
            (left_in + main_w + gap_in) / WIDTH_IN,
            bottom_in / height,
            bar_w_in / WIDTH_IN,
            main_h / height,
        )
    )
    _head(
        fig,
        height,
        left_in,
        title or f"{sweep.scenario.meta.name} sweep: {outcome}",
        lines,
    )
    masked = np.ma.masked_invalid(mean)
    image = ax.imshow(
        masked, cmap=cmap, norm=norm, origin="lower", aspect="auto", interpolation="nearest"
    )
    ax.set_facecolor("0.94")  # cells without runs
    size = 9.0 if nx * ny <= 64 else 7.0
    for i in range(ny):
        for j in range(nx):
            if count[i, j] == 0:
                ax.text(j, i, "no runs", ha="center", va="center", fontsize=7, color=QUIET)
                continue
            value = mean[i, j]
            text = f"{value:.0%}" if binary else f"{value:.3g}"
            if not even:
                text += f"\nn={count[i, j]}"
            r, g, b, _ = cmap(norm(value))
            # Dark ink on light cells and white on dark ones (relative luminance).
            ink = "white" if 0.2126 * r + 0.7152 * g + 0.0722 * b < 0.5 else INK
            ax.text(j, i, text, ha="center", va="center", fontsize=size, color=ink)
    ax.set_xticks(range(nx), gx.labels)
    ax.set_yticks(range(ny), gy.labels)
    ax.set_xlabel(gx.parameter + (" (quantile bins)" if gx.binned else ""), fontsize=9)
    ax.set_ylabel(gy.parameter + (" (quantile bins)" if gy.binned else ""), fontsize=9)
    ax.tick_params(labelsize=8, length=0)
    for side in ax.spines.values():
        side.set_visible(False)
    bar = fig.colorbar(image, cax=cax)
    bar.ax.tick_params(labelsize=8)
    if binary:
        bar.ax.yaxis.set_major_formatter(PercentFormatter(1.0))
    if len(label) > 34 and " (" in label:
        label = label.replace(" (", "\n(", 1)  # the explanation in brackets on its own line
    wrapped = [w for part in label.split("\n") for w in textwrap.wrap(part, 40)]
    bar.set_label("\n".join(wrapped), fontsize=8.5)
    bar.outline.set_visible(False)
    return fig
