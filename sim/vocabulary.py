"""The names results use: event-log kinds and the standard sweep outcome counts.

Written once here and imported everywhere (model, runner, figures, sweeps), never copied, so a
new kind cannot be logged under one spelling and looked for under another.
"""

from __future__ import annotations

from enum import StrEnum


class LogKind(StrEnum):
    """Kinds of decision and state change in the event log (`events.csv`, column `kind`).

    A dated event that only records that it happened (an engagement, a pledge, a rule change)
    is logged under its own event type name; `sim.schema.events` registers those.
    """

    THREAT = "threat"
    """A power threatened a state (dated event or standing policy)."""
    COMPLIED = "complied"
    """The target gave in (actor: the state)."""
    DEFIED = "defied"
    """The target refused; the sender decides at the deadline (actor: the state)."""
    IMPOSED = "imposed"
    """The sender carried a defied threat out (actor: the power)."""
    BACKED_DOWN = "backed_down"
    """The sender let a defied threat lapse (actor: the power)."""
    LIFTED = "lifted"
    """The sender lifted an imposed threat's measures while the target still defied: a
    `tariff_lift` event or the sender's own review (actor: the power)."""
    RETALIATED = "retaliated"
    """The target answered an imposed tariff with a counter-tariff (actor: the state)."""
    TARIFF_IMPOSED = "tariff_imposed"
    """A tariff rate came into force (actor: the power)."""
    TARIFF_LIFTED = "tariff_lifted"
    """A tariff rate went back to zero (actor: the power)."""
    JOINED = "joined"
    """A state became a member or partner of a bloc (actor: the state, target: the bloc)."""
    LEFT = "left"
    """A state left a bloc (actor: the state, target: the bloc)."""
    INVITED = "invited"
    """A bloc invited a state (actor: the bloc, target: the state)."""
    DECLINED = "declined"
    """A state declined an invitation (actor: the state, target: the bloc)."""
    ACCEPTED = "accepted"
    """A state accepted an invitation whose accession comes later (actor: the state, target:
    the bloc); it confirms at accession, or declines then."""
    RENEWED = "renewed"
    """A member renewed its membership at the end of its term (actor: the state, target: the
    bloc)."""
    BLOC_DECISION = "bloc_decision"
    """A dated decision point on a bloc (`bloc_decision` event): the numbers and whether the
    state switched (then a `joined` or `left` row follows; actor: the state, target: the
    bloc)."""
    BLOC_REVIEW = "bloc_review"
    """A state's standing with a bloc each January, unchanged: its value, change and yearly
    hazards of joining and leaving (actor: the state, target: the bloc)."""
    POLICY_CHANGED = "policy_changed"
    """A state's domestic policy switched (actor: the state, target: the policy)."""


THREAT_OUTCOMES = (
    LogKind.COMPLIED,
    LogKind.DEFIED,
    LogKind.IMPOSED,
    LogKind.BACKED_DOWN,
    LogKind.LIFTED,
)
"""How a threat can end (or stand): the outcomes a `threat_outcome` expectation can name."""

COUNT_OUTCOMES: dict[str, LogKind] = {
    "threats": LogKind.THREAT,
    "complied": LogKind.COMPLIED,
    "defied": LogKind.DEFIED,
    "imposed": LogKind.IMPOSED,
    "backed_down": LogKind.BACKED_DOWN,
    "tariffs_imposed": LogKind.TARIFF_IMPOSED,
}
"""Standard sweep outcomes that count log rows of one kind per run: outcome name -> kind."""


class RunStatus(StrEnum):
    """The `status` column of a sweep's runs table."""

    OK = "ok"
    """The run finished; its outcomes are in the row."""
    FAILED = "failed"
    """The run raised; the row holds the error instead of outcomes."""


RUN_COLUMNS = ("run", "point", "replicate", "seed", "status", "error")
"""Columns of a sweep's runs table that come before the parameters and the outcomes."""
