"""Threats from issue to resolution: the target answers, the sender enforces or backs down.

Every decision about coercion is applied here (agents decide, this applies): issuing a threat,
compliance, defiance, imposition, backing down, lifting a tariff, cooldowns of standing
policies, and what a threat or a demand is worth to a state.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

import numpy as np

from sim import rules
from sim.blocs import MEMBER, NONE
from sim.calendar import month_index
from sim.events import Threat
from sim.modelbase import ModelBase
from sim.schema.world import Demand, StandingPolicy
from sim.vocabulary import LogKind


class Coercion(ModelBase):
    """Threat operations of a `GeoModel` (a mixin: they read and write its containers)."""

    def threaten(
        self,
        origin: str,
        sender: int,
        target: int,
        demand: Demand,
        tariff: float | None,
        stake: float | None,
        credibility: float | None,
        deadline_months: int,
    ) -> None:
        """A power threatens a state; the state answers at once."""
        if self.demand_met(target, demand):
            return
        cred = self.credibility(sender, credibility)
        wait = math.ceil(deadline_months / self.calendar.unit_months)
        t = Threat(
            origin, sender, target, demand, tariff, stake, cred, self.steps, self.steps + wait
        )
        self.coercion.threats.append(t)
        self.alignment.coercion[target, sender] -= self.rules.alignment.coercion_backlash
        self.note(
            LogKind.THREAT,
            self.index.powers[sender],
            self.index.states[target],
            origin=origin,
            demand=demand.model_dump(exclude_none=True),
            tariff=tariff,
            stake=stake,
            credibility=round(cred, 6),
            deadline=self.calendar.label(t.deadline),
        )
        self.answer(t, certain=False)

    def answer(self, t: Threat, certain: bool) -> None:
        """The target of `t` decides; compliance changes its policy or membership."""
        choice = self.state_agents[t.target].respond(t, certain)
        sender, target = self.index.powers[t.sender], self.index.states[t.target]
        if choice.yes:
            self.comply(t, choice.details())
        elif t.status == "open":
            t.status = "defied"
            self.note(LogKind.DEFIED, target, sender, origin=t.origin, **choice.details())

    def comply(self, t: Threat, details: dict[str, Any]) -> None:
        """Apply the demand, record resentment, lift any tariff the threat brought."""
        i, j = t.target, t.sender
        was_imposed = t.status == "imposed"
        t.status, t.resolved = "complied", self.steps
        a = self.rules.alignment
        self.alignment.coercion[i, j] -= a.coercion_backlash * a.compliance_resentment
        self.note(
            LogKind.COMPLIED,
            self.index.states[i],
            self.index.powers[j],
            origin=t.origin,
            after_imposition=was_imposed,
            **details,
        )
        d = t.demand
        if d.leave_bloc is not None:
            pressure = {"under_pressure_from": self.index.powers[j]}
            self.set_membership(d.leave_bloc, i, "none", LogKind.LEFT, **pressure)
        elif d.policy is not None:
            self.set_policy(i, d.policy, d.active)
        if was_imposed and t.tariff is not None:
            self.set_tariff(i, j, 0.0, reason=f"complied with {t.origin}")
        self.start_cooldown(t)

    def enforce(self, t: Threat) -> None:
        """Deadline of a defied threat: the sender carries it out or backs down."""
        power = self.power_agents[t.sender]
        choice = power.enforce(t)
        carried_out = choice.yes
        power.reputation = rules.reputation_after(power.reputation, carried_out, self.rules.threats)
        kind = LogKind.IMPOSED if carried_out else LogKind.BACKED_DOWN
        if carried_out:
            t.status, t.imposed_at = "imposed", self.steps
            a = self.rules.alignment
            self.alignment.coercion[t.target, t.sender] -= a.coercion_backlash * a.tariff_backlash
        else:
            t.status, t.resolved = "backed_down", self.steps
        self.note(
            kind,
            power.code,
            self.index.states[t.target],
            origin=t.origin,
            reputation=round(power.reputation, 6),
            **choice.details(),
        )
        if not carried_out:
            self.start_cooldown(t)
        elif t.tariff is not None:
            self.set_tariff(t.target, t.sender, t.tariff, reason=t.origin)
        else:  # a non-tariff stake that is carried out costs the stake, once, in output
            self.economy.gdp[t.target] *= 1.0 - (t.stake or 0.0)

    def lift_tariff(self, i: int, j: int, reason: str) -> None:
        """A tariff lifted by decision: the threats that imposed it end as `lifted`."""
        for t in self.coercion.threats:
            if t.status == "imposed" and t.tariff is not None and (t.target, t.sender) == (i, j):
                t.status, t.resolved = "lifted", self.steps
                states, powers = self.index.states, self.index.powers
                self.note(LogKind.LIFTED, powers[j], states[i], origin=t.origin, event=reason)
                self.start_cooldown(t)
        self.set_tariff(i, j, 0.0, reason=reason)

    def start_cooldown(self, t: Threat) -> None:
        """A resolved standing-policy threat is not repeated for `cooldown_months`."""
        if not t.origin.startswith("policy:"):
            return
        pc, _, name = t.origin.removeprefix("policy:").partition(".")
        months = self.spec.powers[pc].policies[name].cooldown_months
        months = self.rules.threats.cooldown_months if months is None else months
        wait = math.ceil(months / self.calendar.unit_months)
        self.coercion.cooldown[(t.origin, t.target)] = self.steps + wait

    def set_tariff(self, i: int, j: int, rate: float, reason: str) -> None:
        """Put a tariff in force (or lift it with rate 0); exports respond on impact."""
        eco = self.economy
        old = eco.tariff[i, j]
        if old == rate:
            return
        eco.mult[i, j] = rules.tariff_shock(
            np.asarray(eco.mult[i, j]), np.asarray(old), np.asarray(rate), self.rules.trade
        )
        eco.tariff[i, j] = rate
        kind = LogKind.TARIFF_LIFTED if rate == 0 else LogKind.TARIFF_IMPOSED
        states, powers = self.index.states, self.index.powers
        self.note(kind, powers[j], states[i], rate=rate, previous=old, reason=reason)

    # ------------------------------------------------------------------ what threats are worth

    def exposure(self, i: int, j: int, tariff: float | None, stake: float | None) -> float:
        """What a threat puts at risk for state i, share of GDP."""
        if tariff is not None:
            eco = self.economy
            elasticity = self.rules.trade.elasticity_short
            return float(rules.tariff_exposure(eco.exports[i, j], eco.gdp[i], tariff, elasticity))
        return stake or 0.0

    def credibility(self, sender: int, given: float | None) -> float:
        """Effective credibility: the threat's (or the default) times the sender's reputation."""
        base = self.rules.threats.credibility if given is None else given
        return float(base * self.power_agents[sender].reputation)

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
        if demand.leave_bloc is not None:
            code = demand.leave_bloc
            st = self.spec.states[self.index.states[i]]
            salience = st.bloc_salience.get(code, self.rules.threats.bloc_salience)
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

    def threat_pending(self, origin: str, i: int) -> bool:
        """Whether a threat from `origin` to state i is still outstanding."""
        return any(
            t.origin == origin and t.target == i and t.outstanding for t in self.coercion.threats
        )
