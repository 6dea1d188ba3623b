"""Where a sweep's chunks run: in this process, a local process pool, or a Dask cluster.

The backends know nothing of chunks: they take an iterator of work items, the function that
does one (a module-level function, so it pickles by name) and a callback for each result,
called in this process as results arrive. At most two items per worker are in flight, so a
sweep of a million runs holds a few chunks in memory, not a million.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from sim.errors import GeosimError


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
    with ProcessPoolExecutor(max_workers=workers, mp_context=ctx) as pool:
        pending = set(bounded(chunks, lambda c: pool.submit(work, c), workers * 2))
        try:
            while pending:
                finished, pending = wait(pending, return_when=FIRST_COMPLETED)
                for fut in finished:
                    handle(fut.result())
                    nxt = next(chunks, None)
                    if nxt is not None:
                        pending.add(pool.submit(work, nxt))
        except BaseException:
            for fut in pending:
                fut.cancel()
            raise


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
