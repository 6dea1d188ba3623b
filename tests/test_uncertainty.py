"""Parameter uncertainty (`--propagate`): the ranges drawn, the Latin-hypercube sampling, the
Wilson interval, partial rank correlation and the grouped analysis."""

from __future__ import annotations

import copy
import json
import math
import os
import re
import subprocess
import sys
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


def _mini_file(tmp_path: Path, data: dict[str, Any] | None = None) -> Path:
    path = tmp_path / "mini.yaml"
    payload = _ranged(MINI) if data is None else data
    path.write_text(json.dumps(payload), encoding="utf-8")  # JSON is YAML 1.2
    return path


def test_check_propagate_reports_intervals_joint_and_drivers(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from sim.cli import main

    res = CliRunner().invoke(
        main, ["check", str(_mini_file(tmp_path)), "--propagate", "5", "-w", "1"]
    )
    # exit 0 exactly when every expectation reaches its share (no run fails, none is scripted)
    reached = re.search(r"(\d+)/(\d+) expectations reach their share", res.output)
    assert reached is not None, res.output
    assert "failed" not in res.output and "scripted" not in res.output, res.output
    met, total = map(int, reached.groups())
    assert total == len(MINI["expect"])
    assert res.exit_code == (0 if met == total else 1), res.output
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


# --------------------------------------------------------------------------- review findings


def _every_rule_set(data: dict[str, Any]) -> dict[str, Any]:
    """`data` setting every ranged rule itself (at its default) and drawing no estimate."""
    from sim.schema.parameters import Rules

    d = copy.deepcopy(data)
    defaults = Rules().model_dump(mode="json")
    rules: dict[str, Any] = {}
    for path, entry in rule_ranges().items():
        if not isinstance(entry, Range):
            continue
        *parents, leaf = path.split(".")
        node, value = rules, defaults
        for part in parents:
            node = node.setdefault(part, {})
            value = value[part]
        node[leaf] = value[leaf]
    d["rules"] = rules
    return d


def test_check_propagate_with_nothing_to_draw_is_bad_input(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from sim.cli import main

    path = _mini_file(tmp_path, _every_rule_set(MINI))
    res = CliRunner().invoke(main, ["check", str(path), "--propagate", "3", "-w", "1"])
    assert res.exit_code == 2, res.output
    assert "internal error" not in res.output
    assert f"{path}: nothing to propagate" in res.output
    assert "sets every ranged rule itself" in res.output
    assert "no estimate with `low` and `high`" in res.output


def _with_estimate(path: tuple[str | int, ...], estimate: dict[str, Any]) -> dict[str, Any]:
    d = copy.deepcopy(MINI)
    node: Any = d
    for part in path[:-1]:
        node = node[part]
    node[path[-1]] = {"source": "est", **estimate}
    return d


def _dimension(tmp_path: Path, data: dict[str, Any], path: str) -> Dimension:
    from sim.validation import load_scenario

    dims, _ = dimensions(load_scenario(_mini_file(tmp_path, data)))
    return next(d for d in dims if d.path == path)


def test_an_explicit_distribution_is_honoured_for_numbers_written_as_integers(
    tmp_path: Path,
) -> None:
    est = {"value": 2, "low": 1, "high": 10, "distribution": "loguniform"}
    data = _with_estimate(("states", "BOL", "sovereignty"), est)
    sov = _dimension(tmp_path, data, "states.BOL.sovereignty")
    assert sov.distribution == "loguniform"
    # a float field written `2` is drawn as floats, not whole numbers 1..10
    uniform = _with_estimate(("states", "BOL", "sovereignty"), {"value": 2, "low": 1, "high": 10})
    assert _dimension(tmp_path, uniform, "states.BOL.sovereignty").distribution == "uniform"
    points = propagation_design([sov], 16, 1, 2).points()
    assert any(pt[sov.path] != int(pt[sov.path]) for pt in points)


def test_an_integer_field_draws_whole_numbers_however_its_range_is_written(
    tmp_path: Path,
) -> None:
    est = {"value": 3, "low": 1.0, "high": 6.0}
    data = _with_estimate(("events", "border", "deadline_months"), est)
    dim = _dimension(tmp_path, data, "events.border.deadline_months")
    assert dim.distribution == "integer"
    values = [pt[dim.path] for pt in propagation_design([dim], 12, 1, 3).points()]
    assert all(type(v) is int and 1 <= v <= 6 for v in values)


def test_an_integer_field_cannot_be_drawn_log_uniformly(tmp_path: Path) -> None:
    from sim.errors import ScenarioError

    est = {"value": 3, "low": 1, "high": 6, "distribution": "loguniform"}
    data = _with_estimate(("events", "border", "deadline_months"), est)
    with pytest.raises(ScenarioError) as caught:
        _dimension(tmp_path, data, "events.border.deadline_months")
    [problem] = caught.value.problems
    assert problem.line > 0 and problem.path == "events.border.deadline_months"
    assert "cannot be drawn log-uniformly" in problem.message


def test_an_integer_written_estimate_above_2_53_on_a_float_field_is_drawn(
    tmp_path: Path,
) -> None:
    big = {"value": 9_500_000_000_000_000, "low": 9_100_000_000_000_000}
    data = _with_estimate(("states", "BOL", "gdp"), {**big, "high": 9_900_000_000_000_000})
    gdp = _dimension(tmp_path, data, "states.BOL.gdp")
    assert gdp.distribution == "uniform"
    assert gdp.spec().high == 9.9e15


@pytest.mark.parametrize(
    ("path", "estimate", "message"),
    [
        (("time", "seed"), {"value": 2**60, "low": 2**59, "high": 2**61}, "within +-"),
        (("states", "BOL", "sovereignty"), {"value": 2, "low": 1, "high": 10**400}, "fit a float"),
    ],
)
def test_an_estimate_that_cannot_be_sampled_is_a_located_error(
    tmp_path: Path, path: tuple[str, ...], estimate: dict[str, Any], message: str
) -> None:
    from click.testing import CliRunner

    from sim.cli import main

    file = _mini_file(tmp_path, _with_estimate(path, estimate))
    res = CliRunner().invoke(main, ["check", str(file), "--propagate", "3", "-w", "1"])
    assert res.exit_code == 2, res.output
    where = re.search(rf"{re.escape(str(file))}:(\d+):(\d+): {'.'.join(path)}: (.*)", res.output)
    assert where is not None, res.output
    assert int(where[1]) > 0 and message in where[3]
    assert "internal error" not in res.output


@pytest.mark.parametrize(
    ("path", "estimate", "message"),
    [
        (
            ("events", "border", "deadline_months"),
            {"value": 3, "low": 1, "high": 6, "distribution": "loguniform"},
            "an integer field cannot be drawn log-uniformly",
        ),
        (
            ("states", "BOL", "sovereignty"),
            {"value": 2, "low": 1, "high": 10**400},
            "`value`, `low` and `high` must fit a float",
        ),
    ],
    ids=["loguniform-integer", "beyond-float"],
)
def test_validate_refuses_a_range_that_could_never_be_drawn(
    tmp_path: Path, path: tuple[str, ...], estimate: dict[str, Any], message: str
) -> None:
    """Found by validation, not only when --propagate draws it."""
    from click.testing import CliRunner

    from sim.cli import main

    file = _mini_file(tmp_path, _with_estimate(path, estimate))
    res = CliRunner().invoke(main, ["validate", str(file)])
    assert res.exit_code == 2, res.output
    assert f"{'.'.join(path)}: {message}" in " ".join(res.output.split())


@pytest.mark.parametrize(
    ("path", "estimate", "message"),
    [
        (
            ("time", "seed"),
            {"value": 2**60, "low": 2**59, "high": 2**61},
            "an integer range must lie within +-",
        ),
        (
            ("states", "BOL", "gdp"),
            {"value": 1e10, "low": -9e307, "high": 9e307},
            "too wide to sample",
        ),
    ],
    ids=["integer-beyond-2-53", "too-wide"],
)
def test_validate_refuses_a_range_the_sampler_cannot_draw(
    tmp_path: Path, path: tuple[str, ...], estimate: dict[str, Any], message: str
) -> None:
    """`validate` applies the rule `--propagate` draws by: it once accepted these."""
    from click.testing import CliRunner

    from sim.cli import main

    file = _mini_file(tmp_path, _with_estimate(path, estimate))
    res = CliRunner().invoke(main, ["validate", str(file)])
    assert res.exit_code == 2, res.output
    where = re.search(rf"{re.escape(str(file))}:(\d+):(\d+): {'.'.join(path)}: (.*)", res.output)
    assert where is not None, res.output
    assert int(where[1]) > 0 and message in where[3]


def _tied(names: list[str]) -> Any:
    from sim.uncertainty import Driver, Probability, Propagation

    exps = [Probability(f"e{k}", 1, 2, Driver(n, 0.5, "PRCC")) for k, n in enumerate(names)]
    dims = [Dimension(n, 0.0, 1.0, "uniform", INPUTS, "test") for n in names]
    return Propagation(exps, exps[0], dims, [], 2, 1, 0)


TIED = ["rules.trade.elasticity_long", "rules.threats.credibility", "states.BOL.gdp", "rules.x"]


def test_the_envelope_input_breaks_ties_by_first_named() -> None:
    from sim.cli.runs import _top_input

    assert _top_input(_tied(TIED)) == TIED[0]
    # named more often wins over named first
    assert _top_input(_tied([*TIED, TIED[2]])) == TIED[2]


@pytest.mark.slow
def test_the_envelope_input_does_not_depend_on_the_hash_seed() -> None:
    # string hashes, hence a set's order, change with PYTHONHASHSEED; 0 and 2 ordered these
    # four names differently from each other and from the order named
    code = (
        "import sys; sys.path.insert(0, 'tests'); from test_uncertainty import TIED, _tied; "
        "from sim.cli.runs import _top_input; print(_top_input(_tied(TIED)))"
    )
    root = Path(__file__).resolve().parent.parent
    for hash_seed in ("0", "2"):
        env = {**os.environ, "PYTHONHASHSEED": hash_seed}
        done = subprocess.run(
            [sys.executable, "-c", code], cwd=root, env=env, capture_output=True, text=True
        )
        assert done.returncode == 0, done.stderr
        assert done.stdout.strip() == TIED[0], hash_seed


def test_propagation_table_reads_each_required_share_and_counts_scenario_inputs(
    capsys: pytest.CaptureFixture[str],
) -> None:
    from sim.cli.propagation import print_propagation

    prop = _tied(TIED)  # every expectation at 1 of 2 runs: 50%
    met = print_propagation(prop, {f"e{k}": 0.4 if k < 2 else 0.6 for k in range(len(TIED))})
    assert met == 2
    shown = " ".join(capsys.readouterr().out.split())  # the title wraps
    assert "4 ranged inputs (4 from the scenario)" in shown
    assert shown.count("FAIL") == 2 and "60%" in shown


def test_a_propagation_whose_runs_all_failed_prints_no_share(
    capsys: pytest.CaptureFixture[str],
) -> None:
    from sim.cli.propagation import print_propagation
    from sim.uncertainty import Driver, Probability, Propagation

    none = Probability("e0", 0, 0, Driver("x", 0.0, "PRCC"))
    dims = [Dimension("x", 0.0, 1.0, "uniform", INPUTS, "test")]
    met = print_propagation(Propagation([none], none, dims, [], 2, 1, 2), {"e0": 0.5})
    out = capsys.readouterr()
    shown = " ".join(out.out.split())
    assert met == 0 and "nan" not in shown
    assert "n/a (no successful run)" in shown and "2 run(s) failed" in out.err
