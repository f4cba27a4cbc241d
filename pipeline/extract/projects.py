"""Project mentions by rule: named construction/investment projects, facilities, parks, programmes.

Rules (ids as in ``rules/project.yaml``), in order of trust:

- ``project.list_before_deng`` — the items of an enumeration closed by 等(N个)(…)项目/工程
  (“加快锂动芯二期、动力科技、智能制造产业园等项目落地建设”): each item as written, the first item
  cut after the governing verb.
- ``project.list_shared_suffix`` — an enumeration whose last item carries the shared 项目
  (“竹浆纸一体化、糯租水电站项目建设” → 竹浆纸一体化, 糯租水电站).
- ``project.list_with_suffixed_items`` — an enumeration closed by 等 in which at least two items end
  like project names (科创大厦、傲景观澜、洪庄四期等…).
- ``project.quoted`` — a quoted name with a project suffix, or a quoted programme before 工程/计划
  (“竹浆纸一体化项目”, “双百”工程).
- ``project.programme`` — numeral programme names (百大项目, 百千万工程).
- ``project.suffix`` — a name ending in a facility or project word (水电站, 水库, 公路, 产业园,
  工程, 项目 …) whose left edge is found with the segmenter, kept only when it is specific: it holds
  a proper name (a place-bound facility 乐山机场, a person or brand word, a word the dictionary does
  not know, digits or Latin letters), opens with a full region name, or names a works phase
  (…迁建项目, …二期工程).
- ``project.enumeration`` — 、-separated names ending in facility words (弥师路、锁平高速公路),
  each item taken whole.
- ``project.repeat`` — a later occurrence of a name found by the rules above.

The left edge of a name is the hard part: :func:`trim_left` walks the jieba words right to left and
stops at a governing verb (``rules/lexicons/stop_verbs.txt``: 加快, 推进, 新建 …), a function word,
a count (22个…), 、 or clause punctuation; a short parenthetical or quoted word inside a list item
(绵遂资内铁路（遂内段）, “四好农村路”提升改造) is stepped over.

Generic phrases (重点项目, 基础设施建设) and plans/documents (《…方案》, …规划, 项目库) are never projects;
a name right after a count (1819个…工程) is that count's object, not a project.
"""
from __future__ import annotations

import bisect
from functools import lru_cache

import regex

from .. import rules_dir
from ..mention import Mention
from ..rules import load_yaml, rule_file
from ..segment import backend_name, posseg

__all__ = ["extract_projects", "trim_left", "lexicon", "has_proper_name", "Spans"]

CLAUSE_PUNCT = "，,。；;：:！!？?\n\r（(）)“”\"《》【】[]〔〕…—"
_CLAUSE_RE = regex.compile("[" + regex.escape(CLAUSE_PUNCT) + r"\s]")
_COUNT_BEFORE = regex.compile(r"(?:\d+(?:\.\d+)?|[一二三四五六七八九十百千万两]+)(?:个|项|批|家|座|条|所|处)$")
_COUNT_ANY = regex.compile(r"(?:\d+(?:\.\d+)?|[一二三四五六七八九十百千万两几]+)(?:个|项|批|家|座|条|所|处|类)")
_NUM_CLASSIFIER = regex.compile(r"^(?:\d+(?:\.\d+)?|[一二三四五六七八九十百千万两几]+)(?:个|项|批|家|座|条|所|处|类)")
_BOOK = regex.compile(r"《[^《》\n]{1,80}》")

_CFG = load_yaml(rule_file("project"))
_LIST_TAIL = regex.compile(_CFG["list_tail"])
_SHARED_TAIL = regex.compile(r"项目(?=建设|的|前期|所需|进展|实施|开工|落地)")
_DENG = regex.compile(r"等(?=[\p{Han}])")

SUFFIXES = tuple(_CFG["suffixes"])
STRONG_ITEM_SUFFIX = regex.compile(_CFG["strong_item_suffix"])
_SUFFIX_RE = regex.compile("|".join(map(regex.escape, SUFFIXES)))
_QUOTED = regex.compile(r"“(?P<q>[^“”\n]{2,30})”(?P<tail>工程|计划|项目|(?P<named>\p{Han}{2,8}?)(?:工程|计划)(?!书))?")
_PROGRAMME = regex.compile(_CFG["programme"])
_NUMERAL_START = regex.compile(r"^[双两一二三四五六七八九十百千万]")
_PLAN_WORDS = regex.compile(_CFG["plan_words"])
_BAD_NEXT = regex.compile(_CFG["bad_next"])
_ASPIRATION_BEFORE = regex.compile(_CFG["aspiration_before"])
_PROPER_TAGS = {"ns", "nr", "nrt", "nz", "nrfg", "eng", "ng"}

_ROUTE_LIST = regex.compile(r"(?P<items>\p{Han}{2,12}(?:、\p{Han}{2,8}){1,8}?)(?P<suf>" + _CFG["route_suffix"] + r")(?![\p{Han}]{0,2}(?:网|规划))")
_ROUTE_SUFFIX = regex.compile(_CFG["route_suffix"])
_LINE = regex.compile(r"[^\n]+")
_ITEM_JOINT = regex.compile(r"[、和及]")
_PROGRAMME_VERB = regex.compile(_CFG["programme_verb"])
_ADVERBIAL = frozenset({"高质量", "高标准", "高水平", "高起点", "全力", "全面", "加快", "加速", "大力", "积极", "有序", "稳步"})
_NAMED_PROGRAMME = regex.compile(r"(?P<n>\p{Han}{4,14}?(?:工程|计划))(?![\p{Han}]{0,1}(?:书|奖|库))")
_NOT_PROGRAMME = regex.compile(r"(?:行动计划|工作计划|实施计划|投资计划|发展计划|建设计划|年度计划|[、和及与])")
_LEAD_WORKS_VERB = regex.compile(r"(?:改扩建|扩建|改建|新建|续建|开工|开建|建成|推进|加快)")
# a works word right after a facility (…机场改扩建, …电厂扩建) belongs to the project name
_WORKS_AFTER = regex.compile(r"(?:改扩建|扩建|迁建|改建)(?!工程|项目)")
_NOUN_HEAD = frozenset({"工程", "计划"})
_PAREN_BEFORE = regex.compile(r"[（(][^（()）\n，,。；;]{1,12}[）)]$")
# a named works phase or type makes a long name specific (…气田开发项目, …疾病控制中心迁建项目)
_SPECIFIC_WORKS = regex.compile(r"(?:迁建|扩建|改扩建|技改|开发|[一二三四五六七八九]期)(?:项目|工程)$")
_PHASE_INSIDE = regex.compile(r"[一二三四五六七八九]期(?=\p{Han}{0,4}$)")  # 滇中引水二期骨干工程
_FULL_REGION_START = regex.compile(r"^\p{Han}{2,6}?(?:省|市|县|区|州|自治州|新区)")
_QUOTE_BEFORE = regex.compile(r"“[^“”\n，,。；;、]{1,14}”$")
_PAREN_END = regex.compile(r"[（(][^（()）\n]{1,12}[）)]$")
_INNER_GENERIC = regex.compile(r"重点工程|重大工程|重点项目|重大项目|标志性工程")
_FINANCE_WORDS = regex.compile(r"债券|专项债|基金|贷款项目")
_LATIN_OR_DIGIT = regex.compile(r"[A-Za-z0-9×]")
_ALL_HAN = regex.compile(r"\p{Han}+")
_SECTOR_PROJECT = regex.compile(r"(?P<s>\p{Han}{2,6}?)(?:类)?(?:项目|工程)")
_JOINED_NAMES = regex.compile(r"(?:项目|工程)[和及与、]")


def _read_list(name: str) -> frozenset[str]:
    path = rules_dir() / "lexicons" / name
    out = set()
    for line in path.read_text(encoding="utf-8").splitlines():
        w = line.split("#", 1)[0].strip()
        if w:
            out.add(w)
    return frozenset(out)


@lru_cache(maxsize=None)
def lexicon(name: str) -> frozenset[str]:
    """A word list from ``rules/lexicons/<name>.txt`` (read once)."""
    return _read_list(f"{name}.txt")


@lru_cache(maxsize=1)
def _has_word():
    try:
        import rjieba

        return rjieba.has_word
    except (ImportError, AttributeError):  # pragma: no cover
        import jieba

        d = jieba.dt
        d.check_initialized()
        return lambda w: d.FREQ.get(w, 0) > 0


@lru_cache(maxsize=1)
def _stop_patterns():
    """``(long stops, compound pattern, long stops by first character)``; each tuple longest word first."""
    long_stops = tuple(sorted((w for w in lexicon("stop_verbs") if len(w) >= 2), key=lambda w: (-len(w), w)))
    compound = regex.compile(r"\p{Han}(?:" + "|".join(map(regex.escape, long_stops)) + r")$")
    by_first: dict[str, tuple[str, ...]] = {}
    for w in long_stops:
        by_first[w[0]] = by_first.get(w[0], ()) + (w,)
    return long_stops, compound, by_first


@lru_cache(maxsize=1)
def _generic_tail_re():
    gen = sorted((g for g in lexicon("project_generic") if len(g) >= 3), key=lambda w: (-len(w), w))
    return regex.compile(r"^.{0,2}(?:" + "|".join(map(regex.escape, gen)) + r")$")


def tagged(text: str) -> tuple[tuple[str, str], ...]:
    """``posseg(text)`` as a tuple, remembered: the rules tag the same short segments again and again
    (each suffix of a clause, each list item), and the segmenter is the costly part."""
    return _tagged(text, backend_name())


@lru_cache(maxsize=8192)
def _tagged(text: str, backend: str) -> tuple[tuple[str, str], ...]:
    return tuple((w, t) for w, t in posseg(text, backend=backend))


def trim_left(segment: str) -> int:
    """Offset in ``segment`` where a name ending at its end begins.

    Walks the words right to left and stops at the first governing verb, function word, 、 or
    count (``加快锂动芯二期`` → 2; ``装机7.5万千瓦的糯租水电站`` → after 的). A listed verb used as a
    noun (启动区's 启动, tagged ``vn``) does not stop the walk. Remembered per segment (and segmenter).
    """
    return _trim_left(segment, backend_name())


@lru_cache(maxsize=8192)
def _trim_left(segment: str, backend: str) -> int:
    floor = 0
    for m in _COUNT_ANY.finditer(segment):
        floor = m.end()
    cut_at = segment.rfind("、")
    floor = max(floor, cut_at + 1)
    words = _tagged(segment, backend)
    stops = lexicon("stop_verbs")
    long_stops, compound_re, stops_by_first = _stop_patterns()
    pos = len(segment)
    for i in range(len(words) - 1, -1, -1):
        w, tag = words[i]
        start = pos - len(w)
        if start < floor:
            break
        if (tag == "f" and len(w) == 1 and w in "中上里内外下" and i > 0
                and len(words[i - 1][0]) >= 2 and words[i - 1][1].startswith(("n", "vn"))):
            break  # 重点工程中东海大道: 中 closes a category phrase
        if w == "至" and 0 < i < len(words) - 1 and _placeish(words[i - 1]) and len(segment) - pos >= 2:
            pos = start
            continue  # 周至至乾县, 西安至永寿: a route from A to B is one name
        if (tag == "vn" and w in stops and i > 0
                and (words[i - 1][1] in ("d", "ad", "a", "v") or words[i - 1][0] in _ADVERBIAL)):
            break  # 高质量建设黄河口国家公园, 提速建设藻渡水库: 建设 is the verb here, not part of a name
        if (i == len(words) - 2 and i > 0 and len(w) >= 2 and words[-1][0] in _NOUN_HEAD
                and words[i - 1][1].startswith("n") and len(words[i - 1][0]) >= 2):
            pos = start
            continue  # 粮食单产提升工程: a verb between a noun and the head word is part of the name
        verbish = tag != "vn" or len(w) == 1
        compound = len(w) >= 3 and compound_re.search(w) is not None
        if ((verbish and (w in stops or w.endswith(long_stops))) or compound or w in ("的", "之")
                or (tag in ("p", "c", "u", "uj", "r", "ul", "uz", "y", "e")
                    and (len(w) == 1 or w[-1] in "及和与或的之" or _has_word()(w)))
                or (tag == "d" and len(w) >= 2 and _has_word()(w) and _modifies_verb(words, i))
                or _CLAUSE_RE.fullmatch(w[0])):
            break
        pos = start
    pos = max(pos, floor)
    # a listed verb left at the very start (建设绵遂资内铁路 after 开工) is not part of the name
    while pos < len(segment):
        head = next((w for w in stops_by_first.get(segment[pos], ()) if segment.startswith(w, pos)), None)
        if head is None or len(segment) - pos - len(head) < 2:
            break
        pos += len(head)
    return pos


def _modifies_verb(words: list[tuple[str, str]], i: int) -> bool:
    """Whether the adverb ``words[i]`` is followed by a verb or adjective (an adverb before a noun, as
    jieba tags 高新 in 有色高新材料中试线, is part of a name)."""
    return i + 1 >= len(words) or words[i + 1][1][:1] in ("v", "a", "d", "p")


def _placeish(word: tuple[str, str]) -> bool:
    """A word that can end or start a route name (a place, a name jieba does not know, a region form)."""
    w, tag = word
    from .. import regions as gz

    return tag in ("ns", "nr", "nz", "t", "j") or bool(gz.candidates(w)) or (
        len(w) >= 2 and _ALL_HAN.fullmatch(w) is not None and not _has_word()(w))


def has_proper_name(name: str, suffix: str = "") -> bool:
    """Whether ``name`` contains a proper name: a place/person/brand word, an unknown word,
    digits or Latin letters (虹溪排洪隧洞工程 yes, 厂区场地平整工程 no)."""
    if _LATIN_OR_DIGIT.search(name):
        return True
    has_word = _has_word()
    from .. import regions as gz

    stop = gz.short_stoplist()
    pos = 0
    for w, tag in tagged(name):
        pos += len(w)
        if gz.candidates(w) and w not in stop:
            if _FACILITY_AFTER_REGION.match(name + suffix, pos):
                return True  # 红河烟厂, 乐山机场: the place is part of a proper name
            continue  # a place name locates a project but does not name it
        if tag in _PROPER_TAGS:
            return True
        if len(w) >= 2 and _ALL_HAN.fullmatch(w) and not has_word(w):
            return True
    return False


@lru_cache(maxsize=16384)  # names recur (each suffix match of a clause tests its name and core)
def _is_generic(name: str) -> bool:
    gen = lexicon("project_generic")
    sectors = lexicon("sectors")
    if name in gen or name in sectors:
        return True
    m = _SECTOR_PROJECT.fullmatch(name)
    if m and m.group("s") in sectors:
        return True
    # a generic head with only a level/scale modifier in front (省级重点项目, 新增重大项目)
    return _generic_tail_re().match(name) is not None


#: The characters for which ``str.isspace()`` is true (tests/test_entities.py checks the list).
SPACES = ("\t\n\x0b\x0c\r\x1c\x1d\x1e\x1f \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007"
          "\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000")
_CLAUSE_STOP_BACK = regex.compile("(?r)[" + regex.escape(CLAUSE_PUNCT + SPACES) + "]")  # searches right to left


def _clause_start(text: str, i: int, floor: int = 0) -> int:
    """Index just after the last clause punctuation before ``i``.

    A short parenthetical inside a name (绵遂资内铁路（遂内段）) is stepped over, not a boundary.
    """
    j = i - 1
    while j >= floor:
        m = _CLAUSE_STOP_BACK.search(text, floor, j + 1)
        if m is None:
            return floor
        j = m.start()
        ch = text[j]
        if ch in "）)":
            m = _PAREN_BEFORE.search(text, max(floor, j - 14), j + 1)
            if m:
                j = m.start() - 1
                continue
        if ch == "”" and j + 1 < len(text) and text[j + 1] not in CLAUSE_PUNCT:
            m = _QUOTE_BEFORE.search(text, max(floor, j - 16), j + 1)
            if m:  # “四好农村路”提升改造: a quoted word inside a list item
                j = m.start() - 1
                continue
        break
    return j + 1


def _route_lists(text: str):
    """The matches of ``_ROUTE_LIST.finditer(text)``, looked for only in lines holding a 、 and a route
    suffix (a match is Han characters and 、 ending in one; nothing it reads crosses a line end)."""
    for ln in _LINE.finditer(text):
        a, b = ln.span()
        if text.find("、", a, b) >= 0 and _ROUTE_SUFFIX.search(text, a, b):
            yield from _ROUTE_LIST.finditer(text, a, b)


def _route_item(item: str) -> bool:
    """An item of a route list: a short abbreviation jieba does not know (莱临), or A至B (日照至五莲)."""
    if not (2 <= len(item) <= 12) or not _ALL_HAN.fullmatch(item) or _is_generic(item):
        return False
    if "至" in item[1:-1]:
        return True
    return len(item) <= 4 and not _has_word()(item) and len(tagged(item)) > 1 or (
        len(item) <= 4 and not _has_word()(item))


def _valid_item(item: str) -> bool:
    if not (2 <= len(item) <= 40):
        return False
    if _NUM_CLASSIFIER.match(item) or _PLAN_WORDS.search(item) or "等" in item:
        return False
    if not _ALL_HAN.search(item):
        return False
    return not _is_generic(item)


def _long_enough_after(text: str, i: int, end: int) -> bool:
    """Whether the part after a 和/及 at ``i - 1`` can be a name of its own (京港澳和沪昆扩容), not a
    two-character tail of one name (新能源动力和储能)."""
    j = i
    while j < end and text[j] not in "、和及":
        j += 1
    return j - i >= 3


def _item_cuts(text: str, seg_start: int, seg_end: int) -> list[tuple[int, int]]:
    """``text[seg_start:seg_end]`` cut at every 、 and at a 和/及 before a part long enough to be a name."""
    spans, s = [], seg_start
    for m in _ITEM_JOINT.finditer(text, seg_start, seg_end):
        i = m.start()
        if text[i] == "、" or _long_enough_after(text, i + 1, seg_end):
            spans.append((s, i))
            s = i + 1
    if seg_start <= seg_end:
        spans.append((s, seg_end))
    return spans


def _split_items(text: str, seg_start: int, seg_end: int) -> list[tuple[int, int]]:
    """Spans of the 、-separated items of ``text[seg_start:seg_end]``; the first one trimmed."""
    spans = _item_cuts(text, seg_start, seg_end)
    if spans:
        a, b = spans[0]
        paren = _PAREN_END.search(text, a, b)
        core_end = paren.start() if paren else b
        a2 = a + trim_left(text[a:core_end])
        q = _QUOTE_BEFORE.search(text, max(a, a2 - 16), a2) if a2 > a and text[a2 - 1] == "”" else None
        spans[0] = (q.start() if q else a2, b)  # 推进“源网荷储”一体工程: the quoted word opens the name
    out = []
    for k, (a, b) in enumerate(spans):
        while a < b and text[a] in " \t":
            a += 1
        lead = _LEAD_WORKS_VERB.match(text, a, b) if k else None
        if lead and b - lead.end() >= 3:
            a = lead.end()  # 开工A、改扩建B等高速公路: B's own verb is not part of its name
        if a < b:
            out.append((a, b))
    return out


class Spans:
    """Non-overlapping ``[start, end)`` spans kept sorted, for O(log n) overlap and containment tests."""

    def __init__(self, spans=()) -> None:
        self._starts: list[int] = []
        self._ends: list[int] = []
        for a, b in sorted(spans):
            if not self.overlaps(a, b):
                self.add(a, b)

    def overlaps(self, a: int, b: int) -> bool:
        i = bisect.bisect_left(self._starts, b)  # spans starting before b
        return i > 0 and self._ends[i - 1] > a

    def contains(self, a: int, b: int) -> bool:
        """Whether ``[a, b)`` lies inside one span."""
        i = bisect.bisect_right(self._starts, a)
        return i > 0 and self._ends[i - 1] >= b

    def add(self, a: int, b: int) -> None:
        i = bisect.bisect_left(self._starts, a)
        self._starts.insert(i, a)
        self._ends.insert(i, b)


_ITEM_END = regex.compile("(?:" + "|".join(map(regex.escape, SUFFIXES)) + r"|路|[一二三四五六七八九十\d]期)$")
_FACILITY_AFTER_REGION = regex.compile(r"\p{Han}{0,2}?(?:厂|矿|电站|水库|大桥|机场|港)")
_MODIFIERS = regex.compile(
    r"^(?:全[省市州县区]|我[省市州县区]|本[省市州县区]|[省市州县区](?:级|重点)?|\d{4}年|今年|明年|去年|"
    r"新开工|新建|计划|储备|新增|在建|续建|重点|重大|省市|国家|全年|年度|新一轮|一批|全域)+")


@lru_cache(maxsize=16384)
def _strip_modifiers(name: str) -> str:
    """``name`` without leading place, year and status words (全市2019年重点项目 → 项目)."""
    prev = None
    while prev != name:
        prev = name
        name = _MODIFIERS.sub("", name)
        for f in _leading_region(name):
            name = name[len(f):]
    return name


def _leading_region(name: str) -> list[str]:
    from .. import regions as gz

    stop = gz.short_stoplist()
    for n in range(min(9, len(name) - 1), 1, -1):
        forms = gz.candidates(name[:n])
        if forms and (name[:n] not in stop or any(f.form == "full" for f in forms)):
            if _FACILITY_AFTER_REGION.match(name, n):
                return []  # 红河烟厂: the place is part of a proper name
            return [name[:n]]
    return []


def _opens_with_place(stem: str) -> bool:
    """Whether a name stem opens with a city or county short form followed by more words (怀化国际陆港:
    jieba tags 怀化 a verb, so :func:`has_proper_name` misses it); ordinary-word forms are not places."""
    from .. import regions as gz

    stop = gz.short_stoplist()
    return any(len(stem) - k >= 2 and stem[:k] not in stop and any(f.form == "short" for f in gz.candidates(stem[:k]))
               for k in (2, 3))


def _suffix_candidates(text: str, m) -> list[tuple[int, int, str]]:
    """Project names ending with the suffix match ``m`` (plus earlier items of its enumeration)."""
    suffix, b = m.group(0), m.end()
    if text.startswith("项目", b) and suffix != "项目":
        return []
    if _BAD_NEXT.match(text[b: b + 3]):
        return []
    clause = max(_clause_start(text, m.start()), m.start() - 40)
    seg = text[clause: m.start()]
    if not seg:
        return []
    comma = seg.rfind("、")
    item_start = clause + comma + 1
    out = []
    if comma >= 0:
        # an enumeration of names (弥师路、锁平高速公路; …扩建工程、利用…治理项目): whole items
        prev_items = _split_items(text, clause, clause + comma)
        named = [(x, y) for x, y in prev_items if _ITEM_END.search(text[x:y]) and _valid_item(text[x:y])]
        if named and named[-1][1] == clause + comma:
            whole = text[item_start:b]
            items = named + [(item_start, b)]
            if any(has_proper_name(_strip_modifiers(text[x:y])) for x, y in items) and _valid_item(whole):
                for x, y in items:
                    if not _is_generic(_strip_modifiers(text[x:y]) or text[x:y]):
                        out.append((x, y, "project.enumeration"))
                return out
    a = clause + trim_left(seg)
    paren = _PAREN_BEFORE.search(text, max(clause, a - 14), a) if a > clause and text[a - 1] in "）)" else None
    if paren and paren.start() > clause:
        a2 = clause + trim_left(text[clause: paren.start()])
        if paren.start() - a2 >= 2:
            a = a2  # 金华（义乌）中欧班列集结中心: a short parenthetical inside the name is stepped over
    inner = None
    for inner in _INNER_GENERIC.finditer(text, a, m.start()):
        pass
    if inner is not None and m.start() - inner.end() >= 2:
        a = inner.end()  # …主通道重点工程隆泸叙铁路 → 隆泸叙铁路
    name = text[a:b]
    if _FINANCE_WORDS.search(name) or _INNER_GENERIC.search(name[-6:]) and _INNER_GENERIC.search(name).end() == len(name):
        return []
    core = _strip_modifiers(name)
    if len(name) - len(suffix) < 2 or len(core) <= len(suffix) or _is_generic(name) or _is_generic(core):
        return []
    if _PLAN_WORDS.search(name) or _COUNT_BEFORE.search(text[max(0, a - 8):a]):
        return []
    if _JOINED_NAMES.search(name):
        return []
    if _ASPIRATION_BEFORE.search(text[max(0, a - 4):a]):
        return []
    located = name != core and _FULL_REGION_START.match(name) and len(core) - len(suffix) >= 4
    works = _SPECIFIC_WORKS.search(core) or _PHASE_INSIDE.search(core, 0, len(core) - len(suffix))
    specific = works is not None and works.start() >= 4
    route = "至" in name[1: -len(suffix) - 1] and suffix.endswith(("路", "铁", "速", "线", "际"))  # 日照至五莲铁路
    if (not located and not specific and not route and not has_proper_name(core[: -len(suffix)], suffix)
            and not _opens_with_place(name[: -len(suffix)])):
        return []
    works = _WORKS_AFTER.match(text, b)
    return [(a, works.end() if works else b, "project.suffix")]  # 义乌机场改扩建: the works are the project


def extract_projects(text: str) -> list[Mention]:
    """Project mentions of normalized ``text`` (see the module docstring for the rules)."""
    books = Spans((m.start(), m.end()) for m in _BOOK.finditer(text))
    found: dict[tuple[int, int], str] = {}
    taken = Spans()

    def add(a: int, b: int, rule: str) -> None:
        if a >= b or books.contains(a, b):
            return
        if taken.overlaps(a, b):
            return
        taken.add(a, b)
        found[(a, b)] = rule

    # 1. enumerations closed by 等…项目/工程
    for m in _LIST_TAIL.finditer(text):
        if len(m.group("mod")) > 8 or _CLAUSE_RE.search(m.group("mod")):
            continue
        deng = m.start()
        seg_start = _clause_start(text, deng)
        items = _split_items(text, seg_start, deng)
        good = [(a, b) for a, b in items if _valid_item(text[a:b])]
        if len(good) * 2 < len(items):
            continue  # mostly sectors or generic words (房地产、金融等项目)
        for a, b in good:
            add(a, b, "project.list_before_deng")

    # 2. enumerations sharing a trailing 项目 (A、B项目建设)
    for m in _SHARED_TAIL.finditer(text):
        seg_start = _clause_start(text, m.start())
        seg = text[seg_start:m.start()]
        if "、" not in seg or "等" in seg:
            continue
        items = _split_items(text, seg_start, m.start())
        if any(trim_left(text[a:b]) for a, b in items[1:]):
            continue  # later items open with a verb: a list of actions, not of names
        if len(items) >= 2 and all(_valid_item(text[a:b]) and len(text[a:b]) >= 3 for a, b in items):
            for a, b in items:
                add(a, b, "project.list_shared_suffix")

    # 3. enumerations closed by 等 whose items end like project names
    for m in _DENG.finditer(text):
        seg_start = _clause_start(text, m.start())
        seg = text[seg_start:m.start()]
        if seg.count("、") < 1:
            continue
        items = _split_items(text, seg_start, m.start())
        strong = [1 for a, b in items if STRONG_ITEM_SUFFIX.search(text[a:b])]
        if len(items) >= 2 and len(strong) >= 2 and all(_valid_item(text[a:b]) for a, b in items):
            for a, b in items:
                add(a, b, "project.list_with_suffixed_items")

    # 3b. route lists sharing the last item's facility word (莱临、德商、日照至五莲、聊邯长铁路)
    for m in _route_lists(text):
        seg_start = _clause_start(text, m.start("suf"))
        if seg_start > m.start("items") or "等" in text[seg_start:m.end()]:
            continue
        items = _split_items(text, seg_start, m.start("suf"))
        if len(items) < 2 or not all(_route_item(text[a:b]) for a, b in items):
            continue
        for k, (a, b) in enumerate(items):
            add(a, m.end() if k == len(items) - 1 else b, "project.route_list")

    # 4. quoted names
    for m in _QUOTED.finditer(text):
        q, tail = m.group("q"), m.group("tail")
        after = text[m.end(): m.end() + 3]
        if _BAD_NEXT.match(after) or "，" in q or ("、" in q and tail not in ("工程", "计划")):
            continue
        named = m.group("named")
        if named and (_PLAN_WORDS.search(named) or _INNER_GENERIC.search(tail) or _is_generic(tail)
                      or tail.endswith(("行动计划", "工作计划", "实施计划", "投资计划")) or _CLAUSE_RE.search(named)
                      or trim_left(named)):
            continue  # “十四五”重大工程, “两新”工作计划, “双一流”…行动计划: no programme name
        if named and (_NUMERAL_START.match(q) or q[:1].isdigit() or len(q) >= 2):
            add(m.start(), m.end(), "project.quoted")  # “2152”龙头引育工程
        elif tail in ("工程", "计划") and (_NUMERAL_START.match(q) or len(q) >= 4) and not _PLAN_WORDS.search(q):
            add(m.start(), m.end(), "project.quoted")
        elif (tail is None and q.endswith(("计划", "工程")) and len(q) >= 4 and not _PLAN_WORDS.search(q[:-2])
              and not q.endswith(("行动计划", "工作计划", "实施计划", "投资计划"))):
            add(m.start("q"), m.end("q"), "project.quoted")  # “网链共享计划”, “登峰计划”
        elif tail is None and _SUFFIX_RE.search(q[-4:]) and q.endswith(SUFFIXES) and not _is_generic(q):
            add(m.start("q"), m.end("q"), "project.quoted")

    # 5. numeral programmes
    for m in _PROGRAMME.finditer(text):
        a, b = m.span("n")
        if _BAD_NEXT.match(text[b: b + 3]) or _COUNT_BEFORE.search(text[max(0, a - 6):a]):
            continue
        add(a, b, "project.programme")

    # 5b. unquoted programmes named right after an implementing verb (实施工业互联网创新工程)
    for v in _PROGRAMME_VERB.finditer(text):
        m = _NAMED_PROGRAMME.match(text, v.end())
        if m is None:
            continue
        a, b = m.span("n")
        name = m.group("n")
        if _SUFFIX_RE.search(name, 0, len(name) - 2) or any(
                name.endswith(g) for g in lexicon("project_generic") if len(g) >= 4):
            continue  # 园区二期配套工程: works of a facility (the suffix rule's business), or a category
        if (_NOT_PROGRAMME.search(name) or _PLAN_WORDS.search(name) or _is_generic(name)
                or _is_generic(_strip_modifiers(name)) or _INNER_GENERIC.search(name) or trim_left(name)):
            continue
        add(a, b, "project.named_programme")

    # 6. names ending in a facility/project word (longest candidates first)
    cands = []
    for m in _SUFFIX_RE.finditer(text):
        cands += _suffix_candidates(text, m)
    cands.sort(key=lambda c: (-(c[1] - c[0]), c[0]))
    for a, b, rule in cands:
        add(a, b, rule)

    # 7. later occurrences of the names found
    names = {text[a:b] for (a, b) in found if b - a >= 3}
    for name in sorted(names, key=lambda n: (-len(n), n)):
        i = text.find(name)
        while i >= 0:
            j = i + len(name)
            if (i, j) not in found and not _COUNT_BEFORE.search(text[max(0, i - 8):i]):
                add(i, j, "project.repeat")
            i = text.find(name, j)

    out = [Mention(kind="project", text=text[a:b], start=a, end=b, rule=r)
           for (a, b), r in found.items()]
    out.sort(key=lambda m: m.start)
    return out
