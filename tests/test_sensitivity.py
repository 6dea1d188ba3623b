"""Sensitivity indices: right on a function with known indices, explicit about failed runs."""

from __future__ import annotations

import json
import math
import shutil
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner
from test_sweep_plots import BACKLASH, CRED, grid_design, make_sweep

from sim.cli import main
from sim.design import Design
from sim.errors import ResultsError
from sim.sensitivity import analyse, indices, point_means
from sim.sweep_folder import SweepFolder

PI = math.pi


def ishigami(p: dict[str, Any], a: float = 7.0, b: float = 0.1) -> float:
    """Ishigami function: known Sobol indices, and x3 acts only through its interaction."""
    x1, x2, x3 = p["x1"], p["x2"], p["x3"]
    return float(math.sin(x1) + a * math.sin(x2) ** 2 + b * x3**4 * math.sin(x1))


def ranges(*names: str) -> dict[str, dict[str, float]]:
    return {n: {"low": -PI, "high": PI} for n in names}


# --------------------------------------------------------------------------- indices


def test_sobol_indices_of_the_ishigami_function() -> None:
    design = Design(method="sobol", parameters=ranges("x1", "x2", "x3"), samples=1024, seed=1)
    # Through the same machinery a sweep uses: unit samples scaled to [-pi, pi] by points().
    y = np.array([ishigami(p) for p in design.points()])
    table = indices(design, y).set_index("parameter")
    assert list(table.columns) == ["S1", "S1_conf", "ST", "ST_conf"]
    # Analytic values for a = 7, b = 0.1.
    assert table["S1"].to_numpy() == pytest.approx([0.314, 0.442, 0.0], abs=0.05)
    assert table["ST"].to_numpy() == pytest.approx([0.558, 0.442, 0.244], abs=0.05)
    assert (table["S1_conf"] > 0).all() and (table["ST_conf"] < 0.15).all()


def test_morris_screens_out_a_dummy_and_sees_an_interaction() -> None:
    params = {**ranges("x1", "x2", "x3"), "dummy": {"low": 0.0, "high": 1.0}}
    design = Design(method="morris", parameters=params, samples=50, seed=0)
    y = np.array([ishigami(p) for p in design.points()])
    t = indices(design, y).set_index("parameter")
    assert list(t.columns) == ["mu", "mu_star", "mu_star_conf", "sigma"]
    mu, mu_star, sigma = (
        dict(zip(t.index, t[c].tolist(), strict=True)) for c in t[["mu", "mu_star", "sigma"]]
    )
    assert mu_star["dummy"] == pytest.approx(0.0, abs=1e-12)
    assert sigma["dummy"] == pytest.approx(0.0, abs=1e-12)
    # x3 has no first-order effect but interacts with x1: effects of both signs, large sigma.
    assert mu_star["x3"] > 1.0 and sigma["x3"] > 1.0
    assert abs(mu["x3"]) < mu_star["x3"]
    assert mu_star["x3"] < min(mu_star["x1"], mu_star["x2"])


def test_indices_need_a_sobol_or_morris_design() -> None:
    for method in ("grid", "lhs"):
        design = Design(method=method, parameters={"a": {"low": 0.0, "high": 1.0}}, samples=4)
        with pytest.raises(ResultsError, match="needs a sobol or morris design"):
            indices(design, np.zeros(4))


def test_indices_check_their_input() -> None:
    design = Design(method="sobol", parameters=ranges("x1", "x2"), samples=8)
    with pytest.raises(ResultsError, match=r"one value per design point \(32\)"):
        indices(design, np.zeros(31))
    y = np.ones(32)
    y[3] = np.nan
    with pytest.raises(ResultsError, match="not finite"):
        indices(design, y)


def test_a_constant_outcome_has_no_sobol_indices_and_zero_effects() -> None:
    sobol = Design(method="sobol", parameters=ranges("x1", "x2"), samples=8)
    t = indices(sobol, np.ones(32))
    assert t[["S1", "ST"]].isna().all().all() and "does not vary" in t.attrs["note"]
    morris = Design(method="morris", parameters=ranges("x1", "x2"), samples=4)
    t = indices(morris, np.ones(12))
    assert (t[["mu", "mu_star", "sigma"]] == 0).all().all()


# --------------------------------------------------------------------------- sweep folders


def sobol_design(outcomes: tuple[str, ...] = ()) -> Design:
    return Design(
        method="sobol",
        parameters={CRED: {"low": 0.2, "high": 1.0}, BACKLASH: {"low": 0.0, "high": 0.3}},
        samples=4,
        replicates=2,
        seed=3,
        outcomes=outcomes,
    )


@pytest.fixture(scope="module")
def sobol(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A Sobol sweep of the small world: 16 points x 2 replicates, outcomes named."""
    design = sobol_design(("mean_tilt@end", "tilt.PAN@end"))
    return make_sweep(tmp_path_factory.mktemp("sobol"), design)


def test_analyse_a_sobol_sweep_and_write_csv(sobol: Path) -> None:
    table = analyse(sobol, ["mean_tilt@end", "tilt.PAN@end"])
    assert list(table.columns) == ["outcome", "parameter", "S1", "S1_conf", "ST", "ST_conf"]
    assert table["outcome"].tolist() == ["mean_tilt@end"] * 2 + ["tilt.PAN@end"] * 2
    assert table.attrs["method"] == "sobol" and table.attrs["failed"] == 0
    csv = sobol / "sensitivity-mean_tilt@end.csv"
    assert table.attrs["files"] == [csv, sobol / "sensitivity-tilt.PAN@end.csv"]
    saved = pd.read_csv(csv)
    assert saved["parameter"].tolist() == [CRED, BACKLASH]
    # The indices are those of the per-point means of the replicates, in design order.
    sf = SweepFolder(sobol)
    runs = sf.runs()
    y = runs.groupby("point")["mean_tilt@end"].mean().to_numpy()
    expected = indices(sf.design(), y)
    assert saved["ST"].to_numpy() == pytest.approx(expected["ST"].to_numpy(), rel=1e-5)
    assert not [p.name for p in sobol.iterdir() if p.name.startswith(".")]


def test_analyse_refuses_a_grid_sweep_and_unknown_outcomes(sobol: Path, tmp_path: Path) -> None:
    grid = make_sweep(tmp_path, grid_design(replicates=1))
    with pytest.raises(ResultsError, match=r"needs a sobol or morris design.*'grid'"):
        analyse(grid, ["mean_tilt@end"])
    with pytest.raises(ResultsError, match="did you mean 'mean_tilt@end'"):
        analyse(sobol, ["mean_tilt"])


def test_failed_replicates_are_counted_and_left_out(tmp_path: Path) -> None:
    # Replicate 1 of the points with credibility above 0.6 fails; replicate 0 survives.
    folder = make_sweep(
        tmp_path, sobol_design(), fail=lambda s, r: r == 1 and s.rules.threats.credibility > 0.6
    )
    runs = SweepFolder(folder).runs()
    failed = int((runs["status"] == "failed").sum())
    assert failed > 0
    table = analyse(folder, ["mean_tilt@end"])
    assert table.attrs["failed"] == failed
    y, n_failed = point_means(runs, sobol_design(), "mean_tilt@end")
    assert n_failed == failed
    ok = runs[runs["status"] == "ok"]
    assert y == pytest.approx(ok.groupby("point")["mean_tilt@end"].mean().to_numpy())


def test_a_point_without_any_successful_run_stops_the_analysis(tmp_path: Path) -> None:
    # Every replicate of the points with credibility above 0.84 fails (2 points, 4 runs).
    folder = make_sweep(
        tmp_path, sobol_design(), fail=lambda s, r: s.rules.threats.credibility > 0.84
    )
    runs = SweepFolder(folder).runs()
    dead = runs.loc[runs["status"] == "failed", "run"].tolist()
    assert len(dead) == 4
    with pytest.raises(ResultsError) as exc:
        analyse(folder, ["mean_tilt@end"])
    msg = str(exc.value)
    assert "2 of 16 design points have no successful run" in msg and "--retry-failed" in msg
    assert f"failed runs {', '.join(map(str, dead))})" in msg


def test_an_unfinished_sweep_is_refused(sobol: Path, tmp_path: Path) -> None:
    copy = tmp_path / "copy"
    shutil.copytree(sobol, copy)
    (copy / "runs.parquet").unlink()
    sorted((copy / "chunks").glob("runs-*.parquet"))[-1].unlink()
    with pytest.raises(ResultsError, match="unfinished"):
        analyse(copy, ["mean_tilt@end"])


def test_an_edited_design_is_refused_naming_the_runs_read(sobol: Path, tmp_path: Path) -> None:
    """Without runs.parquet the runs are read from the chunks: the refusal names those."""
    copy = tmp_path / "copy"
    shutil.copytree(sobol, copy)
    (copy / "runs.parquet").unlink()
    manifest = json.loads((copy / "sweep.json").read_text())
    manifest["design"]["seed"] = 7  # same counts, other points
    (copy / "sweep.json").write_text(json.dumps(manifest))
    with pytest.raises(ResultsError, match="design does not match its runs") as exc:
        analyse(copy, ["mean_tilt@end"])
    assert str(exc.value).startswith(f"{copy / 'chunks'}: ")


# --------------------------------------------------------------------------- CLI


def test_cli_sensitivity_prints_indices_and_writes_csv(sobol: Path) -> None:
    res = CliRunner().invoke(main, ["sensitivity", str(sobol), "--outcome", "threats@end"])
    assert res.exit_code == 0, res.output
    assert "S1 ± 95%" in res.output and CRED in res.output
    assert f"written: {sobol / 'sensitivity-threats@end.csv'}" in res.output
    # Without --outcome: the design's outcomes.
    res = CliRunner().invoke(main, ["sensitivity", str(sobol)])
    assert res.exit_code == 0, res.output
    assert "mean_tilt@end (sobol)" in res.output and "tilt.PAN@end (sobol)" in res.output


def test_cli_sensitivity_errors_exit_2(sobol: Path, tmp_path: Path) -> None:
    res = CliRunner().invoke(main, ["sensitivity", str(sobol), "--outcome", "nope"])
    assert res.exit_code == 2 and "unknown outcome 'nope'" in res.output
    grid = make_sweep(tmp_path, grid_design(replicates=1))
    res = CliRunner().invoke(main, ["sensitivity", str(grid)])
    assert res.exit_code == 2 and "needs a sobol or morris design" in res.output
    res = CliRunner().invoke(main, ["sensitivity", str(tmp_path)])
    assert res.exit_code == 2 and "not a geosim sweep folder" in res.output
