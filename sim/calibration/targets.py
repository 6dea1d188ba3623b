"""Calibration targets: published shares and directions, each mapped onto threat-episode outcomes.

A calibration episode is one threat from a sender to a target, followed for
`observation_months`; it ends in exactly one of `OUTCOMES`. A *statistic* is the share of
episodes ending in a set of outcomes among those ending in another set (optionally within a
tercile of a covariate). A `share` target fixes a statistic's value with a tolerance; a
`direction` target fixes the sign of the difference between two statistics, which the fit must
show with a 95% interval excluding 0. targets.yaml holds the targets; docs/calibration.md
explains them.
"""

from __future__ import annotations

import typing
from importlib import resources
from typing import Annotated, Literal

from pydantic import Field, model_validator

from sim.loader import parse_yaml_text
from sim.schema.base import Frozen

Outcome = Literal[
    "complied_at_threat",
    "backed_down",
    "complied_after_imposition",
    "lifted",
    "imposed_ongoing",
    "pending",
]
"""How a calibration episode ends (read at the end of its observation window)."""

OUTCOMES: tuple[Outcome, ...] = typing.get_args(Outcome)
"""Every episode outcome, in the order of the threat's life."""

NEVER_IMPOSED: tuple[Outcome, ...] = ("complied_at_threat", "backed_down", "pending")
"""Outcomes of threats that were never carried out."""

IMPOSED: tuple[Outcome, ...] = ("complied_after_imposition", "lifted", "imposed_ongoing")
"""Outcomes of threats that were carried out."""

Covariate = Literal["trade_dependence", "threatened_cost", "alignment_with_sender"]
"""Episode covariates a subset may rank on (defined in population.py's `Episode`)."""

TargetId = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]*$", max_length=60)]
Reliability = Literal["high", "medium", "low"]


class Subset(Frozen):
    """Episodes in the top or bottom third of a covariate (episodes where it is unknown are
    left out)."""

    covariate: Covariate
    """What episodes are ranked by: `trade_dependence` (exports to the sender / GDP),
    `threatened_cost` (tariff rate x share of exports covered x exports to the sender / GDP), or
    `alignment_with_sender` (UN-voting index, see population.yaml)."""
    tercile: Literal["top", "bottom"]
    """`top`: above the 2/3 quantile; `bottom`: below the 1/3 quantile."""
    ranked_within: Literal["all", "sender"]
    """`all`: quantiles over every scored episode; `sender`: quantiles over each sender's scored
    episodes separately (for measures whose level differs by sender by construction)."""


class Statistic(Frozen):
    """A share of episodes: those ending in `numerator` among those ending in `denominator`."""

    numerator: list[Outcome]
    """Outcomes counted as the event (a subset of `denominator`)."""
    denominator: list[Outcome]
    """Outcomes of the episodes the share is taken over."""
    subset: Subset | None = None
    """Only episodes in this tercile of a covariate (default: every scored episode)."""

    @model_validator(mode="after")
    def _nested(self) -> Statistic:
        for name in ("numerator", "denominator"):
            values = getattr(self, name)
            if len(set(values)) != len(values) or not values:
                raise ValueError(f"`{name}` must list distinct outcomes, at least one")
        if not set(self.numerator) <= set(self.denominator):
            raise ValueError("every `numerator` outcome must be in `denominator`")
        return self


class Citation(Frozen):
    """Where a figure comes from, as recorded in docs/calibration-sources.md."""

    authors: str
    """Authors (surnames) or the publishing body."""
    year: int | None
    """Year of publication (of the data version, for data); null when the copy read gives none
    (software packages)."""
    title: str
    """Title of the work or data set."""
    locator: str
    """Table, page, variables or computation that gives the figure."""
    where_read: str
    """The copy that was read: URL as stored, or repository, path and commit."""
    sources_section: Annotated[str, Field(pattern=r"^[0-9]+[a-z]?$")]
    """Section of docs/calibration-sources.md that records it (e.g. `2b`)."""


class TargetBase(Frozen):
    """What every target states: id, meaning, sources and how far to trust them."""

    id: TargetId
    """Unique identifier (lower case, underscores)."""
    description: str
    """The finding in words."""
    source_definition: str
    """How the source defines its quantity and how that maps onto the model's outcomes."""
    citations: Annotated[list[Citation], Field(min_length=1)]
    """The source of the figure or direction, first; corroborating sources after."""
    reliability: Reliability
    """`high`: primary source or primary data; `medium`: secondary or garbled copy; `low`:
    direction only or not read by the project."""
    reliability_note: str
    """Why that reliability, and caveats on the mapping."""
    role: Literal["fit", "check"] = "fit"
    """`fit`: part of the calibration loss; `check`: reported after fitting, not fitted."""
    required_by_issue: bool = True
    """Whether issue 9 asks for this target (false: added by us, with the reason in the note)."""


class ShareTarget(TargetBase):
    """A statistic's published value, with a tolerance in percentage points."""

    kind: Literal["share"]
    """A share target."""
    statistic: Statistic
    """What is measured in the model."""
    value: Annotated[float, Field(ge=0.0, le=1.0)]
    """The published share (a fraction)."""
    tolerance_pp: Annotated[float, Field(gt=0.0, le=50.0)]
    """Half-width of the accepted band, percentage points: the model's share must lie within
    value +- tolerance_pp / 100."""

    @model_validator(mode="after")
    def _band(self) -> ShareTarget:
        half = self.tolerance_pp / 100.0
        if self.value - half < 0.0 or self.value + half > 1.0:
            raise ValueError("value +- tolerance must stay within [0, 1]")
        return self


class DirectionTarget(TargetBase):
    """The sign of a difference between two statistics (group A minus group B)."""

    kind: Literal["direction"]
    """A direction target."""
    group_a: Statistic
    """First group and its success measure."""
    group_b: Statistic
    """Second group and its success measure."""
    sign: Literal["positive", "negative"]
    """Expected sign of share(A) - share(B)."""
    confidence: Annotated[float, Field(gt=0.5, lt=1.0)] = 0.95
    """Level of the interval for the difference that must exclude 0 (over replicates and
    episodes)."""


Target = Annotated[ShareTarget | DirectionTarget, Field(discriminator="kind")]


class Dropped(Frozen):
    """A target the issue or the sources mention that is not used, and why."""

    id: TargetId
    """Identifier of the dropped target."""
    what: str
    """The quantity that would have been targeted."""
    reason: str
    """Why it is dropped (usually: no published figure found)."""
    sources_section: Annotated[str, Field(pattern=r"^[0-9]+[a-z]?$")]
    """Section of docs/calibration-sources.md that records the search."""


class Unanchored(Frozen):
    """A behavioural parameter with no published anchor: a documented estimate and a range."""

    name: TargetId
    """What the parameter is called here."""
    meaning: str
    """What it measures, in model terms."""
    estimate: float
    """Central value used before fitting."""
    low: float
    """Lower end of the range a fit or sensitivity run may explore."""
    high: float
    """Upper end of that range."""
    reason: str
    """Why this estimate and range (the evidence, or its absence)."""
    in_model: str | None = None
    """The existing rule parameter it maps to, or null if the model has no such mechanism yet."""
    sources_section: Annotated[str, Field(pattern=r"^[0-9]+[a-z]?$")]
    """Section of docs/calibration-sources.md that records the search."""

    @model_validator(mode="after")
    def _inside(self) -> Unanchored:
        if not self.low <= self.estimate <= self.high:
            raise ValueError("the estimate must lie within [low, high]")
        return self


class Targets(Frozen):
    """The calibration targets of issue 9, fixed before any fitting."""

    version: int
    """Format version of this file."""
    committed_before_fitting: Literal[True]
    """Marks that the targets were fixed before the model was fitted to them."""
    observation_months: Annotated[int, Field(gt=0, le=240)]
    """Months an episode is followed after its threat; outcomes are read at the end."""
    interval_method: str
    """How the interval of a direction target's difference is computed (fixed before fitting)."""
    outcomes: dict[Outcome, str]
    """Every episode outcome with its definition in terms of the model's threat statuses."""
    targets: list[Target]
    """The targets, share and direction."""
    dropped: list[Dropped]
    """Targets not used, with the reason."""
    unanchored: list[Unanchored]
    """Parameters without a published anchor: estimate and range."""

    @model_validator(mode="after")
    def _complete(self) -> Targets:
        if set(self.outcomes) != set(OUTCOMES):
            raise ValueError(f"`outcomes` must define exactly {list(OUTCOMES)}")
        ids = [t.id for t in self.targets] + [d.id for d in self.dropped]
        if len(set(ids)) != len(ids):
            raise ValueError("target ids (kept and dropped) must be unique")
        return self

    def by_id(self, target_id: str) -> ShareTarget | DirectionTarget:
        """The target with this id (KeyError if none)."""
        for t in self.targets:
            if t.id == target_id:
                return t
        raise KeyError(target_id)


def load_targets(text: str | None = None) -> Targets:
    """The targets in `text` (YAML), by default the packaged targets.yaml."""
    name = "targets.yaml"
    if text is None:
        text = resources.files("sim.calibration").joinpath(name).read_text(encoding="utf-8")
    data, _ = parse_yaml_text(text, name)
    return Targets.model_validate(data)
