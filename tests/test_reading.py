"""Reading results as users of pandas, polars and DuckDB do: no renaming, no globbing, no glue.

A notebook in test form: one run folder and one sweep folder, each opened with all three
libraries, tilt pivoted by date (dates arrive as date types, states in scenario order), the
three pivots compared with each other and with the runs table's `tilt.<S>@end` outcomes.
"""

from __future__ import annotations

from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import polars as pl
import pytest
from click.testing import CliRunner

from sim.cli import main
from sim.scenario import load_scenario

PARAM = "rules.threats.credibility"


@pytest.fixture(scope="module")
def folders(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("reading")
    cli = CliRunner()
    run = cli.invoke(
        main,
        [
            *("run", "latam_2025", "-n", "3", "--seed", "5", "--out", str(root), "--name", "r"),
            *("--no-plot", "-q", "--csv"),
        ],
    )
    assert run.exit_code == 0, run.output
    sweep = cli.invoke(
        main,
        [
            *("sweep", "latam_2025", "--param", f"{PARAM}=0.3,0.7", "-n", "2", "--seed", "5"),
            *("--out", str(root), "-q", "--csv"),
        ],
    )
    assert sweep.exit_code == 0, sweep.output
    return {"run": Path(run.output.strip()), "sweep": Path(sweep.output.strip())}


def states() -> list[str]:
    return list(load_scenario("latam_2025").scenario.states)


def pandas_pivot(folder: Path) -> pd.DataFrame:
    ts = pd.read_parquet(folder / "timeseries.parquet")
    tilt = ts[ts["variable"] == "tilt"]
    return tilt.pivot_table(
        index="date", columns="state", values="value", aggfunc="median", observed=True
    )


def polars_pivot(folder: Path) -> pl.DataFrame:
    return (
        pl.scan_parquet(folder / "timeseries.parquet")
        .filter(pl.col("variable") == "tilt")
        .group_by("date", "state")
        .agg(pl.col("value").median())
        .collect()
        .pivot(on="state", index="date", values="value")
        .sort("date")
    )


def sql(query: str) -> duckdb.DuckDBPyRelation:
    relation = duckdb.sql(query)
    assert relation is not None  # a SELECT always gives a relation
    return relation


def duckdb_pivot(folder: Path) -> pd.DataFrame:
    path = (folder / "timeseries.parquet").as_posix()
    query = (
        f"PIVOT (SELECT date, state, value FROM read_parquet('{path}') WHERE variable = 'tilt') "
        "ON state USING median(value) GROUP BY date ORDER BY date"
    )
    frame: pd.DataFrame = sql(query).df()
    return frame


@pytest.mark.parametrize("kind", ["run", "sweep"])
def test_pandas_polars_and_duckdb_pivot_tilt_by_date_alike(
    folders: dict[str, Path], kind: str
) -> None:
    folder = folders[kind]
    codes = states()
    pd_pivot = pandas_pivot(folder)
    assert pd.api.types.is_datetime64_any_dtype(pd_pivot.index), pd_pivot.index.dtype
    assert pd_pivot.index.is_monotonic_increasing
    assert pd_pivot.index[1] == pd.Timestamp("2025-01-01")  # step 1 is the first month
    assert [str(c) for c in pd_pivot.columns] == codes  # scenario order, not alphabetical

    pl_pivot = polars_pivot(folder)
    assert pl_pivot.schema["date"] in (pl.Datetime, pl.Date) or isinstance(
        pl_pivot.schema["date"], pl.Datetime
    )
    dd_pivot = duckdb_pivot(folder)
    assert pd.api.types.is_datetime64_any_dtype(dd_pivot["date"])

    expected = pd_pivot.to_numpy()
    from_polars = pl_pivot.select(codes).to_numpy()
    from_duckdb = dd_pivot[codes].to_numpy()
    np.testing.assert_allclose(from_polars, expected, rtol=0, atol=1e-12, equal_nan=True)
    np.testing.assert_allclose(from_duckdb, expected, rtol=0, atol=1e-12, equal_nan=True)
    assert list(pl_pivot["date"].to_list()) == [d.to_pydatetime() for d in pd_pivot.index]


@pytest.mark.parametrize("kind", ["run", "sweep"])
def test_runs_table_joins_the_time_series_on_run_without_renaming(
    folders: dict[str, Path], kind: str
) -> None:
    folder = folders[kind]
    runs = pd.read_parquet(folder / "runs.parquet")
    ts = pd.read_parquet(folder / "timeseries.parquet")
    last = ts[(ts["variable"] == "tilt") & (ts["date"] == ts["date"].max())]
    joined = last.merge(runs, on=["run", "point", "replicate"], validate="many_to_one")
    for code in states():
        rows = joined[joined["state"] == code]
        np.testing.assert_allclose(rows["value"], rows[f"tilt.{code}@end"], rtol=0, atol=0)
    if kind == "sweep":  # parameters ride along with every run
        assert set(joined[PARAM]) == {0.3, 0.7}
        by_param = sql(
            f'SELECT r."{PARAM}" AS p, avg(t.value) AS tilt '
            f"FROM read_parquet('{(folder / 'timeseries.parquet').as_posix()}') t "
            f"JOIN read_parquet('{(folder / 'runs.parquet').as_posix()}') r USING (run) "
            "WHERE t.variable = 'tilt' GROUP BY p ORDER BY p"
        ).fetchall()
        assert [p for p, _ in by_param] == [0.3, 0.7]


@pytest.mark.parametrize("kind", ["run", "sweep"])
def test_csv_copies_read_with_dates_by_every_library(folders: dict[str, Path], kind: str) -> None:
    folder = folders[kind]
    parquet = pd.read_parquet(folder / "runs.parquet")
    csv = pd.read_csv(folder / "runs.csv")
    assert list(csv.columns) == list(parquet.columns)
    ts_csv = pl.read_csv(folder / "timeseries.csv", try_parse_dates=True)
    assert ts_csv.schema["date"] == pl.Date
    dd = sql(f"SELECT * FROM read_csv('{(folder / 'timeseries.csv').as_posix()}')")
    assert dict(zip(dd.columns, dd.types, strict=True))["date"] == "DATE"
    assert len(ts_csv) == len(pd.read_parquet(folder / "timeseries.parquet"))
