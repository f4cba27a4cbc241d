#!/usr/bin/env python3
"""What the statistical NER adds over the rules: P/R/F1 per entity kind, three ways.

For each gold set (the seeds' ``../shared/gold``, which the model was partly trained on, and
``../shared/devcorpus/gold``, which it never saw) this scores with ``../shared/tools/evaluate.py``:

* ``rules``    — ``gongbao extract --no-model``
* ``model``    — the model's spans alone (``predict_entities`` with no rule mentions)
* ``combined`` — ``gongbao extract`` (rules, plus the model's mentions that do not overlap them)

and lists the mentions the combined run adds over the rules, each marked right or wrong.
With ``--train`` it first times a training run from scratch (CPU seconds; the model goes to a
temporary directory unless ``--output`` is given). With ``--holdout DOC`` (a seed file name) that
run leaves DOC's gold out of training, and the scores on DOC alone are added: what the model adds
on a report of the genre it never saw.

Usage:  .venv/bin/python benchmarks/bench_model.py [--train [--holdout DOC]] [--output DIR] [--json]
        .venv/bin/python benchmarks/bench_model.py --emit-model PATH   (model-only mentions, jsonl)
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"
EVALUATE = SHARED / "tools" / "evaluate.py"
BIN = Path(sys.executable).parent
KINDS = "project,mechanism,region"
SETS = {  # name → (gold dir, documents dir)
    "seeds (partly trained on)": (SHARED / "gold", SHARED / "seeds"),
    "devcorpus (never trained on)": (SHARED / "devcorpus" / "gold", SHARED / "devcorpus"),
}


def emit_model(path: str, model: str | None) -> None:
    """Print the model's own mentions of one document (no rules), one JSON object per line."""
    sys.path.insert(0, str(ROOT))
    from pipeline.extract.model import predict_entities
    from pipeline.normalize import normalize

    doc = normalize(Path(path).read_bytes(), name=path)
    for m in predict_entities(doc.text, model_path=model):
        print(json.dumps(m.to_json(), ensure_ascii=False))


def gongbao_cmd(*args: str, model: str | None = None) -> str:
    env = f"GONGBAO_NER_MODEL={model} " if model else ""
    return env + " ".join([str(BIN / "gongbao"), "extract", *args, "--format", "jsonl", "{path}"])


def evaluate(gold: Path, docs: Path, cmd: str) -> tuple[dict, list[str]]:
    out = subprocess.run([sys.executable, str(EVALUATE), "--gold", str(gold), "--docs", str(docs),
                          "--kinds", KINDS, "--cmd", cmd, "--json", "--errors"],
                         capture_output=True, text=True, check=True, cwd=ROOT)
    for line in out.stderr.splitlines():
        if line.startswith("#"):  # evaluate.py's notes: failed commands, missing documents
            print(line, file=sys.stderr)
    lines = out.stdout.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("{"))
    return json.loads("\n".join(lines[start:])), lines[:start]


def spurious_keys(errors: list[str]) -> set[tuple[str, str, str]]:
    keys = set()
    for line in errors:
        doc, kind, what, m = line.split("\t", 3)
        if what == "spurious":
            keys.add((doc, kind, json.loads(m)["text"]))
    return keys


def added_mentions(gold: Path, docs: Path, model: str | None) -> list[tuple[str, dict]]:
    """(doc, mention) for every model-sourced mention in the combined output."""
    out = []
    for gf in sorted(gold.glob("*.json")):
        doc = json.loads(gf.read_text(encoding="utf-8"))["doc"]
        cmd = gongbao_cmd(model=model).replace("{path}", str(docs / doc))
        res = subprocess.run(cmd, shell=True, capture_output=True, text=True, cwd=ROOT)
        for line in res.stdout.splitlines():
            m = json.loads(line)
            if m.get("source") == "model":
                out.append((doc, m))
    return out


def time_training(output: str, holdout: str | None) -> None:
    """Train from scratch into ``output`` and print the CPU time, wall time and model size."""
    sys.path.insert(0, str(ROOT))
    from pipeline.extract.model import DEV_DOC, train

    before = resource.getrusage(resource.RUSAGE_SELF)
    wall = time.time()
    path = train(output=output, dev_docs=(holdout,) if holdout else (DEV_DOC,))
    size = sum(f.stat().st_size for f in Path(path).rglob("*") if f.is_file())
    after = resource.getrusage(resource.RUSAGE_SELF)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    print(f"training: {cpu:.0f} s CPU, {time.time() - wall:.0f} s wall, model {size / 1e6:.1f} MB"
          + (f", {holdout} held out" if holdout else ""))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--emit-model", metavar="PATH", help="print the model-only mentions of PATH and exit")
    ap.add_argument("--model", help="model directory (default: the shipped pipeline/models/ner)")
    ap.add_argument("--train", action="store_true", help="first time a training run from scratch")
    ap.add_argument("--output", help="with --train: install the trained model here (default: a temporary dir)")
    ap.add_argument("--holdout", help="with --train: a seed document left out of training, scored on its own")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    if args.emit_model:
        emit_model(args.emit_model, args.model)
        return
    if not EVALUATE.exists():
        print(f"skipped: needs {EVALUATE} (../shared beside the checkout)")
        return
    tmp = tempfile.TemporaryDirectory()
    sets = dict(SETS)
    if args.train:
        args.model = args.output or str(Path(tmp.name) / "ner")
        time_training(args.model, args.holdout)
        if args.holdout:
            gold = Path(tmp.name) / "holdout"
            gold.mkdir()
            name = Path(args.holdout).stem + ".json"
            (gold / name).write_bytes((SHARED / "gold" / name).read_bytes())
            sets = {f"{args.holdout} (held out of training)": (gold, SHARED / "seeds"), **sets}
    model = str(Path(args.model).resolve()) if args.model else None
    if model:
        os.environ["GONGBAO_NER_MODEL"] = model
    runs = {
        "rules": gongbao_cmd("--no-model"),
        "model": " ".join([sys.executable, str(Path(__file__).resolve()), "--emit-model", "{path}"]
                          + (["--model", model] if model else [])),
        "combined": gongbao_cmd(model=model),
    }
    report = {}
    for set_name, (gold, docs) in sets.items():
        if not gold.is_dir():
            continue
        report[set_name] = {}
        for run, cmd in runs.items():
            started = time.time()
            scores, errors = evaluate(gold, docs, cmd)
            report[set_name][run] = scores
            if run == "combined":
                wrong = spurious_keys(errors)
                report[set_name]["added"] = [
                    dict(doc=doc, kind=m["kind"], text=m["text"],
                         right=(doc, m["kind"], m["text"]) not in wrong)
                    for doc, m in added_mentions(gold, docs, model)]
            report[set_name][run]["seconds"] = round(time.time() - started, 1)
    if args.json:
        print(json.dumps(report, ensure_ascii=False, indent=1))
        return
    for set_name, runs_ in report.items():
        print(f"\n## {set_name}")
        print(f"{'kind':10} " + "  ".join(f"{r:>20}" for r in ("rules P/R/F1", "model P/R/F1", "combined P/R/F1")))
        for kind in KINDS.split(",") + ["micro"]:
            cells = []
            for run in ("rules", "model", "combined"):
                s = runs_[run][kind]
                cells.append(f"{s['precision']:.3f}/{s['recall']:.3f}/{s['f1']:.3f}".rjust(20))
            print(f"{kind:10} " + "  ".join(cells) + f"   gold {runs_['rules'][kind]['gold']}")
        added = runs_.get("added", [])
        right = sum(a["right"] for a in added)
        print(f"model adds {len(added)} mentions over the rules, {right} right:")
        for a in added:
            print(f"  {'+' if a['right'] else '-'} {a['doc']:28} {a['kind']:9} {a['text']}")


if __name__ == "__main__":
    main()
