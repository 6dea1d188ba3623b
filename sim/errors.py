"""Error types that carry a location, so the CLI can report `file:line:column: path: message`."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Problem:
    """One thing wrong with an input, pinned to where it was written."""

    file: str
    line: int
    column: int
    path: str
    message: str

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}:{self.column}" if self.line else self.file
        return f"{where}: {self.path}: {self.message}" if self.path else f"{where}: {self.message}"


class GeosimError(Exception):
    """Base class for errors a user can fix; the CLI maps them to exit status 2."""


class ScenarioError(GeosimError):
    """A scenario (or an override of one) is malformed; holds every problem found."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))


class ResultsError(GeosimError):
    """A results folder is missing, incomplete or not one geosim wrote."""
