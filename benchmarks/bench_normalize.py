#!/usr/bin/env python3
"""Throughput and peak memory of the normalizer, overall and stage by stage.

Usage: python benchmarks/bench_normalize.py [--rounds 100] [--docs DIR]

* **per document**: every seed document (broken: traditional characters, pinyin, mojibake) normalized
  ``--rounds`` times, as ``gongbao ingest`` does — chars/s of the whole pipeline, and of the pipeline
  without the mojibake repair (to separate its cost);
* **stages**: the time of each stage on its real input, summed over the documents;
* **one big document**: the seeds concatenated ``--rounds`` times (2.4M chars) through every stage but
  the repair, and the peak traced memory (tracemalloc) of that run;
* the same for the broken devcorpus (damage made with shared/tools/corrupt.py) and for the clean
  devcorpus (the cheap path: simplified text without damage).

Times are process CPU time (the machine is shared), so figures hold on a busy machine.
Target: ≥ 2M chars/s on the seeds ×100. The mojibake repair dominates on damaged pages: see the
``repair alone`` line and benchmarks/bench_repair.py.
"""
from __future__ import annotations

import argparse
import sys
import time
import tracemalloc
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from pipeline import normalize as N  # noqa: E402
from pipeline.boilerplate import boilerplate_edits  # noqa: E402
from pipeline.offsets import apply_edits  # noqa: E402
from pipeline.pinyin import pinyin_edits  # noqa: E402

SHARED = ROOT.parent / "shared"
REPAIR = N.repair_mojibake


def _edit(fn):
    return lambda t: apply_edits(t, fn(t))[0]


STAGES = [("control", _edit(N.control_edits)), ("mojibake (repair_mojibake)", _edit(REPAIR)),
          ("pinyin", _edit(pinyin_edits)), ("width", N.to_halfwidth), ("t2s (OpenCC + 著)", N.to_simplified),
          ("boilerplate", _edit(boilerplate_edits)), ("space", _edit(N.space_edits))]


def rate(chars: int, secs: float) -> str:
    return f"{secs:8.3f} s  {chars / max(secs, 1e-9) / 1e6:7.2f} M chars/s"


def per_document(docs: list[bytes], rounds: int, *, repair: bool) -> tuple[int, float]:
    N.repair_mojibake = REPAIR if repair else (lambda text: [])
    try:
        chars = 0
        t = time.process_time()
        for _ in range(rounds):
            for d in docs:
                chars += len(N.normalize(d).text and d.decode("utf-8"))
        return chars, time.process_time() - t
    finally:
        N.repair_mojibake = REPAIR


def report(label: str, files: list[Path], rounds: int) -> None:
    docs = [f.read_bytes() for f in files]
    texts = [d.decode("utf-8") for d in docs]
    n1 = sum(map(len, texts))
    print(f"\n## {label}: {len(files)} documents, {n1:,} chars, ×{rounds}")
    for d in docs:  # warm caches (OpenCC, rules, pypinyin tables, the repair's character LM)
        N.normalize(d)
    chars, secs = per_document(docs, rounds, repair=True)
    print(f"{'pipeline, per document':34} {rate(chars, secs)}")
    chars, secs = per_document(docs, rounds, repair=False)
    print(f"{'  … without the mojibake repair':34} {rate(chars, secs)}")
    t0 = time.process_time()
    for _ in range(rounds):
        for text in texts:
            REPAIR(text)
    print(f"{'  repair alone (repair_mojibake)':34} {rate(n1 * rounds, time.process_time() - t0)}")
    t0 = time.process_time()
    n_rep = sum(len(N.normalize(d).repairs) for d in docs)
    print(f"{'  repair log (--explain), ×1':34} {time.process_time() - t0:8.3f} s  {n_rep:,} repairs")

    stage_rounds = max(1, rounds // 10)
    print(f"stages (each on its real input, ×{stage_rounds}):")
    totals = {name: 0.0 for name, _ in STAGES}
    sizes = {name: 0 for name, _ in STAGES}
    finals = []
    for text in texts:
        for name, fn in STAGES:
            t0 = time.process_time()
            for _ in range(stage_rounds):
                out = fn(text)
            totals[name] += time.process_time() - t0
            sizes[name] += len(text) * stage_rounds
            text = out
        finals.append(text)
    for name, _ in STAGES:
        print(f"  {name:32} {rate(sizes[name], totals[name])}")
    for name, fn in (("split_paragraphs", N.split_paragraphs), ("split_sentences", N.split_sentences)):
        t0 = time.process_time()
        for _ in range(stage_rounds):
            for text in finals:
                fn(text)
        print(f"  {name:32} {rate(sum(map(len, finals)) * stage_rounds, time.process_time() - t0)}")

    big = "\n".join(["\n".join(texts)] * rounds).encode("utf-8")
    N.repair_mojibake = lambda text: []
    try:
        tracemalloc.start()
        t0 = time.process_time()
        N.normalize(big)
        secs = time.process_time() - t0
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
    finally:
        N.repair_mojibake = REPAIR
    n_big = len(big.decode("utf-8"))
    label = f"one document of {n_big:,} chars"
    print(f"{label:34} {rate(n_big, secs)}  (no repair; under tracemalloc)")
    print(f"{'  peak traced memory':34} {peak / 2**20:8.1f} MiB  ({peak / len(big):.1f} bytes per input byte)")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rounds", type=int, default=100, help="times each document is normalized")
    ap.add_argument("--docs", type=Path, default=None, help="a directory of .txt files instead of the seeds")
    a = ap.parse_args()
    seeds = a.docs or (SHARED / "seeds" if (SHARED / "seeds").is_dir() else ROOT / "corpus")
    report(str(seeds), sorted(seeds.glob("*.txt")), a.rounds)
    if a.docs is None and (SHARED / "devcorpus").is_dir():
        report("broken devcorpus", sorted((SHARED / "devcorpus" / "broken").glob("*.txt")), a.rounds)
        report("clean devcorpus", sorted((SHARED / "devcorpus").glob("*.txt")), a.rounds)


if __name__ == "__main__":
    main()
