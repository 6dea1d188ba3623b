"""A sweep folder edited, truncated or padded after the sweep wrote it is bad input: `geosim
plot` and `geosim sensitivity` refuse it with exit 2, naming the file and what is wrong, never
crash (exit 3) nor draw or print a result computed on rows that are not the sweep's (issue 13).

Each test spoils a copy of small finished sweeps of the test world (`made`): a grid and a Sobol
sweep, each with a point-level custom outcome.
"""

from __future__ import annotations

import copy
import json
import re
import shutil
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner, Result
from conftest import MINI
from ruamel.yaml import YAML

from sim.cli import main
from sim.design import Design
from sim.sensitivity import analyse, indices
from sim.sweep_folder import SweepFolder

CRED, BACKLASH = "rules.threats.credibility", "rules.alignment.coercion_backlash"
PB = "share(tilt[BOL] > 0, over=replicates)"
INTERNAL = re.compile(r"Traceback|internal error|This is a bug|Warning")


def invoke(*args: object) -> Result:
    return CliRunner().invoke(main, [str(a) for a in args])


def flat(text: str) -> str:
    """Output with line wrapping undone (paths may be long)."""
    return " ".join(text.split())


def refused(result: Result, *needles: object) -> None:
    """Exit 2 with every needle in the message, no traceback, no raw Python warning."""
    assert result.exit_code == 2, result.output
    assert not INTERNAL.search(result.output), result.output
    for needle in needles:
        assert str(needle) in flat(result.output), result.output


def design_file(folder: Path, name: str, text: str) -> Path:
    path = folder / f"{name}.yaml"
    path.write_text(text)
    return path


@pytest.fixture(scope="module")
def made(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Finished grid and Sobol sweeps of the small world."""
    root = tmp_path_factory.mktemp("tampering")
    scenario = root / "mini.yaml"
    with scenario.open("w", encoding="utf-8") as fh:
        YAML().dump(copy.deepcopy(MINI), fh)
    params = (
        f"parameters:\n  {CRED}: {{low: 0.2, high: 0.9}}\n  {BACKLASH}: {{low: 0.0, high: 0.3}}\n"
    )
    sobol = design_file(
        root, "sobol", f"method: sobol\nsamples: 4\ncustom_outcomes:\n  pb: '{PB}'\n{params}"
    )
    grid = ["--param", f"{CRED}=0.2:0.8:3", "--param", f"{BACKLASH}=0:0.3:2", "-n", "2"]
    designs: dict[str, list[object]] = {
        "grid": [*grid, "--outcome", f"pb={PB}"],
        "sobol": ["--design", sobol],
    }
    out = {"scenario": scenario}
    for name, args in designs.items():
        r = invoke("sweep", scenario, *args, "--out", root / name, "-q")
        assert r.exit_code == 0, r.output
        out[name] = Path(r.output.strip().splitlines()[-1])
    return out


@pytest.fixture
def copies(made: dict[str, Path], tmp_path: Path) -> dict[str, Path]:
    """Copies of the made sweep folders, free to spoil."""
    return {n: Path(shutil.copytree(made[n], tmp_path / n)) for n in ("grid", "sobol")}


def edit_manifest(folder: Path, change: Callable[[dict[str, Any]], None]) -> None:
    path = folder / "sweep.json"
    data = json.loads(path.read_text())
    change(data)
    path.write_text(json.dumps(data))


def edit_table(path: Path, change: Callable[[pa.Table], pa.Table]) -> None:
    pq.write_table(change(pq.read_table(path)), path)


def with_value(column: str, row: int, value: float) -> Callable[[pa.Table], pa.Table]:
    """A change setting one cell of a float column."""

    def change(t: pa.Table) -> pa.Table:
        values = t[column].to_numpy(zero_copy_only=False).copy()
        values[row] = value
        return t.set_column(t.schema.get_field_index(column), column, pa.array(values))

    return change


def doubled(t: pa.Table) -> pa.Table:
    return pa.concat_tables([t, t])


def halved(t: pa.Table) -> pa.Table:
    return t.slice(0, t.num_rows // 2)


def plots(folder: Path, out: Path) -> dict[str, Result]:
    """Every sweep figure of a folder: envelopes, an outcome against x, a heatmap."""
    return {
        "by": invoke("plot", folder, "--by", CRED, "--out", out),
        "x": invoke("plot", folder, "--outcome", "mean_tilt@end", "--x", CRED, "--out", out),
        "xy": invoke(
            "plot", folder, "--outcome", "mean_tilt@end", "--x", CRED, "--y", BACKLASH, "--out", out
        ),
    }


# --------------------------------------------------------------------------- 1: format_version


@pytest.mark.parametrize("version", [-1, -7, 0, 4, 3.5, "3"])
def test_every_unknown_format_version_is_refused(
    copies: dict[str, Path], tmp_path: Path, version: object
) -> None:
    for folder in (copies["grid"], copies["sobol"]):
        edit_manifest(folder, lambda d: d.update(format_version=version))
    refused(invoke("sensitivity", copies["sobol"], "--outcome", "pb"), "results format")
    refused(invoke("plot", copies["grid"], "--by", CRED, "--out", tmp_path), "results format")


# --------------------------------------------------------------------------- 2: repeated rows


def test_a_repeated_points_table_is_refused(copies: dict[str, Path]) -> None:
    edit_table(copies["sobol"] / "points.parquet", doubled)
    refused(
        invoke("sensitivity", copies["sobol"], "--outcome", "pb"),
        copies["sobol"] / "points.parquet",
        "design point 0 has 2 rows",
    )


@pytest.mark.parametrize("sweep", ["grid", "sobol"])
def test_a_repeated_runs_table_is_refused(
    copies: dict[str, Path], tmp_path: Path, sweep: str
) -> None:
    folder = copies[sweep]
    edit_table(folder / "runs.parquet", doubled)
    for result in plots(folder, tmp_path).values():
        refused(result, folder / "runs.parquet", "run 0 has 2 rows")
    if sweep == "sobol":
        for outcome in ("mean_tilt@end", "pb"):
            result = invoke("sensitivity", folder, "--outcome", outcome)
            refused(result, folder / "runs.parquet", "run 0 has 2 rows")


def test_a_run_moved_to_another_point_is_refused(copies: dict[str, Path]) -> None:
    folder = copies["sobol"]
    edit_table(folder / "runs.parquet", with_value_int("point", 3, 5))
    result = invoke("sensitivity", folder, "--outcome", "mean_tilt@end")
    refused(result, folder / "runs.parquet", "run 3 has point 5 and replicate 0")


def with_value_int(column: str, row: int, value: int) -> Callable[[pa.Table], pa.Table]:
    def change(t: pa.Table) -> pa.Table:
        values = t[column].to_numpy().copy()
        values[row] = value
        return t.set_column(t.schema.get_field_index(column), column, pa.array(values))

    return change


# --------------------------------------------------------------------------- 3: missing rows


def test_a_complete_sweep_missing_runs_is_refused(copies: dict[str, Path], tmp_path: Path) -> None:
    folder = copies["grid"]
    edit_table(folder / "runs.parquet", halved)
    for result in plots(folder, tmp_path).values():
        refused(result, folder / "runs.parquet", "holds 6 runs", "complete with 12", "incomplete")


def test_a_complete_sweep_missing_time_series_rows_is_refused(
    copies: dict[str, Path], tmp_path: Path
) -> None:
    folder = copies["grid"]
    edit_table(folder / "timeseries.parquet", halved)
    result = invoke("plot", folder, "--by", CRED, "--out", tmp_path)
    refused(result, folder / "timeseries.parquet", "rows of 'tilt'", "incomplete")


def test_time_series_rows_moved_between_runs_are_refused(
    copies: dict[str, Path], tmp_path: Path
) -> None:
    """The same row count, but one run with a row too many and another one too few."""
    folder = copies["grid"]
    edit_table(folder / "timeseries.parquet", with_value_int("run", 0, 1))
    result = invoke("plot", folder, "--by", CRED, "--out", tmp_path)
    refused(result, folder / "timeseries.parquet", "run 0 has 99 rows of 'tilt', not 100")


def unconsolidated(folder: Path) -> Path:
    """`folder` as a sweep still running leaves it: no final tables, status `running`."""
    for name in ("runs.parquet", "points.parquet", "timeseries.parquet"):
        (folder / name).unlink()
    edit_manifest(folder, lambda d: d.update(status="running"))
    return folder


def test_an_unfinished_sweep_is_still_drawn_with_a_note(
    copies: dict[str, Path], tmp_path: Path
) -> None:
    """A running sweep reads its chunks: fewer runs than planned are what it has so far."""
    folder = unconsolidated(copies["grid"])
    chunks = sorted((folder / "chunks").glob("runs-*.parquet"))
    for f in chunks[len(chunks) // 2 :]:
        key = f.name.removeprefix("runs-").removesuffix(".parquet")
        for name in (f"runs-{key}.parquet", f"ts-{key}.parquet", f"sum-{key}.json"):
            (folder / "chunks" / name).unlink(missing_ok=True)
    done = len(SweepFolder(folder).runs())
    assert 0 < done < 12
    for result in plots(folder, tmp_path).values():
        assert result.exit_code == 0, result.output
    svg = (tmp_path / f"envelopes-{CRED}.svg").read_text()
    assert f"{done} of 12 runs done" in svg


# --------------------------------------------------------------------------- 4: non-finite values


@pytest.mark.parametrize("value", [np.inf, -np.inf])
def test_an_infinite_time_series_value_is_refused(
    copies: dict[str, Path], tmp_path: Path, value: float
) -> None:
    folder = copies["grid"]
    edit_table(folder / "timeseries.parquet", with_value("value", 5, value))
    result = invoke("plot", folder, "--by", CRED, "--out", tmp_path)
    refused(result, folder / "timeseries.parquet", "column 'value' holds an infinite value")


def test_unknown_time_series_values_are_drawn_without_a_crash(
    copies: dict[str, Path], tmp_path: Path
) -> None:
    """Empty cells are values not known (results format: `value` may be null); a panel whose
    values are all unknown is drawn empty, without NumPy's warnings."""
    folder = copies["grid"]

    def unknown_bol(t: pa.Table) -> pa.Table:
        values = t["value"].to_numpy(zero_copy_only=False).copy()
        values[(t["state"].to_numpy(zero_copy_only=False) == "BOL")] = np.nan
        return t.set_column(t.schema.get_field_index("value"), "value", pa.array(values))

    edit_table(folder / "timeseries.parquet", unknown_bol)
    result = invoke("plot", folder, "--by", CRED, "--states", "BOL,MEX", "--out", tmp_path)
    assert result.exit_code == 0, result.output
    assert not INTERNAL.search(result.output), result.output


def test_a_time_series_of_only_unknown_values_is_refused(
    copies: dict[str, Path], tmp_path: Path
) -> None:
    folder = copies["grid"]
    edit_table(folder / "timeseries.parquet", lambda t: with_all("value", np.nan)(t))
    result = invoke("plot", folder, "--by", CRED, "--out", tmp_path)
    refused(result, "no successful run has a known value of 'tilt'")


def with_all(column: str, value: float) -> Callable[[pa.Table], pa.Table]:
    def change(t: pa.Table) -> pa.Table:
        values = np.full(t.num_rows, value)
        return t.set_column(t.schema.get_field_index(column), column, pa.array(values))

    return change


@pytest.mark.parametrize("column", ["mean_tilt@end", "tilt.BOL@end"])
def test_an_infinite_outcome_is_refused(
    copies: dict[str, Path], tmp_path: Path, column: str
) -> None:
    folder = copies["sobol"]
    edit_table(folder / "runs.parquet", with_value(column, 3, np.inf))
    result = invoke("plot", folder, "--outcome", column, "--x", CRED, "--out", tmp_path)
    refused(result, folder / "runs.parquet", f"column {column!r} holds an infinite value")
    result = invoke("sensitivity", folder, "--outcome", column)
    refused(result, folder / "runs.parquet", f"column {column!r} holds an infinite value")


def test_an_infinite_point_outcome_is_refused(copies: dict[str, Path]) -> None:
    folder = copies["sobol"]
    edit_table(folder / "points.parquet", with_value("pb", 2, -np.inf))
    result = invoke("sensitivity", folder, "--outcome", "pb")
    refused(result, folder / "points.parquet", "column 'pb' holds an infinite value")


def test_a_missing_parameter_value_is_refused(copies: dict[str, Path], tmp_path: Path) -> None:
    """Parameter columns always hold a value (results format): NaN there is damage."""
    folder = copies["grid"]
    edit_table(folder / "runs.parquet", with_value(CRED, 4, np.nan))
    result = invoke("plot", folder, "--outcome", "mean_tilt@end", "--x", CRED, "--out", tmp_path)
    refused(result, folder / "runs.parquet", f"column {CRED!r} has empty or NaN cells")


def test_nan_outcomes_of_a_failed_run_are_still_read(copies: dict[str, Path]) -> None:
    """A failed run has no outcomes: NaN (null) there is the format, not damage."""
    folder = copies["sobol"]

    def failed(t: pa.Table) -> pa.Table:
        t = with_value("mean_tilt@end", 0, np.nan)(t)
        status = t["status"].to_pylist()
        status[0] = "failed"
        return t.set_column(t.schema.get_field_index("status"), "status", pa.array(status))

    edit_table(folder / "runs.parquet", failed)
    runs = SweepFolder(folder).runs()
    assert runs["mean_tilt@end"].isna().sum() == 1


# --------------------------------------------------------------------------- 5: the design


@pytest.mark.parametrize(
    "change",
    [
        {"method": "morris"},
        {"method": "lhs"},
        {"samples": 8},
        {"replicates": 2},
    ],
)
def test_a_design_edited_to_other_counts_is_refused(
    copies: dict[str, Path], tmp_path: Path, change: dict[str, Any]
) -> None:
    folder = copies["sobol"]
    edit_manifest(folder, lambda d: d["design"].update(change))
    refused(
        invoke("sensitivity", folder, "--outcome", "mean_tilt@end"),
        folder / "sweep.json",
        "sweep.json's design does not match its runs",
    )
    result = invoke("plot", folder, "--outcome", "mean_tilt@end", "--x", CRED, "--out", tmp_path)
    refused(result, "sweep.json's design does not match its runs")


@pytest.mark.parametrize(
    "change",
    [
        lambda d: d["design"].update(seed=7),
        lambda d: d["design"]["parameters"][CRED].update(low=0.1),
    ],
)
def test_a_design_edited_to_other_points_is_refused_by_sensitivity(
    copies: dict[str, Path], change: Callable[[dict[str, Any]], None]
) -> None:
    """Same counts, other values: the indices would be computed on a sample never run."""
    folder = copies["sobol"]
    edit_manifest(folder, change)
    result = invoke("sensitivity", folder, "--outcome", "mean_tilt@end")
    refused(result, folder / "runs.parquet", "sweep.json's design does not match its runs")


def test_sobol_intervals_are_the_same_on_every_call(made: dict[str, Path]) -> None:
    """SALib seeds its bootstrap only for a non-zero seed; the design's seed 0 must count."""
    first = analyse(made["sobol"], ["mean_tilt@end"], write=False)
    again = analyse(made["sobol"], ["mean_tilt@end"], write=False)
    pd.testing.assert_frame_equal(first, again)


# --------------------------------------------------------------------------- 6: point outcomes


def test_plot_draws_a_point_level_outcome_against_a_parameter(
    made: dict[str, Path], tmp_path: Path
) -> None:
    result = invoke("plot", made["sobol"], "--outcome", "pb", "--x", CRED, "--out", tmp_path)
    assert result.exit_code == 0, result.output
    svg = flat((tmp_path / f"outcome-pb-{CRED}.svg").read_text())
    assert "16 design points" in svg
    assert "one value per design point" in svg


def test_plot_draws_a_heatmap_of_a_point_level_outcome(
    made: dict[str, Path], tmp_path: Path
) -> None:
    result = invoke(
        "plot", made["grid"], "--outcome", "pb", "--x", CRED, "--y", BACKLASH, "--out", tmp_path
    )
    assert result.exit_code == 0, result.output
    svg = flat((tmp_path / f"heatmap-pb-{CRED}-{BACKLASH}.svg").read_text())
    assert "6 design points" in svg


def test_plot_lists_point_level_outcomes_as_valid(made: dict[str, Path], tmp_path: Path) -> None:
    result = invoke("plot", made["sobol"], "--outcome", "pbb", "--x", CRED, "--out", tmp_path)
    refused(result, "unknown outcome 'pbb'", "did you mean 'pb'?")


def test_plot_and_sensitivity_agree_on_outcome_names(made: dict[str, Path]) -> None:
    from sim.sensitivity import check_outcomes
    from sim.sweep_plots import open_sweep

    sweep = open_sweep(made["sobol"])
    valid = check_outcomes(SweepFolder(made["sobol"]), [])
    assert sorted(valid) == sorted([*sweep.outcomes, *sweep.point_outcomes])


def test_a_point_level_outcome_of_an_unfinished_sweep_says_so(
    copies: dict[str, Path], tmp_path: Path
) -> None:
    folder = unconsolidated(copies["sobol"])
    result = invoke("plot", folder, "--outcome", "pb", "--x", CRED, "--out", tmp_path)
    refused(result, "'pb' is a point-level outcome", "when the sweep completes")


# --------------------------------------------------------------------------- 7: SALib's warnings


def test_analyse_says_salib_warnings_in_geosims_words(
    made: dict[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Whatever SALib warns of reaches the command as words (`attrs["warnings"]`), once, and
    never as a raw warning with SALib's file and line."""
    from SALib.analyze import sobol

    real = sobol.analyze

    def warning(*args: Any, **kwargs: Any) -> Any:
        warnings.warn("something odd", UserWarning, stacklevel=1)
        warnings.warn("something odd", UserWarning, stacklevel=1)
        return real(*args, **kwargs)

    monkeypatch.setattr(sobol, "analyze", warning)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a warning escaping `analyse` fails the test
        table = analyse(made["sobol"], ["mean_tilt@end", "tilt.BOL@end"], write=False)
    assert table.attrs["warnings"] == ["the sensitivity library (SALib) warned: something odd"]


def test_an_odd_number_of_morris_levels_is_a_warning_in_geosims_words() -> None:
    """SALib's sampler warns of a biased sample on odd levels (a design from before they were
    refused, built here without validation)."""
    ranges = {CRED: {"low": 0.2, "high": 0.9}, BACKLASH: {"low": 0.0, "high": 0.3}}
    design = Design.model_validate({"method": "morris", "samples": 3, "parameters": ranges})
    design = design.model_copy(update={"morris_levels": 3})
    y = np.arange(design.point_count(), dtype=float)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        table = indices(design, y)
    assert len(table.attrs["warnings"]) == 1, table.attrs["warnings"]
    assert "morris_levels is 3, an odd number" in table.attrs["warnings"][0]
