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
- a run killed while staging leaves its hidden `.<name>.<random>.partial` folder behind; the
  next run that claims a name in the same folder removes every staging folder whose name's
  claim it can lock (its writer is dead: a live writer holds the claim until it publishes).

`try_lock` is the lock itself (also a sweep folder's, `sim.sweep_lock`): `flock` on a file
that the holder removes before it lets go, re-checked after locking so that a file removed
under a waiting process is never taken for the lock.
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

from sim.errors import OutputError, ResultsError, os_failure

NAME_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9._+=-]{0,127}")
"""Folder names: a letter or digit first (no `.`, `..` or hidden names), no separators."""

MAX_AUTOMATIC_SUFFIX = 1000
"""Automatic names try `<id>-2` ... up to this before giving up (a runaway loop guard)."""

STAGING_PATTERN = re.compile(r"\.(?P<name>.+)\.[a-z0-9_]{8}\.partial")
"""A staging folder `.<name>.<8 random characters of mkdtemp>.partial`."""

_LOCK_ATTEMPTS = 100
"""`try_lock` retries while the lock file is replaced under it (each retry means another
process released the lock meanwhile, so this bounds a livelock, not a wait)."""


def try_lock(path: Path) -> IO[str] | None:
    """Create (if need be), open and `flock` the file `path`; None if another process holds it.

    The kernel drops the lock when the holder dies, however it dies. A holder lets go by
    removing the file, then closing it (`unlock`); a process that opened the file before it was
    removed may then lock an inode no longer at `path`, so the lock counts only if `path` is
    still the file locked, else it starts again. OSError if the file cannot be created.
    """
    # O_NOFOLLOW: a symbolic link planted at `path` would otherwise have its target locked and
    # truncated (the holder writes its name into the lock file)
    flags = os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC
    for _ in range(_LOCK_ATTEMPTS):
        handle = os.fdopen(os.open(path, flags, 0o644), "r+", encoding="utf-8")
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.close()
            return None
        if _is_at(handle, path):
            return handle
        handle.close()
    raise OSError(errno.EAGAIN, f"{path} kept being replaced while it was locked")


def _is_at(handle: IO[str], path: Path) -> bool:
    try:
        now = os.stat(path)
    except FileNotFoundError:
        return False
    held = os.fstat(handle.fileno())
    return (held.st_dev, held.st_ino) == (now.st_dev, now.st_ino)


def unlock(path: Path, handle: IO[str]) -> None:
    """Release a lock from `try_lock`: remove its file first, so no one locks a stale file."""
    with suppress(FileNotFoundError):
        path.unlink()
    handle.close()  # closing drops the lock


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
    try:
        handle = try_lock(claim_path(parent, name))
    except OSError as exc:
        raise os_failure(exc, "claim a folder name in", parent) from None
    if handle is None:
        raise _Busy
    if (parent / name).exists():
        _release(Slot(parent, name, handle))
        raise FileExistsError(name)
    return Slot(parent, name, handle)


def _release(slot: Slot) -> None:
    unlock(claim_path(slot.parent, slot.name), slot.handle)


def clean_stale_staging(parent: Path) -> list[Path]:
    """Remove the staging folders in `parent` of runs that died before publishing them.

    A run holds its name's claim for as long as its staging folder lives, so a staging folder
    whose claim can be locked has no live writer (a run killed with SIGKILL, or on a machine
    that went down). Returns the folders removed; one that cannot be is left for next time.
    """
    removed: list[Path] = []
    for entry in sorted(parent.glob(".*.partial")):
        m = STAGING_PATTERN.fullmatch(entry.name)
        if m is None or NAME_PATTERN.fullmatch(m["name"]) is None or not entry.is_dir():
            continue  # not a staging folder geosim makes
        claim = claim_path(parent, m["name"])
        try:
            handle = try_lock(claim)
        except OSError:
            continue
        if handle is None:
            continue  # being written now: not stale
        try:
            shutil.rmtree(entry)
            removed.append(entry)
        except OSError:
            pass  # best effort: the run itself must not fail over someone else's leftovers
        finally:
            unlock(claim, handle)
    return removed


def _make_parent(parent: Path) -> None:
    try:
        parent.mkdir(parents=True, exist_ok=True)
    except FileExistsError:
        raise ResultsError(f"{parent} exists and is not a folder; choose another --out") from None
    except OSError as exc:
        raise os_failure(exc, "create results folder", parent) from None


@contextmanager
def claimed(parent: Path, name: str | None, automatic: str) -> Iterator[Slot]:
    """Claim `parent/name` (explicit: refuse if taken) or `automatic` (add a suffix if taken);
    first remove staging folders that killed runs left in `parent`."""
    _make_parent(parent)
    with suppress(OSError):
        clean_stale_staging(parent)
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
        raise os_failure(exc, "create a staging folder in", slot.parent) from None
    try:
        try:
            fill(staging)
        except OSError as exc:
            raise os_failure(exc, "write results into", slot.parent) from None
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
        raise os_failure(exc, "publish", final) from None
