"""The step as data: the phases of one period, in the documented order (MODEL.md).

`GeoModel.step` runs `PHASES` in turn; each phase is a named function of the model. Agents
decide inside phases (states answer threats, powers enforce them); phases apply the outcomes.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from sim import rules, rules_coercion

if TYPE_CHECKING:
    from sim.model import GeoModel


@dataclass(frozen=True)
class Phase:
    """One phase of a step."""

    name: str
    run: Callable[[GeoModel], None]


def dated_events(m: GeoModel) -> None:
    """1. Dated events of this period, in file order."""
    for eid, ev in m.events_by_step.get(m.steps, ()):
        m.apply_event(eid, ev)


def standing_policies(m: GeoModel) -> None:
    """2. Standing policies: powers threaten states that violate their demands."""
    for power in m.power_agents:
        for name, i in power.scan_policies():
            pol = m.spec.powers[power.code].policies[name]
            origin = f"policy:{power.code}.{name}"
            m.threaten(
                origin,
                power.idx,
                i,
                pol.demand,
                pol,
                pol.deadline_months,
            )


def redecisions(m: GeoModel) -> None:
    """5. Under imposed coercion the target re-decides (at `threats.reconsider_rate`, the cost
    now certain) and the sender reviews (at `threats.review_rate`): competing events, the first
    of which in the step ends the coercion (complied or lifted). The target reconsiders each
    demand once, however many measures are imposed for it (the first weighs them all)."""
    seen: set[tuple[int, int, object]] = set()
    for t in list(m.coercion.threats):
        if t.status == "imposed":
            key = (t.sender, t.target, t.demand)
            m.redecide(t, reconsiders=key not in seen)
            seen.add(key)


def deadlines(m: GeoModel) -> None:
    """3. Deadlines: for defied threats, the sender imposes or backs down (before any
    re-decision, so coercion imposed at the start of a period is weighed for the whole period
    whatever the step length)."""
    for t in list(m.coercion.threats):
        if t.status == "defied" and t.deadline <= m.steps:
            m.enforce(t)


def schedules(m: GeoModel) -> None:
    """4. Imposed tariffs follow their schedules (phasing in, escalating)."""
    for t in m.coercion.threats:
        if t.status == "imposed":
            m.apply_schedule(t)


def trade(m: GeoModel) -> None:
    """7. Trade follows growth and alignment (trade with the rest of the world grows at its own
    rate); tariffs bite with the published time profile and divert within partners' capacity."""
    p, eco, n = m.rules.trade, m.economy, m.n_states
    affinity = m.alignment.affinity
    # Exports and imports follow the same rule: one call on the stacked rows.
    both = rules.follow_alignment(
        np.vstack([eco.export_base, eco.imports]),
        np.vstack([affinity, affinity]),
        eco.growth,
        p.alignment_pull,
        m.dt,
    )
    eco.export_base, eco.imports = both[:n], both[n:]
    rest_growth = (1.0 + eco.rest_growth) ** m.dt
    eco.rest_base = eco.rest_base * rest_growth
    eco.rest_imports = eco.rest_imports * rest_growth
    eco.mult = rules.tariff_adjust(eco.mult, eco.tariff, p, m.dt)
    eco.exports, eco.rest_exports = rules.exports_with_tariffs(
        eco.export_base, eco.mult, eco.rest_base, p.diversion, p.absorption
    )


def investment(m: GeoModel) -> None:
    """8. Each power splits its FDI and loan budgets (less lending withheld by coercion in
    force, which is not lent); debt is amortised."""
    eco = m.economy
    eco.debt = rules.amortise(eco.debt, m.rules.investment, m.dt)
    withheld = m.withheld_lending()
    for power in m.power_agents:
        spec = m.spec.powers[power.code]
        j = power.idx
        fdi = power.allocate(spec.fdi_budget, eco.fdi[:, j])
        loans = power.allocate(spec.loan_budget, eco.debt[:, j]) * (1.0 - withheld[:, j])
        eco.fdi[:, j] += fdi
        eco.debt[:, j] += loans
        eco.annual_flows[:, j] = (fdi + loans) / m.dt
        eco.annual_loans[:, j] = loans / m.dt


def ties(m: GeoModel) -> None:
    """(after 8) Ties and economic dependence follow the new trade and capital."""
    m.refresh_ties()


def blocs(m: GeoModel) -> None:
    """9. States join open blocs and leave any at their yearly hazards (`sim.rules_blocs`)."""
    m.review_blocs()


def alignment(m: GeoModel) -> None:
    """10. Affinities move toward the target set by ties, coercion and neighbours; resolve
    relaxes toward 1 with the coercion half-life."""
    m.move_affinities()
    half_life = m.rules.alignment.coercion_half_life_years
    m.coercion.resolve = rules_coercion.relax_resolve(m.coercion.resolve, half_life, m.dt)


def record(m: GeoModel) -> None:
    """11. Record every state's variables (and the Mesa DataCollector, if on)."""
    m.recorder.record(m.steps)
    if m.collect:
        m.datacollector.collect(m)


PHASES: tuple[Phase, ...] = (
    Phase("dated events", dated_events),
    Phase("standing policies", standing_policies),
    Phase("deadlines", deadlines),
    Phase("schedules", schedules),
    Phase("re-decisions", redecisions),
    Phase("trade", trade),
    Phase("investment", investment),
    Phase("ties", ties),
    Phase("blocs", blocs),
    Phase("alignment", alignment),
    Phase("record", record),
)
"""One period, in order."""
