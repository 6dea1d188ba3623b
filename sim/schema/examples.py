"""A small fixed world in which every event and expectation type shows what it does.

Each event type's `example` is added to `EXAMPLE_WORLD` and the run is compared with the same
run without the type's own event (its `effect` must show); each expectation type's `examples`
are evaluated on the run of `expectation_world()`. The figures are made up (round numbers of the
right order for the states named); they serve tests and the contributor guide, not analysis.
"""

from __future__ import annotations

import copy
from typing import Any

from sim.schema.events.engagement import EngagementEvent
from sim.schema.events.threat import ThreatEvent

EXAMPLE_SEED = 7
"""Root seed of example runs (with one replicate)."""

EXAMPLE_WORLD: dict[str, Any] = {
    "meta": {
        "name": "example_world",
        "description": "made-up figures for the registered types' examples",
        "sources": {
            "example": {"title": "made-up figures for the examples", "kind": "estimate"},
        },
    },
    "time": {"start": "2025-01", "end": "2026-12", "seed": EXAMPLE_SEED},
    "powers": {
        "USA": {"name": "United States", "gdp": 2.7e13, "fdi_budget": 2e10},
        "CHN": {"name": "China", "gdp": 1.8e13, "fdi_budget": 3e9, "loan_budget": 1.3e9},
    },
    "states": {
        "MEX": {
            "name": "Mexico",
            "gdp": 1.8e12,
            "exports": {"USA": 4.8e11, "CHN": 1.9e10},
            "imports": {"USA": 3.2e11, "CHN": 8.2e10},
            "sphere": "USA",
            # no cost of yielding: a threat over it is always met (examples need a sure outcome)
            "policies": {"border_enforcement": {"active": False, "salience": 0.0}},
        },
        "BOL": {
            "name": "Bolivia",
            "gdp": 4.6e10,
            "exports": {"USA": 4.1e8, "CHN": 1.2e9},
            "imports": {"USA": 5.0e8, "CHN": 2.4e9},
            "debt": {"USA": 0.0, "CHN": 1.7e9},
            "fdi": {"USA": 4.3e8, "CHN": 6.0e9},
            "neighbours": ["BRA"],
        },
        "PAN": {
            "name": "Panama",
            "gdp": 8.3e10,
            "exports": {"USA": 5.3e8, "CHN": 1.0e8},
            "sphere": "USA",
        },
        "BRA": {
            "name": "Brazil",
            "gdp": 2.2e12,
            "exports": {"USA": 3.7e10, "CHN": 1.0e11},
            "imports": {"USA": 4.4e10, "CHN": 5.3e10},
            "policies": {"common_currency": {"active": True, "salience": 0.001}},
        },
    },
    "blocs": {
        "BRI": {"name": "Belt and Road", "leader": "CHN", "members": ["PAN", "BOL"]},
        "BRICS": {
            "name": "BRICS",
            "leader": "CHN",
            "accession": "invitation",
            "members": ["BRA", "CHN"],
        },
    },
}
"""The world every example runs in (no events of its own)."""

EXPECTATION_EVENTS: dict[str, Any] = {
    **ThreatEvent.example,
    "steel": {"type": "tariff", "date": "2025-03", "sender": "USA", "target": "MEX", "rate": 0.1},
    "exit": {"type": "leave", "date": "2025-04", "state": "PAN", "bloc": "BRI"},
    **EngagementEvent.example,
}
"""Events of the run the expectation examples are evaluated on: Mexico gives in to a threat
(its cost of yielding is zero) under a separate 10% tariff, Panama leaves the BRI, China courts
Bolivia."""


def world_with(events: dict[str, Any]) -> dict[str, Any]:
    """A fresh copy of the example world with these events."""
    data = copy.deepcopy(EXAMPLE_WORLD)
    data["events"] = copy.deepcopy(events)
    return data


def expectation_world() -> dict[str, Any]:
    """The example world with `EXPECTATION_EVENTS`."""
    return world_with(EXPECTATION_EVENTS)
