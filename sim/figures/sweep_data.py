"""A sweep folder as the sweep figures read it: manifest, design, scenario, runs and series.

Failed runs are kept in `SweepData.runs` but left out of every statistic (`SweepData.ok`); the
figures' subtitles say how many were left out (`SweepData.note`), and so for runs without a
value of an outcome and for a sweep that is not finished.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import pandas as pd
from pydantic import ValidationError

from sim.design import Design
from sim.errors import ResultsError
from sim.results import reading
from sim.scenario import Scenario
from sim.sensitivity import unknown_name
from sim.sweep_folder import SweepFolder
from sim.sweep_manifest import first_problem, manifest_design
from sim.vocabulary import RUN_COLUMNS, RunStatus

__all__ = [
    "MAX_EXACT",
    "HasPath",
    "OutcomeData",
    "SweepData",
    "open_sweep",
    "outcome_data",
    "resolve_outcome",
    "resolve_parameter",
]

MAX_EXACT = 6
"""Up to this many distinct values, a parameter's values are shown as they are."""

_RUN_COLUMNS = RUN_COLUMNS
"""Columns of the runs table that are neither parameters nor outcomes."""


class HasPath(Protocol):
    """Anything with the folder's path, such as `sim.sweep_folder.SweepFolder`."""

    path: Path


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
        return self.runs.loc[self.runs["status"] == RunStatus.OK]

    def note(self) -> str:
        """What the statistics leave out: failed runs, runs not done yet (empty if nothing)."""
        total = int(self.manifest.get("runs", len(self.runs)))
        failed = int((self.runs["status"] != RunStatus.OK).sum())
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
        """Rows (run, step, state, value) of one variable for the successful runs, sorted by
        run, step and state (scenario order); states as strings."""
        kept = [str(v) for v in self.manifest.get("timeseries", [])]
        if not kept:
            raise ResultsError(f"{self.path}: the sweep kept no time series (--timeseries none)")
        if variable not in kept:
            raise ResultsError(f"unknown variable {variable!r} (valid: {', '.join(kept)})")
        # Filtered on read: a big sweep's series are far larger than the one variable needed.
        with reading(self.path):
            ts = SweepFolder(self.path).timeseries(
                columns=["run", "step", "state", "value"], variable=variable
            )
        out = ts.loc[ts["run"].isin(self.ok["run"])].reset_index(drop=True)
        out["state"] = out["state"].astype(str)
        return out


def open_sweep(folder: str | Path | HasPath | SweepData) -> SweepData:
    """Read a sweep folder (a path, a `SweepFolder` or already-read data)."""
    if isinstance(folder, SweepData):
        return folder
    path = Path(folder.path if not isinstance(folder, str | Path) else folder)
    reader = SweepFolder(path)
    with reading(path / "sweep.json"):  # a missing or corrupt file is a bad folder (exit 2)
        manifest = reader.manifest()
    design = manifest_design(manifest)
    try:
        scenario = Scenario.model_validate(manifest["resolved_scenario"])
    except ValidationError as exc:
        problem = first_problem(exc, "resolved_scenario")
        raise ResultsError(f"{path}/sweep.json: not a geosim sweep manifest: {problem}") from None
    with reading(path):
        runs = reader.runs()
    return SweepData(path, manifest, design, scenario, runs)


def resolve_parameter(sweep: SweepData, name: str) -> str:
    """The swept parameter `name` names: its full path, or a unique trailing part of it."""
    valid = sweep.parameters
    if name in valid:
        return name
    ends = [p for p in valid if p.endswith("." + name)]
    if len(ends) == 1:
        return ends[0]
    raise unknown_name("parameter", name, valid)


def resolve_outcome(sweep: SweepData, name: str) -> str:
    """The outcome column `name`; ResultsError with the valid names (and a guess) if unknown."""
    valid = sweep.outcomes
    if name in valid:
        return name
    raise unknown_name("outcome", name, valid, compact=True)


@dataclass(frozen=True)
class OutcomeData:
    """One outcome's values: the successful runs that have one, and what was left out."""

    sweep: SweepData
    outcome: str
    rows: pd.DataFrame
    """Successful runs with a value of the outcome, indexed from 0."""
    missing: int
    """Successful runs without a value."""
    max_exact: int
    """Most distinct values of a parameter shown as they are (more are binned)."""

    @property
    def values(self) -> pd.Series[Any]:
        """The outcome's value in each row."""
        return self.rows[self.outcome]

    def note(self) -> str:
        """What the figure leaves out: failed runs, unfinished sweep, runs without a value."""
        note = self.sweep.note()
        if self.missing:
            note += (
                f" {self.missing} successful runs have no value of {self.outcome} and are left out."
            )
        return note.strip()


def outcome_data(sweep: SweepData, name: str) -> OutcomeData:
    """The outcome `name` names, with its successful rows; ResultsError if none has a value."""
    outcome = resolve_outcome(sweep, name)
    ok = sweep.ok
    has = ok[outcome].notna()
    if not has.any():
        raise ResultsError(f"{sweep.path}: no successful run has a value of {outcome!r}")
    # Groups must stay few enough to read; a grid axis is shown whole.
    max_exact = 10_000 if sweep.design.method == "grid" else MAX_EXACT
    rows = ok.loc[has].reset_index(drop=True)
    return OutcomeData(sweep, outcome, rows, int((~has).sum()), max_exact)
