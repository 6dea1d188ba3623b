"""The model at its default rules against every calibration target (one test per target), and
every mechanism firing in at least 5% of the calibration episodes.

One `geosim calibrate` run (fixed seed, 100 episodes per pair) is shared by the tests. The
targets and their tolerances are `sim/calibration/targets.yaml`; the fitted defaults and the
procedure are in docs/calibration.md. Marked slow: the run takes about half a minute.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from sim.calibration.targets import load_targets
from sim.cli import main

pytestmark = pytest.mark.slow

TARGETS = load_targets()
SEED = 1
PER_PAIR = 100


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    out = tmp_path_factory.mktemp("calibration") / "report.json"
    args = ["calibrate", "--seed", str(SEED), "--episodes-per-pair", str(PER_PAIR)]
    result = CliRunner().invoke(main, [*args, "--out", str(out)])
    assert result.exit_code in (0, 1), result.output
    data: dict[str, Any] = json.loads(Path(out).read_text(encoding="utf-8"))
    return data


def score(report: dict[str, Any], target: str) -> dict[str, Any]:
    found: dict[str, Any] = next(s for s in report["scores"] if s["id"] == target)
    return found


@pytest.mark.parametrize("target", [t.id for t in TARGETS.targets if t.role == "fit"])
def test_target_is_met_at_the_default_rules(report: dict[str, Any], target: str) -> None:
    s = score(report, target)
    assert s["passed"], s


def test_every_mechanism_fires_in_enough_episodes(report: dict[str, Any]) -> None:
    rare = {k: v["share"] for k, v in report["mechanisms"].items() if not v["at_least_min"]}
    assert not rare, f"below {report['min_mechanism_share']:.0%} of episodes: {rare}"
