"""End-to-end ingest benchmark: throughput (chars/s per core and per CPU-second), start-up, peak memory, engines.

The corpus is the seed reports and ../shared/devcorpus, each copied ``--scale`` times (default ×200) with
variations so every copy is a distinct document: every number is redrawn (same number of digits) and
region names are rotated through others of the same level. It is generated into a temporary directory.

Every measurement runs ``pipeline.store.ingest_paths`` into a fresh database in a fresh Python process,
so peak resident memory (the writer process and, separately, its largest worker) is measured cleanly:

1. start-up — what one worker pays before its first document, in a fresh process: the imports, the rule
   tables (OpenCC, rules, gazetteer, jieba), the NER model, the mojibake repair's character model;
2. a profile — one process, one worker, the base documents ×``--profile-scale``, each stage (read, normalize,
   meta, extract, claims, search tokens, write) under its own cProfile: seconds per stage and its top
   functions by own time;
3. throughput **rules only** (``--no-model``) of the whole corpus with the local engine at 1 and 2 workers and
   with the Dask engine on a 2-worker LocalCluster, plus 1 worker on the clean devcorpus copies alone —
   chars/s, chars/s per core (÷ worker processes) and chars per CPU-second (all processes' user+sys time,
   the figure that does not depend on what else runs on the machine);
4. throughput **with the NER model** (the ``gongbao ingest`` default), on ×``--model-scale`` (default a tenth
   of ``--scale``: the model costs ~5× the rules), local 2 workers and Dask 2 workers;
5. peak memory at 1× (a tenth of the corpus) and 10× (the whole corpus) with 2 local workers, rules only
   and with the model: flat means the stream holds nothing of the corpus.

    .venv/bin/python benchmarks/bench_ingest.py                  # ×200: ~5 min on 2 quiet cores (×100: 2.2)
    .venv/bin/python benchmarks/bench_ingest.py --scale 10       # under a minute
    .venv/bin/python benchmarks/bench_ingest.py --scale 10 --skip dask profile
"""
from __future__ import annotations

import argparse
import json
import random
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"

#: targets from the "Speed and scale" issue
TARGET_CHARS_PER_CORE = 1_000_000
TARGET_PEAK_MB = 500

#: region names rotated between copies (same administrative level in each pool)
REGION_POOLS = (
    ("黑龙江省", "吉林省", "辽宁省", "河北省", "山西省", "陕西省", "四川省", "湖南省", "江西省", "云南省"),
    ("成都市", "绵阳市", "德阳市", "宜宾市", "南充市", "泸州市", "乐山市", "眉山市", "西安市", "宝鸡市"),
    ("柞水县", "镇安县", "山阳县", "丹凤县", "商南县", "洛南县", "宁陕县", "石泉县", "旬阳县", "岚皋县"),
    ("甘孜藏族自治州", "阿坝藏族羌族自治州", "凉山彝族自治州", "黔东南苗族侗族自治州",
     "湘西土家族苗族自治州"),
)
_REGION_INDEX = {name: (pool, i) for pool in REGION_POOLS for i, name in enumerate(pool)}
_REGION_RE = re.compile("|".join(sorted(map(re.escape, _REGION_INDEX), key=len, reverse=True)))
_DIGITS_RE = re.compile(r"[0-9]+")

RUN = r"""
import json, os, resource, sys, time
from pipeline.store import ingest_paths
src, db, workers, engine, model = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4], sys.argv[5] == "model"
t = time.perf_counter()
s = ingest_paths([src], db, workers=workers, engine=engine, use_model=model)
seconds = time.perf_counter() - t
t = time.perf_counter()
again = ingest_paths([src], db, workers=workers, engine=engine, use_model=model)
rerun = time.perf_counter() - t
me, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
print(json.dumps({"docs": s.documents, "chars": s.chars, "errors": s.n_errors, "seconds": seconds,
                  "first_error": f"{s.errors[0].path}: [{s.errors[0].stage}] {s.errors[0].message}" if s.errors else None,
                  "rerun_seconds": rerun, "rerun_unchanged": again.unchanged,
                  "cpu_seconds": me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime,
                  "writer_peak_mb": me.ru_maxrss / 1024, "worker_peak_mb": kids.ru_maxrss / 1024}))
"""


# ------------------------------------------------------------------------------------------- corpus

def base_documents() -> list[Path]:
    """The seed reports (../shared/seeds, else corpus/) and ../shared/devcorpus/*.txt."""
    seeds = sorted((SHARED / "seeds").glob("*.txt")) or sorted((ROOT / "corpus").glob("*.txt"))
    return seeds + sorted((SHARED / "devcorpus").glob("*.txt"))


def vary(text: str, copy: int, rng: random.Random) -> str:
    """A distinct variant of ``text``: numbers redrawn with as many digits, region names rotated by ``copy``.

    >>> vary("柞水县完成投资12.5亿元", 1, random.Random(0))[:3]
    '镇安县'
    """
    def number(m: re.Match) -> str:
        s = m.group(0)
        first = rng.choice("123456789") if s[0] != "0" else "0"
        return first + "".join(rng.choice("0123456789") for _ in s[1:])

    def region(m: re.Match) -> str:
        pool, i = _REGION_INDEX[m.group(0)]
        return pool[(i + copy) % len(pool)]

    if copy == 0:
        return text
    return _DIGITS_RE.sub(number, _REGION_RE.sub(region, text))


def make_corpus(dest: Path, scale: int, seed: int = 200, clean_only: bool = False) -> tuple[int, int]:
    """Write ``scale`` varied copies of every base document under ``dest``; returns (documents, chars).

    ``clean_only``: the undamaged devcorpus documents only (no seed needs the mojibake repair).
    """
    rng = random.Random(seed)
    bases = [p for p in base_documents() if not clean_only or p.parent.name == "devcorpus"]
    texts = [(p.stem, p.read_bytes().decode("utf-8", errors="surrogateescape")) for p in bases]
    n = chars = 0
    for copy in range(scale):
        sub = dest / f"{copy:04d}"
        sub.mkdir(parents=True, exist_ok=True)
        for stem, text in texts:
            out = vary(text, copy, rng)
            (sub / f"{stem}.txt").write_bytes(out.encode("utf-8", errors="surrogateescape"))
            n += 1
            chars += len(out)
    return n, chars


# ------------------------------------------------------------------------------------------ profile

def profile(src: Path, db: Path, top: int = 8) -> None:
    """One-process ingest of ``src`` with each stage under its own cProfile; prints seconds and top functions."""
    import cProfile
    import pstats

    import pipeline.docmeta
    import pipeline.extract
    import pipeline.process
    import pipeline.store
    from pipeline.parallel import warm_pipeline

    profiles: dict[str, cProfile.Profile] = {}
    seconds: dict[str, float] = {}

    def wrap(stage, fn):
        prof = profiles.setdefault(stage, cProfile.Profile())
        seconds.setdefault(stage, 0.0)

        def run(*a, **k):
            t = time.perf_counter()
            prof.enable()
            try:
                return fn(*a, **k)
            finally:
                prof.disable()
                seconds[stage] += time.perf_counter() - t
        return run

    warm_pipeline()  # loading tables/models is a one-off per process, not per-document time
    patches = [(pipeline.store, "read_source", "read+hash"), (pipeline.process, "_normalize", "normalize"),
               (pipeline.docmeta, "document_meta", "meta"), (pipeline.extract, "extract_document", "extract"),
               (pipeline.process, "_claims", "claims"), (pipeline.process, "_search_text", "search tokens"),
               (pipeline.store.Writer, "write_document", "write (SQLite, dedupe)")]
    saved = []
    for obj, name, stage in patches:
        if hasattr(obj, name):
            saved.append((obj, name, getattr(obj, name)))
            setattr(obj, name, wrap(stage, getattr(obj, name)))
    try:
        t = time.perf_counter()
        s = pipeline.store.ingest_paths([src], db, workers=1)
        total = time.perf_counter() - t
    finally:
        for obj, name, fn in saved:
            setattr(obj, name, fn)
    print(f"\n## Where the time goes: {s.documents} documents, {s.chars:,} chars in {total:.1f} s "
          f"= {s.chars / total:,.0f} chars/s on one core (tables warmed beforehand)\n")
    print(f"{'stage':<24} {'seconds':>8} {'share':>6} {'chars/s':>11}")
    for stage, sec in sorted(seconds.items(), key=lambda kv: -kv[1]):
        print(f"{stage:<24} {sec:>8.2f} {sec / total:>6.1%} {s.chars / sec if sec else 0:>11,.0f}")
    other = total - sum(seconds.values())
    print(f"{'(rest of the loop)':<24} {other:>8.2f} {other / total:>6.1%}")
    for stage, sec in sorted(seconds.items(), key=lambda kv: -kv[1]):
        stats = pstats.Stats(profiles[stage])
        rows = sorted(stats.stats.items(), key=lambda kv: -kv[1][2])[:top]  # by own (tot) time
        print(f"\n### {stage} ({sec:.2f} s): top functions by own time")
        print(f"{'own s':>7} {'cum s':>7} {'calls':>8}  function")
        for (file, line, fn), (cc, nc, tt, ct, _) in rows:
            where = file.split("/site-packages/")[-1].split("/work/main/")[-1]
            print(f"{tt:>7.2f} {ct:>7.2f} {nc:>8}  {fn} ({where}:{line})")


# ----------------------------------------------------------------------------------------- start-up

STARTUP = r"""
import json, resource, sys, time
def rss():
    with open("/proc/self/status") as f:
        return next(int(l.split()[1]) / 1024 for l in f if l.startswith("VmRSS"))
out, t = [], time.process_time()
def step(what):
    global t
    now = time.process_time()
    out.append((what, now - t, rss()))
    t = time.process_time()
step("interpreter")
import pipeline.store, pipeline.process
step("import pipeline.store, pipeline.process")
from pipeline.process import warm_up
def warm(**kw):
    err = warm_up(**kw)
    if err is not None:
        sys.exit(f"warm-up failed: {err}")
warm(use_model=False)
step("rule tables: OpenCC, rules, gazetteer, jieba")
warm(use_model=True)
step("+ NER model (spaCy)")
warm(use_model=True, damaged=True)
step("+ mojibake repair's character model")
print(json.dumps({"steps": out, "pandas": "pandas" in sys.modules}))
"""


def startup() -> None:
    """What a worker pays before its first document, measured in a fresh process (CPU seconds, RSS)."""
    out = subprocess.run([sys.executable, "-c", STARTUP], cwd=ROOT, capture_output=True, text=True)
    if out.returncode != 0:
        raise RuntimeError(f"start-up measurement failed:\n{out.stderr[-3000:]}")
    r = json.loads(out.stdout.strip().splitlines()[-1])
    print("\n## Worker start-up (fresh process)\n")
    print(f"{'step':<46} {'CPU s':>6} {'RSS MB':>7}")
    for what, cpu, rss in r["steps"]:
        print(f"{what:<46} {cpu:>6.2f} {rss:>7.0f}")
    total = sum(c for _, c, _ in r["steps"][1:])
    rules = sum(c for _, c, _ in r["steps"][1:3])
    print(f"rules only: {rules:.2f} CPU s; everything: {total:.2f} CPU s"
          + ("" if not r["pandas"] else "  (pandas got imported: it should not be)"))


# ----------------------------------------------------------------------------------------- measure

def run(src: Path, db: Path, workers: int, engine: str = "local", model: bool = False) -> dict:
    """One ingest in a fresh process; its figures as a dict."""
    out = subprocess.run([sys.executable, "-c", RUN, str(src), str(db), str(workers), engine,
                          "model" if model else "rules"], cwd=ROOT, capture_output=True, text=True)
    if out.returncode != 0:
        raise RuntimeError(f"ingest ({engine}, {workers} workers) failed:\n{out.stderr[-3000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


HEADER = (f"{'run':<30} {'docs':>6} {'chars':>11} {'seconds':>8} {'chars/s':>10} {'/core':>10} "
          f"{'/CPU-s':>10} {'rerun s':>7} {'writer MB':>9} {'worker MB':>9}")


def report(label: str, workers: int, r: dict) -> None:
    rate = r["chars"] / r["seconds"]
    per_cpu = r["chars"] / r["cpu_seconds"] if r["cpu_seconds"] else 0
    print(f"{label:<30} {r['docs']:>6} {r['chars']:>11,} {r['seconds']:>8.1f} {rate:>10,.0f} "
          f"{rate / workers:>10,.0f} {per_cpu:>10,.0f} {r['rerun_seconds']:>7.1f} "
          f"{r['writer_peak_mb']:>9.0f} {r['worker_peak_mb']:>9.0f}"
          + (f"  ({r['errors']} errors; first: {r['first_error']})" if r["errors"] else ""), flush=True)


def _have_dask() -> bool:
    try:
        import distributed  # noqa: F401
    except ImportError:
        return False
    return True


def throughput(title: str, plan, model: bool, skip) -> dict:
    """Run each ``(label, corpus, workers, engine)`` of ``plan``; print the table; return label → (workers, r)."""
    print(f"\n## {title}\n\n{HEADER}", flush=True)
    results = {}
    for label, src, workers, engine in plan:
        if engine in skip:
            continue
        if engine == "dask" and not _have_dask():
            print(f"{label:<30} skipped: dask[distributed] is not installed")
            continue
        r = run(src, src.with_suffix(f".{engine}{workers}{'m' if model else ''}.db"), workers, engine, model)
        results[label] = (workers, r)
        report(label, workers, r)
    return results


def memory(label: str, one: dict, ten: dict, scales: tuple[int, int]) -> float:
    """Print the 1× and 10× rows and their ratio; returns the largest peak (MB)."""
    report(f"{label} 1× (×{scales[0]})", 2, one)
    report(f"{label} 10× (×{scales[1]})", 2, ten)
    peak = max(ten["writer_peak_mb"], ten["worker_peak_mb"])
    print(f"  peak RSS 10× / 1×: writer {ten['writer_peak_mb'] / one['writer_peak_mb']:.2f}, "
          f"worker {ten['worker_peak_mb'] / one['worker_peak_mb']:.2f}; largest {peak:.0f} MB "
          f"(target ≤ {TARGET_PEAK_MB} MB: {'met' if peak <= TARGET_PEAK_MB else 'NOT met'})")
    return peak


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--scale", type=int, default=200, help="copies of each base document (default 200)")
    ap.add_argument("--model-scale", type=int, help="copies for the runs with the NER model (default scale/10)")
    ap.add_argument("--profile-scale", type=int, default=2, help="copies for the profiled run (default 2)")
    ap.add_argument("--skip", nargs="*", default=[],
                    choices=["startup", "profile", "local", "dask", "model", "memory"], help="parts to leave out")
    ap.add_argument("--profile-dir", type=Path, help=argparse.SUPPRESS)  # internal: profile this corpus only
    args = ap.parse_args(argv)
    if args.profile_dir:
        profile(args.profile_dir, args.profile_dir.with_suffix(".db"))
        return
    skip = set(args.skip)
    small_scale = max(1, args.scale // 10)
    model_scale = args.model_scale or small_scale
    model_small = max(1, model_scale // 10)
    bases = base_documents()
    t_start = time.perf_counter()
    print(f"# Ingest benchmark: {len(bases)} base documents ×{args.scale} (with the model ×{model_scale}); "
          f"{len(__import__('os').sched_getaffinity(0))} cores available; load average "
          f"{open('/proc/loadavg').read().split()[0] if Path('/proc/loadavg').exists() else '?'}", flush=True)
    if "startup" not in skip:
        startup()
    with tempfile.TemporaryDirectory(prefix="gongbao-bench-") as tmp:
        tmp = Path(tmp)
        if "profile" not in skip:
            make_corpus(tmp / "profile", args.profile_scale, seed=7)
            # in its own process: this one stays small, so the processes it starts report their own peak
            # memory (Linux carries a parent's peak RSS at fork into the child's ru_maxrss, even across exec)
            subprocess.run([sys.executable, __file__, "--profile-dir", str(tmp / "profile")], cwd=ROOT, check=True)
        src, clean, small = tmp / "corpus", tmp / "clean", tmp / "small"
        n, chars = make_corpus(src, args.scale)
        make_corpus(clean, args.scale, clean_only=True)
        print(f"\ncorpus ×{args.scale}: {n} documents, {chars:,} characters", flush=True)
        local = set() if "local" in skip else {"local"}
        engines = local | (set() if "dask" in skip else {"dask"})
        rules = throughput(f"Throughput, rules only (--no-model), ×{args.scale}", [
            ("local, 1 worker", src, 1, "local"), ("local, 2 workers", src, 2, "local"),
            ("dask LocalCluster, 2 workers", src, 2, "dask"), ("local, 1 worker, clean text", clean, 1, "local"),
        ], False, {"local", "dask"} - engines)
        model = {}
        if "model" not in skip:
            msrc = tmp / "model"
            m_n, m_chars = make_corpus(msrc, model_scale)
            model = throughput(f"Throughput with the NER model (the default), ×{model_scale}: "
                               f"{m_n} documents, {m_chars:,} characters", [
                ("local, 2 workers", msrc, 2, "local"), ("dask LocalCluster, 2 workers", msrc, 2, "dask"),
            ], True, {"local", "dask"} - engines)
        if "memory" not in skip:
            print(f"\n## Peak memory, 2 local workers, 1× and 10× corpus\n\n{HEADER}", flush=True)
            make_corpus(small, small_scale)
            ten = rules["local, 2 workers"][1] if "local, 2 workers" in rules else run(src, tmp / "ten.db", 2)
            memory("rules only", run(small, tmp / "small.db", 2), ten, (small_scale, args.scale))
            if "model" not in skip:
                msmall = tmp / "model-small"
                make_corpus(msmall, model_small)
                mten = (model["local, 2 workers"][1] if "local, 2 workers" in model
                        else run(tmp / "model", tmp / "mten.db", 2, model=True))
                memory("with model", run(msmall, tmp / "msmall.db", 2, model=True), mten, (model_small, model_scale))
        for title, results in (("rules only", rules), ("with the model", model)):
            best = max((r["chars"] / r["seconds"] / w for w, r in results.values()), default=None)
            per_cpu = max((r["chars"] / r["cpu_seconds"] for w, r in results.values() if r["cpu_seconds"]),
                          default=None)
            if best is not None:
                print(f"best throughput per core, {title}: {best:,.0f} chars/s, {per_cpu:,.0f} chars per CPU-second "
                      f"(target {TARGET_CHARS_PER_CORE:,}: "
                      + ("met)" if best >= TARGET_CHARS_PER_CORE
                         else f"NOT met, {TARGET_CHARS_PER_CORE / best:,.1f}× short)"))
    print(f"\nbenchmark wall time: {(time.perf_counter() - t_start) / 60:.1f} min")


if __name__ == "__main__":
    main()
