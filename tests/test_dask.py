"""The Dask engine (``gongbao ingest --engine dask``) writes the same database as the local engine.

One real ingest of corpus/ on a 2-worker LocalCluster, compared table by table with a local run; the
ordering, pass-through, bounded window and worker-crash semantics of :func:`dask_ordered_map` are checked
against :func:`pipeline.parallel.ordered_map` on a small shared cluster.
"""
from __future__ import annotations

import os
import sqlite3

import pytest

from conftest import CORPUS

distributed = pytest.importorskip("distributed")

from pipeline.distributed import SHARD_DIR_ENV, dask_ordered_map  # noqa: E402
from pipeline.parallel import WorkerCrash, ordered_map  # noqa: E402
from pipeline.store import ingest_paths  # noqa: E402

#: columns that legitimately differ between two runs (wall-clock stamps)
VOLATILE = {"ingested_at", "first_seen", "at"}
TABLES = ("documents", "document_paths", "paragraphs", "mentions", "claims", "ingest_errors")


def table_rows(db_path, table: str) -> list[tuple]:
    """Every row of ``table`` (volatile columns left out), sorted, for an order-insensitive comparison."""
    conn = sqlite3.connect(db_path)
    try:
        cols = [r[1] for r in conn.execute(f"PRAGMA table_info({table})") if r[1] not in VOLATILE]
        rows = conn.execute(f"SELECT {', '.join(f'[{c}]' for c in cols)} FROM {table}").fetchall()
    finally:
        conn.close()
    return sorted(rows, key=repr)


@pytest.fixture(scope="module")
def client():
    """A one-worker LocalCluster on loopback; a job that kills its worker once is reported, not retried."""
    import dask

    with dask.config.set({"distributed.scheduler.allowed-failures": 0}):
        cluster = distributed.LocalCluster(n_workers=1, threads_per_worker=1, processes=True,
                                           dashboard_address=None, host="127.0.0.1")
        c = distributed.Client(cluster)
        try:
            yield c
        finally:
            c.close()
            cluster.close()


def test_dask_ingest_is_the_local_database(tmp_path, monkeypatch):
    shards = tmp_path / "shards"
    monkeypatch.setenv(SHARD_DIR_ENV, str(shards))
    local = ingest_paths([CORPUS], tmp_path / "local.db", workers=1)
    dask_run = ingest_paths([CORPUS], tmp_path / "dask.db", workers=2, engine="dask")
    assert local.errors == [] and dask_run.errors == []
    assert dask_run.documents == local.documents == len(list(CORPUS.glob("*.txt")))
    assert (dask_run.paragraphs, dask_run.mentions, dask_run.claims, dask_run.duplicates) == \
           (local.paragraphs, local.mentions, local.claims, local.duplicates)
    assert local.mentions > 100 and local.claims > 20  # a real load, not two empty databases
    for table in TABLES:
        assert table_rows(tmp_path / "dask.db", table) == table_rows(tmp_path / "local.db", table), table
    # the workers wrote their results as shards in the shared directory; the client merged and removed them all
    assert shards.is_dir() and os.listdir(shards) == []
    # an unchanged re-run on the dask engine loads nothing and starts no cluster
    again = ingest_paths([CORPUS], tmp_path / "dask.db", workers=2, engine="dask")
    assert again.documents == 0 and again.unchanged == dask_run.documents
    assert again.elapsed < 5


def test_order_and_pass_through_match_the_local_engine(client):
    jobs = ["一", "", "二三", "skip", "四五六", "七" * 50, "skip", "八九"]
    want = lambda j: j != "skip"  # noqa: E731
    got = list(dask_ordered_map(len, jobs, want=want, client=client, warm=None))
    assert got == list(ordered_map(len, jobs, workers=1, want=want))
    assert got[3] == ("skip", None)
    # whatever the batch size and window, the same results in the same order
    for batch, window in ((1, 4), (3, 4), (3, 2), (8, 32)):
        assert list(dask_ordered_map(len, jobs, want=want, client=client, warm=None, batch=batch,
                                     window=window)) == got, (batch, window)


def test_a_batch_that_kills_its_worker_is_split_and_only_the_culprit_reported(client):
    # eval is a builtin the workers have: the middle job takes its worker down, its batch-mates do not
    jobs = ["1 + 1", "__import__('os')._exit(1)", "2 * 3"]
    got = list(dask_ordered_map(eval, jobs, client=client, warm=None, batch=3))
    assert [j for j, _ in got] == jobs
    assert got[0][1] == 2 and got[2][1] == 6
    assert isinstance(got[1][1], WorkerCrash)


def test_at_most_window_jobs_in_flight(client):
    pulled = 0

    def jobs():
        nonlocal pulled
        for i in range(12):
            pulled += 1
            yield "x" * i

    seen = 0
    for job, result in dask_ordered_map(len, jobs(), window=3, client=client, warm=None):
        assert result == len(job)
        seen += 1
        assert pulled - seen <= 3 - 1  # the one just yielded left the window; at most 2 others are out
    assert seen == 12


def test_a_job_that_kills_its_worker_is_reported_and_the_run_goes_on(client):
    # os._exit(1) takes the worker process down; the jobs around it are passed through
    jobs = ["before", 1, "after"]
    got = list(dask_ordered_map(os._exit, jobs, want=lambda j: isinstance(j, int), client=client, warm=None))
    assert [j for j, _ in got] == jobs
    assert got[0][1] is None and got[2][1] is None
    assert isinstance(got[1][1], WorkerCrash)


def test_a_running_scheduler_by_address_and_shards_the_client_cannot_see(client, tmp_path, monkeypatch):
    import pipeline.distributed as dist

    address = client.scheduler.address  # what `gongbao ingest --engine dask --scheduler ADDRESS` is given
    jobs = ["甲", "乙乙", "丙丙丙"]

    def unreadable(path, remove=True):  # as on a client without the workers' file system
        raise FileNotFoundError(path)

    monkeypatch.setattr(dist, "read_shard", unreadable)
    shards = tmp_path / "shards"
    got = list(dask_ordered_map(len, jobs, scheduler=address, shard_dir=shards, warm=None))
    assert got == [(j, len(j)) for j in jobs]  # fetched through the worker that wrote each shard
    assert os.listdir(shards) == []  # and removed there


def test_a_bad_scheduler_address_is_a_clear_error():
    from pipeline.distributed import SchedulerUnreachable, start_client

    with pytest.raises(SchedulerUnreachable, match="cannot reach the Dask scheduler at nonsense:::"):
        start_client(scheduler="nonsense:::")
