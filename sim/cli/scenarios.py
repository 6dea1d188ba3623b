"""`geosim validate`, `sources`, `schema` and `list`: look at scenarios without running them."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING

import click
from rich.table import Table

from sim.cli.common import (
    DEFAULT_SCENARIO,
    EXIT_INPUT,
    err,
    handle_errors,
    out,
    print_problems,
    print_warning,
    set_opt,
)
from sim.errors import ScenarioError

if TYPE_CHECKING:
    from sim.scenario import LoadedScenario


def print_warnings(loaded: LoadedScenario) -> None:
    """One `warning:` line per implausible value the scenario was accepted with (stderr; the
    exit status does not change)."""
    for w in loaded.warnings:
        print_warning(str(w))


@click.command()
@click.argument("files", nargs=-1, required=True)
@set_opt
@click.pass_context
def validate(ctx: click.Context, files: tuple[str, ...], overrides: tuple[str, ...]) -> None:
    """Validate scenario FILES; report every problem with file:line:column (exit 2 if any).

    Implausible values (outside a soft bound: a GDP below any economy's, trade many times GDP,
    a tilt level outside [-1, 1]) are accepted with a warning that says why."""
    with handle_errors(ctx):
        from sim.scenario import load_scenario

        bad = 0
        for f in files:
            try:
                loaded = load_scenario(f, overrides)
            except ScenarioError as exc:
                bad += 1
                print_problems(exc)
                continue
            s = loaded.scenario
            out.print(
                f"ok: {f} ({len(s.states)} states, {len(s.powers)} powers, "
                f"{len(s.blocs)} blocs, {len(s.events)} events, {len(s.expect)} expectations)",
                soft_wrap=True,
            )
            print_warnings(loaded)
        if bad:
            err.print(f"{bad} of {len(files)} file(s) invalid.")
            sys.exit(EXIT_INPUT)


@click.command()
@click.argument("scenario", required=False, default=DEFAULT_SCENARIO)
@click.option("--unsourced", is_flag=True, help="List only numbers without a source.")
@click.pass_context
def sources(ctx: click.Context, scenario: str, unsourced: bool) -> None:
    """Print every number in SCENARIO with its source; flag the unsourced and the estimates."""
    with handle_errors(ctx):
        from sim.loader import dotted, iter_numbers, unwrap_sources
        from sim.scenario import load_scenario

        loaded = load_scenario(scenario)
        plain, cited = unwrap_sources(loaded.tree)
        catalogue = loaded.scenario.meta.sources
        t = Table(title=f"values in {loaded.files[0]}")
        for col in ("path", "value", "source", "kind"):
            t.add_column(col)
        missing = estimates = total = 0
        for path, value in iter_numbers(plain):
            if path[:1] == ("meta",):
                continue
            total += 1
            src = cited.get(path)
            kind = catalogue[src].kind if src in catalogue else ""
            if src is None:
                missing += 1
            elif kind == "estimate":
                estimates += 1
            if unsourced and src is not None:
                continue
            shown = "[red]UNSOURCED[/red]" if src is None else src
            t.add_row(dotted(path), f"{value:g}", shown, kind)
        out.print(t)
        out.print(
            f"{total} numbers: {total - missing} sourced ({estimates} estimates), "
            f"{missing} unsourced."
        )


@click.command(name="schema")
@click.option("--out", "out_path", type=click.Path(dir_okay=False, path_type=Path), default=None)
@click.option(
    "--results",
    is_flag=True,
    help="The results format reference (docs/results-format.md) instead of the scenario one.",
)
@click.pass_context
def schema_cmd(ctx: click.Context, out_path: Path | None, results: bool) -> None:
    """Print the scenario format reference (generated from the schema), or with --results the
    results format reference (generated from sim.results_format)."""
    with handle_errors(ctx):  # its own context: a failed write names --out
        if results:
            from sim.results_reference import results_reference

            text = results_reference()
        else:
            from sim.reference import scenario_reference

            text = scenario_reference()
        if out_path is None:
            click.echo(text)
        else:
            from sim.results import atomic_write_text

            atomic_write_text(out_path, text)


@click.command(name="list")
@click.pass_context
def list_cmd(ctx: click.Context) -> None:
    """List the scenarios shipped with geosim."""
    from sim.scenario import builtin_scenarios_dir

    with handle_errors(ctx):
        for p in sorted(builtin_scenarios_dir().glob("*.yaml")):
            out.print(f"{p.stem:45s} {p}")
