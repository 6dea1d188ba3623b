"""The history backtest (issue 12): how often the rules get history right, against null models.

Each file in `scenarios/history/` is one historical episode with exactly one primary
expectation, history's outcome. The backtest runs every episode's replicates (in parallel),
reads the probability the model gives that outcome (a hit when above one half) and scores it
with the Brier score and the log loss, probabilities clipped to [0.01, 0.99] so that one
certain miss cannot dominate the log loss. Two null models are scored the same way:

- **status quo**: nothing changes (0.99 for an outcome that is the starting state, 0.01 for a
  change);
- **base rate**: the share of the suite's other episodes of the same outcome class (the
  expectation type: a policy, a membership, ...) whose outcome was a change, or was not,
  like this one's (leave-one-out, so an episode never predicts itself).

Mean scores are compared by a paired bootstrap over episodes (the same resampled episodes for
the model and the null), whose 95% interval of the mean difference says whether the model is
better than the null beyond the luck of the draw of episodes.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from sim.errors import GeosimError
from sim.loader import resolved
from sim.runner import RunView, replicate_seeds, run_once
from sim.sweep_backends import run_chunks
from sim.validation import builtin_scenarios_dir, load_scenario

CLIP = (0.01, 0.99)
"""Probabilities are scored inside these bounds."""

BOOTSTRAP = 10_000
"""Paired bootstrap resamples of the episodes."""

COLUMNS = (
    "episode",
    "primary",
    "outcome_class",
    "change",
    "runs",
    "p_model",
    "p_low",
    "p_high",
    "hit",
    "brier_model",
    "logloss_model",
    "p_status_quo",
    "brier_status_quo",
    "logloss_status_quo",
    "p_base_rate",
    "brier_base_rate",
    "logloss_base_rate",
    "driver",
)
"""Columns of the backtest table, in order (`p_low`/`p_high`: the Wilson 95% interval)."""


def history_dir() -> Path:
    """The episodes shipped with the package."""
    return builtin_scenarios_dir() / "history"


def episode_files(paths: Sequence[str | Path] = ()) -> list[Path]:
    """The episode files: the given files and folders' `*.yaml`, else the shipped suite.

    A file given twice (a folder twice, or a folder and a file in it) counts once, where it
    first appears: twice, it would be scored twice and be its own leave-one-out base rate.
    Two files with one name are refused: an episode is known by its name in every table.
    """
    found: list[Path] = []
    for given in paths or [history_dir()]:
        path = Path(given)
        if path.is_dir():
            found.extend(sorted(path.glob("*.yaml")))
        elif path.is_file():
            found.append(path)
        else:
            raise GeosimError(f"{path}: no such episode file or folder")
    if not found:
        raise GeosimError("no episode files to backtest")
    return _distinct(found)


def _distinct(found: Sequence[Path]) -> list[Path]:
    """`found` without repeats of one file (in order); an error for two files of one name."""
    seen: set[Path] = set()
    named: dict[str, Path] = {}
    out: list[Path] = []
    for path in found:
        key = _real(path)
        if key in seen:
            continue
        seen.add(key)
        other = named.setdefault(path.stem, path)
        if other is not path:
            raise GeosimError(
                f"{other} and {path} are both episode {path.stem!r}: an episode is known by its "
                "file name, so give only one of them (or rename one)"
            )
        out.append(path)
    return out


def _real(path: Path) -> Path:
    """The file `path` names (symbolic links followed); as written if that fails (a link
    loop, reported when the episode is loaded)."""
    real = resolved(path)
    return path.absolute() if isinstance(real, str) else real


@dataclass(frozen=True)
class Episode:
    """One history file: its primary expectation and what the null models need of it."""

    name: str
    path: Path
    primary: str
    description: str
    outcome_class: str
    change: bool
    """History's outcome is a change from the starting state (the status quo gets it wrong)."""


def load_episode(path: Path) -> Episode:
    """Load and check one episode: exactly one primary expectation."""
    loaded = load_scenario(path)
    s = loaded.scenario
    primary = [xid for xid, ex in s.expect.items() if ex.primary]
    if len(primary) != 1:
        raise GeosimError(
            f"{path}: a history episode needs exactly one expectation with `primary: true` "
            f"(found {len(primary)})"
        )
    ex = s.expect[primary[0]]
    holds = ex.status_quo(s)
    assert holds is not None, "validation refuses a primary outcome without a status quo"
    return Episode(
        path.stem, path, primary[0], ex.description, ex.outcome_class(), change=not holds
    )


# --------------------------------------------------------------------------- running


@dataclass(frozen=True)
class Slice:
    """Replicates `start`..`stop` of one episode's `total` (seeds from the root seed)."""

    path: str
    primary: str
    seed: int
    start: int
    stop: int
    total: int


def run_slice(work: Slice) -> tuple[str, int, list[bool]]:
    """Whether each replicate of the slice shows the primary outcome (runs in a worker)."""
    s = load_scenario(work.path).scenario
    ex, calendar = s.expect[work.primary], s.time.calendar()
    seeds = replicate_seeds(work.seed, work.total)
    hits = []
    for r in range(work.start, work.stop):
        rep = run_once(s, seeds[r], r, collect=False)
        hits.append(bool(ex.evaluate(RunView(rep, calendar))))
    return work.path, work.start, hits


def _slices(episodes: Sequence[Episode], seed: int, replicates: int, size: int) -> Iterator[Slice]:
    for e in episodes:
        for start in range(0, replicates, size):
            stop = min(start + size, replicates)
            yield Slice(str(e.path), e.primary, seed, start, stop, replicates)


def run_episodes(
    episodes: Sequence[Episode],
    seed: int,
    replicates: int,
    *,
    workers: int = 1,
    progress: Callable[[int], None] | None = None,
) -> dict[str, list[bool]]:
    """Each episode's primary outcome per replicate, in replicate order (same seeds as `geosim
    check EPISODE -n replicates --seed seed`, whatever the worker count)."""
    size = max(1, min(25, -(-replicates // max(1, 2 * workers))))
    parts: dict[str, dict[int, list[bool]]] = {str(e.path): {} for e in episodes}
    done = 0

    def handle(result: tuple[str, int, list[bool]]) -> None:
        nonlocal done
        path, start, hits = result
        parts[path][start] = hits
        done += len(hits)
        if progress is not None:
            progress(done)

    run_chunks(_slices(episodes, seed, replicates, size), run_slice, handle, workers=workers)
    return {p: [h for k in sorted(v) for h in v[k]] for p, v in parts.items()}


# --------------------------------------------------------------------------- scoring


def clip(p: float) -> float:
    """A probability inside the scoring bounds."""
    return min(max(p, CLIP[0]), CLIP[1])


def brier(p: float) -> float:
    """Brier score of probability `p` given to what happened."""
    return (1.0 - clip(p)) ** 2


def logloss(p: float) -> float:
    """Log loss (natural log) of probability `p` given to what happened."""
    return -math.log(clip(p))


def base_rates(episodes: Sequence[Episode]) -> list[float]:
    """Leave-one-out: the share of the other episodes of the same class whose outcome was of
    this episode's kind (a change, or none); the whole suite's other episodes when the class
    has no other member."""
    out = []
    for i, e in enumerate(episodes):
        rest = [o for j, o in enumerate(episodes) if j != i]
        pool = [o for o in rest if o.outcome_class == e.outcome_class] or rest
        out.append(sum(o.change == e.change for o in pool) / len(pool) if pool else 0.5)
    return out


def score_table(
    episodes: Sequence[Episode],
    successes: Sequence[int],
    runs: Sequence[int],
    drivers: Sequence[str] | None = None,
) -> pd.DataFrame:
    """The backtest table: per episode the model's and the nulls' probabilities and scores."""
    from sim.uncertainty import wilson

    rates = base_rates(episodes)
    rows = []
    for k, e in enumerate(episodes):
        if runs[k] <= 0:
            raise GeosimError(f"{e.path}: episode {e.name} has no successful run to score")
        p = successes[k] / runs[k]
        low, high = wilson(successes[k], runs[k])
        sq = 0.01 if e.change else 0.99
        rows.append(
            {
                "episode": e.name,
                "primary": e.primary,
                "outcome_class": e.outcome_class,
                "change": e.change,
                "runs": runs[k],
                "p_model": p,
                "p_low": low,
                "p_high": high,
                "hit": p > 0.5,
                "brier_model": brier(p),
                "logloss_model": logloss(p),
                "p_status_quo": sq,
                "brier_status_quo": brier(sq),
                "logloss_status_quo": logloss(sq),
                "p_base_rate": rates[k],
                "brier_base_rate": brier(rates[k]),
                "logloss_base_rate": logloss(rates[k]),
                "driver": drivers[k] if drivers else "",
            }
        )
    return pd.DataFrame(rows, columns=list(COLUMNS))


@dataclass(frozen=True)
class Comparison:
    """The model's mean score against a null's: the paired mean difference and its interval
    (negative = the model scores better, for both the Brier score and the log loss)."""

    null: str
    score: str
    model: float
    other: float
    difference: float
    low: float
    high: float

    @property
    def verdict(self) -> str:
        if self.high < 0:
            return "model better"
        if self.low > 0:
            return "null better"
        return "not distinguishable"


def compare(table: pd.DataFrame, seed: int, resamples: int = BOOTSTRAP) -> list[Comparison]:
    """Paired bootstrap of the mean score difference, model minus each null, for both scores."""
    rng = np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(0xB007,)))
    n = len(table)
    idx = rng.integers(0, n, size=(resamples, n))
    out = []
    for score in ("brier", "logloss"):
        model = table[f"{score}_model"].to_numpy(float)
        for null in ("status_quo", "base_rate"):
            other = table[f"{score}_{null}"].to_numpy(float)
            diff = model - other
            boot = diff[idx].mean(axis=1)
            low, high = np.quantile(boot, [0.025, 0.975])
            out.append(
                Comparison(
                    null,
                    score,
                    float(model.mean()),
                    float(other.mean()),
                    float(diff.mean()),
                    float(low),
                    float(high),
                )
            )
    return out
