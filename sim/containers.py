"""The model's state during a run, in a few typed containers of arrays (one row per state).

`Economy` (output, trade, capital, tariffs), `AlignmentState` (affinities and what drives them),
`CoercionState` (threats in flight), `PolicyState` (domestic policies) and `BlocsState` (bloc
statuses). Phases and agents read and write these; `build_*` make them from a scenario.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray

from sim.blocs import BlocState, leader_ties
from sim.events import Threat
from sim.schema.events import PolicyChangeEvent
from sim.schema.scenario import Scenario

F = NDArray[np.float64]


@dataclass
class Index:
    """Codes and their positions in every array."""

    states: list[str]
    powers: list[str]
    state: dict[str, int]
    power: dict[str, int]

    @classmethod
    def of(cls, s: Scenario) -> Index:
        """Positions in scenario order (which fixes agent order, so results depend on it)."""
        states, powers = list(s.states), list(s.powers)
        return cls(
            states,
            powers,
            {c: i for i, c in enumerate(states)},
            {c: j for j, c in enumerate(powers)},
        )


def _amounts(s: Scenario, index: Index, field_name: str) -> F:
    out = np.full((len(index.states), len(index.powers)), np.nan)
    for i, st in enumerate(s.states.values()):
        for p, v in getattr(st, field_name).items():
            out[i, index.power[p]] = np.nan if v is None else v
    return out


@dataclass
class Economy:
    """Per (state, power) economic arrays, US$ per year or stocks (NaN where not known)."""

    gdp: F
    export_base: F
    """Exports before tariffs take effect (trade drift acts on these)."""
    imports: F
    fdi: F
    debt: F
    tariff: F
    """Ad-valorem rate in force, power on state."""
    mult: F
    """Tariff response multiplier of exports (1 without tariffs)."""
    exports: F
    """Exports after tariffs and diversion."""
    growth: F
    """Each power's import growth per year."""
    annual_flows: F
    """FDI plus lending received this step, at an annual rate."""
    annual_loans: F
    """Lending received this step, at an annual rate."""
    counter_tariff: F
    """Rate of a state's counter-tariff on its imports from each power (retaliation)."""
    import_mult: F
    """Counter-tariff response multiplier of imports (1 without counter-tariffs; `imports` already
    includes it, so imports / import_mult are the untariffed imports)."""
    dependence: F = field(default_factory=lambda: np.zeros((0, 0)))
    """Mean of the known trade, FDI and debt shares per power (refreshed with the ties)."""

    @classmethod
    def build(cls, s: Scenario, index: Index) -> Economy:
        """Starting values from the scenario."""
        n, k = len(index.states), len(index.powers)
        base = _amounts(s, index, "exports")
        return cls(
            gdp=np.array([st.gdp for st in s.states.values()], dtype=float),
            export_base=base,
            imports=_amounts(s, index, "imports"),
            fdi=_amounts(s, index, "fdi"),
            debt=_amounts(s, index, "debt"),
            tariff=np.zeros((n, k)),
            mult=np.ones((n, k)),
            exports=base.copy(),
            growth=np.array([p.import_growth for p in s.powers.values()]),
            annual_flows=np.zeros((n, k)),
            annual_loans=np.zeros((n, k)),
            counter_tariff=np.zeros((n, k)),
            import_mult=np.ones((n, k)),
        )


@dataclass
class AlignmentState:
    """Affinities to each power, in [0, 1], and the forces on them."""

    affinity: F
    engagement: F
    """Each power's baseline engagement."""
    pulse: F
    """Engagement pulses that decay."""
    lasting: F
    """Engagement that stays."""
    coercion: F
    """Resentment from threats and tariffs (negative), decaying."""
    sovereignty: F
    sphere: F
    """1 for the power whose sphere a state is in (else an even split)."""
    edge_src: NDArray[np.intp]
    edge_dst: NDArray[np.intp]
    """Neighbour edges, both directions."""
    tilt_pair: tuple[int, int]
    ties: dict[str, tuple[F, NDArray[np.bool_]]] = field(default_factory=dict)
    """Each tie's shares per power and where it is known (refreshed every step)."""

    @classmethod
    def build(cls, s: Scenario, index: Index) -> AlignmentState:
        """Starting drivers from the scenario (the affinities are set once ties are known)."""
        n, k = len(index.states), len(index.powers)
        sphere = np.full((n, k), 1.0 / k)
        for i, st in enumerate(s.states.values()):
            if st.sphere is not None:
                sphere[i] = 0.0
                sphere[i, index.power[st.sphere]] = 1.0
        edges = {
            (index.state[a], index.state[b]) for a, st in s.states.items() for b in st.neighbours
        }
        ordered = sorted(edges | {(b, a) for a, b in edges})
        tp = s.rules.alignment.tilt_powers
        return cls(
            affinity=np.zeros((n, k)),
            engagement=np.array([p.engagement for p in s.powers.values()]),
            pulse=np.zeros((n, k)),
            lasting=np.zeros((n, k)),
            coercion=np.zeros((n, k)),
            sovereignty=np.array([st.sovereignty for st in s.states.values()], dtype=float),
            sphere=sphere,
            edge_src=np.array([e[0] for e in ordered], dtype=np.intp),
            edge_dst=np.array([e[1] for e in ordered], dtype=np.intp),
            tilt_pair=(index.power[tp[0]], index.power[tp[1]]),
        )


@dataclass
class CoercionState:
    """Threats in flight, standing policies' cooldowns and targets' resolve."""

    resolve: F
    """Each state's resolve against each power: multiplies its cost of complying (starts at 1;
    moved by impositions, `threats.rally`; relaxes toward 1 with the coercion half-life)."""
    threats: list[Threat] = field(default_factory=list)
    cooldown: dict[tuple[str, int], int] = field(default_factory=dict)
    """(origin, state) -> last step of the cooldown."""
    outright: dict[tuple[int, int], float] = field(default_factory=dict)
    """(state, power) -> rate of the tariff imposed outright (`tariff` events), a layer of its
    own: the rate in force is the highest of it and of every imposed threat's rate, so lifting
    one never lifts the other."""

    @classmethod
    def build(cls, index: Index) -> CoercionState:
        """No threats yet; resolve 1 everywhere."""
        return cls(resolve=np.ones((len(index.states), len(index.powers))))


@dataclass
class PolicyState:
    """Domestic policies: every policy the run can touch has a column from the start, so records
    keep one shape."""

    names: list[str]
    col: dict[str, int]
    active: F
    """1 on, 0 off, NaN for a state that has no such policy."""
    salience: F

    @classmethod
    def build(cls, s: Scenario, index: Index) -> PolicyState:
        """Policies named by states or by policy_change events."""
        named = {name for st in s.states.values() for name in st.policies}
        named |= {ev.policy for ev in s.events.values() if isinstance(ev, PolicyChangeEvent)}
        names = sorted(named)
        col = {name: c for c, name in enumerate(names)}
        active = np.full((len(index.states), len(names)), np.nan)
        salience = np.zeros((len(index.states), len(names)))
        for i, st in enumerate(s.states.values()):
            for name, pol in st.policies.items():
                active[i, col[name]] = float(pol.active)
                salience[i, col[name]] = s.rules.threats.salience_value(pol.salience)
        return cls(names, col, active, salience)


@dataclass
class BlocsState:
    """Bloc statuses and the ties to leaders they make."""

    blocs: list[BlocState]
    index: dict[str, int]
    ties: F
    """Each state's tie to each power through blocs it leads."""
    u0: list[F] = field(default_factory=list)
    """Each bloc's value to each state at the start (decisions react to changes from it)."""

    @classmethod
    def build(cls, s: Scenario, index: Index) -> BlocsState:
        """Initial memberships from the scenario."""
        blocs = [BlocState.build(code, b, index.state, index.power) for code, b in s.blocs.items()]
        pw = s.rules.blocs.partner_weight
        ties = leader_ties(blocs, len(index.states), len(index.powers), pw)
        return cls(blocs, {b.code: x for x, b in enumerate(blocs)}, ties)

    def refresh(self, n_states: int, n_powers: int, partner_weight: float) -> None:
        """Recompute the ties after a status change."""
        self.ties = leader_ties(self.blocs, n_states, n_powers, partner_weight)
