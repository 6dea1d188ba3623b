"""Axis labels: what a run variable or a sweep outcome column means, in words."""

from __future__ import annotations

from sim.scenario import Scenario

__all__ = [
    "BAND_PHRASE",
    "median_phrase",
    "state_name",
    "subject",
    "tilt_label",
    "variable_label",
]

BAND_PHRASE = "shaded: 10th to 90th percentile"

_VARIABLE_LABELS: dict[str, tuple[str, float]] = {
    "affinity": ("affinity to {name} (0 to 1)", 1.0),
    "exports": ("exports to {name}, US$ bn per year", 1e-9),
    "fdi": ("FDI stock from {name}, US$ bn", 1e-9),
    "debt": ("debt owed to {name}, US$ bn", 1e-9),
    "tariff": ("{name} tariff on the state's exports, %", 100.0),
    "bloc": ("status in {name} (0 none, 1 partner, 2 member)", 1.0),
    "policy": ("policy {name} (1 = in force)", 1.0),
}
"""Label and display factor of each family of run variables (`<family>.<name>`)."""


def tilt_label(powers: tuple[str, str]) -> str:
    """The tilt axis label, with the direction toward each power."""
    return f"tilt   ← toward {powers[0]}  |  toward {powers[1]} →"


def variable_label(variable: str, powers: tuple[str, str]) -> tuple[str, float]:
    """Axis label of a run variable and the factor its values are multiplied by for display."""
    if variable == "tilt":
        return tilt_label(powers), 1.0
    family, _, name = variable.partition(".")
    if family not in _VARIABLE_LABELS:
        return variable, 1.0
    text, scale = _VARIABLE_LABELS[family]
    return text.format(name=name), scale


def subject(variable: str, powers: tuple[str, str]) -> str:
    """What a figure of `variable` shows, for its title."""
    if variable == "tilt":
        return f"tilt between {powers[0]} and {powers[1]}"
    return variable_label(variable, powers)[0]


def median_phrase(replicates: int) -> str:
    """'median of N replicates', and the band when there is one."""
    plural = "s" if replicates > 1 else ""
    band = f"; {BAND_PHRASE}" if replicates > 1 else ""
    return f"median of {replicates} replicate{plural}{band}"


def state_name(scenario: Scenario, code: str) -> str:
    """A state's code and name (`PAN  Panama`), or the code alone if the scenario lacks it."""
    state = scenario.states.get(code)
    return f"{code}  {state.name}" if state is not None and state.name else code
