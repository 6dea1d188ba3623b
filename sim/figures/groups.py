"""Runs grouped by a swept parameter, and the statistics the sweep figures show per group.

A grid design's values are used as they are; a parameter with more distinct values than a
figure can show (any lhs/sobol design, or a long grid axis) is cut into at most `BINS` quantile
bins of its design values, and the figure says so. Other swept parameters are pooled.

Binary outcomes (every value 0 or 1, e.g. `expect.*`) are shown as probabilities with a Wilson
95% interval; other outcomes as means with a Student-t 95% interval.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from sim.figures.sweep_data import MAX_EXACT, SweepData

__all__ = [
    "BINS",
    "Groups",
    "Stat",
    "group_stats",
    "group_values",
    "grouping_note",
    "mean_ci",
    "wilson",
]

BINS = 5
"""Most quantile bins a parameter is cut into."""

_Z95 = 1.959963984540054


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

    @property
    def numeric(self) -> bool:
        """Whether the groups have positions on a number line."""
        return not any(math.isnan(p) for p in self.positions)

    @property
    def title(self) -> str:
        """The parameter, saying so when its values are binned (axis and legend titles)."""
        return self.parameter + (" (quantile bins)" if self.binned else "")

    def counts(self) -> list[int]:
        """Runs in each group."""
        return [int((self.codes == g).sum()) for g in range(len(self.labels))]


def _fmt(value: Any) -> str:
    """A parameter value as a short label."""
    if isinstance(value, bool) or not isinstance(value, int | float | np.number):
        return str(value)
    v = float(value)
    if v.is_integer() and abs(v) < 1e6:
        return str(int(v))
    return f"{v:.3g}"


def _numeric(values: pd.Series[Any]) -> bool:
    return bool(values.map(lambda v: isinstance(v, int | float | np.number)).all()) and not bool(
        values.map(lambda v: isinstance(v, bool | np.bool_)).any()
    )


def group_values(values: pd.Series[Any], parameter: str, max_exact: int = MAX_EXACT) -> Groups:
    """Group a parameter's values: as they are if few (or not numbers), else quantile bins."""
    values = values.reset_index(drop=True)
    if not _numeric(values):
        distinct = list(pd.unique(values))
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
    return _binned(x, uniq, parameter)


def _binned(x: pd.Series[float], uniq: NDArray[np.float64], parameter: str) -> Groups:
    """Quantile bins of the distinct values `uniq` of `x`."""
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


MAX_NAMED_POOLED = 6
"""Most pooled parameters a figure's note names one by one."""


def grouping_note(groups: Sequence[Groups], sweep: SweepData) -> str:
    """Which parameters were binned and which pooled (for a subtitle)."""
    notes = []
    for g in groups:
        if g.binned:
            n = int(sweep.runs[g.parameter].nunique())
            notes.append(
                f"{g.parameter} binned: {len(g.labels)} quantile bins of its {n} distinct values."
            )
    pooled = [p for p in sweep.parameters if p not in {g.parameter for g in groups}]
    if len(pooled) > MAX_NAMED_POOLED:  # a propagation draws dozens: a count reads better
        notes.append(f"Pooled over the {len(pooled)} other swept parameters (sweep.json).")
    elif pooled:
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


def mean_ci(values: NDArray[np.float64]) -> tuple[float, float, float]:
    """Mean and Student-t 95% interval (the interval is NaN with fewer than two values)."""
    n = len(values)
    if n == 0:
        return math.nan, math.nan, math.nan
    mean = float(values.mean())
    if n < 2:
        return mean, math.nan, math.nan
    from scipy.stats import t  # only here: scipy is slow to import

    half = float(t.ppf(0.975, n - 1)) * float(values.std(ddof=1)) / math.sqrt(n)
    return mean, mean - half, mean + half


@dataclass(frozen=True)
class Stat:
    """One group's estimate and 95% interval (and successes, for a probability)."""

    label: str
    position: float
    n: int
    centre: float
    lo: float
    hi: float
    successes: float


def group_stats(values: pd.Series[Any], groups: Groups, binary: bool) -> list[Stat]:
    """Per group: a probability with its Wilson interval, or a mean with its t interval."""
    out = []
    v = values.to_numpy(dtype=float)
    for g, (label, pos) in enumerate(zip(groups.labels, groups.positions, strict=True)):
        member = v[groups.codes == g]
        if binary:
            k = float(member.sum())
            lo, hi = wilson(k, len(member))
            centre = k / len(member) if len(member) else math.nan
            out.append(Stat(label, pos, len(member), centre, lo, hi, k))
        else:
            mean, lo, hi = mean_ci(member)
            out.append(Stat(label, pos, len(member), mean, lo, hi, math.nan))
    return out
