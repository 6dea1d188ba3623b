"""Dated event types: one module each; `Event` is their union, selected by `type`.

The union is written out here, statically, so a type checker sees every type; the format
reference, the reference checks and the model's dispatch all derive from it
(`event_types()`). Adding a type: write its module and add its class to the union.
"""

from __future__ import annotations

from typing import Annotated, get_args

from pydantic import Field

from sim.schema.events.base import EventBase
from sim.schema.events.bloc_decision import BlocDecisionEvent
from sim.schema.events.engagement import EngagementEvent
from sim.schema.events.government_change import GovernmentChangeEvent
from sim.schema.events.invite import InviteEvent
from sim.schema.events.join import JoinEvent
from sim.schema.events.leave import LeaveEvent
from sim.schema.events.orientation_shock import OrientationShockEvent
from sim.schema.events.pledge import PledgeEvent
from sim.schema.events.policy_change import PolicyChangeEvent
from sim.schema.events.recognition import RecognitionEvent
from sim.schema.events.rule_change import RuleChangeEvent
from sim.schema.events.tariff import TariffEvent
from sim.schema.events.tariff_lift import TariffLiftEvent
from sim.schema.events.threat import ThreatEvent
from sim.schema.events.trade_shock import TradeShockEvent

Event = Annotated[
    ThreatEvent
    | TariffEvent
    | TariffLiftEvent
    | EngagementEvent
    | PledgeEvent
    | InviteEvent
    | BlocDecisionEvent
    | JoinEvent
    | LeaveEvent
    | GovernmentChangeEvent
    | OrientationShockEvent
    | PolicyChangeEvent
    | RecognitionEvent
    | RuleChangeEvent
    | TradeShockEvent,
    Field(discriminator="type"),
]


def event_types() -> tuple[type[EventBase], ...]:
    """Every registered event class, in union order."""
    union = get_args(Event)[0]
    return tuple(get_args(union))


__all__ = [
    "BlocDecisionEvent",
    "EngagementEvent",
    "Event",
    "EventBase",
    "GovernmentChangeEvent",
    "InviteEvent",
    "JoinEvent",
    "LeaveEvent",
    "OrientationShockEvent",
    "PledgeEvent",
    "PolicyChangeEvent",
    "RecognitionEvent",
    "RuleChangeEvent",
    "TariffEvent",
    "TariffLiftEvent",
    "ThreatEvent",
    "TradeShockEvent",
    "event_types",
]
