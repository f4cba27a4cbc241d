"""One document, bytes in, database-ready rows out: the pure per-document step of ``gongbao ingest``.

:func:`process_document` runs normalize → document metadata → paragraphs → mentions → claims →
search tokens over the bytes of one file and returns a :class:`ProcessedDoc` of plain rows. It touches
no database and holds no state, so it runs in worker processes (everything here pickles) and the
single writer in :mod:`pipeline.store` only inserts. A stage that fails does not raise: the result
carries an :class:`~pipeline.ingest.IngestError` naming the stage and the reason, and the batch goes on.
"""
from __future__ import annotations

import signal
import threading
import unicodedata
import time
import traceback
from bisect import bisect_right
from contextlib import contextmanager
from dataclasses import dataclass, field

from .ingest import IngestError

#: Columns of a mention row (see CONTRACT.md; ``paragraph`` is the paragraph's position, resolved to an id on write).
MENTION_FIELDS = ("kind", "text", "start", "end", "raw_start", "raw_end", "value", "value_max", "unit",
                  "currency", "qualifier", "direction", "object", "adcode", "basis", "rule", "source")

#: Seconds one document may take before it is recorded as an error (a runaway pattern must not stall a batch).
DEFAULT_TIMEOUT = 300.0

#: Below this share of printable characters a decoded document is treated as binary, not text.
MIN_PRINTABLE_SHARE = 0.85


@dataclass
class ProcessedDoc:
    """Everything the writer needs for one document, or the error that stopped it."""

    path: str
    sha256: str
    n_bytes: int
    error: IngestError | None = None
    encoding: str | None = None
    raw_text: str | None = None
    text: str | None = None
    repairs: list[dict] = field(default_factory=list)
    meta: dict = field(default_factory=dict)  # title, date, region_adcode, region_name, region_level
    paragraphs: list[tuple[int, int]] = field(default_factory=list)  # (start, end) in text
    paragraph_raw: list[tuple[int, int]] = field(default_factory=list)  # the same spans in raw_text
    search_text: list[str] | None = None  # per paragraph: tokens for the full-text index (None: no tokenizer)
    mentions: list[dict] = field(default_factory=list)  # MENTION_FIELDS + "paragraph" (position or None)
    claims: list[dict] = field(default_factory=list)  # Claim.to_row() + "paragraph" (position or None)
    seconds: dict = field(default_factory=dict)  # stage → wall seconds
    stage: str = "read"  # the stage reached: where it failed, or "done"

    @property
    def ok(self) -> bool:
        return self.error is None

    @property
    def n_chars(self) -> int:
        return len(self.text or "")

    def paragraph_text(self, i: int) -> str:
        s, e = self.paragraphs[i]
        return self.text[s:e]


class DocumentTimeout(Exception):
    """Raised inside :func:`process_document` when its time is up."""


@contextmanager
def deadline(seconds: float | None):
    """Raise :class:`DocumentTimeout` in this thread after ``seconds`` (SIGALRM; main thread only, else no limit).

    Worker processes run documents in their main thread, so the limit holds there and in a serial run.
    """
    usable = (seconds and seconds > 0 and hasattr(signal, "setitimer")
              and threading.current_thread() is threading.main_thread())
    if not usable:
        yield
        return

    def _expire(signum, frame):
        raise DocumentTimeout(f"gave up after {seconds:g} s")

    old = signal.signal(signal.SIGALRM, _expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)


class StageError(Exception):
    """A stage failed; ``stage`` and the message go to ``ingest_errors``."""

    def __init__(self, stage: str, message: str):
        super().__init__(message)
        self.stage = stage
        self.message = message


def _describe(e: BaseException) -> str:
    """``ExcType: message (at file:line in function)`` — enough to find a bug without the whole traceback."""
    msg = f"{type(e).__name__}: {e}".strip()
    if len(msg) > 500:
        msg = msg[:500] + "…"
    tb = traceback.extract_tb(e.__traceback__)
    if tb:
        last = tb[-1]
        where = last.filename.rsplit("/pipeline/", 1)[-1] if "/pipeline/" in last.filename else last.filename
        msg += f" (at {where}:{last.lineno} in {last.name})"
    return msg


def _normalize(path: str, data: bytes):
    from .decode import InputError
    from .normalize import normalize

    try:
        doc = normalize(data, name=path)
    except InputError as e:
        stage = "normalize" if type(e).__name__ == "EmptyInputError" else "decode"  # no text vs not text
        raise StageError(stage, str(e) or "not readable as text") from None
    except RecursionError:
        raise StageError("normalize", "input is nested too deeply to parse (RecursionError)") from None
    if not doc.text or not doc.text.strip():
        raise StageError("normalize", "no text left after normalization (empty or only markup/boilerplate)")
    share = printable_share(doc.text)
    if share < MIN_PRINTABLE_SHARE:
        raise StageError("decode", f"looks binary, not text: only {share:.0%} of the decoded characters are "
                                   f"printable (encoding guess {doc.encoding})")
    return doc


def printable_share(text: str, sample: int = 20000) -> float:
    """Share of text-like characters in the first ``sample`` characters of ``text``.

    Control characters (other than whitespace), unassigned code points, lone surrogates and U+FFFD
    (what a lossy decode leaves) count against; private-use characters (a GBK user-defined pair) do not.

    >>> printable_share("今年以来，投资完成187.43亿元")
    1.0
    >>> printable_share("\\x00\\x01\\x02ab\\ufffd") < 0.5
    True
    """
    head = text[:sample]
    if not head:
        return 1.0
    # each distinct character is classified once (a page uses a few hundred), then its occurrences counted
    bad = sum(head.count(ch) for ch in set(head) if _not_text(ch))
    return 1 - bad / len(head)


def _not_text(ch: str) -> bool:
    """U+FFFD, or a control (not whitespace), surrogate or unassigned character."""
    return ch == "\ufffd" or (not ch.isspace() and unicodedata.category(ch) in _NOT_TEXT)


_NOT_TEXT = frozenset({"Cc", "Cs", "Cn"})


def _paragraphs(doc) -> list[tuple[int, int]]:
    """Paragraph spans of the normalized text: ``doc.paragraphs`` when the normalizer gives them, else lines."""
    spans = getattr(doc, "paragraphs", None)
    if spans is None:
        try:
            from .normalize import split_paragraphs
        except ImportError:
            split_paragraphs = None
        if split_paragraphs is not None:
            spans = split_paragraphs(doc.text)
        else:
            spans = line_spans(doc.text)
    out = []
    for s, e in spans:
        s, e = int(s), int(e)
        if not (0 <= s <= e <= len(doc.text)):
            raise StageError("paragraphs", f"paragraph span {s}..{e} is outside the text (length {len(doc.text)})")
        if doc.text[s:e].strip():
            out.append((s, e))
    return out


def line_spans(text: str) -> list[tuple[int, int]]:
    """Non-blank lines as (start, end), whitespace trimmed.

    >>> line_spans("甲\\n\\n  乙丙 \\n")
    [(0, 1), (5, 7)]
    """
    out = []
    pos = 0
    for line in text.split("\n"):
        stripped = line.strip()
        if stripped:
            lead = len(line) - len(line.lstrip())
            out.append((pos + lead, pos + lead + len(stripped)))
        pos += len(line) + 1
    return out


def paragraph_of(starts: list[int], ends: list[int], start: int) -> int | None:
    """Position of the paragraph holding offset ``start`` (the preceding one for a gap), None before the first.

    >>> paragraph_of([0, 10], [5, 20], 12), paragraph_of([0, 10], [5, 20], 7), paragraph_of([3], [5], 1)
    (1, 0, None)
    """
    i = bisect_right(starts, start) - 1
    return i if i >= 0 else None


def _meta_dict(meta) -> dict:
    out = {}
    for k in ("title", "date", "region_adcode", "region_name", "region_level"):
        v = getattr(meta, k, None)
        out[k] = None if v is None else str(v)
    return out


def mention_row(m, paragraph: int | None) -> dict:
    """A :class:`~pipeline.mention.Mention` as a ``mentions`` row (values the database can hold)."""
    row = {f: getattr(m, f, None) for f in MENTION_FIELDS}
    for k in ("value", "value_max"):
        v = row[k]
        if v is not None and not isinstance(v, (int, float, str)):
            row[k] = str(v)
    row["paragraph"] = paragraph
    return row


def _search_text(texts: list[str]) -> list[str] | None:
    try:
        from .search import segment_for_index
    except ImportError:
        return None
    return [segment_for_index(t) for t in texts]


def process_document(path: str, data: bytes, sha256: str | None = None, *, use_model: bool = True,
                     timeout: float | None = DEFAULT_TIMEOUT) -> ProcessedDoc:
    """Normalize, extract and build claims for one document; never raises for a bad document.

    The result's ``error`` names the failing stage (``decode``, ``normalize``, ``meta``, ``paragraphs``,
    ``extract``, ``claims``, ``search``) with a message; rows of a failed document are not loaded. A
    document still running after ``timeout`` seconds fails in the stage it was in.
    """
    from .ingest import sha256_hex

    sha = sha256 or sha256_hex(data)
    out = ProcessedDoc(path=path, sha256=sha, n_bytes=len(data))
    try:
        with deadline(timeout):
            _run_stages(out, data, use_model)
    except StageError as e:
        out.error = IngestError(path, e.stage, e.message, sha256=sha)
    except DocumentTimeout as e:
        out.error = IngestError(path, out.stage, f"{e} (a very large document or a runaway pattern)", sha256=sha)
    except MemoryError:
        out.error = IngestError(path, out.stage, "out of memory while processing this document", sha256=sha)
    except Exception as e:  # one bad document must not stop the batch: record it with where it failed
        out.error = IngestError(path, out.stage, _describe(e), sha256=sha)
    if out.error is not None:  # nothing of a failed document is loaded; do not ship its text back
        out.raw_text = out.text = None
        out.repairs, out.paragraphs, out.paragraph_raw, out.mentions, out.claims = [], [], [], [], []
        out.search_text = None
    return out


def _run_stages(out: ProcessedDoc, data: bytes, use_model: bool) -> None:
    """The stages in order, filling ``out``; ``out.stage`` names the one in progress (then ``done``)."""
    clock = time.perf_counter

    def enter(stage: str) -> float:
        out.stage = stage
        return clock()

    t = enter("normalize")
    doc = _normalize(out.path, data)
    out.encoding, out.raw_text, out.text = doc.encoding, doc.raw, doc.text
    out.repairs = [r.to_json() for r in (doc.repairs or [])]
    out.seconds["normalize"] = clock() - t

    t = enter("meta")
    from .docmeta import document_meta

    meta = document_meta(doc.text)
    out.meta = _meta_dict(meta)
    out.seconds["meta"] = clock() - t

    enter("paragraphs")
    out.paragraphs = _paragraphs(doc)
    out.paragraph_raw = [tuple(doc.offsets.raw_span(s, e)) for s, e in out.paragraphs]
    starts = [s for s, _ in out.paragraphs]
    ends = [e for _, e in out.paragraphs]

    t = enter("extract")
    from .extract import extract_document

    mentions = extract_document(doc, meta=meta, use_model=use_model)
    for m in mentions:
        if doc.text[m.start:m.end] != m.text:
            raise StageError("extract", f"mention {m.text!r} ({m.rule}) does not match the text at "
                                        f"{m.start}..{m.end}: {doc.text[m.start:m.end]!r}")
    out.mentions = [mention_row(m, paragraph_of(starts, ends, m.start)) for m in mentions]
    out.seconds["extract"] = clock() - t

    t = enter("claims")
    out.claims = _claims(doc.text, mentions, meta, out.paragraphs)
    out.seconds["claims"] = clock() - t

    t = enter("search")
    out.search_text = _search_text([doc.text[s:e] for s, e in out.paragraphs])
    out.seconds["search"] = clock() - t
    out.stage = "done"


def _claims(text: str, mentions: list, meta, paragraphs: list[tuple[int, int]]) -> list[dict]:
    try:
        from .claims import build_claims
    except ImportError:  # the claims stage is optional until it lands
        return []
    rows = []
    for c in build_claims(text, mentions, meta=meta, paragraphs=paragraphs):
        row = dict(c.to_row())
        idx = row.get("paragraph_index")
        row["paragraph"] = idx if idx is not None and 0 <= idx < len(paragraphs) else None
        row["mention_indexes"] = [int(i) for i in (row.get("mention_indexes") or [])]
        rows.append(row)
    return rows


#: A few scraped lines with every kind of damage the normalizer repairs (pinyin glued after characters,
#: traditional characters, GBK one-byte-shift mojibake): processing them loads every table there is.
_WARM_TEXT = ("甘孜日?qǐng)?bào) 2017年08月11日\n"
              "本網(wǎng)訊(本網(wǎng)記者)今年以來(lái),我州全社會(huì)固定資產(chǎn)投資完成187.43億元,同比增長(zhǎng)11%左右,"
              "完成省定目標(biāo)的43%;170個(gè)州級(jí)重點(diǎn)項(xiàng)目完成投資89.5億元。\n"
              "2019年1-8月，四川省康定市新开工项目45个，建立“一月一督查”工作机制。\n")

#: Undamaged lines (traditional characters, figures, a place, a mechanism): what every document needs —
#: decoding, OpenCC, the rule tables, the gazetteer, jieba — but not the mojibake repair's character model
#: (~110 MB), which loads on a worker's first damaged page, if it ever meets one.
_WARM_CLEAN_TEXT = ("甘孜日報 2017年08月11日\n"
                    "今年以來，我州全社會固定資產投資完成187.43億元，同比增長11%左右，完成省定目標的43%；"
                    "170個州級重點項目完成投資89.5億元。\n"
                    "2019年1-8月，四川省康定市新开工项目45个，建立“一月一督查”工作机制。\n")


def warm_up(use_model: bool = True, damaged: bool = False) -> IngestError | None:
    """Load the tables a worker needs once, before its first document (each worker, as it starts).

    ``use_model`` also loads the statistical NER model (only ingests that use it); ``damaged`` also the
    mojibake repair's character model (otherwise loaded by the first page that needs it). Returns the
    error of the warm-up document, if any (then the first real document will meet it too).
    """
    text = _WARM_TEXT if damaged else _WARM_CLEAN_TEXT
    return process_document("<warm-up>", text.encode("utf-8"), use_model=use_model).error
