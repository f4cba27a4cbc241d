"""How Chinese full-text search compares with a LIKE scan: agreement, index size and speed.

For every jieba word of 2–6 characters in the paragraphs (corpus/ and ../shared/devcorpus when present,
simplified with OpenCC, one paragraph per line), the paragraphs found by

* ``exact``  — pipeline.search's default: a phrase over the per-character column,
* ``words``  — jieba search-mode words (the ``seg`` column) ANDed,

are compared with ``text LIKE '%word%'``. Then the corpus is repeated to ~N paragraphs to time index
building and queries against the LIKE scan.

    python benchmarks/search_equivalence.py [--repeat 40]
"""
from __future__ import annotations

import argparse
import sqlite3
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from pipeline import search  # noqa: E402


def paragraphs() -> list[str]:
    import opencc

    t2s = opencc.OpenCC("t2s")
    files = sorted((ROOT / "corpus").glob("*.txt"))
    dev = ROOT.parent / "shared" / "devcorpus"
    files += sorted(dev.glob("*.txt")) if dev.is_dir() else []
    out = []
    for f in files:
        text = t2s.convert(f.read_bytes().decode("utf-8", errors="replace"))
        out += [line for line in text.splitlines() if line.strip()]
    return out


def build(texts: list[str]) -> tuple[sqlite3.Connection, float]:
    conn = sqlite3.connect(":memory:")
    search.register_functions(conn)
    conn.execute("CREATE TABLE paragraphs (id INTEGER PRIMARY KEY, text TEXT)")
    conn.executemany("INSERT INTO paragraphs VALUES (?, ?)", list(enumerate(texts, 1)))
    t = time.perf_counter()
    search.ensure_fts(conn)
    search.index_paragraphs(conn, list(enumerate(texts, 1)))
    return conn, time.perf_counter() - t


def like(conn, q):
    return {r[0] for r in conn.execute("SELECT id FROM paragraphs WHERE text LIKE ? ESCAPE '\\'",
                                       (search.like_pattern(q),))}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--repeat", type=int, default=40, help="copies of the corpus for the timing part")
    args = ap.parse_args()

    texts = paragraphs()
    conn, _ = build(texts)
    vocab = sorted({w for t in texts for w in search.words(t) if 2 <= len(w) <= 6})
    print(f"{len(texts)} paragraphs, {sum(map(len, texts)):,} characters, {len(vocab)} distinct words of 2–6 chars")
    for mode in search.MODES:
        missed = extra = wrong = 0
        for w in vocab:
            got, want = set(search.search(conn, w, mode)), like(conn, w)
            if got != want:
                wrong += 1
                missed += len(want - got)
                extra += len(got - want)
        print(f"  {mode:6} differs from LIKE for {wrong:5} words ({wrong / len(vocab):6.1%}): "
              f"{missed} paragraphs missed, {extra} extra")

    big = texts * args.repeat
    conn, secs = build(big)
    chars = sum(map(len, big))
    pages = conn.execute("SELECT sum(pgsize) FROM dbstat WHERE name LIKE 'paragraphs_fts%'").fetchone()[0] \
        if _has_dbstat(conn) else None
    print(f"\n{len(big):,} paragraphs ({chars / 1e6:.1f} M characters): index built in {secs:.1f} s "
          f"({chars / secs / 1e3:,.0f} k chars/s)" + (f", index {pages / 1e6:.1f} MB" if pages else ""))
    sample = vocab[:: max(1, len(vocab) // 200)]
    for label, fn in [("FTS exact", lambda w: search.search(conn, w)), ("LIKE scan", lambda w: like(conn, w))]:
        times = []
        for w in sample:
            t = time.perf_counter()
            fn(w)
            times.append(time.perf_counter() - t)
        print(f"  {label:9}: median {statistics.median(times) * 1e3:7.2f} ms, "
              f"p95 {sorted(times)[int(len(times) * .95)] * 1e3:7.2f} ms over {len(sample)} words")


def _has_dbstat(conn) -> bool:
    try:
        conn.execute("SELECT 1 FROM dbstat LIMIT 1")
        return True
    except sqlite3.OperationalError:
        return False


if __name__ == "__main__":
    main()
