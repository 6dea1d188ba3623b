"""Sweep figures read real sweep folders of the small world and say what they leave out."""

from __future__ import annotations

import math
import re
import subprocess
import sys
import xml.etree.ElementTree as ET
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from conftest import MINI
from helpers import imported_modules

import sim.sweep
import sim.sweep_plots
from sim.cli import main
from sim.design import Design, design_from_options
from sim.errors import ResultsError
from sim.results import write_run
from sim.runner import run, run_once
from sim.scenario import Scenario, scenario_from_dict
from sim.sweep import execute, plan
from sim.sweep_folder import SweepFolder
from sim.sweep_plots import (
    group_values,
    open_sweep,
    plot_envelopes,
    plot_heatmap,
    plot_outcome,
    wilson,
)

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
CRED, BACKLASH = "rules.threats.credibility", "rules.alignment.coercion_backlash"


def make_sweep(
    root: Path,
    design: Design,
    fail: Callable[[Scenario, int], bool] | None = None,
    timeseries: str = "tilt",
) -> Path:
    """Run a sweep of the small world in-process; runs for which `fail` is true raise."""
    with pytest.MonkeyPatch.context() as mp:
        if fail is not None:
            real = run_once

            def flaky(spec: Scenario, seed: int, replicate: int = 0, **kw: Any) -> Any:
                if fail(spec, replicate):
                    raise RuntimeError("forced failure")
                return real(spec, seed, replicate, **kw)

            mp.setattr(sim.sweep, "run_once", flaky)
        p = plan(scenario_from_dict(MINI), design, timeseries)
        return execute(p, root).folder.path


def grid_design(replicates: int = 4) -> Design:
    return design_from_options([f"{CRED}=0.2:1.0:3", f"{BACKLASH}=0,0.3"], replicates, 1)


@pytest.fixture(scope="module")
def grid(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """3 x 2 grid points x 4 replicates."""
    return make_sweep(tmp_path_factory.mktemp("grid"), grid_design())


@pytest.fixture(scope="module")
def sobol(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A Sobol design: 16 points with 8 distinct values per parameter, 2 replicates."""
    design = Design(
        method="sobol",
        parameters={CRED: {"low": 0.2, "high": 1.0}, BACKLASH: {"low": 0.0, "high": 0.3}},
        samples=4,
        replicates=2,
        seed=1,
    )
    return make_sweep(tmp_path_factory.mktemp("sobol"), design)


@pytest.fixture(scope="module")
def failing(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The grid sweep where replicate 3 of the points with credibility > 0.5 fails (4 runs)."""
    return make_sweep(
        tmp_path_factory.mktemp("failing"),
        grid_design(),
        fail=lambda spec, r: r == 3 and spec.rules.threats.credibility > 0.5,
    )


def svg_texts(path: Path) -> list[str]:
    """All text in an SVG file (parsing it proves it is well-formed XML)."""
    root = ET.parse(path).getroot()
    return ["".join(el.itertext()) for el in root.iter("{http://www.w3.org/2000/svg}text")]


def svg_text(path: Path) -> str:
    return " ".join(svg_texts(path))


# --------------------------------------------------------------------------- envelopes


def test_envelopes_write_png_and_svg_into_the_sweep_folder(grid: Path) -> None:
    paths = plot_envelopes(grid, by=CRED)
    assert [p.name for p in paths] == [f"envelopes-{CRED}.png", f"envelopes-{CRED}.svg"]
    assert all(p.parent == grid for p in paths)
    assert paths[0].read_bytes()[:8] == PNG_MAGIC
    texts = svg_texts(paths[1])
    assert CRED in texts  # the legend names the parameter ...
    for value in ("0.2  (n=8)", "0.6  (n=8)", "1  (n=8)"):  # ... and each value, with its runs
        assert value in texts
    # Default panels: the states the scenario's events name.
    assert {"PAN  Panama", "MEX  Mexico", "BOL  Bolivia"} <= set(texts)
    assert f"Pooled over the other swept parameters: {BACKLASH}." in svg_text(paths[1])
    assert not [p.name for p in grid.iterdir() if p.name.startswith(".")]  # no temp files


def test_envelopes_of_chosen_states_and_the_mean(grid: Path, tmp_path: Path) -> None:
    (svg,) = plot_envelopes(grid, by=BACKLASH, out=tmp_path, states=["mean", "BRA"], formats="svg")
    texts = svg_texts(svg)
    assert "mean over all states" in texts and "BRA  Brazil" in texts
    assert "PAN  Panama" not in texts
    with pytest.raises(ResultsError, match=r"unknown state 'XXX' \(valid: mean, BRA"):
        plot_envelopes(grid, by=BACKLASH, out=tmp_path, states=["XXX"])
    with pytest.raises(ResultsError, match=r"unknown variable 'affinity\.USA'"):
        plot_envelopes(grid, by=BACKLASH, out=tmp_path, variable="affinity.USA")


def test_envelopes_bin_a_continuous_design(sobol: Path, tmp_path: Path) -> None:
    (svg,) = plot_envelopes(sobol, by="credibility", out=tmp_path, formats=["svg"])
    text = svg_text(svg)
    assert f"{CRED} (quantile bins)" in text
    assert f"{CRED} binned: 5 quantile bins of its 8 distinct values." in text
    assert text.count("\N{EN DASH}") >= 5  # bin labels are ranges


def test_envelopes_need_time_series(tmp_path: Path) -> None:
    design = design_from_options([f"{CRED}=0.2,0.8"], 1, 1)
    folder = make_sweep(tmp_path, design, timeseries="none")
    with pytest.raises(ResultsError, match="kept no time series"):
        plot_envelopes(folder, by=CRED)


# --------------------------------------------------------------------------- outcome


def test_binary_outcome_is_a_probability_with_wilson_intervals(grid: Path, tmp_path: Path) -> None:
    paths = plot_outcome(grid, "expect.mex_complies", x=CRED, out=tmp_path)
    assert [p.name for p in paths] == [
        f"outcome-expect.mex_complies-{CRED}.png",
        f"outcome-expect.mex_complies-{CRED}.svg",
    ]
    assert paths[0].read_bytes()[:8] == PNG_MAGIC
    texts = svg_texts(paths[1])
    assert "Wilson 95% interval" in " ".join(texts)
    assert sum(t.endswith("/8") for t in texts) == 3  # successes/runs above each point
    assert "P(expectation mex_complies met)" in texts
    assert CRED in texts  # x axis label


def test_continuous_outcome_is_a_mean_with_runs_scattered(sobol: Path, tmp_path: Path) -> None:
    (svg,) = plot_outcome(sobol, "mean_tilt@end", x=BACKLASH, out=tmp_path, formats=["svg"])
    text = svg_text(svg)
    assert "95% interval of the mean" in text and "grey dots: single runs" in text
    assert f"{BACKLASH} (quantile bins)" in text
    assert "Pooled over the other swept parameters: rules.threats.credibility." in text


def test_wilson_interval() -> None:
    lo, hi = wilson(5, 10)
    assert lo == pytest.approx(0.2366, abs=1e-4) and hi == pytest.approx(0.7634, abs=1e-4)
    lo, hi = wilson(0, 10)
    assert lo == 0.0 and hi == pytest.approx(0.2775, abs=1e-4)
    assert all(math.isnan(v) for v in wilson(0, 0))  # no runs, no interval


def test_grouping_keeps_few_values_and_bins_many() -> None:
    import pandas as pd

    few = group_values(pd.Series([0.1, 0.3, 0.1, 0.2]), "p")
    assert few.labels == ["0.1", "0.2", "0.3"] and not few.binned
    assert few.codes.tolist() == [0, 2, 0, 1]
    many = group_values(pd.Series([i / 20 for i in range(20)]), "p")
    assert many.binned and len(many.labels) == 5
    assert many.labels[0] == "0.00\N{EN DASH}0.15"
    words = group_values(pd.Series(["a", "b", "a"]), "p")
    assert words.labels == ["a", "b"] and not words.binned


# --------------------------------------------------------------------------- heatmap


def test_heatmap_of_a_grid_annotates_every_cell(grid: Path, tmp_path: Path) -> None:
    paths = plot_heatmap(grid, "mean_tilt@end", x=CRED, y=BACKLASH, out=tmp_path)
    assert paths[1].name == f"heatmap-mean_tilt@end-{CRED}-{BACKLASH}.svg"
    assert paths[0].read_bytes()[:8] == PNG_MAGIC
    texts = svg_texts(paths[1])
    cells = [t for t in texts if re.fullmatch(r"-?\d\.\d{2,}", t)]  # axis values have one decimal
    assert len(cells) >= 6  # one value per cell (3 x 2)
    assert "Cells: mean over runs, 4 runs each." in texts
    assert {"0.2", "0.6", "1", "0", "0.3"} <= set(texts)  # axis values
    (svg,) = plot_heatmap(grid, "expect.mex_complies", CRED, BACKLASH, out=tmp_path, formats="svg")
    assert sum(t.endswith("%") for t in svg_texts(svg)) >= 6  # probabilities


def test_heatmap_bins_both_axes_of_other_designs(sobol: Path, tmp_path: Path) -> None:
    (svg,) = plot_heatmap(sobol, "tilt.PAN@end", CRED, BACKLASH, out=tmp_path, formats="svg")
    text = svg_text(svg)
    assert f"{CRED} (quantile bins)" in text and f"{BACKLASH} (quantile bins)" in text
    with pytest.raises(ResultsError, match="same parameter"):
        plot_heatmap(sobol, "tilt.PAN@end", CRED, "credibility", out=tmp_path)


# --------------------------------------------------------------------------- errors


def test_unknown_names_list_the_valid_ones(grid: Path, tmp_path: Path) -> None:
    with pytest.raises(ResultsError) as exc:
        plot_outcome(grid, "mean_tilt@end", x="credibilty", out=tmp_path)
    msg = str(exc.value)
    assert f"did you mean '{CRED}'" in msg and f"valid: {CRED}, {BACKLASH}" in msg
    with pytest.raises(ResultsError) as exc:
        plot_heatmap(grid, "expect.mex_comply", CRED, BACKLASH, out=tmp_path)
    msg = str(exc.value)
    assert "did you mean 'expect.mex_complies'" in msg
    assert "mean_tilt@end" in msg and "tilt.{BRA,BOL,PAN,MEX}@end" in msg
    with pytest.raises(ResultsError, match="not a geosim sweep folder"):
        plot_envelopes(tmp_path, by=CRED)


def test_failed_runs_are_left_out_and_said(failing: Path, tmp_path: Path) -> None:
    sweep = open_sweep(failing)
    assert (sweep.runs["status"] == "failed").sum() == 4
    note = "4 of 24 runs failed and are excluded"
    (env,) = plot_envelopes(failing, by=CRED, out=tmp_path, formats="svg")
    texts = svg_texts(env)
    assert any(note in t for t in texts)
    assert {"0.2  (n=8)", "0.6  (n=6)", "1  (n=6)"} <= set(texts)  # counts without the failures
    (out,) = plot_outcome(failing, "expect.mex_complies", CRED, out=tmp_path, formats="svg")
    assert note in svg_text(out) and "20 runs." in svg_text(out)
    (heat,) = plot_heatmap(failing, "mean_tilt@end", CRED, BACKLASH, out=tmp_path, formats="svg")
    assert note in svg_text(heat) and "n=3" in svg_texts(heat)  # uneven cells show counts


def test_accepts_a_sweep_folder_object(grid: Path, tmp_path: Path) -> None:
    paths = plot_outcome(SweepFolder(grid), "threats@end", x=BACKLASH, out=tmp_path, formats="png")
    assert paths == [tmp_path / f"outcome-threats@end-{BACKLASH}.png"]


# --------------------------------------------------------------------------- CLI


def test_cli_plot_dispatches_on_a_sweep_folder(grid: Path, tmp_path: Path) -> None:
    cli = CliRunner()
    base = ["plot", str(grid), "--out", str(tmp_path), "--format", "svg"]
    res = cli.invoke(main, [*base, "--by", "credibility"])
    assert res.exit_code == 0, res.output
    assert (tmp_path / f"envelopes-{CRED}.svg").exists()
    res = cli.invoke(main, [*base, "--outcome", "expect.pan_leaves", "--x", CRED])
    assert res.exit_code == 0, res.output
    assert (tmp_path / f"outcome-expect.pan_leaves-{CRED}.svg").exists()
    res = cli.invoke(main, [*base, "--outcome", "threats@end", "--x", CRED, "--y", BACKLASH])
    assert res.exit_code == 0, res.output
    assert (tmp_path / f"heatmap-threats@end-{CRED}-{BACKLASH}.svg").exists()


def test_cli_plot_errors_on_a_sweep_folder(grid: Path, tmp_path: Path) -> None:
    cli = CliRunner()
    res = cli.invoke(main, ["plot", str(grid)])
    assert res.exit_code == 2
    assert "is a sweep folder: give --by PARAM" in res.output and CRED in res.output
    res = cli.invoke(main, ["plot", str(grid), "--outcome", "mean_tilt@end"])
    assert res.exit_code == 2 and "--outcome needs --x" in res.output
    res = cli.invoke(main, ["plot", str(grid), "--by", "nope"])
    assert res.exit_code == 2 and "unknown parameter 'nope'" in res.output
    folder = write_run(run(scenario_from_dict(MINI)), None, tmp_path, folder_name="r")
    res = cli.invoke(main, ["plot", str(folder), "--by", CRED])
    assert res.exit_code == 2 and "are for sweep folders" in res.output


# --------------------------------------------------------------------------- architecture


def test_sweep_plots_import_no_model_code() -> None:
    imported = imported_modules(Path(str(sim.sweep_plots.__file__)))
    assert not imported & {"sim.model", "sim.runner", "sim.agents", "sim.sweep", "mesa"}
    assert "matplotlib.pyplot" not in imported
    code = "import sys, sim.sweep_plots; print(' '.join(sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert not set(out.stdout.split()) & {"sim.model", "sim.runner", "mesa", "matplotlib.pyplot"}
