"""Threats in flight and the event log: what happened, when, between whom, and the numbers why."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from sim.schema.world import Demand

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
    tariff: float | None
    stake: float | None
    credibility: float
    issued: int
    deadline: int
    status: ThreatStatus = "open"
    resolved: int | None = None
    imposed_at: int | None = None

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
