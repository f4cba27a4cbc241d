"""Running :func:`pipeline.process.process_document` over many documents on one machine.

:func:`ordered_map` feeds jobs to a pool of worker processes and yields results **in input order**
while keeping at most ``window`` jobs in flight, so memory stays flat however large the corpus: the
input iterator is pulled lazily (``multiprocessing.Pool.imap`` would drain it into its task queue) and
results are handed to the single writer as soon as they are next in line.

A worker that dies (a segfault in a C extension, the OOM killer) breaks the pool; the jobs then in
flight are re-run one at a time in a fresh pool, so only the document that kills a worker again is
reported (as a ``WorkerCrash`` result), never the whole batch.

>>> list(ordered_map(len, ["ab", "c", ""], workers=1))
[('ab', 2), ('c', 1), ('', 0)]
"""
from __future__ import annotations

import functools
import multiprocessing as mp
import os
import sys
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from typing import Any

#: Sentinel job: passed through in order without being sent to a worker.
SKIP = object()


@dataclass(frozen=True)
class WorkerCrash:
    """The result of a job whose worker process died twice running it."""

    message: str


def default_workers() -> int:
    """All the cores this process may use."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - not Linux
        return max(1, os.cpu_count() or 1)


def _context():
    # fork: workers inherit the already-imported modules and start in milliseconds (no thread of ours
    # runs when they are forked: the progress bar does not auto-refresh).
    # Elsewhere (macOS: system frameworks are not fork-safe; Windows) workers are spawned and warm up themselves.
    return mp.get_context("fork" if sys.platform.startswith("linux") else "spawn")


def warm_pipeline(use_model: bool = True, damaged: bool = False) -> None:
    """Load the dictionaries and models a worker needs once, before the first document.

    The NER model only when the run uses it (``use_model``); the mojibake repair's character model only
    with ``damaged`` (else on the first damaged page): a worker holds only what its documents need.
    """
    try:
        from .process import warm_up

        warm_up(use_model=use_model, damaged=damaged)
    except Exception:  # warming is an optimization; a failure shows up on the first document instead
        pass


def ordered_map(fn: Callable[[Any], Any], jobs: Iterable[Any], *, workers: int | None = None,
                window: int | None = None, want: Callable[[Any], bool] | None = None,
                warm: Callable[[], None] | None = None) -> Iterator[tuple[Any, Any]]:
    """Yield ``(job, fn(job))`` in the order of ``jobs``, computed in ``workers`` processes.

    ``want(job)`` false passes a job through untouched (result None) without a round trip to a worker;
    it still keeps its place in the order. ``workers=1`` runs in this process (no pool, easy to debug).
    ``fn`` and the jobs must pickle. At most ``window`` jobs (default ``4 × workers``) are in flight.
    ``warm()`` loads what ``fn`` needs, once in each worker as it starts.
    """
    workers = workers or default_workers()
    if workers <= 1:
        for job in jobs:
            yield job, (fn(job) if want is None or want(job) else None)
        return
    window = window or 4 * workers
    ctx = _context()
    pool: ProcessPoolExecutor | None = None  # started at the first job that needs a worker: a re-run of an
    pending: deque[tuple[Any, Future | None]] = deque()  # unchanged corpus starts no process at all
    try:
        it = iter(jobs)
        exhausted = False
        while True:
            while not exhausted and len(pending) < window:
                try:
                    job = next(it)
                except StopIteration:
                    exhausted = True
                    break
                if want is not None and not want(job):
                    pending.append((job, None))
                else:
                    if pool is None:
                        pool = _start_pool(workers, ctx, warm)
                    pending.append((job, _submit(pool, fn, job)))
            if not pending:
                break
            job, fut = pending[0]
            if fut is None:
                pending.popleft()
                yield job, None
                continue
            try:
                result = fut.result()
            except BrokenProcessPool:
                pool.shutdown(wait=False, cancel_futures=True)
                results = _rerun_isolated(fn, pending, ctx, warm)
                pool = _start_pool(workers, ctx, warm)
                pending.clear()
                yield from results
                continue
            pending.popleft()
            yield job, result
    finally:
        if pool is not None:
            pool.shutdown(wait=True, cancel_futures=True)


def _start_pool(workers: int, ctx, warm=None) -> ProcessPoolExecutor:
    """A pool of ``workers`` processes, each warming up in parallel as it starts.

    The writer does not warm up itself: it never runs the pipeline, and the tables it would share by fork
    become private pages anyway as Python touches their reference counts, so the writer stays small.
    """
    return ProcessPoolExecutor(max_workers=workers, mp_context=ctx, initializer=warm)


def _submit(pool: ProcessPoolExecutor, fn, job) -> Future:
    try:
        return pool.submit(fn, job)
    except BrokenProcessPool:
        fut: Future = Future()
        fut.set_exception(BrokenProcessPool("pool broken before submission"))
        return fut


def _rerun_isolated(fn, pending, ctx, warm) -> list[tuple[Any, Any]]:
    """Re-run the in-flight jobs one by one in a fresh pool; a job that kills its worker again is reported."""
    results = []
    pool = _start_pool(1, ctx, warm)
    for job, fut in list(pending):
        if fut is None:
            results.append((job, None))
            continue
        try:
            results.append((job, pool.submit(fn, job).result()))
        except BrokenProcessPool:
            pool.shutdown(wait=False, cancel_futures=True)
            results.append((job, WorkerCrash("the worker process died while processing this document "
                                             "(a crash in a native library or out of memory)")))
            pool = _start_pool(1, ctx, warm)
    pool.shutdown(wait=True)
    return results


def make_runner(engine: str = "local", *, workers: int | None = None, scheduler: str | None = None,
                use_model: bool = True):
    """A function ``(fn, jobs, want) → iterator of (job, result)`` for the chosen engine.

    Its workers warm up with :func:`warm_pipeline`, loading the NER model only when ``use_model``.
    """
    warm = functools.partial(warm_pipeline, use_model=use_model)  # pickles: Dask workers get it too
    if engine == "local":
        return lambda fn, jobs, want=None: ordered_map(fn, jobs, workers=workers, want=want, warm=warm)
    if engine == "dask":
        try:
            from .distributed import dask_ordered_map
        except ImportError:
            raise NotImplementedError("engine 'dask' is not available in this build; use --engine local") from None
        return lambda fn, jobs, want=None: dask_ordered_map(fn, jobs, workers=workers, scheduler=scheduler, want=want,
                                                            warm=warm)
    raise ValueError(f"unknown engine {engine!r}; expected 'local' or 'dask'")
