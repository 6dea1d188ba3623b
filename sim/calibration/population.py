"""The calibration population: sender-target pairs with sourced quantities, and priors to draw
threat episodes from.

population.yaml holds the pairs (every number copied from ../shared/data by `sourcedata`, with
its source), the named salience levels with their meanings, prior probabilities and prior values,
and the priors over stakes and sovereignty. `expand(n_per_pair, seed)` draws `n_per_pair`
episodes for every pair: deterministic given the seed, and episode k of a pair does not depend
on how many episodes are drawn or on the other pairs. docs/calibration.md gives the reasons.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from importlib import resources
from typing import Annotated, Literal

import numpy as np
from pydantic import Field, model_validator

from sim.calibration.targets import Covariate, Subset
from sim.loader import parse_yaml_text
from sim.schema.base import Frozen

Level = Literal["low", "medium", "high", "core"]
"""Named salience levels, in increasing order."""

LEVELS: tuple[Level, ...] = ("low", "medium", "high", "core")

DRAWS_PER_EPISODE = 9
"""Uniform draws per episode, always all made (in `_episode`'s order) so streams stay aligned."""

EXTRA_DRAWS_PER_EPISODE = 4
"""Uniform draws per episode from the second stream (priors added after step 1): outright
imposition, whether the imposed rate differs, its factor, a phase-in; always all made."""

EXTRA_STREAM = 1
"""Last spawn-key element of the second stream: pair k draws it from
SeedSequence(seed, spawn_key=(k, EXTRA_STREAM)), independent of the first (spawn_key=(k,)), so
adding these priors changed no draw of the committed population."""


class Quantity(Frozen):
    """A number copied from states_2023.csv with that file's source cell."""

    value: float | None
    """The figure (US$), or null when not found or not applicable."""
    status: Literal["found", "not_found", "not_applicable"]
    """`found`; `not_found` (the file's NF); `not_applicable` (n/a, or no such column)."""
    column: str | None
    """The states_2023.csv column (null when the file has none for this sender)."""
    source: str
    """The file's `<column>_source` cell, verbatim (or why there is no column)."""

    @model_validator(mode="after")
    def _consistent(self) -> Quantity:
        if (self.value is None) != (self.status != "found"):
            raise ValueError("`value` is null exactly when `status` is not `found`")
        if self.value is not None and not (math.isfinite(self.value) and self.value >= 0):
            raise ValueError("`value` must be a finite non-negative amount")
        return self


class Alignment(Frozen):
    """UN General Assembly voting alignment of the target with the sender."""

    value: float
    """US: mean over years of (c - c_CHN) / (1 - c_CHN); China: 1 minus that. 0 (US) means the
    target votes with the US as often as China does; negative values occur."""
    years: list[int]
    """Years averaged (2018, 2019; rows with most votes absent dropped)."""
    coincidence_us: list[float]
    """The target's coincidence with the US, per year."""
    coincidence_us_chn: list[float]
    """China's coincidence with the US, per year."""
    source: str
    """The data file and its origin."""


class Pair(Frozen):
    """One sender and one target with the target's sourced quantities toward that sender."""

    id: str
    """`<SENDER>-<TARGET>` (ISO3 codes)."""
    sender: Literal["USA", "CHN"]
    """The power issuing the threats."""
    target: Annotated[str, Field(pattern=r"^[A-Z]{3}$")]
    """The threatened state (ISO3)."""
    target_name: str
    """Its name as in the data file."""
    gdp: Quantity
    """Target GDP, 2023 US$."""
    exports_to_sender: Quantity
    """Target's goods exports to the sender, US$/yr."""
    imports_from_sender: Quantity
    """Target's goods imports from the sender, US$/yr."""
    loans_from_sender: Quantity
    """Chinese state loan commitments to the target since 2005 (not applicable for the US)."""
    sender_fdi_stock: Quantity
    """The sender's direct-investment stock in the target, US$."""
    alignment_with_sender: Alignment
    """UN-voting alignment with the sender."""


class SalienceLevel(Frozen):
    """A named level of how much the target's government values what the demand asks it to
    give up."""

    meaning: str
    """What kind of demand falls in this level, in words."""
    probability: Annotated[float, Field(ge=0.0, le=1.0)]
    """Prior probability that a calibration demand has this level."""
    value: Annotated[float, Field(gt=0.0, le=100.0)]
    """Prior central value of the model's salience (policies.<name>.salience, share of GDP)."""
    low: Annotated[float, Field(gt=0.0, le=100.0)]
    """Lower end of the prior range the fit explores."""
    high: Annotated[float, Field(gt=0.0, le=100.0)]
    """Upper end of the prior range."""

    @model_validator(mode="after")
    def _inside(self) -> SalienceLevel:
        if not self.low <= self.value <= self.high:
            raise ValueError("`value` must lie within [low, high]")
        return self


class Salience(Frozen):
    """The salience scale: named levels, their prior over demands and their prior values."""

    scale: str
    """What the number means (a share of GDP in the model's cost of complying)."""
    reasoning: str
    """Why these values: how salience enters the threat rules."""
    prior_reason: str
    """Why these level probabilities."""
    levels: dict[Level, SalienceLevel]
    """The four levels, low to core."""

    @model_validator(mode="after")
    def _levels(self) -> Salience:
        if tuple(self.levels) != LEVELS:
            raise ValueError(f"`levels` must be exactly {list(LEVELS)}, in that order")
        if abs(sum(v.probability for v in self.levels.values()) - 1.0) > 1e-9:
            raise ValueError("level probabilities must sum to 1")
        values = [v.value for v in self.levels.values()]
        if values != sorted(values) or len(set(values)) != len(values):
            raise ValueError("level values must increase from low to core")
        return self


class Range(Frozen):
    """A continuous prior: uniform or log-uniform on [low, high]."""

    low: float
    """Lower end."""
    high: float
    """Upper end."""
    distribution: Literal["uniform", "loguniform"]
    """How values spread between the ends."""
    reason: str
    """Why this range and distribution (source or reasoning)."""

    @model_validator(mode="after")
    def _order(self) -> Range:
        if not self.low < self.high or (self.distribution == "loguniform" and self.low <= 0):
            raise ValueError("need low < high (and low > 0 for loguniform)")
        return self

    def at(self, u: float) -> float:
        """The value at quantile u in [0, 1)."""
        if self.distribution == "uniform":
            return self.low + u * (self.high - self.low)
        return float(math.exp(math.log(self.low) + u * math.log(self.high / self.low)))


class Chance(Frozen):
    """A yes/no prior."""

    probability: Annotated[float, Field(ge=0.0, le=1.0)]
    """Probability of yes."""
    reason: str
    """Why this probability."""


class PhaseIn(Frozen):
    """A prior over tariff schedules: imposed at a share of the rate, the full rate later."""

    probability: Annotated[float, Field(ge=0.0, le=1.0)]
    """Probability that an imposed tariff is phased in."""
    start_share: Annotated[float, Field(gt=0.0, lt=1.0)]
    """Share of the full rate put in force at imposition."""
    after_months: Annotated[int, Field(gt=0, le=120)]
    """Months after imposition at which the full rate applies."""
    reason: str
    """Why this form and probability."""


class Stakes(Frozen):
    """Priors over what a calibration threat puts at stake."""

    tariff_rate: Range
    """Ad-valorem tariff threatened (every episode carries one)."""
    across_the_board: Chance
    """Probability that the tariff covers all exports to the sender."""
    sectoral_coverage: Range
    """Share of exports to the sender covered when the tariff is not across the board."""
    withhold_lending: Chance
    """Probability that the threat also withholds the sender's lending (only where the data
    record lending from the sender)."""
    withheld_lending_share: Range
    """Share of the sender's lending to the target withheld, when withheld."""
    sanctions_on_officials: Chance
    """Probability that the threat adds sanctions on officials (visas, asset freezes)."""
    financial_pressure: Chance
    """Probability that the threat adds financial pressure (payments, banking, remittances)."""
    financial_pressure_size: Range
    """Share of the target's GDP that financial pressure puts at risk, when added (drawn from the
    same uniform as whether it is added, rescaled, so adding this prior moved no other draw)."""
    # Added after step 1, drawn from the second stream (EXTRA_STREAM): no earlier draw moved.
    outright_imposition: Chance
    """Probability that the episode starts with the measure imposed outright, no threat first."""
    imposed_rate_differs: Chance
    """Probability that the rate imposed differs from the rate threatened (threat-started
    episodes)."""
    imposed_rate_factor: Range
    """Imposed rate over the threatened rate, when they differ."""
    phase_in: PhaseIn
    """Prior over a phased-in tariff (a schedule after imposition)."""


class DataProvenance(Frozen):
    """Where the pairs' numbers come from and how gaps are handled."""

    states_file: str
    """The starting-values file, relative to the repository."""
    un_voting_file: str
    """The UN voting file, relative to the repository."""
    un_voting_years: list[int]
    """Years of UN voting used."""
    alignment_index: str
    """The alignment formula, in words."""
    not_found: str
    """How NF and n/a cells are handled."""
    scored: str
    """Which episodes the targets are scored on, and why."""


class Population(Frozen):
    """The calibration population of issue 9, fixed before any fitting."""

    version: int
    """Format version of this file."""
    committed_before_fitting: Literal[True]
    """Marks that the population was fixed before the model was fitted."""
    data: DataProvenance
    """Sources of the pairs' numbers and the NF rules."""
    senders: list[Literal["USA", "CHN"]]
    """The powers threatening."""
    suggested_episodes_per_pair: Annotated[int, Field(gt=0)]
    """Episodes per pair we suggest for fitting (docs/calibration.md gives the arithmetic)."""
    salience: Salience
    """The salience levels and their priors."""
    stakes: Stakes
    """Priors over the stakes of each threat."""
    sovereignty: Range
    """Prior over the target's sovereignty factor (multiplies the cost of complying)."""
    pairs: list[Pair]
    """Every sender-target pair."""

    @model_validator(mode="after")
    def _pairs(self) -> Population:
        ids = [p.id for p in self.pairs]
        if len(set(ids)) != len(ids):
            raise ValueError("pair ids must be unique")
        for p in self.pairs:
            if p.id != f"{p.sender}-{p.target}" or p.sender not in self.senders:
                raise ValueError(f"pair {p.id}: id must be <sender>-<target>, sender listed")
            if p.gdp.value is None:
                raise ValueError(f"pair {p.id}: GDP must be known")
        return self


@dataclass(frozen=True, slots=True)
class Episode:
    """One calibration threat: a pair, a demand's salience level, stakes and sovereignty."""

    pair: str
    sender: str
    target: str
    number: int
    salience_level: Level
    tariff_rate: float
    export_coverage: float
    withhold_lending: bool
    withheld_lending_share: float
    sanctions_on_officials: bool
    financial_pressure: bool
    financial_pressure_share: float
    sovereignty: float
    gdp: float
    exports_to_sender: float | None
    loans_from_sender: float | None
    alignment_with_sender: float
    # From the second stream (priors added after step 1).
    outright: bool = False
    """The measure is imposed outright at the start, without a threat first."""
    imposed_rate: float | None = None
    """Rate put in force at imposition (None: the threatened `tariff_rate`)."""
    schedule: tuple[tuple[int, float], ...] = ()
    """Later rates after imposition, (months after imposition, rate)."""

    @property
    def threat_started(self) -> bool:
        """The episode starts with a threat (the targets describe these only)."""
        return not self.outright

    @property
    def scored(self) -> bool:
        """Targets are scored on this episode: its tariff stake can be sized (exports known)."""
        return self.exports_to_sender is not None

    @property
    def trade_dependence(self) -> float | None:
        """Exports to the sender over GDP (None if exports are not known)."""
        x = self.exports_to_sender
        return None if x is None else x / self.gdp

    @property
    def threatened_cost(self) -> float | None:
        """Tariff rate x share of exports covered x exports to the sender / GDP."""
        d = self.trade_dependence
        return None if d is None else self.tariff_rate * self.export_coverage * d


def load_population(text: str | None = None) -> Population:
    """The population in `text` (YAML), by default the packaged population.yaml."""
    name = "population.yaml"
    if text is None:
        text = resources.files("sim.calibration").joinpath(name).read_text(encoding="utf-8")
    data, _ = parse_yaml_text(text, name)
    return Population.model_validate(data)


def _level(levels: dict[Level, SalienceLevel], u: float) -> Level:
    """The level at quantile u of the prior (inverse CDF in LEVELS order)."""
    total = 0.0
    for name in LEVELS:
        total += levels[name].probability
        if u < total:
            return name
    return LEVELS[-1]  # u within rounding of 1


def _episode(pop: Population, pair: Pair, number: int, u: list[float], v: list[float]) -> Episode:
    """Episode `number` of `pair` from its DRAWS_PER_EPISODE uniforms `u` and its
    EXTRA_DRAWS_PER_EPISODE uniforms `v` of the second stream (each in a fixed order)."""
    s = pop.stakes
    coverage = 1.0 if u[2] < s.across_the_board.probability else s.sectoral_coverage.at(u[3])
    lends = pair.loans_from_sender.status == "found"  # NF or n/a: no lending stake
    withhold = lends and u[4] < s.withhold_lending.probability
    financial = u[7] < s.financial_pressure.probability
    assert pair.gdp.value is not None
    tariff = s.tariff_rate.at(u[1])
    outright = v[0] < s.outright_imposition.probability
    full = tariff  # an outright tariff is the rate in force: no threatened rate to differ from
    if not outright and v[1] < s.imposed_rate_differs.probability:
        full = tariff * s.imposed_rate_factor.at(v[2])
    imposed: float | None = None if full == tariff else full
    schedule: tuple[tuple[int, float], ...] = ()
    if v[3] < s.phase_in.probability:
        imposed = s.phase_in.start_share * full
        schedule = ((s.phase_in.after_months, full),)
    return Episode(
        pair=pair.id,
        sender=pair.sender,
        target=pair.target,
        number=number,
        salience_level=_level(pop.salience.levels, u[0]),
        tariff_rate=tariff,
        export_coverage=coverage,
        withhold_lending=withhold,
        withheld_lending_share=s.withheld_lending_share.at(u[5]) if withhold else 0.0,
        sanctions_on_officials=u[6] < s.sanctions_on_officials.probability,
        financial_pressure=financial,
        financial_pressure_share=(
            s.financial_pressure_size.at(u[7] / s.financial_pressure.probability)
            if financial
            else 0.0
        ),
        sovereignty=pop.sovereignty.at(u[8]),
        gdp=pair.gdp.value,
        exports_to_sender=pair.exports_to_sender.value,
        loans_from_sender=pair.loans_from_sender.value,
        alignment_with_sender=pair.alignment_with_sender.value,
        outright=outright,
        imposed_rate=imposed,
        schedule=schedule,
    )


def expand(n_per_pair: int, seed: int, population: Population | None = None) -> list[Episode]:
    """`n_per_pair` episodes for every pair, pairs in file order.

    Pair k draws from SeedSequence(seed, spawn_key=(k,)); each episode takes DRAWS_PER_EPISODE
    uniforms in a fixed order, so the first n episodes of a pair are the same for any larger n.
    The priors added after step 1 draw EXTRA_DRAWS_PER_EPISODE uniforms per episode from
    SeedSequence(seed, spawn_key=(k, EXTRA_STREAM)), so they changed no earlier draw.
    """
    if n_per_pair < 0 or seed < 0:
        raise ValueError("n_per_pair and seed must be non-negative")
    pop = load_population() if population is None else population
    out: list[Episode] = []
    for k, pair in enumerate(pop.pairs):
        rng = np.random.Generator(np.random.PCG64(np.random.SeedSequence(seed, spawn_key=(k,))))
        draws = rng.random((n_per_pair, DRAWS_PER_EPISODE))
        extra_seed = np.random.SeedSequence(seed, spawn_key=(k, EXTRA_STREAM))
        extra = np.random.Generator(np.random.PCG64(extra_seed))
        more = extra.random((n_per_pair, EXTRA_DRAWS_PER_EPISODE))
        out.extend(
            _episode(pop, pair, i, draws[i].tolist(), more[i].tolist()) for i in range(n_per_pair)
        )
    return out


def covariate(episode: Episode, name: Covariate) -> float | None:
    """An episode's value of a subset covariate (None when unknown)."""
    value: float | None = getattr(episode, name)
    return value


def in_subset(episodes: list[Episode], subset: Subset | None) -> list[bool]:
    """Which episodes a statistic counts: scored threat-started ones, in the subset's tercile if
    one is given.

    Every target describes threats (TIES's 1,053 threats, HSE's and Drezner's threatened or
    imposed sanctions as the committed definitions map them), so episodes that start with an
    outright imposition are left out of every target; they count in the base rates and the
    mechanism shares. Terciles are strict: top means above the 2/3 quantile (NumPy's default
    linear rule) of the counted episodes with a known covariate, bottom below the 1/3 quantile;
    ranked over all episodes or per sender (`subset.ranked_within`).
    """
    counted = [e.scored and e.threat_started for e in episodes]
    if subset is None:
        return counted
    values = [
        covariate(e, subset.covariate) if c else None
        for e, c in zip(episodes, counted, strict=True)
    ]
    groups = {e.sender if subset.ranked_within == "sender" else "" for e in episodes}
    keep = [False] * len(episodes)
    for g in groups:
        idx = [
            i
            for i, e in enumerate(episodes)
            if values[i] is not None and (subset.ranked_within == "all" or e.sender == g)
        ]
        if not idx:
            continue
        known = np.array([values[i] for i in idx], dtype=float)
        lo, hi = np.quantile(known, [1.0 / 3.0, 2.0 / 3.0])
        for i, v in zip(idx, known, strict=True):
            keep[i] = bool(v > hi) if subset.tercile == "top" else bool(v < lo)
    return keep
