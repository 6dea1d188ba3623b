"""Mesa agents: a `State` decides how to answer threats and invitations; a `GreatPower` allocates
capital, scans its standing policies and decides whether to carry out threats.

Agents decide; the model applies the outcome (like a match applying a player's move). Numbers
live in the model's arrays (one row per state) so the per-step dynamics stay vectorised; an
agent reads its row through `idx`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import mesa
import numpy as np
from numpy.typing import NDArray

from sim import rules
from sim.events import Threat

if TYPE_CHECKING:
    from sim.model import GeoModel


@dataclass(frozen=True)
class Choice:
    """A decision and the numbers behind it (they go to the event log)."""

    yes: bool
    probability: float
    draw: float
    numbers: dict[str, float]

    def details(self) -> dict[str, Any]:
        """Flat dict for the event log."""
        numbers = {k: round(float(v), 8) for k, v in self.numbers.items()}
        return {"p": round(self.probability, 6), "draw": round(self.draw, 6), **numbers}


class State(mesa.Agent):  # type: ignore[misc]
    """A state: answers threats (comply or defy) and bloc invitations (accept or decline)."""

    model: GeoModel

    def __init__(self, model: GeoModel, code: str, idx: int) -> None:
        super().__init__(model)
        self.code = code
        self.idx = idx

    @property
    def affinity(self) -> NDArray[np.float64]:
        """Affinity to each power, in [0, 1]."""
        return np.asarray(self.model.alignment.affinity[self.idx])

    def respond(self, threat: Threat, certain: bool = False) -> Choice:
        """Comply or defy: compare the expected cost of defying with the cost of complying."""
        m = self.model
        i, j = self.idx, threat.sender
        p = m.rules.threats
        exposure = m.exposure(i, j, threat.tariff, threat.stake)
        debt = m.economy.debt[i, j]
        debt_share = float(debt / m.economy.gdp[i]) if math.isfinite(debt) else 0.0
        credibility = 1.0 if certain else threat.credibility
        defy = rules.cost_of_defying(exposure, debt_share, credibility, p)
        salience, forgone = m.demand_value(i, threat.demand)
        comply = rules.cost_of_complying(salience, m.alignment.sovereignty[i], forgone)
        prob = rules.comply_probability(defy, comply, p)
        draw = float(m.rng.random())
        return Choice(
            rules.decide(prob, draw),
            prob,
            draw,
            {
                "exposure": exposure,
                "credibility": credibility,
                "cost_defy": defy,
                "salience": salience,
                "forgone": forgone,
                "cost_comply": comply,
            },
        )

    def consider_invitation(self, bloc: int) -> Choice:
        """Accept an invitation unless the bloc's value to it has fallen since the start."""
        m = self.model
        change = float(m.bloc_change(bloc)[self.idx])
        prob = float(rules.accept_probability(np.asarray(change), m.rules.blocs))
        draw = float(m.rng.random())
        return Choice(rules.decide(prob, draw), prob, draw, {"utility_change": change})


class GreatPower(mesa.Agent):  # type: ignore[misc]
    """A great power: allocates investment and loans, runs standing policies, enforces threats."""

    model: GeoModel

    def __init__(self, model: GeoModel, code: str, idx: int) -> None:
        super().__init__(model)
        self.code = code
        self.idx = idx
        self.reputation = 1.0

    def allocate(self, budget_per_year: float, stock: NDArray[np.float64]) -> NDArray[np.float64]:
        """Split a year's budget across states; returns this step's flow to each state."""
        m = self.model
        if budget_per_year <= 0:
            return np.zeros(m.n_states)
        weights = rules.allocation_weights(
            stock,
            m.economy.gdp,
            m.alignment.affinity[:, self.idx],
            m.membership.ties[:, self.idx],
            m.rules.investment,
        )
        return np.asarray(budget_per_year * m.dt * weights)

    def scan_policies(self) -> list[tuple[str, int]]:
        """Standing policies: (policy name, state index) pairs to threaten this step."""
        m = self.model
        out: list[tuple[str, int]] = []
        for name, pol in m.spec.powers[self.code].policies.items():
            if not m.in_window(pol.start, pol.end):
                continue
            origin = f"policy:{self.code}.{name}"
            for i in m.policy_scope(pol):
                if m.demand_met(i, pol.demand) or m.threat_pending(origin, i):
                    continue
                if m.coercion.cooldown.get((origin, i), -1) >= m.steps:
                    continue
                if m.rng.random() < pol.vigilance:
                    out.append((name, i))
        return out

    def enforce(self, threat: Threat) -> Choice:
        """At the deadline of a defied threat: carry it out with probability = its credibility."""
        draw = float(self.model.rng.random())
        prob = threat.credibility
        return Choice(rules.decide(prob, draw), prob, draw, {})
