"""A set of run ids that stays small however many runs a sweep has.

A sweep remembers which runs are on disk (to skip them when it resumes, and never to write a
run twice). Runs finish chunk by chunk, each chunk a stretch of consecutive ids, so the ids
form a few long stretches: kept as ranges, a billion finished runs take a few ranges, not the
tens of gigabytes a Python set of them would.
"""

from __future__ import annotations

import itertools
from bisect import bisect_left, bisect_right
from collections.abc import Iterable, Iterator


def stretches(runs: Iterable[int]) -> Iterator[tuple[int, int]]:
    """The half-open ranges [start, stop) of consecutive ids among `runs`, in order."""
    ordered = sorted(set(runs))
    # ids minus their position are constant along a stretch of consecutive ids
    for _, group in itertools.groupby(enumerate(ordered), key=lambda pair: pair[1] - pair[0]):
        ids = [run for _, run in group]
        yield ids[0], ids[-1] + 1


class RunSet:
    """Run ids as sorted, disjoint ranges [start, stop) that neither overlap nor touch."""

    __slots__ = ("_size", "_starts", "_stops")

    def __init__(self, runs: Iterable[int] = ()) -> None:
        self._starts: list[int] = []
        self._stops: list[int] = []
        self._size = 0
        self.update(runs)

    def update(self, runs: Iterable[int]) -> None:
        """Add ids (a chunk's: sorting them costs what the chunk does)."""
        for start, stop in stretches(runs):
            self.add_range(start, stop)

    def add_range(self, start: int, stop: int) -> None:
        """Add the ids start, ..., stop - 1, merging the ranges they overlap or touch."""
        first = bisect_left(self._stops, start)  # ranges before it end before `start`
        end = bisect_right(self._starts, stop)  # ranges from it start after `stop`
        merged = list(zip(self._starts[first:end], self._stops[first:end], strict=True))
        if merged:
            start, stop = min(start, merged[0][0]), max(stop, merged[-1][1])
        self._size += (stop - start) - sum(b - a for a, b in merged)
        self._starts[first:end] = [start]
        self._stops[first:end] = [stop]

    def __contains__(self, run: object) -> bool:
        if not isinstance(run, int):
            return False
        k = bisect_right(self._starts, run) - 1
        return k >= 0 and run < self._stops[k]

    def __len__(self) -> int:
        return self._size

    def __iter__(self) -> Iterator[int]:
        for start, stop in self.ranges():
            yield from range(start, stop)

    def gaps(self, stop: int) -> Iterator[tuple[int, int]]:
        """The ranges [start, stop) of ids from 0 to `stop` that are not in the set, in order:
        a resumed sweep's work, found without walking the ids already done."""
        start = 0
        for a, b in self.ranges():
            if a >= stop:
                break
            if a > start:
                yield start, a
            start = max(start, b)
        if start < stop:
            yield start, stop

    def copy(self) -> RunSet:
        """An independent copy (as cheap as the ranges are few)."""
        other = RunSet()
        other._starts, other._stops, other._size = list(self._starts), list(self._stops), self._size
        return other

    def ranges(self) -> list[tuple[int, int]]:
        """The ranges [start, stop), in order."""
        return list(zip(self._starts, self._stops, strict=True))
