"""A sweep folder as the sweep figures read it: manifest, design, scenario, runs and series.

Failed runs are kept in `SweepData.runs` but left out of every statistic (`SweepData.ok`); the
figures' subtitles say how many were left out (`SweepData.note`), and so for runs without a
value of an outcome and for a sweep that is not finished.

An outcome is a column of the runs table (one value per run) or, for a custom outcome that
reduces over replicates, of the points table (one value per design point, over the point's
successful runs): `outcome_data` reads either, and its `unit` says which a figure counts.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, Protocol

import pandas as pd
from pydantic import ValidationError

from sim.design import Design
from sim.errors import ResultsError
from sim.results import reading
from sim.scenario import Scenario
from sim.sensitivity import unknown_name
from sim.sweep_folder import SweepFolder
from sim.sweep_manifest import first_problem, manifest_design, series_problem
from sim.vocabulary import RUN_COLUMNS, RunStatus

__all__ = [
    "MAX_EXACT",
    "HasPath",
    "OutcomeData",
    "SweepData",
    "Unit",
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
    def point_outcomes(self) -> list[str]:
        """Outcome columns of the points table (custom outcomes over replicates), as sweep.json
        lists them (`outcome_columns.points`; the table exists once the sweep completes)."""
        listed = self.manifest.get("outcome_columns", {})
        names = listed.get("points", []) if isinstance(listed, dict) else []
        return [str(n) for n in names] if isinstance(names, list) else []

    def points(self) -> pd.DataFrame:
        """The points table: one row per design point, its parameters and point-level outcomes
        (ResultsError, exit 2, while the sweep is unfinished or if the table was damaged)."""
        with reading(self.path):
            return SweepFolder(self.path).points()

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
        folder = SweepFolder(self.path)
        with reading(self.path):
            ts = folder.timeseries(columns=["run", "step", "state", "value"], variable=variable)
        if self.manifest.get("status") == "complete":  # a running sweep's chunks still land
            per_run = (self.scenario.time.calendar().steps + 1) * len(self.scenario.states)
            problem = series_problem(ts, self.ok["run"], per_run, repr(variable))
            if problem is not None:
                raise ResultsError(f"{folder.timeseries_path() or folder.chunks}: {problem}")
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
    """The outcome column `name` (of the runs or the points table); ResultsError with the valid
    names (and a guess) if unknown."""
    valid = [*sweep.outcomes, *sweep.point_outcomes]
    if name in valid:
        return name
    raise unknown_name("outcome", name, valid, compact=True)


Unit = Literal["run", "point"]
"""What one value of an outcome belongs to: a run, or a design point (a point-level outcome)."""

_NOUNS: dict[Unit, tuple[str, str]] = {
    "run": ("run", "runs"),
    "point": ("design point", "design points"),
}
"""How the figures name a unit: singular, plural."""


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
    unit: Unit = "run"
    """What a row is: a `run`, or a design `point` (a point-level outcome)."""

    @property
    def values(self) -> pd.Series[Any]:
        """The outcome's value in each row."""
        return self.rows[self.outcome]

    @property
    def noun(self) -> str:
        """What a row is, in words: `run` or `design point`."""
        return _NOUNS[self.unit][0]

    @property
    def nouns(self) -> str:
        """What the rows are, in words: `runs` or `design points`."""
        return _NOUNS[self.unit][1]

    @property
    def level_note(self) -> str:
        """The sentence a figure of a point-level outcome adds to say so (empty for a run-level
        outcome, whose values need no explaining)."""
        if self.unit == "run":
            return ""
        return f"{self.outcome}: one value per design point, over its replicates."

    def note(self) -> str:
        """What the figure leaves out: failed runs, unfinished sweep, runs without a value."""
        note = self.sweep.note()
        if self.missing and self.unit == "point":
            note += (
                f" {self.missing} design points have no value of {self.outcome} (no successful "
                "run) and are left out."
            )
        elif self.missing:
            note += (
                f" {self.missing} successful runs have no value of {self.outcome} and are left out."
            )
        return note.strip()


def outcome_data(sweep: SweepData, name: str) -> OutcomeData:
    """The outcome `name` names, with its successful runs (a point-level outcome: its design
    points) that have a value; ResultsError if none has one."""
    outcome = resolve_outcome(sweep, name)
    # Groups must stay few enough to read; a grid axis is shown whole.
    max_exact = 10_000 if sweep.design.method == "grid" else MAX_EXACT
    if outcome not in sweep.outcomes:
        points = _point_rows(sweep, outcome)
        has = points[outcome].notna()
        if not has.any():
            raise ResultsError(f"{sweep.path}: no design point has a value of {outcome!r}")
        rows = points.loc[has].reset_index(drop=True)
        return OutcomeData(sweep, outcome, rows, int((~has).sum()), max_exact, "point")
    ok = sweep.ok
    has = ok[outcome].notna()
    if not has.any():
        raise ResultsError(f"{sweep.path}: no successful run has a value of {outcome!r}")
    rows = ok.loc[has].reset_index(drop=True)
    return OutcomeData(sweep, outcome, rows, int((~has).sum()), max_exact)


def _point_rows(sweep: SweepData, outcome: str) -> pd.DataFrame:
    """The points table, for the point-level outcome `outcome` (ResultsError if it has none)."""
    if sweep.manifest.get("status") != "complete":
        raise ResultsError(
            f"{sweep.path}: {outcome!r} is a point-level outcome (one value per design point, "
            "over its replicates), written to points.parquet when the sweep completes; run the "
            "same sweep command again to finish it"
        )
    points = sweep.points()
    if outcome not in points.columns:
        raise ResultsError(
            f"{sweep.path / 'points.parquet'}: no column {outcome!r}, which sweep.json lists as "
            "a point-level outcome (the folder was edited)"
        )
    return points
