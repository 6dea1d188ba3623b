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
    data.update(changes)
    data["expect"][primary]["primary"] = True
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
    # outcomes that are the starting state: no change, which the status quo gets right
    stays = copy.deepcopy(MINI["expect"]["pan_leaves"]) | {"status": "member"}
    defies = copy.deepcopy(MINI["expect"]["mex_complies"]) | {"outcome": "defied"}
    for name, primary, expect in (
        ("panama_stays", "pan_stays", stays),
        ("mexico_defies", "x", defies),
    ):
        path = _episode(suite, name, primary, expect={primary: expect})
        assert not load_episode(path).change, name


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


# --------------------------------------------------------------------------- review findings


def test_an_episode_given_twice_counts_once(suite: Path, tmp_path: Path) -> None:
    link = tmp_path / "elsewhere.yaml"
    link.symlink_to(suite / "panama.yaml")
    once = episode_files([suite])
    assert episode_files([suite, suite]) == once
    assert episode_files([suite, suite / "panama.yaml", link, str(suite)]) == once
    # first appearance decides the order
    assert episode_files([suite / "quiet_mexico.yaml", suite])[:2] == [
        suite / "quiet_mexico.yaml",
        suite / "mexico.yaml",
    ]


def test_a_link_loop_among_the_episodes_is_kept_for_its_load_to_report(
    suite: Path, tmp_path: Path
) -> None:
    """A folder's `*.yaml` that is a loop of symbolic links cannot be resolved (RuntimeError on
    Python 3.12, OSError on 3.13): it is kept as written, once, for its load to report."""
    folder = tmp_path / "loops"
    folder.mkdir()
    loop = folder / "loop.yaml"
    loop.symlink_to(loop)
    assert episode_files([folder, folder]) == [loop]
    assert episode_files([suite, folder]) == [*episode_files([suite]), loop]


def test_two_files_of_one_episode_name_are_refused(suite: Path, tmp_path: Path) -> None:
    other = tmp_path / "other"
    other.mkdir()
    again = _episode(other, "panama", "pan_leaves")
    with pytest.raises(GeosimError) as caught:
        episode_files([suite, other])
    assert str(suite / "panama.yaml") in str(caught.value) and str(again) in str(caught.value)
    res = CliRunner().invoke(main, ["backtest", str(suite), str(again), "-n", "1"])
    assert res.exit_code == 2, res.output
    assert "both episode 'panama'" in res.output


def test_the_backtest_of_a_repeated_folder_scores_each_episode_once(
    suite: Path, tmp_path: Path
) -> None:
    out_dir = tmp_path / "out"
    res = CliRunner().invoke(
        main, ["backtest", str(suite), str(suite), "-n", "2", "-w", "1", "--out", str(out_dir)]
    )
    assert res.exit_code == 0, res.output
    table = pd.read_csv(out_dir / "backtest.csv")
    assert list(table["episode"]) == ["mexico", "panama", "quiet_mexico"]


def test_an_episode_with_no_run_is_not_scored() -> None:
    eps = [_ep("a", "policy", True), _ep("b", "policy", False)]
    with pytest.raises(GeosimError, match=r"b\.yaml: episode b has no successful run"):
        score_table(eps, [1, 0], [2, 0])


def _failing(monkeypatch: pytest.MonkeyPatch, every: int) -> None:
    """Make every `every`-th run of a sweep raise (workers=1 runs them in this process)."""
    from sim.runner import run_once as real  # what `sim.sweep` runs

    calls = [0]

    def flaky(*args: Any, **kwargs: Any) -> Any:
        calls[0] += 1
        if calls[0] % every == 0:
            raise RuntimeError("injected failure")
        return real(*args, **kwargs)

    monkeypatch.setattr("sim.sweep.run_once", flaky)


def _recorded_progress(monkeypatch: pytest.MonkeyPatch) -> list[tuple[int, int]]:
    """The (done, failed) counts the backtest's progress bar is given."""
    import sim.cli.history

    seen: list[tuple[int, int]] = []

    def bar(total: int, label: str, **_: Any) -> tuple[Any, Any]:
        return (lambda done, failed=0: seen.append((done, failed))), (lambda: None)

    monkeypatch.setattr(sim.cli.history, "progress_bar", bar)
    return seen


def _propagated_backtest(suite: Path, out_dir: Path) -> Any:
    args = ["backtest", str(suite), "--propagate", "3", "-w", "1", "--out", str(out_dir)]
    return CliRunner().invoke(main, args)


def test_backtest_propagate_counts_failed_runs_and_exits_1(
    suite: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _failing(monkeypatch, every=3)  # the third run of each episode's three
    seen = _recorded_progress(monkeypatch)
    res = _propagated_backtest(suite, tmp_path / "p")
    assert res.exit_code == 1, res.output
    for name in ("mexico", "panama", "quiet_mexico"):
        assert f"warning: 1 of 3 propagated runs of episode {name} failed" in res.output
    assert "3 run(s) failed" in res.output
    table = pd.read_csv(tmp_path / "p" / "backtest.csv")
    assert set(table["runs"]) == {2}
    assert "- quiet_mexico: 1" in (tmp_path / "p" / "backtest.md").read_text()
    record = json.loads((tmp_path / "p" / "backtest.json").read_text())
    assert record["failed_runs"] == {"mexico": 1, "panama": 1, "quiet_mexico": 1}
    # the bar's failure count runs over the whole backtest, not each episode
    failures = [failed for _, failed in seen]
    assert failures == sorted(failures) and failures[-1] == 3


def test_backtest_refuses_an_episode_whose_runs_all_failed(
    suite: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _failing(monkeypatch, every=1)
    res = _propagated_backtest(suite, tmp_path / "p")
    assert res.exit_code == 2, res.output
    assert f"{suite / 'mexico.yaml'}: all 3 propagated runs of episode mexico failed" in res.output
    assert "injected failure" in res.output and "internal error" not in res.output


def test_every_command_takes_its_default_worker_count_from_one_place(
    suite: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import sim.backtest
    import sim.cli.history
    import sim.cli.propagation
    import sim.cli.runs

    helper = sim.cli.propagation.default_workers
    assert all(vars(m)["default_workers"] is helper for m in (sim.cli.runs, sim.cli.history))
    assert not hasattr(sim.cli.runs, "_cpus")
    monkeypatch.setattr("os.cpu_count", lambda: None)
    assert helper(None) == 1
    monkeypatch.setattr("os.cpu_count", lambda: 7)
    assert (helper(None), helper(2)) == (7, 2)
    asked: list[int] = []

    def record(*args: Any, workers: int = 1, **kwargs: Any) -> dict[str, list[bool]]:
        asked.append(workers)
        return {str(f): [True] for f in episode_files([suite])}

    monkeypatch.setattr(sim.backtest, "run_episodes", record)
    res = CliRunner().invoke(main, ["backtest", str(suite), "-n", "1", "--out", str(tmp_path)])
    assert res.exit_code == 0, res.output
    assert asked == [7]
