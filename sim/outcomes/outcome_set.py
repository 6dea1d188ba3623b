"""All the outcomes of a scenario's runs, checked once: standard, expectations and custom."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from sim.calendar import month_index
from sim.outcomes.compile import Compiled, Env, compile_expression
from sim.outcomes.nodes import ExpressionError
from sim.outcomes.ops import OVER_REPLICATES, F, as_value, finite, quiet
from sim.outcomes.scope import Scope, close_matches, compact
from sim.outcomes.spec import OutcomeError, OutcomeProblem, OutcomeSpec
from sim.outcomes.standard import StandardOutcomes, ordered_dates
from sim.schema.effects import RunRecord
from sim.schema.scenario import Scenario
from sim.vocabulary import RunStatus

FLOAT, BOOLEAN = "float64", "boolean"


def partial_name(outcome: str, k: int) -> str:
    """The per-run column feeding the k-th replicates reduction of a point-level outcome."""
    return f"_partial.{outcome}.{k}"


@dataclass(frozen=True)
class OutcomeSet:
    """The outcome columns of a scenario's runs and design points, ready to evaluate."""

    run_columns: list[str]
    """Per-run public outcome columns: standard, `expect.*`, run-level custom."""
    point_columns: list[str]
    """Point-level custom outcomes (those that reduce over replicates), in the order given."""
    partial_columns: list[str]
    """Internal per-run columns feeding the point-level outcomes."""
    dtypes: dict[str, str]
    """Every column above -> `float64` or `boolean` (pandas dtype names)."""
    _spec: OutcomeSpec
    _standard: StandardOutcomes
    _scenario: Scenario
    _custom: dict[str, Compiled]

    @classmethod
    def build(cls, scenario: Scenario, spec: OutcomeSpec | None = None) -> OutcomeSet:
        """Check every outcome against `scenario`; raises OutcomeError listing all problems."""
        spec = spec or OutcomeSpec()
        scope = Scope.of(scenario)
        problems = _date_problems(spec.dates, scope)
        custom: dict[str, Compiled] = {}
        for name, text in spec.custom.items():
            try:
                custom[name] = compile_expression(text, scope)
            except ExpressionError as exc:
                problems.append(OutcomeProblem(name, exc.column, exc.message))
        if problems:
            raise OutcomeError(problems)
        standard = StandardOutcomes.build(scope, list(scenario.blocs), ordered_dates(spec.dates))
        expect = [f"expect.{x}" for x in scenario.expect]
        dtypes = dict.fromkeys(standard.names, FLOAT) | dict.fromkeys(expect, BOOLEAN)
        run_custom = [n for n, c in custom.items() if not c.point]
        points = [n for n, c in custom.items() if c.point]
        partials: list[str] = []
        for name in points:
            for k, p in enumerate(custom[name].partials):
                partials.append(partial_name(name, k))
                dtypes[partials[-1]] = BOOLEAN if p.boolean else FLOAT
        for name in (*run_custom, *points):
            dtypes[name] = BOOLEAN if custom[name].boolean else FLOAT
        return cls(
            [*standard.names, *expect, *run_custom], points, partials,
            {c: dtypes[c] for c in [*standard.names, *expect, *run_custom, *points, *partials]},
            spec, standard, scenario, custom,
        )  # fmt: skip

    def spec(self) -> OutcomeSpec:
        """The spec this set was built from."""
        return self._spec

    def evaluate_run(self, run: RunRecord) -> dict[str, float | bool | None]:
        """The run columns and partial columns of one finished run."""
        out: dict[str, float | bool | None] = dict(self._standard.evaluate(run))
        for xid, ex in self._scenario.expect.items():
            out[f"expect.{xid}"] = bool(ex.evaluate(run))
        data = run.data
        for name, c in self._custom.items():
            if not c.point:
                out[name] = c.run_value(data)
                continue
            env = Env(data=data)
            with quiet():
                for k, p in enumerate(c.partials):
                    out[partial_name(name, k)] = as_value(p.fn(env), p.boolean)
        return out

    def evaluate_points(self, runs: pd.DataFrame) -> pd.DataFrame:
        """Point-level outcomes: one row per point in `runs` (sorted), from its runs with status
        ok (all rows if there is no status column); NaN/NA where a point has no usable value."""
        points = np.sort(runs["point"].unique())
        ok = runs if "status" not in runs else runs[runs["status"] == RunStatus.OK.value]
        columns: dict[str, object] = {"point": points}
        for name in self.point_columns:
            c = self._custom[name]
            reduced = [
                _reduce(ok, partial_name(name, k), p.func, points) for k, p in enumerate(c.partials)
            ]
            with quiet():
                values = np.broadcast_to(c.fn(Env(reduced=reduced)), points.shape)
            columns[name] = _as_column(values, c.boolean)
        return pd.DataFrame(columns)

    def unknown(self, names: Sequence[str]) -> list[tuple[str, str]]:
        """(name, message) for each name that is not an outcome column, with did-you-mean."""
        valid = [*self.run_columns, *self.point_columns]
        known = set(valid)
        out = []
        for name in names:
            if name in known:
                continue
            near = close_matches(name, valid)
            if near:
                hint = f"did you mean {' or '.join(repr(n) for n in near)}?"
            else:
                hint = f"outcomes are {compact(valid)}"
            out.append((name, f"unknown outcome '{name}' ({hint})"))
        return out


def _date_problems(dates: Sequence[str], scope: Scope) -> list[OutcomeProblem]:
    cal = scope.calendar
    return [
        OutcomeProblem(
            "dates", None, f"{d} is outside the scenario's horizon, {scope.horizon()}", index=i
        )
        for i, d in enumerate(dates)
        if not cal.start <= month_index(d) <= cal.end
    ]  # fmt: skip


def _reduce(runs: pd.DataFrame, column: str, func: str, points: np.ndarray[Any, Any]) -> F:
    """One partial column reduced across each point's runs, NaN-ignoring, in `points` order
    (all NaN if no run wrote the column, as when every run failed). A mean whose sum overflows
    is NaN, not known, as in `ops`: the expression then compares and combines it as such."""
    if column not in runs:
        return np.full(len(points), np.nan)
    values = runs[column].astype("Float64")
    grouped = values.groupby(runs["point"].to_numpy()).agg(OVER_REPLICATES[func])
    return finite(grouped.reindex(points).to_numpy(dtype=np.float64, na_value=np.nan))


def _as_column(values: F, boolean: bool) -> pd.api.extensions.ExtensionArray | F:
    """A point-level outcome as a column. Its values are finite or NaN: they come from finite
    reductions (`_reduce`) and finite numbers through `ops`, which keep them so."""
    if not boolean:
        return np.array(values, dtype=np.float64)  # a copy: `values` may be a broadcast view
    known = ~np.isnan(values)
    return pd.arrays.BooleanArray(np.where(known, values != 0, False), ~known)
