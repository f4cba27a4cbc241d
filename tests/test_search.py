"""Chinese full-text search (pipeline.search): the FTS5 index must return exactly what a LIKE scan returns.

Two databases: an in-memory one built here from corpus/ (paragraphs = lines, simplified with OpenCC),
so the search contract is tested on its own, and the database ``gongbao ingest corpus/`` builds.
"""
from __future__ import annotations

import random
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import CORPUS, ROOT
from pipeline import search

REQUIRED = ["投资", "重点项目", "固定资产投资", "187.43亿元"]


def like_ids(conn, q: str) -> set[int]:
    return {r[0] for r in conn.execute(
        "SELECT id FROM paragraphs WHERE text LIKE ? ESCAPE '\\'", (search.like_pattern(q),))}


def as_query(text: str) -> str:
    """Search box input finding TEXT as one term: quoted when it holds whitespace."""
    return f'"{text}"' if any(c.isspace() for c in text) else text


def fts_ids(conn, q: str, mode: str = "exact") -> set[int]:
    return {r[0] for r in conn.execute(
        "SELECT rowid FROM paragraphs_fts WHERE paragraphs_fts MATCH zh_query(?, ?)", (q, mode))}


def corpus_paragraphs() -> list[str]:
    import opencc

    t2s = opencc.OpenCC("t2s")
    lines = []
    for path in sorted(CORPUS.glob("*.txt")):
        text = t2s.convert(path.read_bytes().decode("utf-8", errors="replace"))
        lines += [line for line in text.splitlines() if line.strip()]
    return lines


def memory_db(paragraphs: list[str]) -> sqlite3.Connection:
    conn = sqlite3.connect(":memory:")
    search.register_functions(conn)
    conn.execute("CREATE TABLE paragraphs (id INTEGER PRIMARY KEY, text TEXT)")
    conn.executemany("INSERT INTO paragraphs VALUES (?, ?)", list(enumerate(paragraphs, 1)))
    search.ensure_fts(conn)
    search.index_paragraphs(conn, conn.execute("SELECT id, text FROM paragraphs").fetchall())
    return conn


@pytest.fixture(scope="module")
def mem():
    conn = memory_db(corpus_paragraphs())
    yield conn
    conn.close()


def corpus_db_path(tmp_path_factory) -> Path:
    """``gongbao ingest corpus/ --db …`` once per test session (shared by the publishing tests)."""
    path = tmp_path_factory.getbasetemp() / "corpus.db"
    if not path.exists():
        tmp = path.with_suffix(".building.db")
        tmp.unlink(missing_ok=True)
        gongbao = Path(sys.executable).with_name("gongbao")
        cmd = [str(gongbao)] if gongbao.exists() else [sys.executable, "-m", "pipeline.cli"]
        done = subprocess.run(cmd + ["ingest", str(CORPUS), "--db", str(tmp), "--no-progress"],
                              cwd=ROOT, capture_output=True, text=True, timeout=600)
        assert done.returncode == 0, f"gongbao ingest failed:\n{done.stdout}\n{done.stderr}"
        tmp.rename(path)
    return path


@pytest.fixture(scope="module")
def ingested(tmp_path_factory):
    conn = sqlite3.connect(f"file:{corpus_db_path(tmp_path_factory)}?mode=ro", uri=True)
    search.register_functions(conn)
    n = conn.execute("SELECT count(*) FROM paragraphs").fetchone()[0]
    assert n > 0, "gongbao ingest corpus/ loaded no paragraphs (see ingest_errors)"
    yield conn
    conn.close()


# ------------------------------------------------------------------------------------- the pieces

def test_two_character_words_are_found_where_unicode61_and_trigram_find_nothing():
    conn = sqlite3.connect(":memory:")
    text = "今年以来，全社会固定资产投资完成187.43亿元，同比增长11%左右"
    conn.execute("CREATE VIRTUAL TABLE plain USING fts5(t)")
    conn.execute("INSERT INTO plain VALUES (?)", (text,))
    assert conn.execute("SELECT count(*) FROM plain WHERE plain MATCH '投资'").fetchone()[0] == 0
    search.register_functions(conn)
    conn.execute("CREATE TABLE paragraphs (id INTEGER PRIMARY KEY, text TEXT)")
    conn.execute("INSERT INTO paragraphs VALUES (1, ?)", (text,))
    search.ensure_fts(conn)
    search.index_paragraphs(conn, [(1, text)])
    for q in ["投资", "187.43亿元", "固定资产投资", "11%", "增长"]:
        assert fts_ids(conn, q) == {1}, q
    for q in ["投资额", "187.4亿元", "18743", "11％"]:
        assert fts_ids(conn, q) == set(), q


def test_segmentation_is_jieba_search_mode():
    seg = search.segment_for_index("全社会固定资产投资完成187.43亿元")
    assert seg.split() == ["全", "社会", "固定", "资产", "固定资产", "投资", "完成", "187.43", "亿元"]
    assert search.segment_for_index("，。、") == ""


@pytest.mark.parametrize("hostile", [
    '"', '""', '投资"', '"投资', 'AND', '投资 OR 项目', 'NEAR(投资 项目)', '投资*', '^投资',
    'paragraphs_fts:投资', 'seg:投资', '(投资', '投资)', '-投资', '投资 NOT 项目',
    "'; drop table paragraphs; --", '\\', '%', '_', '　',
])
def test_operators_and_punctuation_in_user_input_are_searched_as_text(mem, hostile):
    assert fts_ids(mem, hostile) == set.intersection(
        *[like_ids(mem, t) for t in search.query_terms(hostile)] or [set()])


def test_empty_query_matches_nothing(mem):
    assert search.zh_query("") == '""'
    assert fts_ids(mem, "") == set() and fts_ids(mem, "   ") == set()


def test_terms_are_anded_and_quotes_keep_spaces(mem):
    both = like_ids(mem, "投资") & like_ids(mem, "增长")
    assert both and fts_ids(mem, "投资 增长") == both
    conn = memory_db(["重点 项目", "重点项目"])
    assert fts_ids(conn, '"重点 项目"') == {1}
    assert fts_ids(conn, "重点项目") == {2}
    assert fts_ids(conn, "重点 项目") == {1, 2}


def test_ascii_case_folds_like_like():
    conn = memory_db(["实施PPP模式", "ppp项目", "Ｐｐｐ全角"])
    assert fts_ids(conn, "PPP") == like_ids(conn, "PPP") == {1, 2}
    assert fts_ids(conn, "Ｐｐｐ") == like_ids(conn, "Ｐｐｐ") == {3}


def test_reindex_and_delete(mem):
    conn = memory_db(["重点项目建设", "招商引资"])
    search.index_paragraphs(conn, [(1, "民生工程")])  # re-index replaces, never duplicates
    assert fts_ids(conn, "重点项目") == set() and fts_ids(conn, "民生工程") == {1}
    search.index_paragraphs(conn, [(2, "招商引资", search.segment_for_index("招商引资"))])
    assert conn.execute("SELECT count(*) FROM paragraphs_fts").fetchone()[0] == 2
    search.delete_paragraphs(conn, [1, 2, 99])
    assert conn.execute("SELECT count(*) FROM paragraphs_fts").fetchone()[0] == 0


def test_words_mode_keeps_only_paragraphs_holding_every_word(mem):
    q = "固定资产投资增长"
    got = fts_ids(mem, q, "words")
    assert got, q
    assert got <= set.intersection(*(like_ids(mem, w) for w in ["固定资产", "投资", "增长"]))
    assert len(got) > len(fts_ids(mem, q)), "words mode should find paragraphs the exact phrase misses"


def test_unknown_mode_is_an_error():
    with pytest.raises(ValueError, match="mode"):
        search.zh_query("投资", "fuzzy")


# ----------------------------------------------------------------------- LIKE equivalence on the corpus

@pytest.mark.parametrize("q", REQUIRED)
def test_required_queries_equal_like_on_corpus_lines(mem, q):
    expected = like_ids(mem, q)
    assert expected, f"{q} should occur in corpus/"
    assert fts_ids(mem, q) == expected


def test_every_corpus_word_equals_like(mem):
    """Every jieba word of 2–6 characters in corpus/ (about 2,000), plus substrings across word edges."""
    texts = [t for (t,) in mem.execute("SELECT text FROM paragraphs")]
    vocab = sorted({w for t in texts for w in search.words(t) if 2 <= len(w) <= 6})
    rng = random.Random(7)
    crossing = []
    for t in rng.sample(texts, min(60, len(texts))):
        for _ in range(5):
            n = rng.randint(2, 6)
            if len(t) > n:
                i = rng.randrange(len(t) - n)
                crossing.append(t[i:i + n])
    assert len(vocab) > 1000
    wrong = [q for q in vocab + crossing
             if q.strip() and '"' not in q and fts_ids(mem, as_query(q)) != like_ids(mem, q)]
    assert wrong == []


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_any_substring_equals_like(mem, data):
    texts = [t for (t,) in mem.execute("SELECT text FROM paragraphs WHERE length(text) > 8")]
    t = data.draw(st.sampled_from(texts))
    i = data.draw(st.integers(0, len(t) - 2))
    q = t[i:i + data.draw(st.integers(1, 8))]
    if q.strip() and '"' not in q:
        assert fts_ids(mem, as_query(q)) == like_ids(mem, q)


@pytest.mark.parametrize("q", REQUIRED)
def test_required_queries_equal_like_on_ingested_corpus(ingested, q):
    expected = like_ids(ingested, q)
    assert expected, f"{q} should occur in the ingested corpus/"
    assert fts_ids(ingested, q) == expected


def test_ingested_index_covers_every_paragraph(ingested):
    n_par = ingested.execute("SELECT count(*) FROM paragraphs").fetchone()[0]
    n_fts = ingested.execute("SELECT count(*) FROM paragraphs_fts").fetchone()[0]
    assert n_fts == n_par
    texts = [t for (t,) in ingested.execute("SELECT text FROM paragraphs")]
    vocab = sorted({w for t in texts for w in search.words(t) if 2 <= len(w) <= 6})
    assert [q for q in vocab if fts_ids(ingested, q) != like_ids(ingested, q)] == []


def test_docstring_examples():
    import doctest

    from pipeline import publish

    for module in (search, publish):
        result = doctest.testmod(module)
        assert result.attempted > 0 and result.failed == 0, module.__name__
