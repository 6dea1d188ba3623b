"""Mesa agents: a `State` decides how to answer threats and invitations; a `GreatPower` allocates
capital, scans its standing policies and decides whether to carry out threats.

Agents decide; the model applies the outcome (like a match applying a player's move). Numbers
live in the model's arrays (one row per state) so the per-step dynamics stay vectorised; an
agent reads its row through `idx`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import mesa
import numpy as np
from numpy.typing import NDArray

from sim import rules, rules_blocs, rules_coercion
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
    notes: dict[str, Any] = field(default_factory=dict)
    """Other details for the log (names, flags)."""

    def details(self) -> dict[str, Any]:
        """Flat dict for the event log."""
        numbers = {k: round(float(v), 8) for k, v in self.numbers.items()}
        return {
            "p": round(self.probability, 6),
            "draw": round(self.draw, 6),
            **numbers,
            **self.notes,
        }


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
        """Comply or defy: compare the expected cost of defying with the cost of complying.
        The state decides on the demand: the sender's measures already in force for the same
        demand count too (certain), since complying ends them all.

        `certain`: a re-decision under imposed coercion, whose cost is no longer in doubt
        (credibility 1, at the rate in force).
        """
        m = self.model
        i, j = self.idx, threat.sender
        p = m.rules.threats
        rate = threat.tariff_rate if threat.status == "imposed" else threat.tariff
        costs = m.stake_costs(i, j, threat.stakes, rate)
        debt_share = m.debt_share(i, j)
        offset, rival = m.black_knight(i, j)
        credibility = 1.0 if certain else threat.credibility
        exposure = sum(costs.values())
        defy = rules.cost_of_defying(exposure, debt_share, credibility, offset, p)
        # Measures already in force for the same demand end if it complies: defying keeps them.
        in_force = m.in_force_cost(threat)
        defy += rules.cost_of_defying(in_force, 0.0, 1.0, offset, p)
        salience, forgone = m.demand_value(i, threat.demand)
        closeness = m.closeness(i, j)
        resolve = float(m.coercion.resolve[i, j])
        sovereignty = m.alignment.sovereignty[i]
        comply = rules.cost_of_complying(salience, sovereignty, resolve, closeness, forgone, p)
        decision = float(rules.comply_probability(defy, comply, p))
        # Under imposed coercion the draw is made by the model, which weighs this re-decision
        # against the sender's review (`Coercion.redecide`); this draw only answers a threat.
        prob = decision
        draw = float(m.rng.random()) if not certain else float("nan")
        numbers = {
            "p_decision": decision,
            **costs,
            "exposure": exposure,
            "cost_debt": p.debt_leverage * debt_share,
            "black_knight": offset,
            "closeness": closeness,
            "resolve": resolve,
            "credibility": credibility,
            "cost_defy": float(defy),
            "salience": salience,
            "forgone": forgone,
            "cost_comply": float(comply),
        }
        if in_force > 0:
            numbers["cost_in_force"] = in_force
        notes = {"rival": rival, "reconsidered": certain}
        return Choice(rules.decide(prob, draw), prob, draw, numbers, notes)

    def retaliate(self, threat: Threat) -> Choice:
        """Answer a newly imposed tariff with a counter-tariff? Adversaries are likelier to."""
        m = self.model
        closeness = m.closeness(self.idx, threat.sender)
        prob = float(rules_coercion.retaliation_probability(closeness, m.rules.threats))
        draw = float(m.rng.random())
        return Choice(rules.decide(prob, draw), prob, draw, {"closeness": closeness})

    def consider_invitation(
        self, bloc: int, solicited: bool = True, reference: float | None = None
    ) -> Choice:
        """Answer (or confirm) an invitation. To an application (`solicited`): accept with the
        ratio of the join hazard now to the join hazard when the state committed (capped at 1):
        at the value of `reference` (the value when it accepted, at accession) or, for the first
        answer, at the start of the run (the application is taken as a revealed choice, like an
        initial membership). So it accepts unless membership has lost value since, and a new
        government that turns away reverses it. To an unsought offer: accept with the
        probability the join hazard gives over a year (0 without relations with the leader, or
        with a policy of staying out); once accepted, it is confirmed at accession like an
        application, against the value when it accepted (the decision is not drawn twice)."""
        m = self.model
        i = self.idx
        value = float(m.bloc_utilities(bloc)[i])
        change = value - float(m.membership.u0[bloc][i])
        p = m.rules.blocs
        if solicited or reference is not None:
            before = float(m.membership.u0[bloc][i]) if reference is None else reference
            prob = float(rules_blocs.confirm_probability(value, before, p))
        else:
            can = bool(m.may_join(bloc)[i])
            join = rules_blocs.join_hazard(
                np.asarray(value), np.asarray(change), np.asarray(can), p
            )
            prob = float(rules_blocs.switch_probability(join, 1.0))
        draw = float(m.rng.random())
        numbers = {"value": value, "change": change}
        notes = {"solicited": solicited, "reference": reference}
        return Choice(rules.decide(prob, draw), prob, draw, numbers, notes)


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
                vigilance = rules_coercion.per_step_from_monthly(
                    pol.vigilance, m.calendar.unit_months
                )
                if m.rng.random() < vigilance:
                    out.append((name, i))
        return out

    def enforce(self, threat: Threat) -> Choice:
        """At the deadline of a defied threat: impose with probability credibility (with
        reputation) times the sender's cost-benefit term (its own cost against its interest)."""
        m = self.model
        p = m.rules.threats
        rate = threat.stakes.imposed_rate
        closeness = m.closeness(threat.target, self.idx)
        p_ret = 0.0 if not rate else float(rules_coercion.retaliation_probability(closeness, p))
        cost = m.sender_costs(threat, rate or 0.0, rate or 0.0, p_ret)
        prob = float(
            rules_coercion.impose_probability(threat.credibility, cost, threat.interest, p)
        )
        draw = float(m.rng.random())
        numbers = {
            "credibility": threat.credibility,
            "sender_cost": cost,
            "interest": threat.interest,
            "p_retaliate": p_ret,
            "closeness": closeness,
        }
        return Choice(rules.decide(prob, draw), prob, draw, numbers)

    def review(self, threat: Threat) -> Choice:
        """A review of imposed coercion: the sender asks the deadline's question again, with the
        cost now certain (the tariff in force and any retaliation met): keep it with probability
        credibility x 1 / (1 + (cost/interest)^k). Without the credibility term a measure that
        costs the sender little would never be lifted, while TIES records senders giving up in
        about 30% of imposed cases that ended (docs/calibration-sources.md)."""
        m = self.model
        retaliated = threat.counter_tariff > 0
        cost = m.sender_costs(
            threat, threat.tariff_rate, threat.counter_tariff, 1.0 if retaliated else 0.0
        )
        p = m.rules.threats
        keep = float(
            rules_coercion.impose_probability(threat.credibility, cost, threat.interest, p)
        )
        # No draw here: the model weighs the review against the target's re-decision.
        numbers = {"p_keep": keep, "sender_cost": cost, "interest": threat.interest}
        notes = {"review": True, "retaliated": retaliated}
        return Choice(False, keep, float("nan"), numbers, notes)
