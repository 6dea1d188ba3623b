"""Expectation types: one module each; `Expect` is their union, selected by `type`.

Written out statically so a type checker sees every type; reference checks, evaluation and the
format reference derive from it (`expect_types()`).
"""

from __future__ import annotations

from typing import Annotated, get_args

from pydantic import Field

from sim.schema.expectations.base import ExpectBase
from sim.schema.expectations.membership import MembershipExpect
from sim.schema.expectations.policy import PolicyExpect
from sim.schema.expectations.tariff import TariffExpect
from sim.schema.expectations.threat_outcome import ThreatOutcomeExpect
from sim.schema.expectations.tilt import TiltExpect

Expect = Annotated[
    MembershipExpect | PolicyExpect | TariffExpect | ThreatOutcomeExpect | TiltExpect,
    Field(discriminator="type"),
]


def expect_types() -> tuple[type[ExpectBase], ...]:
    """Every registered expectation class, in union order."""
    union = get_args(Expect)[0]
    return tuple(get_args(union))


__all__ = [
    "Expect",
    "ExpectBase",
    "MembershipExpect",
    "PolicyExpect",
    "TariffExpect",
    "ThreatOutcomeExpect",
    "TiltExpect",
    "expect_types",
]
