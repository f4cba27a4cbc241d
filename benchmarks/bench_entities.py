#!/usr/bin/env python3
"""Throughput of the entity rules (regions, projects, mechanisms) and of document meta.

Usage: python benchmarks/bench_entities.py [--times 20]

Normalizes the seeds and the devcorpus once, joins them ``--times`` times and prints chars/s of
``extract_entities`` (and of its three parts) and of ``document_meta`` (document by document), measured in process CPU
time (best of 3) so that a busy machine does not distort the figure. Target: ≥ 200k chars/s for
``extract_entities`` (the silver labels for the statistical model are produced with it).
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from pipeline.docmeta import document_meta  # noqa: E402
from pipeline.extract.entities import extract_entities, extract_regions  # noqa: E402
from pipeline.extract.mechanisms import extract_mechanisms  # noqa: E402
from pipeline.extract.projects import extract_projects  # noqa: E402
from pipeline.normalize import normalize  # noqa: E402

SHARED = ROOT.parent / "shared"


def corpus_docs() -> list[str]:
    dirs = [SHARED / "seeds", SHARED / "devcorpus"] if SHARED.is_dir() else [ROOT / "corpus"]
    return [normalize(f.read_bytes(), name=f.name).text for d in dirs for f in sorted(d.glob("*.txt"))]


def cpu_rate(fn, text: str, repeat: int = 3) -> tuple[float, int]:
    best, n = float("inf"), 0
    for _ in range(repeat):
        t0 = time.process_time()
        out = fn(text)
        best = min(best, time.process_time() - t0)
        n = len(out) if hasattr(out, "__len__") else 0
    return len(text) / best, n


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--times", type=int, default=20)
    args = ap.parse_args()
    docs = corpus_docs()
    one = "\n".join(docs)
    text = "\n".join([one] * args.times)
    extract_entities(one[:2000])  # load dictionaries and the gazetteer outside the timing
    print(f"{len(text):,} chars (seeds + devcorpus, normalized, ×{args.times})")
    for name, fn in (("extract_entities", lambda t: extract_entities(t)),
                     ("  regions", extract_regions), ("  projects", extract_projects),
                     ("  mechanisms", extract_mechanisms)):
        rate, n = cpu_rate(fn, text)
        print(f"{name:18} {rate:12,.0f} chars/s   {n:6} mentions")
    # document meta is per document (a masthead on line 1 ends the search early)
    t0 = time.process_time()
    for _ in range(args.times):
        for d in docs:
            document_meta(d)
    rate = len(one) * args.times / (time.process_time() - t0)
    print(f"{'document_meta':18} {rate:12,.0f} chars/s   ({len(docs)} documents ×{args.times})")


if __name__ == "__main__":
    main()
