"""The SQLite database: schema, the single writer, and :func:`ingest_paths` (``gongbao ingest``).

Identity is the content: a document is its bytes' SHA-256, so

- re-running on the same files writes nothing (every table keeps its row count);
- a file whose content changed (same path, new hash) has its old rows replaced in one transaction;
- the same content under two paths is one document, the second path recorded in ``document_paths``.

Every document's rows — document, paragraphs, full-text rows, dedupe signatures, mentions, claims —
are written inside one transaction (a batch of documents shares it), so a ``kill -9`` at any moment
leaves each document either wholly present or wholly absent, and a re-run completes the rest.

Documents are processed in worker processes (:mod:`pipeline.parallel`, :mod:`pipeline.process`) and
written here by one writer; inputs are streamed, so memory does not grow with the corpus. The ingest path
works on a plain :mod:`sqlite3` connection (:func:`connect_db`): ``sqlite_utils`` imports pandas (~40 MB
and 0.3 s), which neither the writer nor the worker processes it forks need; :func:`open_db` (the query
commands, notebooks) wraps the same connection in a :class:`sqlite_utils.Database`.

>>> import tempfile, os
>>> db = open_db(os.path.join(tempfile.mkdtemp(), "t.db"))
>>> sorted(t for t in CORE_TABLES if t in db.table_names()) == sorted(CORE_TABLES)
True
"""
from __future__ import annotations

import json
import os
import sqlite3
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import click

from . import __version__
from .ingest import DEFAULT_MAX_BYTES, IngestError, count_files, iter_files, now_iso, read_source
from .process import DEFAULT_TIMEOUT, ProcessedDoc

if TYPE_CHECKING:  # annotations only: importing sqlite_utils at run time pulls in pandas
    import sqlite_utils

SCHEMA_VERSION = 3  # 2: documents.pipeline_version; 3: regions keyed by `key` (new areas have no adcode)

CORE_TABLES = ("documents", "document_paths", "paragraphs", "mentions", "claims", "regions", "ingest_errors")

SCHEMA = """
CREATE TABLE IF NOT EXISTS regions (
    key TEXT PRIMARY KEY,
    adcode TEXT UNIQUE,
    name TEXT NOT NULL,
    level TEXT,
    parent_adcode TEXT REFERENCES regions(adcode) ON DELETE SET NULL
);
CREATE TABLE IF NOT EXISTS documents (
    id INTEGER PRIMARY KEY,
    path TEXT NOT NULL,
    sha256 TEXT NOT NULL UNIQUE,
    title TEXT,
    date TEXT,
    region_adcode TEXT,
    region_name TEXT,
    region_level TEXT,
    encoding TEXT,
    n_bytes INTEGER,
    n_chars INTEGER,
    n_paragraphs INTEGER,
    n_mentions INTEGER,
    n_claims INTEGER,
    duplicate_of INTEGER REFERENCES documents(id) ON DELETE SET NULL,
    raw_text TEXT,
    text TEXT,
    repair_log TEXT,
    pipeline_version TEXT,
    ingested_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS document_paths (
    path TEXT PRIMARY KEY,
    document_id INTEGER NOT NULL REFERENCES documents(id) ON DELETE CASCADE,
    sha256 TEXT NOT NULL,
    first_seen TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS paragraphs (
    id INTEGER PRIMARY KEY,
    document_id INTEGER NOT NULL REFERENCES documents(id) ON DELETE CASCADE,
    position INTEGER NOT NULL,
    start INTEGER NOT NULL,
    "end" INTEGER NOT NULL,
    raw_start INTEGER,
    raw_end INTEGER,
    n_chars INTEGER,
    text TEXT NOT NULL,
    duplicate_of INTEGER REFERENCES paragraphs(id) ON DELETE SET NULL,
    UNIQUE (document_id, position)
);
CREATE TABLE IF NOT EXISTS mentions (
    id INTEGER PRIMARY KEY,
    document_id INTEGER NOT NULL REFERENCES documents(id) ON DELETE CASCADE,
    paragraph_id INTEGER REFERENCES paragraphs(id) ON DELETE CASCADE,
    kind TEXT NOT NULL,
    text TEXT NOT NULL,
    start INTEGER NOT NULL,
    "end" INTEGER NOT NULL,
    raw_start INTEGER,
    raw_end INTEGER,
    value,
    value_max,
    unit TEXT,
    currency TEXT,
    qualifier TEXT,
    direction TEXT,
    object TEXT,
    adcode TEXT,
    basis TEXT,
    rule TEXT,
    source TEXT,
    duplicate_of INTEGER REFERENCES mentions(id) ON DELETE SET NULL
);
CREATE TABLE IF NOT EXISTS claims (
    id INTEGER PRIMARY KEY,
    document_id INTEGER NOT NULL REFERENCES documents(id) ON DELETE CASCADE,
    paragraph_id INTEGER REFERENCES paragraphs(id) ON DELETE CASCADE,
    metric TEXT NOT NULL,
    subject TEXT,
    region_adcode TEXT,
    region_name TEXT,
    period_start TEXT,
    period_end TEXT,
    value REAL,
    value_max REAL,
    unit TEXT,
    qualifier TEXT,
    status TEXT,
    basis TEXT,
    sentence TEXT,
    sentence_start INTEGER,
    sentence_end INTEGER,
    start INTEGER,
    "end" INTEGER,
    mention_ids TEXT,
    duplicate_of INTEGER REFERENCES claims(id) ON DELETE SET NULL
);
CREATE TABLE IF NOT EXISTS ingest_errors (
    path TEXT PRIMARY KEY,
    sha256 TEXT,
    stage TEXT NOT NULL,
    message TEXT NOT NULL,
    at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS idx_document_paths_document ON document_paths(document_id);
CREATE INDEX IF NOT EXISTS idx_documents_region ON documents(region_adcode);
CREATE INDEX IF NOT EXISTS idx_documents_date ON documents(date);
CREATE INDEX IF NOT EXISTS idx_documents_duplicate_of ON documents(duplicate_of);
CREATE INDEX IF NOT EXISTS idx_paragraphs_duplicate_of ON paragraphs(duplicate_of);
CREATE INDEX IF NOT EXISTS idx_mentions_document ON mentions(document_id);
CREATE INDEX IF NOT EXISTS idx_mentions_paragraph ON mentions(paragraph_id);
CREATE INDEX IF NOT EXISTS idx_mentions_kind ON mentions(kind);
CREATE INDEX IF NOT EXISTS idx_mentions_adcode ON mentions(adcode);
CREATE INDEX IF NOT EXISTS idx_mentions_duplicate_of ON mentions(duplicate_of);
CREATE INDEX IF NOT EXISTS idx_claims_document ON claims(document_id);
CREATE INDEX IF NOT EXISTS idx_claims_paragraph ON claims(paragraph_id);
CREATE INDEX IF NOT EXISTS idx_claims_metric ON claims(metric, period_start);
CREATE INDEX IF NOT EXISTS idx_claims_region ON claims(region_adcode);
CREATE INDEX IF NOT EXISTS idx_claims_duplicate_of ON claims(duplicate_of);
CREATE INDEX IF NOT EXISTS idx_regions_parent ON regions(parent_adcode);
CREATE VIEW IF NOT EXISTS duplicate_clusters AS
    SELECT c.id AS canonical, c.document_id AS document_id, count(p.id) + 1 AS size,
           json_group_array(p.id) AS duplicates, c.text AS text
    FROM paragraphs AS p JOIN paragraphs AS c ON c.id = p.duplicate_of
    GROUP BY c.id;
CREATE VIEW IF NOT EXISTS unique_claims AS
    SELECT * FROM claims WHERE duplicate_of IS NULL;
CREATE VIEW IF NOT EXISTS unique_mentions AS
    SELECT * FROM mentions WHERE duplicate_of IS NULL;
"""

#: The writer's connection during ``ingest_paths``: a 32 MB page cache keeps the indexes' hot pages (the
#: default 2 MB is outgrown by a few thousand documents; more costs memory the 500 MB budget of a one-process
#: run needs), and the WAL is checkpointed every 64 MB instead of every 4 MB, so pages rewritten by successive
#: batches are copied to the database file once. Durability is unchanged (WAL, synchronous=NORMAL); the WAL
#: file is truncated back after a checkpoint.
BULK_PRAGMAS = ("cache_size = -32768", "wal_autocheckpoint = 16384", "journal_size_limit = 67108864")

#: Columns added after a table was first released: (table, column, declaration).
ADDED_COLUMNS = (("documents", "pipeline_version", "TEXT"),)

MENTION_COLUMNS = ("id", "document_id", "paragraph_id", "kind", "text", "start", "end", "raw_start", "raw_end",
                   "value", "value_max", "unit", "currency", "qualifier", "direction", "object", "adcode", "basis",
                   "rule", "source", "duplicate_of")
#: What makes a mention (claim) in a repeated paragraph the same as one in its canonical paragraph.
MENTION_KEY = ("kind", "text", "value")
CLAIM_KEY = ("metric", "period_start", "period_end", "value")


class DatabaseMissing(click.ClickException, FileNotFoundError):
    """``open_db(..., must_exist=True)`` on a path with no database (the command line prints it as an error)."""


class DatabaseUnusable(click.ClickException):
    """The file is not an SQLite database, or the disk refused a write; nothing half-written is left."""


# --------------------------------------------------------------------------------------------- opening

def _connect(path: str) -> sqlite3.Connection:
    conn = sqlite3.connect(path, timeout=60, isolation_level=None, check_same_thread=False)
    conn.execute("PRAGMA foreign_keys = ON")
    conn.execute("PRAGMA busy_timeout = 60000")
    return conn


def open_db(path: str | os.PathLike, must_exist: bool = False) -> sqlite_utils.Database:
    """The database at ``path`` as a :class:`sqlite_utils.Database` (WAL, foreign keys on), schema created.

    ``must_exist=True`` (the query commands) raises :class:`DatabaseMissing` instead of creating an empty file.
    """
    import sqlite_utils  # imports pandas: only where a Database object is wanted (see the module docstring)

    return sqlite_utils.Database(connect_db(path, must_exist))


def connect_db(path: str | os.PathLike, must_exist: bool = False) -> sqlite3.Connection:
    """The database at ``path`` as a plain :class:`sqlite3.Connection` (WAL, foreign keys on), schema created.

    What :func:`open_db` wraps, and what :func:`ingest_paths` writes through.
    """
    path = os.fspath(path)
    if must_exist and not Path(path).is_file():
        raise DatabaseMissing(f"{path} does not exist; run `gongbao ingest PATH --db {path}` first")
    if not must_exist and os.path.dirname(path):
        os.makedirs(os.path.dirname(path), exist_ok=True)
    try:
        conn = _connect(path)
        mode = conn.execute("PRAGMA journal_mode = WAL").fetchone()[0]
        if mode.lower() != "wal" and path != ":memory:":
            raise DatabaseUnusable(f"{path}: could not switch to WAL journal mode (got {mode})")
        conn.execute("PRAGMA synchronous = NORMAL")  # WAL + NORMAL: consistent after any crash
        if not must_exist or conn.execute("PRAGMA user_version").fetchone()[0] < SCHEMA_VERSION:
            ensure_schema(conn)
    except sqlite3.DatabaseError as e:
        raise DatabaseUnusable(f"{path} is not a usable SQLite database: {e}") from e
    return conn


def ensure_schema(db: sqlite_utils.Database | sqlite3.Connection) -> None:
    """Create every table, index and view that is missing (idempotent)."""
    conn = getattr(db, "conn", db)
    version = conn.execute("PRAGMA user_version").fetchone()[0]
    if version > SCHEMA_VERSION:
        raise RuntimeError(f"database schema version {version} is newer than this gongbao ({SCHEMA_VERSION})")
    conn.execute("BEGIN IMMEDIATE")
    try:
        reload_regions = _drop_old_regions(conn)
        for stmt in _statements(SCHEMA):
            conn.execute(stmt)
        for table, column, decl in ADDED_COLUMNS:  # databases made by an earlier gongbao
            if column not in {r[1] for r in conn.execute(f"PRAGMA table_info({table})")}:
                conn.execute(f"ALTER TABLE {table} ADD COLUMN {_q(column)} {decl}")
        _ensure_fts(conn)
        _dedupe_index(conn)  # lets the dedupe stage create its tables in the same transaction
        if reload_regions:
            _write_regions(conn, _region_rows())
        conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise


def _drop_old_regions(conn) -> bool:
    """Drop a ``regions`` table of schema < 3 (keyed by adcode, no ``key`` column); True when dropped.

    The table is reference data rebuilt from :func:`pipeline.regions.all_regions`, so nothing is lost.
    """
    cols = {r[1] for r in conn.execute("PRAGMA table_info(regions)")}
    if not cols or "key" in cols:
        return False
    conn.execute("PRAGMA defer_foreign_keys = ON")
    conn.execute("DROP TABLE regions")
    return True


def _statements(script: str) -> Iterator[str]:
    buf = ""
    for line in script.splitlines(keepends=True):
        buf += line
        if sqlite3.complete_statement(buf):
            if buf.strip():
                yield buf.strip()
            buf = ""


# ------------------------------------------------------------------- collaborators (optional until landed)

def _search():
    try:
        from . import search
    except ImportError:
        return None
    return search if hasattr(search, "index_paragraphs") else None


def _ensure_fts(conn) -> None:
    s = _search()
    if s is not None and hasattr(s, "ensure_fts"):
        s.ensure_fts(conn)


def _dedupe_index(conn):
    try:
        from .dedupe import DedupeIndex
    except ImportError:
        return None
    return DedupeIndex(conn)


# ---------------------------------------------------------------------------------------- the writer

@dataclass
class Counts:
    documents: int = 0
    paragraphs: int = 0
    mentions: int = 0
    claims: int = 0
    duplicates: int = 0
    chars: int = 0


class Writer:
    """The one connection that writes; call :meth:`begin`, then writes, then :meth:`commit`.

    Ids are assigned here (one writer), so a document's mentions can be referenced by its claims without
    a round trip per row.
    """

    def __init__(self, db: sqlite_utils.Database | sqlite3.Connection):
        self.db = db
        self.conn = getattr(db, "conn", db)
        self.search = _search()
        self.dedupe = _dedupe_index(self.conn)
        self._claim_columns = {r[1] for r in self.conn.execute("PRAGMA table_info(claims)")}
        self._next = {t: self._max_id(t) + 1 for t in ("documents", "paragraphs", "mentions", "claims")}
        self.in_tx = False

    def _max_id(self, table: str) -> int:
        return self.conn.execute(f"SELECT coalesce(max(id), 0) FROM {table}").fetchone()[0]

    def _ids(self, table: str, n: int) -> range:
        start = self._next[table]
        self._next[table] = start + n
        return range(start, start + n)

    # transactions ------------------------------------------------------------------------------
    def begin(self) -> None:
        if not self.in_tx:
            self.conn.execute("BEGIN IMMEDIATE")
            self.in_tx = True
            # another process may have written since we last looked: re-read the id counters
            self._next = {t: self._max_id(t) + 1 for t in self._next}

    def commit(self) -> None:
        if self.in_tx:
            self.conn.execute("COMMIT")
            self.in_tx = False

    def rollback(self) -> None:
        if self.in_tx:
            self.in_tx = False
            try:
                self.conn.execute("ROLLBACK")
            except sqlite3.OperationalError:  # SQLite already rolled back (e.g. after "disk is full")
                pass

    # look-ups ----------------------------------------------------------------------------------
    def document_by_sha(self, sha: str) -> int | None:
        row = self.conn.execute("SELECT id FROM documents WHERE sha256 = ?", (sha,)).fetchone()
        return row[0] if row else None

    def path_entry(self, path: str) -> tuple[int, str] | None:
        row = self.conn.execute("SELECT document_id, sha256 FROM document_paths WHERE path = ?", (path,)).fetchone()
        return (row[0], row[1]) if row else None

    # writes ------------------------------------------------------------------------------------
    def _release_path(self, path: str, keep_sha: str | None) -> bool:
        """Detach ``path`` from the document it held unless it already holds ``keep_sha``; delete orphans.

        Returns True when a document was replaced (deleted).
        """
        entry = self.path_entry(path)
        if entry is None or entry[1] == keep_sha:
            return False
        doc_id, _ = entry
        self.conn.execute("DELETE FROM document_paths WHERE path = ?", (path,))
        others = self.conn.execute("SELECT path FROM document_paths WHERE document_id = ? ORDER BY path",
                                   (doc_id,)).fetchall()
        if others:  # the same content lives on under another path
            self.conn.execute("UPDATE documents SET path = ? WHERE id = ? AND path = ?", (others[0][0], doc_id, path))
            return False
        self.delete_document(doc_id)
        return True

    def delete_document(self, doc_id: int) -> None:
        """Remove a document and everything derived from it, keeping duplicate links elsewhere sound.

        Clusters whose canonical paragraph goes elect their earliest remaining member (the dedupe index
        decides when present); the other members, and their mentions and claims, are re-pointed at it,
        and documents that reposted this one are re-examined.
        """
        conn = self.conn
        pids = [r[0] for r in conn.execute("SELECT id FROM paragraphs WHERE document_id = ?", (doc_id,))]
        if self.search is not None and pids:
            self.search.delete_paragraphs(conn, pids)
        reposts = [r[0] for r in conn.execute("SELECT id FROM documents WHERE duplicate_of = ?", (doc_id,))]
        if self.dedupe is not None:
            changes = self.dedupe.forget_document(doc_id) or {}
        else:
            changes = _elect_canonicals(conn, doc_id)
        for table in ("claims", "mentions", "paragraphs", "document_paths"):
            conn.execute(f"DELETE FROM {table} WHERE document_id = ?", (doc_id,))
        conn.execute("DELETE FROM documents WHERE id = ?", (doc_id,))
        _apply_canonical_changes(conn, changes)
        if self.dedupe is not None:
            for d in reposts:
                conn.execute("UPDATE documents SET duplicate_of = ? WHERE id = ?",
                             (self.dedupe.document_duplicate_of(d), d))

    def add_path(self, path: str, sha: str) -> str:
        """Record that ``path`` holds the already-loaded content ``sha``: 'unchanged', 'alias' or 'replaced'."""
        entry = self.path_entry(path)
        if entry is not None and entry[1] == sha:
            self._clear_error(path)
            return "unchanged"
        doc_id = self.document_by_sha(sha)
        if doc_id is None:
            raise LookupError(f"content {sha[:12]} of {path} is not in the database")
        replaced = self._release_path(path, sha)
        self.conn.execute("INSERT INTO document_paths (path, document_id, sha256, first_seen) VALUES (?, ?, ?, ?)",
                          (path, doc_id, sha, now_iso()))
        self._clear_error(path)
        return "replaced" if replaced else "alias"

    def _clear_error(self, path: str) -> None:
        self.conn.execute("DELETE FROM ingest_errors WHERE path = ?", (path,))

    def record_error(self, err: IngestError) -> None:
        """Keep one row per path (the latest failure); a known content that turned bad loses its old rows."""
        if err.sha256 is not None:
            self._release_path(err.path, err.sha256)
        row = err.to_row()
        self.conn.execute(
            "INSERT INTO ingest_errors (path, sha256, stage, message, at) "
            "VALUES (:path, :sha256, :stage, :message, :at) "
            "ON CONFLICT(path) DO UPDATE SET sha256 = excluded.sha256, stage = excluded.stage, "
            "message = excluded.message, at = excluded.at "
            "WHERE ingest_errors.sha256 IS NOT excluded.sha256 OR ingest_errors.stage != excluded.stage "
            "OR ingest_errors.message != excluded.message", row)

    def write_document(self, d: ProcessedDoc, reprocess: bool = False) -> tuple[str, Counts]:
        """Insert one processed document (replacing what its path held before). Must be inside :meth:`begin`.

        ``reprocess``: the content is already loaded and is written again (the pipeline changed); its old
        rows go and every path that held it is kept, in this same transaction.
        """
        assert self.in_tx, "write_document outside a transaction"
        conn = self.conn
        old_id = self.document_by_sha(d.sha256)
        keep_paths: list[tuple] = []
        if old_id is not None:
            if not reprocess:  # the same content arrived under another path meanwhile
                return self.add_path(d.path, d.sha256), Counts()
            keep_paths = conn.execute("SELECT path, sha256, first_seen FROM document_paths WHERE document_id = ? "
                                      "AND path != ?", (old_id, d.path)).fetchall()
            self.delete_document(old_id)
        replaced = self._release_path(d.path, d.sha256) or old_id is not None
        doc_id = self._ids("documents", 1)[0]
        meta = d.meta or {}
        conn.execute(
            "INSERT INTO documents (id, path, sha256, title, date, region_adcode, region_name, region_level, encoding, "
            "n_bytes, n_chars, n_paragraphs, n_mentions, n_claims, raw_text, text, repair_log, pipeline_version, "
            "ingested_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (doc_id, d.path, d.sha256, meta.get("title"), meta.get("date"), meta.get("region_adcode"),
             meta.get("region_name"), meta.get("region_level"), d.encoding, d.n_bytes, d.n_chars,
             len(d.paragraphs), len(d.mentions), len(d.claims), d.raw_text, d.text,
             json.dumps(d.repairs, ensure_ascii=False), __version__, now_iso()))
        conn.execute("INSERT INTO document_paths (path, document_id, sha256, first_seen) VALUES (?, ?, ?, ?)",
                     (d.path, doc_id, d.sha256, now_iso()))
        conn.executemany("INSERT INTO document_paths (path, document_id, sha256, first_seen) VALUES (?, ?, ?, ?)",
                         [(p, doc_id, sha, seen) for p, sha, seen in keep_paths])

        # paragraphs, their full-text rows and their duplicate links
        pids = list(self._ids("paragraphs", len(d.paragraphs)))
        prow = []
        raw = d.paragraph_raw if len(d.paragraph_raw) == len(d.paragraphs) else [(None, None)] * len(d.paragraphs)
        for pos, ((s, e), pid, (rs, re_)) in enumerate(zip(d.paragraphs, pids, raw)):
            prow.append((pid, doc_id, pos, s, e, e - s, d.text[s:e], rs, re_))
        conn.executemany('INSERT INTO paragraphs (id, document_id, position, start, "end", n_chars, text, raw_start, '
                         "raw_end) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", prow)
        if self.search is not None and prow:
            self.search.index_paragraphs(conn, _fts_rows(prow, d.search_text))
        canon: dict[int, int] = {}
        if self.dedupe is not None and prow:
            assigned = self.dedupe.assign(doc_id, [(r[0], r[6]) for r in prow]) or {}
            canon = {p: c for p, c in assigned.items() if c is not None and c != p}
            if canon:
                conn.executemany("UPDATE paragraphs SET duplicate_of = ? WHERE id = ?",
                                 [(c, p) for p, c in canon.items()])
            dup_doc = self.dedupe.document_duplicate_of(doc_id)
            if dup_doc is not None and dup_doc != doc_id:
                conn.execute("UPDATE documents SET duplicate_of = ? WHERE id = ?", (dup_doc, doc_id))

        # mentions (their duplicate_of: the same mention in the canonical paragraph, which may be an earlier
        # paragraph of this very document, whose rows are matched here before any of them is inserted)
        mids = list(self._ids("mentions", len(d.mentions)))
        mrows = []
        for m, mid in zip(d.mentions, mids):
            pid = pids[m["paragraph"]] if m.get("paragraph") is not None else None
            mrows.append([mid, doc_id, pid, *(m.get(c) for c in MENTION_COLUMNS[3:-1]), None])
        key_at = [MENTION_COLUMNS.index(c) for c in MENTION_KEY]
        for row, dup in zip(mrows, _duplicate_ids(conn, "mentions", MENTION_KEY, canon, [
                (r[0], r[2], tuple(_sql_value(r[i]) for i in key_at)) for r in mrows])):
            row[-1] = dup
        conn.executemany(f"INSERT INTO mentions ({', '.join(_q(c) for c in MENTION_COLUMNS)}) "
                         f"VALUES ({', '.join('?' * len(MENTION_COLUMNS))})", mrows)

        # claims (their duplicate_of: the same metric, period and value in the canonical paragraph)
        cids = list(self._ids("claims", len(d.claims)))
        crows = []
        for c, cid in zip(d.claims, cids):
            row = _claim_row(c, d.text)
            pid = pids[c["paragraph"]] if c.get("paragraph") is not None else None
            row.update(id=cid, document_id=doc_id, paragraph_id=pid,
                       mention_ids=json.dumps([mids[i] for i in c.get("mention_indexes", []) if 0 <= i < len(mids)]))
            crows.append(row)
        for row, dup in zip(crows, _duplicate_ids(conn, "claims", CLAIM_KEY, canon, [
                (r["id"], r["paragraph_id"], tuple(_sql_value(r.get(k)) for k in CLAIM_KEY)) for r in crows])):
            if dup is not None:
                row["duplicate_of"] = dup
        self._insert_claims(crows)
        self._clear_error(d.path)
        dups = len(canon)
        return ("replaced" if replaced else "new"), Counts(1, len(pids), len(mids), len(cids), dups, d.n_chars)

    def _insert_claims(self, rows: list[dict]) -> None:
        """Insert claim rows, one ``executemany`` per run of rows with the same columns (usually all of them)."""
        i = 0
        while i < len(rows):
            cols = tuple(rows[i])
            j = i + 1
            while j < len(rows) and tuple(rows[j]) == cols:
                j += 1
            for k in cols:  # a field the claims stage added: keep it, as sqlite-utils' alter=True would
                if k not in self._claim_columns:
                    self.conn.execute(f"ALTER TABLE claims ADD COLUMN {_q(k)}")
                    self._claim_columns.add(k)
            self.conn.executemany(f"INSERT INTO claims ({', '.join(_q(c) for c in cols)}) "
                                  f"VALUES ({', '.join('?' * len(cols))})",
                                  [[_sql_value(row[c]) for c in cols] for row in rows[i:j]])
            i = j

    def load_regions(self) -> int:
        """Make ``regions`` equal :func:`pipeline.regions.all_regions` (rewritten only when it differs).

        Returns the number of rows written.
        """
        rows = _region_rows()
        have = self.conn.execute("SELECT key, adcode, name, level, parent_adcode FROM regions ORDER BY key").fetchall()
        if have == rows:
            return 0
        self.begin()
        _write_regions(self.conn, rows)
        self.commit()
        return len(rows)


def _region_rows() -> list[tuple]:
    """``(key, adcode, name, level, parent_adcode)`` of every region, sorted by key (``[]`` without the module).

    Every row is kept — divisions by their adcode, new areas without one (四川天府新区) by
    ``<province code>:<name>`` — and a parent that is not itself a row becomes None.
    """
    try:
        from .regions import all_regions
    except ImportError:
        return []
    regions = [r for r in all_regions() if r.get("key") or r.get("adcode")]
    codes = {str(r["adcode"]) for r in regions if r.get("adcode")}
    rows: dict[str, tuple] = {}
    seen_codes: set[str] = set()
    for r in regions:
        key = str(r.get("key") or r["adcode"])
        code = str(r["adcode"]) if r.get("adcode") else None
        if key in rows or (code is not None and code in seen_codes):  # adcode is unique too: first row wins
            continue
        if code is not None:
            seen_codes.add(code)
        parent = str(r["parent_adcode"]) if r.get("parent_adcode") else None
        rows[key] = (key, code, r["name"], r.get("level"), parent if parent in codes else None)
    return sorted(rows.values())


def _write_regions(conn, rows: list[tuple]) -> None:
    """Replace the contents of ``regions`` with ``rows`` (inside the caller's transaction)."""
    conn.execute("PRAGMA defer_foreign_keys = ON")
    conn.execute("DELETE FROM regions")
    conn.executemany("INSERT INTO regions (key, adcode, name, level, parent_adcode) VALUES (?, ?, ?, ?, ?)", rows)


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _sql_value(v):
    if v is None or isinstance(v, (int, float, str, bytes)):
        return v
    if isinstance(v, (list, tuple, dict)):
        return json.dumps(v, ensure_ascii=False)
    return str(v)


def _claim_row(c: dict, text: str) -> dict:
    row = {k: v for k, v in c.items() if k not in ("paragraph", "paragraph_index", "mention_indexes", "id",
                                                   "document_id", "paragraph_id", "duplicate_of")}
    s, e = row.get("sentence_start"), row.get("sentence_end")
    if "sentence" not in row and isinstance(s, int) and isinstance(e, int) and 0 <= s <= e <= len(text):
        row["sentence"] = text[s:e]
    return row


def _fts_rows(prow: list[tuple], search_text: list[str] | None) -> list[tuple]:
    """``(paragraph_id, text, seg)`` for :func:`pipeline.search.index_paragraphs` (seg None: segment here)."""
    return [(r[0], r[6], search_text[i] if search_text is not None and i < len(search_text) else None)
            for i, r in enumerate(prow)]


def _canonical_rows(conn, table: str, key_cols: tuple[str, ...], canonical_pids: Iterable[int]) -> dict:
    """``{(paragraph_id, *key): id}`` for the stored rows of ``table`` in the canonical paragraphs (first id wins)."""
    pids = sorted(set(canonical_pids))
    cols = ", ".join(_q(c) for c in key_cols)
    out: dict = {}
    for i in range(0, len(pids), 500):
        chunk = pids[i:i + 500]
        # ``+duplicate_of``: without it SQLite picks the duplicate_of index for ``IS NULL``, which holds most
        # rows, and scans them all on every document (quadratic); the paragraph_id index finds a few rows
        sql = (f"SELECT paragraph_id, {cols}, id FROM {table} WHERE paragraph_id IN "
               f"({', '.join('?' * len(chunk))}) AND +duplicate_of IS NULL ORDER BY id")
        for row in conn.execute(sql, chunk):
            out.setdefault(tuple(row[:-1]), row[-1])
    return out


def _duplicate_ids(conn, table: str, key_cols: tuple[str, ...], canon: dict[int, int],
                   rows: list[tuple[int, int | None, tuple]]) -> list[int | None]:
    """``duplicate_of`` for each new row ``(id, paragraph_id, key)`` of one document, in order.

    A row in a repeated paragraph (``canon``: paragraph id → canonical paragraph id) points at the row of
    the canonical paragraph with the same key (the first one when several have it). The canonical
    paragraph is either already stored (an earlier document) or an earlier paragraph of this same
    document, whose rows are among ``rows`` (not yet inserted); both are looked up. A row with no
    counterpart (the extraction differed) stays None.

    >>> _duplicate_ids(None, "mentions", ("text",), {12: 10}, [(1, 10, ("5%",)), (2, 11, ("5%",)), (3, 12, ("5%",)),
    ...                                                        (4, 12, ("7%",))])
    [None, None, 1, None]
    """
    if not canon:
        return [None] * len(rows)
    own: dict = {}
    for rid, pid, key in rows:
        if pid is not None and pid not in canon:
            own.setdefault((pid, *key), rid)
    here = {pid for _, pid, _ in rows}
    outside = [c for c in set(canon.values()) if c not in here]
    stored = _canonical_rows(conn, table, key_cols, outside) if outside and conn is not None else {}
    out = []
    for _, pid, key in rows:
        c = canon.get(pid) if pid is not None else None
        out.append(None if c is None else own.get((c, *key), stored.get((c, *key))))
    return out


def _elect_canonicals(conn, doc_id: int) -> dict[int, int | None]:
    """Without a dedupe index: ``{paragraph id: new canonical or None}`` for the members of clusters whose
    canonical paragraph is in ``doc_id`` (the lowest remaining id becomes canonical)."""
    rows = conn.execute("SELECT p.duplicate_of, p.id FROM paragraphs AS p "
                        "JOIN paragraphs AS c ON c.id = p.duplicate_of "
                        "WHERE c.document_id = ? AND p.document_id != ? ORDER BY p.duplicate_of, p.id",
                        (doc_id, doc_id)).fetchall()
    clusters: dict[int, list[int]] = {}
    for old, pid in rows:
        clusters.setdefault(old, []).append(pid)
    changes: dict[int, int | None] = {}
    for members in clusters.values():
        changes[members[0]] = None
        changes.update((p, members[0]) for p in members[1:])
    return changes


def _apply_canonical_changes(conn, changes: dict[int, int | None]) -> None:
    """Re-point paragraphs at their new canonical, and their mentions and claims at the matching row in it."""
    for pid, new in changes.items():
        conn.execute("UPDATE paragraphs SET duplicate_of = ? WHERE id = ?", (new, pid))
        if new is None:
            conn.execute("UPDATE mentions SET duplicate_of = NULL WHERE paragraph_id = ?", (pid,))
            conn.execute("UPDATE claims SET duplicate_of = NULL WHERE paragraph_id = ?", (pid,))
            continue
        conn.execute("""UPDATE mentions SET duplicate_of = (
                SELECT c.id FROM mentions AS c WHERE c.paragraph_id = ? AND c.kind = mentions.kind
                AND c.text = mentions.text AND c.value IS mentions.value ORDER BY c.id LIMIT 1)
            WHERE paragraph_id = ?""", (new, pid))
        conn.execute("""UPDATE claims SET duplicate_of = (
                SELECT c.id FROM claims AS c WHERE c.paragraph_id = ? AND c.metric = claims.metric
                AND c.period_start IS claims.period_start AND c.period_end IS claims.period_end
                AND c.value IS claims.value ORDER BY c.id LIMIT 1)
            WHERE paragraph_id = ?""", (new, pid))


# -------------------------------------------------------------------------------------- ingest_paths

@dataclass
class Summary:
    """What one ``gongbao ingest`` run did; :meth:`line` is what the command prints."""

    files: int = 0
    new: int = 0
    replaced: int = 0
    unchanged: int = 0
    aliases: int = 0
    paragraphs: int = 0
    mentions: int = 0
    claims: int = 0
    duplicates: int = 0
    chars: int = 0
    errors: list[IngestError] = field(default_factory=list)  # the first MAX_KEPT_ERRORS; all are in the table
    n_errors: int = 0
    elapsed: float = 0.0
    db_path: str = ""

    MAX_KEPT_ERRORS = 1000

    def fail(self, err: IngestError) -> None:
        self.n_errors += 1
        if len(self.errors) < self.MAX_KEPT_ERRORS:
            self.errors.append(err)

    @property
    def documents(self) -> int:
        """Documents written by this run (new or replacing a changed file)."""
        return self.new + self.replaced

    def add(self, c: Counts) -> None:
        self.paragraphs += c.paragraphs
        self.mentions += c.mentions
        self.claims += c.claims
        self.duplicates += c.duplicates
        self.chars += c.chars

    def line(self, max_errors: int = 5) -> str:
        """One summary line, then up to ``max_errors`` lines naming the files that failed."""
        rate = (f"{self.documents / self.elapsed:.1f} documents/s, {self.chars / self.elapsed:,.0f} chars/s"
                if self.elapsed > 0 and self.documents else "")
        n_err = self.n_errors
        head = (f"{_n(self.files, 'file')}: {_n(self.documents, 'document')} loaded ({self.new} new, "
                f"{self.replaced} changed), "
                f"{self.unchanged} unchanged, {self.aliases} same content under another path; "
                f"{self.paragraphs} paragraphs ({self.duplicates} duplicates), {self.mentions} mentions, "
                f"{self.claims} claims; {n_err} {'error' if n_err == 1 else 'errors'}; "
                f"{self.elapsed:.1f} s{', ' + rate if rate else ''}")
        lines = [head]
        for e in self.errors[:max_errors]:
            lines.append(f"  failed: {e.path} [{e.stage}] {e.message}")
        if n_err > max_errors:
            lines.append(f"  … and {n_err - max_errors} more: SELECT * FROM ingest_errors in {self.db_path}")
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.line()


def _n(n: int, noun: str) -> str:
    """A count with its noun.

    >>> _n(1, "file"), _n(2, "file")
    ('1 file', '2 files')
    """
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


@dataclass(slots=True)
class Job:
    """One input in flight: ``process`` (new content, sent to a worker), ``known`` (content already loaded,
    or being loaded by an earlier job) or ``error`` (unreadable)."""

    kind: str
    path: str
    sha256: str | None = None
    data: bytes | None = None
    error: IngestError | None = None
    timeout: float | None = None
    reprocess: bool = False
    use_model: bool = True


def _process_job(job: Job) -> ProcessedDoc:
    from .process import process_document

    return process_document(job.path, job.data, job.sha256, timeout=job.timeout, use_model=job.use_model)


def _is_process(job: Job) -> bool:
    return job.kind == "process"


def _plan(paths, writer: Writer, max_bytes: int, in_flight: set, timeout: float | None,
          reprocess: bool = False, done: set | None = None, use_model: bool = True) -> Iterator[Job]:
    """One job per input: unreadable → ``error``; content loaded (or on its way) → ``known``; else ``process``.

    With ``reprocess``, loaded content is processed again once per run (``done`` remembers it).
    """
    for path in iter_files(paths):
        src = read_source(path, max_bytes)
        if isinstance(src, IngestError):
            yield Job("error", src.path, src.sha256, error=src)
            continue
        known = writer.document_by_sha(src.sha256) is not None
        if src.sha256 in in_flight or (known and not (reprocess and src.sha256 not in done)):
            yield Job("known", src.path, src.sha256)
            continue
        in_flight.add(src.sha256)
        if reprocess:
            done.add(src.sha256)
        yield Job("process", src.path, src.sha256, data=src.data, timeout=timeout, reprocess=known,
                  use_model=use_model)


class _Progress:
    """A rich progress bar on stderr with documents/s and chars/s (a no-op when disabled)."""

    def __init__(self, enabled: bool, total: int | None):
        self.enabled = enabled
        self.bar = None
        self.t0 = time.perf_counter()
        if not enabled:
            return
        from rich.console import Console
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

        # no auto-refresh thread: worker processes may be forked while the bar is shown
        self.bar = Progress(TextColumn("ingest"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                            TextColumn("{task.fields[rates]}"), console=Console(stderr=True), auto_refresh=False)
        self.task = self.bar.add_task("ingest", total=total, rates="")
        self.shown = 0.0
        self.bar.start()

    def update(self, done: int, docs: int, chars: int, errors: int, force: bool = False) -> None:
        if self.bar is None:
            return
        now = time.perf_counter()
        if not force and now - self.shown < 0.1:
            return
        self.shown = now
        dt = max(now - self.t0, 1e-9)
        self.bar.update(self.task, completed=done,
                        rates=f"{docs / dt:.1f} docs/s  {chars / dt / 1000:.1f}k chars/s  {errors} errors")
        self.bar.refresh()

    def close(self) -> None:
        if self.bar is not None:
            self.bar.stop()


def ingest_paths(paths: Iterable[str | os.PathLike], db_path: str | os.PathLike, workers: int | None = None,
                 engine: str = "local", scheduler: str | None = None, max_bytes: int = DEFAULT_MAX_BYTES,
                 progress: bool = False, batch_size: int = 64, batch_seconds: float = 2.0,
                 doc_timeout: float | None = DEFAULT_TIMEOUT, reprocess: bool = False,
                 use_model: bool = True) -> Summary:
    """Load every file under ``paths`` into the database at ``db_path``; rerunnable and incremental.

    Files are read and hashed here, new content is processed in ``workers`` processes, and the results
    are written by this process in transactions of up to ``batch_size`` documents (or ``batch_seconds``).
    A file that cannot be loaded becomes a row in ``ingest_errors`` and in ``Summary.errors``; the batch
    continues; so does a document still running after ``doc_timeout`` seconds. ``reprocess`` runs the
    pipeline again over content already loaded (after the rules or the code changed) and replaces its rows.
    ``use_model`` adds the statistical NER model's entity mentions to the rules' (see pipeline.extract.model).
    """
    from .parallel import make_runner

    t0 = time.perf_counter()
    paths = [os.fspath(p) for p in paths]
    conn = connect_db(db_path)
    for pragma in BULK_PRAGMAS:
        conn.execute(f"PRAGMA {pragma}")
    writer = Writer(conn)
    writer.load_regions()
    summary = Summary(db_path=os.fspath(db_path))
    runner = make_runner(engine, workers=workers, scheduler=scheduler, use_model=use_model)
    total = count_files(paths) if progress else None
    bar = _Progress(progress, total)
    in_flight: set[str] = set()
    failed: dict[str, IngestError] = {}  # sha → error, for later paths with the same failing content
    last_commit = time.perf_counter()
    pending = 0
    try:
        jobs = _plan(paths, writer, max_bytes, in_flight, doc_timeout, reprocess, set(), use_model)
        for job, result in runner(_process_job, jobs, _is_process):
            summary.files += 1
            writer.begin()
            _write_one(writer, summary, job, result, failed)
            if job.kind == "process":
                in_flight.discard(job.sha256)
            pending += 1
            if pending >= batch_size or time.perf_counter() - last_commit >= batch_seconds:
                writer.commit()
                pending, last_commit = 0, time.perf_counter()
            bar.update(summary.files, summary.documents, summary.chars, summary.n_errors)
        writer.commit()
        bar.update(summary.files, summary.documents, summary.chars, summary.n_errors, force=True)
    except sqlite3.OperationalError as e:  # disk full, I/O error, locked for too long: stop cleanly
        writer.rollback()
        raise DatabaseUnusable(f"writing {db_path} failed: {e}. Documents committed so far are kept; "
                               f"fix the cause and run the same command again to continue") from e
    except BaseException:
        writer.rollback()
        raise
    finally:
        bar.close()
        try:
            if summary.documents or summary.replaced:
                conn.execute("PRAGMA optimize")  # refresh planner statistics after a real load
            conn.execute("PRAGMA wal_checkpoint(PASSIVE)")
        except sqlite3.Error:
            pass
        conn.close()
    summary.elapsed = time.perf_counter() - t0
    return summary


def _write_one(writer: Writer, summary: Summary, job: Job, result, failed: dict) -> None:
    from .parallel import WorkerCrash

    if job.kind == "error":
        writer.record_error(job.error)
        summary.fail(job.error)
        return
    if job.kind == "known":
        if writer.document_by_sha(job.sha256) is None:  # an earlier job with this content failed
            first = failed.get(job.sha256)
            msg = first.message if first else "content failed earlier in this run"
            err = IngestError(job.path, first.stage if first else "process", msg, sha256=job.sha256)
            writer.record_error(err)
            summary.fail(err)
            return
        outcome = writer.add_path(job.path, job.sha256)
        if outcome == "unchanged":
            summary.unchanged += 1
        elif outcome == "replaced":
            summary.replaced += 1
        else:
            summary.aliases += 1
        return
    if isinstance(result, WorkerCrash):
        result = ProcessedDoc(job.path, job.sha256, len(job.data or b""),
                              error=IngestError(job.path, "worker", result.message, sha256=job.sha256))
    if result.error is not None:
        if job.reprocess and (old := writer.document_by_sha(job.sha256)) is not None:
            writer.delete_document(old)  # its rows no longer come from this pipeline; the error says why
        failed[job.sha256] = result.error
        writer.record_error(result.error)
        summary.fail(result.error)
        return
    writer.conn.execute("SAVEPOINT doc")
    try:
        outcome, counts = writer.write_document(result, reprocess=job.reprocess)
    except (sqlite3.IntegrityError, sqlite3.InterfaceError, ValueError, TypeError, KeyError, IndexError) as e:
        writer.conn.execute("ROLLBACK TO doc")
        writer.conn.execute("RELEASE doc")
        if writer.dedupe is not None:  # its in-memory index remembers the rolled-back rows: start afresh
            writer.dedupe = _dedupe_index(writer.conn)
        err = IngestError(job.path, "write", f"{type(e).__name__}: {e}", sha256=job.sha256)
        failed[job.sha256] = err
        writer.record_error(err)
        summary.fail(err)
        return
    writer.conn.execute("RELEASE doc")
    if outcome == "new":
        summary.new += 1
    elif outcome == "replaced":
        summary.replaced += 1
    else:
        summary.aliases += 1
    summary.add(counts)


# -------------------------------------------------------------------------------- query re-exports

def claims_frame(db, metric, period=None, include_duplicates=False):
    """Claims of one metric across regions (see :func:`pipeline.query.claims_frame`)."""
    from .query import claims_frame as _claims_frame

    return _claims_frame(db, metric, period, include_duplicates=include_duplicates)


def conflicts_frame(db, tolerance=0.01):
    """Claims of the same region, metric and period that disagree (see :func:`pipeline.query.conflicts_frame`)."""
    from .query import conflicts_frame as _conflicts_frame

    return _conflicts_frame(db, tolerance)


def duplicate_clusters(db) -> list[dict]:
    """Clusters of repeated paragraphs: ``[{"canonical": id, "members": [ids], "text": ...}]``."""
    try:
        from .dedupe import DedupeIndex
    except ImportError:
        DedupeIndex = None
    if DedupeIndex is not None:
        return DedupeIndex(db.conn).clusters()
    out = []
    for canonical, members_json, text in db.conn.execute(
            "SELECT canonical, duplicates, text FROM duplicate_clusters ORDER BY canonical"):
        out.append({"canonical": canonical, "members": [canonical, *sorted(json.loads(members_json))], "text": text})
    return out


def table_counts(db) -> dict[str, int]:
    """Row count of every table: what the idempotence tests compare.

    Views, SQLite's own tables and the shadow tables of full-text indexes (their internal segments,
    whose number depends on merge history, not content) are left out; the full-text tables count.
    """
    virtual = [r[0] for r in db.conn.execute("SELECT name FROM sqlite_master WHERE type = 'table' "
                                             "AND sql LIKE 'CREATE VIRTUAL TABLE%'")]
    return {t: db.conn.execute(f"SELECT count(*) FROM {_q(t)}").fetchone()[0] for t in db.table_names()
            if not t.startswith("sqlite_") and not any(t.startswith(v + "_") for v in virtual)}


def check_integrity(db) -> list[str]:
    """Problems that must never exist after any run, crashed or not; ``[]`` when the database is sound.

    Checks SQLite's own integrity and foreign keys, orphan rows, documents whose stored row counts do
    not match their rows (a half-written document), paths without documents, and that the full-text
    index holds exactly the paragraphs.
    """
    conn = db.conn
    problems = []
    ok = conn.execute("PRAGMA integrity_check").fetchone()[0]
    if ok != "ok":
        problems.append(f"integrity_check: {ok}")
    for table, rowid, parent, fkid in conn.execute("PRAGMA foreign_key_check"):
        problems.append(f"foreign key: {table} row {rowid} points at a missing {parent} row")
    orphan_sql = {
        "paragraphs without document": "SELECT count(*) FROM paragraphs "
                                       "WHERE document_id NOT IN (SELECT id FROM documents)",
        "mentions without document": "SELECT count(*) FROM mentions "
                                     "WHERE document_id NOT IN (SELECT id FROM documents)",
        "mentions without paragraph": "SELECT count(*) FROM mentions WHERE paragraph_id IS NOT NULL "
                                      "AND paragraph_id NOT IN (SELECT id FROM paragraphs)",
        "claims without document": "SELECT count(*) FROM claims WHERE document_id NOT IN (SELECT id FROM documents)",
        "claims without paragraph": "SELECT count(*) FROM claims WHERE paragraph_id IS NOT NULL "
                                    "AND paragraph_id NOT IN (SELECT id FROM paragraphs)",
        "documents without a path": "SELECT count(*) FROM documents "
                                    "WHERE id NOT IN (SELECT document_id FROM document_paths)",
        "paths without document": "SELECT count(*) FROM document_paths "
                                  "WHERE document_id NOT IN (SELECT id FROM documents)",
        "documents with missing paragraphs": "SELECT count(*) FROM documents d WHERE n_paragraphs != "
                                             "(SELECT count(*) FROM paragraphs p WHERE p.document_id = d.id)",
        "documents with missing mentions": "SELECT count(*) FROM documents d WHERE n_mentions != "
                                           "(SELECT count(*) FROM mentions m WHERE m.document_id = d.id)",
        "documents with missing claims": "SELECT count(*) FROM documents d WHERE n_claims != "
                                         "(SELECT count(*) FROM claims c WHERE c.document_id = d.id)",
        "paragraphs duplicating a paragraph of their own": "SELECT count(*) FROM paragraphs WHERE duplicate_of = id",
        "documents with an error row": "SELECT count(*) FROM ingest_errors e JOIN document_paths p ON p.path = e.path",
    }
    for what, sql in orphan_sql.items():
        n = conn.execute(sql).fetchone()[0]
        if n:
            problems.append(f"{n} {what}")
    if "paragraphs_fts" in db.table_names():
        n_fts = conn.execute("SELECT count(*) FROM paragraphs_fts").fetchone()[0]
        n_par = conn.execute("SELECT count(*) FROM paragraphs").fetchone()[0]
        if n_fts != n_par:
            problems.append(f"full-text index has {n_fts} rows for {n_par} paragraphs")
        stray = conn.execute("SELECT count(*) FROM paragraphs_fts WHERE rowid NOT IN (SELECT id FROM paragraphs)"
                             ).fetchone()[0]
        if stray:
            problems.append(f"{stray} full-text rows without a paragraph")
    return problems
