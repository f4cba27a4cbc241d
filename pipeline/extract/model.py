"""Statistical entity recognition: a small spaCy NER on ``spacy.blank("zh")`` (character segmenter).

The model learns project, mechanism and region names from

* **silver** labels: the rule extractors (:mod:`pipeline.extract.entities`) run over unlabelled
  report text (the bundled ``corpus/`` and any ``*.txt`` under ``train_data/``), and
* **gold** labels: the hand-checked mentions of the seed documents (``../shared/gold``),

and then a larger set made by *mention replacement*: every labelled sentence is repeated with its
entities swapped for other names of the same kind (names seen in the silver and gold data, plus
gazetteer regions), so the model learns the contexts names stand in rather than the names.

Training is reproducible with one command (``gongbao train``; config ``configs/ner.cfg``) and takes a
few minutes on 2 CPU cores. The trained pipeline ships inside the package (``pipeline/models/ner``,
a few MB) and loads without network. spaCy is imported lazily: nothing here runs unless the model is
asked for.
"""
from __future__ import annotations

import json
import random
import shutil
import tempfile
from functools import lru_cache
from pathlib import Path

from .. import PACKAGE_DIR
from ..mention import Mention

MODEL_DIR = PACKAGE_DIR / "models" / "ner"
LABELS = {"project": "PROJECT", "mechanism": "MECHANISM", "region": "REGION"}
KINDS = {v: k for k, v in LABELS.items()}
MAX_CHARS = 2000  # paragraphs longer than this are cut into pieces for the model


@lru_cache(maxsize=2)
def load_model(path: str | None = None):
    """The trained spaCy pipeline, or None when none is installed (rules then work alone)."""
    p = Path(path) if path else MODEL_DIR
    if not (p / "meta.json").exists():
        return None
    import spacy

    return spacy.load(p)


def _pieces(text: str):
    """(offset, piece) chunks of ``text``: lines, long lines cut at sentence ends."""
    pos = 0
    for line in text.split("\n"):
        start = 0
        while start < len(line):
            end = min(len(line), start + MAX_CHARS)
            if end < len(line):
                cut = max(line.rfind(c, start, end) for c in "。；！？")
                end = cut + 1 if cut > start else end
            yield pos + start, line[start:end]
            start = end
        pos += len(line) + 1


def predict_entities(text: str, *, rule_mentions=(), model_path: str | None = None) -> list[Mention]:
    """Entity mentions found by the statistical model (``source="model"``, rule ``model.ner``)."""
    nlp = load_model(model_path)
    if nlp is None:
        return []
    from ..regions import lookup

    offsets, pieces = zip(*[(o, p) for o, p in _pieces(text) if p.strip()]) if text.strip() else ((), ())
    out: list[Mention] = []
    for off, doc in zip(offsets, nlp.pipe(pieces, batch_size=64)):
        for ent in doc.ents:
            kind = KINDS.get(ent.label_)
            if kind is None or len(ent.text.strip()) < 2:
                continue
            adcode = level = None
            if kind == "region":
                hit = lookup(ent.text)
                if hit:
                    adcode, level = hit.get("adcode"), hit.get("level")
            out.append(Mention(kind=kind, text=ent.text, start=off + ent.start_char, end=off + ent.end_char,
                               rule="model.ner", adcode=adcode, level=level, source="model"))
    return out


# ---------------------------------------------------------------------------------------------
# Training data
# ---------------------------------------------------------------------------------------------

def _non_overlapping(spans):
    """Longest-first, non-overlapping (spaCy entities cannot nest)."""
    kept = []
    for s, e, label in sorted(spans, key=lambda t: (-(t[1] - t[0]), t[0])):
        if all(e <= ks or s >= ke for ks, ke, _ in kept):
            kept.append((s, e, label))
    return sorted(kept)


def locate_gold(text: str, gold: list[dict]) -> list[tuple[int, int, str]]:
    """Find gold entity mentions (listed in reading order) in ``text``; unfound ones are skipped."""
    spans, cursor = [], 0
    for g in gold:
        label = LABELS.get(g.get("kind"))
        t = (g.get("text") or "").strip()
        if not label or not t:
            continue
        i = text.find(t, cursor)
        if i < 0:
            i = text.find(t)
        if i < 0:
            continue
        spans.append((i, i + len(t), label))
        cursor = i  # nested mentions share a start: keep the cursor there
    return _non_overlapping(spans)


def silver_spans(text: str) -> list[tuple[int, int, str]]:
    from ..docmeta import document_meta
    from .entities import extract_entities

    ms = extract_entities(text, meta=document_meta(text))
    return _non_overlapping([(m.start, m.end, LABELS[m.kind]) for m in ms if m.kind in LABELS])


def _sentences(text: str, spans):
    """Cut a labelled document into sentences, keeping the spans that fall inside each."""
    from ..normalize import split_sentences

    for s, e in split_sentences(text):
        inside = [(a - s, b - s, lab) for a, b, lab in spans if a >= s and b <= e]
        sent = text[s:e]
        if sent.strip():
            yield sent, inside


def augment(sentences, pools: dict[str, list[str]], rng: random.Random, copies: int):
    """Mention replacement: each labelled sentence again with its names swapped for others of the kind."""
    for sent, spans in sentences:
        if not spans:
            continue
        for _ in range(copies):
            parts, new_spans, pos = [], [], 0
            for s, e, lab in spans:
                parts.append(sent[pos:s])
                name = rng.choice(pools[lab]) if pools.get(lab) else sent[s:e]
                start = sum(len(p) for p in parts)
                parts.append(name)
                new_spans.append((start, start + len(name), lab))
                pos = e
            parts.append(sent[pos:])
            yield "".join(parts), new_spans


def _region_pool(limit: int, rng: random.Random) -> list[str]:
    from ..regions import all_regions

    names = [r["name"] for r in all_regions() if r.get("name")]
    rng.shuffle(names)
    return names[:limit]


def build_corpus(gold_dir: Path | None, text_dirs: list[Path], seed: int = 0, copies: int = 6):
    """(train, dev) lists of (text, spans). Dev is the gold of one held-out seed document."""
    from ..normalize import normalize

    rng = random.Random(seed)
    labelled: list[tuple[str, list]] = []
    dev: list[tuple[str, list]] = []
    gold_docs = set()
    if gold_dir and gold_dir.is_dir():
        docs_dir = gold_dir.parent / "seeds"
        gold_files = sorted(gold_dir.glob("*.json"))
        for i, gf in enumerate(gold_files):
            g = json.loads(gf.read_text(encoding="utf-8"))
            src = docs_dir / g["doc"]
            if not src.exists():
                continue
            gold_docs.add(g["doc"])
            text = normalize(src.read_bytes(), name=str(src)).text
            spans = locate_gold(text, g["mentions"])
            sents = list(_sentences(text, spans))
            (dev if i == len(gold_files) - 1 else labelled).extend(sents)
    for d in text_dirs:
        for f in sorted(d.glob("*.txt")) if d.is_dir() else []:
            if f.name in gold_docs:
                continue
            text = normalize(f.read_bytes(), name=str(f)).text
            labelled.extend(_sentences(text, silver_spans(text)))
    pools: dict[str, list[str]] = {lab: [] for lab in LABELS.values()}
    for sent, spans in labelled:
        for s, e, lab in spans:
            pools[lab].append(sent[s:e])
    pools["REGION"] += _region_pool(3000, rng)
    train = list(labelled) + list(augment(labelled, pools, rng, copies))
    rng.shuffle(train)
    return train, dev


def _docbin(nlp, examples):
    from spacy.tokens import DocBin

    db = DocBin()
    for text, spans in examples:
        doc = nlp.make_doc(text)
        ents = [doc.char_span(s, e, label=lab, alignment_mode="contract") for s, e, lab in spans]
        doc.ents = [x for x in ents if x is not None]
        db.add(doc)
    return db


def train(config_path: str = "configs/ner.cfg", output: str | Path = MODEL_DIR, seed: int = 0,
          gold_dir: Path | None = None, text_dirs: list[Path] | None = None) -> Path:
    """Build the silver+gold corpus, train with spaCy on CPU and install model-best at ``output``."""
    import spacy
    from spacy.cli.train import train as spacy_train

    root = PACKAGE_DIR.parent
    gold_dir = gold_dir or root.parent / "shared" / "gold"
    text_dirs = text_dirs or [root / "corpus", root / "train_data"]
    train_set, dev_set = build_corpus(gold_dir, text_dirs, seed=seed)
    if not dev_set:  # no shared gold beside the checkout: hold out a slice of the silver data
        cut = max(1, len(train_set) // 10)
        dev_set, train_set = train_set[:cut], train_set[cut:]
    nlp = spacy.blank("zh")
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        _docbin(nlp, train_set).to_disk(tmp / "train.spacy")
        _docbin(nlp, dev_set).to_disk(tmp / "dev.spacy")
        spacy_train(Path(config_path), tmp / "out", use_gpu=-1,
                    overrides={"paths.train": str(tmp / "train.spacy"), "paths.dev": str(tmp / "dev.spacy"),
                               "system.seed": seed, "training.seed": seed})
        out = Path(output)
        if out.exists():
            shutil.rmtree(out)
        shutil.copytree(tmp / "out" / "model-best", out)
    load_model.cache_clear()
    return out
