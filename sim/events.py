"""Threats in flight and the event log: what happened, when, between whom, and the numbers why."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from sim.schema.world import Demand, Stakes

ThreatStatus = Literal["open", "complied", "defied", "imposed", "backed_down", "lifted"]
"""`lifted`: imposed, then the sender lifted the tariff (a `tariff_lift` event) while the target
still defied; the threat is over and the target no longer reconsiders."""


@dataclass
class Threat:
    """One threat from a power to a state, from issue to resolution."""

    origin: str
    """Event id or `policy:<name>` of the standing policy that issued it."""
    sender: int
    target: int
    demand: Demand
    stakes: Stakes
    """What it puts at risk (tariff, lending, officials, financial pressure, other stake)."""
    credibility: float
    """Effective credibility: the threat's (or the default) times the sender's reputation then."""
    interest: float
    """The sender's interest in the demand, share of its GDP."""
    issued: int
    deadline: int
    status: ThreatStatus = "open"
    resolved: int | None = None
    imposed_at: int | None = None
    tariff_rate: float = 0.0
    """Rate this threat has in force (imposed rate, then the schedule's)."""
    output_cut: float = 0.0
    """Share of the target's output the threat's non-tariff measures cut while in force."""
    counter_tariff: float = 0.0
    """Rate of the target's counter-tariff against this threat's tariff (0: none)."""

    @property
    def tariff(self) -> float | None:
        """The threatened tariff rate, if the threat has a tariff."""
        return self.stakes.tariff

    @property
    def outstanding(self) -> bool:
        """Still shaping behaviour: open, defied awaiting the deadline, or imposed."""
        return self.status in ("open", "defied", "imposed")


@dataclass
class EventLog:
    """Decisions and dated events, one row each, with the numbers behind them."""

    rows: list[dict[str, Any]] = field(default_factory=list)

    def add(self, step: int, date: str, kind: str, actor: str, target: str, **details: Any) -> None:
        """Append one row; `details` become a JSON object in the results."""
        self.rows.append(
            {
                "step": step,
                "date": date,
                "kind": str(kind),  # a LogKind is written as its plain name
                "actor": actor,
                "target": target,
                "details": details,
            }
        )
