"""Deduplicate repeated and near-repeated paragraphs, within and across documents.

Scraped bulletins repeat themselves: a page pasted twice (seed 001 repeats five paragraphs), a report bundled
twice with damage in one copy (seed 003, 篇二 and 篇三), a press release reposted by many sites with a changed
first line, a trimmed ending or a different masthead. Nothing may be counted twice, so every paragraph gets
``duplicate_of``: the id of the canonical (earliest seen) paragraph of its cluster, or ``None``.

How paragraphs are compared
---------------------------
:func:`fold` gives the comparison form: letters and digits only (spaces, punctuation and symbols go, so
``,``/``，``, ``“”``/``""``, mojibake ``?``/``�`` and spacing do not matter), NFKC (full-width digits and
letters), lower case, and the traditional leftover 著 -> 着. Lengths below are in folded characters.

- **Exact**: the 64-bit BLAKE2b of the folded text.
- **Near**: MinHash over character 3-shingles (128 permutations, datasketch's ``affine32`` scheme computed
  vectorised in numpy: :func:`signatures` equals ``datasketch.MinHash(scheme="affine32").update_batch`` over
  the :func:`shingle_hashes`, 17x faster), banded LSH with 32 bands x 4 rows (a pair at shingle-Jaccard 0.5
  becomes a candidate with probability 0.87, at 0.6 with 0.988, at 0.7 with 0.9996; at 0.1 with 0.003), two
  cheap vectorised filters (the similarity's length bound; MinHash-estimated Jaccard >= ``JACCARD_FLOOR``
  0.2, where a pair at the threshold has >= 0.38 even with its edits spread to break the most shingles), then
  verification by :func:`similarity`, rapidfuzz's normalised Indel similarity ``2*LCS/(len a + len b)``,
  **and** agreeing figures: when both paragraphs hold numbers, at least half of the smaller one's numbers must
  occur in the other (equal, or from two digits on one digit dropped or added by damage; a changed digit is
  another figure). A templated monthly report repeating last month's wording with new figures is an update,
  not a duplicate, and keeps its facts.

Threshold ``DEFAULT_THRESHOLD = 0.85``, tuned on the data: over the 325 paragraphs of >= 24 characters in
the five seeds, the six devcorpus documents and their six broken copies (normalised with
:mod:`pipeline.normalize`), the 250 true pairs (001's repeats, 003's 篇二/篇三 twins, each devcorpus paragraph
and its broken copy) all score >= 0.942, while of the 49,777 other pairs the most similar score 0.813 (two
different paragraphs of devcorpus 004 on January foreign investment; a dateline and a headline in 002) --
except a headline repeated as ``原标题：…`` (0.955), a true repeat. 0.85 sits in the gap with room for
heavier damage: copies with 1-10 % character edits and truncations score >= 0.896
(``benchmarks/bench_dedupe.py``).

Short paragraphs
----------------
Headings (``强化目标引领。``), datelines and signatures are short and generic; two different ones easily score
above any threshold (``一、省市重点项目建设…`` vs ``二、市县重点项目建设…``), and the same generic line in two
unrelated documents is not a repeat. So:

- below ``min_exact_chars`` (8): never clustered (``特此报告。``, ``天城县人民政府``, ``最新消息``);
- from 8 to ``min_near_chars`` (24): exact matches only, and only *in context*: within the same document, or
  with the earlier document this one reposts. Recorded with method ``"short"``. So 003's 篇三 headings
  (``二、合理扩大有效投资有关举措``) join their 篇二 twins, while one date line in two unrelated bulletins does not;
- from 24 on: exact and near matching against everything stored (methods ``"exact"`` and ``"near"``).

Documents
---------
A document reposts an earlier one (:meth:`DedupeIndex.document_duplicate_of`) when at least ``doc_share``
(0.5) of its content paragraphs (>= ``min_near_chars``) are in clusters with a member in that one document
(ties: the earliest). A changed first line, a trimmed ending or another masthead do not prevent it; each
broken devcorpus copy is found to repost its clean original.

Clusters
--------
A new paragraph joins the cluster of its most similar verified match (ties: the earliest). Clusters are flat
(``duplicate_of`` names the canonical, never a member) and never merged afterwards, so an answer once given
changes only when its canonical paragraph is forgotten (:meth:`DedupeIndex.forget_document`).

Persistence and speed
---------------------
:class:`DedupeIndex` keeps its tables (``paragraph_signatures``, ``document_signatures``, ``dedupe_meta``) in
the caller's SQLite connection and never commits: the store's per-document transaction covers it. The LSH
lives in memory, rebuilt from the stored signatures on first use (numpy, no per-paragraph Python work) and
extended document by document, so new documents are checked against everything stored without rebuilding.
It is our own log-structured set of sorted ``(band key, row)`` arrays rather than ``datasketch.MinHashLSH``:
on 20,000 paragraphs (inserted and queried as ``assign`` does) MinHashLSH took 4.5 s and 190 MB, ours 0.7 s
and 51 MB (19 MB plus a fixed 32 MB presence table). On 100,000 paragraphs with 10 % planted near-duplicates
the whole ``assign`` pass costs ~11 CPU seconds (precision 0.9997, recall 0.996 of the planted pairs above the
threshold), reopening ~1.5 CPU seconds, peak RSS ~600 MB including the benchmark's own data.
"""
from __future__ import annotations

import hashlib
import sqlite3
import unicodedata
from collections.abc import Iterable, Sequence
from functools import lru_cache

import numpy as np
import regex

DEFAULT_THRESHOLD = 0.85
MIN_EXACT_CHARS = 8
MIN_NEAR_CHARS = 24
DOC_SHARE = 0.5
NUMBER_AGREEMENT = 0.5
JACCARD_FLOOR = 0.2
SHINGLE = 3
NUM_PERM = 128
BANDS, ROWS = 32, 4
SEED = 1

_DROP = regex.compile(r"[^\p{L}\p{N}]+")
_DIGITS = regex.compile(r"\d+")

_U64 = np.uint64
_M1, _M2 = _U64(0xFF51AFD7ED558CCD), _U64(0xC4CEB9FE1A85EC53)
_POLY = _U64(0x100000001B3)

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
CREATE INDEX IF NOT EXISTS paragraph_signatures_document ON paragraph_signatures(document_id);
CREATE INDEX IF NOT EXISTS paragraph_signatures_canonical ON paragraph_signatures(canonical_id);
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
    # dropping punctuation first spares NFKC its slow path (full-width ，。 need recomposition): 2.5x faster
    t = unicodedata.normalize("NFKC", _DROP.sub("", text)).lower().replace("著", "着")
    return _DROP.sub("", t)


def exact_hash(folded: str) -> int:
    """A stable signed 64-bit hash of a folded paragraph (fits an SQLite INTEGER)."""
    return int.from_bytes(hashlib.blake2b(folded.encode("utf-8"), digest_size=8).digest(), "little", signed=True)


def numbers(folded: str) -> list[str]:
    """The digit runs of a folded paragraph (decimal points are folded away on both sides alike)."""
    return _DIGITS.findall(folded)


# The memos below are bounded (16k entries each, ~10 MB together at most): the writer's memory must not grow
# with the corpus beyond the index itself.
@lru_cache(maxsize=1 << 14)
def _numbers_of(folded: str) -> tuple[str, ...]:
    """:func:`numbers` of a stored paragraph, memoized: a templated paragraph is verified against every
    earlier copy, each of which would otherwise be scanned again (str caches its hash: lookups are cheap)."""
    return tuple(_DIGITS.findall(folded))


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
    small, big = (a, b) if len(a) <= len(b) else (b, a)
    need = share * len(small)
    reach = _reach_all(tuple(big))
    if sum(1 for x in small if not _reach(x).isdisjoint(reach)) < need:
        return False  # too few of them can match anything (most pairs of different figures stop here)
    Indel = _indel()
    pool = list(big)
    hit = 0
    left = len(small)
    for x in small:
        # the answer is known once enough numbers matched, or too few are left to match (hits only grow)
        if hit >= need:
            return True
        if hit + left < need:
            return False
        left -= 1
        if x in pool:
            pool.remove(x)
            hit += 1
            continue
        n = len(x)
        for j, y in enumerate(pool):
            # x != y here, so an Indel distance <= 1 needs lengths one apart: test that first (most pairs)
            if abs(len(y) - n) == 1 and min(n, len(y)) >= 2 and Indel.distance(x, y, score_cutoff=1) <= 1:
                del pool[j]
                hit += 1
                break
    return hit >= need


@lru_cache(maxsize=1 << 14)
def _reach(z: str) -> frozenset[str]:
    """``z`` and, from three digits on, ``z`` with one digit dropped: two numbers that match in
    :func:`numbers_agree` (equal, or one digit apart from two digits on) always share one of these.

    >>> sorted(_reach("421")), sorted(_reach("21"))
    (['21', '41', '42', '421'], ['21'])
    """
    if len(z) < 3:
        return frozenset((z,))
    return frozenset([z] + [z[:i] + z[i + 1:] for i in range(len(z))])


@lru_cache(maxsize=1 << 14)
def _reach_all(nums: tuple[str, ...]) -> frozenset[str]:
    """The union of :func:`_reach` over ``nums`` (memoized: a stored paragraph's figures meet many queries)."""
    return frozenset().union(*map(_reach, nums))


@lru_cache(maxsize=1)
def _indel():
    from rapidfuzz.distance import Indel

    return Indel


def similarity(a: str, b: str) -> float:
    """Normalised Indel similarity (``2*LCS/(len a + len b)``) of two folded paragraphs, in [0, 1]."""
    return _indel().normalized_similarity(a, b)


def _fmix64(x: np.ndarray) -> np.ndarray:
    x = x ^ (x >> _U64(33))
    x = x * _M1
    x = x ^ (x >> _U64(33))
    x = x * _M2
    return x ^ (x >> _U64(33))


def _codes(folded: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
    """All code points of ``folded`` concatenated, and each paragraph's start offset (plus the total)."""
    lens = np.array(list(map(len, folded)), dtype=np.int64)
    starts = np.zeros(len(folded) + 1, dtype=np.int64)
    np.cumsum(lens, out=starts[1:])
    codes = np.frombuffer("".join(folded).encode("utf-32-le"), dtype=np.uint32)
    return codes, starts


def shingle_hashes(folded: Sequence[str], k: int = SHINGLE) -> tuple[np.ndarray, np.ndarray]:
    """Stable 32-bit hashes of the character k-shingles of each text, concatenated, and segment starts.

    A shingle's k code points (21 bits each) are packed into one integer (exact for k <= 3, a polynomial
    beyond), mixed by the MurmurHash3 64-bit finaliser and folded to 32 bits. A text shorter than ``k``
    contributes one shingle, itself. Shingles never cross texts.
    """
    codes, starts = _codes(folded)
    lens = np.diff(starts)
    n_texts = len(folded)
    nsh = np.maximum(lens - k + 1, 1)
    nsh[lens == 0] = 0
    out_starts = np.zeros(n_texts + 1, dtype=np.int64)
    np.cumsum(nsh, out=out_starts[1:])
    if out_starts[-1] == 0:
        return np.zeros(0, dtype=np.uint32), out_starts
    c = np.concatenate([codes.astype(np.uint64), np.zeros(k, dtype=np.uint64)])
    if (lens >= k).all():  # the common case: every window start except the last k-1 of each text
        n = len(codes)
        h = c[:n - k + 1].copy()
        for j in range(1, k):
            h = (h << _U64(21)) ^ c[j:n - k + 1 + j] if k <= 3 else (h * _POLY) ^ c[j:n - k + 1 + j]
        keep = np.ones(n - k + 1, dtype=bool)
        for j in range(1, k):
            ends = starts[1:] - j
            keep[ends[ends <= n - k]] = False
        h = h[keep]
    else:
        seg = np.repeat(np.arange(n_texts), nsh)
        pos = starts[:-1][seg] + (np.arange(int(out_starts[-1])) - out_starts[:-1][seg])
        width = np.minimum(lens[seg], k)
        h = c[pos]
        for j in range(1, k):
            nxt = (h << _U64(21)) ^ c[pos + j] if k <= 3 else (h * _POLY) ^ c[pos + j]
            h = np.where(j < width, nxt, h)
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
    if len(hv) <= chunk and (np.diff(starts) > 0).all():  # the usual document: one matrix
        m = np.multiply.outer(a, hv)
        m += b[:, None]
        return np.ascontiguousarray(np.minimum.reduceat(m, starts[:-1], axis=1).T)
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
    h = np.arange(1, bands + 1, dtype=np.uint64) * _U64(0x9E3779B97F4A7C15)
    for j in range(rows):
        h = (h ^ v[:, :, j]) * _POLY
    return _fmix64(h)


# --------------------------------------------------------------------------------------------- band index

def _merge_sorted(a: tuple[np.ndarray, np.ndarray], b: tuple[np.ndarray, np.ndarray]
                  ) -> tuple[np.ndarray, np.ndarray]:
    """Merge two sorted (keys, rows) runs in one linear pass (``b``'s entries go after equal keys of ``a``)."""
    (ak, ai), (bk, bi) = a, b
    n = len(ak) + len(bk)
    pos = np.searchsorted(ak, bk, side="right") + np.arange(len(bk))
    from_a = np.ones(n, dtype=bool)
    from_a[pos] = False
    keys, ids = np.empty(n, dtype=np.uint64), np.empty(n, dtype=np.int64)
    keys[pos], ids[pos] = bk, bi
    keys[from_a], ids[from_a] = ak, ai
    return keys, ids


class _BandIndex:
    """LSH buckets as a log-structured set of sorted runs of (band key, row), all numpy.

    Each document adds one small sorted run; a run is merged (linearly) into the one before it while that one
    is at most twice its size, so there are O(log n) runs and every entry is merged O(log n) times. A lookup
    is two ``np.searchsorted`` per run for all band keys of a document at once, for the keys whose leading
    bits occur at all (a presence table weeds out most). 16 bytes per band entry, no per-key Python work.
    """

    PRESENCE_BITS = 25  # a 32 MB table of "some key starts with these bits": most lookups stop there

    def __init__(self) -> None:
        self.runs: list[tuple[np.ndarray, np.ndarray]] = []
        self.present = np.zeros(1 << self.PRESENCE_BITS, dtype=bool)
        self.shift = _U64(64 - self.PRESENCE_BITS)

    def add(self, rows: np.ndarray, keys: np.ndarray) -> None:
        """Add rows (``keys``: ``len(rows) x bands``)."""
        if len(rows) == 0:
            return
        k = keys.reshape(-1)
        i = np.repeat(np.asarray(rows, dtype=np.int64), keys.shape[1])
        self.present[k >> self.shift] = True
        order = np.argsort(k, kind="stable")
        self.runs.append((k[order], i[order]))
        while len(self.runs) > 1 and len(self.runs[-2][0]) <= 2 * len(self.runs[-1][0]):
            last = self.runs.pop()
            self.runs[-1] = _merge_sorted(self.runs[-1], last)

    def pairs(self, keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """``(query, row)`` pairs for every band key of ``keys`` (``n x bands``) found in any run; a row
        sharing several bands with a query appears several times."""
        b = keys.shape[1]
        flat = keys.reshape(-1)
        order = np.flatnonzero(self.present[flat >> self.shift])
        order = order[np.argsort(flat[order])]  # sorted needles search faster (numpy reuses the last position)
        needles = flat[order]
        qs, cs = [], []
        for rk, ri in self.runs:
            lo = np.searchsorted(rk, needles, side="left")
            cnt = np.searchsorted(rk, needles, side="right") - lo
            hit = np.flatnonzero(cnt)
            if len(hit) == 0:
                continue
            cnt, lo = cnt[hit], lo[hit]
            total = int(cnt.sum())
            pos = np.repeat(lo - (np.cumsum(cnt) - cnt), cnt) + np.arange(total)
            qs.append(np.repeat(order[hit] // b, cnt))
            cs.append(ri[pos])
        if not qs:
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
        return np.concatenate(qs), np.concatenate(cs)


# ------------------------------------------------------------------------------------------------- index

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
                "shingle": str(self.shingle), "seed": str(self.seed), "scheme": "affine32",
                "shingle_hash": "pack21-fmix64"}

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

    def _meta_int(self, key: str) -> int:
        row = self.conn.execute("SELECT value FROM dedupe_meta WHERE key = ?", (key,)).fetchone()
        return int(row[0]) if row else 0

    def _set_meta(self, key: str, value: int) -> None:
        self.conn.execute("INSERT OR REPLACE INTO dedupe_meta (key, value) VALUES (?, ?)", (key, str(value)))

    def _bump_generation(self) -> None:
        self._set_meta("generation", self._meta_int("generation") + 1)

    def _reset(self) -> None:
        # content paragraphs in arrival order ("rows"; the LSH stores row numbers): folded text, id, root
        self._folded: list[str] = []
        self._pids: list[int] = []
        self._roots: list[int] = []  # the canonical paragraph of the row's cluster (its own id when canonical)
        self._row_of: dict[int, int] = {}  # paragraph id -> row
        self._sigs = np.zeros((1024, self.num_perm), dtype=np.uint32)
        self._lens = np.zeros(1024, dtype=np.int64)
        self._exact: dict[int, int] = {}  # exact hash -> earliest paragraph id
        self._lsh = _BandIndex()
        self._max_seq = 0

    def _ensure_loaded(self) -> None:
        """Load (or bring up to date) the in-memory index from the stored signatures."""
        gen = self._meta_int("generation")
        if not self._loaded or gen != self._generation:
            self._reset()
            self._generation = gen
            self._loaded = True
        top = self._meta_int("max_seq")
        if top > self._max_seq:
            self._load_since(self._max_seq)
            self._max_seq = top

    def _load_since(self, seq: int) -> None:
        rows = self.conn.execute(
            "SELECT paragraph_id, document_id, seq, exact_hash, coalesce(canonical_id, paragraph_id), folded, "
            "minhash FROM paragraph_signatures WHERE seq > ? AND minhash IS NOT NULL ORDER BY seq", (seq,)).fetchall()
        if not rows:
            return
        sig = np.frombuffer(b"".join(r[6] for r in rows), dtype="<u4").reshape(len(rows), self.num_perm)
        first = len(self._pids)
        self._reserve(first + len(rows))
        self._sigs[first:first + len(rows)] = sig
        for pid, _, _, h, root, folded, _ in rows:
            self._add_row(pid, folded, root)
            self._exact.setdefault(h, pid)
        self._lsh.add(np.arange(first, len(self._pids)), band_keys(sig, self.bands, self.rows))

    def _reserve(self, n: int) -> None:
        """Room for ``n`` rows in the signature and length arrays (doubling)."""
        if n > len(self._lens):
            cap = max(n, 2 * len(self._lens))
            sigs = np.zeros((cap, self.num_perm), dtype=np.uint32)
            sigs[:len(self._sigs)] = self._sigs
            lens = np.zeros(cap, dtype=np.int64)
            lens[:len(self._lens)] = self._lens
            self._sigs, self._lens = sigs, lens

    def _add_row(self, pid: int, folded: str, root: int) -> int:
        """Append a row (its signature is already in ``_sigs``)."""
        row = len(self._pids)
        self._reserve(row + 1)
        self._lens[row] = len(folded)
        self._folded.append(folded)
        self._pids.append(pid)
        self._roots.append(root)
        self._row_of[pid] = row
        return row

    # ------------------------------------------------------------------------------------- matching
    def _root(self, pid: int) -> int:
        row = self._row_of.get(pid)
        if row is not None:
            return self._roots[row]
        got = self.conn.execute("SELECT coalesce(canonical_id, paragraph_id) FROM paragraph_signatures "
                                "WHERE paragraph_id = ?", (pid,)).fetchone()
        return got[0] if got else pid

    def _prefilter(self, n: np.ndarray | int, sig: np.ndarray, rows: np.ndarray) -> np.ndarray:
        """Which candidate rows can pass: the similarity's length bound, and a MinHash estimate of the shingle
        Jaccard >= ``JACCARD_FLOOR`` (a pair at the threshold has >= 0.38 even with its edits spread to break
        the most shingles). ``n``/``sig``: the query's folded length and signature (or one per candidate)."""
        m = self._lens[rows]
        ok = 2 * np.minimum(n, m) >= self.threshold * (n + m)
        ok &= (self._sigs[rows] == sig).mean(axis=1) >= JACCARD_FLOOR
        return ok

    def _verify(self, folded: str, nums: list[str], rows: Iterable[int]) -> tuple[int, float] | None:
        """The best verified candidate row ``(row, similarity)``: highest similarity, then earliest."""
        Indel = _indel()
        best: tuple[float, int] | None = None
        for row in rows:
            other = self._folded[row]
            s = Indel.normalized_similarity(folded, other, score_cutoff=self.threshold)
            if s < self.threshold or not numbers_agree(nums, _numbers_of(other), self.number_agreement):
                continue
            if best is None or (-s, row) < best:
                best = (-s, row)
        return (best[1], -best[0]) if best else None

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
        base, n_long = len(self._pids), len(long_idx)  # this document's content paragraphs become rows base + r
        self._reserve(base + n_long)
        self._sigs[base:base + n_long] = sig
        self._lens[base:base + n_long] = [len(folded[i]) for i in long_idx]

        blobs, bw = sig.astype("<u4").tobytes(), 4 * self.num_perm
        # candidate (paragraph, row) pairs: the stored buckets (vectorised) and earlier paragraphs
        # of this document sharing a band; then both cheap filters at once for the whole document
        q, cand = self._lsh.pairs(keys)
        if n_long > 1:  # earlier paragraphs of this document sharing a band
            flat = keys.reshape(-1)
            order = np.argsort(flat, kind="stable")
            fs, owner = flat[order], order // self.bands
            same = np.flatnonzero(fs[1:] == fs[:-1]) + 1
            if len(same):
                wq, wc = [], []
                for j in same.tolist():  # rare: a band shared within one document
                    g = j - 1
                    while g >= 0 and fs[g] == fs[j]:
                        a, c = int(owner[j]), int(owner[g])
                        if a != c:
                            wq.append(max(a, c))
                            wc.append(base + min(a, c))
                        g -= 1
                q = np.concatenate([q, np.asarray(wq, dtype=np.int64)])
                cand = np.concatenate([cand, np.asarray(wc, dtype=np.int64)])
        by_para: dict[int, list[int]] = {}
        if len(q):
            width = base + n_long + 1
            qc = np.unique(q * width + cand)
            q, cand = qc // width, qc % width
            ok = self._prefilter(self._lens[base + q], sig[q], cand)
            for a, c in zip(q[ok].tolist(), cand[ok].tolist()):
                by_para.setdefault(a, []).append(c)

        # content paragraphs: exact, then near, against everything (including this document's earlier ones)
        for r, i in enumerate(long_idx):
            pid, f = paragraphs[i][0], folded[i]
            h = exact_hash(f)
            canonical, method, sim = None, None, None
            first = self._exact.get(h)
            if first is not None and first in self._row_of:
                canonical, method, sim = self._roots[self._row_of[first]], "exact", 1.0
            elif r in by_para:
                hit = self._verify(f, numbers(f), by_para[r])
                if hit is not None:
                    canonical, sim = self._roots[hit[0]], hit[1]
                    method = "exact" if self._folded[hit[0]] == f else "near"
            seq = seq0 + i + 1
            self._folded.append(f)  # row base + r (its signature and length are in place already)
            self._pids.append(pid)
            self._roots.append(canonical if canonical is not None else pid)
            self._row_of[pid] = base + r
            self._exact.setdefault(h, pid)
            out[pid] = canonical
            rows.append((pid, document_id, seq, len(f), h, canonical, method, sim, f,
                         blobs[r * bw:(r + 1) * bw]))
        self._lsh.add(np.arange(base, base + n_long), keys)
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
                    "SELECT coalesce(canonical_id, paragraph_id) FROM paragraph_signatures WHERE document_id = ? "
                    "AND exact_hash = ? AND n_chars >= ? ORDER BY seq LIMIT 1",
                    (dup_doc, h, self.min_exact_chars)).fetchone()
                canonical = row[0] if row else None
            if canonical is None and h in seen:
                canonical = seen[h]
            seen.setdefault(h, canonical if canonical is not None else pid)
            out[pid] = canonical
            rows.append((pid, document_id, seq, len(f), h, canonical, "short" if canonical is not None else None,
                         1.0 if canonical is not None else None, None, None))
        self._write(rows)
        self._max_seq = seq0 + len(paragraphs)
        self._set_meta("max_seq", self._max_seq)
        return {pid: out[pid] for pid, _ in paragraphs}

    def _write(self, rows: list[tuple]) -> None:
        if rows:
            self.conn.executemany(
                "INSERT OR REPLACE INTO paragraph_signatures (paragraph_id, document_id, seq, n_chars, exact_hash, "
                "canonical_id, method, similarity, folded, minhash) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", rows)

    def _match_document(self, document_id: int, content_ids: list[int], first_seq: int) -> int | None:
        """Decide (and store) which earlier document (rows before ``first_seq``), if any, ``document_id`` reposts."""
        root_of = {p: self._root(p) for p in content_ids}
        # a paragraph that is its own canonical has no copy in an earlier document: only matched ones count
        roots = sorted({r for p, r in root_of.items() if r != p})
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
                for doc in by_root.get(root_of[p], ()):
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
        # other instances reload lazily (generation); this one updates its memory in place
        self._bump_generation()
        self._generation = self._meta_int("generation")
        gone_set = set(gone)
        for p in gone:
            row = self._row_of.pop(p, None)
            if row is not None:  # stays in the LSH, but a zero length fails every length bound
                self._lens[row] = 0
                self._folded[row] = ""
        for p, new in changes.items():
            row = self._row_of.get(p)
            if row is not None:
                self._roots[row] = p if new is None else new
        for h in [h for h, p in self._exact.items() if p in gone_set]:
            del self._exact[h]  # remaining copies still match through the LSH, at similarity 1.0
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
