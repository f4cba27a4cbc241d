"""Numeric mentions — amount, percent, count, quantity, date — from normalized text.

The patterns live in ``rules/{amount,percent,count,quantity,date}.yaml`` (sharing
``rules/fragments.yaml``); this module runs them, turns each match into a :class:`Mention` with
:mod:`pipeline.numbers`, applies the judgment calls that need context (money without 元, direction
and basis of a percent, the counted object, 一 as an article), and resolves overlaps so that numeric
mentions never overlap each other (the longer span wins).

>>> [(m.kind, m.text, m.value) for m in extract_numeric("全社会固定资产投资完成187.43亿元，同比增长11%左右")]
[('amount', '187.43亿元', 18743000000.0), ('percent', '11%左右', 11.0)]
"""
from __future__ import annotations

import calendar
import re
from bisect import bisect_right
from dataclasses import dataclass
from functools import lru_cache
from operator import itemgetter

import regex

from ..mention import Mention
from ..numbers import Num, parse_number
from ..rules import compile_pattern, lexicon, load_rules

KIND_FILES = ("date", "amount", "percent", "quantity", "count")
#: when two candidates have the same length, the earlier kind in this order wins
KIND_PRIORITY = {k: i for i, k in enumerate(KIND_FILES)}

_CLAUSE_BREAK = regex.compile(r"[。；;！!？?\n]")
_COMMA = regex.compile(r"[，,：:]")
#: everything up to the last clause break or comma of a stretch (greedy, so the match ends right
#: after the break nearest the end); stdlib ``re`` costs half a backwards ``regex`` search here
_THROUGH_LAST_BREAK = re.compile(r".*[。；;！!？?\n，,：:]", re.S)


@dataclass(frozen=True, slots=True)
class Rule:
    id: str
    kind: str
    regex: regex.Pattern
    spec: dict
    #: the same pattern in the stdlib ``re`` when it compiles there: matching at one position costs
    #: about half as much in ``re`` (per-call overhead, faster Match methods, a C ``groupdict``),
    #: while ``regex`` scans a whole text faster. Anchored rules match with this one.
    rx: re.Pattern | regex.Pattern | None = None
    #: ``(not_after, require_after, not_before)`` (see :func:`_checks`), or None when it has none
    checks: tuple | None = None
    #: the name of each group in group order (the same in both compiles), None for an unnamed one:
    #: ``dict(zip(rule.names, m.groups()))`` costs a third of ``regex``'s ``groupdict``
    names: tuple = ()


def _stdlib(pattern: regex.Pattern) -> re.Pattern | regex.Pattern:
    """``pattern`` compiled by the stdlib ``re`` when its syntax allows (same expanded source,
    same Unicode semantics for the classes the rules use), else ``pattern`` itself."""
    try:
        return re.compile(pattern.pattern)
    except re.error:
        return pattern


def _rule_checks(spec: dict) -> tuple | None:
    """``(not_after, require_after, not_before)`` patterns of a rule (stdlib ``re`` where they
    compile there), or None when it has none — most rules, which then skip :func:`_checks`."""
    keys = ("not_after", "require_after", "not_before")
    if not any(k in spec for k in keys):
        return None
    return tuple(_stdlib(spec[k]) if k in spec else None for k in keys)


@lru_cache(maxsize=None)
def numeric_rules() -> tuple[Rule, ...]:
    """All numeric rules, compiled once per process, in file order."""
    out = []
    for kind in KIND_FILES:
        for spec in load_rules(kind):
            out.append(Rule(spec["id"], kind, spec["regex"], spec, _stdlib(spec["regex"]), _rule_checks(spec),
                            _group_names(spec["regex"])))
    return tuple(out)


@lru_cache(maxsize=None)
def _lex(name: str, file: str = "fragments") -> dict:
    return lexicon(name, file)


def _group_names(pattern: re.Pattern | regex.Pattern) -> tuple[str | None, ...]:
    """The name of each group of ``pattern`` in group order (None for an unnamed one)."""
    by_index = {i: n for n, i in pattern.groupindex.items()}
    return tuple(by_index.get(i) for i in range(1, pattern.groups + 1))


def _qualifier(g: dict, num: Num | None) -> str | None:
    pre = g.get("qpre")
    if pre:
        return _lex("qualifiers_pre").get(pre, pre)
    post = g.get("qpost")
    if post:
        return _lex("qualifiers_post").get(post, post)
    return num.approx if num else None


def _clause_before(text: str, start: int, limit: int = 40) -> str:
    """The text of the clause (sentence) before ``start``, at most ``limit`` characters."""
    lo = max(0, start - limit)
    window = text[lo:start]
    cut = None
    for cut in _CLAUSE_BREAK.finditer(window):
        pass
    return window[cut.end():] if cut else window


def _scaled_like(num: Num, other: Num) -> Num:
    """A bare lower bound takes the scale of the bound that carries one (2-3万人 → 20000..30000)."""
    if num.scale == 1 and other.scale > 1:
        return Num(num.value * other.scale, num.approx, other.scale)
    return num


def _range(rule: Rule, g: dict) -> tuple[Num, Num | None] | None:
    """The number (and upper bound) of a match; a bare lower bound takes the upper bound's scale."""
    num = parse_number(g.get("num"))  # positional=False, the default (a keyword costs the cache more)
    if num is None:
        return None
    n2 = g.get("num2")
    if not n2:
        last = g.get("last")
        if last:
            lp = parse_number(last)
            if lp is None:
                return None
            num = _scaled_like(num, lp)
        return num, None
    hi = parse_number(n2)
    if hi is None:
        return None
    num = _scaled_like(num, hi)
    if hi.value < num.value:
        return None  # not a range (e.g. 2019-5亿元 is not 2019 to 5)
    return num, hi


def _strip_sign(s: str) -> str:
    return s[1:] if s and s[0] in "-−" else s


# --- context: direction, basis, money ------------------------------------------------------------

def _segment(text: str, start: int) -> str:
    """The comma-delimited segment of the clause just before ``start`` (at most 30 characters)."""
    lo = start - 30 if start > 30 else 0
    hit = _THROUGH_LAST_BREAK.match(text, lo, start)
    return text[hit.end() if hit else lo:start]


def direction_of(text: str, start: int, seg: str | None = None) -> str | None:
    """up / down / None for a percent starting at ``start``, from the words just before it.

    The nearest direction word of the clause decides (增长 → up, 下降 → down); a level (提高到,
    下降至, 为) or a share (占, 比重, …率) has none.

    >>> direction_of("同比增长11%", 6), direction_of("下降22%", 2), direction_of("占全省的43%", 5)
    ('up', 'down', None)
    >>> direction_of("开工率提高到90%", 7) is None
    True
    """
    if seg is None:
        seg = _segment(text, start)
    if not seg:
        return None
    return _direction(seg, seg[::-1])


def _direction(seg: str, rseg: str) -> str | None:
    """:func:`direction_of` a non-empty segment ``seg``, given it reversed (``rseg``)."""
    # the nearest word before the number: the first hit in the reversed segment (the words are
    # reversed too), which is what a backwards search finds, at stdlib ``re``'s lower cost per call
    last = _direction_rx().search(rseg)
    if last is None:
        return None
    d = "up" if last.lastgroup == "up" else "down"
    end = len(seg) - last.start()
    if _share_rx().search(seg, end):
        return None  # 增长20%，占… / 增长…占全部的X%
    if seg[end:].startswith(("到", "至", "为")) and not seg[:end].endswith(("增速", "增幅", "降幅", "涨幅", "跌幅")):
        return None  # a level: 提高到90%, 下降至3%
    return d


def _reversed_alt(words) -> str:
    """An alternation of ``words`` spelled backwards, longest first: searched forwards in a reversed
    string it finds what a backwards search of the words finds in the string."""
    return "|".join(re.escape(w[::-1]) for w in sorted(words, key=len, reverse=True))


@lru_cache(maxsize=None)
def _direction_rx() -> re.Pattern:
    """The direction words reversed, for a search of the reversed segment (nearest word first)."""
    return re.compile(f"(?P<up>{_reversed_alt(_lex('direction_up'))})|(?P<down>{_reversed_alt(_lex('direction_down'))})")


@lru_cache(maxsize=None)
def _share_rx() -> re.Pattern:
    return re.compile("|".join(re.escape(w) for w in sorted(_lex("share_words"), key=len, reverse=True)))


def basis_of(text: str, start: int, seg: str | None = None) -> str | None:
    """同比 / 环比 / 两年平均 when the clause before the number says so."""
    if seg is None:
        seg = _segment(text, start)
    if not seg:
        return None
    return _basis(seg[::-1])


def _basis(rseg: str) -> str | None:
    """:func:`basis_of` a non-empty segment, given it reversed."""
    hit = _basis_rx().search(rseg)  # the nearest word: see direction_of
    return _lex("basis_words")[hit.group()[::-1]] if hit else None


@lru_cache(maxsize=None)
def _basis_rx() -> re.Pattern:
    return re.compile(_reversed_alt(_lex("basis_words")))


@lru_cache(maxsize=None)
def _money_rx() -> re.Pattern:
    words = sorted(_lex("money_context", "amount"), key=len, reverse=True)
    return re.compile("|".join(re.escape(w) for w in words))


def money_context(text: str, start: int, end: int | None = None, window: int = 40) -> bool:
    """True when the ``window`` characters around ``start``..``end`` talk about money (GDP, 投资, 元, …)."""
    end = start if end is None else end
    rx = _money_rx()
    return (rx.search(text, max(0, start - window), start) is not None
            or rx.search(text, end, end + window) is not None)


# --- builders ------------------------------------------------------------------------------------

def _checks(checks: tuple, text: str, start: int, end: int) -> bool:
    """False when a match at ``start``..``end`` fails its rule's ``not_after`` / ``require_after`` /
    ``not_before`` context."""
    not_after, require_after, not_before = checks
    if not_after is not None and not_after.match(text, end):
        return False
    if require_after is not None and not require_after.match(text, end):
        return False
    if not_before is not None and not_before.match(text, start):
        return False
    return True


def _amount(rule: Rule, m: regex.Match, text: str, doc_date) -> dict | None:
    g = m.groupdict()
    r = _range(rule, g)
    if r is None:
        return None
    num, hi = r
    if num.value <= 0:
        return None
    spec = rule.spec
    if g["num"].strip("百千万亿") == "" and not g.get("qpre"):
        return None  # “万亿元”城市, 亿元以上项目 are labels; 突破万亿元, 近千亿元 are sums
    ms, me = m.span()
    if spec.get("context") == "money" and not money_context(text, ms, me):
        return None
    cur = g.get("cur")
    sym = g.get("sym")
    if cur:
        currency = _lex("currencies")[cur]
    elif sym:
        currency = _lex("currency_symbols")[sym]
    else:
        currency = spec.get("currency", "CNY")
    extra = ()
    per = g.get("per")
    if per:
        extra = (("per", per.lstrip("/每")),)
    rid = spec.get("range_id", rule.id) if hi else rule.id
    return {"kind": "amount", "text": m.group(0), "start": ms, "end": me, "rule": rid,
            "value": num.value, "value_max": hi.value if hi else None, "currency": currency,
            "qualifier": _qualifier(g, num), "extra": extra}


_PERCENT_UNITS = {"%": "%", "％": "%", "‰": "‰", "百分之": "%", "千分之": "‰", "个百分点": "pp", "倍": "times"}


def _percent(rule: Rule, m: regex.Match, text: str, doc_date) -> dict | None:
    fields = _percent_fields(rule.id, rule.names, m.groups())
    if fields is None:
        return None
    value, value_max, unit, qualifier, rid, word, signed = fields
    ms, me = m.span()
    seg = _segment(text, ms)
    if seg:
        rseg = seg[::-1]
        direction = "down" if signed else _direction(seg, rseg)
        basis = _basis(rseg)
    else:
        direction = "down" if signed else None
        basis = None
    if word and direction is None:
        direction = "up"
    return {"kind": "percent", "text": m.group(0), "start": ms, "end": me, "rule": rid,
            "value": value, "value_max": value_max, "unit": unit, "qualifier": qualifier,
            "direction": direction, "basis": basis}


@lru_cache(maxsize=None)
def _rule_by_id() -> dict[str, Rule]:
    return {r.id: r for r in numeric_rules()}


@lru_cache(maxsize=8192)
def _percent_fields(rule_id: str, names: tuple, values: tuple) -> tuple | None:
    """What a percent's groups alone decide — ``(value, value_max, unit, qualifier, rule id, word,
    signed)`` — or None to reject the match; cached, as the same figures recur. Direction and basis
    come from the text before it (:func:`_percent`)."""
    rule = _rule_by_id()[rule_id]
    g = dict(zip(names, values))
    spec = rule.spec
    unit = spec.get("unit") or _PERCENT_UNITS.get(g.get("unit") or "%", "%")
    word = g.get("word")
    raw = g.get("num")
    num = hi = None
    if "value" in spec:
        value = float(spec["value"])
    elif word:
        value = float(_lex("doubling", "percent")[word])
    else:
        num = Num(100.0) if raw == "百" else parse_number(_strip_sign(raw))
        if num is None:
            return None
        n2 = g.get("num2")
        if n2:
            hi = parse_number(n2)
            if hi is None or hi.value < num.value:
                return None
        value = num.value * spec.get("multiplier", 1)
    rid = spec.get("range_id", rule.id) if hi else rule.id
    return (value, hi.value * spec.get("multiplier", 1) if hi else None, unit, _qualifier(g, num), rid,
            bool(word), bool(raw) and raw[0] in "-−")


def _quantity(rule: Rule, m: regex.Match, text: str, doc_date) -> dict | None:
    g = m.groupdict()
    spec = rule.spec
    unit = _lex("units")[g.get("unit")]
    if spec.get("product"):
        a, b = parse_number(g.get("num")), parse_number(g.get("num2"))
        if a is None or b is None:
            return None
        return dict(kind="quantity", text=m.group(0), start=m.start(), end=m.end(), rule=rule.id,
                    value=a.value * b.value, unit=unit, extra=(("units", a.value), ("unit_size", b.value)))
    r = _range(rule, g)
    if r is None:
        return None
    num, hi = r
    if num.value <= 0:
        return None
    return dict(kind="quantity", text=m.group(0), start=m.start(), end=m.end(), rule=rule.id,
                value=num.value, value_max=hi.value if hi else None, unit=unit,
                qualifier=_qualifier(g, num))


_OBJ_CHARS = r"[\p{Han}“”\"‘’A-Za-z]"
_OBJ_RUN = regex.compile(_OBJ_CHARS + "+")
_OBJ_TAIL = regex.compile(_OBJ_CHARS + r"+\Z")
#: common characters outside _OBJ_CHARS: a run cannot start (or end) on them, no search needed
_NOT_OBJ = frozenset("0123456789０１２３４５６７８９，。、；：？！（）《》【】—…·％%,.;:?!()[]<> \n\t-+/~～")
_CN_NUMERAL_START = regex.compile(r"[一二两三四五六七八九十]")
_NOUNISH = ("n", "vn", "b", "j", "eng", "a", "an", "nz")


@lru_cache(maxsize=4096)
def _tag(run: str) -> tuple[tuple[str, str], ...]:
    """Part-of-speech tags of a short run (rjieba, loaded once on first use)."""
    import rjieba

    return tuple((w, f) for w, f in rjieba.tag(run))


def _is_noun(flag: str) -> bool:
    return flag.startswith("n") and flag != "nx" or flag in ("j", "eng")


def _nounish(w: str, flag: str) -> bool:
    if w in _lex("object_stops", "count"):
        return False
    return flag.startswith(_NOUNISH)


def _object_after(text: str, end: int, limit: int = 12, lead_verb: bool = True, bound: int | None = None) -> str:
    """The counted noun phrase right after a classifier: 170个州级重点项目完成… → 州级重点项目.

    It never reaches ``bound`` (the start of the next mention).
    """
    stop = min(len(text) if bound is None else bound, end + limit)
    hit = _OBJ_RUN.match(text, end, stop) if stop > end and text[end] not in _NOT_OBJ else None
    if hit is None:
        return ""
    return _object_leading(hit.group(), lead_verb)


@lru_cache(maxsize=4096)
def _object_leading(run: str, lead_verb: bool) -> str:
    """The noun phrase at the start of ``run`` (see :func:`_object_after`): a function of the run
    alone, cached like its tags."""
    toks = _tag(run)
    taken: list[tuple[str, str]] = []
    i = 0
    while i < len(toks):
        w, f = toks[i]
        if w in ("“", "\"", "‘"):
            k = next((k for k in range(i + 1, len(toks)) if toks[k][0] in ("”", "\"", "’")), None)
            if k is None:
                break
            taken.extend(toks[i:k + 1])
            i = k + 1
            continue
        if f == "eng" and any(_is_noun(g) for _, g in taken):
            break
        if _nounish(w, f):
            taken.append((w, f))
        elif not taken and lead_verb and f.startswith("v") and i + 1 < len(toks) and _is_noun(toks[i + 1][1]) \
                and toks[i + 1][0] not in _lex("object_stops", "count"):
            taken.append((w, f))
        else:
            break
        i += 1
    while taken and not (_is_noun(taken[-1][1]) or taken[-1][0] in ("”", "\"", "’")):
        taken.pop()
    return "".join(w for w, _ in taken)


def _object_before(text: str, start: int, limit: int = 12) -> str:
    """The counted noun phrase right before the number: …确定州级重点项目170个 → 州级重点项目."""
    lo = max(0, start - limit)
    hit = _OBJ_TAIL.search(text, lo, start) if start - lo >= 2 and text[start - 1] not in _NOT_OBJ else None
    if hit is None or hit.end() - hit.start() < 2:
        return ""
    i = hit.start()
    return _object_trailing(hit.group(), i > 0 and text[i - 1].isdigit())


@lru_cache(maxsize=4096)
def _object_trailing(run: str, after_digit: bool) -> str:
    """The noun phrase at the end of ``run`` (see :func:`_object_before`); ``after_digit``: the run
    follows a digit (5G基站 → 基站). A function of its arguments alone, cached like the tags."""
    toks = _tag(run)
    if not toks or not _is_noun(toks[-1][1]) or toks[-1][0] in _lex("object_stops", "count"):
        return ""
    taken: list[str] = []
    k = len(toks) - 1
    while k >= 0:
        w, f = toks[k]
        if w in ("”", "\"", "’"):
            o = next((o for o in range(k - 1, -1, -1) if toks[o][0] in ("“", "\"", "‘")), None)
            if o is None:
                break
            taken[:0] = [t for t, _ in toks[o:k + 1]]
            k = o - 1
            continue
        if not (_nounish(w, f) or (taken and w in _lex("object_modifiers", "count"))):
            break
        taken.insert(0, w)
        k -= 1
    while taken and taken[0] in ("”", "’"):
        taken.pop(0)
    obj = "".join(taken)
    if obj[:1].isascii() and after_digit:
        obj = obj.lstrip("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz")  # 5G基站 → 基站
    return obj if len(obj) >= 2 else ""


def inside_title(text: str, pos: int, limit: int = 60) -> bool:
    """True when ``pos`` sits inside a 《document title》 (its numbers belong to the name).

    >>> inside_title("印发《支持重点项目的20条措施》", 10), inside_title("《方案》明确20条措施", 7)
    (True, False)
    """
    lo = max(0, pos - limit)
    opened = text.rfind("《", lo, pos)
    return opened >= 0 and text.rfind("》", opened, pos) < 0 and text.find("》", pos, pos + limit) >= 0


_BARE_HUNDREDS = {"百": 100.0, "千": 1000.0}


@lru_cache(maxsize=None)
def _classifier_require_after() -> dict[str, tuple[str, ...]]:
    """``classifier_require_after`` with each word list as a tuple (one ``startswith``)."""
    return {c: tuple(str(w) for w in ws) for c, ws in _lex("classifier_require_after", "count").items()}


@lru_cache(maxsize=None)
def _classifier_not_after() -> dict[str, tuple[str, ...]]:
    """``classifier_not_after`` as last character → its words as one tuple (one ``startswith``);
    words are looked for in the next four characters only."""
    return {c: tuple(str(w) for w in ws if len(str(w)) <= 4)
            for c, ws in _lex("classifier_not_after", "count").items() if ws}


def _count(rule: Rule, m: regex.Match, text: str, doc_date) -> dict | None:
    fields = _count_fields(rule.id, rule.names, m.groups())
    if fields is None:
        return None
    value, value_max, unit, qualifier, rid, raw, clf, qpost, is_cn = fields
    # classifier words that are really part of another word (3个月, 一次性, 两位数, 3万亿台阶)
    clf_end = m.end("clf")
    bad = _classifier_not_after().get(clf[-1])
    if bad and not qpost and text[clf_end: clf_end + 4].startswith(bad):
        return None
    need = _classifier_require_after().get(clf)
    if need and not text.startswith(need, clf_end) and clf_end < len(text):
        return None  # 3个方面对经济: 对 is a preposition here
    ms, me = m.span()
    # numbers inside slogans: “三个一”, 四个一批, 一个项目一个项目
    if is_cn and _CN_NUMERAL_START.match(text, clf_end):
        return None
    if ms > 0 and text[ms - 1] in "“\"‘":
        close = text.find("”", me, me + 8)
        if close >= 0 and "“" not in text[me:close]:
            return None  # a quoted slogan: “两个毫不动摇”, “三个一”
    if is_cn and text[clf_end: clf_end + 1] in ("”", "’") and "“" in text[max(0, ms - 8): ms]:
        return None  # “一网一门一次”
    if inside_title(text, ms):
        return None  # 《成都市支持保障重点项目的20条政策及措施》 names a document
    if clf in ("位", "名") and text[max(0, ms - 1): ms] in ("前", "后"):
        return None  # 排名前五位 is a rank
    if is_cn and clf == "次" and text.startswith(("会议", "全体会议"), clf_end):
        return None  # 十四届人大三次会议 is an ordinal session
    return {"kind": "count", "text": m.group(0), "start": ms, "end": me, "rule": rid, "value": value,
            "value_max": value_max, "unit": unit, "qualifier": qualifier}


@lru_cache(maxsize=8192)
def _count_fields(rule_id: str, names: tuple, values: tuple) -> tuple | None:
    """What a count's groups alone decide — ``(value, value_max, unit, qualifier, rule id, numeral,
    classifier, qpost?, Chinese numeral?)`` — or None to reject the match; cached, as the same
    counts recur. The checks on the text around it are :func:`_count`'s."""
    rule = _rule_by_id()[rule_id]
    g = dict(zip(names, values))
    raw = g["num"]
    clf = g["clf"]
    qpre = g.get("qpre")
    num = parse_number(raw)
    if num is None and qpre and raw in _BARE_HUNDREDS:
        num = Num(_BARE_HUNDREDS[raw])  # 近千家企业, 超百家: a qualified round number
    if num is None or num.value <= 0:
        return None
    hi = None
    n2 = g.get("num2")
    if n2:
        hi = parse_number(n2)
        if hi is None:
            return None
        num = _scaled_like(num, hi)  # 2-3万人 → 20000..30000
        if hi.value <= num.value:
            return None
    is_cn = not raw[0].isdigit()
    # 一 as an indefinite article (一批, 一本台账, 一个项目), except frequencies (约谈一次)
    if is_cn and raw == "一" and clf != "次":
        return None
    if clf in ("点", "类") and not is_cn and clf == "点":
        return None  # 8点 is a time; 五点意见 is a count
    if raw.strip("十百千万亿") == "" and raw != "十" and not qpre:
        return None  # a bare scale word (万家灯火, “万家民营企业…”) is not a number; 突破百亿次 is
    rid = rule.spec.get("range_id", rule.id) if hi else rule.id
    return (num.value, hi.value if hi else None, _lex("classifiers")[clf], _qualifier(g, num), rid,
            raw, clf, bool(g.get("qpost")), is_cn)


def attach_objects(text: str, mentions: list[dict]) -> list[dict]:
    """Give each count its counted ``object`` and widen its span over it when it stands next to the
    number (170个州级重点项目, 开工项目1297个), never into a neighbouring mention."""
    for i, m in enumerate(mentions):
        if m["kind"] != "count":
            continue
        lo = mentions[i - 1]["end"] if i else 0
        hi = mentions[i + 1]["start"] if i + 1 < len(mentions) else len(text)
        start, end = m["start"], m["end"]
        obj = _object_after(text, end, lead_verb=m["unit"] != "次", bound=hi)
        if obj:
            end += len(obj)
        else:
            before = _object_before(text, start)
            if before and start - len(before) >= lo:
                obj = before
                start -= len(before)
        if obj:
            m.update(start=start, end=end, text=text[start:end], object=obj)
    return mentions


# --- dates ---------------------------------------------------------------------------------------

@lru_cache(maxsize=4096)
def _month_num(s: str | None) -> int | None:
    if not s:
        return None
    n = parse_number(s)
    if n is None or not (1 <= n.value <= 12) or not float(n.value).is_integer():
        return None
    return int(n.value)


@lru_cache(maxsize=4096)
def _day_num(s: str | None) -> int | None:
    if not s:
        return None
    n = parse_number(s)
    if n is None or not (1 <= n.value <= 31):
        return None
    return int(n.value)


@lru_cache(maxsize=4096)
def _year_num(s: str | None) -> int | None:
    if not s:
        return None
    if s[0].isdigit():
        return int(s)
    n = parse_number(s, positional=True)
    return int(n.value) if n else None


@lru_cache(maxsize=64)
def _doc_year_month(doc_date: str | None) -> tuple[int | None, int | None]:
    if not doc_date:
        return None, None
    m = regex.match(r"(\d{4})(?:-(\d{1,2}))?", str(doc_date))
    if not m:
        return None, None
    return int(m.group(1)), int(m.group(2)) if m.group(2) else None


def _ym(y: int | None, mo: int) -> str:
    return f"{y:04d}-{mo:02d}" if y else f"--{mo:02d}"


_REL_YEAR = {"今年": 0, "本年": 0, "去年": -1, "上年": -1, "明年": 1}


def _date(rule: Rule, m: regex.Match, text: str, doc_date) -> dict | None:
    fields = _date_fields(rule.id, rule.names, m.groups(), doc_date)
    if fields is None:
        return None
    ms, me = m.span()
    return {"kind": "date", "text": m.group(0), "start": ms, "end": me, "rule": rule.id,
            "value": fields[0], "qualifier": fields[1], "relative": fields[2]}


@lru_cache(maxsize=8192)
def _date_fields(rule_id: str, names: tuple, values: tuple, doc_date: str | None) -> tuple | None:
    """``(value, qualifier, relative)`` of a date match with these groups, or None to reject it.

    A function of the groups and the document date alone (no context), so it is cached: reports
    repeat their periods (2019年, 1-8月, 上半年) many times.
    """
    g = dict(zip(names, values))
    gy, gm, gm2, gd = g.get("y"), g.get("m"), g.get("m2"), g.get("d")
    dy, dm = _doc_year_month(doc_date)
    relative = False
    y = _year_num(gy)
    if gy and (y is None or not (1900 <= y <= 2100)):
        return None
    if y is None:
        rel = g.get("rel") or g.get("rel2")
        offset = _REL_YEAR.get(rel or "", 0)
        y = dy + offset if dy else None
        relative = y is None
    mo, mo2 = _month_num(gm), _month_num(gm2)
    if gm and mo is None or gm2 and mo2 is None:
        return None
    day = _day_num(gd)
    if gd and day is None:
        return None
    if rule_id == "date.month":
        chinese = not gm[0].isdigit()
        if chinese and not (mo2 or day or g.get("pos") or g.get("cut") or (g.get("yue") or "").endswith("份")):
            return None  # 一月一督查 is a slogan, not January
    value = None
    if gm:
        if mo2:
            if mo2 <= mo:
                return None
            value = f"{_ym(y, mo)}/{_ym(y, mo2)}"
        elif day:
            if y:
                try:
                    calendar.monthrange(y, mo)
                    if day > calendar.monthrange(y, mo)[1]:
                        return None
                except ValueError:
                    return None
            value = f"{_ym(y, mo)}-{day:02d}"
        else:
            value = _ym(y, mo)
    elif g.get("half"):
        a, b = (1, 6) if g["half"] == "上半年" else (7, 12)
        value = f"{_ym(y, a)}/{_ym(y, b)}"
    elif g.get("q"):
        q = int(parse_number(g["q"]).value) if not g["q"].isdigit() else int(g["q"])
        first = 1 if g.get("qpre") == "前" else 3 * q - 2
        value = f"{_ym(y, first)}/{_ym(y, 3 * q)}"
    elif g.get("mn"):
        n = _month_num(g["mn"])
        if n is None:
            return None
        value = f"{_ym(y, 1)}/{_ym(y, n)}"
    elif g.get("since"):
        if not (gy or g.get("rel")):
            return None  # …以来 with no anchor
        if gy:
            value = f"{y:04d}/" + (str(doc_date)[:7] if doc_date else "..")
        else:
            value = f"{_ym(y, 1)}/{_ym(y, dm)}" if (y and dm) else (f"{y:04d}/.." if y else "--01/..")
    elif gy:
        y2 = _year_num(g.get("y2"))
        value = f"{y:04d}/{y2:04d}" if y2 and y2 > y else f"{y:04d}"
        if g.get("y2") and not (y2 and y2 > y):
            return None
    else:
        value = f"{y:04d}" if y else None
    qualifier = g.get("cut") or g.get("pos") or g.get("ypos") or None
    return value, qualifier, True if relative else None


#: kind → builder(rule, match, text, doc_date) → the fields of a Mention, or None to reject the match
BUILDERS = {"amount": _amount, "percent": _percent, "count": _count, "quantity": _quantity, "date": _date}


@lru_cache(maxsize=None)
def _anchored() -> tuple[regex.Pattern, regex.Pattern, dict[str, tuple[tuple, ...]]]:
    """The number scan, the prefix scan and, for each character, the number-led rules it can start
    (each as ``(rule, follow words starting with it, token_endswith, builder, pattern, checks)``).

    A number-led rule (``anchor: number``) declares in ``follow`` what may come right after its
    number: a string of single characters, or ``@lexicon`` for the words of a lexicon; ``follow_words``
    adds whole words. The text is scanned once for numbers; at each number only the rules one of whose
    follow words starts right after it are tried. (Per-call overhead, not the matching, dominated when
    every rule scanned the text or was tried at every number.)
    """
    by_char: dict[str, list[tuple]] = {}
    for rule in numeric_rules():
        if rule.spec.get("anchor") != "number":
            continue
        words: set[str] = set()
        for item in rule.spec.get("follow") or ():
            if item.startswith("@"):  # the words of a lexicon
                name = item[1:]
                words |= {str(w) for w in _lex(name, "fragments" if name in _shared_lexicons() else rule.kind)}
            else:  # a set of characters
                words |= set(item)
        words |= {str(w) for w in rule.spec.get("follow_words") or ()}
        if not words:
            raise ValueError(f"rule {rule.id} is anchored on a number but declares no `follow`")
        first: dict[str, set[str]] = {}
        for w in words:
            first.setdefault(w[0], set()).add(w)
        ends = tuple(rule.spec.get("token_endswith") or ())
        for c, ws in first.items():
            by_char.setdefault(c, []).append(
                (rule, tuple(sorted(ws, key=len)), ends, BUILDERS[rule.kind], rule.rx, rule.checks))
    follow = "".join(sorted(by_char)).replace("\\", "\\\\").replace("]", "\\]").replace("[", "\\[").replace("-", "\\-").replace("^", "\\^")
    # stdlib ``re`` with ``number_scan`` (``number`` led by one character class): its search jumps
    # to digits and numerals, where ``regex`` tests every position against the classes
    number = _stdlib(compile_pattern("(?:{number_scan})(?=[" + follow + "])"))
    prefix = _stdlib(compile_pattern(r"(?:{qual_pre}|人民币|累计|共){1,2}\Z"))
    return number, prefix, {c: tuple(rs) for c, rs in by_char.items()}


@lru_cache(maxsize=None)
def _scanning() -> tuple[tuple[Rule, tuple[str, ...], re.Pattern | None, tuple[int, int] | None], ...]:
    """The rules that scan the text (not number-led), each with its ``requires`` literals, a search
    for them and its ``window``.

    A rule that declares ``requires`` runs only on a text holding one of them (a ``str`` search is
    far cheaper than a scan). One that also declares ``window: [before, length]`` — every match holds
    a required word starting at most ``before`` characters after the match start, and is at most
    ``length`` characters long — is run only on the stretches of text around those words.
    """
    out = []
    for r in numeric_rules():
        if r.spec.get("anchor") == "number":
            continue
        needs = tuple(str(w) for w in r.spec.get("requires") or ())
        window = r.spec.get("window")
        if window is not None:
            if not needs or len(window) != 2:
                raise ValueError(f"rule {r.id}: a `window` needs `requires` words and [before, length]")
            window = (int(window[0]), int(window[1]))
        finder = re.compile("|".join(re.escape(w) for w in sorted(needs, key=len, reverse=True))) if window else None
        out.append((r, needs, finder, window))
    return tuple(out)


def _windows(text: str, finder: re.Pattern, before: int, length: int) -> list[tuple[int, int]]:
    """Disjoint stretches of ``text`` that hold every match of a windowed rule (see :func:`_scanning`).

    A match starting at ``s`` holds a required word at ``h`` with ``s <= h <= s + before`` and ends by
    ``s + length``, so it lies inside ``[h - before, h + length]``. Overlapping stretches are merged, so
    scanning each one finds exactly the matches a scan of the whole text finds.
    """
    n = len(text)
    spans: list[tuple[int, int]] = []
    lo = hi = -1
    for hit in finder.finditer(text):
        h = hit.start()
        a = h - before if h > before else 0
        if a <= hi:
            hi = h + length
        else:
            if hi >= 0:
                spans.append((lo, min(hi, n)))
            lo, hi = a, h + length
    if hi >= 0:
        spans.append((lo, min(hi, n)))
    return spans


@lru_cache(maxsize=None)
def _prefix_last_chars() -> frozenset:
    """Last characters of the words that may stand before a number (a cheap test before the search)."""
    words = list(_lex("qualifiers_pre")) + ["过", "人民币", "累计", "共"]
    return frozenset(w[-1] for w in words)


@lru_cache(maxsize=None)
def _shared_lexicons() -> frozenset:
    from ..rules import fragments

    return frozenset(fragments("fragments")[1])


def candidates(text: str, *, doc_date: str | None = None) -> list[dict]:
    """Every numeric rule hit, before overlap resolution.

    Number-led rules are tried only at numbers they can follow (see :func:`_anchored`), from the
    number itself, its sign, or a qualifier/currency word just before it; the other rules (百分之…,
    翻一番, dates) have literal words the regex engine finds quickly and scan the text — a rule with a
    ``window`` (date.period) only the stretches around its required words (see :func:`_scanning`).
    """
    out: list[dict] = []
    for rule, needs, finder, window in _scanning():
        if window:
            spans = _windows(text, finder, *window)
        elif needs and not any(w in text for w in needs):
            continue
        else:
            spans = ((0, len(text)),)
        build = BUILDERS[rule.kind]
        checks = rule.checks
        for lo, hi in spans:
            for m in rule.regex.finditer(text, lo, hi):
                ms, me = m.span()
                if me == ms or (checks and not _checks(checks, text, ms, me)):
                    continue
                mention = build(rule, m, text, doc_date)
                if mention is not None:
                    out.append(mention)
    number, prefix, by_char = _anchored()
    last_chars = _prefix_last_chars()
    n = len(text)
    for tok in number.finditer(text):
        e = tok.end()
        rules = by_char.get(text[e]) if e < n else None
        if not rules:
            continue
        p = tok.start()
        q = p - 1 if p and text[p - 1] in "-−" else p
        starts = (p,) if q == p else (q, p)
        if q and text[q - 1] in last_chars:
            pre = prefix.search(text, q - 6 if q > 6 else 0, q)
            if pre:
                starts = (pre.start(), *starts)
        tok_text = None
        for rule, words, ends, build, rx, checks in rules:
            if not text.startswith(words, e):
                continue
            if ends:
                if tok_text is None:
                    tok_text = tok.group()
                if not tok_text.endswith(ends):
                    continue
            for st in starts:
                m = rx.match(text, st)
                if m is None:
                    continue
                ms, me = m.span()
                if me == ms or (checks and not _checks(checks, text, ms, me)):
                    continue
                mention = build(rule, m, text, doc_date)
                if mention is not None:
                    out.append(mention)
                    break
    return out


def resolve(found: list[dict]) -> list[dict]:
    """Keep non-overlapping candidates, longer spans first (ties: date, amount, percent, quantity, count).

    Most candidates overlap nothing: the greedy choice (:func:`_resolve_group`) only runs on each
    group of candidates chained by overlaps, which is where it can decide anything (a candidate is
    kept or dropped only for candidates of its own group). Returned in reading order.
    """
    by_start = sorted(found, key=_START)  # stable: equal starts keep their order in ``found``
    kept: list[dict] = []
    i, n = 0, len(by_start)
    while i < n:
        end = by_start[i]["end"]
        j = i + 1
        while j < n and by_start[j]["start"] < end:  # overlaps a candidate of the group
            e = by_start[j]["end"]
            if e > end:
                end = e
            j += 1
        if j == i + 1:
            kept.append(by_start[i])
        else:
            kept += _resolve_group(by_start[i:j])
        i = j
    return kept


_START = itemgetter("start")


def _resolve_group(found: list[dict]) -> list[dict]:
    """The greedy choice on candidates: longest first (ties by kind, then start), each kept unless
    it overlaps one kept before; in reading order."""
    order = sorted(found, key=lambda m: (m["start"] - m["end"], KIND_PRIORITY[m["kind"]], m["start"]))
    starts: list[int] = []  # kept spans, sorted and disjoint
    ends: list[int] = []
    kept: list[dict] = []
    for m in order:
        s, e = m["start"], m["end"]
        i = bisect_right(starts, s)
        if i and ends[i - 1] > s:
            continue  # overlaps the kept span starting at or before it
        if i < len(starts) and starts[i] < e:
            continue  # overlaps the next kept span
        starts.insert(i, s)
        ends.insert(i, e)
        kept.append(m)
    kept.sort(key=_START)
    return kept


def extract_numeric(text: str, *, doc_date: str | None = None) -> list[Mention]:
    """Numeric mentions (amount, percent, count, quantity, date) of normalized ``text``, in order.

    Every mention has ``text == text[start:end]`` and a ``rule`` id; numeric mentions never overlap.
    ``doc_date`` (ISO, e.g. ``2017-08-11``) anchors periods without a year (1—8月, 今年以来).
    """
    kept = attach_objects(text, resolve(candidates(text, doc_date=doc_date)))
    return [Mention(**m) for m in kept]
