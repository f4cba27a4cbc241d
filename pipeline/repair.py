"""Repair GBK one-byte-shift mojibake and recover lost characters (see ``shared/MOJIBAKE.md``).

The damaged pages were traditional Chinese stored in GBK, with ``(pinyin)`` glued after some characters by a
byte-level replace that ignored character boundaries, fullwidth ！，； matched across boundaries turned into
ASCII, and a few bytes lost in transit. Wherever one byte goes missing or one extra byte comes in, the decoder
reads the following bytes one out of step: each shown character is *(trail of one original character, lead
of the next)*, until an original trail byte in 0x40–0x7E surfaces as ASCII (``@ \\ h F Y``...), 0x80 as
``€``, or a clause ends (where the stray last byte is shown as ``?`` or dropped).

Repair = re-encode the garbled run to GBK, put the lost byte back in front (U) and, where the run ends on a
lost byte, behind (V), and decode again. The stray pinyin constrains U and V (the character straddling
*(trail of the previous character, U)* must be read that way); where nothing constrains a byte, or where
the start of a run is not marked, candidates are scored with :mod:`pipeline.charlm` (jieba-derived
character bigrams mixed with a bigram/trigram cache of the document's own clean clauses). A candidate is
kept only when it decodes cleanly and reads clearly better than the damage; a character that cannot be
recovered becomes U+FFFD.

Besides lost bytes, the decoder itself shifts text: a character ending in A1 (省 小) before fullwidth
punctuation (lead A3) holds the bytes of '。', which the decoder prefers (its lone lead byte shown as '?'
or dropped); and inside a shifted run, the pair after '，' (AC + next lead) or after 、 。 is a
user-defined pair that it drops silently. Both are re-read here. A run whose last byte was dropped
before a clause end leaves no mark at all: it is found by how badly its clause reads.

Clean text is passed over by one compiled regex search; only suspect spots get the expensive work.
There, guessing a lost byte scores only the candidate characters that can win (:func:`_contenders`, an
exact pruning), and the candidates of a start of an unmarked run are worked out only when a bound of
their score can beat the best so far (:class:`_Lazy`): both leave every result as scoring everything
would (tests/test_repair.py checks it on every guess and every choice of a repair).

>>> [e.after for e in repair_mojibake("甘孜日?qǐng)?bào) 2017年08月11日")]
['報']
>>> [e.after for e in repair_mojibake("要敢擔當?shù)钠橇?,妥善處理")]
['的魄力']
>>> repair_mojibake("今年以來,全社會(huì)固定資產投資完成187.43億元。")
[]
"""
from __future__ import annotations

import bisect
import logging
import re
from dataclasses import dataclass, field
from functools import lru_cache, partial

from . import charlm
from .offsets import Edit

log = logging.getLogger(__name__)

# ---------------------------------------------------------------- character classes

_TONED = "āáǎàēéěèīíǐìōóǒòūúǔùǖǘǚǜüńňǹḿ"
_PY = f"[a-z{_TONED}]{{1,7}}"
_CJK = "\u3040-\u9fff\uf900-\ufaff"
# A run ends where the shifted decoder meets ASCII, € or a clause separator.
_HARD_STOPS = set("\n\r\t (),?€。、") | set("0123456789")
_TRAIL_ASCII = {chr(b) for b in range(0x40, 0x7F)}
_SEP = {"。", "、"}

# One pass finds every suspect spot; everything else is skipped at regex speed.
#   ?            lost byte, or lone lead before a swallowed "(" (then followed by "pinyin)")
#   €            byte 0x80 surfacing (trail of 個 82 80 ...)
#   letter       a trail byte 0x40-0x7E surfacing between CJK characters
#   , ; !        a fullwidth mark matched across a character boundary
#   。 、        a clause end: the decoder may have dropped a lone last byte before it; and a '。' may
#                be the decoder's own (bytes A1 A3 straddling X with trail A1 and fullwidth punctuation)
TRIGGER = re.compile(
    rf"\?|€"
    rf"|(?<=[{_CJK}])[@-Z\[\\\]^_`a-z{{|}}~](?=[{_CJK}(,;:.!?€。、，；：]|$)"
    rf"|(?<=[{_CJK}])[,;!](?=[{_CJK}@-Z\[\\\]^_`a-z{{|}}~])"
    rf"|(?<=[{_CJK}])[。、]",
    re.M,
)
_PINYIN_AFTER = re.compile(rf"{_PY}\)")
_ANNOT = re.compile(rf"\({_PY}\)")
_ANNOT_INNER = re.compile(rf"\(({_PY})\)")
_ANNOTATED = re.compile(rf"([{_CJK}])\(({_PY})\)")     # a character and the annotation glued after it
_STRAY = re.compile(rf"\?{_PY}\)")
# A page from the annotating site shows toned pinyin glued after characters, in place or stray. A toneless
# "(wang)" is not enough: normalized text keeps those, and repair must leave its own output alone
# (normalize is idempotent).
_PY_TONED = f"[a-z{_TONED}]{{0,6}}[{_TONED.replace('ü', '')}][a-z{_TONED}]{{0,6}}"
_SITE_MARK = re.compile(rf"[{_CJK}?]\({_PY_TONED}\)|\?{_PY_TONED}\)")
# Clause boundaries for the document cache: where a shifted run must stop (annotations are kept inside).
_CLAUSE_BODY = re.compile(r"[^\s,;:!?€。、，；：！？()（）]+")

SUSPECT_MEAN = -7.0     # nats per character below which a clause is kept out of the document cache
MAX_RUN = 40            # characters examined after / before an anchor
QMARK_MARGIN = 12.0     # ... and when the only mark is a '?', which may be a real question mark
CLAUSE_END_MARGIN = 10.0  # ... for a run found only by how it reads, ending silently at a clause end
SOFT_MARGIN = 6.0       # nats a repair must gain over the damage when nothing marks it as certain
AVG_CHAR = -5.5         # average log probability of a character of clean text (credit for restored ones)
GAP_COST = 5.0          # nats charged for assuming the decoder dropped a user-defined pair inside a run
# nats: a '。' the decoder made needs no lost byte; a byte lost just after a real '。' is rarer (p_loss ×
# P(。)) than a character ending in A1 (省 小 ...) before '，' (about 0.1% of characters)
FALSE_STOP_BONUS = 8.0
MISREAD_COST = 20.0     # nats for a repair whose last character is not read as the annotation after it
CONFIDENT = 0.5         # nats between the best and second-best guess for a free byte, else U+FFFD


# ---------------------------------------------------------------- GBK helpers

@lru_cache(maxsize=65536)
def gbk(c: str) -> bytes | None:
    """GBK bytes of one character (ASCII → one byte), None when it has none."""
    try:
        return c.encode("gbk")
    except UnicodeEncodeError:
        return None


def _user_defined(lead: int, trail: int) -> bool:
    return ((0xAA <= lead <= 0xAF or 0xF8 <= lead <= 0xFE) and trail >= 0xA1) or (
        0xA1 <= lead <= 0xA7 and 0x40 <= trail <= 0xA0)


@lru_cache(maxsize=1 << 17)
def pair(lead: int, trail: int) -> str | None:
    """The character a GBK byte pair stands for, if it is one a page can contain (no user-defined or PUA)."""
    if not (0x81 <= lead <= 0xFE and 0x40 <= trail <= 0xFE and trail != 0x7F) or _user_defined(lead, trail):
        return None
    try:
        c = bytes((lead, trail)).decode("gbk")
    except UnicodeDecodeError:
        return None
    if len(c) != 1 or "\ue000" <= c <= "\uf8ff":
        return None
    return c


def decode_body(bs: bytes) -> str | None:
    """Decode an even-aligned byte string strictly; None when any pair is not a real character."""
    out = []
    i = 0
    n = len(bs)
    while i < n:
        b = bs[i]
        if b < 0x80:
            out.append(chr(b))
            i += 1
            continue
        if i + 1 >= n:
            return None
        c = pair(b, bs[i + 1])
        if c is None:
            return None
        out.append(c)
        i += 2
    return "".join(out)


def _is_han(c: str) -> bool:
    return "\u4e00" <= c <= "\u9fff"


@lru_cache(maxsize=1 << 16)
def reading(c: str) -> str:
    """The toned pinyin the site would have glued after ``c`` (pypinyin's first reading).

    Read straight from pypinyin's character table (its first reading, as ``pinyin(c, style=TONE)``
    gives for every annotatable character: tests/test_repair.py checks them all); pypinyin itself only
    for a character the table lacks. This skips pypinyin's segmenter set-up and per-call work."""
    from pypinyin.pinyin_dict import pinyin_dict

    r = pinyin_dict.get(ord(c)) if len(c) == 1 else None
    if r:
        return r.split(",")[0]
    from pypinyin import Style, pinyin
    return pinyin(c, style=Style.TONE)[0][0]


@lru_cache(maxsize=1 << 16)
def annotatable(c: str) -> bool:
    """Only CJK characters in GBK but outside GB2312 were ever annotated."""
    if not _is_han(c):
        return False
    try:
        c.encode("gb2312")
        return False
    except UnicodeEncodeError:
        return gbk(c) is not None


def chars_read(py: str) -> tuple[str, ...]:
    """Every annotatable GBK character whose reading is ``py`` (in GBK order)."""
    return _by_reading().get(py, ())


@lru_cache(maxsize=1)
def _by_reading() -> dict[str, tuple[str, ...]]:
    """Annotatable GBK characters by reading, each in GBK order (one pass over the code table)."""
    out: dict[str, list[str]] = {}
    for lead in range(0x81, 0xFF):
        for trail in range(0x40, 0xFF):
            c = pair(lead, trail)
            if c and annotatable(c):
                out.setdefault(reading(c), []).append(c)
    return {k: tuple(v) for k, v in out.items()}


def _fw(s: str, ascii_punct: bool) -> str:
    """Fullwidth ASCII forms → ASCII when the page shows ASCII punctuation (as the damaged page did)."""
    if not ascii_punct:
        return s
    return "".join(chr(ord(c) - 0xFEE0) if "\uff01" <= c <= "\uff5e" else c for c in s)


def _ascii_as_fullwidth(c: str) -> bytes | None:
    """An ASCII character inside a shifted run stands for the pair A3xx (its fullwidth form)."""
    o = ord(c)
    if 0x21 <= o <= 0x7E:
        return bytes((0xA3, o + 0x80))
    return None


# ---------------------------------------------------------------- scoring context

@dataclass
class _Ctx:
    text: str
    lm: charlm.CharLM
    cache: charlm.DocCache
    ascii_punct: bool
    annotated: dict            # pinyin -> Counter of characters seen annotated that way in this document
    best: dict = field(default_factory=dict)   # memo of _best_char: (_OptInfo, left, right) -> result
    in_cache: dict = field(default_factory=dict)   # _OptInfo -> its options in the document cache
    sides: tuple | None = None     # see bigram_sides
    toks: dict = field(default_factory=dict)      # memo of run_tokens

    def run_tokens(self, i: int) -> list[tuple[int, bytes, bool]]:
        """:func:`_run_tokens` of the text from ``i`` (memoized: several triggers look at the same run;
        callers do not change the list)."""
        hit = self.toks.get(i)
        if hit is None:
            hit = self.toks[i] = _run_tokens(self.text, i)
        return hit

    def bigram_sides(self) -> tuple[str, str]:
        """The first and the second characters of the document cache's bigrams, in its order, as two
        strings (a bigram's neighbours are then found by a C-speed search, not a walk over all)."""
        if self.sides is None:
            keys = "".join(self.cache.bi)           # every key is two characters
            self.sides = (keys[0::2], keys[1::2])
        return self.sides

    def score(self, s: str, left: str, right: str) -> float:
        """Log probability of ``s`` between its neighbours (two characters of context each side)."""
        return self.lm.score(s + right[:2], left[-2:], self.cache)

    def left_of(self, i: int) -> str:
        return _visible(self.text, i, -1)

    def right_of(self, i: int) -> str:
        return _visible(self.text, i, 1)


def _visible(text: str, i: int, step: int, n: int = 1) -> str:
    """The nearest ``n`` characters left (step -1, before ``i``) or right (from ``i``) that are not
    annotations, in text order (fewer at the ends of the text)."""
    if n == 2:      # the common case: no annotation next to i (one would end in ')' or start with '(')
        if step < 0:
            if i >= 2 and text[i - 1] != ")" and text[i - 2] != ")":
                return text[i - 2:i]
        elif i + 2 <= len(text) and text[i] != "(" and text[i + 1] != "(":
            return text[i:i + 2]
    if n > 1:
        out = ""
        for _ in range(n):
            c = _visible(text, i, step)
            if not c:
                break
            if step < 0:
                out = c + out
                i = _visible_pos(text, i, -1)
            else:
                out += c
                i = _visible_pos(text, i, 1) + 1
        return out
    j = _visible_pos(text, i, step)
    return text[j] if 0 <= j < len(text) else ""


def _visible_pos(text: str, i: int, step: int) -> int:
    """Position of the character :func:`_visible` returns (-1 when there is none)."""
    if step < 0:
        j = i - 1
        while j >= 0:
            if text[j] == ")":
                k = text.rfind("(", max(0, j - 9), j)
                if k >= 0 and _ANNOT.fullmatch(text, k, j + 1):
                    j = k - 1
                    continue
            return j
        return -1
    j = i
    while j < len(text):
        if text[j] == "(":
            m = _ANNOT.match(text, j)
            if m:
                j = m.end()
                continue
        return j
    return len(text)


_MASKED_ANNOT = re.compile("\x01[^\x02]*\x02")     # an annotation as _clean_part masks it


def _suspect(lm: charlm.CharLM, seg: str) -> bool:
    """A clause reads like a garbled run: its characters average below SUSPECT_MEAN under the base model
    (clean report clauses average about -3.7 nats, garbled ones -12)."""
    plain = _MASKED_ANNOT.sub("", seg) if "\x01" in seg else seg
    return len(plain) > 1 and lm.score(plain) / len(plain) < SUSPECT_MEAN


def _clean_part(lm: charlm.CharLM, text: str, events: list[re.Match] | None = None) -> str:
    """The document's text that can serve as its own language model: clauses that neither touch a sign
    of damage ('?', '€', a letter between characters, stray pinyin) nor read like a garbled run (nor come
    just before such a run across a '。'). Left-out clauses become line breaks, so no n-gram spans them."""
    if events is None:
        events = list(TRIGGER.finditer(text))
    marks = sorted([i for m in events if text[i := m.start()] not in ",;!。、"]
                   + [m.end() for m in _STRAY.finditer(text)])
    # annotations stay inside their clause: same-length placeholders for their parentheses
    masked = _ANNOT_INNER.sub("\x01\\1\x02", text)
    keep = []
    pos = 0
    clauses = list(_CLAUSE_BODY.finditer(masked))
    # _suspect for every clause, scored in one call
    plains = [_MASKED_ANNOT.sub("", g) if "\x01" in g else g for g in (m.group() for m in clauses)]
    suspect = [len(p) > 1 and s / len(p) < SUSPECT_MEAN for p, s in zip(plains, lm.score_many(plains))]
    for m, bad in zip(clauses, suspect):
        a, b = m.span()
        sep = masked[pos:a]
        keep.append("\n" if "?" in sep or "€" in sep else sep)
        pos = b
        k = bisect.bisect_left(marks, a - 1)
        if (k < len(marks) and marks[k] <= b) or bad:
            if "。" in sep and len(keep) >= 2:
                keep[-2] = "\n"          # a false '。' (省，→ 。) leaves the clause before it one short
            keep.append("\n")
        else:
            keep.append(m.group())
    return "".join(keep).replace("\x01", "(").replace("\x02", ")")


def _make_ctx(text: str, events: list[re.Match] | None = None) -> _Ctx:
    from collections import Counter

    lm = charlm.load()
    clean = _clean_part(lm, text, events)
    annotated: dict[str, Counter] = {}
    for m in _ANNOTATED.finditer(clean):
        annotated.setdefault(m.group(2), Counter())[m.group(1)] += 1
    clean = _ANNOT.sub("", clean)
    ascii_punct = text.count(",") + text.count(";") >= text.count("，") + text.count("；")
    return _Ctx(text, lm, charlm.DocCache(clean), ascii_punct, annotated)


# ---------------------------------------------------------------- candidates

@dataclass
class _Cand:
    start: int
    end: int
    after: str
    certain: bool         # the damage is unmistakable (a marker was consumed)
    note: str
    stage: str = "mojibake"
    penalty: float = 0.0  # prior cost of the hypothesis (nats)
    margin: float | None = None   # gain needed when not certain (default: by the trigger)


@dataclass
class _Lazy:
    """Candidates not worked out yet: those of one start of a run (:func:`_backward`), whose characters
    for lost bytes need the expensive guess. ``template`` is their replacement with each such character
    as ``_UNKNOWN`` (and each character that may turn into two as two), so :func:`_choose` can bound
    their score from above and work them out only when they might win."""
    start: int
    end: int
    template: str
    make: object          # () -> list[_Cand], the candidates in the order they would have been listed
    margin: float | None = None


_UNKNOWN = "\0"
_UNKNOWN_TERM = 1e-9      # above any log probability (all are <= 0, up to rounding)


def _strip(s: str) -> str:
    """Damaged text as the language model should see it: annotations and stray pinyin removed."""
    return _STRAY.sub("?", _ANNOT.sub("", s))


def _best_char(ctx: _Ctx, options, left: str, right: str) -> tuple[str, float, float]:
    """Best single character among ``options`` between its neighbours (up to two characters each side,
    so the document cache's trigrams count): (char, score, margin).

    The score of a candidate c is log P(c | left) + log P(r0 | last c) + log P(r1 | c r0), summed in that
    order; the best is the first of the highest in ``options`` order, the margin its lead over the
    second-highest score. Long option lists (a lost byte: up to ~190 characters) are pruned exactly
    first (:func:`_contenders`): only candidates that can be best or second are scored."""
    left = left[-2:]
    right = right[:2]
    info = _options_info(ctx.lm, options)
    key = (info, left, right)
    hit = ctx.best.get(key)
    if hit is not None:
        return hit
    cs = info.cs if len(info.cs) <= _PRUNE_MIN else _contenders(ctx, info, left, right)
    out = ctx.best[key] = _pick(_scores(ctx, cs, left, right))
    return out


def _scores(ctx: _Ctx, cs, left: str, right: str) -> list[tuple[str, float]]:
    """(c, log P(c | left) + log P(r0 | last c) + log P(r1 | c r0)) for each candidate, in order."""
    lm, cache = ctx.lm, ctx.cache
    n = len(cs)
    last = left[-1:]
    r0, r1 = right[:1], right[1:2]
    scores = lm.logps_once([left] * n, cs, cache) if left else [lm.log_uni(c) for c in cs]
    if r0:
        s2 = lm.logps_once([last + c for c in cs], [r0] * n, cache)
        if r1:
            s3 = _third_terms(lm, cache, cs, r0, r1)
            scores = [s + t + u for s, t, u in zip(scores, s2, s3)]
        else:
            scores = [s + t for s, t in zip(scores, s2)]
    return list(zip(cs, scores))


def _third_terms(lm: charlm.CharLM, cache: charlm.DocCache, cs, r0: str, r1: str) -> list[float]:
    """[log P(r1 | c r0) for c in cs]. Unless the document cache has seen the pair (c r0), its trigram
    term does not apply and the value is the same for every c (that of the pair r0 r1): one lookup."""
    seen = cache.bi if cache.n else {}
    tied = [c for c in cs if not seen.get(c + r0, 0)]
    if not tied:
        return lm.logps([c + r0 for c in cs], [r1] * len(cs), cache)
    same = lm.logps([tied[0] + r0], [r1], cache)[0]
    if len(tied) == len(cs):
        return [same] * len(cs)
    own = iter(lm.logps([c + r0 for c in cs if seen.get(c + r0, 0)], [r1] * (len(cs) - len(tied)), cache))
    return [next(own) if seen.get(c + r0, 0) else same for c in cs]


def _pick(scored) -> tuple[str, float, float]:
    """(first best candidate, its score, its lead over the second-highest score) of (c, score) pairs."""
    best, bs, second = "\ufffd", -1e9, -1e9
    for c, s in scored:
        if s > bs:
            best, bs, second = c, s, bs
        elif s > second:
            second = s
    return best, bs, bs - second


# ---------------------------------------------------------------- exact pruning of _best_char

_PRUNE_MIN = 8          # option lists up to this long are scored whole
_SIDE_MAX = 2048        # neighbours whose bigram sets one option list keeps (then started afresh)


@dataclass(eq=False)
class _OptInfo:
    """What :func:`_contenders` needs of one option list, computed once per list (and model).
    Compared and hashed by identity: it stands for its option list in memo keys."""
    lm: object
    options: tuple          # the option list as given
    cs: tuple               # the options without repeats, in order
    index: dict             # character -> position in ``cs``
    # plain-option classes (see _contenders), each by falling unigram probability, then position: with a
    # right context, the options the model knows in-word successors of and the others; without one, all
    classes: tuple
    by_pu: tuple
    pu: dict                # character -> unigram probability
    succ: dict = field(default_factory=dict)   # a -> frozenset of options c with a bigram (a c) in the model
    pred: dict = field(default_factory=dict)   # r -> frozenset of options c with a bigram (c r) in the model


_OPT_INFO: dict[tuple, _OptInfo] = {}
_OPT_BY_ID: dict[int, _OptInfo] = {}      # the same, by id() of the tuple it keeps (the cached option lists)


def _options_info(lm: charlm.CharLM, options) -> _OptInfo:
    """The :class:`_OptInfo` of ``options`` (memoized per option list; lists of lost bytes recur, and
    the cached ones are the same tuple each time: found by identity first)."""
    info = _OPT_BY_ID.get(id(options))
    if info is not None and info.options is options and info.lm is lm:
        return info
    options = tuple(options)
    info = _OPT_INFO.get(options)
    if info is not None and info.lm is lm:
        return info
    if len(_OPT_INFO) > 4096:
        _OPT_INFO.clear()
        _OPT_BY_ID.clear()
    cs = tuple(dict.fromkeys(options))
    index = {c: i for i, c in enumerate(cs)}
    pu = {c: lm.p_uni(c) for c in cs}
    order = sorted(cs, key=lambda c: (-pu[c], index[c]))
    classes = (tuple(c for c in order if lm.left.get(c, 0)), tuple(c for c in order if not lm.left.get(c, 0)))
    info = _OptInfo(lm, options, cs, index, classes, (tuple(order),), pu)
    _OPT_INFO[options] = _OPT_BY_ID[id(options)] = info
    return info


def _side(memo: dict, key: str, make) -> frozenset:
    """``memo[key]``, made by ``make()`` the first time (the memo is emptied past _SIDE_MAX entries)."""
    s = memo.get(key)
    if s is None:
        if len(memo) > _SIDE_MAX:
            memo.clear()
        s = memo[key] = make()
    return s


def _contenders(ctx: _Ctx, info: _OptInfo, left: str, right: str) -> list[str]:
    """The options that can be best or second-best between ``left`` and ``right``, in options order.

    A *plain* option has no model bigram with the character before it (``left``) or after it (``r0``)
    and does not occur in the document cache. Then every count in its three terms is zero: log P(c | left)
    is the log of a fixed positive multiple of its unigram probability, and the other two terms are the
    same for all plain options, given one fact when there is a right context: whether the model knows any
    bigram starting with c (which decides P(r0 | c)). Within such a class a plain option's score is thus an
    increasing function of its unigram probability — strictly, since distinct unigram probabilities differ
    by far more than rounding — and equal probabilities give equal scores. So among the plain options of
    a class only the first two by (falling probability, position in the list) can be best (the first of
    the highest) or second (the second-highest score); every option that is not plain is scored.
    tests/test_repair.py checks the pruned result against scoring every option on every call of a repair."""
    lm = ctx.lm
    a, r0 = left[-1:], right[:1]
    special: set = set()
    bi = lm.bi
    if a:
        special |= _side(info.succ, a, lambda: frozenset(c for c in info.cs if bi.get(a + c, 0)))
    if r0:
        special |= _side(info.pred, r0, lambda: frozenset(c for c in info.cs if bi.get(c + r0, 0)))
    if ctx.cache.n:
        s = ctx.in_cache.get(info)
        if s is None:
            uni = ctx.cache.uni
            s = ctx.in_cache[info] = frozenset(filter(uni.__contains__, info.cs))   # counts are > 0
        special |= s
    keep = set(special)
    for cls in (info.classes if r0 else info.by_pu):
        n = 0
        for c in cls:
            if c not in special:
                keep.add(c)
                n += 1
                if n == 2:
                    break
    return sorted(keep, key=info.index.__getitem__)


@lru_cache(maxsize=4096)
def _lead_options(trail: int, prev_trail: int | None, py: str | None) -> tuple[str, ...]:
    """Characters (U, trail) for a lost lead byte U; with a stray pinyin, (prev_trail, U) must read it."""
    out = []
    for u in range(0x81, 0xFF):
        c = pair(u, trail)
        if c is None:
            continue
        if py is not None:
            k = pair(prev_trail, u) if prev_trail is not None else None
            if k is None or not annotatable(k) or reading(k) != py:
                continue
        out.append(c)
    return tuple(out)


@lru_cache(maxsize=4096)
def _trail_options(lead: int, py: str | None) -> tuple[str, ...]:
    """Characters (lead, V) for a lost trail byte V; with a stray pinyin, the character must read it."""
    out = []
    for v in range(0x40, 0xFF):
        c = pair(lead, v)
        if c is None:
            continue
        if py is not None and (not annotatable(c) or reading(c) != py):
            continue
        out.append(c)
    return tuple(out)


def _run_token(c: str) -> tuple[bytes, bool] | None:
    """The bytes a character stands for inside a shifted run, and whether it is shown as ASCII; None
    where a run must stop."""
    if c in _HARD_STOPS or c in _SEP:
        return None
    if c.isascii():
        fb = _ascii_as_fullwidth(c)
        return None if fb is None else (fb, True)
    b = gbk(c)
    return None if b is None or len(b) != 2 else (b, False)


_RUN_TOKEN: dict[str, tuple[bytes, bool] | None] = {}     # memo of _run_token


def _run_tokens(text: str, i: int, limit: int = MAX_RUN) -> list[tuple[int, bytes, bool]]:
    """Characters from ``i`` that may belong to a shifted run: (position, bytes, is_ascii)."""
    out = []
    n = min(len(text), i + limit)
    memo = _RUN_TOKEN
    while i < n:
        c = text[i]
        t = memo.get(c, False)
        if t is False:
            if len(memo) > 1 << 16:
                memo.clear()
            t = memo[c] = _run_token(c)
        if t is None:
            break
        out.append((i, t[0], t[1]))
        i += 1
    return out


def _aligned(lost_lead: bool, body: bytes, tail: bytes | None) -> tuple[str, int | None] | None:
    """The bytes of a shifted run re-aligned: (the characters they decode to for certain, the lead byte
    left over at the end whose trail was lost, or None), or None when the bytes cannot be such a run.
    ``lost_lead``: the first byte of ``body`` is the trail of a character whose lead was lost."""
    bs = body + (tail or b"")
    if lost_lead:
        if not bs:
            return None
        bs = bs[1:]
    if tail is None:
        if len(bs) % 2 == 0:
            return None
        core, lead = bs[:-1], bs[-1]
    else:
        if len(bs) % 2:
            return None
        core, lead = bs, None
    mid = decode_body(core)
    return None if mid is None else (mid, lead)


def _decode_run(ctx: _Ctx, head: list[str], body: bytes, tail: bytes | None, tail_py: str | None,
                left: str, right: str) -> tuple[str, bool] | None:
    """Re-decode a shifted run: ``body`` are the bytes after the lost lead byte (whose character is
    one of ``head``; empty list when body already starts aligned), ``tail`` the raw last byte or None
    when the last byte V was lost (constrained by ``tail_py``). Returns (text, confident)."""
    aligned = _aligned(bool(head), body, tail)
    if aligned is None:
        return None
    mid, lead = aligned
    conf = True
    out = mid
    if head:
        nxt = mid[:2]
        if not nxt and lead is None:
            nxt = right
        c0, _, margin = _best_char(ctx, head, left, nxt)
        if len(head) > 1 and margin < CONFIDENT:
            c0, conf = "\ufffd", False
        out = c0 + out
    if lead is not None:
        if lead < 0x81:
            return None
        paren = tail_py == "("
        if paren:
            tail_py = None
        opts = _trail_options(lead, tail_py)
        if not opts:
            return None
        prev = (left + out)[-2:]
        c1, _, margin = _best_char(ctx, opts, prev, right)
        if len(opts) > 1 and margin < CONFIDENT and not (tail_py and margin >= 0.5):
            c1, conf = "\ufffd", False
        out = out + c1 + ("(" if paren else "")
    return out, conf


_COMMON_MARKS = "，。、；：！？“”（）…—"


def _comma_gaps(ctx: _Ctx, s: str, left: str) -> str | None:
    """``s`` with the pairs the decoder drops after punctuation restored, or None when there are none.

    Inside a shifted run, a mark whose trail byte makes a user-defined pair with the next lead byte —
    '，' (A3 AC) before a lead ≥ A1, '、' (A1 A2) or '。' (A1 A3) before a lead 81–A0 — is read as
    (trail before, mark lead), then (mark trail, next lead): dropped, then (trail of that character,
    next lead). Re-aligned, such a spot shows an odd form (mark lead, t): it stands for the mark and
    (y, t). '，' and the common marks of row A1 that decode as themselves are left alone; a common mark
    of row A3 (；？！) is kept unless the mark and a character read better."""
    out = []
    changed = False
    for k, ch in enumerate(s):
        b = gbk(ch)
        if b is None or len(b) != 2 or k + 1 >= len(s) or b[0] not in (0xA1, 0xA3) or ch == "，" or (
                b[0] == 0xA1 and ch in _COMMON_MARKS):
            out.append(ch)
            continue
        prev = (left + "".join(out))[-2:]
        best = None
        for mark in _COMMON_MARKS:
            mb = gbk(mark)
            if mb[0] != b[0]:
                continue
            ys = range(0xA1, 0xFF) if (0xAA <= mb[1] <= 0xAF or mb[1] >= 0xF8) else (
                range(0x81, 0xA1) if 0xA1 <= mb[1] <= 0xA7 else ())
            opts = [c for y in ys if (c := pair(y, b[1])) and _is_han(c)]
            if not opts:
                continue
            c2, sc, _ = _best_char(ctx, opts, prev[-1:] + mark, s[k + 1:k + 3])
            sc += ctx.lm.logp(prev, mark, ctx.cache) if prev else 0.0
            if best is None or sc > best[0]:
                best = (sc, mark + c2)
        if best is not None and ch in _COMMON_MARKS:
            # a mark of row A3 (；？！) may be just that: keep it unless '，' and a character read better
            keep = _best_char(ctx, [ch], prev, s[k + 1:k + 3])[1]
            if keep >= best[0]:
                best = None
        if best is None:
            out.append(ch)
            continue
        out.append(best[1])
        changed = True
    return "".join(out) if changed else None


def _variants(ctx: _Ctx, s: str, core_start: int, left: str, last_lead: int | None = None,
              right: str = "", last_py: str | None = None) -> list[tuple[str, float, str]]:
    """Readings of a re-aligned run ``s`` besides itself: with the pairs dropped after '，' restored
    (free: that drop always happens), and with one other dropped pair restored (GAP_COST)."""
    out = []
    sc = _comma_gaps(ctx, s, left)
    if sc is not None:
        out.append((sc, 0.0, ", the pair dropped after '，' restored"))
    for base in (s, sc):
        if base is None:
            continue
        for _, g in _gap_variants(ctx, base, core_start, left, last_lead, right, last_py):
            out.append((g, GAP_COST, ", a dropped pair restored"))
    return out


# the user-defined areas of GBK as (first-byte range, second-byte range) of the pair the decoder drops
_GAP_PAIRS = ((range(0xAA, 0xB0), range(0xA1, 0xFF)), (range(0xF8, 0xFF), range(0xA1, 0xFF)),
              (range(0xA1, 0xA8), range(0x40, 0xA1)))


@lru_cache(maxsize=8192)
def _with_lead(lead: int, trails: range) -> tuple[str, ...]:
    """Characters (``lead``, t) for t in ``trails``, in byte order."""
    return tuple(c for t in trails if (c := pair(lead, t)))


@lru_cache(maxsize=8192)
def _with_trail(trail: int, leads: range) -> tuple[str, ...]:
    """Characters (u, ``trail``) for u in ``leads``, in byte order."""
    return tuple(c for u in leads if (c := pair(u, trail)))


def _gap_variants(ctx: _Ctx, s: str, core_start: int, left: str, last_lead: int | None = None,
                  right: str = "", last_py: str | None = None) -> list[tuple[int, str]]:
    """Variants of a re-aligned run ``s`` with one pair dropped by the site's decoder (a user-defined
    GBK pair) restored between two characters: (c[j] lead, x)(y, c[j+1] lead) for x, y in such a pair.

    When the run ended on a lost byte, its last character is (``last_lead``, V) with V guessed from its
    neighbours: it is guessed again next to the restored pair (before ``right``). ``last_py``: the
    reading of an annotation right after the run, which its last character must have."""
    out = []
    last = ""
    if last_lead is not None and s:
        s, last = s[:-1], s[-1]
    if "\ufffd" in s:
        return out                        # an unsure byte already: no second guess on top of it
    b = s.encode("gbk", errors="replace")
    # positions (byte offsets) of character starts after core_start characters
    offs = []
    o = 0
    for k, ch in enumerate(s):
        n = len(ch.encode("gbk", errors="replace"))
        if k >= core_start and n == 2:
            offs.append((k, o))
        o += n
    for k, o in offs:
        lead = b[o]                       # the character at k keeps its lead, its trail is x
        nxt = b[o + 1]                    # the shown trail was the lead of the character after y
        rest = decode_body(b[o + 2:])
        if rest is None:
            continue
        prev = (left + s[:k])[-2:]
        best = None
        for xs_range, ys_range in _GAP_PAIRS:
            c1s = _with_lead(lead, xs_range)
            c2s = _with_trail(nxt, ys_range)
            if last_py and not last and o + 2 == len(b):
                c2s = [c for c in c2s if annotatable(c) and reading(c) == last_py]
            if not c1s or not c2s:
                continue
            c1, s1, _ = _best_char(ctx, c1s, prev, "")
            after = rest
            c2, s2, _ = _best_char(ctx, c2s, prev[-1:] + c1, after[:2] if after or not last else "")
            if last:
                tail = (prev + c1 + c2 + after)[-2:]
                lastc, s3, _ = _best_char(ctx, _trail_options(last_lead, None), tail, right)
                after += lastc
                s2 += s3
            if best is None or s1 + s2 > best[0]:
                best = (s1 + s2, s[:k] + c1 + c2 + after)
        if best:
            out.append((k, best[1]))
    return out


def _forward(ctx: _Ctx, start: int, run_from: int, head: list[str], certain: bool, what: str,
             pinyin_pair: tuple[int, str] | None = None) -> list[_Cand]:
    """Candidates for a run beginning at ``run_from`` whose first character lost its lead byte."""
    text = ctx.text
    toks = ctx.run_tokens(run_from)
    after_run = toks[-1][0] + 1 if toks else run_from
    left = _visible(text, start, -1, 2)
    out = []
    for k in range(len(toks) + 1):
        if k < len(toks) and not toks[k][2]:
            continue                          # a run may only stop at ASCII or at its hard stop
        body = b"".join(t[1] for t in toks[:k])
        for tail, tail_py, end in _end_options(text, toks, k, after_run):
            h = head
            if not body and pinyin_pair is not None and tail is None:
                # nothing between two stray pinyins: U and V are the two bytes of one character
                prev_trail, py = pinyin_pair
                for u in range(0x81, 0xFF):
                    k2 = pair(prev_trail, u)
                    if k2 and annotatable(k2) and reading(k2) == py:
                        for c in _trail_options(u, tail_py):
                            out.append(_Cand(start, end, c, certain, f"{what}: lost bytes of {c} (pinyin {py}, {tail_py})"))
                continue
            if pinyin_pair is not None:
                first = (body + (tail or b""))[:1]
                if not first:
                    continue
                h = _lead_options(first[0], pinyin_pair[0], pinyin_pair[1])
                if not h:
                    continue
            right = _visible(text, end, 1, 2)
            r = _decode_run(ctx, h, body, tail, tail_py, left, right)
            if r is None:
                continue
            s, conf = r
            out.append(_Cand(start, end, _fw(s, ctx.ascii_punct), certain,
                             f"{what}: re-aligned {len(s)} chars" + ("" if conf else ", a byte unsure")))
            lead = body[-1] if tail is None and tail_py != "(" and body and not s.endswith("(") else None
            ann = _ANNOT.match(text, end)
            for g, cost, how in _variants(ctx, s, 1, left, lead, right, ann and ann.group()[1:-1]):
                out.append(_Cand(start, end, _fw(g, ctx.ascii_punct), certain,
                                 f"{what}: re-aligned {len(g)} chars{how}", penalty=cost))
    return out


def _end_options(text: str, toks, k: int, after_run: int):
    """Ways a run of ``toks[:k]`` can end: (raw last byte or None for a lost byte V, pinyin for V, end)."""
    if k < len(toks):
        pos, _, _ = toks[k]
        c = text[pos]
        opts = [(None, None, pos)]                                  # lost byte, dropped silently
        if c in _TRAIL_ASCII:
            opts.append((bytes((ord(c),)), None, pos + 1))          # raw trail byte surfacing
        return opts
    pos = after_run
    c = text[pos] if pos < len(text) else ""
    if c == "€":
        return [(b"\x80", None, pos + 1)]
    if c == "?":
        m = _PINYIN_AFTER.match(text, pos + 1)
        if m:
            return [(None, m.group()[:-1], m.end())]
        if _swallowed_paren(text, pos + 1):
            return [(None, "(", pos + 1), (None, None, pos + 1)]
        return [(None, None, pos + 1), (None, None, pos)]
    return [(None, None, pos)]


def _swallowed_paren(text: str, i: int) -> bool:
    """After a '?', a ')' with no '(' before it on the same clause: the '?' swallowed a real '('."""
    j = text.find(")", i, i + 24)
    return j > i and "(" not in text[i:j] and "\n" not in text[i:j]


def _backward(ctx: _Ctx, lo: int, end_pos: int, tail: bytes | None, tail_py: str | None, end: int,
              certain: bool, what: str) -> list[_Cand | _Lazy]:
    """Candidates for a run ending at ``end_pos`` whose start is not marked: every start is tried.

    The candidates of each start come as a :class:`_Lazy` (their guesses cost most of the repair, and
    most starts lose by far): :func:`_choose` works out only those that can win."""
    text = ctx.text
    right = _visible(text, end, 1, 2)
    out = []
    body = b""
    s = end_pos
    while True:
        left = _visible(text, s, -1, 2)
        first = (body + (tail or b""))[:1]
        if first:
            head = _lead_options(first[0], None, None)
            shape = _run_shape(head, body, tail, tail_py)
            if shape is not None:
                out.append(_Lazy(s, end, _fw(_comma_template(shape, head, bool(head)), ctx.ascii_punct),
                                 partial(_lost_lead, ctx, head, body, tail, tail_py, left, right, s, end,
                                         certain, what)))
        if len(body) >= 2 and body[0] >= 0x81:
            # the first shown character keeps its true lead byte; its trail byte was lost
            shape = _run_shape((), body[1:], tail, tail_py)
            if shape is not None:
                opts = _trail_options(body[0], None)
                out.append(_Lazy(s, end, _fw(_comma_template(shape, opts, True), ctx.ascii_punct),
                                 partial(_lost_trail, ctx, opts, body, tail, tail_py, left, right, s, end,
                                         certain, what)))
        s -= 1
        if s < lo or end_pos - s > MAX_RUN:
            break
        c = text[s]
        if c in _HARD_STOPS or c in _SEP:
            break
        b = gbk(c)
        if b is None:
            break
        if len(b) != 2:
            b = _ascii_as_fullwidth(c)
            if b is None:
                break
        body = b + body
    return out


def _lost_lead(ctx: _Ctx, head, body: bytes, tail, tail_py, left: str, right: str, s: int, end: int,
               certain: bool, what: str) -> list[_Cand]:
    """The candidates of a run from ``s`` whose first character lost its lead byte (see _backward)."""
    out = []
    r = _decode_run(ctx, head, body, tail, tail_py, left, right)
    out.append(_Cand(s, end, _fw(r[0], ctx.ascii_punct), certain,
                     f"{what}: lost lead byte, re-aligned {len(r[0])} chars" + ("" if r[1] else ", a byte unsure")))
    sc = _comma_gaps(ctx, r[0], left)
    if sc is not None:
        out.append(_Cand(s, end, _fw(sc, ctx.ascii_punct), certain,
                         f"{what}: lost lead byte, re-aligned, the pair dropped after '，' restored"))
    return out


def _lost_trail(ctx: _Ctx, opts, body: bytes, tail, tail_py, left: str, right: str, s: int, end: int,
                certain: bool, what: str) -> list[_Cand]:
    """The candidates of a run from ``s`` whose first character keeps its lead byte and lost its trail
    byte (see _backward)."""
    out = []
    rr = _decode_run(ctx, [], body[1:], tail, tail_py, "", right)
    c0, _, margin = _best_char(ctx, opts, left, rr[0][:2])
    if margin < CONFIDENT:
        c0 = "\ufffd"
    sc = _comma_gaps(ctx, c0 + rr[0], left)
    if sc is not None:
        out.append(_Cand(s, end, _fw(sc, ctx.ascii_punct), certain,
                         f"{what}: lost trail byte, re-aligned, the pair dropped after '，' restored"))
    out.append(_Cand(s, end, _fw(c0 + rr[0], ctx.ascii_punct), certain,
                     f"{what}: lost trail byte, re-aligned {len(rr[0]) + 1} chars"))
    return out


def _run_shape(head, body: bytes, tail: bytes | None, tail_py: str | None) -> tuple[str, bool, bool] | None:
    """What :func:`_decode_run` would return without its guesses: None where it returns None, else
    (the characters decoded for certain, whether a last character is guessed, whether '(' follows)."""
    aligned = _aligned(bool(head), body, tail)
    if aligned is None:
        return None
    mid, lead = aligned
    if lead is None:
        return mid, False, False
    if lead < 0x81:
        return None
    paren = tail_py == "("
    if not _trail_options(lead, None if paren else tail_py):
        return None
    return mid, True, paren


def _comma_template(shape: tuple[str, bool, bool], first_options, first: bool) -> str:
    """A template (see :class:`_Lazy`) for every candidate of a start: the guessed first character (one
    of ``first_options`` or U+FFFD; none unless ``first``) and last character unknown, and each character
    that :func:`_comma_gaps` may turn into a mark and a character (any but the last) doubled."""
    mid, last, paren = shape
    chars = ([_UNKNOWN] if first else []) + list(mid) + ([_UNKNOWN] if last else []) + (["("] if paren else [])
    out = []
    for k, ch in enumerate(chars):
        if k + 1 < len(chars) and (_splittable(ch) if ch != _UNKNOWN else (k > 0 or _any_splittable(first_options))):
            ch = _UNKNOWN * 2
        out.append(ch)
    return "".join(out)


def _splittable(ch: str) -> bool:
    """Whether :func:`_comma_gaps` may replace ``ch`` by a mark and a character."""
    b = gbk(ch)
    return not (b is None or len(b) != 2 or b[0] not in (0xA1, 0xA3) or ch == "，" or (
        b[0] == 0xA1 and ch in _COMMON_MARKS))


_SPLITTABLE_OPTS: dict[int, tuple[object, bool]] = {}


def _any_splittable(options) -> bool:
    """Whether any of ``options`` (or U+FFFD, not splittable) may be split by :func:`_comma_gaps`."""
    hit = _SPLITTABLE_OPTS.get(id(options))
    if hit is not None and hit[0] is options:
        return hit[1]
    v = any(_splittable(c) for c in options)
    if len(_SPLITTABLE_OPTS) > 4096:
        _SPLITTABLE_OPTS.clear()
    _SPLITTABLE_OPTS[id(options)] = (options, v)
    return v


def _punct(ctx: _Ctx, i: int, qpos: int | None) -> list[_Cand]:
    """ASCII , ; ! that was a fullwidth ，；！ matched across (trail A3 of X, lead of the next character):
    X lost its lead byte (shown as '?' at ``qpos`` or dropped); the run after the mark starts one byte in."""
    return _split_pair(ctx, i, qpos, 0xA3, ord(ctx.text[i]) + 0x80, f"misplaced {ctx.text[i]!r}", True)


def _false_stop(ctx: _Ctx, i: int, qpos: int | None) -> list[_Cand]:
    """A '。' that the decoder made itself: X (trail A1: 省 小 ...) followed by fullwidth punctuation
    (lead A3: ，（ ：...) holds the bytes A1 A3 of '。'; the decoder showed X's lead as '?' (at ``qpos``)
    or dropped it, read '。' and went on one byte out of step (大省，為 → 大?。瑸 or 大。瑸)."""
    return _split_pair(ctx, i, qpos, 0xA1, 0xA3, "false '。'", False, -FALSE_STOP_BONUS)


def _split_pair(ctx: _Ctx, i: int, qpos: int | None, x_trail: int, second: int, what: str,
                optional_x: bool, penalty: float = 0.0) -> list[_Cand]:
    """Candidates where the character at ``i`` stands for the bytes (``x_trail``, ``second``): the trail
    of a character X whose lead byte was lost, and the first byte of a shifted run after it."""
    text = ctx.text
    start = qpos if qpos is not None else i
    left = _visible(text, start, -1, 2)
    xs = _lead_chars(x_trail, optional_x)
    out = []
    toks = ctx.run_tokens(i + 1)
    after_run = toks[-1][0] + 1 if toks else i + 1
    for k in range(len(toks) + 1):
        if k < len(toks) and not toks[k][2]:
            continue
        body = bytes((second,)) + b"".join(t[1] for t in toks[:k])
        for tail, tail_py, end in _end_options(text, toks, k, after_run):
            right = _visible(text, end, 1, 2)
            r = _decode_run(ctx, [], body, tail, tail_py, "", right)
            if r is None:
                continue
            s, conf = r
            x, _, margin = _best_char(ctx, xs, left, s[:2])
            if optional_x and x != "。" and margin < CONFIDENT and qpos is None:
                # nothing shows a character was lost when no '?' marks it: do not invent one
                x = ""
            after = _fw(x + s, ctx.ascii_punct)
            note = f"{what}: bytes {x_trail:02X} {second:02X} re-aligned {len(s)} chars" + (
                f", {x} restored before it" if x else "")
            out.append(_Cand(start, end, after, qpos is not None, note, penalty=penalty))
            lead = body[-1] if tail is None and tail_py != "(" and not s.endswith("(") else None
            ann = _ANNOT.match(text, end)
            for g, cost, how in _variants(ctx, s, 0, left + x, lead, right, ann and ann.group()[1:-1]):
                out.append(_Cand(start, end, _fw(x + g, ctx.ascii_punct), qpos is not None,
                                 note + how, penalty=penalty + cost))
    return out


@lru_cache(maxsize=64)
def _lead_chars(trail: int, any_char: bool) -> tuple[str, ...]:
    """Characters (U, ``trail``) for every lead byte U; only Han characters unless ``any_char``."""
    return tuple(c for u in range(0x81, 0xFF) if (c := pair(u, trail)) and (any_char or _is_han(c)))


def _lost_annotated(ctx: _Ctx, i: int, end: int, py: str) -> list[_Cand]:
    """'?pinyin)' where an annotated character lost a byte: the character is one read that way."""
    left = _visible(ctx.text, i, -1, 2)
    right = _visible(ctx.text, end, 1, 2)
    seen = ctx.annotated.get(py)
    opts = list(seen) if seen else list(chars_read(py))
    if not opts:
        return []
    c, _, margin = _best_char(ctx, opts, left, right)   # the reading narrows it enough to guess
    return [_Cand(i, end, c, True, f"lost character read {py}: {c}", "lost_char")]


def _find_all(s: str, ch: str):
    """Positions of ``ch`` in ``s``, in order."""
    j = s.find(ch)
    while j >= 0:
        yield j
        j = s.find(ch, j + 1)


def _lost_char(ctx: _Ctx, i: int) -> list[_Cand]:
    """A '?' after a character and before punctuation: a character that lost one byte; guessed from the
    document's own bigrams."""
    text = ctx.text
    left = _visible(text, i, -1, 2)
    right = _visible(text, i + 1, 1, 2)
    if not (left and _is_han(left[-1])) or not right or right[0].isspace() or right[0].isalnum():
        # A lone byte is shown as '?' only before ASCII or a clause end (before a character it would pair
        # with that character's lead): a '?' before a character, letter, digit or line end is a question mark
        return []
    firsts, seconds = ctx.bigram_sides()
    opts = [seconds[j] for j in _find_all(firsts, left[-1]) if _is_han(seconds[j])]
    opts += [firsts[j] for j in _find_all(seconds, right[0]) if _is_han(firsts[j])]
    c, margin = "\ufffd", 0.0
    if opts:
        c, _, margin = _best_char(ctx, opts, left, right)
        if margin < CONFIDENT:
            c = "\ufffd"
    return [_Cand(i, i + 1, c, False, f"lost character: {c}", "lost_char")]


# ---------------------------------------------------------------- driver

def _candidates(ctx: _Ctx, m: re.Match, done: int) -> list[_Cand]:
    text = ctx.text
    i = m.start()
    c = text[i]
    if c == "?":
        pm = _PINYIN_AFTER.match(text, i + 1)
        if pm:
            py = pm.group()[:-1]
            cands = []
            vis = _visible(text, i, -1)           # the character before (an annotation may sit between)
            pb = gbk(vis) if vis else None
            if pb is not None and len(pb) == 2 and i - 1 >= done:
                cands += _forward(ctx, i, pm.end(), [], True, f"misplaced annotation {py}", (pb[1], py))
            cands += _lost_annotated(ctx, i, pm.end(), py)
            cands += [b for b in _backward(ctx, done, i, None, py, pm.end(), True, "run ending in a lost byte")
                      if b.start < i]
            return cands
        nxt = text[i + 1] if i + 1 < len(text) else ""
        certain = False   # a '?' between characters may still be a real question mark
        cands = _backward(ctx, done, i, None, None, i + 1, certain, "run ending in a lost byte")
        cands += _lost_char(ctx, i)
        if nxt and nxt in ",;!":
            cands += _punct(ctx, i + 1, i)      # '?' then a mark: certain damage
        elif nxt == "。" and _garbled_after(ctx, i + 2):
            cands += _false_stop(ctx, i + 1, i)
        return cands
    if c in _SEP:
        cands = []
        if i - 1 >= done and _garbled_before(ctx, i):
            # a run whose last byte the decoder dropped silently before the clause end
            for b in _backward(ctx, done, i, None, None, i, False, "run ending at a clause end"):
                b.margin = CLAUSE_END_MARGIN
                cands.append(b)
        if c == "。" and _garbled_after(ctx, i + 1):
            # the garbled run may as well be an ordinary one ending at its own mark: let both compete
            cands += _false_stop(ctx, i, None)
            toks = ctx.run_tokens(i + 1)
            nxt = TRIGGER.search(text, i + 1, toks[-1][0] + 2)
            if nxt is not None and text[nxt.start()] not in _SEP:
                cands += _candidates(ctx, nxt, i + 1)
        return cands
    if c == "€":
        return _backward(ctx, done, i, b"\x80", None, i + 1, True, "run ending in byte 0x80")
    if c in ",;!":
        toks = ctx.run_tokens(i + 1)
        if len(toks) > 2 and not _garbled_after(ctx, i + 1):
            return []       # the run after a misplaced mark reads one byte out of step: this one reads well
        return _punct(ctx, i, None)
    return _backward(ctx, done, i, bytes((ord(c),)), None, i + 1, False, "run ending in a raw trail byte")


def _garbled_after(ctx: _Ctx, i: int) -> bool:
    """The characters from ``i`` up to where a shifted run must stop read like one."""
    toks = ctx.run_tokens(i)
    return bool(toks) and _suspect(ctx.lm, ctx.text[i:i + len(toks)])     # the tokens are contiguous


def _garbled_before(ctx: _Ctx, i: int) -> bool:
    """The characters before ``i``, back to where a shifted run must stop, read like one."""
    j = i
    while j > 0 and i - j < MAX_RUN and ctx.text[j - 1] not in _HARD_STOPS and ctx.text[j - 1] not in _SEP:
        j -= 1
    return i - j > 1 and _suspect(ctx.lm, ctx.text[j:i])


def _nchars(s: str) -> int:
    """Characters a repair may be credited for restoring (ASCII leftovers are not restorations)."""
    return len(s) - len(s.encode("ascii", "ignore"))


def _choose(ctx: _Ctx, cands: list[_Cand | _Lazy], done: int) -> tuple[_Cand, float] | None:
    """The best candidate by language-model score over the stretch they all cover, with its gain over
    leaving the damage as it is (characters restored are credited at the average per-character cost);
    the first of the best in list order.

    A :class:`_Lazy` stands for its candidates in the list: they are worked out (most promising first)
    only while the upper bound of their score (:func:`_bound`) reaches the best score so far, so the
    result is the one of working out all of them."""
    cands = [c for c in cands if c.start >= done]
    if not cands:
        return None
    text = ctx.text
    a = min(c.start for c in cands)
    b = max(c.end for c in cands)
    left = _visible(text, a, -1, 2)
    right = _visible(text, b, 1, 2)
    base = _strip(text[a:b])
    base_score = ctx.lm.score(base + right, left, ctx.cache)
    n_base = _nchars(base)
    start_of = _Starts(ctx, a, left)
    best = None             # (score, position in the list, candidate)
    lazy = []
    for pos, c in enumerate(cands):
        if isinstance(c, _Lazy):
            full = _strip(text[a:c.start]) + c.template + _strip(text[c.end:b])
            lazy.append((_bound(ctx, full + right, left) - AVG_CHAR * (_nchars(full) + full.count(_UNKNOWN)
                                                                         - n_base), pos, c))
            continue
        s = _cand_score(ctx, c, a, b, right, n_base, start_of)
        if best is None or s > best[0]:
            best = (s, (pos, 0), c)
    lazy.sort(key=lambda x: (-x[0], x[1]))
    for bound, pos, lz in lazy:
        if best is not None and bound < best[0]:
            break
        for k, c in enumerate(lz.make()):
            if lz.margin is not None:
                c.margin = lz.margin
            s = _cand_score(ctx, c, a, b, right, n_base, start_of)
            if best is None or s > best[0] or (s == best[0] and (pos, k) < best[1]):
                best = (s, (pos, k), c)
    return best[2], best[0] - base_score


class _Starts:
    """The score of the damaged text from ``a`` up to a candidate's start, and the history after it, for
    each start (candidates share a few starts): a candidate's score goes on from there."""

    def __init__(self, ctx: _Ctx, a: int, left: str):
        self.ctx, self.a, self.left = ctx, a, left[-2:] if left else ""
        self.memo: dict[int, tuple[str, float, str]] = {}

    def __call__(self, start: int) -> tuple[str, float, str]:
        """(the stripped text from ``a`` to ``start``, its score, the history after it)."""
        hit = self.memo.get(start)
        if hit is None:
            ctx = self.ctx
            pre = _strip(ctx.text[self.a:start])
            hit = self.memo[start] = (pre, *ctx.lm.score_more(pre, self.left, 0.0, ctx.cache))
        return hit


def _cand_score(ctx: _Ctx, c: _Cand, a: int, b: int, right: str, n_base: int, start_of: _Starts) -> float:
    """The score of candidate ``c`` over text[a:b] (see :func:`_choose`): that of the text with ``c``
    applied, from the text before ``a`` to the context ``right``, less the credit for characters restored
    and its penalty. The sum goes on from the score of its start (:class:`_Starts`), term by term as
    ``ctx.lm.score(full + right, left)`` would add them."""
    text = ctx.text
    pre, s, prev = start_of(c.start)
    rest = c.after + _strip(text[c.end:b])
    s = ctx.lm.score_more(rest + right, prev, s, ctx.cache)[0]
    s -= AVG_CHAR * (_nchars(pre) + _nchars(rest) - n_base) + c.penalty
    ann = _ANNOT.match(text, c.end)
    if ann and c.after and not (annotatable(c.after[-1]) and reading(c.after[-1]) == ann.group()[1:-1]):
        s -= MISREAD_COST     # the annotation after the span belongs to its last character
    return s


def _bound(ctx: _Ctx, s: str, left: str) -> float:
    """An upper bound of ``ctx.lm.score(s, left, ctx.cache)`` for any characters in place of the
    unknown ones: the same sum in the same order, with each term that depends on an unknown character
    (as itself or in its history) replaced by a number above any log probability (floating-point
    addition is monotonic, so the bound holds exactly)."""
    lm, cache = ctx.lm, ctx.cache
    seen_before = cache.left if cache.n else {}
    prev = left[-2:] if left else ""
    total = 0.0
    for c in s:
        if c == _UNKNOWN or prev[-1:] == _UNKNOWN:
            total += _UNKNOWN_TERM
        elif _UNKNOWN in prev:
            # P(c | ? a) depends on '?' only through the cache's trigrams, which need a seen before
            # something in the document: when it was not, the term is exactly P(c | a)
            total += _UNKNOWN_TERM if seen_before.get(prev[-1], 0) else lm.logp(prev[-1], c, cache)
        elif prev:
            total += lm.logp(prev, c, cache)
        else:
            total += lm.log_uni(c)
        prev = prev[-1:] + c
    return total


def repair_mojibake(text: str) -> list[Edit]:
    """Edits that re-align garbled GBK runs ("mojibake") and recover lost characters ("lost_char").

    Offsets are in ``text``; each replacement is traditional text without the stray pinyin of its span.
    """
    if TRIGGER.search(text) is None or _SITE_MARK.search(text) is None:
        return []           # only pages from the annotating site carry this damage
    events = list(TRIGGER.finditer(text))
    ctx = _make_ctx(text, events)
    edits: list[Edit] = []
    done = 0            # nothing before this offset may be edited again
    for m in events:
        if m.start() < done:
            continue
        try:
            r = _choose(ctx, _candidates(ctx, m, done), done)
        except Exception:       # a bug here must not cost the page its other repairs: leave this spot as is
            log.warning("mojibake repair skipped a suspect spot at %d (%r)", m.start(),
                        text[max(0, m.start() - 8):m.start() + 8], exc_info=True)
            continue
        if r is None:
            continue
        cand, gain = r
        need = cand.margin if cand.margin is not None else (
            QMARK_MARGIN if text[m.start()] == "?" else SOFT_MARGIN)
        if not cand.certain and gain < need:
            continue
        if cand.after == text[cand.start:cand.end]:
            continue
        edits.append(Edit(cand.start, cand.end, cand.after, cand.stage, cand.note))
        done = cand.end
    return edits
