"""Statistical entity recognition: a small spaCy NER on ``spacy.blank("zh")`` (character segmenter).

The model learns project, mechanism and region names from

* **gold** labels: the hand-checked mentions of the seed documents (``../shared/gold``; one seed is
  held out as the development set that picks the best checkpoint),
* **silver** labels: the rule extractors (:mod:`pipeline.extract.entities`) run over unlabelled
  report text — the bundled ``corpus/`` documents that have no gold, and any ``*.txt`` under
  ``train_data/``,
* **synthetic** sentences of report language made from ``train_data/templates.yaml`` (names built
  from parts and gazetteer places, labelled by construction, plus generic phrases left unlabelled),

and a larger set made by *mention replacement*: every labelled sentence is repeated with its
entities swapped for other names of the same kind, so the model learns the contexts names stand in
rather than the names themselves.

Training is reproducible with one command (``gongbao train``; config ``configs/ner.cfg``) and
takes a few CPU minutes. The trained pipeline ships inside the package (``pipeline/models/ner``,
a few MB) and loads without network. spaCy is imported lazily: nothing here runs unless the model
is asked for.

At prediction time the model only *adds* to the rules: :func:`predict_entities` drops a model
span that overlaps a rule entity of any kind (the rules are more precise where they fire), and
every mention it returns says ``source="model"`` and ``rule="model.ner"``.
"""
from __future__ import annotations

import json
import os
import random
import re
import shutil
import tempfile
import weakref
from functools import lru_cache
from pathlib import Path

from .. import PACKAGE_DIR
from ..mention import Mention
from .merge import SpanIndex

__all__ = ["MODEL_DIR", "load_model", "predict_entities", "build_corpus", "synthetic_sentences", "train"]

ROOT = PACKAGE_DIR.parent
MODEL_DIR = PACKAGE_DIR / "models" / "ner"
MODEL_ENV = "GONGBAO_NER_MODEL"  # another trained model directory to use instead
CONFIG = ROOT / "configs" / "ner.cfg"
TRAIN_DATA = ROOT / "train_data"
LABELS = {"project": "PROJECT", "mechanism": "MECHANISM", "region": "REGION"}
KINDS = {v: k for k, v in LABELS.items()}
ENTITY_KINDS = frozenset(LABELS)
MAX_CHARS = 2000  # lines longer than this are cut into pieces at sentence ends for the model
DEV_DOC = "004_0693fd384ee7ab58.txt"  # the seed held out to pick the best checkpoint
MODEL_KINDS = frozenset({"project", "mechanism"})  # what the model adds by default (see predict_entities)
MAX_NAME = 40
EXTRA_PROJECT_HEADS = ("中心", "基地", "学校", "学院", "医院", "公园", "管网", "管廊", "生产线", "厂", "港", "场",
                       "馆", "城", "计划", "扩建", "改造", "迁建", "一体化", "站", "路", "线", "桥")
_CLAUSE_BREAK = re.compile(r"[，,。；;：:！!？?\s]")
_MECHANISM_HEAD = re.compile(r"(?:制|机制|制度|模式|(?<![\d一二三四五六七八九十百千万今明去当全周多每半])年|行动|赛|法)$")
_QUOTE = re.compile(r"[“”‘’\"'《》]")
#: Institutions are not projects; systems, reforms and set-ups are not mechanisms (GUIDELINES.md).
_INSTITUTION = re.compile(r"(?:研究|交流|发展|服务|创新|研发|信息)中心$|(?:研究院|研究所|分院|协会|学会)$")
_NOT_PROJECT_HEAD = re.compile(r"(?:之路|电路|思路|出路|线路|门路|套路|销路|道路|场景|(?<!农贸|批发)市场|现场|立场|战场)$")
_NOT_MECHANISM = re.compile(r"(?:体制|体系|改革|机构|体制机制)$")
#: A quoted mechanism is put into practice (实行“…”) or named as one (“…”工作机制).
_PRACTICE_BEFORE = re.compile(r"(?:实行|推行|建立|健全|完善|开展|坚持|落实|按照|深化|创新|探索|推广|实施|采取|采用|运用)"
                              r"(?:好|了)?$")
_PRACTICE_AFTER = re.compile(r"的?(?:工作)?(?:机制|模式|制度|活动|要求|工作法|行动)")
#: …while slogans, ideas and goals are not mechanisms (坚持“亲商、安商、扶商、富商”的发展理念).
_IDEA_AFTER = re.compile(r"的?[\u4e00-\u9fff]{0,2}(?:理念|思路|原则|目标|口号|精神|方针|战略|导向)")

_SLOT = re.compile(r"\{(\w+)\}")
_HAN_OR_ALNUM = re.compile(r"[\u4e00-\u9fffA-Za-z0-9]")


# ---------------------------------------------------------------------------------------------
# Prediction
# ---------------------------------------------------------------------------------------------

@lru_cache(maxsize=2)
def load_model(path: str | None = None):
    """The trained spaCy pipeline (loaded once), or None when none is installed (rules then work alone).

    ``path`` defaults to ``$GONGBAO_NER_MODEL``, else the shipped ``pipeline/models/ner``. Loading
    reads only local files: the pipeline is ``spacy.blank("zh")`` with the ``char`` segmenter, which
    needs no downloaded segmentation model.
    """
    p = Path(path or os.environ.get(MODEL_ENV) or MODEL_DIR)
    if not (p / "meta.json").exists():
        return None
    import spacy

    return spacy.load(p)


def _pieces(text: str):
    """(offset, piece) chunks of ``text``: its lines, long lines cut at sentence ends.

    >>> list(_pieces("甲。\\n\\n乙"))
    [(0, '甲。'), (4, '乙')]
    """
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


def _clean_edges(text: str, start: int, end: int) -> tuple[int, int]:
    """Shrink a span past quotes, brackets and spaces at its edges (names are taken without quotes)."""
    while start < end and not _HAN_OR_ALNUM.match(text[start]):
        start += 1
    while end > start and not _HAN_OR_ALNUM.match(text[end - 1]):
        end -= 1
    return start, end


def _snap_to_quotes(text: str, start: int, end: int) -> tuple[int, int]:
    """The whole quoted name when a span stops a character or two short of its quotes.

    >>> t = "落实“四督四保”要求"
    >>> _snap_to_quotes(t, 3, 6)
    (3, 7)
    """
    left = text.rfind("“", max(0, start - 3), start + 1)
    right = text.find("”", end, end + 3)
    if left < 0 or right < 0 or "”" in text[left + 1:start] or "“" in text[end:right]:
        return start, end
    return left + 1, right


def plausible(kind: str, text: str, start: int, end: int) -> bool:
    """Whether a model span has the shape of a name of its kind (the model proposes, this disposes).

    A name runs over no clause break or quote and is not a category word of the rules' lexicons
    (重点项目, 工作机制, also behind a short modifier: 省重点项目). A project ends in a project or
    facility word (水库, 产业园, 工程 …, as the project rules' suffixes) and is no institution
    (…研究中心, …研究院) nor a common word on a facility head (…之路, 集成电路, 市场). A mechanism is no system or reform (…体制, …体系, …改革) and ends in
    制/机制/制度/模式 or a campaign word (年, 行动, 赛), or is quoted and either joins parts with
    ``+`` or is put into practice (实行“…”, “…”工作机制) and is no slogan (“…”的发展理念).

    >>> plausible("project", "建设青溪光伏产业园", 2, 9), plausible("project", "商品房销售面积", 0, 7)
    (True, False)
    >>> plausible("project", "抓好省重点项目", 2, 7), plausible("project", "迈向3万亿之路", 2, 8)
    (False, False)
    >>> plausible("mechanism", "推行项目代办责任制", 2, 9), plausible("mechanism", "优化营商环境", 2, 6)
    (True, False)
    >>> plausible("mechanism", "严格落实“四督四保”", 5, 9), plausible("mechanism", "据“深视新闻”报道", 2, 6)
    (True, False)
    >>> plausible("mechanism", "坚持“亲商、安商”的发展理念", 3, 8), plausible("mechanism", "落实的“最后一米”", 4, 8)
    (False, False)
    """
    name = text[start:end]
    if not 2 <= len(name) <= MAX_NAME or _CLAUSE_BREAK.search(name) or _QUOTE.search(name):
        return False
    if kind in ("project", "mechanism") and _generic(kind, name):
        return False
    if kind == "project":
        return ("、" not in name and bool(_project_head().search(name) or _PHASE.search(name))
                and not _INSTITUTION.search(name)
                and not _NOT_PROJECT_HEAD.search(name))
    if kind == "mechanism":
        if _NOT_MECHANISM.search(name):
            return False
        if _MECHANISM_HEAD.search(name):
            return True
        quoted = start > 0 and end < len(text) and text[start - 1] in "“\"'‘" and text[end] in "”\"'’"
        if not quoted or _IDEA_AFTER.match(text, end + 1):
            return False
        return ("+" in name or bool(_PRACTICE_BEFORE.search(text, max(0, start - 9), start - 1))
                or bool(_PRACTICE_AFTER.match(text, end + 1)))
    return True


_PHASE = re.compile(r"[一二三四五六七八九十\d]期(?:工程|项目)?$")  # 洪庄四期, 锂动芯二期


def _generic(kind: str, name: str) -> bool:
    """A category word of the rules' lexicons (重点项目, 工作机制), bare or behind a short modifier (省重点项目)."""
    from .projects import lexicon

    return any(name.endswith(g) and len(name) - len(g) <= 2 for g in lexicon(f"{kind}_generic"))


@lru_cache(maxsize=1)
def _project_head():
    from .projects import SUFFIXES

    heads = sorted(set(SUFFIXES) | set(EXTRA_PROJECT_HEADS), key=len, reverse=True)
    return re.compile("(?:" + "|".join(map(re.escape, heads)) + r")$")


_PIECE_CACHE: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()  # model -> {piece: entities}
PIECE_CACHE_MAX = 4096  # pieces remembered per model (then started afresh; at most ~16 MB of text)


def _piece_entities(nlp, pieces: list[str]) -> list[tuple[tuple[int, int, str], ...]]:
    """The model's entities of each piece, (start_char, end_char, label): each distinct piece is run once
    and remembered (the same line recurs in a document's other copies, e.g. a page and its repair)."""
    cache = _PIECE_CACHE.setdefault(nlp, {})
    todo = [p for p in dict.fromkeys(pieces) if p not in cache]
    if len(cache) + len(todo) > PIECE_CACHE_MAX:
        cache.clear()
    for piece, doc in zip(todo, nlp.pipe(todo, batch_size=64)):
        cache[piece] = tuple((ent.start_char, ent.end_char, ent.label_) for ent in doc.ents)
    return [cache[p] for p in pieces]


#: How far a span can reach past its piece once snapped to quotes (_snap_to_quotes), plus one for the
#: closing quote that plausible() reads after a quoted mechanism.
_REACH = 3


@lru_cache(maxsize=8)
def _name_hint(kinds: frozenset[str]) -> re.Pattern:
    """What a piece of text must contain for plausible() to accept a span of ``kinds`` in it: the ending
    of a name of that kind (a project head or works phase; a mechanism head or a closing quote), found
    anywhere. A necessary condition only, so skipping pieces without it changes no result."""
    parts = []
    if "project" in kinds:
        parts += [_project_head().pattern.removesuffix("$"), _PHASE.pattern.removesuffix("(?:工程|项目)?$")]
    if "mechanism" in kinds:
        parts += [_MECHANISM_HEAD.pattern.removesuffix("$"), "[”\"'’]"]
    return re.compile("|".join(f"(?:{x})" for x in parts) or "(?!)")


def predict_entities(text: str, *, rule_mentions=(), model_path: str | None = None,
                     kinds=MODEL_KINDS, check: bool = True) -> list[Mention]:
    """Entity mentions that the statistical model adds to ``rule_mentions``.

    Each has ``source="model"`` and ``rule="model.ner"``. Only ``kinds`` are kept (by default
    projects and mechanisms: regions are the gazetteer's, which the rules already apply exactly);
    with ``check`` a span must look like a name of its kind (:func:`plausible`). A span is dropped
    when it overlaps an entity mention of the rules (any kind): where the rules fire they decide.
    Returns [] when no model is installed.
    """
    nlp = load_model(model_path)
    if nlp is None or not text.strip():
        return []
    from ..regions import lookup

    taken = SpanIndex((m.start, m.end) for m in rule_mentions if m.kind in ENTITY_KINDS)
    chunks = [(o, p) for o, p in _pieces(text) if p.strip()]
    if check and kinds and not set(kinds) - MODEL_KINDS:
        # spaCy is most of the cost: skip pieces where no span could pass plausible()
        hint = _name_hint(frozenset(kinds))
        chunks = [(o, p) for o, p in chunks if hint.search(text, max(0, o - _REACH), o + len(p) + _REACH)]
        if not chunks:
            return []
    out: list[Mention] = []
    for (off, _), ents in zip(chunks, _piece_entities(nlp, [p for _, p in chunks])):
        for ent_start, ent_end, label in ents:
            kind = KINDS.get(label)
            if kind is None or kind not in kinds:
                continue
            s, e = _snap_to_quotes(text, *_clean_edges(text, off + ent_start, off + ent_end))
            if e - s < 2 or (check and not plausible(kind, text, s, e)):
                continue
            if taken.overlaps(s, e):
                continue
            adcode = level = None
            if kind == "region":
                hit = lookup(text[s:e])
                if hit is not None:
                    adcode, level = hit.adcode, hit.level
            out.append(Mention(kind=kind, text=text[s:e], start=s, end=e, rule="model.ner",
                               adcode=adcode, level=level, source="model"))
    return out


# ---------------------------------------------------------------------------------------------
# Training data
# ---------------------------------------------------------------------------------------------

Example = tuple[str, list[tuple[int, int, str]]]


def _non_overlapping(spans):
    """Longest-first, non-overlapping spans in reading order (spaCy entities cannot nest).

    >>> _non_overlapping([(0, 3, "REGION"), (0, 9, "PROJECT"), (10, 12, "REGION")])
    [(0, 9, 'PROJECT'), (10, 12, 'REGION')]
    """
    kept = []
    for s, e, label in sorted(spans, key=lambda t: (-(t[1] - t[0]), t[0])):
        if all(e <= ks or s >= ke for ks, ke, _ in kept):
            kept.append((s, e, label))
    return sorted(kept)


def locate_gold(text: str, gold: list[dict]) -> list[tuple[int, int, str]]:
    """Find gold entity mentions (listed in reading order) in ``text``; unfound ones are skipped.

    >>> locate_gold("建设甲水库和乙水库", [{"kind": "project", "text": "甲水库"}, {"kind": "project", "text": "乙水库"}])
    [(2, 5, 'PROJECT'), (6, 9, 'PROJECT')]
    """
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
    """The rule extractors' entity spans in normalized ``text`` (the silver labels)."""
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
    """Mention replacement: each labelled sentence again with its names swapped for others of the kind.

    >>> list(augment([("建设甲水库。", [(2, 5, "PROJECT")])], {"PROJECT": ["乙电站"]}, random.Random(0), 1))
    [('建设乙电站。', [(2, 5, 'PROJECT')])]
    """
    for sent, spans in sentences:
        if not spans:
            continue
        for _ in range(copies):
            parts, new_spans, pos, length = [], [], 0, 0
            for s, e, lab in spans:
                parts.append(sent[pos:s])
                length += s - pos
                name = rng.choice(pools[lab]) if pools.get(lab) else sent[s:e]
                new_spans.append((length, length + len(name), lab))
                parts.append(name)
                length += len(name)
                pos = e
            parts.append(sent[pos:])
            yield "".join(parts), new_spans


@lru_cache(maxsize=1)
def _gazetteer() -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(full region names, two-character place stems) from :func:`pipeline.regions.all_regions`."""
    from ..regions import all_regions

    full, stems = set(), set()
    for r in all_regions():
        name = r.get("name") or ""
        if len(name) >= 2:
            full.add(name)
        if len(name) == 3 and name[-1] in "县市区州":
            stems.add(name[:2])
    return tuple(sorted(full)), tuple(sorted(stems))


def load_templates(path: Path | None = None) -> dict:
    """``train_data/templates.yaml``: name patterns, name parts and report sentences with slots."""
    import yaml

    return yaml.safe_load((path or TRAIN_DATA / "templates.yaml").read_text(encoding="utf-8"))


def _expand(pattern: str, parts: dict, rng: random.Random, places: list[str]) -> str:
    """Fill every ``{part}`` of a name pattern (``{place}`` from ``places``)."""
    def pick(m):
        key = m.group(1)
        return rng.choice(places) if key == "place" else rng.choice(parts[key])

    return _SLOT.sub(pick, pattern)


def synthetic_sentences(n: int, rng: random.Random, templates: dict | None = None,
                        key: str = "sentences") -> list[Example]:
    """``n`` report sentences from the templates' ``key`` list, labelled by construction.

    ``{P}``/``{RP}`` become project names (``{RP}`` led by a region, as 温江区罗欣药业医药健康产业园),
    ``{M}`` mechanisms (``{MQ}`` quoted models and campaigns, ``{MC}`` campaigns), ``{R}`` gazetteer
    regions (sometimes their short form), ``{X}`` generic phrases that stay unlabelled, and
    ``{N}``/``{MO}``/``{Y}``/``{A}`` numbers, months, years and amounts. ``key="negatives"`` gives
    statistics and review sentences without projects or mechanisms.
    """
    t = templates or load_templates()
    names, sentences = t["names"], t[key]
    full, stems = _gazetteer()
    places = list(names["place_invented"]) + list(stems)
    out: list[Example] = []
    for _ in range(n):
        template = rng.choice(sentences)
        text, spans, pos = [], [], 0
        for piece in re.split(r"(\{\w+\})", template):
            slot = piece[1:-1] if _SLOT.fullmatch(piece) else None
            label = None
            if slot is None:
                value = piece
            elif slot == "P":
                value, label = _expand(rng.choice(names["project"]), names, rng, places), "PROJECT"
            elif slot == "RP":
                value = rng.choice(full) + _expand(rng.choice(names["project"]), names, rng, places)
                label = "PROJECT"
            elif slot == "M":
                value, label = _expand(rng.choice(names["mechanism"]), names, rng, places), "MECHANISM"
            elif slot == "MQ":
                value, label = rng.choice(names["slogan"] + names["campaign"]), "MECHANISM"
            elif slot == "MC":
                value, label = rng.choice(names["campaign"]), "MECHANISM"
            elif slot == "R":
                value, label = rng.choice(full), "REGION"
                if rng.random() < 0.2 and len(value) == 3 and value[-1] in "省市":
                    value = value[:2]
            elif slot == "X":
                value = rng.choice(names["filler"])
            elif slot == "N":
                value = str(rng.randint(1, 300))
            elif slot == "MO":
                value = str(rng.randint(1, 12))
            elif slot == "Y":
                value = str(rng.randint(2012, 2025))
            elif slot == "A":
                value = f"{rng.uniform(0.5, 900):.2f}{rng.choice(['亿元', '万元'])}"
            else:
                raise ValueError(f"unknown slot {piece} in template {template!r}")
            if label:
                spans.append((pos, pos + len(value), label))
            text.append(value)
            pos += len(value)
        out.append(("".join(text), spans))
    return out


def _gold_documents(gold_dir: Path):
    """(doc name, normalized text, gold spans) for each gold file whose document is found."""
    from ..normalize import normalize

    docs_dir = gold_dir.parent / "seeds"
    for gf in sorted(gold_dir.glob("*.json")):
        g = json.loads(gf.read_text(encoding="utf-8"))
        src = docs_dir / g["doc"]
        if not src.exists():
            src = ROOT / "corpus" / g["doc"]
        if not src.exists():
            continue
        text = normalize(src.read_bytes(), name=str(src)).text
        yield g["doc"], text, locate_gold(text, g["mentions"])


def build_corpus(gold_dir: Path | None, text_dirs: list[Path], seed: int = 0, copies: int = 6,
                 synthetic: int = 2500, dev_docs: tuple[str, ...] = (DEV_DOC,)
                 ) -> tuple[list[Example], list[Example]]:
    """(train, dev) lists of (sentence, [(start, end, LABEL)]).

    Dev is the gold of the ``dev_docs`` (never trained on) and a fresh synthetic sample; train is
    the other gold documents, silver labels on the unlabelled texts of ``text_dirs`` (documents
    with gold, held-out ones included, are skipped), the synthetic sentences (``synthetic`` with
    names, half as many without), and ``copies`` mention-replaced copies of every labelled sentence.
    """
    from ..normalize import normalize

    rng = random.Random(seed)
    labelled: list[Example] = []
    dev: list[Example] = []
    gold_docs = set()
    if gold_dir and gold_dir.is_dir():
        for name, text, spans in _gold_documents(gold_dir):
            gold_docs.add(name)
            (dev if name in dev_docs else labelled).extend(_sentences(text, spans))
    for d in text_dirs:
        for f in sorted(d.glob("*.txt")) if d.is_dir() else []:
            if f.name in gold_docs:
                continue
            text = normalize(f.read_bytes(), name=str(f)).text
            labelled.extend(_sentences(text, silver_spans(text)))
    made = (synthetic_sentences(synthetic, rng) + synthetic_sentences(synthetic // 2, rng, key="negatives")
            if synthetic else [])
    if dev and synthetic:  # a fresh synthetic sample steadies the checkpoint choice on one small document
        dev_rng = random.Random(seed + 1)
        dev += synthetic_sentences(60, dev_rng) + synthetic_sentences(30, dev_rng, key="negatives")
    pools: dict[str, list[str]] = {lab: [] for lab in LABELS.values()}
    for sent, spans in labelled + made:
        for s, e, lab in spans:
            pools[lab].append(sent[s:e])
    pools["REGION"] += list(_gazetteer()[0])
    train_set = labelled + made + list(augment(labelled, pools, rng, copies))
    rng.shuffle(train_set)
    return train_set, dev


def _docbin(nlp, examples):
    from spacy.tokens import DocBin

    db = DocBin()
    for text, spans in examples:
        doc = nlp.make_doc(text)
        ents = [doc.char_span(s, e, label=lab, alignment_mode="contract") for s, e, lab in spans]
        doc.ents = [x for x in ents if x is not None]
        db.add(doc)
    return db


def _forget_paths(config: Path) -> None:
    """Blank the temporary corpus paths in an installed model's config (they only existed while training)."""
    from thinc.api import Config

    cfg = Config().from_disk(config, interpolate=False)
    cfg["paths"]["train"] = cfg["paths"]["dev"] = None
    cfg.to_disk(config)


def _resolve(path: str | Path) -> Path:
    """A path as given, or relative to the repository root when it does not exist from here."""
    p = Path(path)
    return p if p.exists() or p.is_absolute() else ROOT / p


def train(config_path: str | Path = CONFIG, output: str | Path = MODEL_DIR, seed: int = 0,
          gold_dir: Path | None = None, text_dirs: list[Path] | None = None,
          overrides: dict | None = None, synthetic: int = 2500, copies: int = 6,
          dev_docs: tuple[str, ...] = (DEV_DOC,)) -> Path:
    """Build the gold+silver+synthetic corpus, train with spaCy on CPU, install model-best at ``output``.

    ``overrides`` are spaCy config overrides (``{"training.max_steps": 20}`` for a smoke run);
    ``dev_docs`` are the gold documents held out of training (to pick the checkpoint, or to measure
    the model on a report it never saw).
    Without ``../shared/gold`` beside the checkout, a tenth of the training set is held out as dev.
    """
    import spacy
    from spacy.cli.train import train as spacy_train

    config_path = _resolve(config_path)
    if not config_path.is_file():
        raise FileNotFoundError(f"NER config not found: {config_path}")
    gold_dir = gold_dir if gold_dir is not None else ROOT.parent / "shared" / "gold"
    text_dirs = text_dirs if text_dirs is not None else [ROOT / "corpus", TRAIN_DATA]
    train_set, dev_set = build_corpus(gold_dir, text_dirs, seed=seed, synthetic=synthetic, copies=copies,
                                      dev_docs=tuple(dev_docs))
    if not dev_set:  # no shared gold beside the checkout: hold out a slice of the training data
        cut = max(1, len(train_set) // 10)
        dev_set, train_set = train_set[:cut], train_set[cut:]
    if not train_set:
        raise ValueError("no training sentences: give gold_dir, text_dirs or synthetic > 0")
    nlp = spacy.blank("zh")  # the char segmenter: tokens are characters
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        _docbin(nlp, train_set).to_disk(tmp / "train.spacy")
        _docbin(nlp, dev_set).to_disk(tmp / "dev.spacy")
        spacy_train(config_path, tmp / "out", use_gpu=-1,
                    overrides={"paths.train": str(tmp / "train.spacy"), "paths.dev": str(tmp / "dev.spacy"),
                               "system.seed": seed, **(overrides or {})})
        out = Path(output)
        if out.exists():
            shutil.rmtree(out)
        out.parent.mkdir(parents=True, exist_ok=True)
        shutil.copytree(tmp / "out" / "model-best", out)
    _forget_paths(out / "config.cfg")
    load_model.cache_clear()
    return out
