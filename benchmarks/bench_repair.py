"""Span repair rate and throughput of pipeline.repair on text broken with shared/tools/corrupt.py.

Clean sources: the clean seeds (001, 002) and the undamaged lines of the broken seeds, converted to
simplified (never devcorpus, which is the evaluation set). Each source is broken with several seeds; a
damaged span is a stretch where the broken text (ordinary annotations stripped) differs from the
traditional reference; it counts as repaired when the repaired text matches the reference there.

Usage: python benchmarks/bench_repair.py [--seeds N] [--show K]
"""
from __future__ import annotations

import argparse
import difflib
import importlib.util
import random
import re
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
SHARED = ROOT.parent / "shared"

from pipeline.offsets import apply_edits  # noqa: E402
from pipeline.repair import repair_mojibake, _ANNOT  # noqa: E402


def load_corrupt():
    spec = importlib.util.spec_from_file_location("corrupt", SHARED / "tools" / "corrupt.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def clean_sources() -> list[str]:
    """Clean simplified text from the seeds: 001/002 whole, 000/003/004 lines without damage."""
    import opencc
    t2s = opencc.OpenCC("tw2s")
    out = []
    for p in sorted((SHARED / "seeds").glob("*.txt")):
        text = p.read_text(encoding="utf-8")
        if "?" in text or "(" in text and re.search(r"[\u4e00-\u9fff]\([a-z]", text):
            lines = [ln for ln in text.splitlines() if "?" not in ln and "€" not in ln]
            text = t2s.convert(_ANNOT.sub("", "\n".join(lines)))
        out.append(text)
    return out


def spans(ref: str, got: str) -> list[tuple[int, int]]:
    """Damaged stretches of ``ref`` (merged when closer than 2 characters)."""
    sm = difflib.SequenceMatcher(None, ref, got, autojunk=False)
    out = []
    for op, i1, i2, j1, j2 in sm.get_opcodes():
        if op == "equal":
            continue
        if out and i1 - out[-1][1] < 2:
            out[-1] = (out[-1][0], i2)
        else:
            out.append((i1, i2))
    return out


def evaluate(pairs, show=0):
    total = fixed = broken_after = 0
    shown = 0
    for ref, broken in pairs:
        edits = repair_mojibake(broken)
        fixed_text, _ = apply_edits(broken, edits)
        before = _ANNOT.sub("", broken)
        after = _ANNOT.sub("", fixed_text)
        for rl, bl, al in zip(ref.split("\n"), before.split("\n"), after.split("\n")):
            if rl == bl:
                if rl != al:
                    broken_after += 1     # repair damaged a clean line
                    if shown < show:
                        print("HARMED:", rl[:80], "\n   ->", al[:80]); shown += 1
                continue
            bad = spans(rl, bl)
            left = spans(rl, al)
            for a, b in bad:
                total += 1
                ok = not any(x < b + 1 and y > a - 1 for x, y in left)
                fixed += ok
                if not ok and shown < show:
                    print("REF :", rl[max(0, a - 6):b + 6])
                    print("DMG :", bl[max(0, a - 6):b + 12])
                    j = al.find(rl[max(0, a - 6):a])
                    print("GOT :", al[j:j + (b - a) + 14] if j >= 0 else "?")
                    shown += 1
    return total, fixed, broken_after


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--seeds", type=int, default=8)
    ap.add_argument("--show", type=int, default=0)
    a = ap.parse_args()
    corrupt = load_corrupt()
    pairs = []
    for src in clean_sources():
        for s in range(a.seeds):
            broken, ref, _ = corrupt.corrupt(src, random.Random(1000 + s), p_loss=0.002)
            pairs.append((ref, broken))
    total, fixed, harmed = evaluate(pairs, a.show)
    print(f"generated spans: {total}, repaired {fixed} ({fixed / max(total, 1):.1%}), clean lines harmed: {harmed}")
    # throughput on clean traditional text (the fast path) and on damaged text
    import opencc
    clean = opencc.OpenCC("s2tw").convert("\n".join(clean_sources())) * 20
    t = time.process_time()
    repair_mojibake(clean)
    dt = time.process_time() - t
    print(f"clean text: {len(clean)} chars in {dt:.3f}s = {len(clean) / dt / 1e6:.2f}M chars/s")
    dmg = "\n".join(b for _, b in pairs)
    t = time.process_time()
    repair_mojibake(dmg)
    dt = time.process_time() - t
    print(f"damaged text: {len(dmg)} chars in {dt:.3f}s = {len(dmg) / dt / 1e3:.1f}k chars/s")


if __name__ == "__main__":
    main()
