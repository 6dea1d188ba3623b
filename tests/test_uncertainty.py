"""Parameter uncertainty (`--propagate`): the ranges drawn, the Latin-hypercube sampling, the
Wilson interval, partial rank correlation and the grouped analysis."""

from __future__ import annotations

import copy
import math
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from conftest import MINI
from hypothesis import given
from hypothesis import strategies as st

from sim.schema.ranges import Range, rule_ranges
from sim.uncertainty import (
    INPUTS,
    SALIENCE_ORDER,
    Dimension,
    dimensions,
    driver,
    prcc,
    propagate,
    propagation_design,
    spearman,
    wilson,
)
from sim.validation import scenario_from_dict


def _ranged(data: dict[str, Any]) -> dict[str, Any]:
    """MINI with an estimate that carries a range, and one rule set by the scenario."""
    d = copy.deepcopy(data)
    d["states"]["BOL"]["sovereignty"] = {"value": 1.0, "source": "est", "low": 0.5, "high": 2.0}
    d["rules"] = {"threats": {"credibility": 0.6}}
    return d


def test_dimensions_hold_rule_ranges_and_scenario_estimates() -> None:
    loaded = scenario_from_dict(_ranged(MINI))
    dims, skipped = dimensions(loaded)
    paths = {d.path: d for d in dims}
    ranged = [p for p, e in rule_ranges().items() if isinstance(e, Range)]
    # every rule range is drawn except the one the scenario sets itself
    assert skipped == ["rules.threats.credibility"]
    assert {f"rules.{p}" for p in ranged} - set(paths) == {"rules.threats.credibility"}
    sov = paths["states.BOL.sovereignty"]
    assert (sov.low, sov.high, sov.group) == (0.5, 2.0, INPUTS)


def _unit_design(n: int, seed: int = 1) -> tuple[list[Dimension], list[dict[str, Any]]]:
    dims, _ = dimensions(scenario_from_dict(_ranged(MINI)))
    design = propagation_design(dims, n, 2, seed)
    return dims, design.points()


def _quantile(d: Dimension, v: float) -> float:
    if d.distribution == "loguniform":
        return math.log(v / d.low) / math.log(d.high / d.low)
    return (v - d.low) / (d.high - d.low)


def test_latin_hypercube_puts_one_point_in_each_stratum_of_every_range() -> None:
    n = 16
    dims, points = _unit_design(n)
    assert len(points) == n
    for d in dims:
        if d.path in SALIENCE_ORDER:
            continue  # sorted within each point (tested below)
        strata = sorted(int(_quantile(d, pt[d.path]) * n) for pt in points)
        assert strata == list(range(n)), d.path
        assert all(d.low <= pt[d.path] <= d.high for pt in points)


def test_salience_levels_keep_their_order_in_every_point() -> None:
    _, points = _unit_design(40, seed=7)
    for pt in points:
        levels = [pt[p] for p in SALIENCE_ORDER]
        assert levels == sorted(levels)
    # the sorting is needed: the ranges overlap, so some raw draws were out of order
    dims, _ = _unit_design(2)
    raw = propagation_design(dims, 40, 1, 7).model_copy(update={"ordered": ()}).points()
    assert any(
        [pt[p] for p in SALIENCE_ORDER] != sorted(pt[p] for p in SALIENCE_ORDER) for pt in raw
    )


def test_same_seed_same_points_other_seed_other_points() -> None:
    _, a = _unit_design(8, seed=3)
    _, b = _unit_design(8, seed=3)
    _, c = _unit_design(8, seed=4)
    assert a == b
    assert a != c


def test_wilson_known_values() -> None:
    low, high = wilson(5, 10)
    assert low == pytest.approx(0.2366, abs=1e-4)
    assert high == pytest.approx(0.7634, abs=1e-4)
    assert wilson(0, 10)[0] == 0.0
    assert wilson(0, 10)[1] == pytest.approx(0.2775, abs=1e-4)
    assert all(math.isnan(v) for v in wilson(0, 0))


@given(st.integers(min_value=1, max_value=5000), st.data())
def test_wilson_interval_holds_the_share_and_narrows_with_trials(n: int, data: Any) -> None:
    k = data.draw(st.integers(min_value=0, max_value=n))
    low, high = wilson(k, n)
    assert 0.0 <= low <= k / n <= high <= 1.0
    low4, high4 = wilson(4 * k, 4 * n)
    assert high4 - low4 <= high - low + 1e-12


def test_prcc_finds_the_input_that_matters_and_not_the_others() -> None:
    rng = np.random.default_rng(0)
    x = rng.uniform(size=(200, 5))
    y = np.exp(3 * x[:, 2]) - 2 * x[:, 4] + rng.normal(scale=0.05, size=200)
    coef = prcc(x, y)
    assert coef[2] > 0.9
    assert coef[4] < -0.5
    assert np.all(np.abs(coef[[0, 1, 3]]) < 0.25)


def test_prcc_removes_what_a_correlated_input_explains() -> None:
    # x1 only rides on x0; its plain rank correlation is high, its partial one is not
    rng = np.random.default_rng(1)
    x0 = rng.uniform(size=300)
    x1 = x0 + rng.normal(scale=0.1, size=300)
    y = x0 + rng.normal(scale=0.02, size=300)
    x = np.column_stack([x0, x1])
    assert spearman(x, y)[1] > 0.8
    assert abs(prcc(x, y)[1]) < 0.3


def test_prcc_needs_more_points_than_inputs() -> None:
    with pytest.raises(ValueError, match="at least 7 points"):
        prcc(np.zeros((6, 5)), np.arange(6.0))


def _dims(groups: list[str]) -> list[Dimension]:
    return [Dimension(f"p{k}", 0.0, 1.0, "uniform", g, "test") for k, g in enumerate(groups)]


def test_driver_uses_prcc_with_enough_points_and_groups_with_few() -> None:
    rng = np.random.default_rng(2)
    dims = _dims(["a", "a", "b", "b", "b", "b"])
    x = rng.uniform(size=(60, 6))
    y = x[:, 1] + 0.01 * rng.normal(size=60)
    d = driver(x, y, dims)
    assert (d.path, d.method) == ("p1", "PRCC")
    few = driver(x[:5], y[:5], dims)  # 5 points < 6 inputs + 2
    assert few.method == "grouped"
    assert few.group == "a"
    assert few.path == "p1"


def test_driver_says_so_when_the_outcome_does_not_vary() -> None:
    d = driver(np.random.default_rng(3).uniform(size=(20, 2)), np.ones(20), _dims(["a", "b"]))
    assert d.path == ""
    assert "did not vary" in d.text()


def test_propagate_counts_every_run_and_reads_the_points(tmp_path: Path) -> None:
    data = _ranged(MINI)
    loaded = scenario_from_dict(data)
    prop = propagate(loaded, 6, 2, 5, tmp_path)
    assert prop.failed == 0
    assert prop.folder is not None and (prop.folder / "runs.parquet").exists()
    for p in [*prop.expectations, prop.joint]:
        assert p.runs == 12
        low, high = p.interval
        assert low <= p.p <= high
    assert [p.name for p in prop.expectations] == list(loaded.scenario.expect)
    # the joint probability is at most each expectation's
    assert prop.joint.successes <= min(p.successes for p in prop.expectations)
    again = propagate(loaded, 6, 2, 5, tmp_path / "again")
    assert [p.successes for p in again.expectations] == [p.successes for p in prop.expectations]


# --------------------------------------------------------------------------- the commands


def _mini_file(tmp_path: Path) -> Path:
    import json

    path = tmp_path / "mini.yaml"
    path.write_text(json.dumps(_ranged(MINI)), encoding="utf-8")  # JSON is YAML 1.2
    return path


def test_check_propagate_reports_intervals_joint_and_drivers(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from sim.cli import main

    res = CliRunner().invoke(
        main, ["check", str(_mini_file(tmp_path)), "--propagate", "5", "-w", "1"]
    )
    assert res.exit_code in (0, 1), res.output
    assert "5 points x 1 replicate(s)" in res.output
    assert "1 from the scenario" in res.output
    assert "joint probability of all expectations" in res.output
    assert "not drawn (the scenario sets them itself): rules.threats.credibility" in res.output
    assert "reach their share over parameter uncertainty" in res.output


def test_propagate_refuses_replicates_and_per_run_options(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from sim.cli import main

    path = str(_mini_file(tmp_path))
    for args in (
        ["check", path, "-n", "5"],
        ["run", path, "--csv"],
        ["run", path, "--at", "2025-06"],
    ):
        res = CliRunner().invoke(main, [*args, "--propagate", "4"])
        assert res.exit_code == 2, res.output
        assert "--propagate" in res.output


def test_run_propagate_writes_a_sweep_folder_and_the_wider_band(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from sim.cli import main
    from sim.sweep_folder import SweepFolder

    out_dir = tmp_path / "results"
    res = CliRunner().invoke(
        main,
        [
            "run",
            str(_mini_file(tmp_path)),
            "--propagate",
            "6",
            "--per-point",
            "2",
            "-w",
            "1",
            "--out",
            str(out_dir),
        ],
    )
    assert res.exit_code == 0, res.output
    [folder] = (out_dir / "sweeps").iterdir()
    sweep = SweepFolder(folder)
    assert len(sweep.runs()) == 12
    assert sweep.design().method == "lhs"
    assert "figure:" in res.output and "bands binned by" in res.output
    assert list(folder.glob("*.png")), sorted(p.name for p in folder.iterdir())


def test_a_driver_inside_the_noise_is_marked_so() -> None:
    from sim.uncertainty import significant

    assert significant(0.5, 40, 0)
    assert not significant(0.2, 40, 0)
    assert not significant(0.5, 12, 9)  # 1 degree of freedom left
    rng = np.random.default_rng(4)
    dims = _dims(["a"] * 8)
    x = rng.uniform(size=(12, 8))
    noise = driver(x, rng.normal(size=12), dims)  # PRCC on 12 points for 8 inputs: no signal
    assert noise.method == "PRCC"
    assert not noise.significant and "within noise" in noise.text()
    y = x[:, 3] + 0.01 * rng.normal(size=12)
    assert driver(x, y, dims).significant


def test_the_strongest_of_many_inputs_must_clear_a_stricter_bar() -> None:
    from sim.uncertainty import significant

    # t = 2.26 on 39 degrees of freedom: significant alone, not as the best of 60 inputs
    assert significant(0.34, 100, 59, tests=1)
    assert not significant(0.34, 100, 59, tests=60)
