"""The runs of a sweep: every design point times every replicate, each with its seed.

They are numbered point by point (run = point x replicates + replicate) and built when asked
for, never all at once: a sweep of a billion replicates costs no more memory to plan than a
sweep of ten, since its runs go to disk as they finish (`sim.sweep`).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any, overload

from sim.design import run_seed
from sim.run_set import RunSet


@dataclass(frozen=True)
class Task:
    """One run: a design point and a replicate, with its seed."""

    run: int
    point: int
    replicate: int
    seed: int


class Tasks(Sequence[Task]):
    """Every run of a design, in run order, each built on demand."""

    def __init__(self, points: Sequence[dict[str, Any]], replicates: int, root_seed: int) -> None:
        self._points = points
        self._replicates = replicates
        self._root = root_seed

    def __len__(self) -> int:
        return len(self._points) * self._replicates

    def _task(self, run: int) -> Task:
        point, replicate = divmod(run, self._replicates)
        return Task(run, point, replicate, run_seed(self._root, self._points[point], replicate))

    @overload
    def __getitem__(self, index: int) -> Task: ...
    @overload
    def __getitem__(self, index: slice) -> Sequence[Task]: ...
    def __getitem__(self, index: int | slice) -> Task | Sequence[Task]:
        if isinstance(index, slice):
            return [self._task(run) for run in range(len(self))[index]]
        run = range(len(self))[index]  # negative indices, and IndexError past the end
        return self._task(run)

    def __iter__(self) -> Iterator[Task]:
        return (self._task(run) for run in range(len(self)))

    def without(self, done: RunSet) -> Iterator[Task]:
        """The runs not in `done`, in run order (a resumed sweep's work)."""
        for start, stop in done.gaps(len(self)):
            for run in range(start, stop):
                yield self._task(run)
