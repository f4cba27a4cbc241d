"""``kill -9`` during ``gongbao ingest``, several times, then a re-run: every document exactly once.

200 small documents are built from the lines of the real reports in corpus/ (so paragraphs repeat
across documents and the duplicate links are exercised too). The ingest command is killed with
SIGKILL three times — once at a random early moment, twice after a random number of documents has
been committed (plus a random delay, so the kill lands inside a batch); after each kill the database
must already be sound (no half-written document, no orphan rows, the full-text index matching the
paragraphs), and a final run must complete the load with the rows the pipeline gives each file.
"""
from __future__ import annotations

import os
import random
import signal
import sqlite3
import subprocess
import sys
import time

import pytest
import sqlite_utils

from conftest import CORPUS
from pipeline.process import process_document
from pipeline.store import check_integrity

N_DOCS = 200


def _make_corpus(d, n=N_DOCS, seed=11):
    """``n`` distinct small documents mixing lines of the real reports."""
    rng = random.Random(seed)
    lines = []
    for f in sorted(CORPUS.glob("*.txt")):
        text = f.read_bytes().decode("utf-8", errors="replace")
        lines += [ln.strip() for ln in text.splitlines() if 20 <= len(ln.strip()) <= 400]
    assert len(lines) > 40
    d.mkdir()
    for i in range(n):
        body = rng.sample(lines, rng.randint(2, 6))
        header = f"第{i + 1}期 项目工作简报 {2015 + i % 5}年{1 + i % 12}月{1 + i % 28}日"
        sub = d / f"batch{i % 3}"
        sub.mkdir(exist_ok=True)
        (sub / f"doc{i:04d}.txt").write_text("\n".join([header, *body]) + "\n", encoding="utf-8")


def _cmd(src, db):
    return [sys.executable, "-m", "pipeline.cli", "ingest", str(src), "--db", str(db), "--workers", "2",
            "--no-progress"]


def _committed(db) -> int:
    try:
        conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=1)
        try:
            return conn.execute("SELECT count(*) FROM documents").fetchone()[0]
        finally:
            conn.close()
    except sqlite3.Error:
        return 0


def _kill(proc) -> None:
    """SIGKILL the ingest process, then reap its worker processes (its own session)."""
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass


def _run_and_kill(src, db, *, after_docs=None, after_seconds=None, rng) -> int | None:
    """Start an ingest and SIGKILL it at the given moment; the committed count when killed (None: it finished)."""
    proc = subprocess.Popen(_cmd(src, db), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                            start_new_session=True)
    deadline = time.monotonic() + 240
    try:
        if after_seconds is not None:
            time.sleep(after_seconds)
        else:
            while _committed(db) < after_docs and proc.poll() is None and time.monotonic() < deadline:
                time.sleep(0.02)
            time.sleep(rng.uniform(0, 0.3))  # land anywhere in the next batch, not just after a commit
        if proc.poll() is not None:
            assert proc.returncode == 0, proc.stderr.read().decode()
            return None
        _kill(proc)
        return _committed(db)
    finally:
        if proc.poll() is None:
            _kill(proc)
        proc.stderr.close()


def _db(path) -> sqlite_utils.Database:
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA foreign_keys = ON")
    return sqlite_utils.Database(conn)


@pytest.mark.slow
def test_kill_9_then_rerun_loads_every_document_exactly_once(tmp_path):
    src = tmp_path / "docs"
    _make_corpus(src)
    db = tmp_path / "crash.db"
    rng = random.Random(int(os.environ.get("GONGBAO_CRASH_SEED", "2024")))

    killed_at = [_run_and_kill(src, db, after_seconds=rng.uniform(0.5, 4.0), rng=rng)]
    for lo, hi in ((1, 70), (71, 150)):
        killed_at.append(_run_and_kill(src, db, after_docs=rng.randint(lo, hi), rng=rng))
        state = _db(db)
        assert check_integrity(state) == [], f"after a kill at {killed_at[-1]} documents"
        state.conn.close()
    # the kills after a commit landed in the middle of the load
    assert all(k is not None and 0 < k < N_DOCS for k in killed_at[1:]), killed_at

    done = subprocess.run(_cmd(src, db), capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    final = _db(db)
    assert check_integrity(final) == []
    c = final.conn
    assert c.execute("SELECT count(*) FROM documents").fetchone()[0] == N_DOCS
    assert c.execute("SELECT count(DISTINCT sha256) FROM documents").fetchone()[0] == N_DOCS
    assert c.execute("SELECT count(*) FROM document_paths").fetchone()[0] == N_DOCS
    assert c.execute("SELECT count(*) FROM ingest_errors").fetchone()[0] == 0
    n_par = c.execute("SELECT count(*) FROM paragraphs").fetchone()[0]
    assert n_par > N_DOCS * 2
    if "paragraphs_fts" in final.table_names():
        assert c.execute("SELECT count(*) FROM paragraphs_fts").fetchone()[0] == n_par

    # documents written before, between and after the kills hold exactly what the pipeline gives them
    files = sorted(src.rglob("*.txt"))
    for f in rng.sample(files, 12):
        want = process_document(str(f), f.read_bytes())
        doc_id = c.execute("SELECT id FROM documents WHERE path = ?", (str(f),)).fetchone()[0]
        assert [r[0] for r in c.execute("SELECT text FROM paragraphs WHERE document_id = ? ORDER BY position",
                                        (doc_id,))] == [want.paragraph_text(i) for i in range(len(want.paragraphs))]
        got = c.execute('SELECT kind, start, "end", text FROM mentions WHERE document_id = ? ORDER BY id',
                        (doc_id,)).fetchall()
        assert got == [(m["kind"], m["start"], m["end"], m["text"]) for m in want.mentions]
        assert c.execute("SELECT count(*) FROM claims WHERE document_id = ?", (doc_id,)).fetchone()[0] == \
            len(want.claims)
    # and one more run changes nothing (and starts no worker)
    again = subprocess.run(_cmd(src, db), capture_output=True, text=True, timeout=120)
    assert f"{N_DOCS} unchanged" in again.stderr


def _square_or_die(n: int) -> int:
    if n == 13:
        os._exit(3)  # a worker dying the way a segfault in a native library kills it
    return n * n


def test_a_document_that_kills_its_worker_is_reported_and_the_rest_go_on():
    from pipeline.parallel import WorkerCrash, ordered_map

    out = list(ordered_map(_square_or_die, range(30), workers=2, window=6, want=lambda n: n % 10 != 5))
    assert [job for job, _ in out] == list(range(30))  # every job, in input order
    for job, result in out:
        if job == 13:
            assert isinstance(result, WorkerCrash) and "worker process died" in result.message
        elif job % 10 == 5:
            assert result is None  # passed through without a worker
        else:
            assert result == job * job
