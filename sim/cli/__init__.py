"""The `geosim` command: parse arguments, call the library, map errors to exit codes.

Exit status: 0 success; 1 a check or reproduction failed; 2 bad input (scenario, override,
results folder, usage); 3 an internal error (a bug: please report it, rerun with --debug).

One module per group of commands: `runs` (run, check, reproduce), `scenarios` (validate,
sources, schema, list), `plot`, `sweeps` (sweep, sensitivity), `calibrate`, `backcast`
(backcast-blocs), `history` (backtest), `propagation` (the `--propagate` options); `common`
holds what they share.
The library is imported inside each command, so `geosim --help` does not load the model.
"""

from __future__ import annotations

import click

from sim.cli.backcast import backcast_blocs
from sim.cli.calibrate import calibrate
from sim.cli.history import backtest
from sim.cli.plot import plot
from sim.cli.runs import check, reproduce, run
from sim.cli.scenarios import list_cmd, schema_cmd, sources, validate
from sim.cli.sweeps import sensitivity, sweep

__all__ = ["main"]


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.option("--debug", is_flag=True, help="Show tracebacks instead of short error messages.")
@click.version_option(package_name="geosim", prog_name="geosim")
def main(debug: bool) -> None:
    """Simulate geopolitical influence from scenario files.

    Run `geosim run` for the article baseline; `geosim COMMAND --help` for each command.
    """


COMMANDS = (
    run,
    check,
    reproduce,
    validate,
    sources,
    schema_cmd,
    list_cmd,
    plot,
    sweep,
    sensitivity,
    calibrate,
    backcast_blocs,
    backtest,
)
for _command in COMMANDS:
    main.add_command(_command)
