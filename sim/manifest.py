"""The run manifest: its schema, reading it safely, and checking a folder's files against it.

A manifest is input like a scenario: it may have been edited, truncated or replaced by the
time it is read back. So it is read from a regular file only, under a size limit, and validated
field by field (its scenario like any scenario); its `outputs` may name only the fixed data
files, so nothing in it can point a reader outside the folder.
"""

from __future__ import annotations

import difflib
import hashlib
import json
import os
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    ConfigDict,
    Field,
    JsonValue,
    ValidationError,
    ValidationInfo,
    field_validator,
)

from sim.errors import Problem, ResultsError, ScenarioError, os_reason, read_failure
from sim.loader import dotted
from sim.regular_files import NotRegularFile, open_regular, read_regular
from sim.results_format import FORMAT_HISTORY, FORMAT_VERSION, RUN_TABLES, TABLES
from sim.scenario import Frozen, Scenario, scenario_from_dict, yaml_repr
from sim.schema.base import kind_of

if TYPE_CHECKING:
    from sim.outcomes import OutcomeProblem, OutcomeSpec

DATA_FILES = tuple(f"{t}.{ext}" for t in RUN_TABLES for ext in ("parquet", "csv"))
"""The names a run folder's data files may have, in the order they are written and reported:
each table as Parquet (always written) and as CSV (with `--csv`)."""
REQUIRED_FILES = tuple(TABLES[t].file for t in RUN_TABLES)
"""The data files every run folder has: each table's Parquet file."""
MANIFEST = "manifest.json"
MAX_MANIFEST_BYTES = 16 * 1024 * 1024
"""Far above any real manifest (the baseline's is ~50 kB); bounds what a bad file can cost."""


class ManifestError(ScenarioError):
    """A run manifest is malformed; holds every problem found (the CLI exits with status 2)."""


# --------------------------------------------------------------------------- the schema


def _short(value: object) -> str:
    """A value from the file as written (null, true, 'text'), cut short so that one bad entry
    cannot flood the terminal."""
    text = yaml_repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _data_file(name: str) -> str:
    if name not in DATA_FILES:
        expected = ", ".join(DATA_FILES)
        raise ValueError(f"unknown data file {_short(name)} (expected one of: {expected})")
    return name


def _digest(text: str) -> str:
    if len(text) != 64 or any(c not in "0123456789abcdef" for c in text):
        raise ValueError(f"expected a SHA-256 digest (64 lowercase hex digits), got {_short(text)}")
    return text


def _timestamp(text: str) -> str:
    try:
        datetime.fromisoformat(text)
    except ValueError:
        raise ValueError(f"expected an ISO 8601 time, got {_short(text)}") from None
    return text


def _outcome_date(text: str) -> str:
    from sim.outcomes.spec import check_date

    return check_date(text)


def _outcome_name(text: str) -> str:
    from sim.outcomes.spec import check_name

    return check_name(text)


DataFileName = Annotated[str, AfterValidator(_data_file)]
Digest = Annotated[str, AfterValidator(_digest)]
Seed = Annotated[int, Field(ge=0, lt=2**64)]


class _Strict(Frozen):
    """Frozen, no unknown keys, and no coercion: a manifest is machine-written JSON."""

    model_config = ConfigDict(strict=True)


class Override(_Strict):
    """One `--set` override as it was applied to the scenario."""

    path: str
    """Dotted scenario path the override set, e.g. `rules.threats.credibility`."""
    old: JsonValue
    """The value before the override (null if the path had none)."""
    new: JsonValue
    """The value the override set."""
    default: bool = False
    """True when `old` is the schema's default rather than a value written in a file."""


class RecordedOutcomes(_Strict):
    """The outcomes a run asked for (`--at`, `--outcome`): `sim.outcomes.OutcomeSpec` as JSON."""

    # Checked here item by item, as `OutcomeSpec` checks them, so that a bad entry is this
    # file's problem (`outcomes.dates[0]: ...`) rather than an error building the spec.
    dates: list[Annotated[str, AfterValidator(_outcome_date)]] = Field(default_factory=list)
    """Extra outcome dates (`YYYY-MM`) besides the end."""
    custom: dict[Annotated[str, AfterValidator(_outcome_name)], str] = Field(default_factory=dict)
    """Custom outcomes, name -> expression."""


class Manifest(_Strict):
    """What `geosim run` records next to its data files: enough to re-run and check them."""

    format_version: Literal[3]
    """Results format version (`sim.results_format.FORMAT_VERSION`) the folder is written in."""
    scenario_name: str
    """`meta.name` of the scenario (the results subfolder)."""
    scenario_files: list[str]
    """The scenario file loaded first, then the files it extends (empty for in-memory runs)."""
    overrides: list[Override]
    """Applied `--set` overrides, in order."""
    resolved_scenario: Scenario
    """The scenario after `extends` and overrides: what actually ran."""
    root_seed: Annotated[int, Field(ge=0)]
    """Root seed the replicate seeds were derived from."""
    replicates: Annotated[int, Field(ge=1)]
    """Number of replicates."""
    seeds: list[Seed]
    """Per-replicate seeds, one per replicate (derived from `root_seed`)."""
    outcomes: RecordedOutcomes
    """Outcomes asked for besides the standard ones (re-used by `geosim reproduce`)."""
    versions: dict[str, str]
    """Python and package versions that shape results."""
    git_sha: str | None
    """Commit of the geosim source (`+dirty` if modified), or null outside a git checkout."""
    command: list[str]
    """The command line that made the run."""
    created: Annotated[str, AfterValidator(_timestamp)]
    """When the run was written (ISO 8601, UTC)."""
    seconds: dict[str, Annotated[float, Field(ge=0, allow_inf_nan=False)]]
    """Wall time of the run's phases."""
    outputs: dict[DataFileName, Digest]
    """SHA-256 of each data file written, by file name."""

    @field_validator("seeds")
    @classmethod
    def _one_seed_per_replicate(cls, seeds: list[int], info: ValidationInfo) -> list[int]:
        n = info.data.get("replicates")
        if n is not None and len(seeds) != n:
            raise ValueError(
                f"{len(seeds)} seeds given but replicates is {n} (one seed per replicate expected)"
            )
        return seeds

    def outcome_spec(self) -> OutcomeSpec:
        """The recorded outcomes as the spec `sim.runner.run` takes."""
        from sim.outcomes import OutcomeSpec

        return OutcomeSpec(dates=tuple(self.outcomes.dates), custom=dict(self.outcomes.custom))


# --------------------------------------------------------------------------- reading


class _Refused(ValueError):
    """JSON that parses but is refused (duplicate keys, NaN): reported as given."""


def read_limited(path: Path, limit: int) -> bytes:
    """Bytes of a regular file of at most `limit` bytes, else ResultsError saying why."""
    try:
        data = read_regular(path, limit)
    except NotRegularFile as exc:
        raise ResultsError(f"{path}: {exc}") from None
    except OSError as exc:
        bad = ResultsError(f"{path}: cannot be read ({os_reason(exc)})")
        raise read_failure(exc, path, bad) from None
    if len(data) > limit:
        raise ResultsError(f"{path}: larger than {limit} bytes; not a file geosim wrote")
    return data


def read_manifest(path: str | Path) -> Manifest:
    """Read and validate a manifest file; ManifestError lists every problem, ResultsError if
    the file cannot be read as one."""
    p = Path(path)
    return validate_manifest(_load_json(p), str(p))


def _load_json(path: Path) -> object:
    where = str(path)

    def fail(message: str, line: int = 0, column: int = 0) -> ManifestError:
        return ManifestError([Problem(where, line, column, "", message)])

    raw = read_limited(path, MAX_MANIFEST_BYTES)
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise fail(f"not UTF-8 text (bad byte at offset {exc.start})") from None
    try:
        return json.loads(text, parse_constant=_no_constant, object_pairs_hook=_unique_keys)
    except json.JSONDecodeError as exc:
        raise fail(f"not valid JSON: {exc.msg}", exc.lineno, exc.colno) from None
    except _Refused as exc:
        raise fail(f"not valid JSON: {exc}") from None
    except RecursionError:
        raise fail("not valid JSON: nested too deeply") from None
    except ValueError:  # Python refuses integers of more than 4300 digits
        raise fail("not valid JSON: a number has too many digits") from None


def _no_constant(name: str) -> Any:
    raise _Refused(f"{name} is not a JSON number")


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            raise _Refused(f"duplicate key {_short(key)}")
        out[key] = value
    return out


def validate_manifest(data: object, where: str = MANIFEST) -> Manifest:
    """Validate manifest JSON data; `where` names the file in messages."""
    if not isinstance(data, dict):
        raise ManifestError(
            [Problem(where, 0, 0, "", f"expected a JSON object, got {kind_of(data, 'an object')}")]
        )
    # Checked first: any other JSON object (a sweep.json, say) would get a screenful of errors,
    # and a folder in another results format must be refused before any of it is read.
    check_format(data, where)
    scenario, scenario_problems = _scenario(data.get("resolved_scenario"), where)
    given = dict(data)
    if scenario is not None:
        given["resolved_scenario"] = scenario  # validated once, with the scenario's own messages
    elif scenario_problems:
        # Left out so that validation fails (a scenario that is schema-valid but has broken
        # references would pass) without repeating the scenario's problems in pydantic's words.
        del given["resolved_scenario"]
    try:
        manifest = Manifest.model_validate(given)
    except ValidationError as exc:
        problems = _problems(exc, where)
    else:
        _check_outcomes(manifest, where)
        return manifest
    if scenario_problems:
        problems = [p for p in problems if p.path != "resolved_scenario"]
    raise ManifestError(problems + scenario_problems)


def _check_outcomes(m: Manifest, where: str) -> None:
    """ManifestError if the recorded outcomes do not fit the recorded scenario (an expression
    that does not compile, a date outside the horizon): found here, they are this file's
    problems, not a failure of the re-run that would use them."""
    from sim.outcomes import OutcomeError, OutcomeSet

    try:
        OutcomeSet.build(m.resolved_scenario, m.outcome_spec())
    except OutcomeError as exc:
        raise ManifestError([_outcome_problem(p, where) for p in exc.problems]) from None


def _outcome_problem(p: OutcomeProblem, where: str) -> Problem:
    """An outcome problem as this file's: the spec's dates are the file's, in its order, so a
    date problem's index is the entry's in `outcomes.dates`."""
    at = f"column {p.column}: " if p.column is not None else ""
    path = p.path if p.index is None else f"{p.path}[{p.index}]"
    return Problem(where, 0, 0, path, at + p.message)


class UnsupportedFormat(ResultsError):
    """A results folder written in another results format than this geosim reads (exit 2)."""


def folder_format(data: dict[str, Any]) -> int | None:
    """The results format a manifest says its folder is in: `format_version`, 1 for the marker
    of manifests written before it existed, None if it is not a geosim run manifest."""
    version = data.get("format_version")
    if isinstance(version, int) and not isinstance(version, bool):
        return version
    if "format_version" not in data and data.get("geosim_manifest") == 1:
        return 1
    return None


def check_format(data: dict[str, Any], where: str) -> None:
    """UnsupportedFormat if the manifest `where` is of a folder in another results format;
    ManifestError if it is no geosim run manifest at all."""
    version = folder_format(data)
    if version is None:
        msg = (
            f"expected {FORMAT_VERSION}, got {_short(data.get('format_version'))} "
            "(not a geosim run manifest)"
        )
        raise ManifestError([Problem(where, 0, 0, "format_version", msg)])
    if version == FORMAT_VERSION:
        return
    folder = Path(where).parent if Path(where).name == MANIFEST else Path(where)
    was = FORMAT_HISTORY.get(version, "a format this geosim does not know (a newer geosim?)")
    command = data.get("command")
    rerun = (
        f": `{' '.join(map(str, command))}`"
        if isinstance(command, list) and command
        else " (its manifest's `command`)"
    )
    raise UnsupportedFormat(
        f"{folder}: written in results format {version} ({was}); this geosim reads format "
        f"{FORMAT_VERSION} only and does not read the folder. To get it in format "
        f"{FORMAT_VERSION}, re-run its command with this geosim{rerun}"
    )


def _scenario(value: object, where: str) -> tuple[Scenario | None, list[Problem]]:
    """Validate the resolved scenario as a scenario file is validated (schema and references)."""
    if not isinstance(value, dict):
        return None, []  # the manifest schema reports a missing or non-object scenario
    try:
        return scenario_from_dict(value, where).scenario, []
    except ScenarioError as exc:
        return None, [
            Problem(where, 0, 0, _join("resolved_scenario", p.path), p.message)
            for p in exc.problems
        ]


def _join(prefix: str, path: str) -> str:
    if not path:
        return prefix
    return prefix + path if path.startswith("[") else f"{prefix}.{path}"


def _problems(exc: ValidationError, where: str) -> list[Problem]:
    """Pydantic's errors as `manifest.json: field.path: message`, in the user's terms."""
    out = []
    for err in exc.errors(include_url=False):
        loc = list(err["loc"])
        msg = err["msg"].removeprefix("Value error, ")
        given = err.get("input")
        if loc[-1:] == ["[key]"]:
            loc = loc[:-2]  # the key itself is named in the message
        elif err["type"] == "missing":
            msg = "required field is missing"
        elif err["type"] == "extra_forbidden":
            msg = "unknown field" + _did_you_mean(loc)
        elif err["type"] in ("model_type", "dict_type", "list_type"):
            wanted = "a list" if err["type"] == "list_type" else "an object"
            msg = f"expected {wanted}, got {kind_of(given, 'an object')}"
        elif _is_scalar(given) and _short(given) not in msg:
            msg += f" (got {_short(given)})"
        out.append(Problem(where, 0, 0, dotted(tuple(loc)), msg))
    return out


def _is_scalar(value: object) -> bool:
    return value is None or isinstance(value, str | int | float | bool)


def _did_you_mean(loc: list[int | str]) -> str:
    model = Override if loc[:1] == ["overrides"] else Manifest
    fields = list(model.model_fields)
    close = difflib.get_close_matches(str(loc[-1]), fields, n=1, cutoff=0.6)
    return f"; did you mean {close[0]!r}?" if close else f" (expected one of: {', '.join(fields)})"


# --------------------------------------------------------------------------- checking a folder


def sha256(path: Path) -> str:
    """Hex digest of a regular file's bytes (NotRegularFile for a FIFO, device or folder)."""
    h = hashlib.sha256()
    with open_regular(path) as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


class Status(StrEnum):
    """How a data file compares with its manifest."""

    IDENTICAL = "identical"
    """The folder's copy matches the manifest (and so does the re-run's, if there was one)."""
    ALTERED = "ALTERED"
    """The folder's copy no longer matches the manifest (or is not listed in it)."""
    MISSING = "MISSING"
    """The file is not in the folder."""
    DIFFERENT = "DIFFERENT"
    """The folder's copy matches, but the re-run produced different bytes."""


@dataclass(frozen=True)
class FileCheck:
    """One data file's status, with why when it is not identical."""

    name: str
    """Data file name, e.g. `runs.parquet`."""
    status: Status
    """How it compares."""
    note: str = ""
    """Why, in words, when it is not identical."""


@dataclass(frozen=True)
class Report:
    """Every data file of a run folder checked against its manifest (and maybe a re-run)."""

    folder: Path
    """The run folder checked."""
    files: tuple[FileCheck, ...]
    """One entry per data file checked, in `DATA_FILES` order."""

    @property
    def ok(self) -> bool:
        """True when every data file is identical."""
        return all(f.status is Status.IDENTICAL for f in self.files)

    def count(self, status: Status) -> int:
        """How many files have `status`."""
        return sum(f.status is status for f in self.files)


def verify_folder(folder: str | Path, manifest: Manifest | None = None) -> Report:
    """Hash the folder's data files against its manifest (read from the folder if not given):
    every file the manifest lists, every required Parquet table (MISSING if absent), and any
    other data file in the folder (ALTERED: not listed)."""
    path = Path(folder)
    m = manifest if manifest is not None else read_manifest(path / MANIFEST)
    names = [
        name
        for name in DATA_FILES
        if name in REQUIRED_FILES or name in m.outputs or os.path.lexists(path / name)
    ]
    return Report(path, tuple(_check(path / name, m.outputs.get(name)) for name in names))


def _check(path: Path, digest: str | None) -> FileCheck:
    name = path.name
    if not os.path.lexists(path):
        note = "not in the folder" + ("" if digest else ", nor listed in the manifest")
        return FileCheck(name, Status.MISSING, note)
    if digest is None:
        return FileCheck(name, Status.ALTERED, "in the folder but not listed in the manifest")
    try:
        same = sha256(path) == digest
    except NotRegularFile as exc:
        return FileCheck(name, Status.ALTERED, f"not a regular file ({exc.kind})")
    except OSError as exc:
        return FileCheck(name, Status.ALTERED, f"cannot be read: {os_reason(exc)}")
    if same:
        return FileCheck(name, Status.IDENTICAL)
    return FileCheck(name, Status.ALTERED, "the folder's copy no longer matches its manifest")


def with_rerun(report: Report, manifest: Manifest, rerun: Path) -> Report:
    """Add a re-run's verdict: files the re-run wrote are compared with the manifest's digests."""
    return Report(report.folder, tuple(_rerun(f, manifest, rerun) for f in report.files))


def _rerun(check: FileCheck, manifest: Manifest, rerun: Path) -> FileCheck:
    digest = manifest.outputs.get(check.name)
    if digest is None:
        return check  # nothing recorded to compare the re-run with
    same = sha256(rerun / check.name) == digest
    if check.status is Status.IDENTICAL and same:
        return check
    if check.status is Status.IDENTICAL:
        return FileCheck(check.name, Status.DIFFERENT, "the re-run differs from the manifest")
    verdict = "the re-run matches the manifest" if same else "the re-run differs too"
    return FileCheck(check.name, check.status, f"{check.note}; {verdict}")
