"""One sweep at a time writes a sweep folder: the folder's lock.

The lock is an `flock` on `.sweep.lock` (`sim.publish.try_lock`), which the kernel releases
when its holder dies however it dies, so a killed sweep never leaves its folder locked. The
holder writes its process, host, start time and command into the file, so that a sweep refused
the folder can say who has it.
"""

from __future__ import annotations

import json
import os
import socket
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sim.errors import ResultsError, os_failure
from sim.publish import try_lock, unlock

LOCK_FILE = ".sweep.lock"
"""The lock a sweep holds on its folder while it writes there (its holder written inside)."""

HOLDER_WAITS = 50
"""Times (HOLDER_POLL_SECONDS apart) a refused sweep reads the lock file again for its
holder's name."""

HOLDER_POLL_SECONDS = 0.02
"""Seconds between those reads: the holder writes its name just after it takes the lock, so
a second at most (HOLDER_WAITS of these) is ample, and short enough to keep a refusal quick."""


class SweepBusy(ResultsError):
    """Another sweep holds the folder's lock (exit 2): nothing was changed."""


@contextmanager
def holding(folder: Path, holder: Mapping[str, Any]) -> Iterator[None]:
    """Hold `folder`'s lock (creating the folder) for the block.

    `holder` is written into the lock file for whoever finds the folder locked: SweepBusy
    names it. OutputError (exit 1) if the folder cannot be made or the lock file opened.
    """
    path = folder / LOCK_FILE
    try:
        folder.mkdir(parents=True, exist_ok=True)
        handle = try_lock(path)
    except OSError as exc:
        raise os_failure(exc, "lock the sweep folder", folder) from None
    if handle is None:
        raise SweepBusy(_busy_message(folder, path))
    try:
        handle.seek(0)
        handle.truncate()
        handle.write(json.dumps(dict(holder)))
        handle.flush()
        yield
    finally:
        unlock(path, handle)


def lock_holder(command: Sequence[str]) -> dict[str, Any]:
    """What a sweep writes into the lock it holds: this process, host, start time, command."""
    return {
        "pid": os.getpid(),
        "host": socket.gethostname(),
        "started": datetime.now(UTC).isoformat(timespec="seconds"),
        "command": list(command),
    }


def _holder(lock: Path) -> str | None:
    """`pid N on HOST, started T` from a lock file, None if it holds no name (yet)."""
    try:
        holder = json.loads(lock.read_text("utf-8"))
        return f"pid {holder['pid']} on {holder['host']}, started {holder['started']}"
    except (OSError, ValueError, TypeError, KeyError):
        return None


def _busy_message(folder: Path, lock: Path) -> str:
    """Who holds a sweep folder's lock, from what it wrote into the lock file."""
    # The holder writes its name just after it takes the lock: give it a moment to do so.
    who: str | None = None
    for attempt in range(HOLDER_WAITS + 1):  # the first read, then HOLDER_WAITS more
        if attempt:
            time.sleep(HOLDER_POLL_SECONDS)
        who = _holder(lock)
        if who is not None:
            break
    return (
        f"{folder}: another sweep is writing this folder "
        f"({who or 'a process that has not written its name yet'}); nothing was changed. Wait "
        "for it to finish, or stop it: a stopped sweep's lock is released, and running the "
        "same command again resumes it."
    )
