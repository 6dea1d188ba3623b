"""Synthetic worlds of any size, for benchmarks and property tests (not for analysis)."""

from __future__ import annotations

from typing import Any

import numpy as np

from sim.scenario import Scenario, scenario_from_dict


def _state(g: np.random.Generator, i: int, codes: list[str], gdp: float) -> dict[str, Any]:
    """One state's figures (draws in a fixed order, so worlds are reproducible)."""
    n_states, code = len(codes), codes[i]
    ex_us, ex_cn = gdp * g.uniform(0.01, 0.2), gdp * g.uniform(0.01, 0.2)
    known_cn = g.random() > 0.2  # some ties unknown, as in real data
    return {
        "name": f"State {i}",
        "gdp": float(gdp),
        "exports": {"USA": float(ex_us), "CHN": float(ex_cn) if known_cn else None},
        "imports": {
            "USA": float(ex_us * g.uniform(0.5, 1.5)),
            "CHN": float(ex_cn * g.uniform(0.5, 2.0)),
        },
        "debt": {"USA": 0.0, "CHN": float(gdp * g.uniform(0, 0.05))},
        "fdi": {"USA": float(gdp * g.uniform(0, 0.1)), "CHN": float(gdp * g.uniform(0, 0.05))},
        "sphere": "USA" if g.random() < 0.5 else None,
        "neighbours": sorted(
            {codes[(i + 1) % n_states], codes[int(g.integers(n_states))]} - {code}
        ),
        "policies": {
            "common_currency": {
                "active": bool(g.random() < 0.1),
                "salience": float(g.uniform(0, 0.005)),
            }
        },
    }


def _threats(g: np.random.Generator, codes: list[str], years: int) -> dict[str, Any]:
    """About one threat per 20 states: leave the BRI or lose a share of GDP."""
    events: dict[str, Any] = {}
    for k in range(max(1, len(codes) // 20)):
        target = codes[int(g.integers(len(codes)))]
        events[f"threat_{k}"] = {
            "type": "threat",
            "date": f"{2025 + int(g.integers(years))}-{int(g.integers(1, 13)):02d}",
            "sender": "USA",
            "target": target,
            "demand": {"leave_bloc": "BRI"},
            "stake": float(g.uniform(0.005, 0.05)),
        }
    return events


def _powers(total_gdp: float) -> dict[str, Any]:
    """The United States (with a standing de-dollarisation threat) and China."""
    return {
        "USA": {
            "name": "United States",
            "gdp": 2.7e13,
            "fdi_budget": total_gdp * 0.005,
            "policies": {
                "dedollarisation": {
                    "demand": {"policy": "common_currency", "active": False},
                    "scope_bloc": "BRICS",
                    "tariff": 1.0,
                }
            },
        },
        "CHN": {
            "name": "China",
            "gdp": 1.8e13,
            "fdi_budget": total_gdp * 0.002,
            "loan_budget": total_gdp * 0.001,
        },
    }


def world_dict(n_states: int, seed: int = 0, years: int = 4) -> dict[str, Any]:
    """A random but plausible world: two powers, `n_states` states, two blocs, a few threats.

    Figures are drawn from a generator seeded with `seed`, so the same arguments give the same
    world. Magnitudes loosely follow the latam_2025 baseline (GDP lognormal around US$100 bn).
    """
    g = np.random.default_rng(seed)
    codes = [f"S{i:04d}" for i in range(n_states)]
    gdp = np.exp(g.normal(np.log(1e11), 1.2, n_states))
    states = {code: _state(g, i, codes, float(gdp[i])) for i, code in enumerate(codes)}
    bri = [c for c in codes if g.random() < 0.4]
    brics = [c for c in codes if g.random() < 0.1]
    events = _threats(g, codes, years)
    return {
        "meta": {"name": f"synthetic_{n_states}", "description": "synthetic benchmark world"},
        "time": {"start": "2025-01", "steps": 12 * years, "seed": seed},
        "powers": _powers(float(gdp.sum())),
        "states": states,
        "blocs": {
            "BRI": {"name": "Belt and Road", "leader": "CHN", "members": bri},
            "BRICS": {
                "name": "BRICS",
                "leader": "CHN",
                "accession": "invitation",
                "members": brics,
            },
        },
        "events": events,
    }


def world(n_states: int, seed: int = 0, years: int = 4) -> Scenario:
    """A validated synthetic scenario (see `world_dict`)."""
    return scenario_from_dict(world_dict(n_states, seed, years), f"<synthetic {n_states}>").scenario
