"""The `geosim` command: parse arguments, call the library, map errors to exit codes.

Exit status: 0 success; 1 a check or reproduction failed, or the environment failed (a
results folder not writable, a full disk or a file-size limit, `--out` not a folder, a Dask
scheduler out of reach, a worker process killed: the message names the path or address and
the operating system's reason); 2 bad input (scenario, override, design, usage, or a results
folder the user named with a file missing or corrupt, work estimated beyond the machine's
memory, a sweep folder another sweep is writing); 3 an internal error (a bug: please report
it, rerun with --debug); 130 interrupted (Ctrl-C, SIGTERM or SIGHUP; a sweep resumes).
`sim.cli.common.handle_errors` maps errors to these.

One module per group of commands: `runs` (run, check, reproduce), `scenarios` (validate,
sources, schema, list), `plot`, `sweeps` (sweep, sensitivity), `calibrate`, `backcast`
(backcast-blocs), `history` (backtest), `propagation` (the `--propagate` options); `common`
holds what they share.
The library is imported inside each command, so `geosim --help` does not load the model.
"""

from __future__ import annotations

import io
import os
import signal
import sys
import threading
from typing import Any

import click

from sim.cli import reserve
from sim.cli.backcast import backcast_blocs
from sim.cli.calibrate import calibrate
from sim.cli.common import EXIT_FAILED, handle_errors
from sim.cli.history import backtest
from sim.cli.plot import plot
from sim.cli.runs import check, reproduce, run
from sim.cli.scenarios import list_cmd, schema_cmd, sources, validate
from sim.cli.sweeps import sensitivity, sweep

__all__ = ["entry", "main"]


class _Commands(click.Group):
    """The command group: an error that escapes a command still gets a message and an exit
    code. Every command handles its errors itself, with its own context (so that a failure
    can name the command's `--out`); this is the net under a command added without that."""

    def invoke(self, ctx: click.Context) -> Any:
        with handle_errors(ctx):
            return super().invoke(ctx)


def _print_anything() -> None:
    """Scenario text is Unicode; a terminal or pipe set to ASCII (`PYTHONIOENCODING=ascii`,
    a C locale) shows what it cannot encode as `\\u2026` escapes rather than failing."""
    for stream in (sys.stdout, sys.stderr):
        if isinstance(stream, io.TextIOWrapper):
            stream.reconfigure(errors="backslashreplace")


def _survive_file_size_limit() -> None:
    """Past `ulimit -f` the kernel sends SIGXFSZ, whose default action kills the process
    without a word. Ignored (as CPython does at start-up, made sure of here), the write fails
    with EFBIG instead and is reported as exit 1 naming the file."""
    if hasattr(signal, "SIGXFSZ") and threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)


@click.group(
    cls=_Commands,
    context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100},
)
@click.option("--debug", is_flag=True, help="Show tracebacks instead of short error messages.")
@click.version_option(package_name="geosim", prog_name="geosim")
def main(debug: bool) -> None:
    """Simulate geopolitical influence from scenario files.

    Run `geosim run` for the article baseline; `geosim COMMAND --help` for each command.
    """
    _survive_file_size_limit()
    _print_anything()


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


def entry() -> None:
    """The process's entry point (`geosim`, `python -m sim`): `main`, with memory held back
    for reporting that memory ran out. Should the report itself run out (a MemoryError in
    click's teardown, or in rich), the sentence is written as bytes encoded in advance."""
    reserve.hold()
    ran_out = False
    try:
        main()
    except MemoryError:
        ran_out = True  # reported below, once the handler has let go of the traceback's frames
    if ran_out:
        reserve.release()
        os.write(2, reserve.LAST_WORDS)
        sys.exit(EXIT_FAILED)
