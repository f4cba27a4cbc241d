"""Mechanism mentions by rule: named working mechanisms, systems, models and policy instruments.

Rules (ids as in ``rules/mechanism.yaml``):

- ``mechanism.quoted`` — a quoted model: one with ``+`` (“互联网+督查”), a numeral work formula
  after 落实/实行… or before 要求/机制 (“四督四保”, “一月一督查”), a quoted enumeration before
  的工作机制/模式, a quoted campaign (…年, …赛, …行动) or any quoted name before 工作/机制/模式/
  活动/要求. The name is taken without its quotes and without a generic trailing head
  (“月调度+季拉练”工作机制 → 月调度+季拉练); a specific head stays (“三个一”定期督导机制).
- ``mechanism.suffix`` — a specific name ending in 制/机制/制度/模式 (首问负责制,
  重点项目运行情况月度分析机制), its left edge found with the segmenter; bare generic terms
  (工作机制, 奖惩机制) are not mentions.
- ``mechanism.shared_suffix`` — short items sharing one head (月调度、季观摩机制 → 月调度、季观摩;
  年中、年末双考核办法 → 年中、年末双考核).
- ``mechanism.list_before_deng`` — the items of “A、B等机制/制度”.
- ``mechanism.financing_model`` — PPP, REITs and 政府与(和)社会资本合作模式.
- ``mechanism.campaign`` — named campaigns: …专项行动, …攻坚行动 (not …行动计划/方案).

Never mechanisms: reforms and systems (…改革, …体制, …体系), funds and loans, platforms, teams,
slogans and labels (六稳, 一带一路), unquoted practices.
"""
from __future__ import annotations

from functools import lru_cache

import regex

from ..mention import Mention
from ..rules import load_yaml, rule_file
from .projects import _QUOTE_BEFORE, Spans, _clause_start, lexicon, tagged, trim_left

__all__ = ["extract_mechanisms"]

_CFG = load_yaml(rule_file("mechanism"))
_BOOK = regex.compile(r"《[^《》\n]{1,80}》")
_QUOTED = regex.compile(r"“(?P<q>[^“”\n]{2,60})”")
_GENERIC_HEAD = regex.compile(_CFG["generic_head"])
_AFTER_OK = regex.compile(r"(?:的)?(?:工作|服务|管理)?(?:机制|模式|制度|要求|活动|行动|工作|办法)")
_BAD_AFTER = regex.compile(_CFG["quoted_bad_after"])
_PROGRAMME_AFTER = regex.compile(_CFG["quoted_programme_after"])
_IMPLEMENT_BEFORE = regex.compile(_CFG["implement_before"])
_NUMERAL = "一二三四五六七八九十两双百千万"
_PACKAGE_FORMULA = regex.compile(rf"^[{_NUMERAL}]+个[{_NUMERAL}]+大$")
_FORMULA = regex.compile(rf"^[{_NUMERAL}][个]?\p{{Han}}{{1,3}}[{_NUMERAL}][个]?\p{{Han}}{{1,4}}(?:[{_NUMERAL}]\p{{Han}}{{1,4}})*$")
_CAMPAIGN_END = regex.compile(r"(?:项目年|\p{Han}年|擂台赛|竞赛|赛|系列行动|专项行动|攻坚行动|行动|活动)$")
_NOT_CAMPAIGN = regex.compile(r"(?:行动计划|行动方案|\d年|[一二三四五六七八九十]五)$")
_BAD_CONTENT = regex.compile(r"(?:改革|体制|体系|基金|规划)$")
_SUFFIX = regex.compile(_CFG["suffix"])
_SHARED = regex.compile(r"(?P<items>[\p{Han}]{2,5}(?:、[\p{Han}]{2,6})+)(?P<head>机制|办法|制度)")
_SHARED_HEAD = regex.compile(r"机制|办法|制度")
_LINE = regex.compile(r"[^\n]+")
# every _SUFFIX match holds 制 (at most two characters in: 责任制) or opens with 模 (模式)
_SUFFIX_ANCHOR = regex.compile(r"[制模]")
_SUFFIX_LEAD = 2
_QUOTED_ITEM = regex.compile(r"“(?P<q>[^“”、\n]{3,12})”")
_LIST_DENG = regex.compile(r"等(?:一系列)?(?:工作)?(?P<head>机制|制度)")
_FIN = regex.compile(_CFG["financing"])
_CAMPAIGN = regex.compile(_CFG["campaign"])
_SINGLE_ZHI_OK = regex.compile(_CFG["single_zhi_heads"])

_DIGIT = regex.compile(r"\d")
_JOINT = regex.compile(r"[、和及](?!.*[、和及])")  # the last list joint before a name
# a campaign year (项目推进年行动), not a duration (长江大保护三年行动: 三年 is how long it runs)
_YEAR_CAMPAIGN = regex.compile(r"(?<=\p{Han}{3})(?<![一二三四五六七八九十两几百]|\d)年(?=活动|行动(?!计划|方案))")
_PACKAGE_LABEL = regex.compile(r"[一二三四五六七八九十百]+大$")
_LABEL = regex.compile(r"^[一二三四五六七八九十两双百千万]+大")  # “三大行动”: a package label
_MONEY_OR_PLATFORM = regex.compile(r"(?:基金|贷|债|平台)$")
_SPECIFIC_HEAD = regex.compile(r"(?P<mid>[\p{Han}]{2,8}?)(?P<h>机制|制度)")
_WORK_MODEL_AFTER = regex.compile(r"的工作(?:机制|模式|方法)")
_LIST_MODEL_AFTER = regex.compile(r"(?:工作)?(?:机制|模式|制度)(?![\p{Han}])|活动|(?:专项|攻坚)?行动(?!计划|方案)")
_MODEL_AFTER = regex.compile(r"(?:工作)?(?:机制|模式|制度)|活动|(?:专项|攻坚)?行动(?!计划|方案)|的工作(?:要求|机制|模式)")
_REFORM_AFTER = regex.compile(r"改革|体制|体系|工作方案|方案")


def _generic(name: str) -> bool:
    gen = lexicon("mechanism_generic")
    if name in gen or name.endswith(("新模式", "新机制", "新制度", "政策机制", "体制机制", "市场化机制")):
        return True
    return _generic_tail_re().match(name) is not None


@lru_cache(maxsize=1)
def _generic_tail_re():
    gen = sorted(lexicon("mechanism_generic"), key=lambda w: (-len(w), w))
    return regex.compile(r"^.{0,2}(?:" + "|".join(map(regex.escape, gen)) + r")$")


def _trim_keep_last_word(seg: str) -> int:
    """Like :func:`trim_left`, but the word right before a campaign's 年 belongs to its name even when it
    is a verb (深化高质量项目推进年活动 → 高质量项目推进年)."""
    words = tagged(seg)
    if len(words) < 2:
        return trim_left(seg)
    head = seg[: len(seg) - len(words[-1][0])]
    return trim_left(head) if len(head) - trim_left(head) >= 2 else trim_left(seg)


def _suffix_matches(text: str):
    """The matches of ``_SUFFIX.finditer(text)``, tried only up to _SUFFIX_LEAD characters before each
    制/模 (its ``\\p{Han}制`` branch otherwise makes every character a start to try)."""
    pos = 0
    while True:
        a = _SUFFIX_ANCHOR.search(text, pos)
        if a is None:
            return
        a = a.start()
        hit = None
        for s in range(max(pos, a - _SUFFIX_LEAD), a + 1):
            hit = _SUFFIX.match(text, s)
            if hit is not None:
                break
        if hit is None:
            pos = a + 1
            continue
        yield hit
        pos = hit.end()


def _shared_heads(text: str):
    """The matches of ``_SHARED.finditer(text)``, looked for only in lines holding a 、 and a head word
    (a match is Han characters and 、; it never crosses a line end)."""
    for ln in _LINE.finditer(text):
        a, b = ln.span()
        if text.find("、", a, b) >= 0 and _SHARED_HEAD.search(text, a, b):
            yield from _SHARED.finditer(text, a, b)


def extract_mechanisms(text: str) -> list[Mention]:
    """Mechanism mentions of normalized ``text`` (see the module docstring for the rules)."""
    books = Spans((m.start(), m.end()) for m in _BOOK.finditer(text))
    not_mech = lexicon("quoted_not_mechanism")
    found: dict[tuple[int, int], str] = {}
    taken = Spans()

    def add(a: int, b: int, rule: str, allow_in_book: bool = False) -> None:
        if a >= b or (not allow_in_book and books.contains(a, b)):
            return
        if taken.overlaps(a, b):
            return
        taken.add(a, b)
        found[(a, b)] = rule

    # 1. quoted models
    for m in _QUOTED.finditer(text):
        q = m.group("q")
        a, b = m.span("q")
        after = text[m.end(): m.end() + 12]
        before = text[max(0, m.start() - 4): m.start()]
        if (q in not_mech or _BAD_AFTER.match(after) or _PROGRAMME_AFTER.match(after) or _BAD_CONTENT.search(q)
                or _DIGIT.search(q)):
            continue
        if _MONEY_OR_PLATFORM.search(q):
            continue
        if "+" in q or "＋" in q:
            add(a, b, "mechanism.quoted", allow_in_book=True)
            continue
        gh = _GENERIC_HEAD.match(after)
        # “三个一”定期督导机制: a specific head joined to the quoted part
        sm = _SPECIFIC_HEAD.match(after)
        if sm and not gh and not (_generic(sm.group(0)) and len(sm.group("mid")) <= 2):
            add(m.start(), m.end() + sm.end(), "mechanism.quoted")
            continue
        if len(q) < 3:
            continue
        if _PACKAGE_FORMULA.match(q):
            continue  # “五个十大”: a package of ten-item lists, a label
        if _FORMULA.match(q) and (_IMPLEMENT_BEFORE.search(before) or _AFTER_OK.match(after)
                                  or after[:1] in "，,。；;、" or before[-1:] in "，,。；;：:\n" or m.start() == 0):
            add(a, b, "mechanism.quoted", allow_in_book=True)
            continue
        formula_items = "、" in q and all(_FORMULA.match(x) for x in q.split("、"))
        if formula_items and (_IMPLEMENT_BEFORE.search(before) or _AFTER_OK.match(after)):
            add(a, b, "mechanism.quoted")  # 实行“一周一调度、一月一督查通报”
            continue
        if "、" in q and (_WORK_MODEL_AFTER.match(after) or _LIST_MODEL_AFTER.match(after)):
            add(a, b, "mechanism.quoted")
            continue
        if (_CAMPAIGN_END.search(q) and not _NOT_CAMPAIGN.search(q) and not _LABEL.match(q)
                and not (q.endswith("年") and tagged(q)[-1][0] != "年")):  # 项目年, not 就地过年
            add(a, b, "mechanism.quoted", allow_in_book=True)
            continue
        if "、" not in q and _MODEL_AFTER.match(after):
            add(a, b, "mechanism.quoted")

    # 2. financing models
    for m in _FIN.finditer(text):
        add(m.start(), m.end() if not m.group(0).startswith("政府") else m.end(),
            "mechanism.financing_model", allow_in_book=True)

    # 3. A、B等机制
    for m in _LIST_DENG.finditer(text):
        seg_start = _clause_start(text, m.start())
        q = _QUOTE_BEFORE.search(text, max(0, seg_start - 17), seg_start) if text[seg_start - 1: seg_start] == "”" else None
        if q:
            seg_start = q.start()  # 用好“分类分层分级”协调、统筹调度等机制: the first item opens with a quote
        seg = text[seg_start: m.start()]
        if "、" not in seg:
            continue
        parts, s = [], seg_start
        for i in range(seg_start, m.start() + 1):
            if i == m.start() or text[i] == "、":
                parts.append((s, i))
                s = i + 1
        for k, (a, b) in enumerate(parts):
            qm = _QUOTED_ITEM.search(text, a, b)
            if qm:  # 编制“市管县用”、人才“县乡村一体化”等机制: the quoted word names the item
                if qm.group("q") not in not_mech and not _BAD_CONTENT.search(qm.group("q")):
                    add(qm.start("q"), qm.end("q"), "mechanism.list_before_deng")
                continue
            if k == 0:
                a += trim_left(text[a:b])
            item = text[a:b]
            # a bare two-character activity (谋划、储备等机制) names no mechanism
            if 3 <= len(item) <= 12 and not _MONEY_OR_PLATFORM.search(item):
                add(a, b, "mechanism.list_before_deng")

    # 4. shared head: 月调度、季观摩机制
    for m in _shared_heads(text):
        seg_start = _clause_start(text, m.start())
        first_end = text.index("、", m.start("items"))
        # the first item loses its governing verb (坚持月调度 → 月调度)
        items_start = seg_start + trim_left(text[seg_start:first_end])
        items = text[items_start: m.end("items")].split("、")
        if len(items) < 2 or any(len(x) < 2 or len(x) > 6 for x in items):
            continue
        if books.contains(items_start, m.end()) or _generic(items[-1] + m.group("head")):
            continue
        add(items_start, m.end("items"), "mechanism.shared_suffix")

    # 5. names ending in 制/机制/制度/模式
    prev_end = 0
    for m in _suffix_matches(text):
        suffix = m.group(0)
        b = m.end()
        # names in a list (服务承诺制、首问负责制和责任追究制) never reach back past 、/和/及 or the
        # previous name's ending
        seg_start = max(_clause_start(text, m.start()), m.start() - 30, prev_end)
        prev_end = b
        if _REFORM_AFTER.match(text, b + (text[b: b + 1] in "”\"")) and suffix != "模式":
            continue  # …制改革, and “标准地+承诺制”改革: a reform, not a mechanism
        joint = _JOINT.search(text, seg_start, m.start())
        across = None
        if joint:
            left = text[seg_start: joint.start()]
            # 未来产业投入增长和风险分担机制: a short second part after 和 shares the first part's name
            # (not 首问负责制和责任追究制, where the first part is a whole name)
            if (joint.group(0) in "和及" and 2 <= m.start() - joint.end() <= 4
                    and not left.endswith(("制", "模式"))):
                lt = trim_left(left)
                if len(left) - lt >= 4:  # 考核和激励机制 stays generic
                    across = seg_start + lt
            seg_start = joint.end()
        seg = text[seg_start: m.start()]
        if not seg:
            continue
        a = seg_start + trim_left(seg)
        if across is not None and a == seg_start:
            a = across
        if m.start() - a < 2 and suffix in ("机制", "制度"):
            a = seg_start + _trim_keep_last_word(seg)  # 诉求全链条闭环解决机制: 解决 belongs to the name
        name = text[a:b]
        stem = name[:-1] if suffix.endswith("制") and suffix != "机制" else text[a: m.start()]
        if len(stem) < 2 or _generic(name) or stem.endswith(("的", "和", "与")) or "等" in stem:
            continue
        if suffix == "模式":
            pass
        elif books.contains(a, b):
            continue
        if len(suffix) == 2 and suffix.endswith("制") and suffix not in ("机制", "制度"):
            # a single-character 制 (首问负责制) needs a known work-system head
            if not _SINGLE_ZHI_OK.search(name):
                continue
        if len(stem) < 3 and suffix in ("机制", "制度", "模式"):
            continue
        add(a, b, "mechanism.suffix", allow_in_book=(suffix == "模式"))

    # 6. named campaigns (…专项行动; 扩大有效投资年活动 → 扩大有效投资年)
    for m in _YEAR_CAMPAIGN.finditer(text):
        seg_start = max(_clause_start(text, m.start()), m.start() - 20)
        a = seg_start + _trim_keep_last_word(text[seg_start: m.end() - 1])
        if m.end() - a >= 4 and not _DIGIT.search(text[a: m.end()]):
            add(a, m.end(), "mechanism.campaign")
    for m in _CAMPAIGN.finditer(text):
        seg_start = max(_clause_start(text, m.start()), m.start() - 20)
        a = seg_start + trim_left(text[seg_start: m.start()])
        q = _QUOTE_BEFORE.search(text, max(0, a - 17), a) if text[a - 1: a] == "”" else None
        if q:
            a = q.start()  # “科创100”上市专项行动: the quoted word opens the name
        if _PACKAGE_LABEL.search(text, a, m.start()):
            continue  # …联建七大专项行动: a package of campaigns, not a named one
        if m.start() - a >= 2:
            add(a, m.end(), "mechanism.campaign")

    out = [Mention(kind="mechanism", text=text[a:b], start=a, end=b, rule=r) for (a, b), r in found.items()]
    out.sort(key=lambda m: m.start)
    return out
