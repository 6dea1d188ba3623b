"""Months as integers: the scenario calendar (`YYYY-MM`) and the step grid built on it."""

from __future__ import annotations

import calendar as _gregorian
import re
from dataclasses import dataclass

# ASCII digits only: `\d` would also take fullwidth (U+FF10..) and Arabic-Indic (U+0660..)
# digits, which int() reads as numbers but nobody means as a scenario date.
_MONTH = re.compile(r"([0-9]{4})-([0-9]{2})(?:-([0-9]{2}))?", re.ASCII)

UNIT_MONTHS = {"month": 1, "quarter": 3, "year": 12}


def month_index(text: str) -> int:
    """`2025-02` (or `2025-02-18`) -> months since year 0; raises ValueError on anything else.

    A day, if given, must exist in that month (`2025-02-30` is refused, not read as February).
    """
    m = _MONTH.fullmatch(text.strip())
    if not m:
        raise ValueError(f"expected a date as YYYY-MM (digits 0-9), got {text!r}")
    year, month = int(m.group(1)), int(m.group(2))
    if not 1 <= month <= 12:
        raise ValueError(f"month must be 01..12, got {text!r}")
    if m.group(3) is not None:
        days = _gregorian.monthrange(year, month)[1]
        if not 1 <= int(m.group(3)) <= days:
            ym = f"{m.group(1)}-{m.group(2)}"
            raise ValueError(f"day must be 01..{days} ({ym} has {days} days), got {text!r}")
    return year * 12 + month - 1


def month_label(index: int) -> str:
    """Months since year 0 -> `YYYY-MM`."""
    return f"{index // 12:04d}-{index % 12 + 1:02d}"


@dataclass(frozen=True)
class Calendar:
    """The step grid: step k (1..steps) simulates the period starting `start + (k-1)*unit`.

    Step 0 is the initial condition, labelled one unit before the start.
    """

    start: int
    unit_months: int
    steps: int

    def label(self, step: int) -> str:
        """Date label (`YYYY-MM`) of a step."""
        return month_label(self.start + (step - 1) * self.unit_months)

    def step_of(self, month: int) -> int:
        """The step whose period contains `month` (0 if before the start)."""
        if month < self.start:
            return 0
        return (month - self.start) // self.unit_months + 1

    @property
    def end(self) -> int:
        """Last month covered by the horizon."""
        return self.start + self.steps * self.unit_months - 1

    @property
    def years_per_step(self) -> float:
        """Length of one step in years (rates in `rules` are per year)."""
        return self.unit_months / 12.0

    def labels(self) -> list[str]:
        """Labels of steps 0..steps."""
        return [self.label(k) for k in range(self.steps + 1)]
