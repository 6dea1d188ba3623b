"""Bloc membership during a run: what a bloc is worth to each state, the yearly hazards of
joining and leaving, invitations, and applying every change of status (all bloc decisions are
applied here and logged with their numbers)."""

from __future__ import annotations

import math
from dataclasses import replace
from typing import Any

import numpy as np
from numpy.typing import NDArray

from sim import rules_blocs, rules_coercion
from sim.blocs import MEMBER, NONE, STATUS_CODES, STATUS_NAMES, BlocState, Pending
from sim.coercion import Coercion
from sim.vocabulary import LogKind

F = NDArray[np.float64]


class Membership(Coercion):
    """Bloc operations of a `GeoModel` (a mixin: they read and write its containers)."""

    def bloc_members(self, bloc: str) -> list[int]:
        """States that are members or partners of `bloc` now, in index order."""
        status = self.membership.blocs[self.membership.index[bloc]].status
        return [i for i in range(self.n_states) if status[i] != NONE]

    def bloc_drivers(self, x: int) -> dict[str, F]:
        """What bloc `x` is worth to each state, term by term (the hazards' inputs)."""
        b = self.membership.blocs[x]
        weight = b.weights(self.rules.blocs.partner_weight)
        return {
            "closeness": np.asarray(rules_coercion.closeness(self.alignment.affinity, b.leader)),
            "dependence": self.economy.dependence[:, b.leader],
            "diffusion": rules_blocs.region_share(weight, self.alignment.region),
            "threat_cost": self.membership_threat_cost(b.code),
        }

    def bloc_utilities(self, x: int) -> F:
        """Value to each state of being in bloc `x` (rules_blocs.membership_value)."""
        d = self.bloc_drivers(x)
        return rules_blocs.membership_value(
            d["closeness"], d["dependence"], d["diffusion"], d["threat_cost"], self.rules.blocs
        )

    def membership_threat_cost(self, bloc: str) -> F:
        """Expected coercion cost (share of GDP) that membership of `bloc` draws from policies."""
        cost = np.zeros(self.n_states)
        for j, pc in enumerate(self.index.powers):
            for pol in self.spec.powers[pc].policies.values():
                if not self.in_window(pol.start, pol.end):
                    continue
                d = pol.demand
                targets_members = d.leave_bloc == bloc
                targets_violators = pol.scope_bloc == bloc and d.policy is not None
                if not (targets_members or targets_violators):
                    continue
                cred = self.credibility(j, pol.credibility)
                for i in self.policy_scope(pol):
                    if targets_violators and self.demand_met(i, d):
                        continue
                    stakes = self.stake_costs(i, j, pol, pol.tariff)
                    cost[i] += cred * sum(stakes.values())
        return cost

    def may_join(self, x: int) -> NDArray[np.bool_]:
        """States that may join bloc `x` at all: relations with its leader (a state recognising
        Taipei cannot sign China's memorandum) and no standing policy of staying out."""
        leader = self.membership.blocs[x].leader
        return np.asarray(self.alignment.relations[:, leader] & ~self.membership.stays_out[:, x])

    def bloc_hazards(self, x: int) -> tuple[F, F, F, F]:
        """(value, change, yearly hazard of joining, of leaving) of bloc `x` for every state.

        Joining by hazard needs an open bloc, relations with its leader (a state recognising
        Taipei cannot sign China's memorandum) and no standing policy of staying out;
        invitation-only blocs are joined by invitation.
        """
        b = self.membership.blocs[x]
        p = self.rules.blocs
        value = self.bloc_utilities(x)
        change = value - self.membership.u0[x]
        eligible = (b.status == NONE) & b.open & self.may_join(x)
        return (
            value,
            change,
            rules_blocs.join_hazard(value, change, eligible, p),
            np.where(b.status != NONE, rules_blocs.leave_hazard(change, p), 0.0),
        )

    def review_blocs(self) -> None:
        """Invitations falling due are answered; then each state may join or leave each bloc at
        its yearly hazards (one draw per state and bloc each step; a member of a bloc with a term
        leaves only at a renewal date, with the hazard accumulated over the term). In January
        every state's standing with every bloc is logged with its numbers (`bloc_review`), so a
        failure to join can be explained."""
        self.answer_pending()
        yearly = self.calendar.label(self.steps).endswith("-01")
        for x, b in enumerate(self.membership.blocs):
            value, change, h_join, h_leave = self.bloc_hazards(x)
            draws = self.rng.random(self.n_states)
            p_join = rules_blocs.switch_probability(h_join, self.dt)
            if b.term_steps is None:
                p_leave = rules_blocs.switch_probability(h_leave, self.dt)
            else:
                term = b.term_steps * self.dt
                renewing = b.renewing(self.steps)
                p_leave = np.where(renewing, rules_blocs.switch_probability(h_leave, term), 0.0)
                self.log_renewals(b, renewing & (draws >= p_leave), h_leave)
            switch = draws < np.where(b.status != NONE, p_leave, p_join)
            for i in range(self.n_states) if yearly else map(int, np.flatnonzero(switch)):
                numbers = {
                    "value": round(float(value[i]), 8),
                    "change": round(float(change[i]), 8),
                    "hazard_join": round(float(h_join[i]), 8),
                    "hazard_leave": round(float(h_leave[i]), 8),
                }
                inside = b.status[i] != NONE
                p = float(p_leave[i] if inside else p_join[i])
                if draws[i] < p:
                    kind = LogKind.LEFT if inside else LogKind.JOINED
                    new = NONE if inside else MEMBER
                    extra = {"p": p, "draw": float(draws[i])}
                    self.set_status(b, i, new, kind, refresh=False, **numbers, **extra)
                elif yearly:
                    self.note(
                        LogKind.BLOC_REVIEW,
                        self.index.states[i],
                        b.code,
                        status=STATUS_NAMES[int(b.status[i])],
                        **numbers,
                    )
        # One refresh of the ties for all this step's switches (nothing above reads the ties).
        self.membership.refresh(self.n_states, self.n_powers, self.rules.blocs.partner_weight)

    def log_renewals(self, b: BlocState, renewed: NDArray[np.bool_], hazard: F) -> None:
        """Log the members that renewed at the end of their term."""
        for i in map(int, np.flatnonzero(renewed)):
            self.note(
                LogKind.RENEWED,
                self.index.states[i],
                b.code,
                hazard_leave=round(float(hazard[i]), 8),
                term_years=round(float(b.term_steps or 0) * self.dt, 6),
            )

    def invite(
        self,
        bloc: str,
        i: int,
        status: str,
        reason: str,
        *,
        solicited: bool = True,
        answer_months: int = 0,
        accession_months: int = 0,
    ) -> None:
        """A bloc invites a state: it answers now or when `answer_months` have passed; an
        acceptance takes effect now or after `accession_months`, when the state confirms."""
        x = self.membership.index[bloc]
        b = self.membership.blocs[x]
        state = self.index.states[i]
        self.note(LogKind.INVITED, bloc, state, event=reason, status=status, solicited=solicited)
        unit = self.calendar.unit_months
        b.pending[i] = Pending(
            status=STATUS_CODES[status],
            due=self.steps + math.ceil(answer_months / unit),
            stage="answer",
            solicited=solicited,
            accession_steps=math.ceil(accession_months / unit),
            reason=reason,
        )
        if answer_months == 0:
            self.answer_invitation(x, i)

    def answer_pending(self) -> None:
        """Answer (or confirm) every invitation that falls due at this step."""
        for x, b in enumerate(self.membership.blocs):
            for i in sorted(i for i, p in b.pending.items() if p.due <= self.steps):
                self.answer_invitation(x, i)

    def answer_invitation(self, x: int, i: int) -> None:
        """The state answers, or confirms at accession, a pending invitation to bloc `x`."""
        b = self.membership.blocs[x]
        pending = b.pending.pop(i)
        state = self.index.states[i]
        choice = self.state_agents[i].consider_invitation(x, pending.solicited, pending.reference)
        details = {**choice.details(), "stage": pending.stage, "event": pending.reason}
        if not choice.yes:
            self.note(LogKind.DECLINED, state, b.code, **details)
        elif pending.stage == "answer" and pending.accession_steps > 0:
            self.note(LogKind.ACCEPTED, state, b.code, **details)
            b.pending[i] = replace(
                pending,
                stage="accession",
                due=self.steps + pending.accession_steps,
                reference=float(choice.numbers["value"]),
            )
        else:
            self.set_status(b, i, pending.status, LogKind.JOINED, **details)

    def decide_on_bloc(self, bloc: str, i: int, reason: str, horizon_months: int) -> None:
        """A dated decision point (a summit, a renewal vote, a referendum): the state decides
        now, with the probability its hazard gives over `horizon_months`, whether to join (if it
        can) or leave; either way the decision is logged with its numbers."""
        x = self.membership.index[bloc]
        b = self.membership.blocs[x]
        value, change, h_join, h_leave = self.bloc_hazards(x)
        inside = b.status[i] != NONE
        hazard = float(h_leave[i] if inside else h_join[i])
        p = float(rules_blocs.switch_probability(np.asarray(hazard), horizon_months / 12))
        draw = float(self.rng.random())
        numbers: dict[str, Any] = {
            "value": round(float(value[i]), 8),
            "change": round(float(change[i]), 8),
            "hazard": round(hazard, 8),
            "p": round(p, 6),
            "draw": round(draw, 6),
            "event": reason,
        }
        switch = draw < p
        status = STATUS_NAMES[int(b.status[i])]
        self.note(
            LogKind.BLOC_DECISION,
            self.index.states[i],
            b.code,
            status=status,
            switch=switch,
            **numbers,
        )
        if switch:
            kind = LogKind.LEFT if inside else LogKind.JOINED
            self.set_status(b, i, NONE if inside else MEMBER, kind, **numbers)

    def set_membership(self, bloc: str, i: int, status: str, verb: str, **details: Any) -> None:
        """Set a state's status in a bloc by name (`none`, `partner`, `member`)."""
        b = self.membership.blocs[self.membership.index[bloc]]
        self.set_status(b, i, STATUS_CODES[status], verb, **details)

    def set_status(
        self, b: BlocState, i: int, status: int, verb: str, refresh: bool = True, **details: Any
    ) -> None:
        """Change a state's status in a bloc and (unless the caller does it once for many)
        refresh the bloc ties."""
        if b.status[i] == status:
            return
        old = STATUS_NAMES[int(b.status[i])]
        if b.status[i] == NONE:
            b.since[i] = self.steps  # a new membership: its term runs from now
        b.status[i] = status
        if refresh:
            self.membership.refresh(self.n_states, self.n_powers, self.rules.blocs.partner_weight)
        state = self.index.states[i]
        self.note(verb, state, b.code, status=STATUS_NAMES[status], previous=old, **details)
