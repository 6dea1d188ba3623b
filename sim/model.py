"""The Mesa model: wiring of states, powers and blocs, and the documented order of one step.

Step order (each step is one period of `time.unit`):
  1. dated events of this period, in file order;
  2. standing policies: powers threaten states that violate their demands;
  3. states under an imposed tariff reconsider (cost now certain);
  4. deadlines: for defied threats, the sender imposes or backs down;
  5. trade: growth, drift toward alignment, tariff adjustment and diversion;
  6. investment and lending: powers allocate budgets; debt is amortised;
  7. blocs: states review memberships (join open blocs, leave any);
  8. alignment: affinities move toward the target set by ties, coercion and neighbours;
  9. record.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable
from typing import Any

import mesa
import numpy as np
from numpy.typing import NDArray

from sim import rules
from sim.agents import GreatPower, State
from sim.blocs import MEMBER, NONE, PARTNER, STATUS_CODES, STATUS_NAMES, BlocState, leader_ties
from sim.calendar import month_index
from sim.events import EventLog, Threat
from sim.metrics import Recorder
from sim.scenario import (
    Demand,
    EngagementEvent,
    Event,
    GovernmentChangeEvent,
    InviteEvent,
    JoinEvent,
    LeaveEvent,
    PledgeEvent,
    PolicyChangeEvent,
    RuleChangeEvent,
    Scenario,
    StandingPolicy,
    TariffEvent,
    TariffLiftEvent,
    ThreatEvent,
    with_rule,
)

F = NDArray[np.float64]


class GeoModel(mesa.Model):  # type: ignore[misc]
    """States and great powers under a scenario's rules; one `step()` is one period."""

    def __init__(self, scenario: Scenario, rng: int | None = None, *, collect: bool = True) -> None:
        super().__init__(rng=rng)
        self.spec = scenario
        self.collect = collect
        """Feed the Mesa DataCollector each step (sweeps, which record arrays, switch it off)."""
        self.rules = scenario.rules
        self.calendar = scenario.time.calendar()
        self.dt = self.calendar.years_per_step
        self.log = EventLog()

        self.state_codes = list(scenario.states)
        self.power_codes = list(scenario.powers)
        self.state_index = {c: i for i, c in enumerate(self.state_codes)}
        self.power_index = {c: j for j, c in enumerate(self.power_codes)}
        n, k = len(self.state_codes), len(self.power_codes)
        self.n_states, self.n_powers = n, k
        states = list(scenario.states.values())

        def amounts(field: str) -> F:
            out = np.full((n, k), np.nan)
            for i, st in enumerate(states):
                for p, v in getattr(st, field).items():
                    out[i, self.power_index[p]] = np.nan if v is None else v
            return out

        self.gdp = np.array([st.gdp for st in states], dtype=float)
        self.export_base = amounts("exports")
        self.imports = amounts("imports")
        self.fdi = amounts("fdi")
        self.debt = amounts("debt")
        self.tariff = np.zeros((n, k))
        self.mult = np.ones((n, k))
        self.exports = self.export_base.copy()
        self.growth = np.array([p.import_growth for p in scenario.powers.values()])
        self.engagement = np.array([p.engagement for p in scenario.powers.values()])
        self.pulse = np.zeros((n, k))
        self.lasting = np.zeros((n, k))
        self.coercion = np.zeros((n, k))
        self.sovereignty = np.array([st.sovereignty for st in states], dtype=float)
        self.sphere = np.full((n, k), 1.0 / k)
        for i, st in enumerate(states):
            if st.sphere is not None:
                self.sphere[i] = 0.0
                self.sphere[i, self.power_index[st.sphere]] = 1.0
        self.annual_flows = np.zeros((n, k))

        # Every policy the run can touch gets a column up front, so records keep one shape.
        named = {name for st in states for name in st.policies}
        named |= {ev.policy for ev in scenario.events.values() if isinstance(ev, PolicyChangeEvent)}
        self.policy_names = sorted(named)
        self.policy_col = {name: c for c, name in enumerate(self.policy_names)}
        self.policy_active = np.full((n, len(self.policy_names)), np.nan)
        self.salience = np.zeros((n, len(self.policy_names)))
        for i, st in enumerate(states):
            for name, pol in st.policies.items():
                self.policy_active[i, self.policy_col[name]] = float(pol.active)
                self.salience[i, self.policy_col[name]] = pol.salience

        self.blocs = [
            BlocState.build(code, b, self.state_index, self.power_index)
            for code, b in scenario.blocs.items()
        ]
        self.bloc_index = {b.code: x for x, b in enumerate(self.blocs)}
        self.bloc_ties = leader_ties(self.blocs, n, k, self.rules.blocs.partner_weight)

        edges = {
            (self.state_index[a], self.state_index[b])
            for a, st in scenario.states.items()
            for b in st.neighbours
        }
        edges |= {(b, a) for a, b in edges}
        ordered = sorted(edges)
        self.edge_src = np.array([e[0] for e in ordered], dtype=np.intp)
        self.edge_dst = np.array([e[1] for e in ordered], dtype=np.intp)

        self.threats: list[Threat] = []
        self.cooldown: dict[tuple[str, int], int] = {}
        self.events_by_step: dict[int, list[tuple[str, Event]]] = defaultdict(list)
        for eid, ev in scenario.events.items():
            self.events_by_step[self.calendar.step_of(month_index(ev.date))].append((eid, ev))

        self.state_agents = [State(self, c, i) for i, c in enumerate(self.state_codes)]
        self.power_agents = [GreatPower(self, c, j) for j, c in enumerate(self.power_codes)]
        tp = self.rules.alignment.tilt_powers
        self.tilt_pair = (self.power_index[tp[0]], self.power_index[tp[1]])

        self.refresh_ties()
        self.affinity = self._initial_affinity()
        # Initial memberships are taken as revealed choices: states react to changes in
        # what a bloc is worth to them, not to its level (which the model cannot explain).
        self.bloc_u0 = [self.bloc_utilities(x) for x in range(len(self.blocs))]

        self.recorder = Recorder(self)
        self.datacollector = mesa.DataCollector(
            model_reporters={
                "mean_tilt": lambda m: float(np.mean(m.tilt())),
                "tariffs_in_force": lambda m: int(np.count_nonzero(m.tariff)),
                "threats_outstanding": lambda m: sum(t.outstanding for t in m.threats),
            }
        )
        self.recorder.record(0)
        if self.collect:
            self.datacollector.collect(self)

    # ------------------------------------------------------------------ derived quantities

    def tilt(self) -> F:
        """Tilt of every state between the two tilt powers, in [-1, 1]."""
        return rules.tilt(self.affinity, *self.tilt_pair)

    def compute_ties(self) -> dict[str, tuple[F, NDArray[np.bool_]]]:
        """Each tie's shares per power and the mask of states where it is known."""
        a = self.rules.alignment
        known_all = np.ones(self.n_states, dtype=bool)
        bloc = rules.bloc_tie(self.bloc_ties, a.bloc_half_saturation)
        eng = self.engagement[None, :] + self.lasting + self.pulse
        eng = eng / eng.sum(axis=1, keepdims=True)
        return {
            "trade": rules.trade_tie(self.exports, self.imports),
            "fdi": rules.shares(self.fdi),
            "debt": rules.debt_tie(self.debt, self.gdp, a.debt_half_saturation),
            "bloc": (bloc, known_all),
            "engagement": (eng, known_all),
            "sphere": (self.sphere, known_all),
        }

    def target_from_ties(self) -> F:
        """Target affinity from ties alone (before coercion and neighbours)."""
        w = self.rules.alignment.weights
        comps = [(getattr(w, name), comp, known) for name, (comp, known) in self.ties.items()]
        return rules.target_affinity(comps)

    def _initial_affinity(self) -> F:
        """Given affinities where the scenario has them; elsewhere the ties' fixed point."""
        ties = self.target_from_ties()
        a = ties.copy()
        given = np.zeros(self.n_states, dtype=bool)
        for i, st in enumerate(self.spec.states.values()):
            if st.alignment is not None:
                given[i] = True
                for p, v in st.alignment.items():
                    a[i, self.power_index[p]] = v
        # Derived states start where ties and neighbours hold them (so nothing moves unprompted).
        for _ in range(50):
            peer, has = rules.neighbour_mean(a, self.edge_src, self.edge_dst)
            new = np.where(
                given[:, None], a, rules.with_peers(ties, peer, has, self.rules.alignment)
            )
            if np.max(np.abs(new - a)) < 1e-12:
                break
            a = new
        return np.asarray(a)

    def refresh_ties(self) -> None:
        """Recompute the ties and the economic dependence derived from them."""
        self.ties = self.compute_ties()
        num = np.zeros((self.n_states, self.n_powers))
        den = np.zeros(self.n_states)
        for name in ("trade", "fdi", "debt"):
            comp, known = self.ties[name]
            num += np.where(known[:, None], comp, 0.0)
            den += known
        has = den > 0
        self.dependence = np.where(
            has[:, None], num / np.maximum(den, 1)[:, None], 1.0 / self.n_powers
        )
        """Economic dependence on each power: mean of its known trade, FDI and debt shares."""

    def bloc_change(self, x: int) -> F:
        """Change in the value of bloc `x` to each state since the start."""
        return np.asarray(self.bloc_utilities(x) - self.bloc_u0[x])

    def bloc_utilities(self, x: int) -> F:
        """Value to each state of being in bloc `x` (see rules.bloc_utility)."""
        b = self.blocs[x]
        a = self.affinity
        others = (a.sum(axis=1) - a[:, b.leader]) / max(self.n_powers - 1, 1)
        return rules.bloc_utility(
            a[:, b.leader],
            others,
            self.dependence[:, b.leader],
            self.membership_threat_cost(b.code),
            self.n_powers,
            self.rules.blocs,
        )

    def membership_threat_cost(self, bloc: str) -> F:
        """Expected coercion cost (share of GDP) that membership of `bloc` draws from policies."""
        cost = np.zeros(self.n_states)
        for j, pc in enumerate(self.power_codes):
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
                    cost[i] += cred * self.exposure(i, j, pol.tariff, pol.stake)
        return cost

    def exposure(self, i: int, j: int, tariff: float | None, stake: float | None) -> float:
        """What a threat puts at risk for state i, share of GDP."""
        if tariff is not None:
            return rules.tariff_exposure(
                self.exports[i, j], self.gdp[i], tariff, self.rules.trade.elasticity_short
            )
        return stake or 0.0

    def credibility(self, sender: int, given: float | None) -> float:
        """Effective credibility: the threat's (or the default) times the sender's reputation."""
        base = self.rules.threats.credibility if given is None else given
        return base * self.power_agents[sender].reputation

    def demand_met(self, i: int, demand: Demand) -> bool:
        """Whether state i already does what the demand asks."""
        if demand.leave_bloc is not None:
            return bool(self.blocs[self.bloc_index[demand.leave_bloc]].status[i] == NONE)
        assert demand.policy is not None
        col = self.policy_col.get(demand.policy)
        current = (
            0.0
            if col is None or math.isnan(self.policy_active[i, col])
            else self.policy_active[i, col]
        )
        return bool(current == float(demand.active))

    def demand_value(self, i: int, demand: Demand) -> tuple[float, float]:
        """(salience, benefits forgone) of yielding to a demand, shares of GDP."""
        if demand.leave_bloc is not None:
            code = demand.leave_bloc
            st = self.spec.states[self.state_codes[i]]
            salience = st.bloc_salience.get(code, self.rules.threats.bloc_salience)
            b = self.blocs[self.bloc_index[code]]
            weight = 1.0 if b.status[i] == MEMBER else self.rules.blocs.partner_weight
            bonus = self.rules.investment.bloc_bonus
            share = bonus * weight / (1.0 + bonus * self.bloc_ties[i, b.leader])
            forgone = float(self.annual_flows[i, b.leader] * share / self.gdp[i])
            return salience, forgone
        assert demand.policy is not None
        col = self.policy_col.get(demand.policy)
        return (0.0 if col is None else float(self.salience[i, col])), 0.0

    def policy_scope(self, pol: StandingPolicy) -> Iterable[int]:
        """States a standing policy applies to, in index order."""
        idx: Iterable[int] = range(self.n_states)
        if pol.scope_states is not None:
            idx = sorted(self.state_index[c] for c in pol.scope_states)
        if pol.scope_bloc is not None:
            status = self.blocs[self.bloc_index[pol.scope_bloc]].status
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
        return any(t.origin == origin and t.target == i and t.outstanding for t in self.threats)

    # ------------------------------------------------------------------ the step

    def step(self) -> None:
        """Advance one period (see the module docstring for the order)."""
        k = self.steps
        for eid, ev in self.events_by_step.get(k, ()):
            self.apply_event(eid, ev)
        for power in self.power_agents:
            for name, i in power.scan_policies():
                pol = self.spec.powers[power.code].policies[name]
                self.issue(
                    f"policy:{power.code}.{name}",
                    power.idx,
                    i,
                    pol.demand,
                    pol.tariff,
                    pol.stake,
                    pol.credibility,
                    pol.deadline_months,
                )
        if self.rules.threats.reconsider:
            for t in self.threats:
                if t.status == "imposed" and t.tariff is not None:
                    self.answer(t, certain=True)
        for t in self.threats:
            if t.status == "defied" and t.deadline <= k:
                self.enforce(t)
        self.trade_step()
        self.investment_step()
        self.refresh_ties()
        self.bloc_step()
        self.alignment_step()
        self.recorder.record(k)
        if self.collect:
            self.datacollector.collect(self)
        self.running = k < self.calendar.steps  # lets mesa.batch_run stop at the horizon

    def trade_step(self) -> None:
        """Step 5: trade follows growth and alignment; tariffs bite and divert."""
        p = self.rules.trade
        # Exports and imports follow the same rule: one call on the stacked rows.
        both = rules.follow_alignment(
            np.vstack([self.export_base, self.imports]),
            np.vstack([self.affinity, self.affinity]),
            self.growth,
            p.alignment_pull,
            self.dt,
        )
        self.export_base, self.imports = both[: self.n_states], both[self.n_states :]
        self.mult = rules.tariff_adjust(self.mult, self.tariff, p, self.dt)
        self.exports = rules.exports_with_tariffs(self.export_base, self.mult, p.diversion)

    def investment_step(self) -> None:
        """Step 6: each power splits its FDI and loan budgets; debt is amortised."""
        self.debt = rules.amortise(self.debt, self.rules.investment, self.dt)
        for power in self.power_agents:
            spec = self.spec.powers[power.code]
            j = power.idx
            fdi = power.allocate(spec.fdi_budget, self.fdi[:, j])
            loans = power.allocate(spec.loan_budget, self.debt[:, j])
            self.fdi[:, j] += fdi
            self.debt[:, j] += loans
            self.annual_flows[:, j] = (fdi + loans) / self.dt

    def bloc_step(self) -> None:
        """Step 7: reviews of bloc membership (leave any bloc; join open ones)."""
        pr = self.rules.blocs
        review = rules.review_probability(pr, self.dt)
        for x, b in enumerate(self.blocs):
            reviewed = self.rng.random(self.n_states) < review
            draws = self.rng.random(self.n_states)
            if not reviewed.any():
                continue
            change = self.bloc_change(x)
            inside = b.status != NONE
            p_leave = rules.switch_probability(-change, pr)
            p_join = rules.switch_probability(change, pr)
            for i in np.flatnonzero(reviewed):
                if inside[i] and draws[i] < p_leave[i]:
                    self.set_status(
                        b,
                        int(i),
                        NONE,
                        "left",
                        utility_change=float(change[i]),
                        p=float(p_leave[i]),
                        draw=float(draws[i]),
                    )
                elif not inside[i] and b.open and draws[i] < p_join[i]:
                    self.set_status(
                        b,
                        int(i),
                        MEMBER,
                        "joined",
                        utility_change=float(change[i]),
                        p=float(p_join[i]),
                        draw=float(draws[i]),
                    )

    def alignment_step(self) -> None:
        """Step 8: affinities move toward ties + coercion, blended with neighbours."""
        p = self.rules.alignment
        target = np.clip(self.target_from_ties() + self.coercion, 0.0, 1.0)
        peer, has = rules.neighbour_mean(self.affinity, self.edge_src, self.edge_dst)
        target = rules.with_peers(target, peer, has, p)
        shocks = self.rng.standard_normal(self.affinity.shape)
        self.affinity = rules.alignment_step(self.affinity, target, p, self.dt, shocks)
        self.coercion *= rules.decay(p.coercion_half_life_years, self.dt)
        self.pulse *= rules.decay(p.engagement_half_life_years, self.dt)

    # ------------------------------------------------------------------ applying outcomes

    @property
    def date(self) -> str:
        """Label of the current period."""
        return self.calendar.label(self.steps)

    def note(self, kind: str, actor: str, target: str, **details: Any) -> None:
        """Log an event at the current step."""
        self.log.add(self.steps, self.date, kind, actor, target, **details)

    def issue(
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
        self.threats.append(t)
        self.coercion[target, sender] -= self.rules.alignment.coercion_backlash
        self.note(
            "threat",
            self.power_codes[sender],
            self.state_codes[target],
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
        sender, target = self.power_codes[t.sender], self.state_codes[t.target]
        if choice.yes:
            self.comply(t, choice.details())
        elif t.status == "open":
            t.status = "defied"
            self.note("defied", target, sender, origin=t.origin, **choice.details())

    def comply(self, t: Threat, details: dict[str, Any]) -> None:
        """Apply the demand, record resentment, lift any tariff the threat brought."""
        i, j = t.target, t.sender
        was_imposed = t.status == "imposed"
        t.status, t.resolved = "complied", self.steps
        a = self.rules.alignment
        self.coercion[i, j] -= a.coercion_backlash * a.compliance_resentment
        self.note(
            "complied",
            self.state_codes[i],
            self.power_codes[j],
            origin=t.origin,
            after_imposition=was_imposed,
            **details,
        )
        d = t.demand
        if d.leave_bloc is not None:
            b = self.blocs[self.bloc_index[d.leave_bloc]]
            self.set_status(b, i, NONE, "left", under_pressure_from=self.power_codes[j])
        elif d.policy is not None:
            self.set_policy(i, d.policy, d.active)
        if was_imposed and t.tariff is not None:
            self.set_tariff(i, j, 0.0, reason=f"complied with {t.origin}")
        self.start_cooldown(t)

    def enforce(self, t: Threat) -> None:
        """Deadline of a defied threat: the sender carries it out or backs down."""
        power = self.power_agents[t.sender]
        choice = power.enforce(t)
        i, j = t.target, t.sender
        if choice.yes:
            t.status, t.imposed_at = "imposed", self.steps
            power.reputation = rules.reputation_after(power.reputation, True, self.rules.threats)
            a = self.rules.alignment
            self.coercion[i, j] -= a.coercion_backlash * a.tariff_backlash
            self.note(
                "imposed",
                power.code,
                self.state_codes[i],
                origin=t.origin,
                reputation=round(power.reputation, 6),
                **choice.details(),
            )
            if t.tariff is not None:
                self.set_tariff(i, j, t.tariff, reason=t.origin)
            else:
                # A non-tariff stake that is carried out costs the stake, once, in output.
                self.gdp[i] *= 1.0 - (t.stake or 0.0)
        else:
            t.status, t.resolved = "backed_down", self.steps
            power.reputation = rules.reputation_after(power.reputation, False, self.rules.threats)
            self.note(
                "backed_down",
                power.code,
                self.state_codes[i],
                origin=t.origin,
                reputation=round(power.reputation, 6),
                **choice.details(),
            )
            self.start_cooldown(t)

    def start_cooldown(self, t: Threat) -> None:
        """A resolved standing-policy threat is not repeated for `cooldown_months`."""
        if not t.origin.startswith("policy:"):
            return
        pc, _, name = t.origin.removeprefix("policy:").partition(".")
        months = self.spec.powers[pc].policies[name].cooldown_months
        months = self.rules.threats.cooldown_months if months is None else months
        self.cooldown[(t.origin, t.target)] = self.steps + math.ceil(
            months / self.calendar.unit_months
        )

    def lift(self, i: int, j: int, eid: str) -> None:
        """A tariff lifted by decision: the threats that imposed it end as `lifted`."""
        for t in self.threats:
            if t.status == "imposed" and t.tariff is not None and (t.target, t.sender) == (i, j):
                t.status, t.resolved = "lifted", self.steps
                self.note(
                    "lifted", self.power_codes[j], self.state_codes[i], origin=t.origin, event=eid
                )
                self.start_cooldown(t)
        self.set_tariff(i, j, 0.0, reason=eid)

    def set_tariff(self, i: int, j: int, rate: float, reason: str) -> None:
        """Put a tariff in force (or lift it with rate 0); exports respond on impact."""
        old = self.tariff[i, j]
        if old == rate:
            return
        self.mult[i, j] = rules.tariff_shock(
            np.asarray(self.mult[i, j]), np.asarray(old), np.asarray(rate), self.rules.trade
        )
        self.tariff[i, j] = rate
        kind = "tariff_lifted" if rate == 0 else "tariff_imposed"
        self.note(
            kind, self.power_codes[j], self.state_codes[i], rate=rate, previous=old, reason=reason
        )

    def set_status(self, b: BlocState, i: int, status: int, verb: str, **details: Any) -> None:
        """Change a state's status in a bloc and refresh the bloc ties."""
        if b.status[i] == status:
            return
        old = STATUS_NAMES[int(b.status[i])]
        b.status[i] = status
        self.bloc_ties = leader_ties(
            self.blocs, self.n_states, self.n_powers, self.rules.blocs.partner_weight
        )
        self.note(
            verb, self.state_codes[i], b.code, status=STATUS_NAMES[status], previous=old, **details
        )

    def set_policy(self, i: int, name: str, active: bool, salience: float | None = None) -> None:
        """Switch a domestic policy on or off (its column exists from the start)."""
        c = self.policy_col[name]
        old = self.policy_active[i, c]
        self.policy_active[i, c] = float(active)
        if salience is not None:
            self.salience[i, c] = salience
        if old != float(active):
            self.note(
                "policy_changed",
                self.state_codes[i],
                name,
                active=active,
                previous=None if math.isnan(old) else bool(old),
            )

    def apply_event(self, eid: str, ev: Event) -> None:
        """Step 1: carry out one dated event from the scenario."""
        si, pi = self.state_index, self.power_index
        if isinstance(ev, ThreatEvent):
            targets = (
                [si[ev.target]]
                if ev.target
                else [
                    i
                    for i in range(self.n_states)
                    if self.blocs[self.bloc_index[ev.bloc or ""]].status[i] != NONE
                ]
            )
            for i in targets:
                self.issue(
                    eid,
                    pi[ev.sender],
                    i,
                    ev.demand,
                    ev.tariff,
                    ev.stake,
                    ev.credibility,
                    ev.deadline_months,
                )
        elif isinstance(ev, TariffEvent):
            self.set_tariff(si[ev.target], pi[ev.sender], ev.rate, reason=eid)
        elif isinstance(ev, TariffLiftEvent):
            self.lift(si[ev.target], pi[ev.sender], eid)
        elif isinstance(ev, EngagementEvent):
            j = pi[ev.power]
            for code in ev.states:
                size = ev.intensity * self.engagement[j]
                keep = self.rules.alignment.engagement_persistence
                self.pulse[si[code], j] += (1.0 - keep) * size
                self.lasting[si[code], j] += keep * size
                self.note(
                    "engagement", ev.power, code, event=eid, intensity=ev.intensity, label=ev.label
                )
        elif isinstance(ev, PledgeEvent):
            i, j = si[ev.state], pi[ev.power]
            stock = self.fdi if ev.kind == "fdi" else self.debt
            stock[i, j] = np.nansum([stock[i, j], ev.amount])
            self.note("pledge", ev.power, ev.state, event=eid, capital=ev.kind, amount=ev.amount)
        elif isinstance(ev, InviteEvent):
            x = self.bloc_index[ev.bloc]
            i = si[ev.state]
            self.note("invited", ev.bloc, ev.state, event=eid, status=ev.status)
            choice = self.state_agents[i].consider_invitation(x)
            if choice.yes:
                self.set_status(
                    self.blocs[x], i, STATUS_CODES[ev.status], "joined", **choice.details()
                )
            else:
                self.note("declined", ev.state, ev.bloc, **choice.details())
        elif isinstance(ev, JoinEvent):
            status = MEMBER if ev.status == "member" else PARTNER
            self.set_status(
                self.blocs[self.bloc_index[ev.bloc]], si[ev.state], status, "joined", event=eid
            )
        elif isinstance(ev, LeaveEvent):
            self.set_status(
                self.blocs[self.bloc_index[ev.bloc]], si[ev.state], NONE, "left", event=eid
            )
        elif isinstance(ev, GovernmentChangeEvent):
            i = si[ev.state]
            for p, shift in ev.shift.items():
                self.affinity[i, pi[p]] = min(1.0, max(0.0, self.affinity[i, pi[p]] + shift))
            if ev.sovereignty is not None:
                self.sovereignty[i] = ev.sovereignty
            self.note(
                "government_change", ev.state, "", event=eid, shift=dict(ev.shift), label=ev.label
            )
        elif isinstance(ev, PolicyChangeEvent):
            self.set_policy(si[ev.state], ev.policy, ev.active, ev.salience)
        elif isinstance(ev, RuleChangeEvent):
            self.rules = with_rule(self.rules, ev.path, ev.value)
            self.note("rule_change", "", "", event=eid, path=ev.path, value=ev.value)
