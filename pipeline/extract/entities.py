"""Entity mentions by rule: regions (with adcodes), projects and mechanisms.

:func:`extract_entities` is the entry point; projects and mechanisms live in
:mod:`pipeline.extract.projects` and :mod:`pipeline.extract.mechanisms`, regions here. The output
is deterministic (same text and meta → same list), so it can serve as silver labels for the
statistical model.

Regions follow GUIDELINES.md "Settled cases → Regions":

- ``region.full_form`` — a name with its administrative suffix (四川省, 甘孜州, 温江区) counts
  wherever it stands, also in government bodies (四川省人民政府 → 四川省), but not inside the name of
  a company, medium, fund, bank or non-government institution (云南省工程咨询公司). Address chains
  split by themselves (辽宁省沈阳市 → 辽宁省 + 沈阳市).
- ``region.new_area`` — a state-level new area (四川天府新区, 天府新区): a region without a code.
- ``region.short_form`` — a bare name (甘孜, 成都, 广东) counts only where it stands as a place:
  not fused into a proper name (甘孜日报, 红河烟厂, 天城工业园区), a slogan (健康四川) or a
  《document title》; a county's bare name (柞水, 温江) needs the document to be about its city or
  province, or to name it in full somewhere.
- ``region.unlisted`` — a county-like name that the gazetteer lacks but the document shows to be a
  government (天城县人民政府, 中共天城县委): each occurrence of that full name, without adcode.

Ambiguous names (朝阳区) are resolved with the document's region and the regions it names in full;
what stays ambiguous gets no adcode.
"""
from __future__ import annotations

import bisect

from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import regex


from .. import regions as gz
from .. import rules_dir
from ..rules import load_yaml
from ..mention import Mention
from ..segment import backend_name, cut, posseg
from .merge import SpanIndex

__all__ = ["extract_entities", "extract_regions", "name_lexicons"]

_CJK = regex.compile(r"\p{Han}")
_CHAIN = regex.compile(r"[\p{Han}A-Za-z0-9]{1,14}")
_UNLISTED = regex.compile(
    r"(?:(?<=中共)|(?<![\p{Han}]))"
    r"(?P<name>[\p{Han}]{2}[县市区])"
    r"(?=人民政府|人民代表大会|委员会|政协|人大|委(?![员]))")
# the last character of an _UNLISTED name and what must follow it: a fast scan for where to try _UNLISTED
_UNLISTED_TAIL = regex.compile(r"[县市区](?=人民政府|人民代表大会|委员会|政协|人大|委(?![员]))")
_NAME_TAGS_BAD = ("p", "r", "v", "c", "d", "u", "m", "q", "f", "t", "a")
_DEICTIC_FIRST = set("全我本该各省市县区州这那此两")
# 等 closes a chain as a list word, not inside 高等/中等/初等 (安徽高等研究院 is one name)
_CHAIN_STOP = regex.compile(r"[的和与及、在对把将为是于从向就并且或]|(?<![高中初平同均])等")
_BOOK = regex.compile(r"《[^《》\n]{1,80}》")


@lru_cache(maxsize=1)
def name_lexicons() -> dict[str, tuple[str, ...]]:
    """The word lists of ``rules/lexicons/names.yaml``, longest words first."""
    data = load_yaml(rules_dir() / "lexicons" / "names.yaml")
    return {k: tuple(sorted(set(v), key=lambda w: (-len(w), w))) for k, v in data.items()}


@lru_cache(maxsize=1)
def _lex_res() -> dict[str, regex.Pattern]:
    lx = name_lexicons()

    def alt(key):
        return "|".join(map(regex.escape, lx.get(key, ()))) or "(?!)"

    return {
        "org": regex.compile(rf"(?:{alt('org_suffixes')})"),
        "gov": regex.compile(rf"(?:{alt('gov_words')})"),
        "fused": regex.compile(rf"(?:{alt('fused_next')})"),
        "slogan": regex.compile(rf"(?:{alt('slogan_prefixes')})$"),
        # 北京电 is a dateline, 商洛电厂 / 华能电站 / 国家电网 are names
        "dateline": regex.compile(rf"(?:{alt('dateline_next')})(?![厂站网力视子池气器商缆梯机动价费量源])"),
        "predicate": regex.compile(rf"(?:{alt('predicates')})"),
        "area": regex.compile(rf"(?:{alt('area_next')})"),
        "glued_prev": frozenset(lx.get("glued_prev", ())),
        "zone": regex.compile(rf"(?:{alt('zone_heads')})"),
    }


@dataclass(frozen=True, slots=True)
class _Hit:
    start: int
    end: int
    text: str
    forms: tuple  # tuple[gz.Form, ...]; empty for unlisted names

    @property
    def is_full(self) -> bool:
        return not self.forms or any(f.form == "full" for f in self.forms)


def _scan(text: str) -> list[_Hit]:
    """Leftmost-longest, non-overlapping occurrences of gazetteer forms in ``text``.

    The forms are those of :func:`pipeline.regions.automaton`. Positions where a form can start are
    found at once with numpy (the character pair there opens some form); each is then checked with
    dictionary lookups, longest form first. The Aho-Corasick automaton itself is slow on Chinese text:
    its root has a child per first character, searched linearly for every character that starts nothing.
    """
    table = _form_table()
    if table is None:
        return _scan_automaton(text)
    forms, lengths, pairs = table
    out, last_end = [], -1
    for i in _pair_starts(text, pairs):
        if i < last_end:
            continue
        for n in lengths[text[i:i + 2]]:
            form = text[i:i + n]
            if len(form) == n and form in forms:
                out.append(_Hit(i, i + n, form, gz.candidates(form)))
                last_end = i + n
                break
    return out


def _scan_automaton(text: str) -> list[_Hit]:
    """:func:`_scan` with the automaton (all matches, sorted): the reference, and the fallback."""
    raw = []
    for end_idx, form in gz.automaton().iter(text):
        start = end_idx - len(form) + 1
        raw.append((start, end_idx + 1, form))
    raw.sort(key=lambda t: (t[0], -(t[1] - t[0])))
    out, last_end = [], -1
    for s, e, form in raw:
        if s < last_end:
            continue
        out.append(_Hit(s, e, form, gz.candidates(form)))
        last_end = e
    return out


@lru_cache(maxsize=1)
def _form_table():
    """``(forms, lengths by first two characters (longest first), sorted pair codes)`` of the gazetteer's
    written forms; None if a one-character form exists (the pair scan would miss it)."""
    forms = frozenset(gz.automaton().keys())
    if not forms or min(map(len, forms)) < 2:
        return None
    lengths: dict[str, set[int]] = {}
    for f in forms:
        lengths.setdefault(f[:2], set()).add(len(f))
    pairs = np.array(sorted(_pair_code(ord(k[0]), ord(k[1])) for k in lengths), dtype=np.uint64)
    return forms, {k: tuple(sorted(v, reverse=True)) for k, v in lengths.items()}, pairs


def _pair_code(a, b):
    return (a << 21) | b  # code points are below 2**21


def _pair_starts(text: str, pairs) -> list[int]:
    """Offsets ``i`` where ``text[i:i+2]`` is one of ``pairs`` (sorted codes of :func:`_pair_code`)."""
    if len(text) < 2:
        return []
    cps = np.frombuffer(text.encode("utf-32-le", "surrogatepass"), dtype=np.uint32).astype(np.uint64)
    codes = _pair_code(cps[:-1], cps[1:])
    j = np.searchsorted(pairs, codes)
    j[j == len(pairs)] = 0
    return np.flatnonzero(pairs[j] == codes).tolist()


def _unlisted_names(text: str) -> set[str]:
    """Names like 天城县 that the text shows to be governments but the gazetteer lacks."""
    names = set()
    for m in _unlisted_matches(text):
        name = m.group("name")
        if name[0] in _DEICTIC_FIRST or gz.candidates(name):
            continue
        # the stem must not itself end a longer known name or be a generic word
        if name[:2] in {"人民", "中央", "国家", "地方", "城市", "农村", "社区", "街道"}:
            continue
        if any(tag.startswith(_NAME_TAGS_BAD) for _, tag in posseg(name[:2])):
            continue
        names.add(name)
    return names


def _unlisted_matches(text: str):
    """The matches of ``_UNLISTED.finditer(text)``, tried only two characters before each name ending
    (every match is three characters, its last one and the words after it as _UNLISTED_TAIL); trying
    the lookbehinds at every character was most of the cost."""
    last_end = 0
    for t in _UNLISTED_TAIL.finditer(text):
        s = t.start() - 2
        if s < last_end:
            continue
        m = _UNLISTED.match(text, s)
        if m is not None:
            yield m
            last_end = m.end()


def _token_aligned(text: str, start: int, end: int, hit_bounds: frozenset[int] = frozenset()) -> bool:
    """Whether ``start`` and ``end`` fall on word boundaries of the surrounding text.

    The ends of neighbouring region names count as boundaries (山西太原 is one jieba word but two
    places), and so does a generic area word glued to the name (台湾地区, 湖北省内).
    """
    lo, hi = max(0, start - 6), min(len(text), end + 6)
    bounds, pos = {lo}, lo
    for w in cut(text[lo:hi]):
        pos += len(w)
        bounds.add(pos)
    bounds |= hit_bounds
    if end not in bounds and end != hi:
        m = _lex_res()["area"].match(text, end)
        if m and (m.end() in bounds or m.end() >= hi):
            bounds.add(end)
    # the window edges are artificial boundaries
    return (start in bounds or start == lo) and (end in bounds or end == hi)


def _chain_after(text: str, end: int) -> str:
    """The run of name characters right after ``end``, cut at a function word."""
    m = _CHAIN.match(text, end)
    if not m:
        return ""
    s = m.group(0)
    stop = _CHAIN_STOP.search(s)
    return s[: stop.start()] if stop else s


def _in_org_name(text: str, end: int) -> bool:
    """Whether the region ending at ``end`` opens the name of a company, medium, fund or institution."""
    res = _lex_res()
    chain = _chain_after(text, end)
    if not chain:
        return False
    m = res["org"].search(chain)
    if not m:
        return False
    part = chain[: m.start()]
    if res["gov"].search(part) or res["predicate"].search(part):
        return False
    return True


def _inside_book_title(text: str, start: int, end: int, books: list[tuple[int, int]]) -> bool:
    return any(s < start and end < e for s, e in books)


_QUOTED_PHRASE = regex.compile(r"“([^“”\n、，,。；;]{1,16})”")


def _in_quoted_name(text: str, start: int, end: int) -> bool:
    """Whether a short form is part of a quoted name, brand or slogan (“浙江有礼”, “投资湖南”): the
    quotes hold more than the place and an area word (“成都地区” still stands as a place)."""
    lo = text.rfind("“", max(0, start - 16), start + 1)
    if lo < 0:
        return False
    m = _QUOTED_PHRASE.match(text, lo)
    if not m or m.end() < end + 1:
        return False
    before, after = text[lo + 1: start], text[end: m.end() - 1]
    if before:
        return True
    return bool(after) and _lex_res()["area"].fullmatch(after) is None


def _after_glued_prefix(text: str, start: int) -> bool:
    """Whether a one-character modifier that jieba leaves as its own word is glued to the short form
    (大张家界国际旅游区, “金芙蓉”基金): the pair names a brand or a planning area, not the place."""
    if start == 0 or text[start - 1] not in _lex_res()["glued_prev"]:
        return False
    lo = max(0, start - 6)
    pos = lo
    for w in cut(text[lo: start + 4]):
        if pos + len(w) == start:
            return len(w) == 1
        pos += len(w)
        if pos > start:
            break
    return False


_ZONE_VERBS = regex.compile(r"建设|打造|创建|争创|建成|申建|设立|发展|推进|提升|支持|承接|对接")


def _in_zone_name(text: str, end: int) -> bool:
    """Whether a short form opens the name of a zone, market or science facility (合肥滨湖科学城,
    合肥法务区, 安徽科技大市场): such names are not administrative areas, and the place is fused in."""
    res = _lex_res()
    chain = _chain_after(text, end)
    m = res["zone"].search(chain) if chain else None
    if not m:
        return False
    part = chain[: m.start()]
    return not (res["predicate"].search(part) or _ZONE_VERBS.search(part) or res["gov"].search(part))


def _short_stands_alone(text: str, hit: _Hit, books) -> str | None:
    """Why a short form counts (a rule-id suffix), or None when it is fused into a name."""
    res = _lex_res()
    after = text[hit.end: hit.end + 12]
    if res["dateline"].match(after):
        return "dateline"
    if res["fused"].match(after):
        return None
    before = text[max(0, hit.start - 6): hit.start]
    if res["slogan"].search(before):
        return None
    if _inside_book_title(text, hit.start, hit.end, books):
        return None
    if _in_quoted_name(text, hit.start, hit.end) or _after_glued_prefix(text, hit.start):
        return None
    if _in_zone_name(text, hit.end):
        return None
    if _in_org_name(text, hit.end):
        return None
    return "short_form"


def _unique_within(forms, codes) -> "gz.Form | None":
    """The one candidate lying inside the document's own region (朝阳区 in a 北京 report), if any."""
    if len(forms) < 2 or not codes:
        return None
    inside = []
    for f in forms:
        code = f.region.adcode or ""
        for c in codes:
            prefix = c[:2] if c.endswith("0000") else c[:4] if c.endswith("00") else c
            if code.startswith(prefix):
                inside.append(f)
                break
    return inside[0] if len(inside) == 1 else None


def _municipal_district(r) -> bool:
    """A district of 北京/天津/上海/重庆, whose city entry only repeats the province."""
    parent = gz.get(r.parent_adcode) if r.parent_adcode else None
    prov = gz.get(r.province_adcode) if r.province_adcode else None
    return bool(parent and prov and parent.level == "city" and parent.name == prov.name)


def _resolve_in_chain(forms, prev: Mention | None, hit: _Hit):
    """In an address chain (长春市朝阳区) the region right before decides among same-name places."""
    if prev is None or prev.end != hit.start or not prev.adcode or len(forms) < 2:
        return None
    code = prev.adcode
    prefix = code[:2] if code.endswith("0000") else code[:4] if code.endswith("00") else code
    inside = [f for f in forms if f.region.adcode and f.region.adcode.startswith(prefix)
              and f.region.adcode != code]
    return inside[0] if len(inside) == 1 else None


@dataclass(frozen=True, slots=True)
class _Candidate:
    """A gazetteer hit that passed every test that does not depend on the document's region."""

    hit: _Hit
    full: bool
    forms: tuple  # the forms of the hit's type (full or short)
    rule: str
    mention: Mention | None = None  # the final mention of an unlisted government name (no resolution needed)


def extract_regions(text: str, meta=None) -> list[Mention]:
    """Region mentions in normalized ``text`` (see the module docstring for the rules)."""
    cands, hit_context, full_codes = _region_candidates(text, backend_name())

    # Context: the document's region, then every unambiguous full form and province/city short form.
    home = getattr(meta, "region_adcode", None) if meta is not None else None
    context = list(dict.fromkeys(list(gz.ancestors(home)) + list(hit_context))) if home else list(hit_context)

    home_ctx = gz.ancestors(home) if home else ()
    # a provincial report names its own counties bare (宜川、平利等5个县区; 推动石屏申报历史文化名城)
    home_province = home if home and getattr(meta, "region_level", None) == "province" else None
    out: list[Mention] = []
    for c in cands:
        if c.mention is not None:
            out.append(c.mention)
            continue
        prev = out[-1] if out else None
        h, full, forms, rule = c.hit, c.full, c.forms, c.rule
        if not full:
            # a bare county name needs its city/province in context or its full form in the text
            plausible = [f for f in forms if f.region.level != "county"
                         or f.region.adcode in full_codes
                         or f.region.parent_adcode in context
                         or (_municipal_district(f.region) and f.region.province_adcode in context)
                         or (home_province is not None and f.region.province_adcode == home_province)]
            if not plausible:
                continue
            forms = plausible
        f = (_resolve_in_chain(forms, prev, h) or _unique_within(forms, home_ctx)
             or gz.resolve(forms, context))
        if f is None:
            # ambiguous: keep full forms without a code, drop bare names
            if not full:
                continue
            levels = {g.region.level for g in forms}
            out.append(Mention(kind="region", text=h.text, start=h.start, end=h.end, rule=rule,
                               level=levels.pop() if len(levels) == 1 else None))
            continue
        r = f.region
        out.append(Mention(kind="region", text=h.text, start=h.start, end=h.end, rule=rule,
                           adcode=r.adcode, level=r.level))
    return out


@lru_cache(maxsize=2)  # meta, then extraction, of one text; no more (a cached text stays in memory)
def _region_candidates(text: str, backend: str) -> tuple[tuple[_Candidate, ...], tuple[str, ...], frozenset[str]]:
    """The part of :func:`extract_regions` that does not depend on the document's region, once per text.

    :func:`pipeline.docmeta.document_meta` reads the regions of a text without its meta and extraction
    reads them again with it; the gazetteer scan, the segmenter checks and the name tests are the same
    both times. Returns the candidates in text order, the context codes the hits give (before the home
    region's) and the codes written in full. ``backend`` (the segmenter) is part of the key.
    """
    hits = _scan(text)
    unlisted = _unlisted_names(text)
    if unlisted:
        extra = []
        for name in sorted(unlisted):
            i = text.find(name)
            while i >= 0:
                extra.append(_Hit(i, i + len(name), name, ()))
                i = text.find(name, i + len(name))
        taken = SpanIndex((h.start, h.end) for h in extra)
        hits = [h for h in hits if not taken.overlaps(h.start, h.end)] + extra
        hits.sort(key=lambda h: h.start)
    stop = gz.short_stoplist()
    books = [(m.start(), m.end()) for m in _BOOK.finditer(text)]
    starts = {h.start for h in hits if h.text not in stop}
    ends = {h.end for h in hits if h.text not in stop}

    context: list[str] = []
    full_codes: set[str] = set()
    for h in hits:
        if not h.forms:
            continue
        f = gz.resolve(h.forms, None)
        if f is None:
            continue
        r = f.region
        if h.is_full or (r.level in ("province", "city") and h.text not in stop):
            if r.adcode:
                context += list(gz.ancestors(r.adcode))
                if h.is_full:
                    full_codes.add(r.adcode)
            elif r.province_adcode:
                context.append(r.province_adcode)

    out: list[_Candidate] = []
    for h in hits:
        if not h.forms:  # an unlisted government name (天城县)
            if _in_org_name(text, h.end):
                continue
            level = "county" if h.text.endswith(("县", "区")) else "city"
            out.append(_Candidate(h, True, (), "region.unlisted",
                                  Mention(kind="region", text=h.text, start=h.start, end=h.end,
                                          rule="region.unlisted", level=level)))
            continue
        full = h.is_full
        forms = tuple(f for f in h.forms if f.form == ("full" if full else "short"))
        if not full and h.text in stop:
            continue
        # a full name of three or more characters stands anywhere; others must sit on word boundaries,
        # where a neighbouring place name is a boundary too (山西太原 → 山西 + 太原)
        if not (full and len(h.text) >= 3):
            hit_bounds = frozenset(({h.start} & ends) | ({h.end} & starts))
            if not _token_aligned(text, h.start, h.end, hit_bounds):
                continue
        if full:
            if _in_org_name(text, h.end):
                continue
            rule = "region.new_area" if any(f.region.level == "new_area" for f in forms) else "region.full_form"
        else:
            why = _short_stands_alone(text, h, books)
            if why is None:
                continue
            rule = "region.dateline" if why == "dateline" else "region.short_form"
        out.append(_Candidate(h, full, forms, rule))
    return tuple(out), tuple(dict.fromkeys(context)), frozenset(full_codes)


def _drop_fused_short_forms(found: list[Mention], names: list[Mention]) -> list[Mention]:
    """Regions without the short forms fused into a project or mechanism name: anywhere in a project
    (天城工业园区, 送电江西工程, 日照至五莲 — NOTES: fused into a proper name), strictly inside a mechanism
    (“飞地研发、江西转化”; 南昌都市圈县区结对机制 opens with a place before an area word and keeps it).
    Full forms count everywhere (GUIDELINES → region)."""
    spans = sorted((m.start - (m.kind == "project"), m.end) for m in names)
    if not spans:
        return found
    starts = [a for a, _ in spans]
    out = []
    for r in found:
        if r.rule == "region.short_form":
            i = bisect.bisect_right(starts, r.start)
            if any(a < r.start and r.end <= b for a, b in spans[max(0, i - 8):i]):
                continue
        out.append(r)
    return out


def extract_entities(text: str, *, meta=None) -> list[Mention]:
    """Region, project and mechanism mentions of normalized ``text``, in reading order.

    ``meta`` is the document's :class:`~pipeline.docmeta.DocMeta` (or None): its region resolves
    ambiguous place names. Mentions of different kinds may nest (a project containing a region);
    at one start the container comes first.
    """
    from .mechanisms import extract_mechanisms
    from .projects import extract_projects

    names = extract_projects(text) + extract_mechanisms(text)
    found = _drop_fused_short_forms(extract_regions(text, meta), names)
    found += names
    found.sort(key=lambda m: (m.start, -(m.end - m.start), m.kind))
    return found
