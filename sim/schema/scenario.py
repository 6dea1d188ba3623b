"""The whole scenario: the world, the rules, dated events and expected outcomes."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from sim.schema.base import Code, Frozen
from sim.schema.events import Event
from sim.schema.expectations import Expect
from sim.schema.parameters import Rules
from sim.schema.world import Bloc, Meta, Power, RestOfWorld, State, Time


class Scenario(Frozen):
    """A whole scenario: world, rules, dated events and expected outcomes."""

    meta: Meta
    """Name, description, sources."""
    time: Time
    """Calendar."""
    powers: Annotated[dict[Code, Power], Field(min_length=1)]
    """Great powers by code (USA, CHN, ...)."""
    states: Annotated[dict[Code, State], Field(min_length=1)]
    """States by ISO3 code."""
    rest_of_world: RestOfWorld = RestOfWorld()
    """Trade with partners that are not powers (used where states give totals)."""
    blocs: dict[Code, Bloc] = {}
    """Blocs by code (BRI, BRICS, ...)."""
    rules: Rules = Rules()
    """Behavioural parameters."""
    events: dict[str, Event] = {}
    """Dated events by id (ids let an `extends` file change or delete them)."""
    expect: dict[str, Expect] = {}
    """Outcomes the scenario should produce, checked by `geosim check`."""
