"""What a user asks for besides the defaults (`OutcomeSpec`), and how problems with it read."""

from __future__ import annotations

import re
from dataclasses import dataclass

from pydantic import Field, field_validator

from sim.calendar import month_index
from sim.errors import GeosimError
from sim.schema.base import Frozen
from sim.vocabulary import RUN_COLUMNS

NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
"""What a custom outcome may be called (it becomes a column name)."""
DATE = re.compile(r"^[0-9]{4}-[0-9]{2}$")
RESERVED = frozenset((*RUN_COLUMNS, "point_key"))
"""Columns of a runs table that an outcome cannot be called."""


class OutcomeSpec(Frozen):
    """Outcomes to compute for every run, besides the end-of-run standard ones."""

    dates: tuple[str, ...] = ()
    """Extra dates (`YYYY-MM`, inside the scenario's horizon) at which the standard outcomes
    are also computed, as `<name>@<date>` columns; the end of the run (`@end`) is always in."""
    custom: dict[str, str] = Field(default_factory=dict)
    """User-defined outcomes: column name -> expression (the language is documented in
    `sim.outcomes`), e.g. `bol_leans_china: tilt[BOL] > 0`. An expression that reduces over
    replicates gives one value per design point instead of one per run."""

    @field_validator("dates")
    @classmethod
    def _dates(cls, dates: tuple[str, ...]) -> tuple[str, ...]:
        for date in dates:
            check_date(date)
        return dates

    @field_validator("custom")
    @classmethod
    def _names(cls, custom: dict[str, str]) -> dict[str, str]:
        for name in custom:
            check_name(name)
        return custom


def check_date(date: str) -> str:
    """`date` if it is an outcome date (`YYYY-MM`, a real month), else ValueError saying why."""
    if not DATE.match(date):
        raise ValueError(f"expected a date as YYYY-MM, got {date!r}")
    month_index(date)  # the month must be 01..12
    return date


def check_name(name: str) -> str:
    """`name` if a custom outcome can be called that (a column name), else ValueError."""
    if not NAME.match(name):
        raise ValueError(
            f"outcome name {name!r} must be letters, digits and _ (not starting with a digit)"
        )
    if name in RESERVED:
        raise ValueError(f"outcome name {name!r} is a column of the runs table; choose another")
    return name


@dataclass(frozen=True)
class OutcomeProblem:
    """One thing wrong with the outcomes asked for."""

    outcome: str
    """The custom outcome's name, or "dates"."""
    column: int | None
    """1-based column in the expression text (None for problems outside an expression)."""
    message: str
    index: int | None = None
    """A date problem's position in `OutcomeSpec.dates` (None for a custom outcome's)."""

    @property
    def path(self) -> str:
        """Where in an outcome spec the problem lies: `outcomes.custom.<name>` or
        `outcomes.dates` (the index, when wanted, is `index`)."""
        return "outcomes.dates" if self.outcome == "dates" else f"outcomes.custom.{self.outcome}"

    def __str__(self) -> str:
        at = f": column {self.column}" if self.column is not None else ""
        return f"{self.path}{at}: {self.message}"


class OutcomeError(GeosimError):
    """Outcomes that cannot be computed for this scenario (exit 2); holds every problem."""

    exit_code = 2

    def __init__(self, problems: list[OutcomeProblem]) -> None:
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))

    def __reduce__(self) -> tuple[type[OutcomeError], tuple[list[OutcomeProblem]]]:
        """Rebuild from the problems (process pools pickle errors)."""
        return (type(self), (self.problems,))
