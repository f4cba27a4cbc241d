"""Deduplicate repeated and near-repeated paragraphs, within and across documents.

Scraped bulletins repeat themselves: a page pasted twice (seed 001 repeats five paragraphs), a report bundled
twice with mojibake damage in one copy (seed 003, 篇二 and 篇三), a press release reposted by many sites with a
changed first line, a trimmed ending or a different masthead. Nothing may be counted twice, so every paragraph
gets ``duplicate_of``: the id of the canonical (earliest seen) paragraph of its cluster, or ``None``.

How a paragraph is compared
---------------------------
:func:`fold` maps a paragraph to its comparison form: NFKC (full-width digits and letters, compatibility
forms), lower case, the traditional leftover 著 -> 着, and every space, punctuation mark and symbol removed
(so ``,``/``，``, ``“”``/``""``, mojibake ``?``/``�`` and spacing variants do not matter). Lengths below are
counted in folded characters.

- **Exact**: the 64-bit BLAKE2b of the folded text. Two paragraphs with the same hash are duplicates.
- **Near**: MinHash over character 3-shingles of the folded text (128 permutations, datasketch's ``affine32``
  scheme, computed vectorised in numpy: :func:`signatures` gives the same values as
  ``datasketch.MinHash(scheme="affine32").update_batch`` with :func:`shingle_hashes` as hash function), banded
  LSH (42 bands x 3 rows: a pair at shingle-Jaccard 0.5 becomes a candidate with probability 0.996, at 0.1
  with 0.04) and every candidate verified by :func:`similarity`: rapidfuzz's normalised Indel similarity
  (``2*LCS/(len a + len b)``) of the folded texts, **and** the figures must agree: when both paragraphs hold
  numbers, at least half of the smaller one's numbers must occur in the other (equal, or one digit dropped or
  added by damage; a changed digit is another figure). A templated monthly report that
  repeats last month's wording with new figures is an update, not a duplicate, and keeps its facts.

Threshold (``DEFAULT_THRESHOLD = 0.85``), tuned on the data: over all 443 paragraphs of the five seeds, the six
devcorpus documents and their six broken copies (normalised with :mod:`pipeline.normalize`), true pairs
(seed 001's repeats, 003's 篇二/篇三 twins, each devcorpus paragraph and its broken copy) have similarity
>= 0.91 (the lowest long pair: 0.914, 003 篇二/篇三 "坚持问题导向原则": 0.943), while the most similar
distinct paragraphs score 0.813 (two different 40-50 character paragraphs of devcorpus 004 about 1月 foreign
investment; a dateline vs. a title in 002). 0.85 sits in that gap. Planted copies with up to 10 % character
edits score >= 0.88 (``benchmarks/bench_dedupe.py``).

Short paragraphs
----------------
Headings (``强化目标引领。``), datelines and signatures are short and generic; two different ones easily score
above any threshold (``一、省市重点项目建设…`` vs ``二、市县重点项目建设…``), and the same generic line in two
unrelated documents is not a repeat. So:

- below ``min_exact_chars`` (8): never clustered (``特此报告。``, ``天城县人民政府``, ``最新消息``);
- from 8 to ``min_near_chars`` (24): exact matches only, and only *in context*: within the same document, or
  with the document this one reposts (document-level duplicate). They are recorded with method ``"short"``.
  So 003's 篇三 headings (``二、合理扩大有效投资有关举措``) join their 篇二 twins, while the same date line in two
  unrelated bulletins stays unclustered;
- from 24 on: exact and near matching across everything stored (methods ``"exact"`` and ``"near"``).

Documents
---------
A document is a near-duplicate (a repost) of an earlier one when at least ``doc_share`` (0.5) of its content
paragraphs (>= ``min_near_chars``) belong to clusters with a member in that one document (ties: the earliest).
A changed first line, a trimmed ending or another masthead do not prevent it.

Clusters
--------
A new paragraph joins the cluster of its most similar verified match (ties: the earliest); clusters are flat
(``duplicate_of`` always names the canonical, never a member), and a cluster is never merged after the fact,
so an earlier answer never changes except when a canonical paragraph is forgotten (:meth:`DedupeIndex.forget_document`).

Persistence and speed
---------------------
:class:`DedupeIndex` keeps its own tables in the caller's SQLite connection (``paragraph_signatures``,
``document_signatures``, ``dedupe_meta``) and never commits: the store's per-document transaction covers it.
The in-memory LSH is rebuilt from the stored signatures on first use (numpy, sort-based: no per-paragraph
Python work) and new rows are added as they come, so new documents are checked against everything stored
without rebuilding. Our own band index is used instead of ``datasketch.MinHashLSH`` because the latter keeps
a Python set per bucket and hashes every band in Python: on 100,000 paragraphs it needs ~1 GB and several
times the time (figures in ``benchmarks/bench_dedupe.py``); the signatures are datasketch's own.
"""
from __future__ import annotations

import hashlib
import sqlite3
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import regex

DEFAULT_THRESHOLD = 0.85
MIN_EXACT_CHARS = 8
MIN_NEAR_CHARS = 24
DOC_SHARE = 0.5
NUMBER_AGREEMENT = 0.5
SHINGLE = 3
NUM_PERM = 128
BANDS, ROWS = 42, 3
SEED = 1

_DROP = regex.compile(r"[\p{P}\p{S}\p{Z}\p{C}\s]+")
_VARIANTS = str.maketrans({"著": "着"})
_DIGITS = regex.compile(r"\d+")

_U64 = np.uint64
_M1, _M2 = _U64(0xFF51AFD7ED558CCD), _U64(0xC4CEB9FE1A85EC53)
_POLY = _U64(0x100000001B3)
_MERGE_AT = 400_000  # band entries kept in the Python dict before they are merged into the sorted arrays

SCHEMA = """
CREATE TABLE IF NOT EXISTS paragraph_signatures (
    paragraph_id INTEGER PRIMARY KEY,
    document_id INTEGER NOT NULL,
    seq INTEGER NOT NULL,
    n_chars INTEGER NOT NULL,
    exact_hash INTEGER NOT NULL,
    canonical_id INTEGER,
    method TEXT,
    similarity REAL,
    folded TEXT,
    minhash BLOB
);
CREATE INDEX IF NOT EXISTS paragraph_signatures_exact ON paragraph_signatures(exact_hash);
CREATE INDEX IF NOT EXISTS paragraph_signatures_document ON paragraph_signatures(document_id);
CREATE INDEX IF NOT EXISTS paragraph_signatures_canonical ON paragraph_signatures(canonical_id);
CREATE INDEX IF NOT EXISTS paragraph_signatures_seq ON paragraph_signatures(seq);
CREATE TABLE IF NOT EXISTS document_signatures (
    document_id INTEGER PRIMARY KEY,
    duplicate_of INTEGER,
    n_content INTEGER NOT NULL,
    n_matched INTEGER NOT NULL,
    share REAL
);
CREATE INDEX IF NOT EXISTS document_signatures_duplicate_of ON document_signatures(duplicate_of);
CREATE TABLE IF NOT EXISTS dedupe_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
"""


# ------------------------------------------------------------------------------------------- pure helpers

def fold(text: str) -> str:
    """The comparison form of a paragraph: NFKC, lower case, no spaces, punctuation or symbols.

    >>> fold("强化目标引领。 ２０１７年，投资“完成”187.43亿元")
    '强化目标引领2017年投资完成18743亿元'
    """
    return _DROP.sub("", unicodedata.normalize("NFKC", text).lower().translate(_VARIANTS))


def exact_hash(folded: str) -> int:
    """A stable signed 64-bit hash of a folded paragraph (fits an SQLite INTEGER)."""
    return int.from_bytes(hashlib.blake2b(folded.encode("utf-8"), digest_size=8).digest(), "little", signed=True)


def numbers(folded: str) -> list[str]:
    """The digit runs of a folded paragraph (decimal points are folded away on both sides alike)."""
    return _DIGITS.findall(folded)


def numbers_agree(a: Sequence[str], b: Sequence[str], share: float = NUMBER_AGREEMENT) -> bool:
    """True unless both hold numbers and fewer than ``share`` of the smaller list occur in the other.

    A number "occurs" when equal to one of the other's, or (from two digits on) one digit longer or shorter:
    damage that drops, splits or adds a digit (``421``/``21``); a changed digit (``95``/``97``) is a different
    figure.

    >>> numbers_agree(["2019", "12"], ["2019", "12", "5"]), numbers_agree(["1475"], ["714"]), numbers_agree([], ["1"])
    (True, False, True)
    >>> numbers_agree(["421"], ["21"]), numbers_agree(["95", "86"], ["97", "91"])
    (True, False)
    """
    if not a or not b:
        return True
    from rapidfuzz.distance import Indel

    small, big = (a, b) if len(a) <= len(b) else (b, a)
    pool = list(big)
    hit = 0
    for x in small:
        if x in pool:
            pool.remove(x)
            hit += 1
            continue
        for j, y in enumerate(pool):
            if min(len(x), len(y)) >= 2 and Indel.distance(x, y, score_cutoff=1) <= 1:
                del pool[j]
                hit += 1
                break
    return hit >= share * len(small)


def similarity(a: str, b: str) -> float:
    """Normalised Indel similarity (``2*LCS/(len a + len b)``) of two folded paragraphs, in [0, 1]."""
    from rapidfuzz.distance import Indel

    return Indel.normalized_similarity(a, b)


def _fmix64(x: np.ndarray) -> np.ndarray:
    x = x ^ (x >> _U64(33))
    x = x * _M1
    x = x ^ (x >> _U64(33))
    x = x * _M2
    return x ^ (x >> _U64(33))


def _codes(folded: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
    """All code points of ``folded`` concatenated, and each paragraph's start offset (plus the total)."""
    lens = np.fromiter((len(s) for s in folded), dtype=np.int64, count=len(folded))
    starts = np.zeros(len(folded) + 1, dtype=np.int64)
    np.cumsum(lens, out=starts[1:])
    codes = np.frombuffer("".join(folded).encode("utf-32-le"), dtype=np.uint32)
    return codes, starts


def shingle_hashes(folded: Sequence[str], k: int = SHINGLE) -> tuple[np.ndarray, np.ndarray]:
    """Stable 32-bit hashes of the character k-shingles of each text, concatenated, and segment starts.

    A text shorter than ``k`` contributes one shingle, itself. Shingles never cross texts.
    """
    codes, starts = _codes(folded)
    lens = np.diff(starts)
    nsh = np.maximum(lens - k + 1, 1)
    nsh[lens == 0] = 0
    out_starts = np.zeros(len(folded) + 1, dtype=np.int64)
    np.cumsum(nsh, out=out_starts[1:])
    total = int(out_starts[-1])
    if total == 0:
        return np.zeros(0, dtype=np.uint32), out_starts
    # position of each shingle in ``codes``: segment start + offset within the segment
    seg = np.repeat(np.arange(len(folded)), nsh)
    pos = starts[:-1][seg] + (np.arange(total) - out_starts[:-1][seg])
    width = np.minimum(lens[seg], k)
    c64 = np.concatenate([codes.astype(np.uint64), np.zeros(k, dtype=np.uint64)])
    h = np.zeros(total, dtype=np.uint64)
    for j in range(k):
        take = j < width
        h = np.where(take, (h * _POLY) ^ (c64[pos + j] + _U64(1)), h)
    h = _fmix64(h)
    return (h ^ (h >> _U64(32))).astype(np.uint32), out_starts


@lru_cache(maxsize=8)
def permutations(num_perm: int = NUM_PERM, seed: int = SEED) -> tuple[np.ndarray, np.ndarray]:
    """datasketch's ``affine32`` permutation parameters ``(a, b)`` (uint32, ``a`` odd) for ``seed``."""
    gen = np.random.RandomState(seed)
    a = gen.randint(0, 1 << 31, num_perm, dtype=np.uint32) * np.uint32(2) + np.uint32(1)
    b = gen.randint(0, 1 << 32, num_perm, dtype=np.uint32)
    return a, b


def _fmix32(h: np.ndarray) -> np.ndarray:
    h = h ^ (h >> np.uint32(16))
    h = h * np.uint32(0x85EBCA6B)
    h = h ^ (h >> np.uint32(13))
    h = h * np.uint32(0xC2B2AE35)
    return h ^ (h >> np.uint32(16))


def signatures(folded: Sequence[str], num_perm: int = NUM_PERM, seed: int = SEED, k: int = SHINGLE,
               chunk: int = 1 << 16) -> np.ndarray:
    """MinHash signatures (``len(folded) x num_perm``, uint32) of the k-shingle sets, vectorised.

    Identical to ``datasketch.MinHash(num_perm, seed, scheme="affine32")`` updated with the
    :func:`shingle_hashes` values, but computed over all shingles at once (permutations applied as one
    ``num_perm x shingles`` matrix per chunk, minima by ``np.minimum.reduceat``). Empty texts get the
    all-ones "empty" signature.
    """
    n = len(folded)
    sig = np.full((n, num_perm), np.uint32(0xFFFFFFFF), dtype=np.uint32)
    if n == 0:
        return sig
    hv, starts = shingle_hashes(folded, k)
    hv = _fmix32(hv)
    a, b = permutations(num_perm, seed)
    i = 0
    while i < n:
        # take whole texts until the chunk holds about ``chunk`` shingles
        j = int(np.searchsorted(starts, starts[i] + chunk, side="right")) - 1
        j = min(max(j, i + 1), n)
        lo, hi = int(starts[i]), int(starts[j])
        if hi > lo:
            m = np.multiply.outer(a, hv[lo:hi])
            m += b[:, None]
            seg = starts[i:j] - lo
            nonempty = np.diff(starts[i:j + 1]) > 0
            mins = np.minimum.reduceat(m, seg[nonempty], axis=1)
            sig[np.arange(i, j)[nonempty]] = mins.T
        i = j
    return sig


def band_keys(sig: np.ndarray, bands: int = BANDS, rows: int = ROWS) -> np.ndarray:
    """One uint64 key per (signature, band): a hash of the band's ``rows`` values and the band number."""
    n = sig.shape[0]
    v = sig[:, :bands * rows].reshape(n, bands, rows).astype(np.uint64)
    h = np.broadcast_to(np.arange(1, bands + 1, dtype=np.uint64) * _U64(0x9E3779B97F4A7C15), (n, bands)).copy()
    for j in range(rows):
        h = _fmix64((h * _POLY) ^ v[:, :, j])
    return h


# --------------------------------------------------------------------------------------------- band index

class _BandIndex:
    """LSH buckets: sorted numpy arrays of (band key, paragraph id) plus a dict of recent additions.

    Lookups in the sorted part are ``np.searchsorted``; the dict is merged into it (a linear stable merge)
    once it holds ``_MERGE_AT`` entries, so memory stays at 16 bytes per band entry.
    """

    def __init__(self) -> None:
        self.keys = np.zeros(0, dtype=np.uint64)
        self.ids = np.zeros(0, dtype=np.int64)
        self.recent: dict[int, list[int]] = {}
        self.n_recent = 0
        self.dead: set[int] = set()

    def bulk(self, ids: np.ndarray, keys: np.ndarray) -> None:
        """Add many paragraphs at once (``keys``: ``len(ids) x bands``)."""
        if len(ids) == 0:
            return
        k = keys.reshape(-1)
        i = np.repeat(np.asarray(ids, dtype=np.int64), keys.shape[1])
        self._merge(k, i)

    def _merge(self, k: np.ndarray, i: np.ndarray) -> None:
        keys = np.concatenate([self.keys, k])
        ids = np.concatenate([self.ids, i])
        if self.dead:
            alive = ~np.isin(ids, np.fromiter(self.dead, dtype=np.int64, count=len(self.dead)))
            keys, ids = keys[alive], ids[alive]
            self.dead.clear()
        order = np.argsort(keys, kind="stable")
        self.keys, self.ids = keys[order], ids[order]

    def add(self, pid: int, keys: Iterable[int]) -> None:
        n = 0
        for k in keys:
            self.recent.setdefault(k, []).append(pid)
            n += 1
        self.n_recent += n

    def maybe_flush(self) -> None:
        """Merge the recent additions into the sorted arrays once there are enough of them."""
        if self.n_recent >= _MERGE_AT:
            self.flush()

    def flush(self) -> None:
        if not self.recent:
            return
        k = np.fromiter((key for key, v in self.recent.items() for _ in v), dtype=np.uint64)
        i = np.fromiter((p for v in self.recent.values() for p in v), dtype=np.int64)
        self.recent.clear()
        self.n_recent = 0
        self._merge(k, i)

    def remove(self, pid: int) -> None:
        self.dead.add(pid)

    def ranges(self, keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """``searchsorted`` ranges in the sorted part for a ``n x bands`` key matrix."""
        flat = keys.reshape(-1)
        lo = np.searchsorted(self.keys, flat, side="left")
        hi = np.searchsorted(self.keys, flat, side="right")
        return lo.reshape(keys.shape), hi.reshape(keys.shape)

    def candidates(self, keys_row: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> set[int]:
        out: set[int] = set()
        for b in np.nonzero(hi > lo)[0]:
            out.update(self.ids[lo[b]:hi[b]].tolist())
        if self.recent:
            get = self.recent.get
            for k in keys_row.tolist():
                v = get(k)
                if v:
                    out.update(v)
        if self.dead:
            out -= self.dead
        return out


# ------------------------------------------------------------------------------------------------- index

@dataclass
class _Stored:
    """What the in-memory index keeps of a content paragraph (>= min_near_chars)."""
    document_id: int
    seq: int
    folded: str
    numbers: list[str]
    root: int  # the canonical paragraph of its cluster (itself when canonical)


class DedupeIndex:
    """Incremental paragraph and document deduplication over the store's SQLite connection.

    ``DedupeIndex(conn)`` creates its tables if missing (inside the caller's transaction; it never commits).
    Call :meth:`assign` once per document, in arrival order; it writes the signatures and returns each
    paragraph's canonical id. Several instances over one database file see each other's rows: each reloads
    its in-memory LSH when the stored rows changed behind it.

    >>> import sqlite3
    >>> ix = DedupeIndex(sqlite3.connect(":memory:"))
    >>> text = "今年以来，全社会固定资产投资完成187.43亿元，同比增长11%左右，完成省定目标的43%。"
    >>> ix.assign(1, [(10, text), (11, "特此报告。")])
    {10: None, 11: None}
    >>> ix.assign(2, [(20, "本报讯 " + text.replace("，", ",")), (21, "特此报告。")])
    {20: 10, 21: None}
    >>> ix.clusters(), ix.document_duplicate_of(2)
    ([{'canonical': 10, 'members': [10, 20]}], 1)
    """

    def __init__(self, conn: sqlite3.Connection, threshold: float = DEFAULT_THRESHOLD, *,
                 min_exact_chars: int = MIN_EXACT_CHARS, min_near_chars: int = MIN_NEAR_CHARS,
                 doc_share: float = DOC_SHARE, number_agreement: float = NUMBER_AGREEMENT,
                 num_perm: int = NUM_PERM, bands: int = BANDS, rows: int = ROWS, shingle: int = SHINGLE,
                 seed: int = SEED) -> None:
        if not 0.0 < threshold <= 1.0:
            raise ValueError(f"threshold must be in (0, 1], got {threshold}")
        if bands * rows > num_perm:
            raise ValueError(f"bands x rows ({bands} x {rows}) exceeds num_perm ({num_perm})")
        if min_near_chars < max(min_exact_chars, shingle):
            raise ValueError("min_near_chars must be at least min_exact_chars and the shingle size")
        self.conn = conn
        self.threshold = threshold
        self.min_exact_chars = min_exact_chars
        self.min_near_chars = min_near_chars
        self.doc_share = doc_share
        self.number_agreement = number_agreement
        self.num_perm, self.bands, self.rows, self.shingle, self.seed = num_perm, bands, rows, shingle, seed
        for stmt in SCHEMA.split(";"):
            if stmt.strip():
                conn.execute(stmt)
        self._check_meta()
        self._loaded = False
        self._generation = None
        self._max_seq = 0

    # ---------------------------------------------------------------------------------- bookkeeping
    def _params(self) -> dict[str, str]:
        return {"num_perm": str(self.num_perm), "bands": str(self.bands), "rows": str(self.rows),
                "shingle": str(self.shingle), "seed": str(self.seed), "scheme": "affine32"}

    def _check_meta(self) -> None:
        stored = dict(self.conn.execute("SELECT key, value FROM dedupe_meta").fetchall())
        params = self._params()
        if not any(k in stored for k in params):
            self.conn.executemany("INSERT OR IGNORE INTO dedupe_meta (key, value) VALUES (?, ?)",
                                  [*params.items(), ("generation", "0")])
            return
        diff = {k: (stored.get(k), v) for k, v in params.items() if stored.get(k) != v}
        if diff:
            raise ValueError(f"this database's dedupe signatures were made with other parameters "
                             f"(stored, requested): {diff}; open it with the stored ones")

    def _stored_generation(self) -> int:
        row = self.conn.execute("SELECT value FROM dedupe_meta WHERE key = 'generation'").fetchone()
        return int(row[0]) if row else 0

    def _bump_generation(self) -> None:
        self._generation = self._stored_generation() + 1
        self.conn.execute("INSERT OR REPLACE INTO dedupe_meta (key, value) VALUES ('generation', ?)",
                          (str(self._generation),))

    def _ensure_loaded(self) -> None:
        """Load (or bring up to date) the in-memory index from the stored signatures."""
        gen = self._stored_generation()
        if not self._loaded or gen != self._generation:
            self._para: dict[int, _Stored] = {}
            self._exact: dict[int, int] = {}
            self._lsh = _BandIndex()
            self._max_seq = 0
            self._generation = gen
            self._loaded = True
        top = self.conn.execute("SELECT max(seq) FROM paragraph_signatures").fetchone()[0] or 0
        if top > self._max_seq:
            self._load_since(self._max_seq)

    def _load_since(self, seq: int) -> None:
        rows = self.conn.execute(
            "SELECT paragraph_id, document_id, seq, exact_hash, coalesce(canonical_id, paragraph_id), folded, "
            "minhash FROM paragraph_signatures WHERE seq > ? AND minhash IS NOT NULL ORDER BY seq", (seq,)).fetchall()
        if rows:
            ids = np.fromiter((r[0] for r in rows), dtype=np.int64, count=len(rows))
            sig = np.frombuffer(b"".join(r[6] for r in rows), dtype="<u4").reshape(len(rows), self.num_perm)
            self._lsh.flush()
            self._lsh.bulk(ids, band_keys(sig, self.bands, self.rows))
            for pid, doc, s, h, root, folded, _ in rows:
                self._para[pid] = _Stored(doc, s, folded, numbers(folded), root)
                self._exact.setdefault(h, pid)
        self._max_seq = self.conn.execute("SELECT max(seq) FROM paragraph_signatures").fetchone()[0] or 0

    # ------------------------------------------------------------------------------------- matching
    def _root(self, pid: int) -> int:
        st = self._para.get(pid)
        if st is not None:
            return st.root
        row = self.conn.execute("SELECT coalesce(canonical_id, paragraph_id) FROM paragraph_signatures "
                                "WHERE paragraph_id = ?", (pid,)).fetchone()
        return row[0] if row else pid

    def _near(self, folded: str, nums: list[str], cands: set[int]) -> tuple[int, float] | None:
        """The best verified candidate ``(paragraph id, similarity)``: highest similarity, then earliest."""
        from rapidfuzz.distance import Indel

        best: tuple[float, int, int] | None = None
        n = len(folded)
        for pid in cands:
            st = self._para.get(pid)
            if st is None:
                continue
            m = len(st.folded)
            if 2 * min(n, m) / (n + m) < self.threshold:  # the length bound alone rules it out
                continue
            s = Indel.normalized_similarity(folded, st.folded, score_cutoff=self.threshold)
            if s < self.threshold or not numbers_agree(nums, st.numbers, self.number_agreement):
                continue
            key = (-s, st.seq, pid)
            if best is None or key < best:
                best = key
        return (best[2], -best[0]) if best else None

    def assign(self, document_id: int, paragraphs: list[tuple[int, str]]) -> dict[int, int | None]:
        """Match a new document's paragraphs ``[(paragraph id, text), ...]`` (in order) against everything
        stored and against each other; store their signatures; return ``{paragraph id: canonical id or None}``.

        Uses the caller's connection and transaction (no commit).
        """
        self._ensure_loaded()
        out: dict[int, int | None] = {}
        folded = [fold(t) for _, t in paragraphs]
        seq0 = self._max_seq
        rows: list[tuple] = []
        long_idx = [i for i, f in enumerate(folded) if len(f) >= self.min_near_chars]
        sig = signatures([folded[i] for i in long_idx], self.num_perm, self.seed, self.shingle)
        keys = band_keys(sig, self.bands, self.rows)
        lo, hi = self._lsh.ranges(keys)
        row_of = {i: r for r, i in enumerate(long_idx)}

        # content paragraphs: exact, then near, against everything (including this document's earlier ones)
        for i in long_idx:
            pid, f = paragraphs[i][0], folded[i]
            r = row_of[i]
            h = exact_hash(f)
            nums = numbers(f)
            canonical, method, sim = None, None, None
            first = self._exact.get(h)
            if first is not None and first in self._para:
                canonical, method, sim = self._para[first].root, "exact", 1.0
            else:
                hit = self._near(f, nums, self._lsh.candidates(keys[r], lo[r], hi[r]))
                if hit is not None:
                    canonical, method, sim = self._para[hit[0]].root, "near", hit[1]
            seq = seq0 + i + 1
            self._para[pid] = _Stored(document_id, seq, f, nums, canonical if canonical is not None else pid)
            self._exact.setdefault(h, pid)
            self._lsh.add(pid, keys[r].tolist())
            out[pid] = canonical
            rows.append((pid, document_id, seq, len(f), h, canonical, method, sim, f,
                         sig[r].astype("<u4").tobytes()))
        self._write(rows)
        rows = []

        dup_doc = self._match_document(document_id, [paragraphs[i][0] for i in long_idx], seq0 + 1)

        # short paragraphs: exact matches within this document or the document it reposts
        seen: dict[int, int] = {}
        for i, ((pid, _), f) in enumerate(zip(paragraphs, folded)):
            if len(f) >= self.min_near_chars:
                continue
            seq = seq0 + i + 1
            if len(f) < self.min_exact_chars:
                out[pid] = None
                rows.append((pid, document_id, seq, len(f), exact_hash(f), None, None, None, None, None))
                continue
            h = exact_hash(f)
            canonical = None
            if dup_doc is not None:
                row = self.conn.execute(
                    "SELECT coalesce(canonical_id, paragraph_id) FROM paragraph_signatures WHERE exact_hash = ? "
                    "AND document_id = ? AND n_chars >= ? ORDER BY seq LIMIT 1",
                    (h, dup_doc, self.min_exact_chars)).fetchone()
                canonical = row[0] if row else None
            if canonical is None and h in seen:
                canonical = seen[h]
            seen.setdefault(h, canonical if canonical is not None else pid)
            out[pid] = canonical
            rows.append((pid, document_id, seq, len(f), h, canonical, "short" if canonical is not None else None,
                         1.0 if canonical is not None else None, None, None))
        self._write(rows)
        self._max_seq = seq0 + len(paragraphs)
        self._lsh.maybe_flush()
        return {pid: out[pid] for pid, _ in paragraphs}

    def _write(self, rows: list[tuple]) -> None:
        if rows:
            self.conn.executemany(
                "INSERT OR REPLACE INTO paragraph_signatures (paragraph_id, document_id, seq, n_chars, exact_hash, "
                "canonical_id, method, similarity, folded, minhash) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", rows)

    def _match_document(self, document_id: int, content_ids: list[int], first_seq: int) -> int | None:
        """Decide (and store) which earlier document (rows before ``first_seq``), if any, ``document_id`` reposts."""
        roots = sorted({self._root(p) for p in content_ids})
        counts: dict[int, set[int]] = {}
        if roots:
            by_root: dict[int, set[int]] = {}
            for i in range(0, len(roots), 500):
                chunk = roots[i:i + 500]
                marks = ", ".join("?" * len(chunk))
                for root, doc in self.conn.execute(
                        f"SELECT coalesce(canonical_id, paragraph_id), document_id FROM paragraph_signatures "
                        f"WHERE (paragraph_id IN ({marks}) OR canonical_id IN ({marks})) AND seq < ?",
                        (*chunk, *chunk, first_seq)):
                    by_root.setdefault(root, set()).add(doc)
            for p in content_ids:
                for doc in by_root.get(self._root(p), ()):
                    counts.setdefault(doc, set()).add(p)
        best, n_best = None, 0
        for doc in sorted(counts):
            if len(counts[doc]) > n_best:
                best, n_best = doc, len(counts[doc])
        share = n_best / len(content_ids) if content_ids else 0.0
        dup = best if content_ids and share >= self.doc_share else None
        self.conn.execute("INSERT OR REPLACE INTO document_signatures (document_id, duplicate_of, n_content, "
                          "n_matched, share) VALUES (?, ?, ?, ?, ?)",
                          (document_id, dup, len(content_ids), n_best, share))
        return dup

    # ------------------------------------------------------------------------------------- forgetting
    def forget_document(self, document_id: int) -> dict[int, int | None]:
        """Remove a document's signatures (its file changed or was deleted).

        Clusters whose canonical paragraph was in it elect their earliest remaining member as canonical;
        returns ``{paragraph id: new canonical id or None}`` for the paragraphs of *other* documents whose
        ``duplicate_of`` must change. Documents that reposted it are re-examined.
        """
        self._ensure_loaded()
        gone = [r[0] for r in self.conn.execute(
            "SELECT paragraph_id FROM paragraph_signatures WHERE document_id = ?", (document_id,))]
        if not gone and self.conn.execute("SELECT 1 FROM document_signatures WHERE document_id = ?",
                                          (document_id,)).fetchone() is None:
            return {}
        changes: dict[int, int | None] = {}
        members: dict[int, list[int]] = {}
        for i in range(0, len(gone), 500):
            chunk = gone[i:i + 500]
            marks = ", ".join("?" * len(chunk))
            for old, pid in self.conn.execute(
                    f"SELECT canonical_id, paragraph_id FROM paragraph_signatures WHERE canonical_id IN ({marks}) "
                    f"AND document_id != ? ORDER BY canonical_id, seq", (*chunk, document_id)):
                members.setdefault(old, []).append(pid)
        self.conn.execute("DELETE FROM paragraph_signatures WHERE document_id = ?", (document_id,))
        self.conn.execute("DELETE FROM document_signatures WHERE document_id = ?", (document_id,))
        for old, pids in members.items():
            new = pids[0]
            changes[new] = None
            self.conn.execute("UPDATE paragraph_signatures SET canonical_id = NULL, method = NULL, similarity = NULL "
                              "WHERE paragraph_id = ?", (new,))
            for p in pids[1:]:
                changes[p] = new
            if len(pids) > 1:
                marks = ", ".join("?" * (len(pids) - 1))
                self.conn.execute(f"UPDATE paragraph_signatures SET canonical_id = ? WHERE paragraph_id IN ({marks})",
                                  (new, *pids[1:]))
        self._bump_generation()  # other instances reload lazily; this one now
        self._loaded = False
        self._ensure_loaded()
        # documents that reposted the forgotten one: look again with what remains
        for (doc,) in self.conn.execute("SELECT document_id FROM document_signatures WHERE duplicate_of = ?",
                                        (document_id,)).fetchall():
            rows = self.conn.execute("SELECT paragraph_id, n_chars, seq FROM paragraph_signatures "
                                     "WHERE document_id = ? ORDER BY seq", (doc,)).fetchall()
            if rows:
                self._match_document(doc, [r[0] for r in rows if r[1] >= self.min_near_chars], rows[0][2])
        return changes

    def repoint(self, changes: dict[int, int | None], table: str = "paragraphs") -> None:
        """Apply :meth:`forget_document`'s changes to ``table.duplicate_of`` (the store may do it itself)."""
        self.conn.executemany(f"UPDATE {table} SET duplicate_of = ? WHERE id = ?",
                              [(c, p) for p, c in changes.items()])

    # ---------------------------------------------------------------------------------------- queries
    def document_duplicate_of(self, document_id: int) -> int | None:
        """The earlier document this one reposts (most of its content paragraphs are duplicates), or None."""
        row = self.conn.execute("SELECT duplicate_of FROM document_signatures WHERE document_id = ?",
                                (document_id,)).fetchone()
        return row[0] if row else None

    def clusters(self) -> list[dict]:
        """``[{"canonical": id, "members": [ids]}]``: every cluster with at least one duplicate; ``members``
        lists all its paragraphs, canonical first, in arrival order (``gongbao duplicates --format json``)."""
        out: dict[int, list[int]] = {}
        for canonical, pid in self.conn.execute(
                "SELECT s.canonical_id, s.paragraph_id FROM paragraph_signatures AS s "
                "JOIN paragraph_signatures AS c ON c.paragraph_id = s.canonical_id "
                "WHERE s.canonical_id IS NOT NULL ORDER BY c.seq, s.seq"):
            out.setdefault(canonical, [canonical]).append(pid)
        return [{"canonical": c, "members": m} for c, m in out.items()]


def find_duplicates(paragraphs: list[str], threshold: float = DEFAULT_THRESHOLD, **kwargs) -> list[int | None]:
    """For each paragraph (one document, in order), the index of its canonical paragraph, or None.

    >>> find_duplicates(["甲乙丙丁戊己庚辛壬癸子丑寅卯辰巳午未申酉戌亥天地", "特此报告。",
    ...                  "甲乙丙丁戊己庚辛壬癸子丑寅卯辰巳午未申酉戌亥天地。", "特此报告。"])
    [None, None, 0, None]
    """
    conn = sqlite3.connect(":memory:")
    try:
        got = DedupeIndex(conn, threshold, **kwargs).assign(0, list(enumerate(paragraphs)))
    finally:
        conn.close()
    return [got[i] for i in range(len(paragraphs))]
