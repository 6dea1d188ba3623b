"""`geosim calibrate`: score the model against the coercion targets (issue 9), optionally fit."""

from __future__ import annotations

import json
import math
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from sim.cli.common import (
    EXIT_FAILED,
    command_line,
    handle_errors,
    log_overrides,
    out,
    progress_bar,
    set_opt,
)

if TYPE_CHECKING:
    from sim.calibration.episodes import Context
    from sim.calibration.harness import Results
    from sim.calibration.population import Episode
    from sim.calibration.targets import Targets


@click.command()
@click.option(
    "--episodes-per-pair",
    "-n",
    type=click.IntRange(min=1),
    default=None,
    help="Episodes drawn per sender-target pair (default: population.yaml's suggestion, 200).",
)
@click.option("--seed", type=click.IntRange(min=0), default=1, show_default=True, help="Root seed.")
@set_opt
@click.option("--workers", type=click.IntRange(min=1), default=1, show_default=True)
@click.option(
    "--out",
    "out_file",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Also write the report (and any fit) as JSON to this file.",
)
@click.option("--fit", "do_fit", is_flag=True, help="Fit the parameters of sim.calibration.fit.")
@click.option(
    "--max-evals", type=click.IntRange(min=1), default=None, help="Evaluation budget of --fit."
)
@click.option(
    "--batch-size",
    type=click.IntRange(min=1),
    default=None,
    help="Episodes per model world (default 1000; results depend on it through the seeds).",
)
@click.pass_context
def calibrate(
    ctx: click.Context,
    episodes_per_pair: int | None,
    seed: int,
    overrides: tuple[str, ...],
    workers: int,
    out_file: Path | None,
    do_fit: bool,
    max_evals: int | None,
    batch_size: int | None,
) -> None:
    """Run the calibration episodes and print the targets-vs-model table.

    --set takes rules.<path>=<value> (as `geosim run`) and salience.scale=<factor> (on every
    salience level's value). --fit fits the parameters listed in sim/calibration/fit.py and
    prints the fitted values and the table at them; it edits no file. Exit 0 when every target
    with role `fit` is met, 1 when one is not, 2 on bad input.
    """
    with handle_errors(ctx):
        from sim.calibration.harness import BATCH_SIZE, make_context, split_overrides
        from sim.calibration.population import expand, load_population
        from sim.calibration.report import build_report, rates_table, targets_table
        from sim.calibration.targets import load_targets

        rules, scale = split_overrides(overrides)
        population, targets = load_population(), load_targets()
        n = episodes_per_pair or population.suggested_episodes_per_pair
        episodes = [e for e in expand(n, seed, population) if e.scored]
        base = make_context(population, targets, rules)
        context = make_context(population, targets, rules, scale or 1.0)
        _log_overrides(context, episodes[0])
        size = batch_size or BATCH_SIZE
        fit: dict[str, Any] | None = None
        if do_fit:
            fit, context = _fit(
                episodes, (context, base), scale, targets, seed, size, workers, max_evals
            )
        results = _run(episodes, context, seed, size, workers)
        settings = {
            "command": command_line(),
            "episodes_per_pair": n,
            "seed": seed,
            "overrides": list(overrides),
            "salience": context.salience,
            "observation_months": context.months,
            "batch_size": size,
            "workers": workers,
        }
        report = build_report(results, targets, settings, seed)
        out.print(targets_table(report.scores))
        out.print(rates_table(report.base_rates, report.mechanisms))
        out.print(
            f"{report.scored} scored episodes ({n} per pair), {report.seconds:.1f} s, "
            f"{results.episodes_per_second:.0f} episodes/s, {workers} worker(s)"
        )
        if out_file is not None:
            _write_json(out_file, report.as_dict(fit))
        sys.exit(0 if report.passed else EXIT_FAILED)


def _log_overrides(context: Context, episode: Episode) -> None:
    """Validate the overrides on a one-episode world (exit 2 if bad) and log each one."""
    from sim.calibration.episodes import batch_scenario

    log_overrides(batch_scenario([episode], context).overrides)


def _run(episodes: list[Episode], context: Context, seed: int, size: int, workers: int) -> Results:
    """All episodes, with a progress bar on a terminal."""
    from sim.calibration.harness import run_episodes

    update, stop = progress_bar(len(episodes), "episodes")
    try:
        return run_episodes(
            episodes, context, seed, batch_size=size, workers=workers, progress=update
        )
    finally:
        stop()


def _fit(
    episodes: list[Episode],
    contexts: tuple[Context, Context],
    scale: float | None,
    targets: Targets,
    seed: int,
    size: int,
    workers: int,
    max_evals: int | None,
) -> tuple[dict[str, Any], Context]:
    """Fit, print the fitted values; returns the fit for the JSON and the context at the fit.

    `contexts`: the run's context and the same at salience scale 1; `scale`: the scale --set
    gave (which fixes it), or None."""
    from sim.calibration.episodes import batch_scenario
    from sim.calibration.fit import MAX_EVALS, PARAMETERS, available, current_values, fit_model
    from sim.calibration.harness import run_episodes, with_values
    from sim.calibration.report import fit_dict, fit_table

    context, base = contexts
    fixed = [a.partition("=")[0].strip().removeprefix("rules.") for a in context.overrides]
    if scale is not None:
        fixed.append("salience.scale")
    params = available(PARAMETERS, fixed)
    if not params:
        raise click.UsageError("--fit: every fitted parameter is fixed by --set")
    rules = batch_scenario([episodes[0]], context).scenario.rules
    start = current_values(params, rules, 1.0 if scale is None else scale)
    budget = max_evals or MAX_EVALS
    update, stop = progress_bar(budget, "fit evaluations")

    def run(eps: Sequence[Episode], c: Context, s: int) -> Results:
        return run_episodes(eps, c, s, batch_size=size, workers=workers)

    try:
        outcome = fit_model(
            episodes, context, base, targets, params, start, seed=seed, max_evals=budget,
            run=run, progress=update,
        )  # fmt: skip
    finally:
        stop()
    out.print(fit_table(outcome, params, start))
    out.print("Put these values into the rule defaults (MODEL.md) by hand; no file was edited.")
    return fit_dict(outcome, params, start), with_values(context, base, outcome.values)


def _finite(value: Any) -> Any:
    """JSON without NaN or infinity: non-finite numbers become null."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_finite(v) for v in value]
    return value


def _write_json(path: Path, data: dict[str, Any]) -> None:
    """Write atomically (a temporary file renamed into place)."""
    from sim.errors import OutputError

    data = _finite(data)
    tmp = path.with_name(f".{path.name}.tmp")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp.write_text(json.dumps(data, indent=2, allow_nan=False) + "\n", encoding="utf-8")
        os.replace(tmp, path)
    except OSError as exc:
        raise OutputError(f"cannot write {path}: {exc}") from None
