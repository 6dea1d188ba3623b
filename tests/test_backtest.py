"""The history backtest: the shipped suite, scoring, the null models, the bootstrap and the
command end to end on small episodes made from the test world."""

from __future__ import annotations

import copy
import json
import math
import tomllib
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner
from conftest import MINI

from sim.backtest import (
    CLIP,
    Episode,
    base_rates,
    brier,
    compare,
    episode_files,
    history_dir,
    load_episode,
    logloss,
    run_episodes,
    score_table,
)
from sim.cli import main
from sim.errors import GeosimError
from sim.runner import run
from sim.validation import load_scenario

ROOT = Path(__file__).resolve().parent.parent


# --------------------------------------------------------------------------- the shipped suite


def test_the_suite_has_at_least_twelve_episodes_each_with_one_primary_outcome() -> None:
    files = episode_files()
    assert len(files) >= 12
    episodes = [load_episode(f) for f in files]
    assert len({e.name for e in episodes}) == len(episodes)
    # both coercion and bloc decisions, and outcomes the status quo gets wrong and right
    assert {"policy", "membership"} <= {e.outcome_class for e in episodes}
    changes = sum(e.change for e in episodes)
    assert 0 < changes < len(episodes)


def test_the_suite_leaves_rules_at_their_defaults() -> None:
    for f in episode_files():
        assert "rules" not in load_scenario(f).tree.data, f.name


def test_history_is_package_data() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    patterns = project["tool"]["setuptools"]["package-data"]["sim"]
    assert "scenarios/history/*.yaml" in patterns
    assert history_dir() == ROOT / "sim" / "scenarios" / "history"


# --------------------------------------------------------------------------- scoring


def test_scores_clip_probabilities() -> None:
    assert brier(1.0) == pytest.approx((1 - CLIP[1]) ** 2)
    assert brier(0.0) == pytest.approx((1 - CLIP[0]) ** 2)
    assert logloss(0.0) == pytest.approx(-math.log(CLIP[0]))
    assert logloss(0.5) == pytest.approx(math.log(2))
    assert brier(0.7) == pytest.approx(0.09)


def _ep(name: str, cls: str, change: bool) -> Episode:
    return Episode(name, Path(f"{name}.yaml"), "x", "", cls, change)


def test_base_rate_leaves_the_episode_out_and_uses_its_class() -> None:
    eps = [
        _ep("a", "policy", True),
        _ep("b", "policy", True),
        _ep("c", "policy", False),
        _ep("d", "membership", True),
        _ep("e", "membership", False),
        _ep("f", "tariff", True),  # alone in its class: the other episodes stand in
    ]
    rates = base_rates(eps)
    assert rates[0] == pytest.approx(1 / 2)  # b changed, c did not
    assert rates[2] == pytest.approx(0.0)  # a and b both changed: no-change never seen
    assert rates[3] == pytest.approx(0.0)
    assert rates[5] == pytest.approx(3 / 5)  # a, b, d changed of a-e


def test_score_table_scores_the_model_and_both_nulls() -> None:
    eps = [_ep("a", "policy", True), _ep("b", "policy", False), _ep("c", "policy", True)]
    table = score_table(eps, [90, 30, 60], [100, 100, 100])
    assert list(table["hit"]) == [True, False, True]
    assert list(table["p_status_quo"]) == [0.01, 0.99, 0.01]
    assert table.loc[0, "brier_model"] == pytest.approx(0.01)
    assert table.loc[1, "p_base_rate"] == pytest.approx(0.0)
    assert table.loc[1, "logloss_base_rate"] == pytest.approx(-math.log(0.01))
    assert float(table["p_low"].iloc[0]) < 0.9 < float(table["p_high"].iloc[0])


def _table(model: list[float], null: list[float]) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "brier_model": model,
            "logloss_model": model,
            "brier_status_quo": null,
            "logloss_status_quo": null,
            "brier_base_rate": null,
            "logloss_base_rate": null,
        }
    )


def test_paired_bootstrap_tells_better_worse_and_undecided() -> None:
    rng = np.random.default_rng(0)
    worse = rng.uniform(0.3, 0.6, size=20)
    better = worse - 0.2
    assert {c.verdict for c in compare(_table(list(better), list(worse)), 1)} == {"model better"}
    assert {c.verdict for c in compare(_table(list(worse), list(better)), 1)} == {"null better"}
    same = compare(_table(list(worse), list(worse[::-1])), 1)
    assert {c.verdict for c in same} == {"not distinguishable"}
    c = same[0]
    assert c.low <= c.difference <= c.high
    # paired: a constant difference has no spread at all
    tight = compare(_table(list(better), list(worse)), 1)[0]
    assert tight.low == pytest.approx(-0.2) and tight.high == pytest.approx(-0.2)


# --------------------------------------------------------------------------- episodes


def _episode(folder: Path, name: str, primary: str, **changes: Any) -> Path:
    data = copy.deepcopy(MINI)
    data["meta"]["name"] = name
    data["expect"][primary]["primary"] = True
    data.update(changes)
    path = folder / f"{name}.yaml"
    path.write_text(json.dumps(data), encoding="utf-8")  # JSON is YAML 1.2
    return path


@pytest.fixture
def suite(tmp_path: Path) -> Path:
    folder = tmp_path / "history"
    folder.mkdir()
    _episode(folder, "panama", "pan_leaves")
    _episode(folder, "mexico", "mex_complies")
    _episode(folder, "quiet_mexico", "mex_complies", events={})
    return folder


def test_an_episode_needs_exactly_one_primary(tmp_path: Path) -> None:
    path = tmp_path / "none.yaml"
    path.write_text(json.dumps(MINI), encoding="utf-8")
    with pytest.raises(GeosimError, match="exactly one expectation with `primary: true`"):
        load_episode(path)


def test_status_quo_follows_the_starting_state(suite: Path) -> None:
    eps = {e.name: e for e in map(load_episode, episode_files([suite]))}
    assert eps["panama"].change  # a member at the start, out by the date
    assert eps["mexico"].change  # complying is a change
    assert eps["panama"].outcome_class == "membership"


def test_episode_runs_match_check_and_ignore_the_worker_count(suite: Path) -> None:
    eps = [load_episode(f) for f in episode_files([suite])]
    one = run_episodes(eps, 4, 12, workers=1)
    two = run_episodes(eps, 4, 12, workers=2)
    assert one == two
    for e in eps:
        res = run(load_scenario(e.path), seed=4, replicates=12)
        assert res.runs[f"expect.{e.primary}"].astype(bool).tolist() == one[str(e.path)]


def test_backtest_command_writes_the_same_bytes_for_any_worker_count(
    suite: Path, tmp_path: Path
) -> None:
    cli = CliRunner()
    first = cli.invoke(
        main, ["backtest", str(suite), "-n", "8", "-w", "1", "--out", str(tmp_path / "a")]
    )
    assert first.exit_code == 0, first.output
    assert "episodes hit" in first.output
    assert "status quo" in first.output and "base rate" in first.output
    second = cli.invoke(
        main, ["backtest", str(suite), "-n", "8", "-w", "2", "--out", str(tmp_path / "b")]
    )
    assert second.exit_code == 0, second.output
    for name in ("backtest.csv", "backtest.md"):
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes()
    table = pd.read_csv(tmp_path / "a" / "backtest.csv")
    assert list(table["episode"]) == ["mexico", "panama", "quiet_mexico"]
    # without its threat, Mexico never complies: the model gives history's outcome nothing
    assert table.set_index("episode").loc["quiet_mexico", "p_model"] == 0.0
    record = json.loads((tmp_path / "a" / "backtest.json").read_text())
    assert record["replicates"] == 8 and record["seed"] == 0


def test_backtest_propagate_scores_over_parameter_draws(suite: Path, tmp_path: Path) -> None:
    res = CliRunner().invoke(
        main,
        [
            "backtest",
            str(suite),
            "--propagate",
            "4",
            "--per-point",
            "2",
            "-w",
            "1",
            "--out",
            str(tmp_path / "p"),
        ],
    )
    assert res.exit_code == 0, res.output
    table = pd.read_csv(tmp_path / "p" / "backtest.csv")
    assert set(table["runs"]) == {8}
    assert "Latin-hypercube" in (tmp_path / "p" / "backtest.md").read_text()


def test_backtest_refuses_a_missing_episode(tmp_path: Path) -> None:
    res = CliRunner().invoke(main, ["backtest", str(tmp_path / "nope.yaml")])
    assert res.exit_code == 2
    assert "no such episode" in res.output
