"""What every command shares: consoles, exit codes, error handling, options, progress bars."""

from __future__ import annotations

import errno
import re
import sys
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, NoReturn, Protocol

import click
from rich.console import Console
from rich.markup import escape

from sim.cli import reserve
from sim.errors import EnvironmentFailure, GeosimError, ScenarioError, os_reason

if TYPE_CHECKING:
    from sim.outcomes import OutcomeSpec
    from sim.scenario import LoadedScenario

err = Console(stderr=True, highlight=False, emoji=False)
out = Console(highlight=False, emoji=False)

EXIT_FAILED, EXIT_INPUT, EXIT_INTERNAL = 1, 2, 3
EXIT_INTERRUPTED = 130
"""128 + SIGINT, what shells report for a process stopped with Ctrl-C."""
DEFAULT_SCENARIO = "latam_2025"

scenario_arg = click.argument("scenario", required=False, default=DEFAULT_SCENARIO)
set_opt = click.option(
    "--set",
    "overrides",
    multiple=True,
    metavar="PATH=VALUE",
    help="Override a scenario value, e.g. rules.threats.credibility=0.5 (repeatable).",
)
seed_opt = click.option(
    "--seed",
    type=click.IntRange(min=0),
    default=None,
    help="Root seed (default: the scenario's time.seed).",
)
at_opt = click.option(
    "--at",
    "dates",
    multiple=True,
    metavar="YYYY-MM",
    help="Also compute the standard outcomes at this date, as `name@YYYY-MM` (repeatable).",
)
outcome_opt = click.option(
    "--outcome",
    "outcomes",
    multiple=True,
    metavar="NAME=EXPR",
    help="A custom outcome: a column NAME computed by the expression EXPR (repeatable).",
)


def checked_outcomes(
    loaded: LoadedScenario, dates: Sequence[str], outcomes: Sequence[str]
) -> OutcomeSpec:
    """The outcomes `--at` and `--outcome` ask for, checked against the scenario before anything
    runs (ScenarioError with one located problem each, as for a scenario)."""
    from sim.outcome_options import build_checked, option_locator, spec_from_options

    spec = spec_from_options(dates, outcomes)
    build_checked(loaded.scenario, spec, option_locator(outcomes))
    return spec


_INVISIBLE = re.compile(
    "[\x00-\x08\x0b-\x1f\x7f-\x9f\u200b-\u200f\u202a-\u202e\u2066-\u2069\ufeff]"
)
"""Characters a terminal would act on or hide rather than show: control characters, zero-width
ones and bidirectional overrides (which can make `--set a=1` read as something else)."""


def shown(text: str) -> str:
    """`text` for the terminal: invisible characters as `\\u202e` escapes, markup escaped."""
    return escape(_INVISIBLE.sub(lambda m: f"\\u{ord(m[0]):04x}", text))


def print_problems(exc: ScenarioError) -> None:
    """One `error:` line per problem (file:line:column: path: message)."""
    for p in exc.problems:
        err.print(f"[red]error[/red]: {shown(str(p))}", soft_wrap=True)


def fail_input(exc: GeosimError) -> NoReturn:
    """Report a library error (every problem of a scenario) and exit with its status."""
    if isinstance(exc, ScenarioError):
        n = len(exc.problems)
        print_problems(exc)
        err.print(f"{n} problem{'s' if n != 1 else ''} found; nothing was run.")
    else:
        err.print(f"[red]error[/red]: {shown(str(exc))}", soft_wrap=True)
    sys.exit(exc.exit_code)


@contextmanager
def handle_errors(ctx: click.Context) -> Iterator[None]:
    """Turn library errors into messages and exit codes (tracebacks only with --debug)."""
    debug = bool(ctx.find_root().params.get("debug"))
    try:
        yield
    except GeosimError as exc:
        if debug:
            err.print_exception()
        fail_input(exc)
    except KeyboardInterrupt:
        err.print("interrupted; no results were published.")
        sys.exit(EXIT_INTERRUPTED)
    except (click.exceptions.Exit, click.ClickException, click.Abort, SystemExit):
        raise
    except Exception as exc:
        if isinstance(exc, MemoryError):
            reserve.release()  # before anything else allocates: the report needs memory too
        if isinstance(exc, OSError) and exc.errno == errno.EPIPE:
            raise  # stdout closed early (`geosim schema | head`): click quietly exits itself
        failure = environment_failure(exc, ctx)
        if failure is not None:
            if debug:
                err.print_exception()
            fail_input(failure)
        if debug:
            raise
        err.print(
            f"[red]internal error[/red]: {type(exc).__name__}: {shown(str(exc))}", soft_wrap=True
        )
        err.print("This is a bug in geosim; rerun with --debug for a traceback and report it.")
        sys.exit(EXIT_INTERNAL)


def environment_failure(exc: BaseException, ctx: click.Context) -> EnvironmentFailure | None:
    """`exc` as an EnvironmentFailure (exit 1) if the machine failed rather than geosim or its
    input: the operating system refused (any OSError: no permission, disk full, file-size
    limit, not a folder, a scheduler out of reach) or a worker process was killed. Else None.

    Every OSError counts, though one could come from a path geosim built wrongly (a bug): an
    OSError does not say whose mistake it was, and reading the input's files maps its own
    (a missing scenario is bad input before it gets here). The message names the path, so
    such a bug still shows where it happened."""
    from concurrent.futures import BrokenExecutor

    resume = " Finished runs are saved: run the same command to resume."
    resume = resume if ctx.command.name == "sweep" else ""
    if isinstance(exc, OSError):
        return EnvironmentFailure(_os_message(exc, ctx))
    if isinstance(exc, MemoryError):  # the estimate let it start; the machine disagreed
        return EnvironmentFailure(reserve.OUT_OF_MEMORY + resume)
    if isinstance(exc, ImportError) and _LOADER_FAILURE.search(str(exc)):
        return EnvironmentFailure(
            f"could not load a compiled library: {exc}. The operating system refused to map "
            "it: memory or address space ran out (a limit such as `ulimit -v`), or the "
            "installation is damaged; nothing is wrong with the input." + resume
        )
    if isinstance(exc, BrokenExecutor):
        return EnvironmentFailure(
            "a worker process was terminated abruptly (killed by a signal, or by the kernel "
            "when memory ran out); nothing is wrong with the input." + resume
        )
    if type(exc).__name__ == "KilledWorker" and type(exc).__module__.startswith("distributed"):
        address = getattr(getattr(exc, "last_worker", None), "address", None)
        last = f"; the last was {address}" if address else ""
        return EnvironmentFailure(
            f"Dask workers died running a chunk (killed, or out of memory){last}." + resume
        )
    return None


_LOADER_FAILURE = re.compile(r"shared object|cannot allocate memory|\.so\b", re.IGNORECASE)
"""How the dynamic loader words a library it could not map (`failed to map segment from
shared object`); geosim's own lazy imports fail differently, and those stay bugs."""


def _raised_in(exc: BaseException, package: str) -> bool:
    """Whether `exc` passed through code of `package` (the innermost frames come last)."""
    tb = exc.__traceback__
    while tb is not None:
        if str(tb.tb_frame.f_globals.get("__name__", "")).startswith(package + "."):
            return True
        tb = tb.tb_next
    return False


_WRITE_ERRNOS = {errno.ENOSPC, errno.EFBIG, errno.EDQUOT, errno.EROFS}
"""Errors only a write gets: without a file name (pyarrow gives none), the output is named."""


def _os_message(exc: OSError, ctx: click.Context) -> str:
    """`path: reason`, with what is known of the path or address when the OS gave none."""
    reason = os_reason(exc)
    if exc.filename is not None:
        names = (str(n) for n in (exc.filename, exc.filename2) if n is not None)
        return f"{' -> '.join(names)}: {reason}"
    scheduler = ctx.params.get("scheduler")
    if scheduler and _raised_in(exc, "distributed"):
        return f"Dask scheduler {scheduler}: {reason}"
    output = next((ctx.params[k] for k in ("out_dir", "out_path") if ctx.params.get(k)), None)
    if exc.errno in _WRITE_ERRNOS and output is not None:
        return f"cannot write under {output}: {reason}"
    return reason


def load(scenario: str, overrides: tuple[str, ...], quiet: bool = False) -> LoadedScenario:
    """Load a scenario with `--set` overrides, logging each as `path: old -> new` on stderr."""
    from sim.scenario import load_scenario

    loaded = load_scenario(scenario, overrides)
    if not quiet:
        log_overrides(loaded.overrides)
    return loaded


def log_overrides(overrides: Sequence[Mapping[str, Any]]) -> None:
    """One `override path: old -> new` line per `--set` on stderr, as the user typed it."""
    from sim.scenario import yaml_repr

    for o in overrides:
        old = yaml_repr(o["old"]) + (" (default)" if o.get("default") else "")
        err.print(shown(f"override {o['path']}: {old} -> {yaml_repr(o['new'])}"), soft_wrap=True)


def print_warning(text: str) -> None:
    """A `warning:` line on stderr (the exit status does not change)."""
    err.print(f"[yellow]warning[/yellow]: {shown(text)}", soft_wrap=True)


def command_line() -> list[str]:
    """The command as typed, for manifests."""
    return ["geosim", *sys.argv[1:]]


class Update(Protocol):
    """A progress callback: runs or replicates done so far, and how many failed."""

    def __call__(self, done: int, failed: int = 0) -> None: ...


def _silent(done: int, failed: int = 0) -> None:
    pass


def progress_bar(
    total: int, label: str, *, failures: bool = False, quiet: bool = False
) -> tuple[Update, Callable[[], None]]:
    """A progress bar on stderr when it is a terminal, `(update, stop)`; silent otherwise.

    With `failures` it also shows the failed count (sweeps). `stop` may be called repeatedly.
    """
    if quiet or not err.is_terminal or (total <= 1 and not failures):
        return _silent, (lambda: None)
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    counts = [TextColumn("{task.fields[failed]} failed")] if failures else []
    bar = Progress(
        f"[bold]{label}",
        BarColumn(),
        MofNCompleteColumn(),
        *counts,
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        console=err,
        transient=True,
    )
    task = bar.add_task(label, total=total, failed=0)
    bar.start()
    stopped = False

    def update(done: int, failed: int = 0) -> None:
        bar.update(task, completed=done, failed=failed)

    def stop() -> None:
        nonlocal stopped
        if not stopped:
            bar.stop()
            stopped = True

    return update, stop
