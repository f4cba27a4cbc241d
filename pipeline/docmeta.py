"""Document attributes: title, date and home region, each with the evidence it was read from.

A report says where and when it speaks in a few conventional places, tried in this order:

- the masthead (``甘孜日报 2017年08月11日`` → 甘孜州, 2017-08-11) and a news dateline
  (``新华社成都10月1日电``, ``南京报道``);
- a time stamp line (``2019-10-01 01:07``);
- the signature of an official report (``天城县人民政府`` over ``二〇〇五年四月二十七日``);
- the title (``柞水五项措施确保投资稳增长`` → 柞水县; ``深圳GDP破3万亿元`` → 深圳市);
- deictic words (我州, 全县, 市委, 全省 …), resolved to the region of that level the text names
  most often (or, for a province, the province of the cities it names).

A national text (``全国`` in the title, no deictic words) gets no region. When no full date is
written, a year is taken from ``刚刚过去的2025年`` (→ 2026), from a relative year tied to a number
(``去年（2021年）``; ``去年1-11月`` beside ``2021年1-11月`` → 2022; ``今年是“十五五”开局之年``; a two-year
comparison ``比2019年…两年平均``), from a five-year plan being drafted,
or, as a weak guess recorded as such, the latest year the text mentions.

>>> m = document_meta("柞水五项措施确保投资稳增长\\n本报讯 今年以来,柞水县集中力量加快推进重大项目建设。")
>>> m.region_name, m.region_adcode, m.evidence_dict()["region"]
('柞水县', '611026', 'title: 柞水')
"""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

import regex

from . import regions as gz

__all__ = ["DocMeta", "document_meta"]


@dataclass(frozen=True, slots=True)
class DocMeta:
    """Title, ISO date (``YYYY-MM-DD``, ``YYYY-MM`` or ``YYYY``) and home region of a document."""

    title: str | None = None
    date: str | None = None
    region_adcode: str | None = None
    region_name: str | None = None
    region_level: str | None = None
    evidence: tuple[tuple[str, str], ...] = ()  # (field, how it was found)

    def evidence_dict(self) -> dict[str, str]:
        return dict(self.evidence)

    def to_json(self) -> dict:
        return {"title": self.title, "date": self.date, "region_adcode": self.region_adcode,
                "region_name": self.region_name, "region_level": self.region_level,
                "evidence": self.evidence_dict()}


_CN_DIGIT = {"〇": 0, "○": 0, "零": 0, "o": 0, "O": 0, "Ｏ": 0, "О": 0, "一": 1, "二": 2, "三": 3,
             "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9}
_CN_D = "〇○零oOＯО一二三四五六七八九"
_YMD = regex.compile(r"(?<!\d)(?P<y>(?:19|20)\d{2})(?:\s*年\s*(?P<m>\d{1,2})\s*月\s*(?P<d>\d{1,2})\s*日"
                     r"|(?P<sep>[\-/.])(?P<m>\d{1,2})(?P=sep)(?P<d>\d{1,2})(?!\d))")
_CN_YMD = regex.compile(rf"(?P<y>[{_CN_D}]{{4}})年(?P<m>[一二三四五六七八九十]{{1,2}})月(?:(?P<d>[一二三四五六七八九十]{{1,3}})日)?")
_MASTHEAD = regex.compile(r"^\s*(?P<media>(?P<stem>\p{Han}{2,8}?)(?:日报|晚报|早报|商报|新闻|日))")
_SOURCE_MEDIA = regex.compile(r"^\s*(?:来源|稿源|转自)[:：]\s*(?P<media>(?P<stem>\p{Han}{2,8}?)(?:日报|晚报|早报|新闻网|电视台))")
_DATELINE = regex.compile(r"(?:新华社|中新社|中新网|人民网|央视网|本报|记者\s*\p{Han}{2,3}\s*)?"
                          r"(?P<place>\p{Han}{2,4}?)(?:\d{1,2}月\d{1,2}日)?(?:电|报道)")
_GOV_SIGNATURE = regex.compile(r"^\s*(?:中共)?(?P<name>\p{Han}{2,10}?(?:省|市|县|区|州|自治州|自治区|自治县|旗))"
                               r"(?:人民政府|人民政府办公室|政府|委员会|党委|委)\s*$")
_ORIGINAL_TITLE = regex.compile(r"原标题[:：]\s*(?P<t>[^\n]{2,80})")
_NATIONAL = regex.compile(r"全国|中国|我国|各地|\d+(?:个)?省(?:份|区市)")
_OUTLINE = regex.compile(r"^\s*(?:[一二三四五六七八九十]+(?:[、是要]|\s)|第[一二三四五六七八九十]+|[（(][一二三四五六七八九十\d]+[)）]|\d+[.、．]|……|目录|提纲|篇[一二三四五六七八九十]+\s*$)")
_SENT_END = regex.compile(r"[。！？；]")
# 2026年江西省政府工作报告 / 陕西省2026年政府工作报告 → 2026; 2021年…统计公报 is published in 2022
_TITLE_REPORT_YEAR = regex.compile(r"^[^\n。]{0,12}?(?P<y>(?:19|20)\d{2})年[^\n。]{0,20}?"
                                   r"(?P<kind>政府工作报告|统计公报|国民经济和社会发展统计公报)\s*$", regex.M)
_REPORTED_PAST = regex.compile(r"(?:刚刚过去的|过去一年[，,]?即?)\s*(?P<y>(?:19|20)\d{2})年")
# 紧扣“十四五”规划编制机遇: a five-year plan being drafted dates the text to the year before it starts
_FYP_START = {"十一五": 2006, "十二五": 2011, "十三五": 2016, "十四五": 2021, "十五五": 2026}
_FYP_DRAFTING = regex.compile(r"[“\"]?(十[一二三四五]五)[”\"]?规划(?:编制|起草|前期研究)")
_TARGET_BEFORE = regex.compile(r"(?<!截)(?:到|至)$")  # 到2025年: a target, not the time of writing
_YEAR = regex.compile(r"(?<![\d.])(?P<y>(?:19|20)\d{2})(?:年|-\d{1,2})")
# a period written once relative to the time of writing (去年1-11月) and once with its year (2021年1-11月)
_PERIOD = (r"(?:\d{1,2}\s*[-—–~至到]\s*\d{1,2}月|\d{1,2}月(?:份|底|末|初)?|[一二三四五六七八九十]{1,2}月(?:份|底|末|初)?"
           r"|前三季度|[一二三四]季度|上半年|下半年|全年|年底|年末|年初)")
_REL_PERIOD = regex.compile(rf"(?P<rel>去年|今年|前年)(?P<p>{_PERIOD})")
_ABS_PERIOD = regex.compile(rf"(?<![\d.])(?P<y>(?:19|20)\d{{2}})年(?P<p>{_PERIOD})")
# 去年（2021年） / 今年即2022年: a relative year glossed with its number
_REL_GLOSS = regex.compile(r"(?P<rel>去年|今年|前年)\s*(?:[（(]|即|也就是)\s*(?P<y>(?:19|20)\d{2})年")
_REL_OFFSET = {"今年": 0, "去年": 1, "前年": 2}
# 今年是实施“十五五”规划开局之年 (→ 2026); 今年是“十四五”收官之年 (→ 2025)
_FYP_YEAR_OF = regex.compile(r"今年是[^。；\n]{0,10}?[“\"]?(?P<p>十[一二三四五]五)[”\"]?(?:规划)?(?P<w>开局|起步|开篇|收官|决胜|冲刺)之年")
_FYP_OFFSET = {"开局": 0, "起步": 0, "开篇": 0, "收官": 4, "决胜": 4, "冲刺": 4}
# 比2019年1-7月增长20.5%，两年平均增长9.8%: a two-year comparison is written two years later
_TWO_YEAR_BASE = regex.compile(r"比(?P<y>(?:19|20)\d{2})年[^，。；\n]{0,10}?(?:增长|下降)[^。；\n]{0,20}?两年平均")

# deictic words → the level of region the document speaks for
_DEICTIC = {
    "province": regex.compile(r"我省|全省|省委|省政府|本省|省人大|省长"),
    "city": regex.compile(r"我市|全市|市委|市政府|本市|市长|我州|全州|州委|州政府|本州|州长"),
    "county": regex.compile(r"我县|全县|县委|县政府|本县|县长"),
}
# 区 words speak for a district, or for an autonomous region (宁夏: 全区 = the whole region)
_DEICTIC_QU = regex.compile(r"我区|全区|区委|区政府|本区|区长")
_AUTONOMOUS = regex.compile(r"自治区")


def _cn_number(s: str) -> int:
    """一 → 1, 十 → 10, 二十七 → 27."""
    if "十" in s:
        a, _, b = s.partition("十")
        return (_CN_DIGIT.get(a, 1) if a else 1) * 10 + (_CN_DIGIT.get(b, 0) if b else 0)
    return _CN_DIGIT.get(s, 0)


def _iso(y: int, m: int | None = None, d: int | None = None) -> str | None:
    if not 1900 <= y <= 2100:
        return None
    if m is None or not 1 <= m <= 12:
        return f"{y:04d}"
    if d is None or not 1 <= d <= 31:
        return f"{y:04d}-{m:02d}"
    return f"{y:04d}-{m:02d}-{d:02d}"


def _lines(text: str) -> list[str]:
    return [ln.strip() for ln in text.splitlines()]


def _find_title(lines: list[str], text: str) -> tuple[str | None, str | None]:
    m = _ORIGINAL_TITLE.search(text[:3000])
    if m:
        return regex.sub(r"\s+", " ", m.group("t")).strip(), "原标题 line"
    for i, ln in enumerate(lines[:20]):
        if not ln:
            continue
        if _SENT_END.search(ln[:-1]) or len(ln) > 60:
            return None, None  # the body has begun
        if _OUTLINE.match(ln) or _MASTHEAD.match(ln) and _YMD.search(ln) or _YMD.fullmatch(ln.split()[0]):
            continue
        if regex.fullmatch(r"[\d\s:\-/.年月日]+", ln) or regex.match(r"文章字数|来源|作者|编辑|发布时间", ln):
            continue
        t = regex.sub(r"^(?:-\s*|篇[一二三四五六七八九十]+\s+)", "", ln).strip()
        if len(t) >= 4:
            return t, f"line {i + 1}"
    return None, None


def _find_date(lines: list[str], text: str) -> tuple[str | None, str | None]:
    head = "\n".join(lines[:4])
    m = _YMD.search(head)
    if m:
        return _iso(int(m["y"]), int(m["m"]), int(m["d"])), f"header: {m.group(0)}"
    for i, ln in enumerate(lines):
        m = _CN_YMD.fullmatch(ln) or _YMD.fullmatch(ln)
        if m and i > 0 and any(_GOV_SIGNATURE.match(p) for p in lines[max(0, i - 2): i]):
            y = m["y"]
            year = int("".join(str(_CN_DIGIT[c]) for c in y)) if not y.isdigit() else int(y)
            mon = _cn_number(m["m"]) if not m["m"].isdigit() else int(m["m"])
            day = m["d"] and (_cn_number(m["d"]) if not m["d"].isdigit() else int(m["d"]))
            return _iso(year, mon, day), f"signature: {ln}"
    m = _TITLE_REPORT_YEAR.search("\n".join(lines[:6]))
    if m:
        y = int(m["y"]) + (1 if m["kind"].endswith("公报") else 0)
        return _iso(y), f"report title: {m.group(0)}"
    m = _REPORTED_PAST.search(text)
    if m:
        return _iso(int(m["y"]) + 1), f"reviews {m['y']} as past: {m.group(0)}"
    rel = _relative_year(text)
    if rel is not None:
        return rel
    plans = {_FYP_START[p.group(1)] - 1 for p in _FYP_DRAFTING.finditer(text)}
    if len(plans) == 1:
        y = plans.pop()
        return _iso(y), f"drafts the {y + 1} five-year plan (weak)"
    years = [int(x["y"]) for x in _YEAR.finditer(text) if not _TARGET_BEFORE.search(text, max(0, x.start() - 2), x.start())]
    years = [y for y in years if 1949 <= y <= 2100]
    if years:
        return _iso(max(years)), "latest year mentioned (weak)"
    return None, None


def _period_key(p: str) -> str:
    """1—11月 and 1-11月 are the same period."""
    return regex.sub(r"\s+", "", regex.sub(r"[—–~至到]", "-", p))


def _relative_year(text: str) -> tuple[str | None, str | None] | None:
    """The year of writing from a relative year tied to a number: ``去年（2021年）``, the same period
    written both ways (``去年1-11月`` … ``2021年1-11月`` → 2022), ``今年是“十五五”开局之年`` (→ 2026), or a
    two-year comparison (``比2019年1-7月增长…两年平均`` → 2021). Votes decide between conflicting readings.

    >>> _relative_year("去年1-11月，全市规模以上工业增加值同比增长4.8%。据《2021年1-11月经济运行情况》")[0]
    '2022'
    >>> _relative_year("今年是实施“十五五”规划开局之年，开局关系全局。")[0]
    '2026'
    >>> _relative_year("固定资产投资同比增长7.4%，比2019年1-7月增长20.5%，两年平均增长9.8%。")[0]
    '2021'
    >>> _relative_year("去年全市生产总值增长6%") is None
    True
    """
    votes: Counter = Counter()
    how: dict[int, str] = {}
    for m in _REL_GLOSS.finditer(text):
        y = int(m["y"]) + _REL_OFFSET[m["rel"]]
        votes[y] += 2
        how.setdefault(y, m.group(0))
    for m in _FYP_YEAR_OF.finditer(text):
        y = _FYP_START[m["p"]] + _FYP_OFFSET[m["w"]]
        votes[y] += 2
        how.setdefault(y, m.group(0))
    for m in _TWO_YEAR_BASE.finditer(text):
        y = int(m["y"]) + 2
        votes[y] += 1
        how.setdefault(y, m.group(0)[:24])
    rel = {}
    for m in _REL_PERIOD.finditer(text):
        rel.setdefault(_period_key(m["p"]), set()).add(m["rel"])
    if rel:
        for m in _ABS_PERIOD.finditer(text):
            for r in sorted(rel.get(_period_key(m["p"]), ())):
                y = int(m["y"]) + _REL_OFFSET[r]
                votes[y] += 1
                how.setdefault(y, f"{r}{m['p']} = {m.group(0)}")
    if not votes:
        return None
    y = max(votes, key=lambda k: (votes[k], k))
    return _iso(y), f"relative year: {how[y]}"


def _region_from_stem(stem: str, context=None):
    return gz.lookup(stem, context)


def _region_by_deixis(text: str, found) -> tuple[object, str] | None:
    counts = {lvl: len(p.findall(text)) for lvl, p in _DEICTIC.items()}
    qu = len(_DEICTIC_QU.findall(text))
    counts["province" if _AUTONOMOUS.search(text) else "county"] += qu
    level, n = max(counts.items(), key=lambda kv: kv[1])
    if n == 0:
        return None
    coded = [m for m in found if m.adcode]
    at_level = [m for m in coded if (m.level == level or (level == "city" and m.level == "new_area"))]
    if at_level:
        c = Counter(m.adcode for m in at_level)
        first = {m.adcode: i for i, m in reversed(list(enumerate(at_level)))}
        code = max(c, key=lambda k: (c[k], -first[k]))
        return gz.get(code), f"deictic {level} words ×{n}; most named {level}"
    if level == "province" and coded:
        c = Counter(m.adcode[:2] + "0000" for m in coded)
        code = c.most_common(1)[0][0]
        if gz.get(code):
            return gz.get(code), f"deictic province words ×{n}; province of the regions named"
    if level == "city" and coded:
        c = Counter(gz.get(m.adcode).parent_adcode for m in coded if m.level == "county" and gz.get(m.adcode))
        if c:
            code = c.most_common(1)[0][0]
            if code and gz.get(code) and gz.get(code).level == "city":
                return gz.get(code), f"deictic city words ×{n}; city of the counties named"
    unlisted = [m for m in found if m.rule == "region.unlisted" and m.level == level]
    if unlisted:
        return unlisted[0], f"deictic {level} words ×{n}; unlisted {unlisted[0].text}"
    return None


def document_meta(text: str) -> DocMeta:
    """Title, date and home region of normalized ``text``, with the evidence for each."""
    from .extract.entities import extract_regions

    lines = _lines(text)
    ev: list[tuple[str, str]] = []
    title, how = _find_title(lines, text)
    if title:
        ev.append(("title", how))
    date, how = _find_date(lines, text)
    if date:
        ev.append(("date", how))

    region = None  # a Region, or an unlisted-name Mention
    # 1. masthead
    first = next((ln for ln in lines if ln), "")
    m = _MASTHEAD.match(first)
    if m and (_YMD.search(first) or m.group("media").endswith(("日报", "晚报"))):
        r = _region_from_stem(m["stem"])
        if r is not None:
            region = r
            ev.append(("region", f"masthead: {m['media']}"))
    national = bool(title and _NATIONAL.search(title))
    if region is None:
        for ln in lines[:6]:
            sm = _SOURCE_MEDIA.match(ln)
            r = _region_from_stem(sm["stem"]) if sm else None
            if r is not None:
                region = r
                ev.append(("region", f"source: {sm['media']}"))
                break
    # 2. dateline in the first lines (an agency's dateline says little about a national story)
    if region is None and not national:
        for ln in lines[:6]:
            for dm in _DATELINE.finditer(ln[:40]):
                r = _region_from_stem(dm["place"])
                if r is not None:
                    region = r
                    ev.append(("region", f"dateline: {dm.group(0)}"))
                    break
            if region is not None:
                break
    found = None
    # 3. signature of an official report
    if region is None:
        for i, ln in enumerate(lines):
            sm = _GOV_SIGNATURE.match(ln)
            if sm and i + 1 < len(lines) and (_CN_YMD.fullmatch(lines[i + 1]) or _YMD.fullmatch(lines[i + 1])):
                name = sm["name"]
                r = gz.lookup(name)
                if r is not None:
                    region = r
                else:
                    found = found if found is not None else extract_regions(text)
                    region = next((x for x in found if x.text == name), None)
                if region is not None:
                    ev.append(("region", f"signature: {ln}"))
                    break
    # 4. the title
    if region is None and title and not national:
        found = found if found is not None else extract_regions(text)
        start = text.find(title)
        if start >= 0:
            in_title = [x for x in found if start <= x.start < start + len(title)]
            if in_title:
                x = in_title[0]
                region = gz.get(x.adcode) if x.adcode else x
                ev.append(("region", f"title: {x.text}"))
    # 5. deictic words
    if region is None and not national:
        found = found if found is not None else extract_regions(text)
        res = _region_by_deixis(text, found)
        if res is not None:
            region, how = res
            ev.append(("region", how))

    if region is None:
        return DocMeta(title, date, None, None, None, tuple(ev))
    if isinstance(region, gz.Region):
        return DocMeta(title, date, region.adcode, region.name, region.level, tuple(ev))
    return DocMeta(title, date, region.adcode, region.text, region.level, tuple(ev))
