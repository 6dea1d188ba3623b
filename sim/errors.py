"""Error types that carry a location, so the CLI can report `file:line:column: path: message`."""

from __future__ import annotations

import errno
import os
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
    """Base class for errors a user can fix; the CLI maps them to `exit_code` (2: bad input)."""

    exit_code = 2


class ScenarioError(GeosimError):
    """A scenario (or an override of one) is malformed; holds every problem found."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))


class ResultsError(GeosimError):
    """A results folder is missing, incomplete or not one geosim wrote."""


class FigureNotApplicable(ResultsError):
    """A figure has nothing to show for this run (a bloc timeline without blocs): skip it."""


class EnvironmentFailure(GeosimError):
    """The environment refused, not the input: a folder not writable, a full disk, a file-size
    limit, an unreachable scheduler, a worker killed. Exit 1; the message names the path or
    address and the operating system's reason, and the same command can succeed once that is
    fixed."""

    exit_code = 1


class OutputError(EnvironmentFailure):
    """The results could not be written (disk full, no permission, a file-size limit)."""


def os_reason(exc: OSError) -> str:
    """The operating system's reason for `exc` in words, e.g. `No space left on device`.

    pyarrow wraps the errno's words in prose of its own (`Error writing bytes to file. Detail:
    [errno 28] No space left on device`): then the words alone, which read the same whichever
    library failed. A reason of the raiser's own (`No usable temporary directory found in
    ...`) is kept.
    """
    words = os.strerror(exc.errno) if exc.errno else None
    if exc.strerror and (words is None or words not in exc.strerror):
        return str(exc.strerror)
    return words or str(exc) or type(exc).__name__


def os_failure(exc: OSError, doing: str, path: object) -> OutputError:
    """`cannot <doing> <path>: <reason>`. `path` is what the user asked for: the OS may have
    named a temporary sibling, which would mean nothing to them."""
    return OutputError(f"cannot {doing} {path}: {os_reason(exc)}")


PATH_ERRNOS = frozenset(
    {errno.ENOENT, errno.ENOTDIR, errno.EISDIR, errno.ELOOP, errno.ENAMETOOLONG, errno.EINVAL}
)
"""Errors in a path as the user typed it (no such file, a loop of symbolic links, a name too
long): bad input. Any other errno on reading (no permission, an I/O error, too many open files)
is the environment's failure."""


def read_failure(exc: OSError, path: object, bad_input: GeosimError) -> GeosimError:
    """`bad_input` if reading `path` failed over the path itself (PATH_ERRNOS); else an
    EnvironmentFailure (exit 1): `cannot read <path>: <the OS's reason>`."""
    if exc.errno in PATH_ERRNOS:
        return bad_input
    return cannot_read(exc, path)


def cannot_read(exc: OSError, path: object) -> EnvironmentFailure:
    """The system refused a read: `cannot read <path>: <the OS's reason>` (exit 1)."""
    return EnvironmentFailure(f"cannot read {path}: {os_reason(exc)}")


class NumericalError(GeosimError):
    """A recorded variable turned NaN or infinite during a run: the run stops (exit 2).

    The scenario's values took the arithmetic out of float range, so it is reported like bad
    input rather than as a crash; the message names the variable, the state, the step and date.
    """

    exit_code = 2

    def __init__(
        self,
        variable: str,
        state: str,
        step: int,
        date: str,
        value: float,
        previous: float | None = None,
    ) -> None:
        self.variable, self.state, self.step, self.date = variable, state, step, date
        self.value, self.previous = value, previous
        shown = "NaN" if value != value else str(value)
        if previous is None:
            what = f"is {shown} at step {step} ({date}), the initial condition"
        else:
            what = (
                f"became {shown} at step {step} ({date}), after {previous:.6g} at step {step - 1}"
            )
        super().__init__(
            f"{variable} of {state} {what}: the scenario's values take the model's arithmetic "
            "out of range; the run was stopped"
        )

    def __reduce__(self) -> tuple[type[NumericalError], tuple[object, ...]]:
        """Rebuild from the fields (the default would pass only the message): process pools."""
        return (
            type(self),
            (self.variable, self.state, self.step, self.date, self.value, self.previous),
        )
