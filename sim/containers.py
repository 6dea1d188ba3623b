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


def _rest(s: Scenario, flow: str) -> F:
    """Each state's trade with the rest of the world: its total less its known trade with the
    powers (0 without a total; validation ensures it is not negative)."""
    out = np.zeros(len(s.states))
    for i, st in enumerate(s.states.values()):
        total = getattr(st, f"{flow}_total")
        if total is not None:
            known = sum(v for v in getattr(st, flow).values() if v is not None)
            out[i] = max(total - known, 0.0)
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
    rest_base: F = field(default_factory=lambda: np.zeros(0))
    """Exports to the rest of the world before diversion (0 where the state gives no total)."""
    rest_exports: F = field(default_factory=lambda: np.zeros(0))
    """Exports to the rest of the world after diversion."""
    rest_imports: F = field(default_factory=lambda: np.zeros(0))
    """Imports from the rest of the world."""
    rest_growth: float = 0.0
    """Annual growth of trade with the rest of the world."""
    dependence: F = field(default_factory=lambda: np.zeros((0, 0)))
    """Mean of the known trade, FDI and debt shares per power (refreshed with the ties)."""

    @classmethod
    def build(cls, s: Scenario, index: Index) -> Economy:
        """Starting values from the scenario."""
        n, k = len(index.states), len(index.powers)
        base = _amounts(s, index, "exports")
        rest = {flow: _rest(s, flow) for flow in ("exports", "imports")}
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
            rest_base=rest["exports"],
            rest_exports=rest["exports"].copy(),
            rest_imports=rest["imports"],
            rest_growth=s.rest_of_world.growth,
        )


def _engagement(s: Scenario, index: Index) -> F:
    """Baseline engagement of each power with each state: the power's, or 0 where the state has
    no diplomatic relations with it (`states.<i>.no_relations`)."""
    out = np.tile([p.engagement for p in s.powers.values()], (len(index.states), 1))
    for i, st in enumerate(s.states.values()):
        for p in st.no_relations:
            out[i, index.power[p]] = 0.0
    return np.asarray(out, dtype=float)


def _relations(s: Scenario, index: Index) -> NDArray[np.bool_]:
    """True where a state has relations with a power (all but `no_relations`)."""
    out = np.ones((len(index.states), len(index.powers)), dtype=bool)
    for i, st in enumerate(s.states.values()):
        for p in st.no_relations:
            out[i, index.power[p]] = False
    return out


def _regions(s: Scenario) -> NDArray[np.intp]:
    """Each state's region as a code, in order of first appearance."""
    codes: dict[str | None, int] = {}
    return np.array(
        [codes.setdefault(st.region, len(codes)) for st in s.states.values()], dtype=np.intp
    )


@dataclass
class AlignmentState:
    """Affinities to each power, in [0, 1], and the forces on them."""

    affinity: F
    engagement: F
    """Each power's baseline engagement with each state (0 where they have no relations)."""
    pulse: F
    """Engagement pulses that decay."""
    lasting: F
    """Engagement that stays."""
    coercion: F
    """Resentment from threats and tariffs (negative), decaying."""
    sovereignty: F
    sphere: F
    """Each power's weight in the state's sphere tie (1 for the one sphere; 0 outside any)."""
    orientation: F
    """Lasting shift of each target affinity (`states.<i>.orientation`, lasting shocks)."""
    relations: NDArray[np.bool_]
    """Whether each state has diplomatic relations with each power (`no_relations`,
    `recognition` events); a bloc's leader must have them to be joined."""
    region: NDArray[np.intp]
    """A code per state for its `region` (states without one share a code)."""
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
        sphere = np.zeros((n, k))
        orientation = np.zeros((n, k))
        for i, st in enumerate(s.states.values()):
            for p, w in st.sphere_weights().items():
                sphere[i, index.power[p]] = w
            for p, shift in st.orientation.items():
                orientation[i, index.power[p]] = shift
        edges = {
            (index.state[a], index.state[b]) for a, st in s.states.items() for b in st.neighbours
        }
        ordered = sorted(edges | {(b, a) for a, b in edges})
        tp = s.rules.alignment.tilt_powers
        return cls(
            affinity=np.zeros((n, k)),
            engagement=_engagement(s, index),
            pulse=np.zeros((n, k)),
            lasting=np.zeros((n, k)),
            coercion=np.zeros((n, k)),
            sovereignty=np.array([st.sovereignty for st in s.states.values()], dtype=float),
            sphere=sphere,
            orientation=orientation,
            relations=_relations(s, index),
            region=_regions(s),
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
    stays_out: NDArray[np.bool_] = field(default_factory=lambda: np.zeros((0, 0), dtype=bool))
    """(states, blocs): the state's standing policy is not to join the bloc."""
    u0: list[F] = field(default_factory=list)
    """Each bloc's value to each state at the start (hazards react to changes from it)."""

    @classmethod
    def build(cls, s: Scenario, index: Index) -> BlocsState:
        """Initial memberships from the scenario."""
        unit = s.time.calendar().unit_months
        blocs = [
            BlocState.build(code, b, index.state, index.power, unit) for code, b in s.blocs.items()
        ]
        pw = s.rules.blocs.partner_weight
        ties = leader_ties(blocs, len(index.states), len(index.powers), pw)
        codes = {b.code: x for x, b in enumerate(blocs)}
        stays_out = np.zeros((len(index.states), len(blocs)), dtype=bool)
        for i, st in enumerate(s.states.values()):
            for b in st.stays_out:
                stays_out[i, codes[b]] = True
        return cls(blocs, codes, ties, stays_out)

    def refresh(self, n_states: int, n_powers: int, partner_weight: float) -> None:
        """Recompute the ties after a status change."""
        self.ties = leader_ties(self.blocs, n_states, n_powers, partner_weight)
