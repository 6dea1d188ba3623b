"""`trade_shock`: a lasting, undiverted change of one untariffed flow, with a source."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from sim.errors import ScenarioError
from sim.runner import Replicate, run_once
from sim.schema.examples import EXAMPLE_SEED, world_with
from sim.validation import scenario_from_dict


def shock(**fields: Any) -> dict[str, Any]:
    base = {
        "type": "trade_shock",
        "date": "2025-06",
        "state": "BOL",
        "partner": "CHN",
        "flow": "exports",
        "factor": 0.5,
        "source": "example",
    }
    return {**base, **fields}


def run(events: dict[str, Any]) -> Replicate:
    spec = scenario_from_dict(world_with(events)).scenario
    return run_once(spec, EXAMPLE_SEED, collect=False)


def series(rep: Replicate, state: str, variable: str) -> np.ndarray:
    return rep.data[:, rep.states.index(state), rep.names.index(variable)]


def test_exports_are_scaled_from_the_date_on_and_not_diverted() -> None:
    with_it, without = run({"s": shock()}), run({})
    k = 6  # 2025-06 is step 6 of a monthly run starting 2025-01 (step 0 is the start)
    shocked = series(with_it, "BOL", "exports.CHN")
    plain = series(without, "BOL", "exports.CHN")
    np.testing.assert_array_equal(shocked[:k], plain[:k])
    ratio = shocked[k:] / plain[k:]
    assert np.all(ratio < 0.6) and np.all(ratio > 0.4)  # halved, then drifting with alignment
    other_shocked, other_plain = (series(r, "BOL", "exports.USA") for r in (with_it, without))
    np.testing.assert_allclose(other_shocked[:k], other_plain[:k])
    # nothing of the loss goes to the other partner (only alignment drift may differ later)
    assert other_shocked[k] == pytest.approx(other_plain[k], rel=1e-3)


def test_imports_can_be_shocked_and_the_row_is_logged() -> None:
    rep = run({"s": shock(flow="imports", factor=3.0, state="MEX", partner="USA")})
    [row] = [r for r in rep.log if r["kind"] == "trade_shock"]
    assert (row["actor"], row["target"]) == ("MEX", "USA")
    d = row["details"]
    assert d["flow"] == "imports" and d["source"] == "example" and d["event"] == "s"
    assert d["after"] == pytest.approx(3.0 * d["before"])


def test_an_unknown_flow_stays_unknown() -> None:
    rep = run({"s": shock(state="PAN", flow="imports")})  # Panama's imports are not known
    [row] = [r for r in rep.log if r["kind"] == "trade_shock"]
    assert np.isnan(row["details"]["before"]) and np.isnan(row["details"]["after"])


@pytest.mark.parametrize(
    ("fields", "path", "message"),
    [
        ({"source": "nowhere"}, "events.s.source", "unknown source 'nowhere'"),
        ({"partner": "RUS"}, "events.s.partner", "unknown power 'RUS'"),
        ({"factor": 0.0}, "events.s.factor", "greater than 0"),
        ({"flow": "both"}, "events.s.flow", "'exports' or 'imports'"),
    ],
)
def test_bad_shocks_are_refused(fields: dict[str, Any], path: str, message: str) -> None:
    with pytest.raises(ScenarioError) as err:
        scenario_from_dict(world_with({"s": shock(**fields)}))
    assert any(p.path == path and message in p.message for p in err.value.problems), str(err.value)
