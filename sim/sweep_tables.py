"""A sweep's tables as the results format describes them (`sim.results_format`): the types of
the parameter and outcome columns, one run's row and time series, and the chunk tables.

Chunk files are internal: their runs rows carry the `_partial.*` columns that point-level
outcomes reduce at consolidation; their time series already have the final columns and order.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import pyarrow as pa

from sim.errors import GeosimError
from sim.outcomes import OutcomeSet
from sim.results_format import TABLES, conform
from sim.vocabulary import RUN_COLUMNS

if TYPE_CHECKING:
    from sim.scenario import Scenario

__all__ = [
    "TIMESERIES_KINDS",
    "format_type",
    "outcome_types",
    "parameter_types",
    "parameter_value",
    "points_types",
    "runs_table",
    "runs_types",
    "series_table",
    "timeseries_variables",
]

TIMESERIES_KINDS = ("tilt", "affinity", "none")
"""What a sweep can keep of every run's time series (`--timeseries`)."""


def timeseries_variables(kind: str, scenario: Scenario) -> tuple[str, ...]:
    """Variables a sweep keeps for `kind`: `tilt`; `affinity` adds `affinity.<P>` per power."""
    if kind == "none":
        return ()
    if kind == "tilt":
        return ("tilt",)
    if kind == "affinity":
        return ("tilt", *(f"affinity.{p}" for p in scenario.powers))
    raise GeosimError(f"--timeseries must be one of {', '.join(TIMESERIES_KINDS)}")


def format_type(dtype: str) -> str:
    """An outcome's pandas dtype name (`float64`, `boolean`) -> the results-format type."""
    return "bool" if dtype in ("boolean", "bool") else "float64"


def _value_type(values: Sequence[Any]) -> str:
    if all(isinstance(v, bool) for v in values):
        return "bool"
    if all(isinstance(v, int) and not isinstance(v, bool) for v in values):
        return "int64"
    if all(isinstance(v, int | float) and not isinstance(v, bool) for v in values):
        return "float64"
    return "string"


def parameter_types(points: Sequence[Mapping[str, Any]]) -> dict[str, str]:
    """Each swept parameter's column type over the whole design (its natural type: bool, int64
    or float64; anything else is a string, JSON for lists and mappings)."""
    if not points:
        return {}
    return {name: _value_type([pt[name] for pt in points]) for name in points[0]}


def parameter_value(value: Any, kind: str) -> Any:
    """A parameter's value as its column stores it."""
    if kind == "float64":
        return float(value)
    if kind == "string" and not isinstance(value, str):
        return json.dumps(value, sort_keys=True)
    return value


def outcome_types(outcomes: OutcomeSet, columns: Sequence[str]) -> dict[str, str]:
    """Results-format types of outcome columns."""
    return {c: format_type(outcomes.dtypes[c]) for c in columns}


def runs_types(
    params: Mapping[str, str], outcomes: OutcomeSet, partial: bool = False
) -> dict[str, str]:
    """Family columns of the runs table (chunks: `partial`, with the internal columns)."""
    extra = [*outcomes.run_columns, *(outcomes.partial_columns if partial else ())]
    return {**params, **outcome_types(outcomes, extra)}


def points_types(params: Mapping[str, str], outcomes: OutcomeSet) -> dict[str, str]:
    """Family columns of the points table."""
    return {**params, **outcome_types(outcomes, outcomes.point_columns)}


def runs_table(
    rows: list[dict[str, Any]],
    seeds: Sequence[int],
    params: Mapping[str, str],
    outcomes: OutcomeSet,
) -> pa.Table:
    """A chunk's run rows (outcomes null for failed runs) with the chunk-file schema."""
    types = runs_types(params, outcomes, partial=True)
    df = pd.DataFrame(rows).reindex(columns=[*RUN_COLUMNS, *types])
    df["seed"] = np.array(seeds, dtype=np.uint64)  # 64-bit seeds, exact
    return conform(df, TABLES["runs"], types)


def series_table(frames: list[pd.DataFrame]) -> pa.Table | None:
    """A chunk's time series (None if no run of it kept one)."""
    if not frames:
        return None
    return conform(pd.concat(frames, ignore_index=True), TABLES["timeseries"])
