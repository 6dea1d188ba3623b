"""Where a sweep's chunks run: in this process, a local process pool, or a Dask cluster.

The backends know nothing of chunks: they take an iterator of work items, the function that
does one (a module-level function, so it pickles by name) and a callback for each result,
called in this process as results arrive. At most two items per worker are in flight, so a
sweep of a million runs holds a few chunks in memory, not a million.

No process outlives the sweep that started it: local workers exit as soon as the main process
dies, however it dies (`exit_with_parent`), and an interruption (Ctrl-C, and SIGTERM or SIGHUP
under `termination_as_interrupt`) stops them rather than waiting for their chunks. The pool's
fork server and resource tracker end when the last process holding their pipes does.
"""

from __future__ import annotations

import os
import signal
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from types import FrameType
from typing import TYPE_CHECKING, Any

from sim.errors import GeosimError

if TYPE_CHECKING:
    from concurrent.futures import ProcessPoolExecutor

TERMINATION_SIGNALS = ("SIGTERM", "SIGHUP")
"""Signals that stop a sweep as Ctrl-C does (`termination_as_interrupt`)."""
ORPHAN_EXIT = 70
"""Exit status of a worker that found its main process gone (nobody is left to read it)."""


def run_chunks[C, R](
    chunks: Iterator[C],
    work: Callable[[C], R],
    handle: Callable[[R], None],
    *,
    workers: int = 1,
    scheduler: str | None = None,
    dask_local: int | None = None,
) -> None:
    """Do `work` on every chunk on the chosen backend and `handle` each result here."""
    if scheduler or dask_local:
        run_dask(chunks, work, handle, scheduler, dask_local)
    elif workers <= 1:
        for chunk in chunks:
            handle(work(chunk))
    else:
        run_local(chunks, work, handle, workers)


def bounded[C](chunks: Iterator[C], submit: Callable[[C], Any], limit: int) -> list[Any]:
    """Submit up to `limit` chunks; the caller tops up as results arrive (memory stays flat)."""
    out = []
    for chunk in chunks:
        out.append(submit(chunk))
        if len(out) >= limit:
            break
    return out


@contextmanager
def termination_as_interrupt() -> Iterator[None]:
    """Within the block, SIGTERM and SIGHUP raise KeyboardInterrupt, as Ctrl-C does: workers
    are stopped, finished runs kept, the folder's lock released; not the default, which ends
    the process at once and leaves its workers running.

    Only in the main thread (where Python runs signal handlers), and only for a signal left at
    its default: one a caller ignores (`nohup`) or handles stays as it is.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous: dict[signal.Signals, Any] = {}
    for name in TERMINATION_SIGNALS:
        sig = getattr(signal, name, None)
        if sig is not None and signal.getsignal(sig) is signal.SIG_DFL:
            previous[sig] = signal.signal(sig, _interrupt)
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def _interrupt(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt(signal.Signals(signum).name)


def exit_with_parent() -> None:
    """Pool worker initializer: exit as soon as the process that made the pool dies.

    A worker forked from the fork server is not the main process's child (PR_SET_PDEATHSIG and
    getppid would watch the server, which lives as long as its workers do), but multiprocessing
    hands it a pipe whose other end only the main process holds: end of file on it means the
    main process is gone, even killed with SIGKILL. A daemon thread waits for that.
    """
    import multiprocessing

    parent = multiprocessing.parent_process()
    if parent is None:
        return

    def watch() -> None:
        parent.join()  # returns when the pipe's other end closes: the main process died
        os._exit(ORPHAN_EXIT)  # at once: nothing is left to receive this worker's results

    threading.Thread(target=watch, name="geosim-exit-with-parent", daemon=True).start()


def run_local[C, R](
    chunks: Iterator[C], work: Callable[[C], R], handle: Callable[[R], None], workers: int
) -> None:
    """A pool of `workers` local processes."""
    import multiprocessing as mp
    from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait

    # forkserver: workers fork from a clean server process (no inherited threads or locks);
    # chosen here, for this pool only, never as a global start method.
    method = "forkserver" if "forkserver" in mp.get_all_start_methods() else "spawn"
    ctx = mp.get_context(method)
    if method == "forkserver":
        # The server imports the work's module (the model) once; workers fork from it ready.
        ctx.set_forkserver_preload([work.__module__])
    pool = ProcessPoolExecutor(max_workers=workers, mp_context=ctx, initializer=exit_with_parent)
    try:
        pending = set(bounded(chunks, lambda c: pool.submit(work, c), workers * 2))
        while pending:
            finished, pending = wait(pending, return_when=FIRST_COMPLETED)
            for fut in finished:
                handle(fut.result())
                nxt = next(chunks, None)
                if nxt is not None:
                    pending.add(pool.submit(work, nxt))
    except BaseException:
        _stop(pool)
        raise
    pool.shutdown()


def _stop(pool: ProcessPoolExecutor) -> None:
    """Stop a pool now: queued chunks cancelled, workers terminated mid-chunk (their runs are
    lost, as a kill would lose them) rather than waited for."""
    # The executor has no public way to stop its workers before Python 3.14.
    workers = list((getattr(pool, "_processes", None) or {}).values())
    pool.shutdown(wait=False, cancel_futures=True)
    for w in workers:
        w.terminate()
    for w in workers:
        w.join(timeout=5)


def run_dask[C, R](
    chunks: Iterator[C],
    work: Callable[[C], R],
    handle: Callable[[R], None],
    scheduler: str | None,
    local: int | None,
) -> None:
    """A Dask cluster: the one at `scheduler`, else a local one with `local` workers."""
    try:
        import distributed
    except ImportError:
        raise GeosimError(
            "the Dask backend needs the optional extra: pip install -e '.[dask]'"
        ) from None
    # distributed ships no type hints; treat the module as untyped on purpose.
    dask: Any = distributed
    cluster = None
    if scheduler:
        client = dask.Client(scheduler, timeout="20s")
    else:
        cluster = dask.LocalCluster(
            n_workers=local or 1,
            threads_per_worker=1,
            processes=True,
            host="127.0.0.1",
            dashboard_address=None,
        )
        client = dask.Client(cluster)
    try:
        limit = max(2, 2 * len(client.nthreads()))
        futures = bounded(chunks, lambda c: client.submit(work, c, pure=False), limit)
        queue = dask.as_completed(futures)
        for fut in queue:
            handle(fut.result())
            fut.release()
            nxt = next(chunks, None)
            if nxt is not None:
                queue.add(client.submit(work, nxt, pure=False))
    finally:
        client.close()
        if cluster is not None:
            cluster.close()
