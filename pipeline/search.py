"""Chinese full-text search over paragraphs with SQLite FTS5.

SQLite's default ``unicode61`` tokenizer reads a run of Chinese characters as one token, so it finds
nothing inside a sentence; the ``trigram`` tokenizer finds nothing shorter than three characters.
This module indexes every paragraph twice, in one FTS5 table ``paragraphs_fts(seg, chars)`` whose
rowid is the paragraph id:

``seg``
    the jieba *search-mode* segmentation (``jieba.cut_for_search``): every word, plus the dictionary
    words inside long words (``固定资产投资`` → ``固定 资产 固定资产 投资``). Queried in ``words`` mode:
    all of the query's words, anywhere in the paragraph.
``chars``
    one token per character (:func:`chars_for_index`). A query is a *phrase* of its characters, and a
    phrase of consecutive tokens matches exactly where the text contains the query, so the default
    ``exact`` mode returns the same paragraphs as ``text LIKE '%q%'``.

Why not words alone: search mode interleaves sub-words (``固定 资产 固定资产 投资``), so a phrase of
the query's words fails wherever a longer word sits between them, and the same characters segment
differently in different contexts (``项目标准`` → ``项目 标准`` hides ``目标``). Word matching misses
or adds paragraphs a substring scan would not; ``benchmarks/search_equivalence.py`` counts them.

The writer (:mod:`pipeline.store`) calls :func:`ensure_fts`, :func:`index_paragraphs` and
:func:`delete_paragraphs` inside each document's transaction; no triggers are involved. The Datasette
plugin (:mod:`pipeline.publish`) registers :func:`zh_query` as an SQL function so queries read::

    select p.* from paragraphs p
    where p.id in (select rowid from paragraphs_fts where paragraphs_fts match zh_query(:q))
"""
from __future__ import annotations

import functools
import logging
import re
import sqlite3
from collections.abc import Iterable, Sequence

FTS_TABLE = "paragraphs_fts"
#: ``remove_diacritics 0``: unicode61 then only folds case, which only ASCII letters reach (see below).
TOKENIZE = "unicode61 remove_diacritics 0"
MODES = ("exact", "words")

# Terms of a query: a "double-quoted run" (may hold spaces) or a whitespace-free run.
_TERM = re.compile(r'"([^"]*)"|(\S+)')
_HAS_WORD_CHAR = re.compile(r"\w")
_CHUNK = 500  # ids per DELETE statement (well under SQLite's variable limit)


@functools.lru_cache(maxsize=1)
def _jieba():
    """jieba's search-mode segmenter, loaded once: rjieba (jieba-rs, the same dictionary and
    algorithm, ~35x faster) when installed, else jieba itself (quietly).

    Indexing and querying both come through here, so they always segment alike.
    """
    try:
        import rjieba

        return rjieba
    except ImportError:  # pragma: no cover - rjieba is a declared dependency
        import jieba

        jieba.setLogLevel(logging.WARNING)
        jieba.initialize()
        return jieba


def words(text: str) -> list[str]:
    """jieba search-mode words of TEXT, without punctuation or whitespace.

    >>> words("全社会固定资产投资完成187.43亿元")
    ['全', '社会', '固定', '资产', '固定资产', '投资', '完成', '187.43', '亿元']
    """
    return [w for w in _jieba().cut_for_search(text) if _HAS_WORD_CHAR.search(w)]


def segment_for_index(text: str) -> str:
    """The ``seg`` column: jieba search-mode words joined by spaces (also the SQL ``zh_segment``).

    >>> segment_for_index("170个州级重点项目")
    '170 个州级 重点 项目 重点项目'
    """
    return " ".join(words(text))


def _char_token(ch: str) -> str:
    """One character as one unicode61 token that matches exactly what ``LIKE`` matches.

    Letters and digits without case (Chinese characters, digits) stand for themselves; ASCII letters
    too, since unicode61 folds their case exactly as ``LIKE`` does. Everything else (punctuation,
    spaces, symbols, non-ASCII cased letters) becomes ``u`` + its hex code point: a single token of
    several characters, which no real character token can equal.
    """
    if ch.isalnum() and (ch.isascii() or ch.lower() == ch.upper()):
        return ch
    return f"u{ord(ch):x}"


class _TokenTable(dict):
    """``str.translate`` table: code point → its :func:`_char_token` and a separating space, filled on demand.

    A corpus uses a few thousand distinct characters, so after the first paragraphs every character is a
    dictionary hit inside ``str.translate`` (C), not a Python call: ~10x faster than joining per-char tokens.
    """

    __slots__ = ()

    def __missing__(self, code: int) -> str:
        tok = self[code] = _char_token(chr(code)) + " "
        return tok


_TOKENS = _TokenTable()


def chars_for_index(text: str) -> str:
    """The ``chars`` column: one token per character of TEXT, in order, separated by single spaces.

    >>> chars_for_index("投资187.43亿元")
    '投 资 1 8 7 u2e 4 3 亿 元'
    >>> chars_for_index("")
    ''
    """
    return text.translate(_TOKENS)[:-1]


def query_terms(q: str) -> list[str]:
    """The terms of a search box query: ``"quoted runs"`` (spaces kept) and whitespace-free runs.

    >>> query_terms('重点项目  "固定 资产" 187.43亿元')
    ['重点项目', '固定 资产', '187.43亿元']
    """
    if q.count('"') % 2:
        q = q + '"'
    return [m.group(1) if m.group(1) is not None else m.group(2) for m in _TERM.finditer(q or "")
            if (m.group(1) or m.group(2))]


def _phrase(tokens: Iterable[str]) -> str:
    """An FTS5 string (phrase) of TOKENS; the tokens never hold ``"`` but are escaped anyway."""
    return '"' + " ".join(t.replace('"', '""') for t in tokens) + '"'


def zh_query(q: str | None, mode: str | None = "exact") -> str:
    """An FTS5 MATCH expression for the search box text Q (the SQL function ``zh_query``).

    ``exact`` (default): every term must occur as written (``LIKE '%term%'``, ASCII case folded);
    ``words``: every jieba word of every term must occur somewhere in the paragraph.
    Each term becomes one quoted phrase and the terms are ANDed, so quotes, ``AND``/``OR``/``NEAR``,
    ``*``, ``^``, ``:`` or parentheses in Q are searched for as text and never parsed as FTS5 syntax.
    An empty Q gives ``""``, which matches nothing.

    >>> zh_query("重点项目")
    'chars : "重 点 项 目"'
    >>> zh_query('投资 OR "x')
    'chars : "投 资" AND chars : "O R" AND chars : "x"'
    >>> zh_query("固定资产投资", mode="words")
    'seg : "固定资产" AND seg : "投资"'
    """
    mode = mode or "exact"
    if mode not in MODES:
        raise ValueError(f"zh_query mode must be one of {MODES}, not {mode!r}")
    parts: list[str] = []
    for term in query_terms(q or ""):
        if mode == "exact":
            parts.append("chars : " + _phrase(_char_token(c) for c in term))
        else:
            for w in _jieba().cut(term):
                if _HAS_WORD_CHAR.search(w):
                    # unicode61 splits "187.43" into 187 43: a phrase keeps them together.
                    parts.append("seg : " + _phrase(w.split()))
    return " AND ".join(dict.fromkeys(parts)) or '""'


def like_pattern(q: str) -> str:
    """The ``LIKE`` pattern equivalent to one exact term (``%`` and ``_`` escaped with ``\\``)."""
    return "%" + q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def ensure_fts(conn: sqlite3.Connection) -> None:
    """Create ``paragraphs_fts(seg, chars)`` if missing (rowid = ``paragraphs.id``).

    An ordinary FTS5 table that keeps its own copy of both columns: deleting a paragraph is then a
    plain ``DELETE`` by rowid, with no need to re-segment the old text (a contentless table would
    need the exact old tokens, which a changed jieba dictionary would no longer give).
    """
    conn.execute(
        f"CREATE VIRTUAL TABLE IF NOT EXISTS [{FTS_TABLE}] USING fts5(seg, chars, tokenize='{TOKENIZE}')"
    )


def index_paragraphs(conn: sqlite3.Connection, rows: Iterable[Sequence]) -> int:
    """Index (or re-index) paragraphs given as ``(paragraph_id, text)``; returns how many.

    A row may carry a third item, ``segment_for_index(text)`` computed earlier (e.g. in a worker
    process), to skip segmenting again here. Runs inside the caller's transaction; call
    :func:`ensure_fts` once before.
    """
    prepared = []
    for row in rows:
        pid, text = int(row[0]), row[1] or ""
        seg = row[2] if len(row) > 2 and row[2] is not None else segment_for_index(text)
        prepared.append((pid, seg, chars_for_index(text)))
    if not prepared:
        return 0
    delete_paragraphs(conn, [r[0] for r in prepared])
    conn.executemany(f"INSERT INTO [{FTS_TABLE}](rowid, seg, chars) VALUES (?, ?, ?)", prepared)
    return len(prepared)


def delete_paragraphs(conn: sqlite3.Connection, ids: Iterable[int]) -> None:
    """Remove paragraphs from the index by id (ids not indexed are ignored)."""
    ids = [int(i) for i in ids]
    for k in range(0, len(ids), _CHUNK):
        chunk = ids[k:k + _CHUNK]
        conn.execute(f"DELETE FROM [{FTS_TABLE}] WHERE rowid IN ({','.join('?' * len(chunk))})", chunk)


def rebuild_index(conn: sqlite3.Connection) -> int:
    """Re-index every row of ``paragraphs`` from scratch (e.g. after a jieba upgrade)."""
    ensure_fts(conn)
    conn.execute(f"DELETE FROM [{FTS_TABLE}]")
    return index_paragraphs(conn, conn.execute("SELECT id, text FROM paragraphs ORDER BY id").fetchall())


def register_functions(conn: sqlite3.Connection) -> None:
    """Register ``zh_query(q[, mode])`` and ``zh_segment(text)`` on CONN (deterministic)."""
    conn.create_function("zh_query", 1, zh_query, deterministic=True)
    conn.create_function("zh_query", 2, zh_query, deterministic=True)
    conn.create_function("zh_segment", 1, lambda t: segment_for_index(t or ""), deterministic=True)


def search(conn: sqlite3.Connection, q: str, mode: str = "exact", limit: int | None = None) -> list[int]:
    """Ids of the paragraphs matching Q, best first (FTS5 bm25 rank)."""
    sql = f"SELECT rowid FROM [{FTS_TABLE}] WHERE [{FTS_TABLE}] MATCH ? ORDER BY rank"
    params: Sequence = (zh_query(q, mode),)
    if limit is not None:
        sql += " LIMIT ?"
        params = (*params, int(limit))
    return [r[0] for r in conn.execute(sql, params)]
