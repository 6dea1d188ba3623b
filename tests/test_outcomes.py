"""Standard and custom run outcomes: names, values at dates, point-level reductions, problems."""

from __future__ import annotations

import math
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from pydantic import ValidationError

import sim
from sim.calendar import month_index
from sim.errors import GeosimError
from sim.model import GeoModel
from sim.outcomes import OutcomeError, OutcomeSet, OutcomeSpec, scenario_variables
from sim.runner import Replicate, RunView, run_once
from sim.schema.scenario import Scenario
from sim.validation import load_scenario
from sim.vocabulary import COUNT_OUTCOMES

ROOT = Path(__file__).parent.parent
SCENARIOS = sorted((Path(sim.__file__).parent / "scenarios").glob("*.yaml"))


@pytest.fixture(scope="module")
def latam() -> Scenario:
    return load_scenario("latam_2025").scenario


@pytest.fixture(scope="module")
def rep(latam: Scenario) -> Replicate:
    return run_once(latam, seed=1, collect=False)


def view(rep: Replicate, scenario: Scenario) -> RunView:
    return RunView(rep, scenario.time.calendar())


@pytest.mark.parametrize(
    "path",
    [*SCENARIOS, ROOT / "tests" / "golden" / "synthetic_all_types.yaml"],
    ids=lambda p: p.stem,
)
def test_static_variables_are_the_models(path: Path) -> None:
    scenario = load_scenario(path).scenario
    assert scenario_variables(scenario) == GeoModel(scenario, rng=1).recorder.names


def test_shipped_scenarios_are_all_checked() -> None:
    assert len(SCENARIOS) >= 4


def test_the_package_imports_no_model() -> None:
    code = (
        "import sys, sim.outcomes; "
        "print(sorted(m for m in sys.modules if m.split('.')[0] == 'mesa' "
        "or m in ('sim.model', 'sim.runner', 'sim.containers', 'sim.agents')))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


# --------------------------------------------------------------------------- standard outcomes


def reference_end_values(rep: Replicate, spec: Scenario) -> dict[str, float | bool]:
    """The end-of-run outcomes computed the plain way, straight from the recorded array (the
    numbers the format-1 sweep wrote under `tilt_end.S` etc.)."""
    first, last = rep.data[0], rep.data[-1]
    col = {name: c for c, name in enumerate(rep.names)}
    out: dict[str, float | bool] = {"mean_tilt@end": float(np.mean(last[:, 0]))}
    for i, s in enumerate(rep.states):
        out[f"tilt.{s}@end"] = float(last[i, 0])
        out[f"tilt_change.{s}@end"] = float(last[i, 0] - first[i, 0])
    for b in spec.blocs:
        for i, s in enumerate(rep.states):
            out[f"bloc.{b}.{s}@end"] = float(last[i, col[f"bloc.{b}"]])
    kinds = [row["kind"] for row in rep.log]
    for name, kind in COUNT_OUTCOMES.items():
        out[f"{name}@end"] = float(kinds.count(kind))
    record = RunView(rep, spec.time.calendar())
    for xid, ex in spec.expect.items():
        out[f"expect.{xid}"] = ex.evaluate(record)
    return out


def test_end_values_equal_a_plain_computation(latam: Scenario, rep: Replicate) -> None:
    expected = reference_end_values(rep, latam)
    new = OutcomeSet.build(latam).evaluate_run(view(rep, latam))
    assert set(expected) == {c for c in new if not c.startswith("_partial.")}
    for name, value in expected.items():
        assert new[name] == value, name
    assert {type(new[f"expect.{x}"]) for x in latam.expect} == {bool}
    threats = new["threats@end"]
    assert isinstance(threats, float) and threats >= 4.0  # the article's four, and any repeats


def test_columns_and_dtypes(latam: Scenario) -> None:
    spec = OutcomeSpec(
        dates=("2026-01", "2025-06", "2026-01"),
        custom={"bol_china": "tilt[BOL] > 0", "brics": "share(bloc.BRICS == 2)"},
    )
    outcomes = OutcomeSet.build(latam, spec)
    per_date = 1 + 2 * len(latam.states) + len(latam.blocs) * len(latam.states)
    per_date += len(COUNT_OUTCOMES)
    cols = outcomes.run_columns
    assert len(cols) == 3 * per_date + len(latam.expect) + 2
    assert cols[0] == "mean_tilt@end"
    assert cols[1:3] == ["tilt.MEX@end", "tilt.PAN@end"]
    assert cols[per_date] == "mean_tilt@2025-06"
    assert cols[2 * per_date] == "mean_tilt@2026-01"
    assert cols[3 * per_date - 1] == "tariffs_imposed@2026-01"
    assert cols[-2:] == ["bol_china", "brics"]
    assert cols[3 * per_date] == f"expect.{next(iter(latam.expect))}"
    assert outcomes.point_columns == [] and outcomes.partial_columns == []
    assert outcomes.dtypes["tilt.MEX@2025-06"] == "float64"
    assert outcomes.dtypes["expect.pan_leaves_bri"] == "boolean"
    assert outcomes.dtypes["bol_china"] == "boolean"
    assert outcomes.dtypes["brics"] == "float64"
    assert list(outcomes.dtypes) == cols
    assert outcomes.spec() == spec


def test_values_at_a_date_are_the_data_at_its_step(latam: Scenario, rep: Replicate) -> None:
    outcomes = OutcomeSet.build(latam, OutcomeSpec(dates=("2025-01", "2026-07")))
    got = outcomes.evaluate_run(view(rep, latam))
    assert list(got) == outcomes.run_columns
    cal = latam.time.calendar()
    step = cal.step_of(month_index("2026-07"))
    assert step == 19
    states, names = rep.states, rep.names
    tilt, brics = names.index("tilt"), names.index("bloc.BRICS")
    for i, s in enumerate(states):
        assert got[f"tilt.{s}@2026-07"] == rep.data[step, i, tilt]
        assert got[f"tilt_change.{s}@2026-07"] == rep.data[step, i, tilt] - rep.data[0, i, tilt]
        assert got[f"bloc.BRICS.{s}@2026-07"] == rep.data[step, i, brics]
        assert got[f"tilt.{s}@end"] == rep.data[-1, i, tilt]
    assert got["mean_tilt@2026-07"] == pytest.approx(float(np.mean(rep.data[step, :, tilt])))
    assert got["tilt.BOL@2026-07"] != got["tilt.BOL@end"]


def test_counts_at_a_date_count_rows_up_to_its_step(latam: Scenario, rep: Replicate) -> None:
    outcomes = OutcomeSet.build(latam, OutcomeSpec(dates=("2025-01", "2025-02", "2026-07")))
    got = outcomes.evaluate_run(view(rep, latam))
    cal = latam.time.calendar()
    for date in ("2025-01", "2025-02", "2026-07"):
        step = cal.step_of(month_index(date))
        for name, kind in COUNT_OUTCOMES.items():
            want = sum(1 for row in rep.log if row["kind"] == kind and row["step"] <= step)
            assert got[f"{name}@{date}"] == want, (name, date)
    assert got["threats@2025-01"] == 2.0  # the January threats; February brings two more
    assert got["threats@2025-02"] == 4.0


def test_dates_outside_the_horizon_name_it(latam: Scenario) -> None:
    with pytest.raises(OutcomeError) as caught:
        OutcomeSet.build(latam, OutcomeSpec(dates=("2024-12", "2028-12", "2029-01")))
    assert [(p.outcome, p.column) for p in caught.value.problems] == [("dates", None)] * 2
    assert "2024-12 is outside the scenario's horizon, 2025-01 to 2028-12" in str(caught.value)
    assert "2029-01" in caught.value.problems[1].message


# --------------------------------------------------------------------------- custom outcomes


def test_custom_run_outcomes_on_a_real_run(latam: Scenario, rep: Replicate) -> None:
    spec = OutcomeSpec(
        custom={
            "bol_gain": "at(tilt[BOL], 2026-06) - at(tilt[BOL], start)",
            "brics_members": "share(bloc.BRICS == 2)",
            "pan_out": "bloc.BRI[PAN] == 0",
        }
    )
    got = OutcomeSet.build(latam, spec).evaluate_run(view(rep, latam))
    tilt, brics = rep.names.index("tilt"), rep.names.index("bloc.BRICS")
    bol, pan = rep.states.index("BOL"), rep.states.index("PAN")
    assert got["bol_gain"] == rep.data[18, bol, tilt] - rep.data[0, bol, tilt]
    assert got["brics_members"] == float(np.mean(rep.data[-1, :, brics] == 2))
    assert got["pan_out"] is bool(rep.data[-1, pan, rep.names.index("bloc.BRI")] == 0)


POINT_SPEC = OutcomeSpec(
    custom={
        "bol_mean": "mean(tilt[BOL], over=replicates)",
        "pan_share": "share(tilt[PAN] < 0, over=replicates)",
        "gap_up": "max(tilt[BOL], over=replicates) - min(tilt[BOL], over=replicates) > 0.01",
    }
)


def test_point_columns_and_partials(latam: Scenario) -> None:
    outcomes = OutcomeSet.build(latam, POINT_SPEC)
    assert outcomes.point_columns == ["bol_mean", "pan_share", "gap_up"]
    assert outcomes.partial_columns == [
        "_partial.bol_mean.0",
        "_partial.pan_share.0",
        "_partial.gap_up.0",
        "_partial.gap_up.1",
    ]
    assert not set(outcomes.point_columns) & set(outcomes.run_columns)
    assert outcomes.dtypes["_partial.pan_share.0"] == "boolean"
    assert outcomes.dtypes["_partial.bol_mean.0"] == "float64"
    assert outcomes.dtypes["gap_up"] == "boolean"
    assert outcomes.dtypes["pan_share"] == "float64"


def test_evaluate_points_reduces_across_ok_replicates(latam: Scenario) -> None:
    outcomes = OutcomeSet.build(latam, POINT_SPEC)
    runs = pd.DataFrame(
        {
            "point": [1, 1, 1, 0, 0, 0, 2],
            "status": ["ok", "ok", "failed", "ok", "ok", "ok", "failed"],
            "_partial.bol_mean.0": [0.2, 0.4, 99.0, 0.1, np.nan, 0.3, 5.0],
            "_partial.pan_share.0": pd.array(
                [True, False, True, False, False, None, True], dtype="boolean"
            ),
            "_partial.gap_up.0": [0.2, 0.4, 99.0, 0.1, 0.1, 0.1, 5.0],
            "_partial.gap_up.1": [0.2, 0.4, -99.0, 0.1, 0.1, 0.1, 5.0],
        }
    )
    got = outcomes.evaluate_points(runs)
    assert list(got.columns) == ["point", "bol_mean", "pan_share", "gap_up"]
    assert got["point"].tolist() == [0, 1, 2]
    assert got["bol_mean"].tolist()[:2] == pytest.approx([0.2, 0.3])
    assert math.isnan(got["bol_mean"].iloc[2])
    assert got["pan_share"].tolist()[:2] == [0.0, 0.5]
    assert math.isnan(got["pan_share"].iloc[2])
    assert str(got["gap_up"].dtype) == "boolean"
    assert got["gap_up"].tolist()[:2] == [False, True]
    assert got["gap_up"].iloc[2] is pd.NA


def test_points_whose_runs_all_failed_are_unknown(latam: Scenario) -> None:
    outcomes = OutcomeSet.build(latam, POINT_SPEC)
    got = outcomes.evaluate_points(pd.DataFrame({"point": [3, 3], "status": ["failed"] * 2}))
    assert got["point"].tolist() == [3]
    assert math.isnan(got["bol_mean"].iloc[0]) and got["gap_up"].iloc[0] is pd.NA


def test_point_outcomes_that_overflow_are_unknown_not_infinite(latam: Scenario) -> None:
    spec = OutcomeSpec(
        custom={
            "big": "mean(tilt[BOL], over=replicates)",
            "bigger": "max(tilt[BOL], over=replicates) * 10",
        }
    )
    runs = pd.DataFrame(
        {
            "point": [0, 0, 1],
            "status": ["ok"] * 3,
            "_partial.big.0": [1.7e308, 1.7e308, 1.0],  # their mean's sum overflows
            "_partial.bigger.0": [1e308, 1e308, 2.0],
        }
    )
    got = OutcomeSet.build(latam, spec).evaluate_points(runs)
    assert math.isnan(got["big"].iloc[0]) and got["big"].iloc[1] == 1.0
    assert math.isnan(got["bigger"].iloc[0]) and got["bigger"].iloc[1] == 20.0


def test_an_overflowed_replicate_mean_compares_as_unknown(latam: Scenario) -> None:
    """The mean is not known, so neither is any comparison with it (not true for +inf)."""
    spec = OutcomeSpec(custom={"up": "mean(tilt[BOL], over=replicates) > 0"})
    runs = pd.DataFrame(
        {
            "point": [0, 0, 1],
            "status": ["ok"] * 3,
            "_partial.up.0": [1.7e308, 1.7e308, 1.0],  # point 0's mean overflows
        }
    )
    got = OutcomeSet.build(latam, spec).evaluate_points(runs)
    assert got["up"].iloc[0] is pd.NA and got["up"].iloc[1]


def test_run_outcomes_that_overflow_are_unknown_not_infinite(
    latam: Scenario, rep: Replicate
) -> None:
    spec = OutcomeSpec(
        custom={"x": "1e308 * 10 + tilt[BOL]", "y": "mean(tilt + 1e308) * 2", "b": "1e308 * 10 > 0"}
    )
    got = OutcomeSet.build(latam, spec).evaluate_run(view(rep, latam))
    assert math.isnan(got["x"]) and math.isnan(got["y"]) and got["b"] is None  # type: ignore[arg-type]


def test_points_from_real_runs(latam: Scenario) -> None:
    outcomes = OutcomeSet.build(latam, POINT_SPEC)
    rows, bol = [], []
    for seed in (1, 2, 3):
        rep = run_once(latam, seed=seed, collect=False)
        row = outcomes.evaluate_run(view(rep, latam))
        assert set(row) == {*outcomes.run_columns, *outcomes.partial_columns}
        rows.append({"point": 7, "status": "ok", **row})
        bol.append(rep.data[-1, rep.states.index("BOL"), 0])
    got = outcomes.evaluate_points(pd.DataFrame(rows))
    assert got["bol_mean"].iloc[0] == pytest.approx(float(np.mean(bol)))
    assert got["gap_up"].iloc[0] == bool(max(bol) - min(bol) > 0.01)


# --------------------------------------------------------------------------- problems


def test_build_lists_every_problem(latam: Scenario) -> None:
    spec = OutcomeSpec(
        dates=("2030-01",),
        custom={
            "ok": "tilt[MEX] > 0",
            "typo": "mean(tilit)",
            "state": "tilt[MXE]",
            "vector": "tilt",
            "level": "mean(tilt[BOL], over=replicates) - tilt[PAN]",
        },
    )
    with pytest.raises(OutcomeError) as caught:
        OutcomeSet.build(latam, spec)
    problems = caught.value.problems
    assert [(p.outcome, p.column) for p in problems] == [
        ("dates", None),
        ("typo", 6),
        ("state", 6),
        ("vector", 1),
        ("level", 36),
    ]
    assert "did you mean 'tilt'" in problems[1].message
    assert "did you mean 'MEX'" in problems[2].message
    text = str(caught.value).splitlines()
    assert (
        text[1] == "outcomes.custom.typo: column 6: unknown variable 'tilit' (did you mean 'tilt'?)"
    )
    assert isinstance(caught.value, GeosimError) and caught.value.exit_code == 2


def test_unknown_names_get_did_you_mean(latam: Scenario) -> None:
    outcomes = OutcomeSet.build(
        latam, OutcomeSpec(custom={"bol_mean": "mean(tilt[BOL], over=replicates)"})
    )
    asked = [
        "mean_tilt@end",
        "bol_mean",
        "mean_tilt_end",
        "tilt_end.BOL",
        "bloc_end.BRICS.BRA",
        "zzqq",
    ]
    got = dict(outcomes.unknown(asked))
    assert list(got) == ["mean_tilt_end", "tilt_end.BOL", "bloc_end.BRICS.BRA", "zzqq"]
    assert "did you mean 'mean_tilt@end'" in got["mean_tilt_end"]
    assert "'tilt.BOL@end'" in got["tilt_end.BOL"]
    assert "'bloc.BRICS.BRA@end'" in got["bloc_end.BRICS.BRA"]
    assert "tilt.{ARE,ARG,BOL,BRA,…}@end" in got["zzqq"]
    assert "expect.{" in got["zzqq"] and "bol_mean" in got["zzqq"]


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"dates": ["2025-1"]}, "expected a date as YYYY-MM"),
        ({"dates": ["2025-02-18"]}, "expected a date as YYYY-MM"),
        ({"dates": ["2025-13"]}, "month must be 01..12"),
        ({"dates": ["\uff12\uff10\uff12\uff15-01"]}, "expected a date as YYYY-MM"),
        ({"custom": {"run": "tilt[MEX]"}}, "is a column of the runs table"),
        ({"custom": {"point_key": "tilt[MEX]"}}, "is a column of the runs table"),
        ({"custom": {"1x": "tilt[MEX]"}}, "must be letters, digits and _"),
        ({"custom": {"a.b": "tilt[MEX]"}}, "must be letters, digits and _"),
        ({"extra": 1}, "Extra inputs are not permitted"),
    ],
)
def test_spec_refuses_bad_input(fields: dict[str, object], message: str) -> None:
    with pytest.raises(ValidationError, match=re.escape(message)):
        OutcomeSpec.model_validate(fields)


def test_spec_is_frozen_and_documented() -> None:
    spec = OutcomeSpec(dates=("2025-06",), custom={"x": "1"})
    with pytest.raises(ValidationError):
        spec.dates = ()  # type: ignore[misc]
    assert all(f.description for f in OutcomeSpec.model_fields.values())
    assert OutcomeSpec.model_validate(spec.model_dump()) == spec
