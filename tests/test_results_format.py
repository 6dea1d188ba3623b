"""A run folder in the current results format: every table as described in
`sim.results_format`, with the outcome families OutcomeSet gives, unique sorted keys, consistent
ids, timestamp dates, CSV copies equal to the Parquet tables; a folder of the old format is
refused."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner

from sim.cli import main
from sim.errors import ResultsError
from sim.outcomes import OutcomeSet, OutcomeSpec
from sim.results import RunFolder
from sim.results_format import FORMAT_VERSION, RUN_TABLES, TABLES, check_schema, month_starts
from sim.scenario import load_scenario

FIXTURE_FORMAT1 = Path(__file__).resolve().parent / "fixtures" / "run_format1"
AT = "2025-06"
RUN_OUTCOME = "bol_china=tilt[BOL] > 0"
POINT_OUTCOME = "p_bol_china=share(tilt[BOL] > 0, over=replicates)"
REPLICATES = 2


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("fmt")
    args = ["run", "latam_2025", "-n", str(REPLICATES), "--seed", "3", "--no-plot", "-q"]
    args += ["--out", str(root), "--name", "f", "--csv", "--at", AT]
    args += ["--outcome", RUN_OUTCOME, "--outcome", POINT_OUTCOME]
    r = CliRunner().invoke(main, args)
    assert r.exit_code == 0, r.output
    return root / "latam_2025" / "f"


@pytest.fixture(scope="module")
def outcome_set() -> OutcomeSet:
    custom = dict(o.split("=", 1) for o in (RUN_OUTCOME, POINT_OUTCOME))
    spec = OutcomeSpec(dates=(AT,), custom=custom)
    return OutcomeSet.build(load_scenario("latam_2025").scenario, spec)


def families(table: str, os_: OutcomeSet) -> dict[str, str]:
    """The family columns a run folder's table must have, with their results-format types."""
    kind = {"float64": "float64", "boolean": "bool", "bool": "bool"}
    if table == "runs":
        return {c: kind[os_.dtypes[c]] for c in os_.run_columns}
    if table == "points":
        return {c: kind[os_.dtypes[c]] for c in os_.point_columns}
    return {}


def read(folder: Path, table: str) -> pd.DataFrame:
    return pd.read_parquet(folder / TABLES[table].file)


def test_every_table_matches_its_description(folder: Path, outcome_set: OutcomeSet) -> None:
    for name in RUN_TABLES:
        schema = pq.read_schema(folder / TABLES[name].file)
        assert check_schema(schema, TABLES[name], families(name, outcome_set)) == [], name


def test_outcome_columns_are_the_standard_dated_and_custom_ones(
    folder: Path, outcome_set: OutcomeSet
) -> None:
    runs = read(folder, "runs")
    assert "mean_tilt@end" in runs.columns and f"mean_tilt@{AT}" in runs.columns
    assert "tilt.BOL@end" in runs.columns and f"tilt.BOL@{AT}" in runs.columns
    assert "bol_china" in runs.columns and runs["bol_china"].dtype == bool
    assert not [c for c in runs.columns if c.startswith("_partial")]
    points = read(folder, "points")
    assert list(points.columns) == ["point", "point_key", "p_bol_china"]
    assert points["p_bol_china"].iloc[0] == pytest.approx(runs["bol_china"].mean())
    assert outcome_set.point_columns == ["p_bol_china"]


def test_keys_are_unique_and_rows_sorted_by_key(folder: Path) -> None:
    for name in RUN_TABLES:
        table = TABLES[name]
        df = read(folder, name)
        keys = df[list(table.key)].copy()
        for c in table.key:  # categories sort in scenario order, by their codes
            if isinstance(keys[c].dtype, pd.CategoricalDtype):
                keys[c] = keys[c].cat.codes
        assert not keys.duplicated().any(), name
        if name == "expectations":
            continue  # sorted in the scenario's order of expectations
        assert keys.equals(keys.sort_values(list(table.key)).reset_index(drop=True)), name


def test_ids_are_consistent_across_tables(folder: Path) -> None:
    runs = read(folder, "runs")
    assert list(runs["run"]) == list(range(REPLICATES)) == list(runs["replicate"])
    assert (runs["point"] == 0).all() and (runs["status"] == "ok").all()
    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    assert [int(s) for s in runs["seed"]] == manifest["seeds"]
    for name in ("timeseries", "events", "model"):
        df = read(folder, name)
        assert set(df["run"]) <= set(runs["run"]), name
        assert set(df["point"]) == {0}, name
        merged = df[["run", "replicate"]].merge(runs[["run", "replicate"]], on="run")
        assert (merged["replicate_x"] == merged["replicate_y"]).all(), name
    assert set(read(folder, "points")["point"]) == set(runs["point"])


def test_dates_are_timestamps_of_the_step_labels(folder: Path) -> None:
    labels = load_scenario("latam_2025").scenario.time.calendar().labels()
    starts = month_starts(labels)
    for name in ("timeseries", "events", "model"):
        df = read(folder, name)
        assert pd.api.types.is_datetime64_dtype(df["date"]), name
        got = df["date"].to_numpy().astype("datetime64[s]")
        np.testing.assert_array_equal(got, starts[df["step"].to_numpy()], err_msg=name)
    ts = read(folder, "timeseries")
    assert ts["date"].min() == pd.Timestamp("2024-12-01")  # step 0: one period before start


def test_events_keep_the_order_of_each_runs_log(folder: Path) -> None:
    ev = read(folder, "events")
    for _, grp in ev.groupby("run"):
        assert list(grp["seq"]) == list(range(len(grp)))
    assert all(isinstance(json.loads(d), dict) for d in ev["details"])


def test_csv_copies_read_back_equal_the_parquet_tables(folder: Path) -> None:
    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    assert set(manifest["outputs"]) == {f"{t}.{x}" for t in RUN_TABLES for x in ("parquet", "csv")}
    for name in RUN_TABLES:
        want = read(folder, name)
        dates = ["date"] if "date" in want.columns else []
        got = pd.read_csv(folder / f"{name}.csv", parse_dates=dates, keep_default_na=False)
        assert list(got.columns) == list(want.columns), name
        for c in want.columns:
            w, g = want[c], got[c]
            if pd.api.types.is_float_dtype(w):
                g = pd.to_numeric(g.replace("", np.nan))
                np.testing.assert_array_equal(g.to_numpy(float), w.to_numpy(float), err_msg=c)
            elif pd.api.types.is_datetime64_dtype(w):
                assert (g.to_numpy() == w.to_numpy()).all(), (name, c)
            else:
                assert [str(x) for x in g] == [str(x) for x in w], (name, c)


def test_manifest_records_the_format_and_the_outcomes(folder: Path) -> None:
    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["format_version"] == FORMAT_VERSION and "geosim_manifest" not in manifest
    assert manifest["outcomes"] == {
        "dates": [AT],
        "custom": dict(o.split("=", 1) for o in (RUN_OUTCOME, POINT_OUTCOME)),
    }


def test_run_folder_reads_every_table(folder: Path) -> None:
    rf = RunFolder.open(folder)
    assert len(rf.runs()) == REPLICATES and len(rf.points()) == 1
    assert len(rf.expectations()) == len(rf.scenario().expect)
    assert not rf.timeseries().empty and not rf.events().empty and not rf.model().empty


def test_old_format_folder_is_refused_with_what_to_do() -> None:
    with pytest.raises(ResultsError) as info:
        RunFolder.open(FIXTURE_FORMAT1)
    text = str(info.value)
    assert str(FIXTURE_FORMAT1) in text and "results format 1" in text
    assert f"this geosim reads format {FORMAT_VERSION}" in text and "re-run its command" in text
    r = CliRunner().invoke(main, ["plot", str(FIXTURE_FORMAT1), "--out", "/nonexistent/x"])
    assert r.exit_code == 2, r.output
    assert "results format 1" in " ".join(r.output.split())


def test_bad_outcome_options_are_refused_before_anything_runs(tmp_path: Path) -> None:
    args = ["run", "latam_2025", "--out", str(tmp_path), "--no-plot"]
    args += ["--at", "2040-01", "--outcome", "x=tilt[BOLL] > 0"]
    r = CliRunner().invoke(main, args)
    assert r.exit_code == 2, r.output
    assert "2040-01" in r.output and "did you mean 'BOL'" in r.output
    assert "nothing was run" in r.output
    assert not (tmp_path / "latam_2025").exists() or not any((tmp_path / "latam_2025").iterdir())
