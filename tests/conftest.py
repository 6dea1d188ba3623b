"""Shared fixtures: a small hand-written world that exercises every mechanism."""

from __future__ import annotations

import copy
import os
from pathlib import Path
from typing import Any

import matplotlib
import pytest

matplotlib.use("Agg")
os.environ.setdefault("MPLBACKEND", "Agg")

MINI: dict[str, Any] = {
    "meta": {"name": "mini", "sources": {"est": {"title": "test figures", "kind": "estimate"}}},
    "time": {"start": "2025-01", "end": "2026-12", "seed": 3},
    "powers": {
        "USA": {
            "name": "United States",
            "gdp": 2.7e13,
            "fdi_budget": 2e10,
            "policies": {
                "dedollarisation": {
                    "demand": {"policy": "common_currency", "active": False},
                    "scope_bloc": "BRICS",
                    "tariff": 1.0,
                }
            },
        },
        "CHN": {"name": "China", "gdp": 1.8e13, "fdi_budget": 3e9, "loan_budget": 1.3e9},
    },
    "states": {
        "BRA": {
            "name": "Brazil",
            "gdp": 2.17e12,
            "exports": {"USA": 3.7e10, "CHN": 1.04e11},
            "imports": {"USA": 4.4e10, "CHN": 5.3e10},
            "debt": {"USA": 0, "CHN": 3.15e10},
            "fdi": {"USA": 2.29e11, "CHN": None},
            "sphere": "USA",
            "neighbours": ["BOL"],
            "policies": {"common_currency": {"active": True, "salience": 0.001}},
        },
        "BOL": {
            "name": "Bolivia",
            "gdp": {"value": 4.58e10, "source": "est"},
            "exports": {"USA": 4.1e8, "CHN": 1.17e9},
            "imports": {"USA": 5.0e8, "CHN": 2.39e9},
            "debt": {"USA": 0, "CHN": 1.7e9},
            "fdi": {"USA": 4.3e8, "CHN": 6.0e9},
            "sphere": "USA",
        },
        "PAN": {
            "name": "Panama",
            "gdp": 8.3e10,
            "exports": {"USA": 5.3e8, "CHN": None},
            "sphere": "USA",
            "bloc_salience": {"BRI": 0.005},
        },
        "MEX": {
            "name": "Mexico",
            "gdp": 1.79e12,
            "exports": {"USA": 4.756e11, "CHN": 1.88e10},
            "imports": {"USA": 3.23e11, "CHN": 8.15e10},
            "sphere": "USA",
            "policies": {"border_enforcement": {"active": False, "salience": 0.005}},
            # Mexico stays out of the BRI (a standing policy), so that it is in no bloc
            "stays_out": ["BRI"],
        },
    },
    "blocs": {
        "BRI": {"name": "Belt and Road", "leader": "CHN", "members": ["PAN", "BOL"]},
        "BRICS": {
            "name": "BRICS",
            "leader": "CHN",
            "accession": "invitation",
            "members": ["BRA", "CHN"],
            "partners": ["BOL"],
        },
    },
    "events": {
        "canal": {
            "type": "threat",
            "date": "2025-02",
            "sender": "USA",
            "target": "PAN",
            "demand": {"leave_bloc": "BRI"},
            "stake": 0.06,
            "label": "canal threat",
        },
        "border": {
            "type": "threat",
            "date": "2025-02",
            "sender": "USA",
            "target": "MEX",
            "demand": {"policy": "border_enforcement", "active": True},
            "tariff": 0.25,
        },
        "wang": {"type": "engagement", "date": "2025-02", "power": "CHN", "states": ["BOL"]},
    },
    "expect": {
        "pan_leaves": {
            "type": "membership",
            "state": "PAN",
            "bloc": "BRI",
            "status": "none",
            "by": "2025-04",
        },
        "mex_complies": {
            "type": "threat_outcome",
            "sender": "USA",
            "target": "MEX",
            "outcome": "complied",
            "by": "2025-03",
        },
    },
}


@pytest.fixture
def mini_dict() -> dict[str, Any]:
    """A fresh deep copy of the small world, safe to modify."""
    return copy.deepcopy(MINI)


@pytest.fixture
def mini(mini_dict: dict[str, Any]) -> Any:
    """The small world, validated."""
    from sim.scenario import scenario_from_dict

    return scenario_from_dict(mini_dict).scenario


@pytest.fixture
def base(mini_dict: dict[str, Any]) -> Any:
    """The small world as a LoadedScenario (what sweeps take as their base)."""
    from sim.scenario import scenario_from_dict

    return scenario_from_dict(mini_dict, "mini.yaml")


@pytest.fixture
def mini_file(tmp_path: Path, mini_dict: dict[str, Any]) -> Path:
    """The small world written to a YAML file, for the command line."""
    from ruamel.yaml import YAML

    path = tmp_path / "mini.yaml"
    with path.open("w", encoding="utf-8") as fh:
        YAML().dump(mini_dict, fh)
    return path
