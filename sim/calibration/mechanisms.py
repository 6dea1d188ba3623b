"""Which model mechanisms fire in an episode, read from its event-log rows.

`MECHANISMS` maps a name to a predicate over one episode's rows (and a line saying what it
detects). Issue 9 asks that every mechanism fire in at least `MIN_SHARE` of the episodes; the
harness reports each one's share. A new mechanism is one entry here: a function of the rows.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sim.calibration.episodes import Row
from sim.vocabulary import LogKind

MIN_SHARE = 0.05
"""Each mechanism should fire in at least this share of the scored episodes (issue 9)."""


@dataclass(frozen=True)
class Mechanism:
    """A mechanism and how to see it in an episode's log rows."""

    description: str
    fired: Callable[[Sequence[Row]], bool]


def _kind(kind: str) -> Callable[[Sequence[Row]], bool]:
    """Fires when any row has this kind."""

    def fired(rows: Sequence[Row]) -> bool:
        return any(r["kind"] == kind for r in rows)

    return fired


def _first_answer(rows: Sequence[Row]) -> Row | None:
    """The target's first answer to the threat (complied or defied)."""
    return next((r for r in rows if r["kind"] in (LogKind.COMPLIED, LogKind.DEFIED)), None)


def _debt_leverage(rows: Sequence[Row]) -> bool:
    """Debt owed to the sender added to the cost of defying at the first answer: its
    `cost_debt` detail is positive (coercion rewrite), or, in older logs, the cost of defying
    exceeds credibility x exposure (the log rounds numbers to 8 decimals, hence the margin)."""
    r = _first_answer(rows)
    if r is None:
        return False
    d = r["details"]
    if "cost_debt" in d:
        return _number(d, "cost_debt") > 0.0
    tariff_part = _number(d, "credibility") * _number(d, "exposure")
    return _number(d, "cost_defy") > tariff_part * (1.0 + 1e-6) + 5e-8


def _number(details: Mapping[str, Any], key: str) -> float:
    """A numeric detail (0 when missing or not a number)."""
    try:
        return float(details.get(key) or 0.0)
    except (TypeError, ValueError):
        return 0.0


def _answer_detail(key: str, test: Callable[[float], bool]) -> Callable[[Sequence[Row]], bool]:
    """Fires when the first answer's numeric detail `key` passes `test` (missing: never)."""

    def fired(rows: Sequence[Row]) -> bool:
        r = _first_answer(rows)
        return r is not None and key in r["details"] and test(_number(r["details"], key))

    return fired


def _positive(x: float) -> bool:
    """Strictly positive."""
    return x > 0.0


def _kind_detail(
    kind: str, key: str, test: Callable[[Any], bool]
) -> Callable[[Sequence[Row]], bool]:
    """Fires when a row of `kind` has a detail `key` that passes `test`."""

    def fired(rows: Sequence[Row]) -> bool:
        return any(
            r["kind"] == kind and key in r["details"] and test(r["details"][key]) for r in rows
        )

    return fired


def _yielded(rows: Sequence[Row]) -> bool:
    """The target complied before any imposition."""
    return any(
        r["kind"] == LogKind.COMPLIED and not r["details"].get("after_imposition") for r in rows
    )


NON_TARIFF_COSTS = ("cost_lending", "cost_officials", "cost_financial", "cost_stake")
"""Cost details of the non-tariff stakes on a `complied` or `defied` row."""


def _coverage_below_one(rows: Sequence[Row]) -> bool:
    """The threatened tariff covers only part of the target's exports to the sender."""
    return any(
        r["kind"] == LogKind.THREAT
        and r["details"].get("tariff") is not None
        and "coverage" in r["details"]
        and _number(r["details"], "coverage") < 1.0
        for r in rows
    )


def _imposed_rate_differs(rows: Sequence[Row]) -> bool:
    """The tariff was carried out at a rate other than the one threatened (an `imposed` row
    whose `imposed_rate` differs from its `tariff`, relative tolerance 1e-9)."""
    for r in rows:
        d = r["details"]
        if r["kind"] != LogKind.IMPOSED or d.get("tariff") is None or "imposed_rate" not in d:
            continue
        threatened, imposed = _number(d, "tariff"), _number(d, "imposed_rate")
        if abs(imposed - threatened) > 1e-9 * max(abs(threatened), 1e-12):
            return True
    return False


def _outright(rows: Sequence[Row]) -> bool:
    """An outright tariff (no threat first) was counted as coercion: a `tariff_imposed` row
    marked `outright` that added coercion memory."""
    return any(
        r["kind"] == LogKind.TARIFF_IMPOSED
        and bool(r["details"].get("outright"))
        and _number(r["details"], "coercion_memory") != 0.0
        for r in rows
    )


def _non_tariff_reconsideration(rows: Sequence[Row]) -> bool:
    """A re-decision under imposed coercion that includes a non-tariff measure (withheld
    lending, officials, financial pressure, other stake) ends in compliance: a `complied` row
    with `after_imposition` and `reconsidered` true and a positive non-tariff cost. Every
    calibration episode carries a tariff, so MODEL.md's stricter reading (no `cost_tariff` at
    all) cannot occur here; this one shows the non-tariff measures staying in force and being
    reconsidered, which is what issue 9 added."""
    return any(
        r["kind"] == LogKind.COMPLIED
        and bool(r["details"].get("after_imposition"))
        and bool(r["details"].get("reconsidered"))
        and any(_number(r["details"], k) > 0.0 for k in NON_TARIFF_COSTS)
        for r in rows
    )


def _reconsidered(rows: Sequence[Row]) -> bool:
    """The target gave in under an imposed measure (reconsideration changed its answer)."""
    return any(
        r["kind"] == LogKind.COMPLIED and bool(r["details"].get("after_imposition")) for r in rows
    )


MECHANISMS: dict[str, Mechanism] = {
    "target_yields_at_threat": Mechanism("the target yields to the threat at once", _yielded),
    "target_defies": Mechanism("the target defies the threat", _kind(LogKind.DEFIED)),
    "sender_imposes": Mechanism("the sender carries a defied threat out", _kind(LogKind.IMPOSED)),
    "sender_backs_down": Mechanism(
        "the sender lets a defied threat lapse", _kind(LogKind.BACKED_DOWN)
    ),
    "reconsideration_yields": Mechanism(
        "the target complies under the imposed measure", _reconsidered
    ),
    "sender_lifts": Mechanism("the sender lifts the measure while defied", _kind(LogKind.LIFTED)),
    "debt_leverage": Mechanism(
        "debt owed to the sender adds to the cost of defying", _debt_leverage
    ),
    # The coercion rewrite's mechanisms, read from its log (they never fire in older logs).
    "retaliation": Mechanism(
        "the target answers imposition with a counter-tariff", _kind("retaliated")
    ),
    "sanctions_on_officials": Mechanism(
        "sanctions on officials add to the cost of defying",
        _answer_detail("cost_officials", _positive),
    ),
    "black_knight": Mechanism(
        "the rival power offsets at least 5% of the cost of defying",
        _answer_detail("black_knight", lambda x: x >= 0.05),
    ),
    "rally": Mechanism(
        "imposition changes the target's resolve by more than 5%",
        _kind_detail(LogKind.IMPOSED, "resolve_change", lambda x: abs(float(x) - 1.0) > 0.05),
    ),
    "resolve_hardens": Mechanism(
        "imposition hardens the target's resolve by more than 5% (rally round the flag)",
        _kind_detail(LogKind.IMPOSED, "resolve_change", lambda x: float(x) - 1.0 > 0.05),
    ),
    "resolve_erodes": Mechanism(
        "imposition erodes the target's resolve by more than 5%",
        _kind_detail(LogKind.IMPOSED, "resolve_change", lambda x: 1.0 - float(x) > 0.05),
    ),
    "sender_review_lifts": Mechanism(
        "the sender's own review lifts the measure", _kind_detail(LogKind.LIFTED, "review", bool)
    ),
    "coverage_below_one": Mechanism(
        "the threatened tariff covers only part of the exports (coverage < 1)",
        _coverage_below_one,
    ),
    "withheld_lending": Mechanism(
        "withheld lending adds to the cost of defying", _answer_detail("cost_lending", _positive)
    ),
    "financial_pressure": Mechanism(
        "financial pressure adds to the cost of defying",
        _answer_detail("cost_financial", _positive),
    ),
    "imposed_rate_differs": Mechanism(
        "the tariff is carried out at a rate other than the threatened one", _imposed_rate_differs
    ),
    "schedule_steps": Mechanism(
        "an imposed tariff moves to a scheduled rate (phase-in or escalation)",
        _kind_detail(LogKind.TARIFF_IMPOSED, "scheduled", bool),
    ),
    "non_tariff_reconsideration_yields": Mechanism(
        "the target complies at a re-decision while a non-tariff measure is in force",
        _non_tariff_reconsideration,
    ),
    "outright_tariff_coercion": Mechanism(
        "a tariff imposed outright (no threat first) counts as coercion", _outright
    ),
}
"""Mechanisms detectable in the log, by name (MODEL.md, "What the log records", gives the details
read). A new mechanism is one entry; the thresholds of the rewrite's entries (5% of the cost, 5%
of resolve) are the harness's choice, for the model's author to confirm."""


def below_min_share(shares: Mapping[str, float]) -> list[str]:
    """Mechanisms whose share of episodes is below MIN_SHARE (issue 9 wants none)."""
    return [name for name, share in shares.items() if share < MIN_SHARE]


def fired(rows: Sequence[Row]) -> dict[str, bool]:
    """Which mechanisms fire in one episode."""
    return {name: m.fired(rows) for name, m in MECHANISMS.items()}
