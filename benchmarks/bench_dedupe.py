"""Benchmark pipeline.dedupe on 100,000 real-looking paragraphs with planted near-duplicates.

Paragraphs are recombined from the clauses of the seeds and the devcorpus (normalised), with fresh figures
and region names so that they are distinct; about 10 % are planted copies of an earlier paragraph: a few
folded-equal variants (other punctuation and spacing) and the rest with 1-10 % character edits
(substitutions, insertions, deletions) and, for a third of them, the tail truncated. Paragraphs go through
``DedupeIndex.assign`` twenty per document (the seeds hold 12-57), in one SQLite file, exactly as the store calls it.

Figures printed (and written to ``benchmarks/out/bench_dedupe.json``):

- precision and recall of the (paragraph, canonical) pairs against the planted pairs, both over all planted
  pairs and over those whose true similarity passes the threshold (the ones the index promises to find);
- time to generate, to index, to reopen the file (rebuild the LSH from stored signatures), peak RSS;
- with ``--compare``: signatures by ``datasketch.MinHash.update_batch`` vs. our vectorised numpy, and
  ``datasketch.MinHashLSH`` vs. our band index (insert + query) on a subset.

Usage: python benchmarks/bench_dedupe.py [--n 100000] [--dup-share 0.1] [--seed 0] [--compare 20000]
"""
from __future__ import annotations

import argparse
import gc
import json
import os
import random
import re
import resource
import sqlite3
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from pipeline.dedupe import (DEFAULT_THRESHOLD, DedupeIndex, band_keys, fold, numbers,  # noqa: E402
                             numbers_agree, signatures, similarity)
from pipeline.normalize import normalize  # noqa: E402

SHARED = ROOT.parent / "shared"
REGIONS = ("甘孜州", "柞水县", "成都市", "天城县", "武汉市", "宜昌市", "襄阳市", "黄石市", "十堰市", "荆州市",
           "深圳市", "东莞市", "惠州市", "佛山市", "广州市", "珠海市", "南宁市", "柳州市", "桂林市", "昆明市",
           "曲靖市", "玉溪市", "贵阳市", "遵义市", "安顺市", "西安市", "宝鸡市", "咸阳市", "渭南市", "汉中市",
           "兰州市", "天水市", "西宁市", "银川市", "乌鲁木齐市", "哈尔滨市", "齐齐哈尔市", "长春市", "吉林市",
           "沈阳市", "大连市", "鞍山市", "石家庄市", "唐山市", "保定市", "太原市", "大同市", "郑州市", "洛阳市",
           "开封市", "济南市", "青岛市", "烟台市", "合肥市", "芜湖市", "淮北市", "南京市", "苏州市", "无锡市",
           "杭州市", "宁波市", "温州市", "福州市", "厦门市", "泉州市", "南昌市", "赣州市", "长沙市", "株洲市",
           "康定市", "泸定县", "丹巴县", "九龙县", "雅江县", "道孚县", "炉霍县", "甘孜县", "新龙县", "德格县",
           "白玉县", "石渠县", "色达县", "理塘县", "巴塘县", "乡城县", "稻城县", "得荣县", "镇安县", "山阳县")
_CLAUSE_SPLIT = re.compile(r"[，,；;。！？!?：:]+")
_DIGITS = re.compile(r"\d+(?:\.\d+)?")
_WHOLE = re.compile(r"全县|全市|全区|全省|全州|我县|我市|我区|我省|我州")
_PUNCT_SWAP = str.maketrans({"，": ",", "；": ";", "：": ":", "（": "(", "）": ")", "“": '"', "”": '"'})


def source_clauses() -> list[str]:
    """Distinct clauses (>= 6 characters) of the seeds and the clean devcorpus, normalised."""
    paths = sorted((SHARED / "seeds").glob("*.txt")) or sorted((ROOT / "corpus").glob("*.txt"))
    paths += sorted((SHARED / "devcorpus").glob("*.txt"))
    seen: dict[str, None] = {}
    for p in paths:
        for line in normalize(p.read_bytes()).text.split("\n"):
            for c in _CLAUSE_SPLIT.split(line.strip()):
                c = c.strip(" \u3000-—…·")
                if len(c) >= 6 and not c.startswith("http"):
                    seen.setdefault(c, None)
    return list(seen)


def _number(rng: random.Random, m: re.Match) -> str:
    s = m.group(0)
    if "." in s:
        whole, frac = s.split(".")
        return f"{rng.randint(1, 10 ** len(whole) - 1)}.{rng.randint(0, 10 ** len(frac) - 1):0{len(frac)}d}"
    return str(rng.randint(1, 10 ** min(len(s), 6) - 1))


def base_paragraph(rng: random.Random, clauses: list[str]) -> str:
    """A new paragraph: 3-9 random clauses, fresh figures, a region name."""
    region = rng.choice(REGIONS)
    parts = []
    for c in rng.sample(clauses, rng.randint(3, 9)):
        c = _DIGITS.sub(lambda m: _number(rng, m), c)
        c = _WHOLE.sub(region, c) if rng.random() < 0.7 else c
        parts.append(c)
    if rng.random() < 0.5:
        parts[0] = f"{region}{parts[0]}"
    return "，".join(parts) + "。"


def plant_copy(rng: random.Random, text: str, vocab: str) -> tuple[str, str]:
    """A near-duplicate of ``text`` and a label of what was done to it."""
    if rng.random() < 0.1:
        return text.translate(_PUNCT_SWAP).replace("，", " , ", 1), "punctuation"
    chars = list(text)
    budget = max(1, round(len(chars) * rng.uniform(0.01, 0.10)))
    label = "edits"
    if rng.random() < 0.33:
        cut = rng.randint(1, budget)
        del chars[len(chars) - cut:]
        budget -= cut
        label = "truncated+edits"
    for _ in range(budget):
        i = rng.randrange(len(chars))
        op = rng.random()
        if op < 0.5:
            chars[i] = rng.choice(vocab)
        elif op < 0.75:
            chars.insert(i, rng.choice(vocab))
        elif len(chars) > 10:
            del chars[i]
    return "".join(chars), label


def generate(n: int, dup_share: float, seed: int) -> tuple[list[str], dict[int, int], dict[int, str]]:
    """``n`` paragraphs; ``truth[copy index] = base index`` for the planted copies; their labels."""
    rng = random.Random(seed)
    clauses = source_clauses()
    vocab = "".join(sorted({ch for c in clauses for ch in c if "\u4e00" <= ch <= "\u9fff"}))
    texts: list[str] = []
    truth: dict[int, int] = {}
    labels: dict[int, str] = {}
    bases: list[int] = []
    for i in range(n):
        if bases and rng.random() < dup_share:
            b = rng.choice(bases)
            texts.append("")
            texts[i], labels[i] = plant_copy(rng, texts[b], vocab)
            truth[i] = b
        else:
            texts.append(base_paragraph(rng, clauses))
            bases.append(i)
    return texts, truth, labels


def current_rss_mb() -> float:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2 ** 20


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def run(n: int, dup_share: float, seed: int, per_doc: int, threshold: float) -> dict:
    t_start, c_start = time.perf_counter(), time.process_time()
    t0, c0 = time.perf_counter(), time.process_time()
    texts, truth, labels = generate(n, dup_share, seed)
    t_gen, c_gen = time.perf_counter() - t0, time.process_time() - c0

    tmp = tempfile.mkdtemp(prefix="bench_dedupe_")
    path = Path(tmp) / "dedupe.db"
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("PRAGMA synchronous = NORMAL")  # WAL's usual pairing: no fsync per commit
    ix = DedupeIndex(conn, threshold=threshold)
    got: dict[int, int | None] = {}
    t0, c0 = time.perf_counter(), time.process_time()
    for d, start in enumerate(range(0, n, per_doc), start=1):
        got.update(ix.assign(d, [(i + 1, texts[i]) for i in range(start, min(n, start + per_doc))]))
        if d % 100 == 0:
            conn.commit()
    conn.commit()
    t_index, c_index = time.perf_counter() - t0, time.process_time() - c0
    n_clusters = len(ix.clusters())
    conn.close()
    del ix  # the reopen below must rebuild from the file alone
    gc.collect()

    t0, c0 = time.perf_counter(), time.process_time()
    conn = sqlite3.connect(path)
    ix2 = DedupeIndex(conn, threshold=threshold)
    ix2._ensure_loaded()
    t_reopen, c_reopen = time.perf_counter() - t0, time.process_time() - c0
    probe = ix2.assign(10 ** 9, [(10 ** 9, texts[max(truth) if truth else 0])])  # checked against everything
    conn.rollback()
    conn.close()

    # pairs: predicted (paragraph, canonical) vs planted (copy, base); paragraph ids are index + 1
    predicted = {(p - 1, c - 1) for p, c in got.items() if c is not None}
    planted = {(c, b) for c, b in truth.items()}
    above = set()
    for c, b in planted:
        fa, fb = fold(texts[c]), fold(texts[b])
        if similarity(fa, fb) >= threshold and numbers_agree(numbers(fa), numbers(fb)):
            above.add((c, b))
    hit = predicted & planted
    missed = sorted(above - predicted)
    by_label: dict[str, list[int]] = {}
    for c, b in planted:
        by_label.setdefault(labels[c], [0, 0])
        by_label[labels[c]][0] += 1
        by_label[labels[c]][1] += (c, b) in predicted
    return {
        "paragraphs": n, "planted_pairs": len(planted), "planted_above_threshold": len(above),
        "threshold": threshold, "predicted_pairs": len(predicted), "clusters": n_clusters,
        "precision": len(hit) / len(predicted) if predicted else 1.0,
        "recall_above_threshold": len(above & predicted) / len(above) if above else 1.0,
        "recall_all_planted": len(hit) / len(planted) if planted else 1.0,
        "found_by_kind": {k: f"{v[1]}/{v[0]}" for k, v in sorted(by_label.items())},
        "false_pairs_sample": [(texts[p][:40], texts[c][:40]) for p, c in sorted(predicted - planted)[:3]],
        "missed_sample": [(texts[c][:40], texts[b][:40]) for c, b in missed[:3]],
        "reopen_probe_matched": probe.get(10 ** 9) is not None,
        "seconds_generate": round(t_gen, 2), "seconds_index": round(t_index, 2),
        "seconds_reopen": round(t_reopen, 2), "paragraphs_per_second": round(n / t_index),
        "cpu_seconds_generate": round(c_gen, 2), "cpu_seconds_index": round(c_index, 2),
        "cpu_seconds_reopen": round(c_reopen, 2), "load_average": round(os.getloadavg()[0], 1),
        "seconds_total": round(time.perf_counter() - t_start, 2),
        "cpu_seconds_total": round(time.process_time() - c_start, 2),
        "db_mb": round(sum(f.stat().st_size for f in Path(tmp).iterdir()) / 2 ** 20, 1),
        "peak_rss_mb": round(peak_rss_mb()),
    }


def compare(m: int, seed: int) -> dict:
    """Our vectorised signatures and band index against datasketch's MinHash and MinHashLSH on ``m`` texts."""
    import numpy as np
    from datasketch import LeanMinHash, MinHash, MinHashLSH

    from pipeline.dedupe import BANDS, NUM_PERM, ROWS, SEED, _BandIndex, shingle_hashes

    texts, _, _ = generate(m, 0.1, seed + 1)
    folded = [fold(t) for t in texts]
    t0 = time.perf_counter()
    sig = signatures(folded)
    t_numpy = time.perf_counter() - t0
    k = min(m, 2000)
    hv, starts = shingle_hashes(folded[:k])
    t0 = time.perf_counter()
    for i in range(k):
        mh = MinHash(num_perm=NUM_PERM, seed=SEED, hashfunc=lambda x: x, scheme="affine32")
        mh.update_batch(hv[starts[i]:starts[i + 1]].tolist())
    t_ds_sig = (time.perf_counter() - t0) * m / k

    rss0 = current_rss_mb()
    t0 = time.perf_counter()
    lsh = MinHashLSH(num_perm=NUM_PERM, params=(BANDS, ROWS))
    for i in range(m):
        lm = LeanMinHash(seed=SEED, hashvalues=sig[i], scheme="affine32")
        lsh.query(lm)
        lsh.insert(i, lm, check_duplication=False)
    t_ds_lsh = time.perf_counter() - t0
    mb_ds = current_rss_mb() - rss0
    del lsh
    gc.collect()

    rss0 = current_rss_mb()
    t0 = time.perf_counter()
    keys = band_keys(sig)
    bi = _BandIndex()
    for start in range(0, m, 20):  # as assign() does: one lookup and one insertion per document
        bi.pairs(keys[start:start + 20])
        bi.add(np.arange(start, min(m, start + 20)), keys[start:start + 20])
    t_ours = time.perf_counter() - t0
    mb_ours = current_rss_mb() - rss0
    return {"texts": m, "signatures_numpy_s": round(t_numpy, 2),
            "signatures_datasketch_update_batch_s (extrapolated)": round(t_ds_sig, 2),
            "lsh_datasketch_query_insert_s": round(t_ds_lsh, 2), "lsh_datasketch_mb": round(mb_ds),
            "lsh_ours_query_insert_s": round(t_ours, 2), "lsh_ours_mb (incl. 32 MB presence table)": round(mb_ours)}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--n", type=int, default=100_000)
    ap.add_argument("--dup-share", type=float, default=0.1)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--per-doc", type=int, default=20)
    ap.add_argument("--threshold", type=float, default=DEFAULT_THRESHOLD)
    ap.add_argument("--compare", type=int, default=0, help="also compare with datasketch on this many texts")
    args = ap.parse_args(argv)
    out = run(args.n, args.dup_share, args.seed, args.per_doc, args.threshold)
    if args.compare:
        out["compare"] = compare(args.compare, args.seed)
    for k, v in out.items():
        print(f"{k:28} {v}")
    target = out["precision"] >= 0.98 and out["recall_above_threshold"] >= 0.98
    budget = out["seconds_total"] <= 30 and out["peak_rss_mb"] <= 1024
    print(f"{'accuracy target (>= 0.98)':28} {'met' if target else 'NOT met'}")
    print(f"{'budget (30 s, 1 GB)':28} {'met' if budget else 'NOT met'}")
    dest = ROOT / "benchmarks" / "out"
    dest.mkdir(parents=True, exist_ok=True)
    (dest / "bench_dedupe.json").write_text(json.dumps(out, ensure_ascii=False, indent=1), encoding="utf-8")
    return 0 if target and budget else 1


if __name__ == "__main__":
    sys.exit(main())
