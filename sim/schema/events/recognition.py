"""`recognition`: a state switches its recognition of China between Beijing and Taipei.

Recognising Beijing opens diplomatic relations with the power that stands for it (the
People's Republic, `CHN` by default): its engagement tie with the state returns to the power's
baseline, and the blocs it leads (the Belt and Road memoranda) may be joined. Recognising Taipei
ends them: no engagement tie, no joining. A scenario that starts with a state recognising
Taipei lists the power under the state's `no_relations`. The switch is an input (a dated
decision the scenario takes from history), not an outcome.
"""

from __future__ import annotations

from typing import Literal

from sim.loader import Key
from sim.schema.effects import Effect, World
from sim.schema.events.base import EventBase
from sim.schema.refs import Refs


class RecognitionEvent(EventBase):
    """A switch of recognition between Beijing and Taipei."""

    type: Literal["recognition"]
    state: str
    """State that switches."""
    recognises: Literal["Beijing", "Taipei"]
    """Which government it recognises from this month on."""
    power: str = "CHN"
    """The power that stands for Beijing in the scenario."""

    example = {
        "switch": {
            "type": "recognition",
            "date": "2025-03",
            "state": "BOL",
            "recognises": "Taipei",
        }
    }
    effect = Effect(state="BOL", variable="affinity.CHN", direction="down")

    def check(self, refs: Refs, path: Key) -> None:
        super().check(refs, path)
        refs.state(self.state, (*path, "state"))
        refs.power(self.power, (*path, "power"))

    def apply(self, world: World, eid: str) -> None:
        i, j = world.state_index[self.state], world.power_index[self.power]
        al = world.alignment
        beijing = self.recognises == "Beijing"
        al.relations[i, j] = beijing
        al.engagement[i, j] = world.power_engagement(j) if beijing else 0.0
        if not beijing:
            al.pulse[i, j] = al.lasting[i, j] = 0.0
        world.note("recognition", self.state, self.power, event=eid, recognises=self.recognises)
