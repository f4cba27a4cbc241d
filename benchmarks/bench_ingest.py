"""Ingest throughput and memory on one machine: documents/s, chars/s and peak memory, by corpus size and workers.

Builds synthetic corpora from the lines of the real reports in corpus/ (each document distinct), then
runs ``ingest_paths`` in a fresh Python process per configuration, so the peak resident memory of the
writer process and of its workers is measured cleanly. A flat writer memory across corpus sizes shows
the stream (nothing of the corpus is kept); the re-run line shows the cost of an unchanged corpus.

    .venv/bin/python benchmarks/bench_ingest.py                 # 100 and 400 documents, 1 and 2 workers
    .venv/bin/python benchmarks/bench_ingest.py --sizes 1000 4000 --workers 2 4
"""
from __future__ import annotations

import argparse
import json
import random
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

RUN = r"""
import json, resource, sys, time
from pipeline.store import ingest_paths
src, db, workers = sys.argv[1], sys.argv[2], int(sys.argv[3])
t = time.perf_counter()
s = ingest_paths([src], db, workers=workers)
first = time.perf_counter() - t
t = time.perf_counter()
again = ingest_paths([src], db, workers=workers)
rerun = time.perf_counter() - t
print(json.dumps({"docs": s.documents, "chars": s.chars, "errors": len(s.errors), "seconds": first,
                  "rerun_seconds": rerun, "rerun_unchanged": again.unchanged,
                  "writer_peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                  "worker_peak_mb": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024}))
"""


def make_corpus(d: Path, n: int, seed: int = 5) -> int:
    """``n`` distinct documents of 4–30 real lines each; returns the total characters."""
    rng = random.Random(seed)
    lines = []
    for f in sorted((ROOT / "corpus").glob("*.txt")):
        lines += [ln.strip() for ln in f.read_text(encoding="utf-8", errors="replace").splitlines() if ln.strip()]
    d.mkdir(parents=True)
    total = 0
    for i in range(n):
        text = "\n".join([f"第{i + 1}期 工作简报", *rng.choices(lines, k=rng.randint(4, 30))]) + "\n"
        (d / f"{i // 1000:03d}").mkdir(exist_ok=True)
        (d / f"{i // 1000:03d}" / f"doc{i:06d}.txt").write_text(text, encoding="utf-8")
        total += len(text)
    return total


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=[100, 400])
    ap.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    args = ap.parse_args(argv)
    print(f"{'docs':>6} {'workers':>7} {'seconds':>8} {'docs/s':>7} {'chars/s':>9} {'rerun s':>8} "
          f"{'writer MB':>9} {'worker MB':>9}")
    with tempfile.TemporaryDirectory() as tmp:
        for n in args.sizes:
            src = Path(tmp) / f"c{n}"
            make_corpus(src, n)
            for w in args.workers:
                db = Path(tmp) / f"c{n}-w{w}.db"
                out = subprocess.run([sys.executable, "-c", RUN, str(src), str(db), str(w)], cwd=ROOT,
                                     capture_output=True, text=True, check=True)
                r = json.loads(out.stdout.strip().splitlines()[-1])
                print(f"{r['docs']:>6} {w:>7} {r['seconds']:>8.1f} {r['docs'] / r['seconds']:>7.1f} "
                      f"{r['chars'] / r['seconds']:>9,.0f} {r['rerun_seconds']:>8.2f} {r['writer_peak_mb']:>9.0f} "
                      f"{r['worker_peak_mb']:>9.0f}" + (f"  ({r['errors']} errors)" if r["errors"] else ""))


if __name__ == "__main__":
    main()
