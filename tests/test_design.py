"""Sweep designs: grids, Latin hypercube, Sobol, Morris, and every way a design is rejected."""

from __future__ import annotations

import itertools
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from sim.cli import main
from sim.design import Design, ParameterSpec, design_from_options, load_design, parse_param
from sim.errors import ScenarioError
from sim.scenario import LoadedScenario
from sim.sweep import plan, scenario_with

CRED = "rules.threats.credibility"
SHARP = "rules.threats.sharpness"


# --------------------------------------------------------------------------- grids


def test_grid_from_ranges_and_lists_is_the_full_product() -> None:
    assert parse_param(f"{CRED}=0:1:5")[1].grid_values() == [0.0, 0.25, 0.5, 0.75, 1.0]
    assert parse_param(f"{CRED}=0.2, 0.5,0.9")[1].grid_values() == [0.2, 0.5, 0.9]
    assert parse_param(f"{CRED}=0.4:0.8:1")[1].grid_values() == [0.4]
    d = design_from_options([f"{CRED}=0.2:0.6:3", f"{SHARP}=2,4"], replicates=3, seed=9)
    assert (d.method, d.replicates, d.seed) == ("grid", 3, 9)
    assert d.points() == [
        {CRED: 0.2, SHARP: 2},
        {CRED: 0.2, SHARP: 4},
        {CRED: 0.4, SHARP: 2},
        {CRED: 0.4, SHARP: 4},
        {CRED: 0.6, SHARP: 2},
        {CRED: 0.6, SHARP: 4},
    ]


def test_grid_values_are_clean_and_shared_when_the_grid_is_refined() -> None:
    coarse = parse_param(f"{CRED}=0.1:0.9:5")[1].grid_values()
    fine = parse_param(f"{CRED}=0.1:0.9:9")[1].grid_values()
    assert coarse == [0.1, 0.3, 0.5, 0.7, 0.9]  # not 0.30000000000000004
    assert set(coarse) <= set(fine)  # same values, so the same seeds (see test_sweep)


def test_whole_number_range_gives_integers_that_integer_fields_accept(
    base: LoadedScenario,
) -> None:
    _, spec = parse_param("rules.threats.cooldown_months=6:18:3")
    assert spec.grid_values() == [6, 12, 18]
    assert all(type(v) is int for v in spec.grid_values())
    assert parse_param(f"{SHARP}=1:2:3")[1].grid_values() == [1.0, 1.5, 2.0]
    d = design_from_options(["rules.threats.cooldown_months=6:18:3"], 1, 0)
    p = plan(base, d)  # the schema's strict integer field takes them
    built = [scenario_with(base.scenario, pt) for pt in p.points]
    assert [s.rules.threats.cooldown_months for s in built] == [6, 12, 18]


def test_loguniform_and_integer_grids() -> None:
    log = ParameterSpec(low=0.001, high=0.1, num=3, distribution="loguniform")
    assert log.grid_values() == pytest.approx([0.001, 0.01, 0.1])
    ints = ParameterSpec(low=1, high=4, num=10, distribution="integer")
    assert ints.grid_values() == [1, 2, 3, 4]


# --------------------------------------------------------------------------- samplers


def lhs(n: int, seed: int = 1) -> Design:
    return Design(
        method="lhs",
        samples=n,
        seed=seed,
        parameters={
            "a": ParameterSpec(low=-1.0, high=3.0),
            "b": ParameterSpec(low=0.01, high=100.0, distribution="loguniform"),
            "c": ParameterSpec(low=1, high=5, distribution="integer"),
        },
    )


def test_lhs_points_are_in_range_and_stratified() -> None:
    n = 20
    pts = lhs(n).points()
    assert len(pts) == n
    a = np.array([p["a"] for p in pts])
    b = np.array([p["b"] for p in pts])
    assert ((a >= -1) & (a <= 3)).all() and ((b >= 0.01) & (b <= 100)).all()
    # Latin hypercube: each of n equal bins of every dimension holds exactly one point
    bins_a = np.floor((a + 1) / 4 * n).astype(int)
    bins_b = np.floor((np.log(b) - np.log(0.01)) / (np.log(100) - np.log(0.01)) * n).astype(int)
    assert sorted(bins_a) == list(range(n))
    assert sorted(bins_b) == list(range(n))
    assert lhs(n).points() == pts  # seeded
    assert lhs(n, seed=2).points() != pts


def test_integer_distribution_covers_both_ends_evenly() -> None:
    c = [p["c"] for p in lhs(10).points()]
    assert all(type(v) is int for v in c)
    assert sorted(c) == [1, 1, 2, 2, 3, 3, 4, 4, 5, 5]  # stratified, and 5 is reachable


@pytest.mark.parametrize("d", [1, 3])
def test_sobol_has_n_times_d_plus_2_points(d: int) -> None:
    params = {f"p{k}": ParameterSpec(low=k, high=k + 1.0) for k in range(d)}
    design = Design(method="sobol", samples=8, parameters=params, seed=3)
    pts = design.points()
    assert len(pts) == 8 * (d + 2)
    for k in range(d):
        assert all(k <= p[f"p{k}"] <= k + 1 for p in pts)
    with pytest.raises(ValueError, match="power of 2"):
        Design(method="sobol", samples=12, parameters=params)


def test_morris_has_r_times_d_plus_1_points_on_the_level_grid() -> None:
    params = {
        "x": ParameterSpec(low=0.0, high=3.0),
        "y": ParameterSpec(low=10.0, high=40.0),
        "z": ParameterSpec(low=-3.0, high=0.0),
    }
    design = Design(method="morris", samples=5, morris_levels=4, parameters=params, seed=4)
    pts = design.points()
    assert len(pts) == 5 * (3 + 1)
    assert {p["x"] for p in pts} <= {0.0, 1.0, 2.0, 3.0}
    assert {p["y"] for p in pts} <= {10.0, 20.0, 30.0, 40.0}
    # each trajectory moves one parameter at a time
    for t in range(5):
        traj = pts[t * 4 : (t + 1) * 4]
        for before, after in itertools.pairwise(traj):
            assert sum(before[k] != after[k] for k in params) == 1


# --------------------------------------------------------------------------- rejected input


@pytest.mark.parametrize(
    ("option", "message"),
    [
        (f"{CRED}=0.9:0.1:4", "`low` (0.9) must be below `high` (0.1)"),
        (f"{CRED}=0.5:0.5:3", "must be below"),
        (f"{CRED}=0:1:0", "the count in a:b:n must be a positive integer (got 0)"),
        (f"{CRED}=0:1:2.5", "positive integer"),
        (f"{CRED}=low:high:3", "range ends must be numbers"),
        (f"{CRED}=", "`values` is empty"),
        (f"{CRED}0.1,0.2", "expected PATH=a:b:n or PATH=v1,v2,..."),
        ("rules..credibility=0.1,0.2", "empty component"),
        (f"{CRED}=[1,", "bad value"),
    ],
)
def test_parse_param_rejects_malformed_specs(option: str, message: str) -> None:
    with pytest.raises(ScenarioError) as exc:
        parse_param(option)
    assert message in str(exc.value)
    assert str(exc.value).startswith(f"--param {option}")


def test_the_same_path_swept_twice_is_rejected() -> None:
    with pytest.raises(ScenarioError, match="already swept by an earlier --param"):
        design_from_options([f"{CRED}=0.1,0.2", f"{SHARP}=2,3", f"{CRED}=0.5:0.9:3"], 1, 0)


def test_loguniform_range_must_be_positive() -> None:
    with pytest.raises(ValueError, match="loguniform range needs low > 0"):
        ParameterSpec(low=0.0, high=1.0, distribution="loguniform")
    with pytest.raises(ValueError, match="no integer"):
        ParameterSpec(low=0.2, high=0.8, distribution="integer")


def test_unknown_path_is_reported_once_with_a_suggestion(base: LoadedScenario) -> None:
    d = design_from_options(["rules.threats.credibilty=0.1:0.9:5"], 1, 0)
    with pytest.raises(ScenarioError) as exc:
        plan(base, d)
    assert len(exc.value.problems) == 1  # not once per design point
    assert "did you mean 'credibility'?" in str(exc.value)


def test_value_outside_the_schema_names_the_design_point(base: LoadedScenario) -> None:
    d = design_from_options([f"{CRED}=0.5,1.5", f"{SHARP}=2"], 1, 0)
    with pytest.raises(ScenarioError) as exc:
        plan(base, d)
    (problem,) = exc.value.problems
    assert problem.file == f"design point 1 {{'{CRED}': 1.5, '{SHARP}': 2}}"
    assert problem.path == CRED and "less than or equal to 1" in problem.message


LHS_OK = f"method: lhs\nsamples: 8\nparameters:\n  {CRED}: {{low: 0.1, high: 0.9}}\n"


@pytest.mark.parametrize(
    ("text", "line", "message"),
    [
        (LHS_OK + "replicats: 2\n", 5, "unknown field 'replicats'; did you mean 'replicates'?"),
        (
            f"method: lhs\nparameters:\n  {CRED}: {{low: 0.1, hihg: 0.9}}\n",
            3,
            "unknown field 'hihg'; did you mean 'high'?",
        ),
        (LHS_OK.replace("lhs", "latin"), 1, "Input should be 'grid', 'lhs', 'sobol' or 'morris'"),
        (
            f"method: lhs\nparameters:\n  {CRED}:\n    values: [0.1, 0.5]\n",
            2,
            "a lhs design needs `low`/`high`, not `values`",
        ),
        (
            LHS_OK.replace("lhs", "sobol").replace("8", "6"),
            2,
            "a sobol design needs `samples` as a power of 2 (got 6)",
        ),
        (LHS_OK.replace("low: 0.1, high: 0.9", "low: 0.9, high: 0.1"), 4, "must be below"),
        (LHS_OK.replace("samples: 8", "samples: 0"), 2, "greater than or equal to 1"),
        ("method: grid\n", 1, "parameters: required field is missing"),
    ],
)
def test_design_file_errors_carry_file_and_line(
    tmp_path: Path, text: str, line: int, message: str
) -> None:
    path = tmp_path / "design.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ScenarioError) as exc:
        load_design(path)
    (problem,) = exc.value.problems
    assert (Path(problem.file).name, problem.line) == ("design.yaml", line), str(problem)
    assert message in str(problem)


def test_design_file_loads(tmp_path: Path) -> None:
    path = tmp_path / "design.yaml"
    path.write_text(LHS_OK + "replicates: 3\nseed: 5\noutcomes: [mean_tilt@end]\n", "utf-8")
    design, _ = load_design(path)
    assert (design.method, design.samples, design.replicates, design.seed) == ("lhs", 8, 3, 5)
    assert design.outcomes == ("mean_tilt@end",) and len(design.points()) == 8


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--param", "rules.threats.credibilty=0.1:0.9:3"], "did you mean 'credibility'?"),
        (["--param", f"{CRED}=0.5,1.5"], "design point 1 {'rules.threats.credibility': 1.5}"),
        (["--param", f"{CRED}=0.9:0.1:3"], "must be below"),
        (["--param", f"{CRED}=0:1:0"], "positive integer"),
        (["--param", f"{CRED}:0.1"], "expected PATH="),
        (["--param", f"{CRED}:0.1"], "expected PATH=a:b:n"),
        (["--design", "DESIGN"], "design.yaml:2:10: samples: a sobol design needs"),
        ([], "nothing to sweep"),
    ],
)
def test_cli_rejects_bad_designs_before_anything_runs(
    tmp_path: Path, mini_file: Path, args: list[str], message: str
) -> None:
    design = tmp_path / "design.yaml"
    design.write_text(LHS_OK.replace("lhs", "sobol").replace("8", "6"), encoding="utf-8")
    args = [str(design) if a == "DESIGN" else a for a in args]
    out = tmp_path / "out"
    r = CliRunner().invoke(main, ["sweep", str(mini_file), *args, "--out", str(out)])
    assert r.exit_code == 2, r.output
    assert message in r.output
    assert not out.exists()  # no sweep folder, nothing ran


def test_design_fingerprint_tracks_what_matters() -> None:
    a = design_from_options([f"{CRED}=0.2,0.4"], 2, 1)
    assert a.fingerprint() == design_from_options([f"{CRED}=0.2, 0.4"], 2, 1).fingerprint()
    assert a.fingerprint() != design_from_options([f"{CRED}=0.2,0.4"], 3, 1).fingerprint()
    assert a.fingerprint() != design_from_options([f"{CRED}=0.2,0.4"], 2, 2).fingerprint()


def test_a_sourced_number_is_swept_by_the_path_set_reaches_it_by() -> None:
    # `--set states.COL.gdp.value=...` works on the file; `--param` with the same path was
    # refused: the validated scenario holds the bare number, not {value, source}
    from sim.scenario import load_scenario

    base = load_scenario("latam_2025")
    d = design_from_options(["states.COL.gdp.value=3e11,4e11"], 1, 0)
    p = plan(base, d)
    assert [scenario_with(base.scenario, pt).states["COL"].gdp for pt in p.points] == [3e11, 4e11]


def test_a_bad_value_set_on_a_sourced_number_is_blamed_on_the_override() -> None:
    # it was reported at the base file's line of the number
    r = CliRunner().invoke(main, ["validate", "latam_2025", "--set", "states.BOL.gdp.value=1e308"])
    assert r.exit_code == 2, r.output
    assert r.output.startswith("error: --set states.BOL.gdp.value=1e308: states.BOL.gdp:")


def test_an_odd_number_of_morris_levels_is_refused_at_its_line(tmp_path: Path) -> None:
    # SALib warned (its own file path and source line on stderr) and the sweep went on
    path = tmp_path / "design.yaml"
    path.write_text(
        "method: morris\nsamples: 2\nmorris_levels: 3\nparameters:\n"
        f"  {CRED}: {{low: 0.2, high: 0.8}}\n",
        "utf-8",
    )
    with pytest.raises(ScenarioError) as exc:
        load_design(path)
    (problem,) = exc.value.problems
    assert (problem.line, problem.path) == (3, "morris_levels")
    assert "multiple of 2" in problem.message
