"""Sweep folders in the results format: exact schemas, the consolidated time series (one file or
a folder of parts, the same bytes however the runs were spread), custom and dated outcomes all
the way to `sensitivity`, outcome mistakes located before anything runs, and a folder written
by an older format refused without being touched."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd
import polars as pl
import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner, Result
from conftest import MINI
from pandas.testing import assert_frame_equal

import sim.sweep
import sim.sweep_consolidate
from sim.cli import main
from sim.design import Design, design_from_options, run_seed
from sim.results_format import FORMAT_HISTORY, FORMAT_VERSION, TABLES, check_schema, month_starts
from sim.runner import run_once
from sim.scenario import LoadedScenario, load_scenario, scenario_from_dict
from sim.sensitivity import indices
from sim.sweep import Plan, execute, plan, sweep_path
from sim.sweep_folder import SweepFolder
from sim.vocabulary import COUNT_OUTCOMES

CRED, SHARP = "rules.threats.credibility", "rules.threats.sharpness"
BACKLASH = "rules.alignment.coercion_backlash"
FIXTURE = Path(__file__).parent / "fixtures" / "sweep_format1"
CUSTOM = {"bol_china": "tilt[BOL] > 0", "share_bol": "share(tilt[BOL] > 0, over=replicates)"}


def flat(text: str) -> str:
    """Output without whitespace: rich wraps long lines (paths) at the console width."""
    return "".join(text.split())


def invoke(*args: str | Path) -> Result:
    return CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=False)


def files_of(folder: Path) -> dict[str, bytes]:
    """Every file under `folder`, by relative path, with its bytes."""
    return {
        str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()
    }


def grid(base: LoadedScenario, replicates: int = 2) -> Plan:
    """2 x 2 grid (credibility floats, sharpness integers), a custom run-level and point-level
    outcome and an extra date."""
    design = design_from_options([f"{CRED}=0.3,0.8", f"{SHARP}=2,4"], replicates, 7)
    design = design.model_copy(update={"custom_outcomes": CUSTOM, "outcome_dates": ("2025-06",)})
    return plan(base, design)


@pytest.fixture(scope="module")
def swept(tmp_path_factory: pytest.TempPathFactory) -> tuple[Plan, SweepFolder]:
    """The grid, run in process, with run 2 (point 1, replicate 0) failing."""
    p = grid(scenario_from_dict(MINI, "mini.yaml"))
    bad = run_seed(7, p.points[1], 0)
    real = run_once

    def flaky(spec: Any, seed: int, replicate: int = 0, **kw: Any) -> Any:
        if seed == bad:
            raise RuntimeError("forced failure")
        return real(spec, seed, replicate, **kw)

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(sim.sweep, "run_once", flaky)
        out = execute(p, tmp_path_factory.mktemp("grid"), chunk_size=3)
    assert out.failed == 1
    return p, out.folder


def standard(states: list[str], blocs: list[str], date: str) -> list[str]:
    return [
        f"mean_tilt@{date}",
        *(f"tilt.{s}@{date}" for s in states),
        *(f"tilt_change.{s}@{date}" for s in states),
        *(f"bloc.{b}.{s}@{date}" for b in blocs for s in states),
        *(f"{c}@{date}" for c in COUNT_OUTCOMES),
    ]


# --------------------------------------------------------------------------- schemas


def test_runs_points_and_timeseries_have_the_described_columns(
    swept: tuple[Plan, SweepFolder],
) -> None:
    _, folder = swept
    states, blocs = list(MINI["states"]), list(MINI["blocs"])
    params = {CRED: "float64", SHARP: "int64"}
    outcomes = dict.fromkeys(
        standard(states, blocs, "end") + standard(states, blocs, "2025-06"), "float64"
    )
    expect = {f"expect.{x}": "bool" for x in MINI["expect"]}
    runs_extra = {**params, **outcomes, **expect, "bol_china": "bool"}
    points_extra = {**params, "share_bol": "float64"}
    for name, extra in (("runs", runs_extra), ("points", points_extra), ("timeseries", {})):
        schema = pq.read_schema(folder.path / f"{name}.parquet")
        assert check_schema(schema, TABLES[name], extra) == [], name
    runs = folder.runs()
    assert not [c for c in runs.columns if c.startswith("_partial")]
    assert len(runs) == 8 and runs["status"].tolist().count("failed") == 1
    failed = runs.loc[runs["status"] == "failed"].iloc[0]
    assert failed["run"] == 2 and failed["error"] == "RuntimeError: forced failure"
    assert pd.isna(failed["mean_tilt@end"]) and pd.isna(failed["expect.pan_leaves"])
    assert runs["expect.pan_leaves"].dtype == "boolean"
    assert runs[SHARP].tolist() == [2, 2, 4, 4, 2, 2, 4, 4]


def test_point_outcomes_reduce_the_successful_replicates(swept: tuple[Plan, SweepFolder]) -> None:
    _, folder = swept
    runs, points = folder.runs(), folder.points()
    ok = runs[runs["status"] == "ok"]
    expected = ok.groupby("point")["bol_china"].mean().astype(float)
    assert points["share_bol"].tolist() == pytest.approx(expected.tolist())
    assert points["point"].tolist() == [0, 1, 2, 3] and len(ok[ok["point"] == 1]) == 1
    assert list(points.columns) == ["point", "point_key", CRED, SHARP, "share_bol"]


def test_consolidated_timeseries_is_the_chunks_sorted_with_dates(
    swept: tuple[Plan, SweepFolder],
) -> None:
    p, folder = swept
    chunks = sorted(folder.chunks.glob("ts-*.parquet"))
    assert len(chunks) == 3  # chunks of 3 runs; failed run 2 has no rows
    parts = [pd.read_parquet(f) for f in chunks]
    joined = pd.concat(parts, ignore_index=True)
    joined = joined.sort_values("run", kind="stable").reset_index(drop=True)
    whole = pd.read_parquet(folder.path / "timeseries.parquet")
    assert_frame_equal(whole, joined)
    assert_frame_equal(folder.timeseries(), whole)
    assert sorted(set(whole["run"])) == [0, 1, 3, 4, 5, 6, 7]
    # sorted by run, step, state in scenario order, variable order
    keys = pd.DataFrame(
        {
            "run": whole["run"],
            "step": whole["step"],
            "state": whole["state"].cat.codes,
            "variable": whole["variable"].cat.codes,
        }
    )
    assert keys.equals(keys.sort_values(["run", "step", "state", "variable"]))
    assert list(whole["state"].cat.categories) == list(MINI["states"])
    labels = p.base.scenario.time.calendar().labels()
    dates = pd.to_datetime(month_starts(labels))
    assert (whole["date"].to_numpy() == dates[whole["step"].to_numpy()].to_numpy()).all()
    assert whole["date"].iloc[0] == pd.Timestamp("2024-12-01")


# --------------------------------------------------------------------------- split and bytes


@pytest.fixture
def small_groups(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Row groups of 3 runs (100 rows each in the small world), parts of at most 600 rows, split
    above 500 rows: a few runs exercise every boundary."""
    monkeypatch.setattr(sim.sweep_consolidate, "ROW_GROUP_ROWS", 300)
    monkeypatch.setattr(sim.sweep_consolidate, "PART_ROWS", 600)
    monkeypatch.setattr(sim.sweep_consolidate, "SPLIT_ROWS", 500)
    yield


@pytest.mark.usefixtures("small_groups")
def test_split_timeseries_reads_back_as_the_single_file(
    swept: tuple[Plan, SweepFolder], tmp_path: Path
) -> None:
    p, folder = swept
    copy = tmp_path / "sweeps" / folder.path.name
    shutil.copytree(folder.path, copy)
    execute(p, tmp_path)  # nothing left to run: consolidates again, split this time
    assert not (copy / "timeseries.parquet").exists()
    parts = sorted((copy / "timeseries").iterdir())
    assert [f.name for f in parts] == ["part-00000.parquet", "part-00001.parquet"]
    assert [pq.ParquetFile(f).metadata.num_row_groups for f in parts] == [2, 1]
    single = pd.read_parquet(folder.path / "timeseries.parquet")
    assert_frame_equal(pd.read_parquet(copy / "timeseries"), single)
    assert_frame_equal(SweepFolder(copy).timeseries(), single)
    lazy = pl.scan_parquet(copy / "timeseries" / "*.parquet").collect()
    assert lazy["run"].to_list() == single["run"].tolist()
    assert lazy["value"].to_list() == pytest.approx(single["value"].tolist(), nan_ok=True)
    glob = (copy / "timeseries" / "*.parquet").as_posix()
    got = duckdb.sql(f"SELECT count(*) AS n, sum(value) AS s FROM read_parquet('{glob}')")
    assert got is not None
    totals = got.df()
    assert totals["n"].iloc[0] == len(single)
    assert totals["s"].iloc[0] == pytest.approx(single["value"].sum())


@pytest.mark.usefixtures("small_groups")
@pytest.mark.parametrize("split", [False, True])
def test_table_bytes_do_not_depend_on_workers_or_chunks(
    base: LoadedScenario, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, split: bool
) -> None:
    if not split:
        monkeypatch.setattr(sim.sweep_consolidate, "SPLIT_ROWS", 10**9)
    p = grid(base, replicates=3)  # 12 runs: 4 row groups
    ways = {"1x1": (1, 1), "1x5": (1, 5), "2x3": (2, 3)}
    tables = {}
    for name, (workers, size) in ways.items():
        folder = execute(p, tmp_path / name, workers=workers, chunk_size=size).folder
        tables[name] = {
            k: v for k, v in files_of(folder.path).items() if not k.startswith(("chunks", "sweep"))
        }
    assert ("timeseries/part-00001.parquet" in tables["1x1"]) == split
    assert tables["1x1"] == tables["1x5"] == tables["2x3"]


# --------------------------------------------------------------------------- outcomes


MORRIS = f"""\
method: morris
samples: 2
replicates: 2
seed: 3
parameters:
  {CRED}: {{low: 0.2, high: 1.0}}
  {BACKLASH}: {{low: 0.0, high: 0.3}}
outcome_dates: [2025-06]
custom_outcomes:
  pan_tilt: tilt[PAN] * 2
  bol_china: tilt[BOL] > 0
  share_bol: "share(tilt[BOL] > 0, over=replicates)"
  mean_pan: |
    mean(tilt[PAN],
         over=replicates)
outcomes: [mean_tilt@end, tilt.PAN@2025-06, pan_tilt, mean_pan]
"""


@pytest.fixture(scope="module")
def morris(tmp_path_factory: pytest.TempPathFactory) -> SweepFolder:
    root = tmp_path_factory.mktemp("morris")
    (root / "mini.yaml").write_text(json.dumps(MINI), encoding="utf-8")
    (root / "design.yaml").write_text(MORRIS, encoding="utf-8")
    r = invoke("sweep", root / "mini.yaml", "--design", root / "design.yaml", "--out", root, "-q")
    assert r.exit_code == 0, r.output
    return SweepFolder(Path(flat(r.output)))


def test_custom_and_dated_outcomes_land_in_runs_and_points(morris: SweepFolder) -> None:
    runs, points = morris.runs(), morris.points()
    assert runs["pan_tilt"].to_numpy() == pytest.approx(2 * runs["tilt.PAN@end"].to_numpy())
    assert runs["bol_china"].dtype == "boolean"
    assert "tilt.PAN@2025-06" in runs and "mean_pan" not in runs and "share_bol" not in runs
    assert list(points.columns)[-2:] == ["share_bol", "mean_pan"]
    means = runs.groupby("point")["tilt.PAN@end"].mean().to_numpy()
    assert points["mean_pan"].to_numpy() == pytest.approx(means)
    manifest = morris.manifest()
    assert manifest["format_version"] == FORMAT_VERSION and "geosim_sweep" not in manifest
    assert manifest["outcomes"]["dates"] == ["2025-06"]
    assert manifest["outcomes"]["custom"]["share_bol"] == CUSTOM["share_bol"]


def test_sensitivity_of_run_point_and_dated_outcomes(morris: SweepFolder) -> None:
    r = invoke("sensitivity", morris.path)  # the design's outcomes
    assert r.exit_code == 0, r.output
    for name in ("mean_tilt@end", "tilt.PAN@2025-06", "pan_tilt", "mean_pan"):
        assert f"{name} (morris)" in r.output
        assert (morris.path / f"sensitivity-{name}.csv").exists()
    design = morris.design()
    saved = pd.read_csv(morris.path / "sensitivity-mean_pan.csv")
    expected = indices(design, morris.points()["mean_pan"].to_numpy())
    assert saved["mu_star"].to_numpy() == pytest.approx(expected["mu_star"].to_numpy(), rel=1e-5)
    saved = pd.read_csv(morris.path / "sensitivity-pan_tilt.csv")
    y = morris.runs().groupby("point")["pan_tilt"].mean().to_numpy()
    expected = indices(design, y)
    assert saved["mu_star"].to_numpy() == pytest.approx(expected["mu_star"].to_numpy(), rel=1e-5)
    r = invoke("sensitivity", morris.path, "--outcome", "share_bol", "--outcome", "bol_china")
    assert r.exit_code == 0, r.output
    assert "share_bol (morris)" in r.output and "bol_china (morris)" in r.output


def test_outcome_options_join_a_param_grid_and_its_fingerprint(
    base: LoadedScenario, mini_file: Path, tmp_path: Path
) -> None:
    args: list[str | Path] = [mini_file, "--param", f"{CRED}=0.3,0.8", "-n", "2", "-q"]
    args += ["--out", tmp_path]
    plain = invoke("sweep", *args)
    more = invoke("sweep", *args, "--at", "2025-06", "--outcome", "bol_china=tilt[BOL] > 0")
    assert plain.exit_code == 0 and more.exit_code == 0, more.output
    assert plain.output != more.output  # another sweep, another folder
    runs = SweepFolder(Path(flat(more.output))).runs()
    assert {"bol_china", "mean_tilt@2025-06", "threats@2025-06"} <= set(runs.columns)


# --------------------------------------------------------------------------- located errors


@pytest.mark.parametrize(
    ("line", "where"),
    [
        ("  bad: tilt[BOL] > > 0", "design.yaml:10:20"),
        ('  bad: "tilt[BOL] > > 0"', "design.yaml:10:21"),
        ("  bad: 'mean(tilt, over=stats)'", "design.yaml:10:25"),
        ("  bad: |\n    tilt[BOL] >\n      > 0", "design.yaml:12:7"),
        ("  bad: >-\n    tilt[XYZ] > 0", "design.yaml:11:10"),
    ],
)
def test_a_bad_expression_in_a_design_file_is_located_before_anything_runs(
    mini_file: Path, tmp_path: Path, line: str, where: str
) -> None:
    design = MORRIS.split("outcome_dates")[0] + "outcome_dates: [2025-06]\ncustom_outcomes:\n"
    (tmp_path / "design.yaml").write_text(design + line + "\n", encoding="utf-8")
    out = tmp_path / "out"
    r = invoke("sweep", mini_file, "--design", tmp_path / "design.yaml", "--out", out)
    assert r.exit_code == 2, r.output
    assert flat(f"{where}: custom_outcomes.bad:") in flat(r.output)
    assert not out.exists()


def test_a_bad_expression_and_a_typo_in_the_outcomes_are_reported_together(
    mini_file: Path, tmp_path: Path
) -> None:
    text = MORRIS.replace("pan_tilt: tilt[PAN] * 2", "pan_tilt: tilt[PNA] * 2").replace(
        "outcomes: [mean_tilt@end,", "outcomes: [mean_tilt@ned,"
    )
    (tmp_path / "design.yaml").write_text(text, encoding="utf-8")
    out = tmp_path / "out"
    r = invoke("sweep", mini_file, "--design", tmp_path / "design.yaml", "--out", out)
    assert r.exit_code == 2, r.output
    assert "2 problems found" in r.output
    assert flat("custom_outcomes.pan_tilt: unknown state 'PNA'") in flat(r.output)
    assert flat("outcomes[0]: unknown outcome 'mean_tilt@ned'") in flat(r.output)
    assert "outcomes[2]" not in r.output  # the broken outcome's name still counts as defined
    assert not out.exists()


def test_a_bad_outcome_option_is_located_in_the_option(mini_file: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    r = invoke(
        "sweep", mini_file, "--param", f"{CRED}=0.3,0.8", "--out", out,
        "--outcome", "x=tilt[BOL] +* 1", "--at", "2031-01",
    )  # fmt: skip
    assert r.exit_code == 2, r.output
    assert "--outcome:1:14: outcomes.custom.x:" in r.output
    assert "2031-01 is outside the scenario's horizon" in r.output
    (tmp_path / "design.yaml").write_text(MORRIS, encoding="utf-8")
    r = invoke(
        "sweep", mini_file, "--design", tmp_path / "design.yaml", "--out", out,
        "--outcome", "pan_tilt=tilt[PAN]",
    )  # fmt: skip
    assert r.exit_code == 2 and "pan_tilt" in r.output and "also defined" in r.output
    assert not out.exists()


def test_a_typo_in_the_outcomes_of_interest_stops_sweep_and_sensitivity(
    mini_file: Path, morris: SweepFolder, tmp_path: Path
) -> None:
    text = MORRIS.replace("tilt.PAN@2025-06, pan_tilt", "tilt.PAN@2025-6, pan_tlt")
    (tmp_path / "design.yaml").write_text(text, encoding="utf-8")
    out = tmp_path / "out"
    r = invoke("sweep", mini_file, "--design", tmp_path / "design.yaml", "--out", out)
    assert r.exit_code == 2, r.output
    line = text.splitlines().index(next(x for x in text.splitlines() if x.startswith("outcomes")))
    assert f"design.yaml:{line + 1}:" in r.output
    assert "outcomes[1]: unknown outcome 'tilt.PAN@2025-6' (did you mean" in r.output
    assert flat("outcomes[2]: unknown outcome 'pan_tlt' (did you mean 'pan_tilt'") in flat(r.output)
    assert not out.exists()  # nothing ran, no folder

    copy = tmp_path / "copy"
    shutil.copytree(morris.path, copy)
    for old in copy.glob("sensitivity-*.csv"):
        old.unlink()
    manifest = json.loads((copy / "sweep.json").read_text())
    manifest["design"]["outcomes"] = ["mean_tilt@end", "mean_tilt@ned"]
    (copy / "sweep.json").write_text(json.dumps(manifest))
    r = invoke("sensitivity", copy)
    assert r.exit_code == 2, r.output
    assert "design.outcomes[1]:unknownoutcome'mean_tilt@ned'(didyoumean'mean_tilt@end'" in flat(
        r.output
    )
    assert not list(copy.glob("sensitivity-*.csv"))  # checked before any was analysed
    r = invoke("sensitivity", copy, "--outcome", "pan_tilt", "--outcome", "share_bo")
    assert r.exit_code == 2 and "did you mean 'share_bol'" in r.output


# --------------------------------------------------------------------------- older formats


def test_a_format_1_sweep_folder_is_refused_untouched(tmp_path: Path) -> None:
    command = json.loads((FIXTURE / "sweep.json").read_text())["command"]
    assert command[:10] == [
        "geosim", "sweep", "latam_2025", "--param", "rules.threats.credibility=0.4,0.6",
        "-n", "2", "--seed", "7", "--chunk-size",
    ]  # fmt: skip
    p = plan(load_scenario("latam_2025"), design_from_options([f"{CRED}=0.4,0.6"], 2, 7))
    folder = sweep_path(p, tmp_path / "out")
    shutil.copytree(FIXTURE, folder)
    before = files_of(folder)
    r = invoke(*command[1:10], "1", "--out", tmp_path / "out")
    assert r.exit_code == 2, r.output
    text = flat(r.output)
    for part in (
        str(folder),
        "resultsformat1",
        f"format{FORMAT_VERSION}only",
        flat(FORMAT_HISTORY[FORMAT_VERSION]),
        "anotherout",
        "deletethefolder",
    ):
        assert flat(part) in text.replace("--", ""), part
    readers: list[list[str | Path]] = [
        ["sensitivity", folder],
        ["plot", folder, "--by", "credibility"],
    ]
    for reader in readers:
        r = invoke(*reader)
        assert r.exit_code == 2, r.output
        assert "resultsformat1" in flat(r.output) and str(folder) in flat(r.output)
    assert files_of(folder) == before
    assert sorted(p.name for p in folder.rglob("*")) == sorted(p.name for p in FIXTURE.rglob("*"))


def test_design_outcome_fields_are_part_of_the_design() -> None:
    d = Design(
        parameters={CRED: {"values": [0.1]}}, custom_outcomes=CUSTOM, outcome_dates=("2025-06",)
    )
    assert d.outcome_spec().custom == CUSTOM and d.outcome_spec().dates == ("2025-06",)
    assert d.fingerprint() != Design(parameters={CRED: {"values": [0.1]}}).fingerprint()
    with pytest.raises(ValueError, match="YYYY-MM"):
        Design(parameters={CRED: {"values": [0.1]}}, outcome_dates=("2025-6",))
    with pytest.raises(ValueError, match="column of the runs table"):
        Design(parameters={CRED: {"values": [0.1]}}, custom_outcomes={"status": "tilt[BOL]"})
