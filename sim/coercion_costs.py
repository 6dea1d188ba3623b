"""What coercion is worth: each stake's cost to the target, the black knight, closeness, the
sender's own cost, what yielding to a demand costs, and where demands and policies apply.

A mixin of `GeoModel` that only reads its containers (`sim.coercion` applies decisions); the
numbers come from the pure rules of `sim.rules` and `sim.rules_coercion`.
"""

from __future__ import annotations

import math
from collections.abc import Iterable

import numpy as np

from sim import rules, rules_coercion
from sim.blocs import MEMBER, NONE
from sim.calendar import month_index
from sim.events import Threat
from sim.modelbase import ModelBase
from sim.schema.world import Demand, Stakes, StandingPolicy


class CoercionCosts(ModelBase):
    """Costs and scopes of coercion (a mixin: reads a `GeoModel`'s containers)."""

    def stake_costs(self, i: int, j: int, stakes: Stakes, rate: float | None) -> dict[str, float]:
        """Each stake's cost to state i, share of GDP, by log name (`cost_tariff`, ...).

        The tariff's cost is on the untariffed exports (`export_base`), so a tariff already in
        force does not shrink the exposure it creates; `rate` is the rate weighed (threatened,
        or in force).
        """
        eco, p = self.economy, self.rules
        out: dict[str, float] = {}
        if stakes.tariff is not None:
            out["cost_tariff"] = float(
                rules.tariff_exposure(
                    eco.export_base[i, j],
                    eco.gdp[i],
                    rate or 0.0,
                    p.trade.elasticity_short,
                    stakes.coverage,
                )
            )
        if stakes.withhold_lending is not None:
            out["cost_lending"] = float(
                rules_coercion.lending_exposure(
                    stakes.withhold_lending,
                    eco.debt[i, j],
                    eco.annual_loans[i, j],
                    eco.gdp[i],
                    p.investment.amortisation_years,
                )
            )
        if stakes.sanctions_officials:
            out["cost_officials"] = p.threats.officials_cost
        if stakes.financial_pressure is not None:
            out["cost_financial"] = stakes.financial_pressure
        if stakes.stake is not None:
            out["cost_stake"] = stakes.stake
        return out

    def debt_share(self, i: int, j: int) -> float:
        """Debt state i owes power j, share of its GDP (0 if unknown)."""
        debt = self.economy.debt[i, j]
        return float(debt / self.economy.gdp[i]) if math.isfinite(debt) else 0.0

    def black_knight(self, i: int, j: int) -> tuple[float, str | None]:
        """(offset, rival code): the share of the cost of defying power j that the rival (the
        other power with the largest share of state i's economic ties) absorbs."""
        if self.n_powers < 2:
            return 0.0, None
        ties = self.economy.dependence[i]
        q = int(rules_coercion.rival(ties, j))
        offset = rules_coercion.black_knight_offset(float(ties[q]), self.rules.threats)
        return float(offset), self.index.powers[q]

    def closeness(self, i: int, j: int) -> float:
        """State i's affinity to power j minus its mean affinity to the other powers."""
        return float(rules_coercion.closeness(self.alignment.affinity[i], j))

    def sender_costs(
        self, t: Threat, rate: float, counter_rate: float, p_retaliate: float
    ) -> float:
        """The sender's own cost of the threat's tariff, share of its GDP (0 without a tariff)."""
        if t.tariff is None:
            return 0.0
        i, j, eco = t.target, t.sender, self.economy
        return float(
            rules_coercion.sender_cost(
                eco.export_base[i, j] * t.stakes.coverage,
                rate,
                eco.imports[i, j] / eco.import_mult[i, j],
                counter_rate,
                p_retaliate,
                self.spec.powers[self.index.powers[j]].gdp,
                self.rules.trade.elasticity_short,
            )
        )

    def credibility(self, sender: int, given: float | None) -> float:
        """Effective credibility: the threat's (or the default) times the sender's reputation."""
        base = self.rules.threats.credibility if given is None else given
        return float(base * self.power_agents[sender].reputation)

    def withheld_lending(self) -> np.ndarray:
        """Share of each power's new lending to each state withheld by imposed threats (the
        largest share where several apply)."""
        out = np.zeros((self.n_states, self.n_powers))
        for t in self.coercion.threats:
            share = t.stakes.withhold_lending
            if t.status == "imposed" and share is not None:
                out[t.target, t.sender] = max(out[t.target, t.sender], share)
        return out

    def demand_met(self, i: int, demand: Demand) -> bool:
        """Whether state i already does what the demand asks."""
        if demand.leave_bloc is not None:
            bloc = self.membership.blocs[self.membership.index[demand.leave_bloc]]
            return bool(bloc.status[i] == NONE)
        assert demand.policy is not None
        col = self.policies.col.get(demand.policy)
        setting = np.nan if col is None else self.policies.active[i, col]
        current = 0.0 if math.isnan(setting) else setting
        return bool(current == float(demand.active))

    def demand_value(self, i: int, demand: Demand) -> tuple[float, float]:
        """(salience, benefits forgone) of yielding to a demand, shares of GDP."""
        p = self.rules.threats
        if demand.leave_bloc is not None:
            code = demand.leave_bloc
            st = self.spec.states[self.index.states[i]]
            salience = p.salience_value(st.bloc_salience.get(code, p.bloc_salience))
            b = self.membership.blocs[self.membership.index[code]]
            weight = 1.0 if b.status[i] == MEMBER else self.rules.blocs.partner_weight
            bonus = self.rules.investment.bloc_bonus
            share = bonus * weight / (1.0 + bonus * self.membership.ties[i, b.leader])
            eco = self.economy
            forgone = float(eco.annual_flows[i, b.leader] * share / eco.gdp[i])
            return salience, forgone
        assert demand.policy is not None
        col = self.policies.col.get(demand.policy)
        return (0.0 if col is None else float(self.policies.salience[i, col])), 0.0

    def policy_scope(self, pol: StandingPolicy) -> Iterable[int]:
        """States a standing policy applies to, in index order."""
        idx: Iterable[int] = range(self.n_states)
        if pol.scope_states is not None:
            idx = sorted(self.index.state[c] for c in pol.scope_states)
        if pol.scope_bloc is not None:
            status = self.membership.blocs[self.membership.index[pol.scope_bloc]].status
            idx = [i for i in idx if status[i] != NONE]
        return idx

    def in_window(self, start: str | None, end: str | None) -> bool:
        """Whether the current period lies within [start, end] (open ends allowed)."""
        k = self.steps
        if start is not None and k < self.calendar.step_of(month_index(start)):
            return False
        return not (end is not None and k > self.calendar.step_of(month_index(end)))

    def same_demand(self, t: Threat) -> list[Threat]:
        """The sender's other outstanding threats to the same target with the same demand: the
        target decides on the demand, so complying with one answers them all."""
        return [
            u
            for u in self.coercion.threats
            if u is not t
            and u.outstanding
            and (u.sender, u.target, u.demand) == (t.sender, t.target, t.demand)
        ]

    def in_force_cost(self, t: Threat) -> float:
        """What the measures already in force for the same demand cost the target (shares of
        GDP, certain): complying with `t` ends them too, so defying `t` keeps paying them."""
        return sum(
            sum(self.stake_costs(u.target, u.sender, u.stakes, u.tariff_rate).values())
            for u in self.same_demand(t)
            if u.status == "imposed"
        )

    def threat_pending(self, origin: str, i: int) -> bool:
        """Whether a threat from `origin` to state i is still outstanding."""
        return any(
            t.origin == origin and t.target == i and t.outstanding for t in self.coercion.threats
        )
