#!/usr/bin/env python3
"""Throughput of the per-document NLP after normalization: document meta, entity rules, claims, NER model.

Usage: python benchmarks/bench_entities.py [--times 5] [--model]

Normalizes the seeds and the devcorpus once, then runs each stage document by document, as
``pipeline.process`` does, and prints chars/s in process CPU time (best of ``--times`` passes, so that a
busy machine does not distort the figure). Every pass starts each document cold: the per-text memos
(the region scan shared by ``document_meta`` and ``extract_entities``, segmenter tags, name trims, name
tests and the model's piece cache) are cleared first, so a document repeated across passes is not served from them.

Stages, in pipeline order:

- ``document_meta`` — title, date, home region (reads the text's regions: the gazetteer scan runs here);
- ``extract_entities`` — regions, projects, mechanisms, given the meta (reuses the meta's region scan);
  its parts are also timed alone and cold: ``regions`` (with the scan), ``projects``, ``mechanisms``;
- ``build_claims`` — given the document's mentions (numeric and entity rules);
- with ``--model``: ``predict_entities`` (the spaCy NER over the pieces that can hold a name).

``rules total`` is meta + entities + claims, the part of ``gongbao ingest`` this covers without the model.
Target for ``extract_entities``: ≥ 200k chars/s (it also produces the model's silver labels).
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from pipeline.claims import build_claims  # noqa: E402
from pipeline.docmeta import document_meta  # noqa: E402
from pipeline.extract import entities, extract_text, projects  # noqa: E402
from pipeline.extract.entities import extract_entities, extract_regions  # noqa: E402
from pipeline.extract.mechanisms import extract_mechanisms  # noqa: E402
from pipeline.extract.projects import extract_projects  # noqa: E402
from pipeline.normalize import normalize, split_paragraphs  # noqa: E402

SHARED = ROOT.parent / "shared"


def corpus_docs() -> list[str]:
    dirs = [SHARED / "seeds", SHARED / "devcorpus"] if SHARED.is_dir() else [ROOT / "corpus"]
    return [normalize(f.read_bytes(), name=f.name).text for d in dirs for f in sorted(d.glob("*.txt"))]


def forget() -> None:
    """Clear the per-text memos so that every document is processed cold."""
    for memo in (getattr(entities, "_region_candidates", None), getattr(projects, "_tagged", None),
                 getattr(projects, "_trim_left", None), getattr(projects, "_is_generic", None),
                 getattr(projects, "_strip_modifiers", None)):
        if hasattr(memo, "cache_clear"):  # (absent in older versions, which the script can also measure)
            memo.cache_clear()
    try:
        from pipeline.extract import model

        model._PIECE_CACHE.clear()
    except ImportError:  # pragma: no cover - spaCy is optional
        pass


def best_rate(docs: list[str], stage, times: int, prepare=None) -> float:
    """chars/s of ``stage(i, text)`` over all documents, best of ``times`` passes (CPU time).

    ``prepare(i, text)`` runs first for each document, untimed, and its result is passed on as a third
    argument (the document meta, computed as the pipeline does before extraction).
    """
    n = sum(map(len, docs))
    best = float("inf")
    for _ in range(times):
        spent = 0.0
        for i, text in enumerate(docs):
            forget()
            args = (i, text) if prepare is None else (i, text, prepare(i, text))
            t0 = time.process_time()
            stage(*args)
            spent += time.process_time() - t0
        best = min(best, spent)
    return n / best


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--times", type=int, default=5, help="passes over the documents (the best counts)")
    ap.add_argument("--model", action="store_true", help="also time the NER model (spaCy)")
    args = ap.parse_args()
    docs = corpus_docs()
    metas = [document_meta(t) for t in docs]
    mentions = [extract_text(t, meta=m) for t, m in zip(docs, metas)]
    paragraphs = [split_paragraphs(t) for t in docs]
    build_claims(docs[0], mentions[0], meta=metas[0], paragraphs=paragraphs[0])  # load the taxonomy
    print(f"{sum(map(len, docs)):,} chars in {len(docs)} documents (seeds + devcorpus, normalized); "
          f"CPU time, best of {args.times}")

    rates = {"document_meta": best_rate(docs, lambda i, t: document_meta(t), args.times)}
    # in the pipeline's order: extraction reuses the region scan that document_meta made of the same text
    rates["extract_entities"] = best_rate(docs, lambda i, t, meta: extract_entities(t, meta=meta), args.times,
                                          prepare=lambda i, t: document_meta(t))
    rates["  regions (cold)"] = best_rate(docs, lambda i, t: extract_regions(t, metas[i]), args.times)
    rates["  projects"] = best_rate(docs, lambda i, t: extract_projects(t), args.times)
    rates["  mechanisms"] = best_rate(docs, lambda i, t: extract_mechanisms(t), args.times)
    rates["build_claims"] = best_rate(
        docs, lambda i, t: build_claims(t, mentions[i], meta=metas[i], paragraphs=paragraphs[i]), args.times)
    rates["rules total"] = 1 / sum(1 / rates[k] for k in ("document_meta", "extract_entities", "build_claims"))
    if args.model:
        from pipeline.extract.model import load_model, predict_entities

        if load_model() is None:
            print("(no NER model installed: --model skipped)")
        else:
            predict_entities(docs[0], rule_mentions=mentions[0])  # load spaCy and the model
            rates["predict_entities"] = best_rate(
                docs, lambda i, t: predict_entities(t, rule_mentions=mentions[i]), args.times)
            rates["with model"] = 1 / (1 / rates["rules total"] + 1 / rates["predict_entities"])
    for name, rate in rates.items():
        print(f"{name:20} {rate:12,.0f} chars/s")


if __name__ == "__main__":
    main()
