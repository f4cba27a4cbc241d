#!/usr/bin/env python3
"""Throughput and peak memory of the normalizer, stage by stage.

Usage: python benchmarks/bench_normalize.py [--times 100] [--docs DIR]

Runs ``normalize()`` over the seed documents (broken: traditional, pinyin, mojibake) concatenated
``--times`` times, and over the clean devcorpus likewise, and prints chars/s for the whole pipeline and
for each stage on its own, plus the peak traced memory of one pipeline run (tracemalloc).
Target: ≥ 2M chars/s on the seeds ×100.
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


def load(dir_: Path, times: int) -> str:
    files = sorted(dir_.glob("*.txt"))
    if not files:
        sys.exit(f"no .txt files in {dir_}")
    one = "\n".join(f.read_text(encoding="utf-8") for f in files)
    return "\n".join([one] * times)


def timed(fn, *args, repeat: int = 3):
    best = float("inf")
    result = None
    for _ in range(repeat):
        t = time.perf_counter()
        result = fn(*args)
        best = min(best, time.perf_counter() - t)
    return best, result


def report(label: str, text: str, repeat: int) -> None:
    n = len(text)
    print(f"\n## {label}: {n:,} chars")
    data = text.encode("utf-8")
    N.normalize(data[:20000])  # warm caches (OpenCC, rules, pypinyin tables, char LM)
    secs, doc = timed(N.normalize, data, repeat=repeat)
    print(f"{'pipeline (bytes → text)':28} {secs:7.3f} s  {n / secs / 1e6:7.2f} M chars/s")
    s, repairs = timed(lambda: doc.repairs, repeat=1)
    print(f"{'  repair log (--explain)':28} {s:7.3f} s  {len(repairs):,} repairs")
    # each stage alone, on its real input (the output of the stages before it)
    edit = lambda fn: lambda t: apply_edits(t, fn(t))[0]  # noqa: E731
    stages = [("control", edit(N.control_edits)), ("mojibake (repair_mojibake)", edit(N.repair_mojibake)),
              ("pinyin", edit(pinyin_edits)), ("t2s (OpenCC + 著)", N.to_simplified),
              ("boilerplate", edit(boilerplate_edits)), ("width", N.to_halfwidth), ("space", edit(N.space_edits))]
    t = text
    for name, fn in stages:
        s, out = timed(fn, t, repeat=1)
        print(f"  {name:26} {s:7.3f} s  {len(t) / max(s, 1e-9) / 1e6:7.2f} M chars/s")
        t = out
    for name, fn in (("split_paragraphs", N.split_paragraphs), ("split_sentences", N.split_sentences)):
        s, _ = timed(fn, t, repeat=1)
        print(f"  {name:26} {s:7.3f} s  {len(t) / max(s, 1e-9) / 1e6:7.2f} M chars/s")
    tracemalloc.start()
    N.normalize(data)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    print(f"{'peak traced memory':28} {peak / 2**20:7.1f} MiB  ({peak / max(len(data), 1):.1f} bytes per input byte)")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--times", type=int, default=100, help="copies of the corpus to concatenate")
    ap.add_argument("--repeat", type=int, default=3, help="runs per measurement (best is kept)")
    ap.add_argument("--docs", type=Path, default=None, help="a directory of .txt files instead of the seeds")
    a = ap.parse_args()
    seeds = a.docs or (SHARED / "seeds" if (SHARED / "seeds").is_dir() else ROOT / "corpus")
    report(f"{seeds} ×{a.times}", load(seeds, a.times), a.repeat)
    if a.docs is None and (SHARED / "devcorpus").is_dir():
        report(f"clean devcorpus ×{a.times}", load(SHARED / "devcorpus", a.times), a.repeat)


if __name__ == "__main__":
    main()
