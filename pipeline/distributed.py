"""Running the per-document step on a Dask cluster: ``gongbao ingest --engine dask [--scheduler ADDRESS]``.

:func:`dask_ordered_map` has the contract of :func:`pipeline.parallel.ordered_map` — it yields
``(job, fn(job))`` **in the order of** ``jobs``, passes jobs with ``want(job)`` false through untouched
(result None, no round trip), pulls the input lazily and keeps at most ``window`` jobs in flight — so
:func:`pipeline.store.ingest_paths` writes the very same database whichever engine computed the rows.

How a result travels:

1. the client submits consecutive jobs in **batches** (``batch``, default :data:`BATCH` documents) as one
   Dask future each (``distributed`` futures, ``pure=False``): a task costs the scheduler, the client and
   the worker a few milliseconds of CPU whatever it does, as much as a short document's processing;
2. the worker runs ``fn`` on each job of the batch and writes the results as one **shard** — a pickle file
   in the shard directory, written to a temporary name and renamed, so a half-written shard is never read —
   and returns only the shard's path (a few bytes through the scheduler, whatever the size of the rows);
3. the client reads the shards in input order, deletes each one and hands the results, one job at a time,
   to the single SQLite writer. Memory on the client and on the workers stays flat: at most ``window``
   jobs are in flight.

The shard directory is a temporary directory for a :class:`~distributed.LocalCluster` (same machine), or
the ``shard_dir`` argument / ``GONGBAO_SHARD_DIR`` environment variable — a path shared by the client and
the workers (NFS, a cluster file system). When a shard is not visible from the client (workers on other
machines without a shared path), the client asks the worker that wrote it for the bytes instead, so a
remote cluster works without a shared file system, only slower.

A job whose worker dies (a crash in a native library, the OOM killer) is retried by Dask on another worker;
when it has killed workers ``distributed.scheduler.allowed-failures`` + 1 times it is reported as a
:class:`~pipeline.parallel.WorkerCrash` result, like the local engine does, and the run goes on. A batch
that kills its workers is split: its jobs are submitted again one by one, so only the culprit is reported.

With no scheduler address a ``LocalCluster(n_workers=workers or 2, threads_per_worker=1, processes=True,
dashboard_address=None)`` listening on 127.0.0.1 only is started for the run and closed afterwards.
"""
from __future__ import annotations

import logging
import os
import pickle
import shutil
import tempfile
import uuid
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from typing import Any

import click

from .parallel import WorkerCrash, warm_pipeline

#: Environment variable naming a shard directory shared by the client and the workers.
SHARD_DIR_ENV = "GONGBAO_SHARD_DIR"

#: How long to wait for a scheduler given by address.
CONNECT_TIMEOUT = "20s"

#: Jobs in flight per worker: four batches each, so no worker waits for the client between batches.
WINDOW_PER_WORKER = 16

#: Jobs per Dask task (see the module docstring); 1 submits every job on its own.
BATCH = 4

_warmed = False  # per worker process: the pipeline's tables are loaded once, before its first document


def _ensure_warm(warm: Callable[[], None] | None) -> None:
    global _warmed
    if not _warmed:
        _warmed = True
        if warm is not None:
            warm()


def write_shard(path: str, obj: Any) -> int:
    """Pickle ``obj`` to ``path`` atomically (temporary name, then rename); returns the size in bytes."""
    tmp = f"{path}.{os.getpid()}.tmp"
    with open(tmp, "wb") as f:
        pickle.dump(obj, f, protocol=pickle.HIGHEST_PROTOCOL)
        size = f.tell()
    os.replace(tmp, path)
    return size


def read_shard(path: str, remove: bool = True) -> Any:
    """The object in the shard at ``path`` (removed after reading unless ``remove`` is false)."""
    with open(path, "rb") as f:
        obj = pickle.load(f)
    if remove:
        os.unlink(path)
    return obj


def _shard_bytes(path: str) -> bytes:
    """Worker side: the raw bytes of a shard the client cannot see, removed once read."""
    with open(path, "rb") as f:
        data = f.read()
    os.unlink(path)
    return data


def run_to_shard(fn: Callable[[Any], Any], job: Any, shard_dir: str, name: str,
                 warm: Callable[[], None] | None = None) -> tuple[str, str | None]:
    """Worker side: compute ``fn(job)``, write it as the shard ``shard_dir/name``; returns (path, worker address)."""
    _ensure_warm(warm)
    return _write_result(fn(job), shard_dir, name)


def run_batch_to_shard(fn: Callable[[Any], Any], jobs: list, shard_dir: str, name: str,
                       warm: Callable[[], None] | None = None) -> tuple[str, str | None]:
    """Worker side: ``[fn(job) for job in jobs]`` written as one shard; returns (path, worker address)."""
    _ensure_warm(warm)
    return _write_result([fn(job) for job in jobs], shard_dir, name)


def _write_result(result: Any, shard_dir: str, name: str) -> tuple[str, str | None]:
    os.makedirs(shard_dir, exist_ok=True)
    path = os.path.join(shard_dir, name)
    write_shard(path, result)
    try:
        from distributed import get_worker

        address = get_worker().address
    except (ImportError, ValueError):  # not inside a Dask worker (tests calling it directly)
        address = None
    return path, address


class SchedulerUnreachable(click.ClickException, ConnectionError):
    """``--scheduler ADDRESS`` names no running Dask scheduler (the command line prints it as an error)."""


def start_client(workers: int | None = None, scheduler: str | None = None):
    """A connected :class:`distributed.Client` and the LocalCluster it owns (None for a remote scheduler).

    Without ``scheduler``: ``LocalCluster(n_workers=workers or 2, threads_per_worker=1, processes=True,
    dashboard_address=None)`` on 127.0.0.1 — no port is opened beyond the loopback interface.
    """
    try:
        from distributed import Client, LocalCluster
    except ImportError as e:  # pragma: no cover - dask is a declared dependency
        raise RuntimeError("engine 'dask' needs dask[distributed]: pip install 'dask[distributed]'") from e
    if scheduler:
        try:
            return Client(scheduler, timeout=CONNECT_TIMEOUT), None
        except (OSError, TimeoutError, ValueError) as e:
            raise SchedulerUnreachable(f"cannot reach the Dask scheduler at {scheduler} ({e}); start one with "
                                       "`dask scheduler` and workers with `dask worker ADDRESS`, or leave out "
                                       "--scheduler to run a local cluster") from e
    cluster = LocalCluster(n_workers=workers or 2, threads_per_worker=1, processes=True, dashboard_address=None,
                           host="127.0.0.1", silence_logs=logging.ERROR)
    try:
        return Client(cluster), cluster
    except BaseException:
        cluster.close()
        raise


def dask_ordered_map(fn: Callable[[Any], Any], jobs: Iterable[Any], *, workers: int | None = None,
                     scheduler: str | None = None, want: Callable[[Any], bool] | None = None,
                     window: int | None = None, shard_dir: str | os.PathLike | None = None,
                     warm: Callable[[], None] | None = warm_pipeline, client=None,
                     batch: int | None = None) -> Iterator[tuple[Any, Any]]:
    """Yield ``(job, fn(job))`` in the order of ``jobs``, computed on a Dask cluster.

    Same contract as :func:`pipeline.parallel.ordered_map`: ``want(job)`` false passes the job through with
    result None (no task); at most ``window`` jobs (default :data:`WINDOW_PER_WORKER` × workers) are in
    flight; ``fn`` and the jobs must pickle (and ``fn`` be importable on the workers). Jobs go to the cluster
    ``batch`` at a time (default :data:`BATCH`; fewer when the window or the input ends first).
    ``scheduler``: the address of a running scheduler
    (``tcp://host:8786``); None starts a LocalCluster of ``workers or 2`` processes for this run. ``shard_dir``
    (or ``$GONGBAO_SHARD_DIR``): where workers write result shards (default: a temporary directory, removed
    afterwards). ``client``: an existing :class:`distributed.Client` to use (not closed here). The cluster is
    started only when a job needs a worker, so a re-run of an unchanged corpus starts nothing.
    """
    shard_dir = os.fspath(shard_dir) if shard_dir else os.environ.get(SHARD_DIR_ENV) or None
    run_id = uuid.uuid4().hex[:12]
    own_dir: str | None = None
    own_client = client is None
    cluster = None
    pending: deque[tuple[Any, _Batch | None, int]] = deque()  # (job, its batch or None, index in the batch)
    filling: _Batch | None = None  # the batch being filled, not yet submitted
    n = 0
    size = max(1, batch or BATCH)
    limit = window or WINDOW_PER_WORKER * (workers or 2)

    def submit(b: _Batch) -> None:
        nonlocal n
        n += 1
        b.future = client.submit(run_batch_to_shard, fn, b.jobs, shard_dir, f"{run_id}-{n:09d}.pkl", warm,
                                 pure=False, key=f"gongbao-doc-{run_id}-{n}")

    try:
        it = iter(jobs)
        exhausted = False
        while True:
            while not exhausted and len(pending) < limit:
                try:
                    job = next(it)
                except StopIteration:
                    exhausted = True
                    break
                if want is not None and not want(job):
                    pending.append((job, None, 0))
                    continue
                if client is None:
                    client, cluster = start_client(workers, scheduler)
                    if window is None and scheduler:  # a running cluster: its size, not --workers
                        limit = WINDOW_PER_WORKER * max(1, len(client.scheduler_info().get("workers", {})))
                if shard_dir is None:
                    shard_dir = own_dir = tempfile.mkdtemp(prefix="gongbao-shards-")
                if filling is None:
                    filling = _Batch()
                pending.append((job, filling, len(filling.jobs)))
                filling.jobs.append(job)
                if len(filling.jobs) >= size:
                    submit(filling)
                    filling = None
            if not pending:
                break
            job, b, i = pending.popleft()
            if b is None:
                yield job, None
                continue
            if b is filling:  # everything before it is done: send it as it is rather than wait for more jobs
                submit(filling)
                filling = None
            if b.results is None:
                b.results = _collect_batch(client, b, shard_dir, run_id, warm, fn)
            result = b.results[i]
            b.results[i] = None  # handed over: the writer owns it now
            yield job, result
    finally:
        for b in {id(b): b for _, b, _ in pending if b is not None and b.future is not None}.values():
            b.future.cancel()
        if own_client and client is not None:
            client.close()
        if cluster is not None:
            cluster.close()
        if own_dir is not None:
            shutil.rmtree(own_dir, ignore_errors=True)


class _Batch:
    """Consecutive jobs sent to the cluster as one task, and (once collected) their results."""

    __slots__ = ("jobs", "future", "results")

    def __init__(self) -> None:
        self.jobs: list = []
        self.future = None
        self.results: list | None = None


def _collect_batch(client, b: _Batch, shard_dir: str, run_id: str, warm, fn) -> list:
    """The results of a submitted batch, in order. A batch whose task killed its workers is split and its
    jobs run again one task each, so that only the job that kills a worker again is a WorkerCrash."""
    got = _collect(client, b.future)
    b.future = None
    if not isinstance(got, WorkerCrash):
        return got
    if len(b.jobs) == 1:
        return [got]
    out = []
    for job in b.jobs:  # one at a time: tasks queued on a worker that dies are counted as its victims too
        one = _collect(client, client.submit(run_batch_to_shard, fn, [job], shard_dir,
                                             f"{run_id}-retry-{uuid.uuid4().hex}.pkl", warm, pure=False))
        out.append(one if isinstance(one, WorkerCrash) else one[0])
    return out


def _collect(client, fut) -> Any:
    """The result behind ``fut``: its shard read (locally, or through the worker that wrote it) and removed."""
    from distributed import KilledWorker

    try:
        path, address = fut.result()
    except KilledWorker:
        return WorkerCrash("the worker process died while processing this document "
                           "(a crash in a native library or out of memory)")
    finally:
        fut.release()
    try:
        return read_shard(path)
    except FileNotFoundError:
        if address is None:
            raise
    data = client.submit(_shard_bytes, path, workers=[address], allow_other_workers=False, pure=False).result()
    return pickle.loads(data)
