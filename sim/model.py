"""The Mesa model: a scenario's states and powers, their state containers, and the step.

One step is one period of `time.unit`; it runs `sim.phases.PHASES` in order:
  1. dated events of this period, in file order;
  2. standing policies: powers threaten states that violate their demands;
  3. states under imposed coercion reconsider (cost now certain; at a rate per year);
  4. senders review imposed coercion (keep or lift; at a rate per year);
  5. deadlines: for defied threats, the sender imposes or backs down;
  6. imposed tariffs follow their schedules;
  7. trade: growth, drift toward alignment, tariff adjustment and diversion;
  8. investment and lending: powers allocate budgets; debt is amortised (then ties refresh);
  9. blocs: states join open blocs and leave any at yearly hazards;
  10. alignment: affinities move toward the target set by ties, coercion and neighbours;
  11. record.
Threat decisions are applied in `sim.coercion`, bloc decisions in `sim.membership`, ties and
alignment in `sim.ties`; the state lives in the containers of `sim.containers`.
"""

from __future__ import annotations

from collections import defaultdict

import mesa
import numpy as np

from sim.agents import GreatPower, State
from sim.calendar import month_index
from sim.containers import (
    AlignmentState,
    BlocsState,
    CoercionState,
    Economy,
    Index,
    PolicyState,
)
from sim.events import EventLog
from sim.membership import Membership
from sim.metrics import Recorder
from sim.phases import PHASES
from sim.schema.events import Event
from sim.schema.parameters import Rules
from sim.schema.scenario import Scenario
from sim.ties import Ties


class GeoModel(Membership, Ties):
    """States and great powers under a scenario's rules; one `step()` is one period."""

    def __init__(self, spec: Scenario, rng: int | None = None, *, collect: bool = True) -> None:
        # Not `scenario`: Mesa's SolaraViz reset passes its own `scenario=` to a model taking one.
        super().__init__(rng=rng)
        self.spec = scenario = spec
        self.collect = collect
        """Feed the Mesa DataCollector each step (sweeps, which record arrays, switch it off)."""
        self.rules: Rules = scenario.rules
        self.calendar = scenario.time.calendar()
        self.dt = self.calendar.years_per_step
        self.log = EventLog()
        self.index = Index.of(scenario)
        self.state_index, self.power_index = self.index.state, self.index.power
        self.n_states, self.n_powers = len(self.index.states), len(self.index.powers)
        self.economy = Economy.build(scenario, self.index)
        self.alignment = AlignmentState.build(scenario, self.index)
        self.coercion = CoercionState.build(self.index)
        self.policies = PolicyState.build(scenario, self.index)
        self.membership = BlocsState.build(scenario, self.index)
        self.events_by_step: dict[int, list[tuple[str, Event]]] = defaultdict(list)
        for eid, ev in scenario.events.items():
            self.events_by_step[self.calendar.step_of(month_index(ev.date))].append((eid, ev))
        self.state_agents = [State(self, c, i) for i, c in enumerate(self.index.states)]
        self.power_agents = [GreatPower(self, c, j) for j, c in enumerate(self.index.powers)]
        self._start()

    def _start(self) -> None:
        """Initial ties, affinities, bloc values and the record of step 0."""
        self.refresh_ties()
        self.alignment.affinity = self.initial_affinity()
        # Initial memberships are taken as revealed choices: states react to changes in
        # what a bloc is worth to them, not to its level (which the model cannot explain).
        self.membership.u0 = [self.bloc_utilities(x) for x in range(len(self.membership.blocs))]
        self.recorder = Recorder(self)
        self.datacollector = mesa.DataCollector(
            model_reporters={
                "mean_tilt": lambda m: float(np.mean(m.tilt())),
                "tariffs_in_force": lambda m: int(np.count_nonzero(m.economy.tariff)),
                "threats_outstanding": lambda m: sum(t.outstanding for t in m.coercion.threats),
            }
        )
        self.recorder.record(0)
        if self.collect:
            self.datacollector.collect(self)

    @property
    def state_codes(self) -> list[str]:
        """State codes in scenario order."""
        return self.index.states

    @property
    def power_codes(self) -> list[str]:
        """Power codes in scenario order."""
        return self.index.powers

    def step(self) -> None:
        """Advance one period: run every phase in order (see the module docstring)."""
        for phase in PHASES:
            phase.run(self)
        self.running = self.steps < self.calendar.steps  # lets mesa.batch_run stop at the horizon

    def power_engagement(self, j: int) -> float:
        """Power j's baseline engagement (`powers.<p>.engagement`)."""
        return self.spec.powers[self.index.powers[j]].engagement

    def apply_event(self, eid: str, ev: Event) -> None:
        """Carry out one dated event: each registered type applies itself."""
        ev.apply(self, eid)
