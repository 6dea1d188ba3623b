"""Publishing a results folder safely when several geosim processes write into one root.

A folder appears under its final name only once complete, and no two runs can end up sharing a
name or a staging area:

- a run first *claims* its name: a hidden `.<name>.claim` file beside the folder, locked with
  `flock`. The kernel drops the lock when the process dies, so a killed run never blocks a name.
  A claimed name is being written; a name whose folder exists is taken. Either refuses an
  explicit `--name`; an automatic name moves on to `<name>-2`, `<name>-3`, ...
- files are written into a private staging folder (`mkdtemp`, unique per process) and the folder
  is renamed into place while the claim is still held; the claim file is removed after that, so
  a process that grabs a stale claim afterwards sees the published folder and backs off.
"""

from __future__ import annotations

import errno
import fcntl
import os
import re
import shutil
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from sim.errors import OutputError, ResultsError

NAME_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9._+=-]{0,127}")
"""Folder names: a letter or digit first (no `.`, `..` or hidden names), no separators."""

MAX_AUTOMATIC_SUFFIX = 1000
"""Automatic names try `<id>-2` ... up to this before giving up (a runaway loop guard)."""


def check_folder_name(name: str) -> str:
    """Return `name` if it is a plain folder name inside the results root; else ResultsError."""
    if NAME_PATTERN.fullmatch(name) is None:
        raise ResultsError(
            f"--name {name!r}: expected a plain folder name (letters, digits and . _ + = -, "
            "starting with a letter or digit, at most 128 characters; no / or \\), "
            "so the run stays inside the results root"
        )
    return name


def claim_path(parent: Path, name: str) -> Path:
    """The lock file that marks `parent/name` as being written."""
    return parent / f".{name}.claim"


@dataclass
class Slot:
    """A claimed folder name: `final` does not exist and no other geosim process may write it."""

    parent: Path
    name: str
    handle: IO[str]

    @property
    def final(self) -> Path:
        """Where the folder will be published."""
        return self.parent / self.name


class _Busy(Exception):
    pass


def _try_claim(parent: Path, name: str) -> Slot:
    """Lock the claim of `name`; raise _Busy if another process holds it, FileExistsError if the
    folder is already published."""
    handle = claim_path(parent, name).open("a", encoding="utf-8")
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        handle.close()
        raise _Busy from None
    if (parent / name).exists():
        _release(Slot(parent, name, handle))
        raise FileExistsError(name)
    return Slot(parent, name, handle)


def _release(slot: Slot) -> None:
    with suppress(FileNotFoundError):
        claim_path(slot.parent, slot.name).unlink()
    slot.handle.close()  # closing drops the lock


def _make_parent(parent: Path) -> None:
    try:
        parent.mkdir(parents=True, exist_ok=True)
    except FileExistsError:
        raise ResultsError(f"{parent} exists and is not a folder; choose another --out") from None
    except OSError as exc:
        raise OutputError(f"cannot create results folder {parent}: {exc.strerror}") from None


@contextmanager
def claimed(parent: Path, name: str | None, automatic: str) -> Iterator[Slot]:
    """Claim `parent/name` (explicit: refuse if taken) or `automatic` (add a suffix if taken)."""
    _make_parent(parent)
    if name is not None:
        check_folder_name(name)
        try:
            slot = _try_claim(parent, name)
        except _Busy:
            raise ResultsError(
                f"--name {name!r}: {parent / name} is being written by another run"
            ) from None
        except FileExistsError:
            raise ResultsError(
                f"--name {name!r}: {parent / name} already exists; choose another name"
            ) from None
    else:
        slot = _claim_automatic(parent, automatic)
    try:
        yield slot
    finally:
        _release(slot)


def _claim_automatic(parent: Path, base: str) -> Slot:
    for k in range(1, MAX_AUTOMATIC_SUFFIX + 1):
        candidate = base if k == 1 else f"{base}-{k}"
        try:
            return _try_claim(parent, candidate)
        except (_Busy, FileExistsError):
            continue
    raise OutputError(f"no free folder name for {base!r} in {parent} after {k} tries")


def publish(slot: Slot, fill: Callable[[Path], None]) -> Path:
    """Stage a folder privately, let `fill` write it, then rename it to `slot.final`."""
    try:
        staging = Path(
            tempfile.mkdtemp(prefix=f".{slot.name}.", suffix=".partial", dir=slot.parent)
        )
    except OSError as exc:
        raise OutputError(f"cannot create a staging folder in {slot.parent}: {exc}") from None
    try:
        try:
            fill(staging)
        except OSError as exc:
            raise OutputError(f"cannot write results into {slot.parent}: {exc}") from None
        os.chmod(staging, 0o755)  # mkdtemp makes it private; a published folder is not
        _rename_into_place(staging, slot.final)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return slot.final


def _rename_into_place(staging: Path, final: Path) -> None:
    # The claim keeps other geosim runs away; this check guards against anything else.
    if final.exists():
        raise ResultsError(f"{final} appeared while the run was written; nothing was published")
    try:
        os.rename(staging, final)
    except OSError as exc:
        if exc.errno in (errno.ENOTEMPTY, errno.EEXIST):
            raise ResultsError(f"{final} appeared while the run was written") from None
        raise OutputError(f"cannot publish {final}: {exc.strerror}") from None
