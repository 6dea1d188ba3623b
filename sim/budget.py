"""Memory a run or a sweep will need, estimated before it starts, against what the machine has.

`geosim run` and `check` keep every replicate in memory until the tables are written: each
replicate's recorder is a (steps+1) x states x variables float64 array, and the long time-series
table built from it costs many times that again. A sweep streams its runs to disk chunk by
chunk, so what it needs depends on one run, one chunk and the number of worker processes,
never on how many runs it has. Above `LIMIT_SHARE` of the machine's memory the command is
refused (exit 2, with the estimate) unless `--force` is given: a run that would exhaust memory
fails after hours, or takes the machine down with it.
"""

from __future__ import annotations

import os
import resource
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from sim.errors import GeosimError
from sim.outcomes.scope import scenario_variables
from sim.schema.scenario import Scenario

RUN_BYTES_PER_CELL = 112
"""Bytes per recorded value (one step, state and variable) of a replicate `geosim run` keeps:
the recorder's float64 (8), its row of the long time-series table (ids, step, date, state,
variable, value: about 50) and the copies pandas and Arrow make while concatenating and writing.
Measured 101 to 108 on latam_2025 at 48 and 2400 monthly steps."""

REREAD_BYTES_PER_CELL = 144
"""Added per recorded value when the run's figures are drawn or its CSV written: both read the
time series back while the run's tables are still held (measured 135 for figures and 150 for
CSV, not additive, on latam_2025 at 2400 monthly steps)."""

SERIES_BYTES_PER_CELL = 112
"""Bytes per kept time-series value in a sweep's chunk (its long row and the copies made while
concatenating and converting to Arrow): measured about 80, rounded up as the run's figure."""

RESULT_BYTES_PER_CELL = 48
"""Bytes per time-series value of a finished chunk as Arrow, waiting in the main process."""

POINT_BYTES = 400
"""Bytes per design point held by the process that runs a sweep, plus POINT_BYTES_PER_PARAMETER
for each parameter: the point's mapping of values and its part of the text the sweep's
fingerprint is hashed from. Measured 576 with 2 parameters and 1,293 with 8 (400,000 LHS
points), that is about 340 + 120 per parameter, rounded up."""

POINT_BYTES_PER_PARAMETER = 150
"""See POINT_BYTES."""

PROCESS_BYTES = 250e6
"""One Python process with numpy, pandas, pyarrow, Mesa and the model imported (about 220 MB
measured), which every worker of a sweep adds."""

LIMIT_SHARE = 0.8
"""Refuse work estimated above this share of the machine's memory (the rest is for the system
and other processes; the estimate itself is only good to a few tens of percent)."""


class MemoryBudgetError(GeosimError):
    """The work would need more memory than the machine allows it: bad input (exit 2)."""


@dataclass(frozen=True)
class Shape:
    """What one replicate records: steps (step 0 included) x states x variables."""

    steps: int
    states: int
    variables: int

    @property
    def cells(self) -> int:
        """Recorded values of one replicate."""
        return self.steps * self.states * self.variables

    def words(self) -> str:
        """`49 steps x 28 states x 17 variables`."""
        return f"{self.steps} steps x {self.states} states x {self.variables} variables"


def shape_of(scenario: Scenario) -> Shape:
    """The recorder's shape for a scenario, without building a model."""
    steps = scenario.time.calendar().steps + 1
    return Shape(steps, len(scenario.states), len(scenario_variables(scenario)))


@dataclass(frozen=True)
class Estimate:
    """Bytes some work needs and how that was reckoned, in words."""

    bytes: float
    how: str


def run_estimate(scenario: Scenario, replicates: int, reread: bool = False) -> Estimate:
    """`geosim run` / `check`: every replicate's recorder and tables stay in memory; `reread`
    when figures or CSV files are made from them too."""
    shape = shape_of(scenario)
    per = shape.cells * (RUN_BYTES_PER_CELL + (REREAD_BYTES_PER_CELL if reread else 0))
    also = ", figures and CSV" if reread else ""
    how = (
        f"{count(replicates)} replicate(s) x {human(per)} ({shape.words()}, kept in memory "
        f"with the tables{also} built from them)"
    )
    return Estimate(PROCESS_BYTES + min(replicates, MAX_COUNT) * per, how)


Backend = Literal["local", "dask-local", "remote"]
"""Where a sweep's workers run: local processes (one worker: this process), a local Dask
cluster, or a Dask cluster elsewhere (whose memory is not this machine's)."""


def sweep_estimate(
    scenario: Scenario,
    kept: int,
    runs: int,
    workers: int,
    chunk_size: int | None = None,
    backend: Backend = "local",
    points: tuple[int, int] = (0, 0),
) -> Estimate:
    """A sweep: each worker runs one chunk at a time (one run's recorder, the chunk's kept
    series); this process holds finished chunks until they are written, then consolidates.

    `kept` is the number of time-series variables kept per run. `runs` only caps the chunk and
    the number of busy workers: a sweep never holds more than a chunk per worker, so more
    replicates need no more memory, only more time. `points` (design points, parameters) are
    held by this process throughout."""
    from sim.sweep import chunk_size_for
    from sim.sweep_consolidate import ROW_GROUP_ROWS  # rows consolidation holds at once

    shape = shape_of(scenario)
    n, w = max(1, min(runs, MAX_COUNT)), max(1, min(workers, MAX_COUNT))
    size = chunk_size_for(n, w, chunk_size)
    chunks = -(-n // size)
    kept_cells = shape.steps * shape.states * kept
    chunk = size * kept_cells * SERIES_BYTES_PER_CELL
    worker = PROCESS_BYTES + shape.cells * RUN_BYTES_PER_CELL + chunk
    held = min(2 * w, chunks) * size * kept_cells * RESULT_BYTES_PER_CELL
    consolidate = PROCESS_BYTES + max(ROW_GROUP_ROWS, kept_cells) * SERIES_BYTES_PER_CELL + chunk
    local = {"local": min(w, chunks), "dask-local": w, "remote": 0}[backend]
    n_points, parameters = points
    design = n_points * (POINT_BYTES + parameters * POINT_BYTES_PER_PARAMETER)
    if backend == "local" and w == 1:  # each chunk is written as soon as it is done
        total, where = design + max(worker, consolidate), "runs in this process"
    else:
        total = design + max(PROCESS_BYTES + held, consolidate) + local * worker
        where = f"{local} local worker process(es)" if local else "workers elsewhere"
    how = (
        f"{where}, each holding one run's recorder ({shape.words()}) and a chunk of {size} "
        f"run(s) keeping {kept} variable(s) ({human(chunk)}); finished chunks go to disk, so "
        "the number of runs does not count"
    )
    if design:
        how += f"; the {count(n_points)} design points take {human(design)}"
    return Estimate(total, how)


def machine_memory() -> tuple[int, str]:
    """Memory this process may use, and what bounds it: the machine's physical memory, or a
    container's (cgroup) limit if lower."""
    physical = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    bounds = [(physical, f"this machine's {human(physical)}")]
    limit = _cgroup_limit()
    if limit is not None:
        bounds.append((limit, f"the container's memory limit (cgroup) of {human(limit)}"))
    # `ulimit -v` bounds address space, which counts more than resident memory; still, work
    # estimated beyond it cannot succeed, and refusing it says why instead of MemoryError
    soft, _ = resource.getrlimit(resource.RLIMIT_AS)
    if soft != resource.RLIM_INFINITY:
        bounds.append((soft, f"this process's address-space limit (ulimit -v) of {human(soft)}"))
    return min(bounds)


_CGROUP_FILES = (
    Path("/sys/fs/cgroup/memory.max"),  # cgroup v2
    Path("/sys/fs/cgroup/memory/memory.limit_in_bytes"),  # cgroup v1
)


def _cgroup_limit() -> int | None:
    for path in _CGROUP_FILES:
        try:
            text = path.read_text().strip()
        except OSError:
            continue
        if text.isdigit():
            return int(text)  # v1 reports "no limit" as a huge number, above physical memory
    return None


def check_budget(estimate: Estimate, *, force: bool, advice: str) -> None:
    """Refuse (MemoryBudgetError) work estimated above LIMIT_SHARE of the memory, unless forced.

    `advice` says how to make the work smaller; --force is always offered."""
    total, what = machine_memory()
    limit = LIMIT_SHARE * total
    if force or estimate.bytes <= limit:
        return
    raise MemoryBudgetError(
        f"this needs about {human(estimate.bytes)} of memory: {estimate.how}; the limit is "
        f"{human(limit)}, {LIMIT_SHARE:.0%} of {what}. {advice}, or give --force to start "
        "anyway"
    )


def human(n: float) -> str:
    """Bytes as `2.5 GB` (decimal units)."""
    units = ("B", "kB", "MB", "GB", "TB", "PB", "EB")
    i = 0
    while abs(n) >= 1000 and i < len(units) - 1:
        n, i = n / 1000, i + 1
    return f"{n:.0f} B" if i == 0 else f"{n:.3g} {units[i]}"


def count(n: int) -> str:
    """A count as typed, or `more than 10^12` for one too large to be meant."""
    return str(n) if n <= MAX_COUNT else f"more than 10^{len(str(MAX_COUNT)) - 1}"


MAX_COUNT = 10**12
"""Counts above this are reckoned as this (any machine is refused long before; Python's
integers have no limit, floats would overflow)."""
