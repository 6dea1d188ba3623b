"""Run a scenario: replicates with seeds derived from one root seed, tables back as DataFrames."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from sim.calendar import Calendar, month_index
from sim.model import GeoModel
from sim.schema.scenario import Scenario
from sim.validation import LoadedScenario
from sim.vocabulary import COUNT_OUTCOMES


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
    """Everything `geosim run` writes, as DataFrames, plus provenance."""

    scenario: Scenario
    root_seed: int
    seeds: list[int]
    timeseries: pd.DataFrame
    events: pd.DataFrame
    model: pd.DataFrame
    outcomes: pd.DataFrame
    summary: pd.DataFrame
    seconds: dict[str, float] = field(default_factory=dict)

    def expectations(self) -> pd.DataFrame:
        """Share of replicates meeting each expectation, against the share required."""
        rows = []
        for xid, ex in self.scenario.expect.items():
            ok = self.outcomes.loc[self.outcomes["expectation"] == xid, "met"]
            share = float(ok.mean()) if len(ok) else float("nan")
            rows.append(
                {
                    "expectation": xid,
                    "type": ex.type,
                    "description": ex.description,
                    "share": share,
                    "required": ex.share,
                    "passed": bool(share >= ex.share),
                }
            )
        return pd.DataFrame(
            rows, columns=["expectation", "type", "description", "share", "required", "passed"]
        )


def run(
    scenario: Scenario | LoadedScenario,
    seed: int | None = None,
    replicates: int = 1,
    progress: Callable[[int], None] | None = None,
) -> RunResult:
    """Run independent replicates with seeds derived from `seed` (default: the scenario's)."""
    spec = scenario.scenario if isinstance(scenario, LoadedScenario) else scenario
    if replicates < 1:
        raise ValueError("replicates must be at least 1")
    root = spec.time.seed if seed is None else seed
    seeds = replicate_seeds(root, replicates)
    t0 = time.perf_counter()
    reps = []
    for r, s in enumerate(seeds):
        reps.append(run_once(spec, s, r))
        if progress is not None:
            progress(r + 1)
    t1 = time.perf_counter()
    result = assemble(spec, root, seeds, reps)
    result.seconds = {"simulate": t1 - t0, "tables": time.perf_counter() - t1}
    return result


def assemble(spec: Scenario, root: int, seeds: list[int], reps: list[Replicate]) -> RunResult:
    """Turn replicate arrays into long tables and evaluate the expectations."""
    ts = pd.concat([_long(rep) for rep in reps], ignore_index=True)
    events = pd.DataFrame(
        [
            {
                "replicate": rep.replicate,
                **{k: v for k, v in row.items() if k != "details"},
                "details": json.dumps(row["details"], sort_keys=True, default=_json_default),
            }
            for rep in reps
            for row in rep.log
        ],
        columns=["replicate", "step", "date", "kind", "actor", "target", "details"],
    )
    model_rows = []
    for rep in reps:
        for step, values in enumerate(zip(*rep.model_vars.values(), strict=True)):
            model_rows.append(
                {
                    "replicate": rep.replicate,
                    "step": step,
                    "date": rep.labels[step],
                    **dict(zip(rep.model_vars, values, strict=True)),
                }
            )
    model = pd.DataFrame(model_rows)
    calendar = spec.time.calendar()
    outcomes = pd.DataFrame(
        [
            {"replicate": rep.replicate, "expectation": xid, "met": ex.evaluate(view)}
            for rep in reps
            for view in [RunView(rep, calendar)]
            for xid, ex in spec.expect.items()
        ],
        columns=["replicate", "expectation", "met"],
    )
    return RunResult(spec, root, seeds, ts, events, model, outcomes, _summary(reps))


def _json_default(value: Any) -> Any:
    if isinstance(value, np.generic):
        return value.item()
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


def _long(rep: Replicate) -> pd.DataFrame:
    """One row per (step, state, variable), step 0 included; NaN (not known) becomes a null."""
    steps, n, v = rep.data.shape
    step_idx = np.repeat(np.arange(steps), n * v)
    state_idx = np.tile(np.repeat(np.arange(n), v), steps)
    var_idx = np.tile(np.arange(v), steps * n)
    return pd.DataFrame(
        {
            "date": pd.Categorical.from_codes(step_idx, categories=pd.Index(rep.labels)),
            "step": step_idx.astype(np.int32),
            "replicate": np.full(steps * n * v, rep.replicate, dtype=np.int32),
            "state": pd.Categorical.from_codes(state_idx, categories=pd.Index(rep.states)),
            "variable": pd.Categorical.from_codes(var_idx, categories=pd.Index(rep.names)),
            "value": rep.data.reshape(-1),
        }
    )


def _summary(reps: list[Replicate]) -> pd.DataFrame:
    rows = []
    for rep in reps:
        first, last = rep.data[0], rep.data[-1]
        for i, state in enumerate(rep.states):
            row: dict[str, Any] = {
                "replicate": rep.replicate,
                "seed": rep.seed,
                "state": state,
                "tilt_start": first[i, 0],
                "tilt_end": last[i, 0],
                "tilt_change": last[i, 0] - first[i, 0],
            }
            for c, name in enumerate(rep.names):
                if name.startswith(("affinity.", "bloc.", "policy.")):
                    row[f"{name}_end"] = last[i, c]
            rows.append(row)
    return pd.DataFrame(rows)


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


# --------------------------------------------------------------------------- sweep outcomes


def outcome_names(spec: Scenario) -> list[str]:
    """Columns `run_outcomes` produces for a scenario, in order (fixed for a whole sweep)."""
    names = ["mean_tilt_end"]
    names += [f"tilt_end.{s}" for s in spec.states]
    names += [f"tilt_change.{s}" for s in spec.states]
    names += [f"bloc_end.{b}.{s}" for b in spec.blocs for s in spec.states]
    names += list(COUNT_OUTCOMES)
    names += [f"expect.{x}" for x in spec.expect]
    return names


def run_outcomes(rep: Replicate, spec: Scenario) -> dict[str, float]:
    """Scalar outcomes of one run: final tilts, memberships, threat counts, expectations met."""
    first, last = rep.data[0], rep.data[-1]
    col = {name: c for c, name in enumerate(rep.names)}
    out: dict[str, float] = {"mean_tilt_end": float(np.mean(last[:, 0]))}
    for i, s in enumerate(rep.states):
        out[f"tilt_end.{s}"] = float(last[i, 0])
    for i, s in enumerate(rep.states):
        out[f"tilt_change.{s}"] = float(last[i, 0] - first[i, 0])
    for b in spec.blocs:
        for i, s in enumerate(rep.states):
            out[f"bloc_end.{b}.{s}"] = float(last[i, col[f"bloc.{b}"]])
    kinds = [row["kind"] for row in rep.log]
    for name, kind in COUNT_OUTCOMES.items():
        out[name] = float(kinds.count(kind))
    view = RunView(rep, spec.time.calendar())  # one view for all of the run's expectations
    for xid, ex in spec.expect.items():
        out[f"expect.{xid}"] = float(ex.evaluate(view))
    return out


def tilt_frame(rep: Replicate, run_id: int, variables: tuple[str, ...] = ("tilt",)) -> pd.DataFrame:
    """Long rows (run, step, state, variable, value) of selected variables of one run: one per
    (step, state, variable), with a null value where it is not known."""
    cols = [rep.names.index(v) for v in variables]
    steps, n, _ = rep.data.shape
    block = rep.data[:, :, cols]  # steps x states x vars
    v = len(cols)
    return pd.DataFrame(
        {
            "run": np.full(steps * n * v, run_id, dtype=np.int64),
            "step": np.repeat(np.arange(steps, dtype=np.int32), n * v),
            "state": pd.Categorical.from_codes(
                np.tile(np.repeat(np.arange(n), v), steps), categories=pd.Index(rep.states)
            ),
            "variable": pd.Categorical.from_codes(
                np.tile(np.arange(v), steps * n), categories=pd.Index(list(variables))
            ),
            "value": block.reshape(-1),
        }
    )
