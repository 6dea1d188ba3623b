"""Run calibration episodes through the model, many per world, and collect their outcomes.

`run_episodes` cuts the episodes into batches (consecutive, `batch_size` each), builds one
world per batch (`episodes.batch_scenario`), runs it with a seed derived from the root seed and
the batch number, and reads every episode's outcome and mechanisms from the log. The same
episodes, batch size and seed give the same outcomes, for any number of workers: the fit relies
on that (common random numbers).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, replace

import numpy as np
from numpy.typing import NDArray

from sim.calibration.episodes import (
    POWERS,
    Context,
    batch_scenario,
    classify,
    rows_by_state,
    state_code,
    target_data,
)
from sim.calibration.mechanisms import MECHANISMS, fired
from sim.calibration.population import Episode, Population
from sim.calibration.targets import OUTCOMES, Outcome, Targets
from sim.errors import Problem, ScenarioError

BATCH_SIZE = 1000
"""Episodes per world by default (about 1,500-2,000 episodes a second on one core)."""
SALIENCE_SCALE = "salience.scale"
"""The `--set` path of the factor on every salience level's value (not a scenario rule)."""


@dataclass(frozen=True)
class Batch:
    """One world's worth of episodes and its seed (a work item: picklable)."""

    number: int
    episodes: tuple[Episode, ...]
    seed: int
    context: Context


@dataclass(frozen=True)
class BatchResult:
    """Each episode's outcome (index into OUTCOMES) and which mechanisms fired in it."""

    number: int
    outcomes: list[int]
    mechanisms: dict[str, list[bool]]


@dataclass
class Results:
    """Outcomes of a list of episodes, in episode order."""

    episodes: list[Episode]
    outcomes: NDArray[np.int8]
    """Index into `targets.OUTCOMES`, one per episode."""
    mechanisms: dict[str, NDArray[np.bool_]]
    seconds: float

    @property
    def episodes_per_second(self) -> float:
        """Throughput of the run (wall clock, all workers)."""
        return len(self.episodes) / self.seconds if self.seconds > 0 else float("nan")

    def labels(self) -> list[Outcome]:
        """Outcome names, one per episode."""
        return [OUTCOMES[k] for k in self.outcomes]


def make_context(
    population: Population,
    targets: Targets,
    overrides: Sequence[str] = (),
    salience_scale: float = 1.0,
) -> Context:
    """The batch context: window from the targets, salience values from the rules (their
    defaults, or `rules.threats.salience_levels.<level>` overrides; times `salience_scale`),
    target data from the pairs, `rules.*` overrides. The population's level values are the
    priors the first fit started from; the rules hold the fitted ones."""
    levels = rule_salience(overrides)
    return Context(
        months=targets.observation_months,
        salience={name: value * salience_scale for name, value in levels.items()},
        targets=target_data(population),
        power_gdp=power_gdp(),
        overrides=tuple(overrides),
    )


def rule_salience(overrides: Sequence[str]) -> dict[str, float]:
    """Each salience level's value in the rules, after `rules.threats.salience_levels.*`
    overrides (validated like any scenario's rules)."""
    from sim.loader import Tree, apply_override
    from sim.schema.parameters import Rules
    from sim.validation import schema_default

    prefix = "rules.threats.salience_levels."
    tree = Tree(data={"rules": {}}, files=["<calibration>"])
    for a in overrides:
        if a.strip().startswith(prefix):
            apply_override(tree, a, schema_default)
    rules = Rules.model_validate(tree.data.get("rules", {}))
    return dict(rules.threats.salience_levels.model_dump())


def power_gdp() -> dict[str, float]:
    """GDP of USA and CHN as the baseline scenario (latam_2025) gives them, with its sources."""
    from sim.validation import load_scenario

    powers = load_scenario("latam_2025").scenario.powers
    return {code: powers[code].gdp for code in POWERS}


def split_overrides(assignments: Sequence[str]) -> tuple[list[str], float | None]:
    """`--set` values: the `rules.*` ones, and the salience scale if given (`salience.scale`).

    Anything else is refused (ScenarioError): the calibration world is generated.
    """
    rules: list[str] = []
    scale: float | None = None
    problems: list[Problem] = []
    for a in assignments:
        path, _, value = a.partition("=")
        path = path.strip()
        where = f"--set {a}"
        if path == SALIENCE_SCALE:
            try:
                scale = float(value)
                if not 0 < scale < float("inf"):
                    raise ValueError
            except ValueError:
                problems.append(Problem(where, 0, 0, path, "expected a positive number"))
        elif path.startswith("rules.") and "=" in a:
            rules.append(a)
        else:
            msg = (
                f"calibrate takes rules.<path>=<value> or {SALIENCE_SCALE}=<factor> (the "
                "world is generated from the population)"
            )
            problems.append(Problem(where, 0, 0, path, msg))
    if problems:
        raise ScenarioError(problems)
    return rules, scale


def check_context(context: Context, episode: Episode) -> None:
    """Validate a one-episode world now (ScenarioError: bad overrides), before any batch runs."""
    batch_scenario([episode], context)


def batches(
    episodes: Sequence[Episode], context: Context, seed: int, batch_size: int
) -> Iterator[Batch]:
    """Consecutive batches; batch b runs with SeedSequence(seed, spawn_key=(b,))."""
    from sim.runner import replicate_seeds

    n = (len(episodes) + batch_size - 1) // batch_size
    for b, s in enumerate(replicate_seeds(seed, n)):
        chunk = tuple(episodes[b * batch_size : (b + 1) * batch_size])
        yield Batch(b, chunk, s, context)


def run_batch(batch: Batch) -> BatchResult:
    """Build and run one batch's world; classify every episode from the log."""
    from sim.runner import run_once

    loaded = batch_scenario(batch.episodes, batch.context)
    rep = run_once(loaded.scenario, batch.seed, collect=False)
    codes = [state_code(k) for k in range(len(batch.episodes))]
    outcomes: list[int] = []
    mechanisms: dict[str, list[bool]] = {name: [] for name in MECHANISMS}
    for rows in rows_by_state(rep.log, codes):
        outcomes.append(OUTCOMES.index(classify(rows)))
        for name, yes in fired(rows).items():
            mechanisms[name].append(yes)
    return BatchResult(batch.number, outcomes, mechanisms)


def run_episodes(
    episodes: Sequence[Episode],
    context: Context,
    seed: int,
    *,
    batch_size: int = BATCH_SIZE,
    workers: int = 1,
    progress: Callable[[int], None] | None = None,
) -> Results:
    """Every episode's outcome; `progress(episodes done)` after each batch."""
    from sim.sweep_backends import run_chunks

    if not episodes:
        raise ValueError("no episodes to run")
    check_context(context, episodes[0])
    start = time.perf_counter()
    done: dict[int, BatchResult] = {}

    def handle(result: BatchResult) -> None:
        done[result.number] = result
        if progress is not None:
            progress(min(len(episodes), sum(len(r.outcomes) for r in done.values())))

    work = batches(episodes, context, seed, batch_size)
    run_chunks(work, run_batch, handle, workers=workers)
    ordered = [done[b] for b in sorted(done)]
    outcomes = np.array([k for r in ordered for k in r.outcomes], dtype=np.int8)
    mechanisms = {
        name: np.array([y for r in ordered for y in r.mechanisms[name]], dtype=bool)
        for name in MECHANISMS
    }
    return Results(list(episodes), outcomes, mechanisms, time.perf_counter() - start)


def with_values(context: Context, base: Context, values: dict[str, float]) -> Context:
    """`context` with parameter values set: `salience.scale` rescales `base`'s salience values,
    any other path is a rule (`threats.credibility`), appended as a `rules.` override."""
    salience = dict(context.salience)
    extra: list[str] = []
    for path, value in values.items():
        if path == SALIENCE_SCALE:
            salience = {k: v * value for k, v in base.salience.items()}
        else:
            extra.append(f"rules.{path}={value!r}")
    return replace(context, salience=salience, overrides=(*context.overrides, *extra))
