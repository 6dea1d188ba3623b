"""The standard outcomes of a run, at the end and at extra dates, computed in a few numpy passes.

Per date D (`end` first, then the extra dates in order): `mean_tilt@D`, `tilt.<S>@D`,
`tilt_change.<S>@D` (from step 0), `bloc.<B>.<S>@D` (0 none, 1 partner, 2 member) and the log
counts of `sim.vocabulary.COUNT_OUTCOMES` (rows up to the step of D).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from sim.calendar import month_index
from sim.outcomes.ops import F
from sim.outcomes.scope import Scope
from sim.schema.effects import RunRecord
from sim.vocabulary import COUNT_OUTCOMES

END = "end"
_ALL_ROWS = np.iinfo(np.int64).max


def ordered_dates(dates: Sequence[str]) -> list[str]:
    """Extra dates deduplicated and in calendar order."""
    return sorted(set(dates), key=month_index)


def standard_names(states: Sequence[str], blocs: Sequence[str], dates: Sequence[str]) -> list[str]:
    """Column names of the standard outcomes, `end` first then `dates` as given."""
    names: list[str] = []
    for d in (END, *dates):
        names.append(f"mean_tilt@{d}")
        names += [f"tilt.{s}@{d}" for s in states]
        names += [f"tilt_change.{s}@{d}" for s in states]
        names += [f"bloc.{b}.{s}@{d}" for b in blocs for s in states]
        names += [f"{count}@{d}" for count in COUNT_OUTCOMES]
    return names


@dataclass(frozen=True)
class StandardOutcomes:
    """Precomputed steps and columns; `evaluate` reads one run's data and log."""

    names: list[str]
    variables: list[str]
    steps: NDArray[np.int64]
    """The step of each date (end first)."""
    count_steps: NDArray[np.int64]
    """The last step whose log rows each date counts (every row at the end)."""
    tilt: int
    blocs: list[int]

    @classmethod
    def build(cls, scope: Scope, blocs: Sequence[str], dates: Sequence[str]) -> StandardOutcomes:
        """Outcomes at the end and at `dates` (ordered, inside the horizon: checked before)."""
        cal = scope.calendar
        steps = [cal.steps, *(cal.step_of(month_index(d)) for d in dates)]
        return cls(
            names=standard_names(scope.states, blocs, dates),
            variables=scope.names,
            steps=np.array(steps, dtype=np.int64),
            count_steps=np.array([_ALL_ROWS, *steps[1:]], dtype=np.int64),
            tilt=scope.column["tilt"],
            blocs=[scope.column[f"bloc.{b}"] for b in blocs],
        )

    def evaluate(self, run: RunRecord) -> dict[str, float]:
        """The standard outcomes of one run, by name."""
        if list(run.names) != self.variables:
            raise ValueError(
                f"the run recorded variables {run.names}, not the scenario's {self.variables}"
            )
        data = run.data
        rows = data[self.steps]  # dates x states x variables
        tilt = rows[:, :, self.tilt]
        known = ~np.isnan(tilt)
        with np.errstate(invalid="ignore", divide="ignore"):
            mean = np.where(known, tilt, 0.0).sum(axis=1) / known.sum(axis=1)
        change = tilt - data[0, :, self.tilt]
        blocs = rows[:, :, self.blocs].transpose(0, 2, 1).reshape(len(self.steps), -1)
        parts = [mean[:, None], tilt, change, blocs, self.counts(run.log)]
        return dict(zip(self.names, np.concatenate(parts, axis=1).ravel().tolist(), strict=True))

    def counts(self, log: Sequence[dict[str, object]]) -> F:
        """Rows of each counted kind up to each date's step: dates x counts."""
        kinds = {str(kind): k for k, kind in enumerate(COUNT_OUTCOMES.values())}
        out = np.zeros((len(self.steps), len(kinds)))
        for row in log:
            k = kinds.get(str(row["kind"]))
            if k is not None:
                out[:, k] += self.count_steps >= _step(row)
        return out


def _step(row: dict[str, object]) -> int:
    step = row["step"]
    assert isinstance(step, int | np.integer)
    return int(step)
