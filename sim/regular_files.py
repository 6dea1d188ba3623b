"""Reading a file a user names: a regular file only, and never more than a byte limit.

Scenario, design and manifest paths all come from the user, and any of them may turn out to be
a FIFO (a read waits for a writer forever), a device (`/dev/zero` never ends) or a folder. So
the mode is checked before the file is opened, since opening some devices has effects, and
again on the open file, which may have been swapped since; and reading stops one byte past the
limit, which is enough to tell that a file is too large without reading all of it.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import BinaryIO


class NotRegularFile(Exception):
    """A path names a folder, a FIFO, a device or a socket; `kind` says which."""

    def __init__(self, kind: str) -> None:
        self.kind = kind
        super().__init__(f"is {kind}, not a regular file")


def file_kind(mode: int) -> str:
    """What a file that is not a regular file is, for messages; empty for a regular file."""
    if stat.S_ISREG(mode):
        return ""
    if stat.S_ISDIR(mode):
        return "a directory"
    if stat.S_ISFIFO(mode):
        return "a FIFO (named pipe)"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    return "a socket or other special file"


def _refuse_special(mode: int) -> None:
    kind = file_kind(mode)
    if kind:
        raise NotRegularFile(kind)


def open_regular(path: Path) -> BinaryIO:
    """Open a regular file for reading in binary mode.

    NotRegularFile for anything else; OSError if it cannot be opened. O_NONBLOCK keeps the open
    of a FIFO swapped in after the first check from waiting for a writer; O_NOCTTY keeps a
    terminal from becoming the process's controlling terminal.
    """
    flags = os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC | os.O_NOCTTY
    _refuse_special(os.stat(path).st_mode)
    fh = os.fdopen(os.open(path, flags), "rb")
    try:
        _refuse_special(os.fstat(fh.fileno()).st_mode)
    except BaseException:
        fh.close()
        raise
    return fh


def read_regular(path: Path, limit: int) -> bytes:
    """At most `limit` + 1 bytes of a regular file: one more than the limit says it is over.

    NotRegularFile or OSError as `open_regular`; ValueError for a path the OS cannot take (a
    NUL byte in it).
    """
    with open_regular(path) as fh:
        return fh.read(limit + 1)
