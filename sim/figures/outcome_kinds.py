"""What a sweep outcome column holds, read from its name (`sim.results_format`): a tilt, a bloc
standing, an event count or an expectation, at the end of a run or at a date (`name@YYYY-MM`);
anything else is a custom outcome. Labels for axes and colour bars.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from sim.vocabulary import COUNT_OUTCOMES

__all__ = ["is_binary", "is_bloc", "is_count", "is_tilt", "outcome_label", "split"]


def split(outcome: str) -> tuple[str, list[str], str]:
    """`tilt.BOL@2025-06` -> (`tilt`, [`BOL`], `2025-06`); the date is empty without `@`."""
    body, _, date = outcome.partition("@")
    family, *parts = body.split(".")
    return family, parts, date


def is_tilt(outcome: str) -> bool:
    """Whether an outcome is a tilt (so 0 means neither power)."""
    family, parts, date = split(outcome)
    if not date:
        return False
    return (family == "mean_tilt" and not parts) or (
        family in ("tilt", "tilt_change") and len(parts) == 1
    )


def is_bloc(outcome: str) -> bool:
    """Whether an outcome is a state's standing in a bloc (0 none, 1 partner, 2 member)."""
    family, parts, date = split(outcome)
    return family == "bloc" and len(parts) == 2 and bool(date)


def is_count(outcome: str) -> bool:
    """Whether an outcome counts one kind of event-log row per run."""
    family, parts, date = split(outcome)
    return family in COUNT_OUTCOMES and not parts and bool(date)


def is_binary(outcome: str, values: pd.Series[Any]) -> bool:
    """Whether an outcome is a yes/no event (shown as a probability)."""
    if outcome.startswith("expect.") or pd.api.types.is_bool_dtype(values.dtype):
        return True
    # Tilts, bloc standings and counts can all be 0 or 1 by chance in a small sweep.
    if is_tilt(outcome) or is_bloc(outcome) or is_count(outcome):
        return False
    v = values.dropna()
    return len(v) > 0 and bool(v.isin([0.0, 1.0]).all())


def _when(date: str) -> str:
    return "at the end" if date == "end" else f"in {date}"


def outcome_label(outcome: str, powers: tuple[str, str]) -> str:
    """Axis label of a sweep outcome column (`powers`: the tilt's two powers)."""
    direction = f"(← {powers[0]} | {powers[1]} →)"
    family, parts, date = split(outcome)
    if is_tilt(outcome):
        if family == "mean_tilt":
            return f"mean tilt {_when(date)} {direction}"
        change = " change" if family == "tilt_change" else ""
        return f"{parts[0]} tilt{change} {_when(date)} {direction}"
    if is_bloc(outcome):
        return f"{parts[1]} status in {parts[0]} {_when(date)} (0 none, 1 partner, 2 member)"
    if family == "expect":
        return f"P(expectation {'.'.join(parts)} met)"
    if is_count(outcome):
        return f"number of events: {family.replace('_', ' ')} ({_when(date)})"
    return outcome
