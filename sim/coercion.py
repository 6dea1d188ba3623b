"""Threats from issue to resolution: the target answers, the sender imposes or backs down, keeps
or lifts what it imposed, and the target may retaliate.

Every decision about coercion is applied here (agents decide, this applies): issuing a threat,
compliance, defiance, imposition with each stake's measure, retaliation, rally, schedules,
lifting, cooldowns of standing policies. What coercion is worth is in `sim.coercion_costs`.
"""

from __future__ import annotations

import math
from dataclasses import replace
from typing import Any

import numpy as np

from sim import rules, rules_coercion
from sim.coercion_costs import CoercionCosts
from sim.events import Threat
from sim.schema.world import Demand, Stakes
from sim.vocabulary import LogKind


def stake_fields(stakes: Stakes) -> dict[str, Any]:
    """The threat's stakes for the log (only those it has)."""
    out: dict[str, Any] = {"tariff": stakes.tariff, "stake": stakes.stake}
    if stakes.tariff is not None:
        out.update(coverage=stakes.coverage, imposed_rate=stakes.imposed_rate)
        if stakes.schedule:
            out["schedule"] = [[s.after_months, s.rate] for s in stakes.schedule]
    if stakes.withhold_lending is not None:
        out["withheld_lending"] = stakes.withhold_lending
    if stakes.sanctions_officials:
        out["officials"] = True
    if stakes.financial_pressure is not None:
        out["financial"] = stakes.financial_pressure
    return out


class Coercion(CoercionCosts):
    """Threat operations of a `GeoModel` (a mixin: they read and write its containers)."""

    def threaten(
        self,
        origin: str,
        sender: int,
        target: int,
        demand: Demand,
        stakes: Stakes,
        deadline_months: int,
    ) -> None:
        """A power threatens a state; the state answers at once."""
        if self.demand_met(target, demand):
            return
        cred = self.credibility(sender, stakes.credibility)
        interest = (
            self.rules.threats.sender_interest if stakes.interest is None else stakes.interest
        )
        wait = math.ceil(deadline_months / self.calendar.unit_months)
        t = Threat(
            origin, sender, target, demand, stakes, cred, interest, self.steps, self.steps + wait
        )
        self.coercion.threats.append(t)
        self.alignment.coercion[target, sender] -= self.rules.alignment.coercion_backlash
        self.note(
            LogKind.THREAT,
            self.index.powers[sender],
            self.index.states[target],
            origin=origin,
            demand=demand.model_dump(exclude_none=True),
            **stake_fields(stakes),
            credibility=round(cred, 6),
            interest=interest,
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
        """The target meets the demand of `t`: it resents yielding, and every threat for the
        demand ends, `t` first (the same demand, met once: every measure for it ends)."""
        a = self.rules.alignment
        self.alignment.coercion[t.target, t.sender] -= a.coercion_backlash * a.compliance_resentment
        self.settle(t, t, details)
        for u in self.same_demand(t):
            self.settle(u, t, {"answered_by": t.origin})

    def settle(self, u: Threat, answered: Threat, details: dict[str, Any]) -> None:
        """End `u` as complied because the target complied with `answered` (`u` itself, or
        another threat for the same demand): log it, apply the demand (once, for the threat
        answered), lift what `u` had imposed, start its cooldown."""
        was_imposed = u.status == "imposed"
        u.status, u.resolved = "complied", self.steps
        self.note(
            LogKind.COMPLIED,
            self.index.states[u.target],
            self.index.powers[u.sender],
            origin=u.origin,
            after_imposition=was_imposed,
            **details,
        )
        if u is answered:
            self.meet(u)
        if was_imposed:
            self.release(u, f"complied with {answered.origin}")
        self.start_cooldown(u)

    def meet(self, t: Threat) -> None:
        """Apply the demand of `t` to its target (under pressure from its sender)."""
        i, d = t.target, t.demand
        if d.leave_bloc is not None:
            pressure = {"under_pressure_from": self.index.powers[t.sender], "stays_out": True}
            self.set_membership(d.leave_bloc, i, "none", LogKind.LEFT, **pressure)
            # Complying is a commitment: rejoining would defy the demand, so the state keeps out
            # (a standing policy, as `stays_out` in a scenario) unless an event puts it back.
            self.membership.stays_out[i, self.membership.index[d.leave_bloc]] = True
        elif d.policy is not None:
            self.set_policy(i, d.policy, d.active)

    def enforce(self, t: Threat) -> None:
        """Deadline of a defied threat: the sender carries it out or backs down."""
        power = self.power_agents[t.sender]
        choice = power.enforce(t)
        carried_out = choice.yes
        power.reputation = rules.reputation_after(power.reputation, carried_out, self.rules.threats)
        if not carried_out:
            t.status, t.resolved = "backed_down", self.steps
            self.note(
                LogKind.BACKED_DOWN,
                power.code,
                self.index.states[t.target],
                origin=t.origin,
                reputation=round(power.reputation, 6),
                **choice.details(),
            )
            self.start_cooldown(t)
            return
        t.status, t.imposed_at = "imposed", self.steps
        i, j = t.target, t.sender
        a = self.rules.alignment
        self.alignment.coercion[i, j] -= a.coercion_backlash * a.tariff_backlash
        before = float(self.coercion.resolve[i, j])
        closeness = self.closeness(i, j)
        after = float(rules_coercion.resolve_after(before, closeness, self.rules.threats))
        self.coercion.resolve[i, j] = after
        self.note(
            LogKind.IMPOSED,
            power.code,
            self.index.states[i],
            origin=t.origin,
            reputation=round(power.reputation, 6),
            resolve_change=round(after / before, 8),
            resolve=round(after, 8),
            **stake_fields(t.stakes),
            **choice.details(),
        )
        self.carry_out(t)

    def carry_out(self, t: Threat) -> None:
        """Put each of an imposed threat's measures in force (lending is withheld while the threat
        stays imposed; see `withheld_lending`)."""
        i, j, s = t.target, t.sender, t.stakes
        rate = s.imposed_rate
        if rate is not None:
            t.tariff_rate = rate
            self.refresh_tariff(i, j, reason=t.origin)
            if rate > 0:
                self.consider_retaliation(t)
        cuts = [s.stake, s.financial_pressure]
        cuts += [self.rules.threats.officials_cost] if s.sanctions_officials else []
        kept = float(np.prod([1.0 - c for c in cuts if c is not None]))
        t.output_cut = 1.0 - kept
        self.economy.gdp[i] *= kept

    def consider_retaliation(self, t: Threat) -> None:
        """The target of a newly imposed tariff may answer with a counter-tariff of the same rate
        on its imports from the sender."""
        i, j = t.target, t.sender
        choice = self.state_agents[i].retaliate(t)
        if not choice.yes:
            return
        before = float(self.economy.imports[i, j])
        self.set_counter_tariff(i, j, t.tariff_rate)
        t.counter_tariff = t.tariff_rate
        self.note(
            LogKind.RETALIATED,
            self.index.states[i],
            self.index.powers[j],
            origin=t.origin,
            rate=t.tariff_rate,
            imports_before=before,
            imports_after=float(self.economy.imports[i, j]),
            **choice.details(),
        )

    def release(self, t: Threat, reason: str) -> None:
        """End every measure an imposed threat has in force (tariff, counter-tariff, output
        cuts; withheld lending ends with the status)."""
        i, j = t.target, t.sender
        t.tariff_rate = 0.0
        if t.tariff is not None:
            self.refresh_tariff(i, j, reason=reason)
        if t.counter_tariff > 0:
            self.set_counter_tariff(i, j, 0.0)
            t.counter_tariff = 0.0
        if t.output_cut > 0:
            self.economy.gdp[i] /= 1.0 - t.output_cut
            t.output_cut = 0.0

    def redecide(self, t: Threat, reconsiders: bool = True) -> None:
        """Imposed coercion in one step: the target's re-decisions (complying at
        `reconsider_rate` x P(comply) per year) and the sender's reviews (lifting at
        `review_rate` x P(lift) per year) compete; one draw says which, if either, comes first,
        so the outcome does not depend on the step length or on which is looked at first.
        `reconsiders` is false for the second and later measures imposed for one demand: the
        target reconsiders the demand once, weighing them all (`State.respond`)."""
        p = self.rules.threats
        target = self.state_agents[t.target].respond(t, certain=True)
        sender = self.power_agents[t.sender].review(t)
        reconsider = p.reconsider and reconsiders
        comply_rate = p.reconsider_rate * target.probability if reconsider else 0.0
        lift_rate = p.review_rate * (1.0 - sender.probability)
        first_comply, first_lift = rules_coercion.first_of(comply_rate, lift_rate, self.dt)
        draw = float(self.rng.random())
        if draw < first_comply:
            chosen = replace(target, yes=True, probability=float(first_comply), draw=draw)
            self.comply(t, chosen.details())
        elif draw < first_comply + first_lift:
            chosen = replace(sender, yes=True, probability=float(first_lift), draw=draw)
            self.end_imposed(t, reason="review", **chosen.details())

    def end_imposed(self, t: Threat, reason: str, **details: Any) -> None:
        """The sender lifts an imposed threat while the target still defies."""
        t.status, t.resolved = "lifted", self.steps
        states, powers = self.index.states, self.index.powers
        self.note(LogKind.LIFTED, powers[t.sender], states[t.target], origin=t.origin, **details)
        self.release(t, reason)
        self.start_cooldown(t)

    def apply_schedule(self, t: Threat) -> None:
        """An imposed threat's tariff follows its schedule (months rounded up to steps)."""
        if t.imposed_at is None or not t.stakes.schedule:
            return
        unit = self.calendar.unit_months
        due = [
            s
            for s in t.stakes.schedule
            if t.imposed_at + math.ceil(s.after_months / unit) <= self.steps
        ]
        if not due or due[-1].rate == t.tariff_rate:
            return
        t.tariff_rate = due[-1].rate
        self.refresh_tariff(
            t.target, t.sender, t.origin, scheduled=True, after_months=due[-1].after_months
        )

    def lift_tariff(self, i: int, j: int, reason: str) -> None:
        """A tariff lifted by decision: the threats that imposed it end as `lifted`."""
        for t in self.coercion.threats:
            if t.status == "imposed" and t.tariff is not None and (t.target, t.sender) == (i, j):
                self.end_imposed(t, reason=reason, event=reason)
        self.coercion.outright.pop((i, j), None)
        self.refresh_tariff(i, j, reason=reason)

    def refresh_tariff(self, i: int, j: int, reason: str, **details: Any) -> None:
        """Put in force the highest rate of the tariffs layered on (i, j): the outright one and
        each imposed threat's (one ending leaves the others in force)."""
        rates = [self.coercion.outright.get((i, j), 0.0)]
        rates += [
            t.tariff_rate
            for t in self.coercion.threats
            if t.status == "imposed" and (t.target, t.sender) == (i, j)
        ]
        self.set_tariff(i, j, max(rates), reason, **details)

    def start_cooldown(self, t: Threat) -> None:
        """A resolved standing-policy threat is not repeated for `cooldown_months`."""
        if not t.origin.startswith("policy:"):
            return
        pc, _, name = t.origin.removeprefix("policy:").partition(".")
        months = self.spec.powers[pc].policies[name].cooldown_months
        months = self.rules.threats.cooldown_months if months is None else months
        wait = math.ceil(months / self.calendar.unit_months)
        self.coercion.cooldown[(t.origin, t.target)] = self.steps + wait

    def set_tariff(self, i: int, j: int, rate: float, reason: str, **details: Any) -> None:
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
        self.note(kind, powers[j], states[i], rate=rate, previous=old, reason=reason, **details)

    def impose_tariff(self, i: int, j: int, rate: float, reason: str) -> None:
        """A tariff imposed outright counts as coercion: a rise adds the coercion memory of a
        carried-out threat (alignment backlash)."""
        old = float(self.economy.tariff[i, j])
        self.coercion.outright[(i, j)] = rate
        if rate <= old:
            self.refresh_tariff(i, j, reason)
            return
        a = self.rules.alignment
        memory = a.coercion_backlash * a.tariff_backlash
        self.alignment.coercion[i, j] -= memory
        self.refresh_tariff(i, j, reason, outright=True, coercion_memory=-memory)

    def set_counter_tariff(self, i: int, j: int, rate: float) -> None:
        """State i's counter-tariff on its imports from power j; imports respond on impact (the
        short-run elasticity) and recover when it is lifted."""
        eco = self.economy
        old = eco.counter_tariff[i, j]
        new_mult = float(
            rules.tariff_shock(
                np.asarray(eco.import_mult[i, j]),
                np.asarray(old),
                np.asarray(rate),
                self.rules.trade,
            )
        )
        eco.imports[i, j] *= new_mult / eco.import_mult[i, j]
        eco.import_mult[i, j] = new_mult
        eco.counter_tariff[i, j] = rate
