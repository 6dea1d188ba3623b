"""Sensitivity of sweep outcomes to the swept parameters: Sobol indices or Morris screening.

`indices(design, Y)` turns one outcome's value at every design point into indices: for a
`sobol` design, first-order (S1) and total (ST) Sobol indices with bootstrap 95% intervals;
for a `morris` design, the elementary-effects statistics mu, mu* (with its interval) and sigma.
`analyse` reads a sweep folder, takes each design point's value of every outcome (a run-level
outcome: the mean over the point's successful replicates; a point-level custom outcome: its
column of points.parquet), calls `indices` and writes `sensitivity-<outcome>.csv` into the
folder. Every outcome name is checked before any is analysed.

Indices are computed in the unit cube the design sampled from (`Design.problem()`), not on the
scaled parameter values. For Sobol indices this changes nothing: they are shares of the
outcome's variance and are invariant under any monotone rescaling of an input, which is what
the scaling (uniform, loguniform, integer) is. For Morris it makes each elementary effect the
change per whole range of a parameter, so μ* can be compared across parameters of different
units.
"""

from __future__ import annotations

import difflib
import os
import warnings
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike

from sim.design import Design
from sim.errors import ResultsError, os_failure
from sim.results import reading
from sim.sweep_folder import SweepFolder
from sim.vocabulary import RUN_COLUMNS, RunStatus

__all__ = [
    "DEFAULT_OUTCOME",
    "MORRIS_COLUMNS",
    "POINT_COLUMNS",
    "SOBOL_COLUMNS",
    "analyse",
    "check_design_values",
    "check_outcomes",
    "compact_names",
    "indices",
    "point_means",
    "point_values",
    "salib_warning",
    "unknown_name",
]

SOBOL_COLUMNS = ["parameter", "S1", "S1_conf", "ST", "ST_conf"]
MORRIS_COLUMNS = ["parameter", "mu", "mu_star", "mu_star_conf", "sigma"]
SHOWN_RUNS = 20
"""Most run ids an error message lists."""
DEFAULT_OUTCOME = "mean_tilt@end"
"""What `geosim sensitivity` analyses when neither the command nor the design names outcomes."""
POINT_COLUMNS = ("point", "point_key")
"""Columns of the points table that are neither parameters nor outcomes."""


# --------------------------------------------------------------------------- names


def compact_names(names: Sequence[str]) -> str:
    """Names with a shared part folded: `tilt.{ARG,BOL,...}@end` (outcome lists are long)."""
    families: dict[tuple[str, str], list[str]] = {}
    for n in names:
        body, at, date = n.partition("@")
        head, dot, tail = body.rpartition(".")
        key = (head if dot else body, at + date)
        families.setdefault(key, []).append(tail if dot else "")
    parts = []
    for (head, date), tails in families.items():
        if tails == [""]:
            parts.append(head + date)
        elif len(tails) == 1:
            parts.append(f"{head}.{tails[0]}{date}")
        else:
            parts.append(f"{head}.{{{','.join(tails)}}}{date}")
    return ", ".join(parts)


def unknown_name(kind: str, name: str, valid: Sequence[str], compact: bool = False) -> ResultsError:
    """An error for an unknown parameter or outcome: closest valid names, then all of them."""
    return ResultsError(unknown_message(kind, name, valid, compact))


def unknown_message(kind: str, name: str, valid: Sequence[str], compact: bool = False) -> str:
    """`unknown <kind> 'name' (did you mean ...?); valid: ...`."""
    close = difflib.get_close_matches(name, valid, n=3, cutoff=0.6)
    if not close:
        # Paths are long; compare the last part too (`credibilty` -> rules.threats.credibility).
        tails = {v.rsplit(".", 1)[-1]: v for v in valid}
        close = [tails[t] for t in difflib.get_close_matches(name, list(tails), n=3, cutoff=0.6)]
    hint = f" (did you mean {' or '.join(map(repr, close))}?)" if close else ""
    shown = compact_names(valid) if compact else ", ".join(valid)
    return f"unknown {kind} {name!r}{hint}; valid: {shown}"


# --------------------------------------------------------------------------- indices


ODD_LEVELS = "num_levels should be an even number"
"""The start of SALib's warning about a Morris design with an odd `morris_levels`."""


def salib_warning(message: str, design: Design) -> str:
    """A warning SALib gave, in geosim's words (the design field it is about, what to do)."""
    if message.startswith(ODD_LEVELS):
        return (
            f"the design's morris_levels is {design.morris_levels}, an odd number: Morris "
            "trajectories on an odd number of levels may be biased (SALib); an even "
            "morris_levels (4 is usual) avoids it"
        )
    return f"the sensitivity library (SALib) warned: {message}"


@contextmanager
def _salib(design: Design) -> Iterator[list[str]]:
    """Collect the warnings SALib (and NumPy under it) gives in the block into the list it
    yields (filled when the block ends), once each and in geosim's words, instead of letting
    them print with SALib's file and line."""
    said: list[str] = []
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        yield said
    for w in caught:
        text = salib_warning(str(w.message), design)
        if text not in said:
            said.append(text)


def indices(design: Design, Y: ArrayLike) -> pd.DataFrame:
    """Sensitivity indices of one outcome from its value at each design point, in design order.

    Sobol designs give `SOBOL_COLUMNS`, Morris designs `MORRIS_COLUMNS`, one row per parameter.
    An outcome that does not vary at all has no defined Sobol indices (NaN, with
    `attrs["note"]` saying why); its Morris effects are all zero. Warnings SALib gave are in
    `attrs["warnings"]` (`salib_warning`), not printed.
    """
    if design.method not in ("sobol", "morris"):
        raise ResultsError(
            f"sensitivity analysis needs a sobol or morris design; this sweep's design is "
            f"{design.method!r} (use method: sobol or morris in a design file)"
        )
    y = np.asarray(Y, dtype=np.float64)
    n = design.point_count()
    if y.shape != (n,):
        raise ResultsError(f"expected one value per design point ({n}), got shape {y.shape}")
    if not np.isfinite(y).all():
        raise ResultsError(f"{int((~np.isfinite(y)).sum())} design point values are not finite")
    names = list(design.parameters)
    if np.ptp(y) == 0.0:
        return _constant_indices(design, names)
    sobol = design.method == "sobol"
    with _salib(design) as said:
        res = _sobol_analysis(design, y) if sobol else _morris_analysis(design, y)
    columns = SOBOL_COLUMNS if sobol else MORRIS_COLUMNS
    out = pd.DataFrame({c: (names if c == "parameter" else res[c]) for c in columns})
    out.attrs["warnings"] = said
    return out


def _constant_indices(design: Design, names: list[str]) -> pd.DataFrame:
    """Indices of an outcome that does not vary: Sobol's undefined (NaN), Morris's all zero;
    `attrs["note"]` says why."""
    if design.method == "sobol":
        nan = [np.nan] * len(names)
        out = pd.DataFrame(
            {"parameter": names, "S1": nan, "S1_conf": nan, "ST": nan, "ST_conf": nan}
        )
        out.attrs["note"] = "the outcome does not vary over the design: indices undefined"
        return out
    zero = [0.0] * len(names)
    out = pd.DataFrame(
        {"parameter": names, "mu": zero, "mu_star": zero, "mu_star_conf": zero, "sigma": zero}
    )
    out.attrs["note"] = "the outcome does not vary over the design"
    return out


def _sobol_analysis(design: Design, y: np.ndarray) -> Any:
    """SALib's first-order and total Sobol indices (SOBOL_COLUMNS) of a Saltelli sample."""
    from SALib.analyze import sobol

    # A Generator, not the int: SALib seeds its bootstrap only `if seed:`, so seed 0 (the
    # default) would give other intervals on every call. Same stream for other seeds.
    rng = np.random.default_rng(design.seed)
    return sobol.analyze(design.problem(), y, calc_second_order=False, seed=rng)


def _morris_analysis(design: Design, y: np.ndarray) -> Any:
    """SALib's elementary-effects statistics (MORRIS_COLUMNS) of Morris trajectories."""
    from SALib.analyze import morris

    x = design.unit_samples()  # the same trajectories the sweep ran (seeded sampler)
    return morris.analyze(design.problem(), x, y, num_levels=design.morris_levels, seed=design.seed)


# --------------------------------------------------------------------------- a sweep folder


def _runs_list(runs: Sequence[int]) -> str:
    shown = ", ".join(str(r) for r in runs[:SHOWN_RUNS])
    return shown + (f", ... ({len(runs)} in all)" if len(runs) > SHOWN_RUNS else "")


def point_means(runs: pd.DataFrame, design: Design, outcome: str) -> tuple[np.ndarray, int]:
    """Per design point, the outcome's mean over successful replicates; and the failed count.

    Raises ResultsError if the sweep is unfinished or a point has no successful replicate
    (naming the runs), since an index computed without that point would be wrong.
    """
    n_points = design.point_count()
    total = n_points * design.replicates
    if len(runs) < total:
        raise ResultsError(
            f"the sweep is unfinished: {len(runs)} of {total} runs done; run the same sweep "
            "command again to finish it"
        )
    ok = runs["status"] == RunStatus.OK
    failed = int((~ok).sum())
    values = runs[outcome].astype("Float64")  # booleans (expect.*) count as 0/1
    good = ok & values.notna()
    means = values[good].groupby(runs.loc[good, "point"]).mean().reindex(range(n_points))
    empty = set(np.flatnonzero(means.isna().to_numpy()).tolist())
    if empty:
        with_ok = set(runs.loc[ok, "point"].tolist())
        dead = sorted(empty - with_ok)
        if dead:
            bad = runs.loc[runs["point"].isin(dead), "run"].astype(int).tolist()
            raise ResultsError(
                f"{len(dead)} of {n_points} design points have no successful run, so indices "
                f"cannot be computed (failed runs {_runs_list(bad)}); rerun the sweep with "
                "--retry-failed (tracebacks in errors/)"
            )
        raise ResultsError(
            f"{len(empty)} of {n_points} design points have no value of {outcome} in any run; "
            "indices cannot be computed for it"
        )
    return means.to_numpy(dtype=np.float64), failed


def _atomic_csv(df: pd.DataFrame, path: Path) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        df.to_csv(tmp, index=False, lineterminator="\n", float_format="%.6g")
        os.replace(tmp, path)
    except BaseException as exc:
        tmp.unlink(missing_ok=True)
        if isinstance(exc, OSError):  # a read-only sweep folder, a full disk: exit 1
            raise os_failure(exc, "write", path) from None
        raise


def point_values(points: pd.DataFrame, design: Design, outcome: str) -> np.ndarray:
    """Per design point, a point-level outcome's value (points.parquet); ResultsError if a point
    has none (all its runs failed, or the expression has no value there)."""
    n_points = design.point_count()
    values = points.set_index("point")[outcome].astype("Float64").reindex(range(n_points))
    missing = np.flatnonzero(values.isna().to_numpy()).tolist()
    if missing:
        raise ResultsError(
            f"{len(missing)} of {n_points} design points have no value of {outcome} (points "
            f"{_runs_list(missing)}); indices cannot be computed for it"
        )
    return values.to_numpy(dtype=np.float64)


@dataclass(frozen=True)
class _Outcomes:
    """The outcome columns a finished sweep folder holds, run-level and point-level."""

    runs: pd.DataFrame
    points: pd.DataFrame
    design: Design
    runs_file: Path
    """Where the runs were read: runs.parquet, or the chunks folder of an unfinished sweep."""

    @property
    def run_level(self) -> list[str]:
        skip = {*RUN_COLUMNS, *self.design.parameters}
        return [str(c) for c in self.runs.columns if c not in skip]

    @property
    def point_level(self) -> list[str]:
        skip = {*POINT_COLUMNS, *self.design.parameters}
        return [str(c) for c in self.points.columns if c not in skip]

    def values(self, outcome: str) -> tuple[np.ndarray, int]:
        """The outcome's value per design point, and the failed runs left out."""
        if outcome in self.point_level:
            failed = int((self.runs["status"] != RunStatus.OK).sum())
            return point_values(self.points, self.design, outcome), failed
        return point_means(self.runs, self.design, outcome)


def check_outcomes(
    folder: SweepFolder, names: Sequence[str], origin: str = "--outcome"
) -> list[str]:
    """The valid outcome names of a sweep folder; ResultsError naming every unknown one in
    `names` with a guess (`origin` "design": located at sweep.json's design.outcomes)."""
    return _check(_folder_outcomes(folder), folder.path, names, origin)


def _check(data: _Outcomes, path: Path, names: Sequence[str], origin: str) -> list[str]:
    valid = [*data.run_level, *data.point_level]
    bad = [(i, n) for i, n in enumerate(names) if n not in valid]
    if bad:
        where = f"{path / 'sweep.json'}: design.outcomes"
        lines = [
            (f"{where}[{i}]: " if origin == "design" else "")
            + unknown_message("outcome", n, valid, compact=True)
            for i, n in bad
        ]
        raise ResultsError("\n".join(lines))
    return valid


def _folder_outcomes(sf: SweepFolder) -> _Outcomes:
    runs_file = sf.runs_source()
    with reading(sf.path):  # a missing or corrupt table is a bad folder (exit 2)
        design = sf.design()
        runs = sf.runs()
        points_file = sf.path / "points.parquet"
        points = sf.points() if points_file.exists() else pd.DataFrame(columns=list(POINT_COLUMNS))
    return _Outcomes(runs, points, design, runs_file)


def check_design_values(runs: pd.DataFrame, design: Design, where: Path) -> None:
    """ResultsError (exit 2) unless every run's parameter values are those its design point has
    in `design` rebuilt: indices use the design's own sample (Saltelli's, Morris trajectories),
    so a design edited in sweep.json (another seed, range or method) would give indices of
    values that were never run. Cheap: Sobol and Morris designs are thousands of points."""
    expected = pd.DataFrame(design.points(), columns=list(design.parameters))
    at = runs["point"].to_numpy(dtype=np.int64)
    for name in design.parameters:
        want = expected[name].to_numpy(dtype=np.float64)[at]
        got = runs[name].to_numpy(dtype=np.float64)
        off = np.flatnonzero(~np.isclose(got, want, rtol=1e-12, atol=0.0))
        if len(off):
            k = int(off[0])
            raise ResultsError(
                f"{where}: sweep.json's design does not match its runs: run "
                f"{int(runs['run'].iloc[k])} has {name} = {got[k]:.12g}, its design point "
                f"{int(at[k])} has {want[k]:.12g} (was the design edited after the sweep ran?)"
            )


def analyse(
    folder: str | Path | SweepFolder,
    outcomes: Sequence[str],
    write: bool = True,
    origin: str = "--outcome",
) -> pd.DataFrame:
    """Indices of each outcome of a Sobol or Morris sweep; writes `sensitivity-<outcome>.csv`.

    Every name is checked first (`check_outcomes`; `origin` says where the names come from).
    Returns one row per (outcome, parameter). `attrs` holds `method`, `failed` (failed runs,
    left out of the point means), `runs`, `files` (the CSVs written), `notes` (per outcome) and
    `warnings` (SALib's, in geosim's words, once each: the command prints them).
    """
    sf = folder if isinstance(folder, SweepFolder) else SweepFolder(Path(folder))
    design = sf.design()
    if design.method not in ("sobol", "morris"):
        raise ResultsError(
            f"sensitivity analysis needs a sobol or morris design; {sf.path} ran a "
            f"{design.method!r} design (use method: sobol or morris in a design file)"
        )
    if not outcomes:
        raise ResultsError("no outcome given")
    data = _folder_outcomes(sf)
    check_design_values(data.runs, design, data.runs_file)
    _check(data, sf.path, outcomes, origin)
    frames, files, notes = [], [], {}
    said: list[str] = []
    failed = 0
    for o in dict.fromkeys(outcomes):
        y, failed = data.values(o)
        table = indices(design, y)
        if "note" in table.attrs:
            notes[o] = str(table.attrs["note"])
        said += [w for w in table.attrs.get("warnings", []) if w not in said]
        if write:
            path = sf.path / f"sensitivity-{o}.csv"
            _atomic_csv(table, path)
            files.append(path)
        frames.append(table.assign(outcome=o))
    out = pd.concat(frames, ignore_index=True)
    out = out[["outcome", *[c for c in out.columns if c != "outcome"]]]
    out.attrs.update(
        method=design.method,
        failed=failed,
        runs=len(data.runs),
        files=files,
        notes=notes,
        warnings=said,
    )
    return out
