"""A finished run folder's time series as dense arrays the run figures draw (no model code).

x is each step's date (the first day of its period, a timestamp in the results format); step
0, the initial condition, sits one period before the start. Across replicates a line is the
median and a band the 10th to 90th percentile.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from sim.errors import ResultsError
from sim.results import RunFolder

__all__ = [
    "BAND",
    "Bands",
    "FloatArray",
    "Panel",
    "check_states",
    "check_variable",
    "open_run",
    "ordered",
    "read_panel",
    "to_dates",
]

FloatArray = NDArray[np.float64]

BAND = (0.1, 0.5, 0.9)
"""Quantiles across replicates: band bottom, line, band top."""


@dataclass(frozen=True)
class Panel:
    """One variable of a run as an array: replicates x steps x states, with dates."""

    variable: str
    dates: NDArray[np.datetime64]
    states: list[str]
    values: FloatArray

    @property
    def replicates(self) -> int:
        """Number of replicates."""
        return int(self.values.shape[0])

    def quantile(self, q: float) -> FloatArray:
        """Per step and state, the q-quantile across replicates (NaN where none has data)."""
        with warnings.catch_warnings():
            # A state without a value for this variable (a tie given as null) is all-NaN: fine.
            warnings.simplefilter("ignore", RuntimeWarning)
            return np.asarray(np.nanquantile(self.values, q, axis=0), dtype=np.float64)

    def states_with_data(self) -> list[str]:
        """States with at least one value (a tie the scenario gives as null has none)."""
        return [s for i, s in enumerate(self.states) if np.isfinite(self.values[..., i]).any()]

    def bands(self, scale: float = 1.0) -> Bands:
        """The band quantiles of every state, multiplied by `scale` for display."""
        lo, mid, hi = (self.quantile(q) * scale for q in BAND)
        return Bands(lo, mid, hi, {s: i for i, s in enumerate(self.states)}, self.replicates > 1)


@dataclass(frozen=True)
class Bands:
    """Per step, the band bottom, median and band top of each state (columns by state)."""

    lo: FloatArray
    mid: FloatArray
    hi: FloatArray
    column: dict[str, int]
    banded: bool
    """Whether there is a band at all (more than one replicate)."""

    def median(self, state: str) -> FloatArray:
        """The state's median path."""
        return self.mid[:, self.column[state]]

    def band(self, state: str) -> tuple[FloatArray, FloatArray]:
        """The state's band bottom and top."""
        c = self.column[state]
        return self.lo[:, c], self.hi[:, c]

    def end(self, state: str) -> float:
        """The state's median at the last step."""
        return float(self.mid[-1, self.column[state]])

    def extent(self, states: Sequence[str]) -> tuple[float, float]:
        """Lowest and highest value drawn for `states`: band edges, or medians without bands."""
        cols = [self.column[s] for s in states]
        low, high = (self.lo, self.hi) if self.banded else (self.mid, self.mid)
        return float(np.nanmin(low[:, cols])), float(np.nanmax(high[:, cols]))


def open_run(folder: str | Path | RunFolder) -> RunFolder:
    """A run folder from its path (or the folder itself)."""
    return folder if isinstance(folder, RunFolder) else RunFolder.open(folder)


def to_dates(values: Iterable[Any]) -> NDArray[np.datetime64]:
    """Dates of a table's `date` column (timestamps), or period labels (`YYYY-MM`), as days."""
    stamps = pd.to_datetime(pd.Index([str(v) for v in values]), format="ISO8601")
    return np.asarray(stamps.to_numpy().astype("datetime64[D]"))


def ordered(series: pd.Series[Any]) -> list[str]:
    """Distinct values as strings, in order of first appearance (the model's order)."""
    return [str(v) for v in pd.unique(series.astype(str))]


def read_panel(ts: pd.DataFrame, variable: str) -> Panel:
    """Reshape the long table's rows for `variable` into a dense array."""
    steps = ts[["step", "date"]].drop_duplicates("step").sort_values("step")
    step_ix = pd.Index(steps["step"].to_numpy())
    states = ordered(ts["state"])
    reps = pd.Index(np.sort(ts["replicate"].unique()))
    sub = ts.loc[ts["variable"].astype(str) == variable]
    values = np.full((len(reps), len(step_ix), len(states)), np.nan)
    values[
        reps.get_indexer(pd.Index(sub["replicate"])),
        step_ix.get_indexer(pd.Index(sub["step"])),
        pd.Index(states).get_indexer(pd.Index(sub["state"].astype(str))),
    ] = sub["value"].to_numpy(dtype=np.float64)
    return Panel(variable, to_dates(steps["date"]), states, values)


def check_states(wanted: Sequence[str] | None, valid: Sequence[str]) -> list[str] | None:
    """The states asked for, deduplicated; ResultsError naming the valid codes if one is unknown."""
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


def check_variable(variable: str, ts: pd.DataFrame) -> None:
    """ResultsError naming the valid variables unless the time series has `variable`."""
    valid = ordered(ts["variable"])
    if variable not in valid:
        raise ResultsError(f"unknown variable {variable!r} (valid: {', '.join(valid)})")
