"""The database: `gongbao ingest` loads corpus/, re-running changes nothing, a changed file replaces its rows.

Everything runs on the real scraped documents in corpus/ (copied to a temporary directory when a
test needs to change them).
"""
from __future__ import annotations

import json
import shutil
import sqlite3

import pytest
from click.testing import CliRunner

from conftest import CORPUS
from pipeline.cli import cli
from pipeline.store import (DatabaseMissing, check_integrity, claims_frame, conflicts_frame, duplicate_clusters,
                            ingest_paths, open_db, table_counts)

# Column names scripts and notebooks rely on (../shared/CONTRACT.md).
CONTRACT_COLUMNS = {
    "documents": {"id", "path", "sha256", "title", "date", "region_adcode", "region_name", "encoding"},
    "paragraphs": {"id", "document_id", "position", "text", "duplicate_of"},
    "mentions": {"id", "document_id", "paragraph_id", "kind", "text", "start", "end", "value", "value_max", "unit",
                 "currency", "qualifier", "direction", "object", "adcode", "rule"},
    "claims": {"id", "document_id", "paragraph_id", "metric", "subject", "region_adcode", "region_name",
               "period_start", "period_end", "value", "unit", "status", "basis", "duplicate_of"},
    "ingest_errors": {"path", "stage", "message"},
}


def _ingest_cli(*args) -> tuple[int, str]:
    res = CliRunner().invoke(cli, ["ingest", *map(str, args)], catch_exceptions=False)
    return res.exit_code, res.output


@pytest.fixture(scope="module")
def corpus_db(tmp_path_factory):
    """corpus/ ingested once through the command line, with two worker processes."""
    db_path = tmp_path_factory.mktemp("db") / "corpus.db"
    code, out = _ingest_cli(CORPUS, "--db", db_path, "--workers", "2")
    assert code == 0, out
    return db_path, out


def test_ingest_corpus_loads_every_document(corpus_db):
    db_path, out = corpus_db
    db = open_db(db_path, must_exist=True)
    files = sorted(CORPUS.glob("*.txt"))
    docs = db.conn.execute("SELECT path, n_chars, text FROM documents ORDER BY path").fetchall()
    assert [p for p, _, _ in docs] == [str(f) for f in files]
    assert db.conn.execute("SELECT count(*) FROM ingest_errors").fetchone()[0] == 0
    assert "5 documents loaded" in out and "0 errors" in out
    for _, n_chars, text in docs:
        assert n_chars == len(text) > 1000
    # the scraped pinyin glued after characters is gone and the text is simplified
    joined = "".join(t for _, _, t in docs)
    assert "(wǎng)" not in joined and "網" not in joined
    assert "全社会固定资产投资完成187.43亿元" in joined
    assert check_integrity(db) == []


def test_schema_keeps_the_contract_and_keys(corpus_db):
    db = open_db(corpus_db[0], must_exist=True)
    for table, cols in CONTRACT_COLUMNS.items():
        have = {c.name for c in db[table].columns}
        assert cols <= have, f"{table} lacks {cols - have}"
    assert db["documents"].pks == ["id"] and db["paragraphs"].pks == ["id"] and db["regions"].pks == ["key"]
    fks = {(fk.table, fk.column, fk.other_table) for t in ("paragraphs", "mentions", "claims")
           for fk in db[t].foreign_keys}
    assert {("paragraphs", "document_id", "documents"), ("mentions", "paragraph_id", "paragraphs"),
            ("claims", "document_id", "documents"), ("paragraphs", "duplicate_of", "paragraphs")} <= fks
    assert db.conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert db.conn.execute("PRAGMA foreign_keys").fetchone()[0] == 1
    assert "duplicate_clusters" in db.view_names()
    with pytest.raises(sqlite3.IntegrityError):  # the content hash is unique
        db.conn.execute("INSERT INTO documents (path, sha256, ingested_at) "
                        "SELECT path || 'x', sha256, ingested_at FROM documents LIMIT 1")


def test_rows_point_at_the_text_they_came_from(corpus_db):
    db = open_db(corpus_db[0], must_exist=True)
    texts = dict(db.conn.execute("SELECT id, text FROM documents"))
    pars = {pid: (doc, s, e, t) for pid, doc, s, e, t in
            db.conn.execute('SELECT id, document_id, start, "end", text FROM paragraphs')}
    for doc, s, e, t in pars.values():
        assert texts[doc][s:e] == t
    raw = dict(db.conn.execute("SELECT id, raw_text FROM documents"))
    last: dict[int, int] = {}
    for doc, rs, re_ in db.conn.execute("SELECT document_id, raw_start, raw_end FROM paragraphs "
                                        "ORDER BY document_id, position"):
        assert last.get(doc, 0) <= rs < re_ <= len(raw[doc])  # in the raw text, in order, not overlapping
        last[doc] = re_
    rows = db.conn.execute('SELECT document_id, paragraph_id, kind, text, start, "end", raw_start, raw_end '
                           "FROM mentions").fetchall()
    assert len(rows) > 50
    assert {r[2] for r in rows} >= {"amount", "percent"}
    for doc, pid, kind, text, s, e, rs, re_ in rows:
        assert texts[doc][s:e] == text
        assert 0 <= rs <= re_ <= len(raw[doc])
        if pid is not None:
            pdoc, ps, pe, _ = pars[pid]
            assert pdoc == doc and ps <= s < pe
    for doc_id, log in db.conn.execute("SELECT id, repair_log FROM documents"):
        assert isinstance(json.loads(log), list)


def test_second_run_changes_nothing(corpus_db, tmp_path):
    db_path = tmp_path / "twice.db"
    shutil.copy(corpus_db[0], db_path)
    before = table_counts(open_db(db_path))
    code, out = _ingest_cli(CORPUS, "--db", db_path, "--workers", "1")
    assert code == 0, out
    assert "5 unchanged" in out and "0 documents loaded" in out
    after = table_counts(open_db(db_path))
    assert after == before
    assert before["paragraphs_fts"] == before["paragraphs"] > 0 if "paragraphs_fts" in before else True


def test_changed_file_replaces_its_rows(tmp_path):
    src = tmp_path / "docs"
    shutil.copytree(CORPUS, src)
    db_path = tmp_path / "g.db"
    s1 = ingest_paths([src], db_path, workers=1)
    assert s1.new == 5 and not s1.errors
    db = open_db(db_path)
    target = sorted(src.glob("*.txt"))[1]
    old_id, old_sha = db.conn.execute("SELECT id, sha256 FROM documents WHERE path = ?", (str(target),)).fetchone()
    others = db.conn.execute("SELECT id, sha256 FROM documents WHERE id != ? ORDER BY id", (old_id,)).fetchall()
    old_pars = db.conn.execute("SELECT count(*) FROM paragraphs WHERE document_id = ?", (old_id,)).fetchone()[0]
    db.conn.close()

    data = target.read_bytes()
    target.write_bytes(data + "\n2019年1-8月，全州完成地区生产总值123.45亿元，同比增长8.5%。\n".encode("utf-8"))
    s2 = ingest_paths([src], db_path, workers=1)
    assert (s2.replaced, s2.unchanged, s2.new) == (1, 4, 0) and not s2.errors
    db = open_db(db_path)
    assert db.conn.execute("SELECT count(*) FROM documents WHERE sha256 = ?", (old_sha,)).fetchone()[0] == 0
    new_id = db.conn.execute("SELECT id FROM documents WHERE path = ?", (str(target),)).fetchone()[0]
    assert db.conn.execute("SELECT count(*) FROM paragraphs WHERE document_id = ?", (old_id,)).fetchone()[0] == 0
    assert db.conn.execute("SELECT count(*) FROM mentions WHERE document_id = ?", (old_id,)).fetchone()[0] == 0
    new_pars = db.conn.execute("SELECT count(*) FROM paragraphs WHERE document_id = ?", (new_id,)).fetchone()[0]
    assert new_pars == old_pars + 1
    assert db.conn.execute("SELECT count(*) FROM paragraphs WHERE document_id = ? AND text LIKE '%123.45亿元%'",
                           (new_id,)).fetchone()[0] == 1
    assert db.conn.execute("SELECT count(*) FROM mentions WHERE document_id = ? AND text = '123.45亿元'",
                           (new_id,)).fetchone()[0] == 1
    # the other documents were not touched
    assert db.conn.execute("SELECT id, sha256 FROM documents WHERE id != ? ORDER BY id", (new_id,)).fetchall() == others
    assert db.conn.execute("SELECT count(*) FROM documents").fetchone()[0] == 5
    assert check_integrity(db) == []


def test_same_content_under_two_paths_is_one_document(tmp_path):
    a, b = tmp_path / "a", tmp_path / "b"
    a.mkdir(), b.mkdir()
    f = sorted(CORPUS.glob("*.txt"))[0]
    shutil.copy(f, a / "x.txt")
    shutil.copy(f, b / "copy of x.txt")
    db_path = tmp_path / "g.db"
    s = ingest_paths([a, b], db_path, workers=2)
    assert (s.new, s.aliases) == (1, 1)
    db = open_db(db_path)
    assert db.conn.execute("SELECT count(*) FROM documents").fetchone()[0] == 1
    assert sorted(r[0] for r in db.conn.execute("SELECT path FROM document_paths")) == \
        [str(a / "x.txt"), str(b / "copy of x.txt")]
    # one copy changes: it becomes its own document, the other path keeps the old one
    (b / "copy of x.txt").write_bytes(f.read_bytes() + "\n新增一段：投资3亿元。\n".encode("utf-8"))
    s = ingest_paths([a, b], db_path, workers=1)
    assert (s.new, s.unchanged, s.replaced) == (1, 1, 0)
    assert db.conn.execute("SELECT count(*) FROM documents").fetchone()[0] == 2
    # the original then changes to the copy's content: its old document goes, the path joins the other
    (a / "x.txt").write_bytes((b / "copy of x.txt").read_bytes())
    s = ingest_paths([a, b], db_path, workers=1)
    assert s.replaced == 1
    assert db.conn.execute("SELECT count(*) FROM documents").fetchone()[0] == 1
    assert check_integrity(db) == []


def test_parallel_and_serial_runs_write_the_same_database(corpus_db, tmp_path):
    serial = tmp_path / "serial.db"
    ingest_paths([CORPUS], serial, workers=1)
    q = ('SELECT d.path, p.position, p.text, p.duplicate_of IS NULL FROM paragraphs p JOIN documents d '
         'ON d.id = p.document_id ORDER BY d.path, p.position')
    m = ('SELECT d.path, m.kind, m.start, m."end", m.value, m.rule FROM mentions m JOIN documents d '
         'ON d.id = m.document_id ORDER BY d.path, m.start, m.kind')
    a, b = open_db(corpus_db[0], must_exist=True), open_db(serial, must_exist=True)
    assert a.conn.execute(q).fetchall() == b.conn.execute(q).fetchall()
    assert a.conn.execute(m).fetchall() == b.conn.execute(m).fetchall()


def test_repeated_paragraphs_are_marked_and_claims_keep_duplicate_of(tmp_path):
    pytest.importorskip("pipeline.dedupe")
    src = tmp_path / "docs"
    src.mkdir()
    f = sorted(CORPUS.glob("*.txt"))[0]
    shutil.copy(f, src / "a.txt")
    # a repost: same report with a new header line
    (src / "b.txt").write_bytes("转载自州政府网站\n".encode("utf-8") + f.read_bytes())
    db_path = tmp_path / "g.db"
    s = ingest_paths([src], db_path, workers=1)
    assert s.new == 2 and s.duplicates > 0
    db = open_db(db_path)
    b_id = db.conn.execute("SELECT id FROM documents WHERE path LIKE '%b.txt'").fetchone()[0]
    n_dup = db.conn.execute("SELECT count(*) FROM paragraphs WHERE document_id = ? AND duplicate_of IS NOT NULL",
                            (b_id,)).fetchone()[0]
    assert n_dup == s.duplicates
    # a duplicate paragraph's mentions point at the same mention in the canonical paragraph
    pairs = db.conn.execute("SELECT m.text, c.text FROM mentions m JOIN mentions c ON c.id = m.duplicate_of "
                            "WHERE m.document_id = ?", (b_id,)).fetchall()
    assert pairs and all(x == y for x, y in pairs)
    clustered = {i for c in duplicate_clusters(db) for i in (c["canonical"], *c["members"])}
    dup_ids = {r[0] for r in db.conn.execute("SELECT id FROM paragraphs WHERE document_id = ? "
                                             "AND duplicate_of IS NOT NULL", (b_id,))}
    assert dup_ids and dup_ids <= clustered
    # the canonical document goes: its duplicates are promoted, nothing dangles
    (src / "a.txt").write_bytes("另一份报告：全年完成投资5亿元。\n".encode("utf-8"))
    ingest_paths([src], db_path, workers=1)
    assert db.conn.execute("SELECT count(*) FROM paragraphs WHERE document_id = ? AND duplicate_of IS NOT NULL",
                           (b_id,)).fetchone()[0] == 0
    assert check_integrity(db) == []


def _repeated_within_documents(db) -> list[tuple[int, int, int]]:
    """``(document id, paragraph id, canonical paragraph id)`` of paragraphs repeating one of their own document."""
    return db.conn.execute("SELECT p.document_id, p.id, p.duplicate_of FROM paragraphs p "
                           "JOIN paragraphs c ON c.id = p.duplicate_of WHERE c.document_id = p.document_id "
                           "ORDER BY p.id").fetchall()


def test_repeats_inside_one_document_mark_their_mentions_and_claims(corpus_db):
    """Seed 001 repeats paragraphs verbatim and seed 003 holds its report twice: every mention and claim of
    a repeated paragraph points at the same row of the canonical (earlier) paragraph of that document, so
    counts without duplicates are the counts of the canonical paragraphs."""
    pytest.importorskip("pipeline.dedupe")
    db = open_db(corpus_db[0], must_exist=True)
    repeated = _repeated_within_documents(db)
    docs = {d for d, _, _ in repeated}
    paths = dict(db.conn.execute("SELECT id, path FROM documents"))
    assert {paths[d].rsplit("/", 1)[-1][:3] for d in docs} >= {"001", "003"}
    n_mentions = n_claims = 0
    for _, pid, canon in repeated:
        for table, key in (("mentions", "kind, text, value"), ("claims", "metric, period_start, period_end, value")):
            rows = db.conn.execute(f"SELECT id, duplicate_of, {key} FROM {table} WHERE paragraph_id = ? ORDER BY id",
                                   (pid,)).fetchall()
            canonical = db.conn.execute(f"SELECT id, duplicate_of, {key} FROM {table} WHERE paragraph_id = ? "
                                        "ORDER BY id", (canon,)).fetchall()
            assert [r[2:] for r in rows] == [r[2:] for r in canonical]  # the same extraction, row for row
            by_id = {r[0]: r for r in canonical}
            for r in rows:
                assert r[1] in by_id, f"{table} {r[0]} in repeated paragraph {pid} is not marked"
                assert by_id[r[1]][2:] == r[2:] and by_id[r[1]][1] is None
            if table == "mentions":
                n_mentions += len(rows)
            else:
                n_claims += len(rows)
    seed001 = [d for d in docs if paths[d].rsplit("/", 1)[-1].startswith("001")][0]
    assert db.conn.execute("SELECT count(*) FROM claims c JOIN paragraphs p ON p.id = c.paragraph_id "
                           "WHERE p.document_id = ? AND p.duplicate_of IS NOT NULL", (seed001,)).fetchone()[0] > 0
    assert n_mentions > 50 and n_claims > 10
    for d in docs:  # without duplicates, a document counts what its non-repeated paragraphs hold
        for table in ("mentions", "claims"):
            unique = db.conn.execute(f"SELECT count(*) FROM {table} WHERE document_id = ? AND duplicate_of IS NULL",
                                     (d,)).fetchone()[0]
            in_canonical = db.conn.execute(
                f"SELECT count(*) FROM {table} x LEFT JOIN paragraphs p ON p.id = x.paragraph_id "
                "WHERE x.document_id = ? AND (p.duplicate_of IS NULL OR p.id IS NULL)", (d,)).fetchone()[0]
            assert unique == in_canonical
    # the query layer reports each repeated claim once
    from pipeline.query import claims_frame as qframe
    metric, = db.conn.execute("SELECT c.metric FROM claims c JOIN paragraphs p ON p.id = c.paragraph_id "
                              "WHERE p.document_id = ? AND p.duplicate_of IS NOT NULL "
                              "GROUP BY c.metric ORDER BY count(*) DESC, c.metric LIMIT 1", (seed001,)).fetchone()
    sources = int(qframe(db, metric, None)["n_sources"].sum())
    assert sources == db.conn.execute("SELECT count(*) FROM claims WHERE metric = ? AND duplicate_of IS NULL",
                                      (metric,)).fetchone()[0]
    assert sources < int(qframe(db, metric, None, include_duplicates=True)["n_sources"].sum())


def test_regions_hold_every_division_and_new_area(corpus_db):
    from pipeline.regions import all_regions

    db = open_db(corpus_db[0], must_exist=True)
    expected = list(all_regions())
    rows = {r[0]: r[1:] for r in db.conn.execute("SELECT key, adcode, name, level, parent_adcode FROM regions")}
    assert len(rows) == len(expected) and {r["key"] for r in expected} == set(rows)
    assert rows["510000:四川天府新区"] == (None, "四川天府新区", "new_area", "510000")
    assert rows["510100"][:2] == ("510100", "成都市")
    assert db.conn.execute("SELECT count(*) FROM regions WHERE adcode IS NULL").fetchone()[0] == sum(
        1 for r in expected if not r["adcode"]) > 0
    assert db.conn.execute("SELECT key FROM regions WHERE adcode = '510000'").fetchone() == ("510000",)
    assert check_integrity(db) == []


def test_a_regions_table_keyed_by_adcode_is_rebuilt(tmp_path):
    """A database written before regions had a ``key`` (schema 2) is upgraded when first opened, even by a
    query command, with the new areas loaded."""
    db_path = tmp_path / "old.db"
    conn = sqlite3.connect(db_path)
    conn.executescript("CREATE TABLE regions (adcode TEXT PRIMARY KEY, name TEXT NOT NULL, level TEXT, "
                       "parent_adcode TEXT REFERENCES regions(adcode) ON DELETE SET NULL);"
                       "INSERT INTO regions VALUES ('510000', '四川省', 'province', NULL);"
                       "PRAGMA user_version = 2;")
    conn.close()
    db = open_db(db_path, must_exist=True)
    assert db["regions"].pks == ["key"]
    assert db.conn.execute("SELECT adcode, name FROM regions WHERE key = '510000:四川天府新区'").fetchone() == (
        None, "四川天府新区")
    n = db.conn.execute("SELECT count(*) FROM regions").fetchone()[0]
    assert n > 3000 and check_integrity(db) == []
    s = ingest_paths([sorted(CORPUS.glob("*.txt"))[0]], db_path, workers=1)
    assert s.new == 1 and db.conn.execute("SELECT count(*) FROM regions").fetchone()[0] == n


def test_query_helpers_are_reexported(corpus_db):
    pytest.importorskip("pipeline.query")
    db = open_db(corpus_db[0], must_exist=True)
    frame = claims_frame(db, "全社会固定资产投资", None)
    assert hasattr(frame, "columns")
    assert hasattr(conflicts_frame(db, 0.01), "columns")


def test_query_commands_refuse_a_missing_database(tmp_path):
    with pytest.raises(DatabaseMissing, match="run `gongbao ingest"):
        open_db(tmp_path / "nope.db", must_exist=True)
    assert not (tmp_path / "nope.db").exists()


def test_a_full_disk_stops_cleanly_and_a_rerun_completes(tmp_path, monkeypatch):
    import pipeline.store as store

    real_connect = store._connect

    def small_disk(path):
        conn = real_connect(path)
        conn.execute("PRAGMA max_page_count = 200")  # 800 KB: schema and regions fit, the corpus does not
        return conn

    db_path = tmp_path / "full.db"
    monkeypatch.setattr(store, "_connect", small_disk)
    with pytest.raises(store.DatabaseUnusable, match="full.*run the same command again"):
        ingest_paths([CORPUS], db_path, workers=1, batch_size=1)
    monkeypatch.setattr(store, "_connect", real_connect)
    db = open_db(db_path)
    assert check_integrity(db) == []
    partial = db.conn.execute("SELECT count(*) FROM documents").fetchone()[0]
    assert partial < 5
    s = ingest_paths([CORPUS], db_path, workers=1)
    assert s.new == 5 - partial and not s.errors
    assert check_integrity(db) == []


def test_reprocess_rewrites_loaded_content_in_place(tmp_path):
    src = tmp_path / "docs"
    src.mkdir()
    f = sorted(CORPUS.glob("*.txt"))[0]
    shutil.copy(f, src / "a.txt")
    shutil.copy(f, src / "same.txt")
    db_path = tmp_path / "g.db"
    ingest_paths([src], db_path, workers=1)
    db = open_db(db_path)
    db.conn.execute("UPDATE mentions SET rule = 'stale'")  # as if an older rule set had produced them
    before = table_counts(db)
    s = ingest_paths([src], db_path, workers=1, reprocess=True)
    assert (s.replaced, s.unchanged, s.new) == (1, 1, 0) and not s.errors
    assert table_counts(db) == before
    assert db.conn.execute("SELECT count(*) FROM mentions WHERE rule = 'stale'").fetchone()[0] == 0
    assert db.conn.execute("SELECT count(*) FROM document_paths").fetchone()[0] == 2
    assert db.conn.execute("SELECT pipeline_version FROM documents").fetchone()[0]
    assert check_integrity(db) == []
