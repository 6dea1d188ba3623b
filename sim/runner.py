"""Run a scenario: replicates with seeds derived from one root seed, tables back as DataFrames
(in the results format of `sim.results_format`)."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from sim.calendar import Calendar, month_index
from sim.design import point_key
from sim.model import GeoModel
from sim.outcomes import OutcomeSet, OutcomeSpec
from sim.results_format import RUN_TABLES, TABLES, month_starts
from sim.schema.scenario import Scenario
from sim.validation import LoadedScenario
from sim.vocabulary import RunStatus

MODEL_COLUMNS = ("mean_tilt", "tariffs_in_force", "threats_outstanding")
"""Model-level series of the `model` table (the Mesa DataCollector's reporters)."""


def replicate_seeds(root: int, replicates: int) -> list[int]:
    """Per-replicate seeds: SeedSequence(root, spawn_key=(r,)), so adding replicates shifts none."""
    return [
        int(np.random.SeedSequence(root, spawn_key=(r,)).generate_state(1, dtype=np.uint64)[0])
        for r in range(replicates)
    ]


@dataclass
class Replicate:
    """One finished model run, reduced to arrays and rows (the model itself is dropped)."""

    replicate: int
    seed: int
    data: np.ndarray
    names: list[str]
    states: list[str]
    labels: list[str]
    log: list[dict[str, Any]]
    model_vars: dict[str, list[Any]]
    seconds: float


def run_once(
    scenario: Scenario, seed: int, replicate: int = 0, *, collect: bool = True
) -> Replicate:
    """Build the model with `rng=seed`, run every step, and keep what the results need."""
    start = time.perf_counter()
    model = GeoModel(scenario, rng=seed, collect=collect)
    for _ in range(model.calendar.steps):
        model.step()
    return Replicate(
        replicate=replicate,
        seed=seed,
        data=model.recorder.data,
        names=model.recorder.names,
        states=model.state_codes,
        labels=model.calendar.labels(),
        log=model.log.rows,
        model_vars=model.datacollector.model_vars,
        seconds=time.perf_counter() - start,
    )


@dataclass
class RunResult:
    """Everything `geosim run` writes, as DataFrames in the results format (`sim.results_format`),
    plus provenance. A run is a sweep of one design point (point 0) without parameters: `run` and
    `replicate` are the same id."""

    scenario: Scenario
    root_seed: int
    seeds: list[int]
    outcome_spec: OutcomeSpec
    outcome_set: OutcomeSet
    runs: pd.DataFrame
    points: pd.DataFrame
    timeseries: pd.DataFrame
    events: pd.DataFrame
    model: pd.DataFrame
    seconds: dict[str, float] = field(default_factory=dict)

    def expectations(self) -> pd.DataFrame:
        """Share of replicates meeting each expectation, against the share required."""
        rows = []
        for xid, ex in self.scenario.expect.items():
            met = self.runs[f"expect.{xid}"].astype("boolean")
            share = float(met.astype("Float64").mean()) if met.notna().any() else float("nan")
            rows.append(
                {
                    "expectation": xid,
                    "type": ex.type,
                    "description": ex.description,
                    "share": share,
                    "required": ex.share,
                    "passed": bool(share >= ex.share),
                    "scripted": bool(ex.scripted_by(self.scenario.events)),
                }
            )
        return pd.DataFrame(rows, columns=TABLES["expectations"].fixed())

    def tables(self) -> dict[str, pd.DataFrame]:
        """Every table of a run folder, by table name (`sim.results_format.RUN_TABLES`)."""
        frames = {
            "runs": self.runs,
            "points": self.points,
            "timeseries": self.timeseries,
            "events": self.events,
            "model": self.model,
            "expectations": self.expectations(),
        }
        return {name: frames[name] for name in RUN_TABLES}

    def family_types(self, table: str) -> dict[str, str]:
        """The family columns `table` holds in this run (name -> results-format type)."""
        os_ = self.outcome_set
        if table == "runs":
            return {c: _format_type(os_.dtypes[c]) for c in os_.run_columns}
        if table == "points":
            return {c: _format_type(os_.dtypes[c]) for c in os_.point_columns}
        return {}


def _format_type(dtype: str) -> str:
    """An outcome's pandas dtype name -> the results-format type name."""
    return "bool" if dtype in ("boolean", "bool") else "float64"


def run(
    scenario: Scenario | LoadedScenario,
    seed: int | None = None,
    replicates: int = 1,
    progress: Callable[[int], None] | None = None,
    outcomes: OutcomeSpec | None = None,
) -> RunResult:
    """Run independent replicates with seeds derived from `seed` (default: the scenario's).

    `outcomes` asks for extra dates and custom outcomes; it is checked (OutcomeError) before
    anything runs.
    """
    spec = scenario.scenario if isinstance(scenario, LoadedScenario) else scenario
    if replicates < 1:
        raise ValueError("replicates must be at least 1")
    outcomes = outcomes if outcomes is not None else OutcomeSpec()
    outcome_set = OutcomeSet.build(spec, outcomes)
    root = spec.time.seed if seed is None else seed
    seeds = replicate_seeds(root, replicates)
    t0 = time.perf_counter()
    reps = []
    for r, s in enumerate(seeds):
        reps.append(run_once(spec, s, r))
        if progress is not None:
            progress(r + 1)
    t1 = time.perf_counter()
    result = assemble(spec, root, seeds, reps, outcomes, outcome_set)
    result.seconds = {"simulate": t1 - t0, "tables": time.perf_counter() - t1}
    return result


def assemble(
    spec: Scenario,
    root: int,
    seeds: list[int],
    reps: list[Replicate],
    outcomes: OutcomeSpec | None = None,
    outcome_set: OutcomeSet | None = None,
) -> RunResult:
    """Turn replicate arrays into the results-format tables and evaluate the outcomes."""
    outcomes = outcomes if outcomes is not None else OutcomeSpec()
    outcome_set = outcome_set if outcome_set is not None else OutcomeSet.build(spec, outcomes)
    runs, points = _outcome_tables(spec, reps, outcome_set)
    return RunResult(
        scenario=spec,
        root_seed=root,
        seeds=seeds,
        outcome_spec=outcomes,
        outcome_set=outcome_set,
        runs=runs,
        points=points,
        timeseries=pd.concat([long_frame(rep) for rep in reps], ignore_index=True),
        events=_events(reps),
        model=_model(reps),
    )


def _ids(rep: Replicate, n: int) -> dict[str, np.ndarray]:
    """The id columns of `n` rows of one replicate (run = replicate, point 0)."""
    return {
        "run": np.full(n, rep.replicate, dtype=np.int64),
        "point": np.zeros(n, dtype=np.int64),
        "replicate": np.full(n, rep.replicate, dtype=np.int64),
    }


def _outcome_tables(
    spec: Scenario, reps: list[Replicate], outcome_set: OutcomeSet
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The runs table (one row per replicate) and the points table (the one point)."""
    calendar = spec.time.calendar()
    rows = [
        {
            "run": rep.replicate,
            "point": 0,
            "replicate": rep.replicate,
            "seed": rep.seed,
            "status": RunStatus.OK.value,
            "error": "",
            **outcome_set.evaluate_run(RunView(rep, calendar)),
        }
        for rep in reps
    ]
    fixed = TABLES["runs"].fixed()
    full = pd.DataFrame(
        rows, columns=[*fixed, *outcome_set.run_columns, *outcome_set.partial_columns]
    )
    full["seed"] = np.array([rep.seed for rep in reps], dtype=np.uint64)
    for c in outcome_set.run_columns:
        full[c] = full[c].astype(_pandas_dtype(outcome_set.dtypes[c]))
    evaluated = outcome_set.evaluate_points(full)
    points = pd.DataFrame({"point": np.zeros(1, dtype=np.int64), "point_key": [point_key({})]})
    for c in outcome_set.point_columns:
        values = evaluated.loc[evaluated["point"] == 0, c].to_numpy()
        points[c] = pd.Series(values, dtype=_pandas_dtype(outcome_set.dtypes[c]))
    return full[[*fixed, *outcome_set.run_columns]], points


def _pandas_dtype(dtype: str) -> pd.api.extensions.ExtensionDtype | np.dtype[Any]:
    """An outcome's dtype as pandas holds it: nullable boolean or float64."""
    return pd.BooleanDtype() if dtype in ("boolean", "bool") else np.dtype(np.float64)


def _events(reps: list[Replicate]) -> pd.DataFrame:
    """The event log of every replicate, in the order it was written, with timestamp dates."""
    frames = []
    for rep in reps:
        n = len(rep.log)
        steps = np.array([row["step"] for row in rep.log], dtype=np.int32)
        frame = pd.DataFrame(
            {
                **_ids(rep, n),
                "seq": np.arange(n, dtype=np.int32),
                "step": steps,
                "date": month_starts(rep.labels)[steps],
                "kind": [str(row["kind"]) for row in rep.log],
                "actor": [str(row["actor"]) for row in rep.log],
                "target": [str(row["target"] or "") for row in rep.log],
                "details": [
                    json.dumps(row["details"], sort_keys=True, default=_json_default)
                    for row in rep.log
                ],
            }
        )
        frames.append(frame.sort_values(["step", "seq"], kind="stable"))
    return pd.concat(frames, ignore_index=True)


def _model(reps: list[Replicate]) -> pd.DataFrame:
    """Model-level series (Mesa DataCollector) per replicate and step."""
    frames = []
    for rep in reps:
        n = len(rep.labels)
        frames.append(
            pd.DataFrame(
                {
                    **_ids(rep, n),
                    "step": np.arange(n, dtype=np.int32),
                    "date": month_starts(rep.labels),
                    **{
                        name: np.asarray(rep.model_vars.get(name, [np.nan] * n))
                        for name in MODEL_COLUMNS
                    },
                }
            )
        )
    return pd.concat(frames, ignore_index=True)


def _json_default(value: Any) -> Any:
    if isinstance(value, np.generic):
        return value.item()
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


def long_frame(
    rep: Replicate,
    ids: tuple[int, int, int] | None = None,
    variables: Sequence[str] | None = None,
) -> pd.DataFrame:
    """One run's long time series (the `timeseries` table's rows): one row per (step, state,
    variable) in that order, states and variables in scenario order, step 0 included, NaN (not
    known) kept as a null. `ids` is (run, point, replicate), by default (replicate, 0,
    replicate) as in a run folder; `variables` a subset (a sweep's `--timeseries`)."""
    names = list(rep.names if variables is None else variables)
    cols = [rep.names.index(v) for v in names]
    steps, n, _ = rep.data.shape
    v = len(cols)
    size = steps * n * v
    run, point, replicate = (rep.replicate, 0, rep.replicate) if ids is None else ids
    step = np.repeat(np.arange(steps, dtype=np.int32), n * v)
    values = rep.data if variables is None else rep.data[:, :, cols]
    return pd.DataFrame(
        {
            "run": np.full(size, run, dtype=np.int64),
            "point": np.full(size, point, dtype=np.int64),
            "replicate": np.full(size, replicate, dtype=np.int64),
            "step": step,
            "date": month_starts(rep.labels)[step],
            "state": pd.Categorical.from_codes(
                np.tile(np.repeat(np.arange(n), v), steps), categories=pd.Index(rep.states)
            ),
            "variable": pd.Categorical.from_codes(
                np.tile(np.arange(v), steps * n), categories=pd.Index(names)
            ),
            "value": values.reshape(-1),
        }
    )


# --------------------------------------------------------------------------- expectations


@dataclass
class RunView:
    """One replicate as expectations read it (`sim.schema.effects.RunRecord`)."""

    rep: Replicate
    calendar: Calendar

    @property
    def data(self) -> np.ndarray:
        """(steps + 1, states, variables) recorded values."""
        return self.rep.data

    @property
    def names(self) -> list[str]:
        """Variable names."""
        return self.rep.names

    @property
    def states(self) -> list[str]:
        """State codes."""
        return self.rep.states

    @property
    def log(self) -> list[dict[str, Any]]:
        """Event-log rows."""
        return self.rep.log

    def step_at(self, date: str) -> int:
        """The step whose period contains `date`."""
        return self.calendar.step_of(month_index(date))

    def column(self, name: str) -> int | None:
        """Index of a variable, or None if the run did not record it."""
        return self.rep.names.index(name) if name in self.rep.names else None
