"""Bloc membership during a run: what a bloc is worth to each state, reviews, invitations, and
applying every change of status (all bloc decisions are applied here)."""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import NDArray

from sim import rules
from sim.blocs import MEMBER, NONE, STATUS_CODES, STATUS_NAMES, BlocState
from sim.coercion import Coercion
from sim.vocabulary import LogKind

F = NDArray[np.float64]


class Membership(Coercion):
    """Bloc operations of a `GeoModel` (a mixin: they read and write its containers)."""

    def bloc_members(self, bloc: str) -> list[int]:
        """States that are members or partners of `bloc` now, in index order."""
        status = self.membership.blocs[self.membership.index[bloc]].status
        return [i for i in range(self.n_states) if status[i] != NONE]

    def bloc_change(self, x: int) -> F:
        """Change in the value of bloc `x` to each state since the start."""
        return np.asarray(self.bloc_utilities(x) - self.membership.u0[x])

    def bloc_utilities(self, x: int) -> F:
        """Value to each state of being in bloc `x` (see rules.bloc_utility)."""
        b = self.membership.blocs[x]
        a = self.alignment.affinity
        others = (a.sum(axis=1) - a[:, b.leader]) / max(self.n_powers - 1, 1)
        return rules.bloc_utility(
            a[:, b.leader],
            others,
            self.economy.dependence[:, b.leader],
            self.membership_threat_cost(b.code),
            self.n_powers,
            self.rules.blocs,
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

    def review_blocs(self) -> None:
        """Random reviews: members leave, and non-members join open blocs, when value moved."""
        pr = self.rules.blocs
        review = rules.review_probability(pr, self.dt)
        for x, b in enumerate(self.membership.blocs):
            reviewed = self.rng.random(self.n_states) < review
            draws = self.rng.random(self.n_states)
            if not reviewed.any():
                continue
            change = self.bloc_change(x)
            inside = b.status != NONE
            p_leave = rules.switch_probability(-change, pr)
            p_join = rules.switch_probability(change, pr)
            for i in np.flatnonzero(reviewed):
                numbers = {"utility_change": float(change[i]), "draw": float(draws[i])}
                if inside[i] and draws[i] < p_leave[i]:
                    self.set_status(b, int(i), NONE, LogKind.LEFT, **numbers, p=float(p_leave[i]))
                elif not inside[i] and b.open and draws[i] < p_join[i]:
                    self.set_status(
                        b, int(i), MEMBER, LogKind.JOINED, **numbers, p=float(p_join[i])
                    )

    def invite(self, bloc: str, i: int, status: str, reason: str) -> None:
        """A bloc invites a state; the state's agent decides, and an acceptance is applied."""
        x = self.membership.index[bloc]
        state = self.index.states[i]
        self.note(LogKind.INVITED, bloc, state, event=reason, status=status)
        choice = self.state_agents[i].consider_invitation(x)
        if choice.yes:
            b = self.membership.blocs[x]
            self.set_status(b, i, STATUS_CODES[status], LogKind.JOINED, **choice.details())
        else:
            self.note(LogKind.DECLINED, state, bloc, **choice.details())

    def set_membership(self, bloc: str, i: int, status: str, verb: str, **details: Any) -> None:
        """Set a state's status in a bloc by name (`none`, `partner`, `member`)."""
        b = self.membership.blocs[self.membership.index[bloc]]
        self.set_status(b, i, STATUS_CODES[status], verb, **details)

    def set_status(self, b: BlocState, i: int, status: int, verb: str, **details: Any) -> None:
        """Change a state's status in a bloc and refresh the bloc ties."""
        if b.status[i] == status:
            return
        old = STATUS_NAMES[int(b.status[i])]
        b.status[i] = status
        self.membership.refresh(self.n_states, self.n_powers, self.rules.blocs.partner_weight)
        state = self.index.states[i]
        self.note(verb, state, b.code, status=STATUS_NAMES[status], previous=old, **details)
