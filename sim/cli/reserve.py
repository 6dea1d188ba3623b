"""Memory held back so that running out of memory can still be reported.

Under an address-space limit (`ulimit -v`) or on a full machine a MemoryError can arrive
anywhere, and reporting it needs memory too: rich renders the message, click tears its
context down. Without a reserve that report fails in turn and the user sees a chain of
tracebacks instead of one sentence. `hold` sets some address space aside when the process
starts, `release` gives it back as soon as a MemoryError is caught, and `entry` in
`sim.cli` writes `LAST_WORDS`, encoded in advance, if even the report ran out.
"""

from __future__ import annotations

OUT_OF_MEMORY = (
    "ran out of memory (the machine's, or a limit such as `ulimit -v`); nothing is wrong "
    "with the input: give fewer replicates or workers, or more memory."
)
"""What a command says when memory runs out after the estimate let the work start."""

LAST_WORDS = f"error: {OUT_OF_MEMORY}\n".encode()
"""The same sentence as bytes, ready to write without allocating."""

RESERVE_BYTES = 32 * 1024 * 1024
"""Enough for rich to render even a `--debug` traceback, which imports pygments (measured
under `ulimit -v 700000` with 8 BLAS threads: without a reserve that rendering ran out in
6 runs of 6, with this one it finished in 6 of 6). A block this large is a mapping of its
own, so releasing it returns the address space at once."""

_held: list[bytes] = []


def hold() -> None:
    """Set the reserve aside (once per process). `bytes(n)` comes from calloc, whose pages stay
    untouched: they cost address space, not resident memory (a bytearray would zero-fill them,
    32 MB resident in every process)."""
    if not _held:
        _held.append(bytes(RESERVE_BYTES))


def release() -> None:
    """Give the reserve back, for the code that reports the MemoryError."""
    _held.clear()


def held() -> int:
    """Bytes held back now (0 once released)."""
    return sum(len(block) for block in _held)
