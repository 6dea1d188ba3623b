"""`threat`: a dated threat to one state, or to every state of a bloc that violates a demand."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, model_validator

from sim.loader import Key
from sim.schema.effects import Effect, World
from sim.schema.events.base import EventBase
from sim.schema.refs import Refs
from sim.schema.world import Demand, Stakes


class ThreatEvent(EventBase, Stakes):
    """A dated threat to one state or to every state of a bloc that violates the demand."""

    type: Literal["threat"]
    sender: str
    """Power issuing the threat."""
    target: str | None = None
    """Target state (or give `bloc`)."""
    bloc: str | None = None
    """Threaten every member and partner of this bloc that violates the demand."""
    demand: Demand
    """What the target must do."""
    deadline_months: Annotated[int, Field(ge=0, le=120, strict=True)] = 1
    """Months to comply before the sender imposes or backs down (at most 120)."""

    example = {
        "border": {
            "type": "threat",
            "date": "2025-03",
            "sender": "USA",
            "target": "MEX",
            "demand": {"policy": "border_enforcement", "active": True},
            "tariff": 0.25,
        }
    }
    effect = Effect(state="MEX", log_kind="threat")

    @model_validator(mode="after")
    def _target(self) -> ThreatEvent:
        if (self.target is None) == (self.bloc is None):
            raise ValueError("a threat names exactly one of `target` or `bloc`")
        return self

    def check(self, refs: Refs, path: Key) -> None:
        super().check(refs, path)
        refs.power(self.sender, (*path, "sender"))
        refs.state(self.target, (*path, "target"))
        refs.bloc(self.bloc, (*path, "bloc"))
        refs.bloc(self.demand.leave_bloc, (*path, "demand", "leave_bloc"))
        if self.target is not None and self.demand.policy is not None:
            refs.policy(self.target, self.demand.policy, (*path, "demand", "policy"))

    def apply(self, world: World, eid: str) -> None:
        if self.target is not None:
            targets = [world.state_index[self.target]]
        else:
            targets = world.bloc_members(self.bloc or "")
        sender = world.power_index[self.sender]
        for i in targets:
            world.threaten(
                eid,
                sender,
                i,
                self.demand,
                self,
                self.deadline_months,
            )
