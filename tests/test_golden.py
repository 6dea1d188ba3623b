"""Golden suite: every shipped scenario and a synthetic one that uses every event and expectation
type, re-run and compared with the committed outputs in tests/golden/<name>/.

A failure names the file, the column and the first differing rows. After an intended change of
behaviour, run `python tests/golden/regen.py` and commit the files with the reason.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Annotated, Any, Literal, get_args

import numpy as np
import pytest
from golden.tables import (
    FILES,
    GOLDEN_DIR,
    ROOT,
    SYNTHETIC,
    Tables,
    compare,
    csv_text,
    missing_coverage,
    regen_hint,
    result_tables,
    scenario_files,
    union_members,
)
from pydantic import BaseModel, Field
from ruamel.yaml import YAML

from sim.scenario import Event, Expect, ThreatEvent, builtin_scenarios_dir, load_scenario

SCENARIOS = scenario_files()
EVENT_TYPES = sorted(union_members(Event))
EXPECT_TYPES = sorted(union_members(Expect))


@cache
def fresh(name: str) -> Tables:
    """Tables of a scenario run now (once per test session)."""
    return result_tables(SCENARIOS[name])


def copied(tables: Tables) -> Tables:
    """A deep copy, safe to modify without touching the cached run."""
    return {name: frame.copy(deep=True) for name, frame in tables.items()}


@pytest.mark.parametrize("file", FILES)
@pytest.mark.parametrize("name", sorted(SCENARIOS))
def test_results_match_the_golden_files(name: str, file: str) -> None:
    committed = GOLDEN_DIR / name / file
    where = committed.relative_to(ROOT)
    if not committed.is_file():
        pytest.fail(f"{where} is missing. {regen_hint(name)}", pytrace=False)
    problem = compare(file, committed, fresh(name))
    if problem is not None:
        pytest.fail(f"{where}: {problem}\n{regen_hint(name)}", pytrace=False)


def test_every_shipped_scenario_has_a_golden_folder() -> None:
    shipped = sorted(p.stem for p in builtin_scenarios_dir().glob("*.yaml"))
    assert len(shipped) >= 4
    assert set(shipped) <= set(SCENARIOS)
    lacking = [n for n in shipped if not all((GOLDEN_DIR / n / f).is_file() for f in FILES)]
    assert not lacking, f"no complete golden folder for {lacking}: run tests/golden/regen.py"


def test_no_golden_folder_without_a_scenario() -> None:
    folders = {
        p.name for p in GOLDEN_DIR.iterdir() if p.is_dir() and not p.name.startswith(("__", "."))
    }
    # backtest/: the history backtest's table, checked by tests/test_backtest_golden.py
    stale = sorted(folders - set(SCENARIOS) - {"backtest"})
    assert not stale, f"golden folders without a scenario (delete them): {stale}"


# --------------------------------------------------------------------------- schema coverage


def test_the_schema_unions_are_read() -> None:
    # Derived from the schema, not kept by hand: one tag per member class of each union.
    assert len(EVENT_TYPES) == len(get_args(get_args(Event)[0])) >= 11
    assert len(EXPECT_TYPES) == len(get_args(get_args(Expect)[0])) >= 5
    assert {"threat", "tariff_lift", "rule_change"} <= set(EVENT_TYPES)
    assert {"membership", "threat_outcome", "tilt"} <= set(EXPECT_TYPES)
    assert union_members(Event)["threat"] is ThreatEvent


def test_synthetic_scenario_uses_every_event_and_expectation_type() -> None:
    missing = missing_coverage(load_scenario(SYNTHETIC).scenario)
    assert not missing, (
        f"{SYNTHETIC.relative_to(ROOT)} does not use: {'; '.join(missing)}. Add it (timed so "
        "that it has an effect), then run `python tests/golden/regen.py synthetic_all_types`."
    )


def without(tmp_path: Path, section: str, kind: str) -> Path:
    """A copy of the synthetic scenario file with every `section` entry of type `kind` removed."""
    yaml = YAML()
    data: Any = yaml.load(SYNTHETIC)
    for key in [k for k, v in data[section].items() if v["type"] == kind]:
        del data[section][key]
    if kind == "policy_change":
        # the removed event was all that created `port_deal`, which a standing demand and an
        # expectation name: a state must have it for the file to stay valid (issue 13)
        data["states"]["ALF"]["policies"] = {"port_deal": {"active": False}}
    out = tmp_path / SYNTHETIC.name
    with out.open("w", encoding="utf-8") as fh:
        yaml.dump(data, fh)
    return out


@pytest.mark.parametrize("kind", EVENT_TYPES)
def test_coverage_check_reports_a_missing_event_type(tmp_path: Path, kind: str) -> None:
    scenario = load_scenario(without(tmp_path, "events", kind)).scenario
    assert f"event type {kind!r}" in missing_coverage(scenario)


@pytest.mark.parametrize("kind", EXPECT_TYPES)
def test_coverage_check_reports_a_missing_expectation_type(tmp_path: Path, kind: str) -> None:
    scenario = load_scenario(without(tmp_path, "expect", kind)).scenario
    assert missing_coverage(scenario) == [f"expectation type {kind!r}"]


def test_coverage_check_reports_a_missing_bloc_threat() -> None:
    scenario = load_scenario(SYNTHETIC).scenario
    events = {k: v for k, v in scenario.events.items() if getattr(v, "bloc", None) is None}
    reduced = scenario.model_copy(update={"events": events})
    assert "a threat to every state of a bloc (`bloc`)" in missing_coverage(reduced)


class NewEvent(BaseModel):
    """Stands for an event class a contributor adds to the schema."""

    type: Literal["new_kind"]


def test_a_new_event_class_in_the_union_fails_the_coverage_check() -> None:
    grown = Annotated[Event | NewEvent, Field(discriminator="type")]
    assert union_members(grown)["new_kind"] is NewEvent
    scenario = load_scenario(SYNTHETIC).scenario
    assert missing_coverage(scenario, events=grown) == ["event type 'new_kind'"]


# --------------------------------------------------------------------------- the comparison


def test_comparison_tolerates_last_digit_noise_and_nothing_more() -> None:
    name = "synthetic_all_types"
    committed = GOLDEN_DIR / name / "runs.csv"
    column = "tilt.ECH@end"
    noisy = copied(fresh(name))
    noisy["runs"][column] *= 1 + 1e-12
    assert compare("runs.csv", committed, noisy) is None
    moved = copied(fresh(name))
    tilt = moved["runs"][column].to_numpy(copy=True)
    tilt[1] += 1e-6
    moved["runs"][column] = tilt
    problem = compare("runs.csv", committed, moved)
    assert problem is not None
    assert f"column {column!r} differs in 1 of" in problem
    assert f"{column} committed" in problem and f"{column} now" in problem
    seed = str(fresh(name)["runs"]["seed"].iloc[1])
    assert seed in problem  # the row's ids, shown for context


def test_comparison_reads_the_time_series_as_a_decoded_table() -> None:
    name = "synthetic_all_types"
    committed = GOLDEN_DIR / name / "timeseries.parquet"
    moved = copied(fresh(name))
    values = moved["timeseries"]["value"].to_numpy(copy=True)
    known = int(np.flatnonzero(np.isfinite(values) & (values != 0))[0])  # nulls stay null
    values[known] *= 1.001
    moved["timeseries"]["value"] = values
    problem = compare("timeseries.parquet", committed, moved)
    assert problem is not None and "column 'value' differs in 1 of" in problem
    retyped = copied(fresh(name))
    retyped["timeseries"]["step"] = retyped["timeseries"]["step"].astype("int64")
    problem = compare("timeseries.parquet", committed, retyped)
    assert problem is not None and "column 'step': dtype int32 committed, int64 now" in problem
    shorter = copied(fresh(name))
    shorter["timeseries"] = shorter["timeseries"].iloc[:-3]
    problem = compare("timeseries.parquet", committed, shorter)
    assert problem is not None and "rows committed" in problem


def test_comparison_reads_event_details_as_json() -> None:
    name = "synthetic_all_types"
    committed = GOLDEN_DIR / name / "events.csv"
    events = fresh(name)["events"]
    row = int(events.index[events["kind"].eq("complied")][0])
    moved = copied(fresh(name))
    details = str(moved["events"].at[row, "details"])
    assert '"salience": 0.002' in details
    moved["events"].at[row, "details"] = details.replace('"salience": 0.002', '"salience": 0.003')
    problem = compare("events.csv", committed, moved)
    assert problem is not None and "column 'details' differs in 1 of" in problem
    renamed = copied(fresh(name))
    renamed["events"] = renamed["events"].rename(columns={"actor": "who"})
    problem = compare("events.csv", committed, renamed)
    assert problem is not None and "missing now: ['actor']" in problem


def test_csv_floats_are_compared_as_numbers_and_nan_equals_nan(tmp_path: Path) -> None:
    name = "latam_2025"
    assert compare("runs.csv", GOLDEN_DIR / name / "runs.csv", fresh(name)) is None
    # No standard outcome of the shipped scenarios is unknown, so a null is made: an outcome
    # can be NaN (a state whose ties are all unknown), written as an empty cell.
    tables = copied(fresh(name))
    column = "tilt.BOL@end"
    tables["runs"].loc[1, column] = np.nan
    committed = tmp_path / "runs.csv"
    committed.write_text(csv_text(tables["runs"]), encoding="utf-8")
    assert ",," in committed.read_text(encoding="utf-8")
    assert compare("runs.csv", committed, tables) is None
    tables["runs"][column] = tables["runs"][column].fillna(0.0)
    problem = compare("runs.csv", committed, tables)
    assert problem is not None and f"column {column!r}" in problem
