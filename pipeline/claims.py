"""Claims: numbers tied to what they measure, where, and when.

A mention (``43亿元``) is evidence; a *claim* is what researchers compare::

    柞水县 · 重点项目完成投资 · 2020-01-01…2020-05-31 · 4.3e9 CNY · actual

:func:`build_claims` turns the numeric mentions of one normalized document (amount, percent, count,
quantity) into
:class:`Claim` records. For each number it finds

* the **metric** — the nearest phrase of ``rules/metrics.yaml`` in the same clause (then the sentence),
  with the structures reports use: "完成投资X亿元，占年度计划的Y%" (Y is filed under the plan-share
  companion of X's metric), "同比增长Z%" (the growth companion of the metric before it), "其中 …",
  "A个项目完成投资B亿元" (generic phrases such as 完成投资 resolve through the sentence's subject);
* the **subject** — the group it is about (州级重点项目, 省重点项目, 民间投资, a named project, a sector
  written before the metric: 服务业实际使用外资; a list read with 分别 gives each number its item);
* the **region** — an explicit region mention before it in the sentence, else the document's home region;
* the **period** — an explicit period phrase (1—8月, 上半年, 前三季度, 截至5月底, 2019年 …) before it in the
  sentence, else the last one earlier in the paragraph, else the document date (see *Periods* below);
* the **basis** of a ratio (同比, 环比, 两年平均, 占计划, 占比 …) and the **status** (actual, plan, target,
  cumulative).

Periods
-------
Months and quarters take the year written beside them, else the last year written earlier in the sentence
or paragraph, else the document date's year (去年 = that year − 1). A year-to-date phrase (今年以来, 截至目前,
and a claim with no period phrase at all) runs from 1 January to the **document date itself** — a report
dated 2017-08-11 saying 今年以来 gives 2017-01-01…2017-08-11: the text does not say which month's statistics
it quotes, and the document date is the only date it vouches for. 截至5月底 / 截至8月份 run to the end of
that month. A target or plan with no period phrase covers the document's whole year. Without a document date
such periods are left empty (``None``) rather than guessed.

Documents
---------
The document's metadata (date, home region) applies to its first part; a compilation of several reports
(篇一 …, 篇二 … on 范文 sites) gets, for each later part, the latest year it writes and no home region. A text
with no date at all that speaks of drafting a five-year plan ("十四五"规划编制) is dated, weakly, to the year
before that plan.

Every claim records how it was read in ``evidence`` (the metric phrase or structure, whether the region was
written or is the document's, which period phrase applied).

Values: amounts are whole currency units (``unit`` is the ISO currency, ``CNY`` for 元); a growth rate
written as a fall (下降22%) is stored as ``-22``; qualifiers (约, 左右, 以上) are kept in ``qualifier``.

>>> from pipeline.mention import Mention
>>> text = "截至5月底，全县95个重点项目完成投资43亿元。"
>>> ms = [Mention("count", "95个重点项目", 8, 15, "t", value=95, unit="个", object="重点项目"),
...       Mention("amount", "43亿元", 19, 23, "t", value=4.3e9, currency="CNY")]
>>> from types import SimpleNamespace
>>> meta = SimpleNamespace(date="2020-06-10", region_adcode="611026", region_name="柞水县", title=None)
>>> [(c.metric, c.period_end, c.value) for c in build_claims(text, ms, meta=meta, paragraphs=[(0, len(text))])]
[('重点项目个数', '2020-05-31', 95.0), ('重点项目完成投资', '2020-05-31', 4300000000.0)]
"""
from __future__ import annotations

import calendar
import re
from bisect import bisect_left
from dataclasses import dataclass, field
from datetime import date
from functools import lru_cache
from pathlib import Path
from typing import Sequence

import regex


from . import rules_dir
from .rules import load_yaml
from .mention import Mention

__all__ = ["Claim", "Metric", "Taxonomy", "load_taxonomy", "build_claims", "parse_period", "find_periods",
           "document_parts", "metric_rows", "STATUSES"]

STATUSES = ("actual", "plan", "target", "cumulative")
NUMERIC_KINDS = ("amount", "percent", "count", "quantity")


# --------------------------------------------------------------------------------------------------
# The record
# --------------------------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class Claim:
    """One figure: region × metric × period × value, with the evidence it was read from."""

    metric: str
    value: float
    unit: str
    status: str = "actual"
    basis: str | None = None
    subject: str | None = None
    region_adcode: str | None = None
    region_name: str | None = None
    period_start: str | None = None  # ISO date
    period_end: str | None = None
    qualifier: str | None = None
    value_max: float | None = None
    document: str | None = None  # the document's title (the store links claims by document id)
    paragraph_index: int | None = None
    sentence_start: int = 0
    sentence_end: int = 0
    start: int = 0  # the clause span(s) the claim was read from
    end: int = 0
    mention_indexes: tuple[int, ...] = ()  # the number's mention first, then the region and date mentions used
    evidence: tuple = field(default=(), compare=False)  # (key, note): how metric, region and period were found

    def to_row(self) -> dict:
        """The ``claims`` table row (ids are added by the store)."""
        return {
            "metric": self.metric, "subject": self.subject,
            "region_adcode": self.region_adcode, "region_name": self.region_name,
            "period_start": self.period_start, "period_end": self.period_end,
            "value": self.value, "value_max": self.value_max, "unit": self.unit,
            "qualifier": self.qualifier, "status": self.status, "basis": self.basis,
            "paragraph_index": self.paragraph_index,
            "sentence_start": self.sentence_start, "sentence_end": self.sentence_end,
            "start": self.start, "end": self.end,
            "mention_indexes": tuple(self.mention_indexes),
            "evidence": "; ".join(f"{k}: {v}" for k, v in self.evidence) or None,
        }


# --------------------------------------------------------------------------------------------------
# The taxonomy (rules/metrics.yaml)
# --------------------------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class Metric:
    """One canonical metric of ``rules/metrics.yaml`` (see the comment at the top of that file)."""

    id: str
    kind: str  # amount | percent | count | quantity
    description: str = ""
    phrases: tuple[str, ...] = ()
    patterns: tuple[str, ...] = ()
    status: str | None = None
    period: str = "flow"  # flow | annual
    growth: str | None = None
    plan_share: str | None = None
    base: str | None = None
    units: tuple[str, ...] = ()  # counts: the classifiers accepted (个, 项 …)
    event: bool = False  # counts of an event (开工, 竣工) rather than of a list
    subject_from: str = "clause"  # where its subject (州级重点项目, 民间投资) may be named: clause | sentence
    derived: bool = False


@dataclass(frozen=True, slots=True)
class _Phrase:
    """A metric phrase (``metric`` set) or a generic one (``by_subject`` set) found in text."""

    start: int
    end: int
    kind: str
    metric: str | None
    generic: int | None = None  # index into Taxonomy.generic


@dataclass(frozen=True)
class Taxonomy:
    """The loaded ``rules/metrics.yaml``: metrics by id, phrase matchers, generic phrases, subjects, cases."""

    metrics: dict
    generic: tuple  # (phrases, by_subject dict, default, kind)
    subjects: tuple  # (class, compiled regex)
    phrase_res: tuple  # one alternation per kind (amount, percent, count, quantity)
    phrase_map: dict  # literal phrase → ("metric", id) | ("generic", index)
    pattern_res: tuple  # (compiled regex, metric id)
    cases: tuple

    def metric(self, mid: str) -> Metric:
        try:
            return self.metrics[mid]
        except KeyError:
            raise KeyError(f"metric {mid!r} is not in rules/metrics.yaml") from None

    def growth_of(self, mid: str) -> str:
        """The metric a growth rate of ``mid`` is filed under (a share's growth is its base's)."""
        m = self.metric(mid)
        if m.kind == "percent":
            return self.growth_of(m.base) if m.base else mid
        return m.growth or f"{mid}增速"

    def plan_share_of(self, mid: str) -> str | None:
        """The metric a share of plan reached is filed under (None where the metric has none)."""
        m = self.metric(mid)
        if m.kind == "percent" and m.base:
            return self.plan_share_of(m.base)
        pid = m.plan_share or f"{mid}计划完成率"
        return pid if pid in self.metrics else None

    def find_phrases(self, text: str, start: int, end: int) -> list[_Phrase]:
        """Metric and generic phrases in ``text[start:end]``, leftmost-longest, non-overlapping within a kind."""
        found: list[_Phrase] = []
        for rx, mid in self.pattern_res:
            for m in rx.finditer(text, start, end):
                found.append(_Phrase(m.start(), m.end(), self.metrics[mid].kind, mid))
        for rx in self.phrase_res:
            for m in rx.finditer(text, start, end):
                what, ref = self.phrase_map[m.group()]
                if what == "metric":
                    found.append(_Phrase(m.start(), m.end(), self.metrics[ref].kind, ref))
                else:
                    found.append(_Phrase(m.start(), m.end(), self.generic[ref][3], None, ref))
        # overlaps are resolved within a kind: 重点项目完成投资 (amount) leaves 重点项目 (count) in place
        found.sort(key=lambda p: (p.start, -(p.end - p.start)))
        out: list[_Phrase] = []
        last_end: dict[str, int] = {}
        for p in found:
            if p.start < last_end.get(p.kind, -1):
                continue
            out.append(p)
            last_end[p.kind] = p.end
        return out


def _derived(mid: str, base: Metric, what: str) -> Metric:
    desc = f"{base.id}的{'增速' if what == 'growth' else '计划（目标）完成比例'}"
    return Metric(id=mid, kind="percent", description=desc, base=base.id, derived=True)


@lru_cache(maxsize=4)
def load_taxonomy(path: str | None = None) -> Taxonomy:
    """The metric taxonomy from ``rules/metrics.yaml`` (cached), with growth/plan-share companions added."""
    p = Path(path) if path else rules_dir() / "metrics.yaml"
    data = load_yaml(p)
    metrics: dict[str, Metric] = {}
    for row in data["metrics"]:
        m = Metric(id=row["id"], kind=row["kind"], description=row.get("description", ""),
                   phrases=tuple(row.get("phrases") or ()), patterns=tuple(row.get("patterns") or ()),
                   status=row.get("status"), period=row.get("period", "flow"), growth=row.get("growth"),
                   plan_share=row.get("plan_share"), base=row.get("base"),
                   units=tuple(row.get("units") or (("个", "项") if row["kind"] == "count" else ())),
                   event=bool(row.get("event", False)), subject_from=row.get("subject_from", "clause"))
        if m.id in metrics:
            raise ValueError(f"{p}: metric {m.id!r} defined twice")
        if m.kind not in NUMERIC_KINDS:
            raise ValueError(f"{p}: metric {m.id!r} has kind {m.kind!r}; expected one of {NUMERIC_KINDS}")
        metrics[m.id] = m
    for m in list(metrics.values()):
        if m.kind == "percent":
            continue
        companions = [("growth", m.growth or f"{m.id}增速")]
        if m.kind == "amount" and not m.status:  # a plan has no share of a plan
            companions.append(("plan_share", m.plan_share or f"{m.id}计划完成率"))
        for what, mid in companions:
            if mid not in metrics:
                metrics[mid] = _derived(mid, m, what)
    for m in metrics.values():
        if m.base and m.base not in metrics:
            raise ValueError(f"{p}: metric {m.id!r} has unknown base {m.base!r}")
    generic = []
    for g in data.get("generic") or ():
        for ref in list((g.get("by_subject") or {}).values()) + [g.get("default")]:
            if ref is not None and ref not in metrics:
                raise ValueError(f"{p}: generic phrase {g['phrases']} refers to unknown metric {ref!r}")
        generic.append((tuple(g["phrases"]), dict(g.get("by_subject") or {}), g.get("default"), g["kind"]))
    phrase_map: dict[str, tuple[str, object]] = {}
    for m in metrics.values():
        for ph in m.phrases:
            if ph in phrase_map and phrase_map[ph] != ("metric", m.id):
                raise ValueError(f"{p}: phrase {ph!r} names both {phrase_map[ph][1]!r} and {m.id!r}")
            phrase_map[ph] = ("metric", m.id)
    for i, g in enumerate(generic):
        for ph in g[0]:
            phrase_map.setdefault(ph, ("generic", i))
    def kind_of(ref) -> str:
        return metrics[ref[1]].kind if ref[0] == "metric" else generic[ref[1]][3]

    phrase_res = tuple(
        re.compile("|".join(re.escape(a) for a in sorted((ph for ph, ref in phrase_map.items() if kind_of(ref) == k),
                                                         key=len, reverse=True)))
        for k in NUMERIC_KINDS if any(kind_of(ref) == k for ref in phrase_map.values()))
    pattern_res = tuple((re.compile(rx), m.id) for m in metrics.values() for rx in m.patterns)
    subjects = tuple((cls, re.compile("|".join(f"(?:{rx})" for rx in rxs)))
                     for cls, rxs in (data.get("subjects") or {}).items())
    return Taxonomy(metrics, tuple(generic), subjects, phrase_res, phrase_map, pattern_res,
                    tuple(data.get("cases") or ()))


# --------------------------------------------------------------------------------------------------
# Text structure: sentences and clauses
# --------------------------------------------------------------------------------------------------
_SENT_END = re.compile(r"[。！？!?\n]+")
_CLAUSE_SEP = re.compile(r"[，,；;：:]")


def _spans(text: str, start: int, end: int, sep: re.Pattern) -> list[tuple[int, int]]:
    out, s = [], start
    for m in sep.finditer(text, start, end):
        if m.start() > s:
            out.append((s, m.start()))
        s = m.end()
    if s < end:
        out.append((s, end))
    return out


# --------------------------------------------------------------------------------------------------
# Periods
# --------------------------------------------------------------------------------------------------
_FYP_START = {"十一五": 2006, "十二五": 2011, "十三五": 2016, "十四五": 2021, "十五五": 2026}  # five-year plans
_CN_DIGITS = {"一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9, "十": 10,
              "十一": 11, "十二": 12, "〇": 0, "零": 0}
_M = r"(?:1[0-2]|0?[1-9]|十[一二]?|[一二三四五六七八九])"
_Y = r"(?:(?P<y>(?:19|20)\d\d)年|(?P<rel>今年|去年|上年|本年))?"
_RANGE = r"[-—–~～至到]"
_PERIOD_RE = regex.compile(  # regex: the year group recurs in branches
    r"(?P<fyp>十[一二三四五]五)[”\"]?(?:时期|期间)"
    r"|(?P<ytd>今年以来|年初以来|今年来|本年以来|截至目前|截止目前|截止到目前|截至到目前|目前为止|至今)"
    rf"|(?:截至|截止到?|到){_Y}(?P<upto>{_M})月(?:份|底|末)?"
    rf"|{_Y}(?P<m1>{_M}){_RANGE}(?P<m2>{_M})月份?"
    rf"|{_Y}前(?P<nmonths>{_M}|[1-9])个月"
    rf"|{_Y}(?P<half>上半年|下半年)"
    rf"|{_Y}(?P<qprefix>前|第)?(?P<q>[一二三四1-4])季度"
    rf"|{_Y}(?P<month>{_M})月份?(?![底末]前)"
    r"|(?P<fullyear>全年|年底前)"
    r"|(?P<yonly>(?:19|20)\d\d)年(?![\d一二三四五六七八九十]|[-—–~～至到]|同期)"
    r"|(?P<relyear>去年|上年)(?!同期)"
)
# a year a passage is about: 刚刚过去的2025年，… / 2025年是… / (sentence start) 2025年，…
_TOPIC_YEAR_RE = re.compile(r"(?:过去的|(?:^|(?<=[。！？\n]))\s*)(?P<y>(?:19|20)\d\d)年(?:[，,]|是|以来)", re.M)
_YEAR_RE = re.compile(r"(?P<y>(?:19|20)\d\d)年(?!同期)|(?P<rel>去年|上年)(?!同期)")


def _num(s: str) -> int:
    return int(s) if s.isdigit() else _CN_DIGITS[s]


def _month_end(y: int, m: int) -> str:
    return date(y, m, calendar.monthrange(y, m)[1]).isoformat()


@dataclass(frozen=True, slots=True)
class _Period:
    start: int
    end: int
    year: int | None  # the explicit year written in the phrase (None: resolve from context)
    rel: str | None
    spec: tuple  # (kind, a, b)


# Every period phrase holds one of these characters within its first _ANCHOR_REACH characters (the
# longest lead is 截止到2019年: 年 at index 7), and opens with one of _PERIOD_FIRST. Trying _PERIOD_RE only
# there finds exactly what ``_PERIOD_RE.finditer`` finds, an order of magnitude faster: the regex module
# otherwise tries a dozen alternatives with optional year prefixes at every character. Keep the three in
# step when editing _PERIOD_RE (tests/test_claims.py checks the scan against plain finditer).
_PERIOD_ANCHOR = re.compile("[年月季期目至]")
_ANCHOR_REACH = 8
_PERIOD_FIRST = frozenset("十今年本截目至到去上前下第全0123456789一二三四五六七八九")


def _period_matches(text: str, start: int, end: int):
    """The matches of ``_PERIOD_RE.finditer(text, start, end)``, found by trying only near anchor characters."""
    pos = start
    anchor, match, first = _PERIOD_ANCHOR.search, _PERIOD_RE.match, _PERIOD_FIRST
    while True:
        a = anchor(text, pos, end)
        if a is None:
            return
        a = a.start()
        hit = None
        for s in range(max(pos, a - _ANCHOR_REACH), a + 1):
            if text[s] in first:
                hit = match(text, s, end)
                if hit is not None:
                    break
        if hit is None:
            pos = a + 1
            continue
        yield hit
        pos = hit.end()


def find_periods(text: str, start: int = 0, end: int | None = None) -> list[_Period]:
    """Period phrases in ``text[start:end]`` (unresolved: the year may come from context)."""
    out = []
    for m in _period_matches(text, start, len(text) if end is None else end):
        g = m.groupdict()
        y = int(g["y"]) if g.get("y") else None
        rel = g.get("rel")
        if g["fyp"]:
            y, spec = _FYP_START[g["fyp"]], ("years", 5, None)
        elif g["ytd"]:
            spec = ("ytd", None, None)
        elif g["upto"]:
            spec = ("months", 1, _num(g["upto"]))
        elif g["m1"]:
            spec = ("months", _num(g["m1"]), _num(g["m2"]))
        elif g["nmonths"]:
            spec = ("months", 1, _num(g["nmonths"]))
        elif g["half"]:
            spec = ("months", 1, 6) if g["half"] == "上半年" else ("months", 7, 12)
        elif g["q"]:
            q = _num(g["q"])
            spec = ("months", 1, 3 * q) if g["qprefix"] == "前" else ("months", 3 * q - 2, 3 * q)
        elif g["month"]:
            mm = _num(g["month"])
            spec = ("months", mm, mm)
        elif g["fullyear"]:
            spec = ("year", None, None)
        elif g["yonly"]:
            y, spec = int(g["yonly"]), ("year", None, None)
        else:
            rel, spec = g["relyear"], ("year", None, None)
        if spec[0] == "months" and not (1 <= spec[1] <= spec[2] <= 12):
            continue
        out.append(_Period(m.start(), m.end(), y, rel, spec))
    return out


def parse_period(phrase: str, doc_date: str | None = None, year: int | None = None) -> tuple[str | None, str | None]:
    """``(period_start, period_end)`` of one period phrase, resolved against a document date.

    >>> parse_period("1—8月", year=2019)
    ('2019-01-01', '2019-08-31')
    >>> parse_period("今年以来", "2017-08-11")
    ('2017-01-01', '2017-08-11')
    >>> parse_period("截至5月底", "2020-06-10")
    ('2020-01-01', '2020-05-31')
    >>> parse_period("前三季度", "2021-11-01")
    ('2021-01-01', '2021-09-30')
    """
    ps = find_periods(phrase)
    if not ps:
        raise ValueError(f"no period phrase in {phrase!r}")
    return _resolve(ps[0], _parse_date(doc_date), year)


@dataclass(frozen=True, slots=True)
class _DocDate:
    """A document date of known precision (docmeta may give only ``2021`` or ``2021-05``)."""

    year: int
    day: date | None  # the last day the date vouches for (month end for ``YYYY-MM``; None for a bare year)

    def isoformat(self) -> str | None:
        return self.day.isoformat() if self.day else None


def _parse_date(s) -> _DocDate | None:
    """``2017-08-11`` / ``2017-08`` / ``2017`` (or a :class:`datetime.date`) → :class:`_DocDate`."""
    if s is None:
        return None
    if isinstance(s, date):
        return _DocDate(s.year, s)
    m = re.match(r"^((?:19|20)\d\d)(?:-(\d\d)(?:-(\d\d))?)?", str(s))
    if not m:
        return None
    y, mo, d = int(m.group(1)), m.group(2), m.group(3)
    try:
        if d:
            return _DocDate(y, date(y, int(mo), int(d)))
        if mo:
            return _DocDate(y, date.fromisoformat(_month_end(y, int(mo))))
    except ValueError:
        pass
    return _DocDate(y, None)


def _resolve(p: _Period, doc: _DocDate | None, ctx_year: int | None) -> tuple[str | None, str | None]:
    y = p.year
    if y is None and p.rel in ("去年", "上年"):
        y = doc.year - 1 if doc else None
    if y is None and p.rel in ("今年", "本年"):
        y = doc.year if doc else None
    if y is None:
        y = ctx_year if ctx_year is not None else (doc.year if doc else None)
    if y is None:
        return None, None
    kind, a, b = p.spec
    if kind == "ytd":
        if doc is None or doc.year != y:
            return None, None
        return f"{y}-01-01", doc.isoformat()
    if kind == "year":
        return f"{y}-01-01", f"{y}-12-31"
    if kind == "years":
        return f"{y}-01-01", f"{y + a - 1}-12-31"
    return f"{y}-{a:02d}-01", _month_end(y, b)


# --------------------------------------------------------------------------------------------------
# Cues: status, basis, growth, share
# --------------------------------------------------------------------------------------------------
_SHARE_RE = re.compile(
    r"(?:占|完成|达到?|为)(?:了)?[^，。；、]{0,12}?(?:计划|目标|任务|总投资)(?:[^，。；]{0,16}?)的?(?:比例|比重)?(?:为|达)?$")
_SHARE_TOTAL_RE = re.compile(r"占(?P<of>[^，。；、的]{1,12}?)(?:的)?(?:比重|比例)?(?:为|达到?)?$")
_GROWTH_RE = re.compile(r"(?:同比|环比)?(?:分别)?(?:增长|下降|增速为?|增幅为?|降幅为?|回落|减少|上升|增加|下滑|涨幅为?|提高|负增长)"
                        r"(?:了)?(?:达到?|高达|为)?$")
# a fall governing the number (同比下降22%, 降幅为3%), not a comparison (增速均低于9.8%)
_DOWN_TAIL_RE = re.compile(r"(?:下降|降幅|回落|减少|下滑|负增长)(?:了|为|达|分别|幅度为?|均|超过?|近|约)*$")
_LEVEL_RE = re.compile(r"(?:提高|上升|增加|下降|降低)(?:到|至)$")
_VS_RE = re.compile(r"(?P<cmp>高于|低于|快于|慢于|超过?)(?P<ref>全国|全省|全市|全州|序时进度|[^，。；]{1,8}?)(?:平均水平)?$")
_BASIS_RE = re.compile(r"两年平均|年均|同比|环比|比上年同期|比去年同期|与去年同期相比|较上年|较去年|比上年|比去年"
                       r"|比(?P<y>(?:19|20)\d\d)年(?:同期)?")
# words in a growth clause that do not name anything (so the clause inherits the sentence's metric)
_FILLER_RE = re.compile(r"两年平均|年均|同比|环比|比上年同期|比去年同期|与去年同期相比|较上年同期|较上年|较去年|比上年|比去年"
                        r"|比(?:19|20)\d\d年(?:同期)?|总量|全年|累计|分别|其中|增速|增幅|降幅|同期|均|仍|继续|也|则|达到?|为|了"
                        r"|折合(?:美元)?|按美元计|以美元计|[“”\"'、（）()\s]")
_PLAN_CUE = re.compile(r"计划(?!完成)|年度任务")
_TARGET_CUE = re.compile(r"力争|确保|争取|预计|有望|力求|目标|预期|明确|拟|将达|要达到|必须达")
_CUMULATIVE_CUE = re.compile(r"累计")


def _basis_of(prefix: str, mention: Mention) -> str:
    if mention.basis:
        return mention.basis
    found = None
    for m in _BASIS_RE.finditer(prefix):
        found = m
    if found is None:
        return "同比"
    t = found.group()
    if t in ("两年平均", "年均"):
        return t
    if t == "环比":
        return "环比"
    if found.group("y"):
        return f"比{found.group('y')}年同期"
    return "同比"


# --------------------------------------------------------------------------------------------------
# Building claims
# --------------------------------------------------------------------------------------------------
@dataclass
class _Ctx:
    """What a sentence has established so far (for 其中 …, 同比增长 … and lists)."""

    last_base: str | None = None  # metric of the last actual amount/count claim in the sentence
    last_percent_metric: str | None = None
    last_subject: str | None = None
    last_currency: str | None = None  # currency of the last amount claim (a growth of a USD sum is in USD)
    last_clause_end: int | None = None  # end of the clause of the last claim
    last_number: tuple | None = None  # (end, gave a claim) of the last number read

    def continues(self, text: str, cs: int) -> bool:
        """True when nothing but separators and filler words lies between the last claim's clause and ``cs``."""
        if self.last_clause_end is None:
            return False
        gap = _CLAUSE_SEP.sub("", text[self.last_clause_end:cs])
        return len(_FILLER_RE.sub("", gap)) <= 2


@dataclass(frozen=True)
class _Sentence:
    """One sentence and what was found in it; the unit claims are read in."""

    text: str  # the whole document
    start: int
    end: int
    mentions: list  # (index, Mention) of the sentence, in reading order
    phrases: list  # _Phrase
    clauses: list  # (start, end)
    periods: list  # _Period
    years: list  # (position, year match)

    def clause_of(self, pos: int) -> tuple[int, int]:
        for cs, ce in self.clauses:
            if cs <= pos < ce:
                return cs, ce
        return pos, pos


@dataclass(frozen=True)
class _DocContext:
    """What the document (or its current part and paragraph) says about every claim in it."""

    date: _DocDate | None
    home: tuple  # (adcode, name) of the document's region
    carry_period: tuple | None  # (start, end, mention index) of the paragraph's last period phrase so far
    carry_year: int | None  # the last year written in the paragraph (or the report's topic year)


def build_claims(text: str, mentions: Sequence[Mention], *, meta=None,
                 paragraphs: Sequence[tuple[int, int]] | None = None,
                 taxonomy: Taxonomy | None = None) -> list[Claim]:
    """Claims of one normalized document, in reading order.

    ``mentions`` are the document's mentions (as from :func:`pipeline.extract.extract_text`); claims refer to
    them by index. ``meta`` is the document's :class:`~pipeline.docmeta.DocMeta` (date, home region, title);
    ``paragraphs`` the ``(start, end)`` spans of its paragraphs (default: the whole text).
    """
    tax = taxonomy or load_taxonomy()
    meta_date = _parse_date(getattr(meta, "date", None))
    meta_home = (getattr(meta, "region_adcode", None), getattr(meta, "region_name", None))
    title = getattr(meta, "title", None)
    paras = list(paragraphs) if paragraphs else [(0, len(text))]
    parts = document_parts(text)
    indexed = sorted(enumerate(mentions), key=lambda im: (im[1].start, -im[1].end))
    starts = [m.start for _, m in indexed]  # paragraph and sentence slices by bisection, not a scan each
    out: list[Claim] = []
    topic_year: int | None = None  # a year the report is about (刚刚过去的2025年，…), carried across paragraphs
    part = None
    doc_date, home = meta_date, meta_home
    for pi, (ps, pe) in enumerate(paras):
        k = next((j for j, (a, b) in enumerate(parts) if a <= ps < b), 0)
        if k != part:
            part = k
            if k == 0:  # the document's metadata describes its first part
                doc_date, home = meta_date, meta_home
            else:  # a later 篇 of a compilation: another report, dated by its own years, region unknown
                years = [int(y) for y in re.findall(r"((?:19|20)\d\d)年", text[parts[k][0]:parts[k][1]])]
                doc_date, home = (_DocDate(max(years), None) if years else None), (None, None)
                topic_year = None
        p_lo, p_hi = bisect_left(starts, ps), bisect_left(starts, pe)
        in_para = indexed[p_lo:p_hi]
        carry_period: tuple | None = None
        carry_year: int | None = topic_year
        for t in _TOPIC_YEAR_RE.finditer(text, ps, pe):
            topic_year = int(t.group("y"))
        if not in_para:
            continue
        # period phrases and years never hold a sentence end, so one scan of the paragraph finds each
        # sentence's own (a scan per sentence found the same, with a call per sentence)
        para_periods = find_periods(text, ps, pe)
        period_starts = [p.start for p in para_periods]
        para_years = [(m.start(), m) for m in _YEAR_RE.finditer(text, ps, pe)]
        year_starts = [y for y, _ in para_years]
        for ss, se in _spans(text, ps, pe, _SENT_END):
            in_sent = indexed[bisect_left(starts, ss, p_lo, p_hi):bisect_left(starts, se, p_lo, p_hi)]
            periods = para_periods[bisect_left(period_starts, ss):bisect_left(period_starts, se)]
            years = para_years[bisect_left(year_starts, ss):bisect_left(year_starts, se)]
            if any(m.kind in NUMERIC_KINDS for _, m in in_sent):
                sent = _Sentence(text, ss, se, in_sent, tax.find_phrases(text, ss, se),
                                 _spans(text, ss, se, _CLAUSE_SEP), periods, years)
                doc = _DocContext(doc_date, home, carry_period, carry_year)
                ctx = _Ctx()
                for i, m in in_sent:
                    if m.kind in NUMERIC_KINDS and m.value is not None:
                        c = _claim_for(sent, i, m, ctx, tax, doc)
                        ctx.last_number = (m.end, c is not None)
                        if c is not None:
                            out.append(Claim(**c, document=title, paragraph_index=pi))
            # carry the sentence's last period phrase and year to the rest of the paragraph
            if periods:
                last = periods[-1]
                carry_period = _resolved_period(last, doc_date, _year_before(years, last.start, doc_date, carry_year),
                                                in_sent)
            for _, ym in years:
                carry_year = _year_value(ym, doc_date) or carry_year
    return out


_PART_RE = re.compile(r"^[ \t　]*篇[一二三四五六七八九十]+(?:[ \t　]|$)", re.M)


def document_parts(text: str) -> list[tuple[int, int]]:
    r"""Spans of the reports in a compilation (范文 sites join several as 篇一 …, 篇二 …); one span otherwise.

    An outline line that only lists the parts (篇一 … at the top, before any text) does not start a part:
    a part starts at a 篇 heading followed by at least one paragraph of its own before the next heading.

    >>> document_parts("篇一 甲报告\n正文一\n篇二 乙报告\n正文二")
    [(0, 11), (11, 21)]
    >>> document_parts("没有分篇的报告")
    [(0, 7)]
    """
    starts = [m.start() for m in _PART_RE.finditer(text)]
    if len(starts) < 2:
        return [(0, len(text))]
    bounds = [0] + starts[1:] + [len(text)]
    return [(bounds[i], bounds[i + 1]) for i in range(len(bounds) - 1)]


def _year_value(m: re.Match, doc: _DocDate | None) -> int | None:
    if m.group("y"):
        return int(m.group("y"))
    return doc.year - 1 if doc else None


def _year_before(years, pos: int, doc: _DocDate | None, carry_year: int | None) -> int | None:
    """The last year written before ``pos`` in the sentence, else the paragraph's."""
    y = carry_year
    for s, m in years:
        if s < pos:
            y = _year_value(m, doc) or y
    return y


def _resolved_period(p: _Period, doc, ctx_year, in_sent) -> tuple:
    """``(start, end, mention index)`` of a period phrase; the date mention over it is kept as evidence.

    The phrase and its context decide the period (截至8月份 is January–August, and its year is the one
    written nearby, not the one a date extractor filled in from the document date).
    """
    for i, m in in_sent:
        if m.kind == "date" and m.start < p.end and p.start < m.end:
            s, e = _resolve(p, doc, ctx_year)
            return (s, e, i)
    s, e = _resolve(p, doc, ctx_year)
    return (s, e, None)


def _subject_before(s: _Sentence, tax: Taxonomy, lo: int, hi: int, *, projects: bool = True,
                    counts: bool = True) -> tuple[str | None, str | None, int]:
    """``(class, subject text, position)`` of the subject nearest before ``hi`` in ``text[lo:hi]``.

    Subjects are the taxonomy's groups (州级重点项目, 储备项目, 民间投资), named projects (``projects``) and,
    with ``counts``, a count's object where it names its group more fully (省市级82个重点项目 → 省市级重点项目).
    """
    text = s.text
    found = [(m.end(), m.end() - m.start(), cls, m.group(), m.start())
             for cls, rx in tax.subjects for m in rx.finditer(text, lo, hi)]
    for _, m in s.mentions:
        # a named project is the subject of what follows it — not when it only heads a list (…等47个项目)
        if projects and m.kind == "project" and lo <= m.start and m.end <= hi and not text.startswith("等", m.end) \
                and not any(rx.search(m.text) for _, rx in tax.subjects):
            found.append((m.end, m.end - m.start, "项目", m.text, m.start))
        if counts and m.kind == "count" and m.object and lo <= m.start and m.end <= hi:
            obj_cls = next((c for c, rx in tax.subjects if rx.fullmatch(m.object)), None)
            for k, (end, n, _cls, subj, pos) in enumerate(found):
                if obj_cls and pos < m.end and m.start - len(m.object) <= pos and subj in m.object \
                        and len(m.object) > n:
                    found[k] = (end, len(m.object), obj_cls, m.object, pos)
    if not found:
        return None, None, -1
    _, _, cls, subj, pos = max(found)
    return cls, subj, pos


_SECTOR_LEAD_RE = re.compile(r"^(?:其中|另外|此外|同时|对|从|在|我国|我省|我市|我区|我县|我州|全国|全省|全市|全区|全县|全州"
                             r"|本市|本省|单月|当月|同期|累计|已|共)+")
_SECTOR_RE = re.compile(r"[\u4e00-\u9fff、和及与]{1,14}?(?:业|产品|贸易|地区|领域|行业|企业|产业|部门|板块)")


def _sector_subject(s: _Sentence, m: Mention, metric_pos: int, cs: int) -> str | None:
    """The sector written right before a metric phrase: 服务业实际使用外资, 机电产品出口, 一般贸易进出口.

    A list read with 分别 gives each number its item (东部、中部、西部地区…分别增长8.7%、46.2%和42.2% →
    东部地区, 中部地区, 西部地区).
    """
    text = s.text
    if not cs <= metric_pos < m.start:
        return None
    lo = cs
    for p in s.periods:
        if cs <= p.start and p.end <= metric_pos:
            lo = max(lo, p.end)
    for _, r in s.mentions:
        if r.kind == "region" and cs <= r.start and r.end <= metric_pos:
            lo = max(lo, r.end)
    seg = _SECTOR_LEAD_RE.sub("", text[lo:metric_pos])
    if not _SECTOR_RE.fullmatch(seg):
        return None
    items = [x for x in re.split(r"[、和及与]", seg) if x]
    if len(items) > 1 and "分别" in text[metric_pos:m.start]:
        same = [x for _, x in s.mentions if x.kind == m.kind and metric_pos <= x.start and x.start < s.clause_of(m.start)[1]]
        if len(same) == len(items):
            suffix = next((x for x in ("地区", "产业", "行业", "企业") if items[-1].endswith(x)), "")
            item = items[[x.start for x in same].index(m.start)]
            return item if item.endswith(suffix) else item + suffix
    return seg


def _resolve_generic(s: _Sentence, tax: Taxonomy, ph: _Phrase, mention: Mention) -> tuple[str | None, str | None]:
    """The metric and subject of a generic phrase (完成投资, 总投资) from the sentence's subject."""
    text = s.text
    _, by_subject, default, _ = tax.generic[ph.generic]
    cls, subj, _ = _subject_before(s, tax, s.start, ph.start)
    if cls is None and mention.kind == "amount" and by_subject.get("项目"):
        # a named thing right before the verb (脚落沼煤矿完成投资741.17万元)
        cs = max([s.start] + [text.rfind(ch, s.start, ph.start) + 1 for ch in "，,；;：:"])
        name = re.sub(r"^(?:其中|另外|同时|此外|目前|已|共|累计)+", "", text[cs:ph.start]).strip()
        name = re.sub(r"(?:累计|已|共|开工以来|今年以来)+$", "", name)
        if 2 <= len(name) <= 24 and not find_periods(name) and not re.search(r"[全我本][县市区州省]", name):
            return by_subject["项目"], name
    if cls is not None and cls in by_subject:
        return by_subject[cls], subj
    return default, subj


def _claim_for(s: _Sentence, idx: int, m: Mention, ctx: _Ctx, tax: Taxonomy, doc: _DocContext) -> dict | None:
    """The claim read from one number (fields of :class:`Claim`), or None when no metric is found for it."""
    cs, ce = s.clause_of(m.start)
    found = (_percent_metric if m.kind == "percent" else _level_metric)(s, m, ctx, tax, cs, ce)
    if found is None:
        return None
    metric, subject, basis, value, metric_pos, how_metric = found
    met = tax.metric(metric)
    status = _status_of(s, m, tax, met, cs, ce)
    region_adcode, region_name, region_idx = _region_of(s, m, ctx, tax, doc.home, metric_pos, cs)
    pstart, pend, period_idx, how = _period_of(s, m, met, status, doc, ce)
    ctx.last_clause_end = ce
    unit = (m.currency or "CNY") if m.kind == "amount" else (m.unit or ("%" if m.kind == "percent" else "个"))
    used = [idx] + [i for i in (region_idx, period_idx) if i is not None]
    return dict(metric=metric, value=value, unit=unit, status=status, basis=basis, subject=subject,
                region_adcode=region_adcode, region_name=region_name, period_start=pstart, period_end=pend,
                qualifier=m.qualifier, value_max=float(m.value_max) if m.value_max is not None else None,
                sentence_start=s.start, sentence_end=s.end, start=min(cs, metric_pos) if metric_pos >= s.start else cs,
                end=ce, mention_indexes=tuple(dict.fromkeys(used)),
                evidence=(("metric", how_metric),
                          ("region", "text" if region_idx is not None else "document"), ("period", how)))


def _phrase_at(s: _Sentence, pos: int) -> str | None:
    """The metric phrase starting at ``pos`` (the evidence of a claim's metric)."""
    return next((s.text[p.start:p.end] for p in s.phrases if p.start == pos), None)


def _level_metric(s: _Sentence, m: Mention, ctx: _Ctx, tax: Taxonomy, cs: int, ce: int):
    """``(metric, subject, basis, value, metric position, evidence)`` of an amount or a count, or None."""
    text, phrases = s.text, s.phrases
    prefix = text[cs:m.start]
    cands: list[_Phrase] = []
    # (a) the number's own object / a phrase right after it (95个重点项目, 47个项目已竣工投产)
    cands += [p for p in phrases if p.kind == m.kind and p.start < m.start < p.end]
    cands += [p for p in phrases if p.kind == m.kind and m.start <= p.start <= m.end + 1 and p.start < ce]
    # (b) nearest before it in the clause, (c) right after it in the clause (65.5亿元年度投资计划)
    cands += [p for p in reversed(phrases) if p.kind == m.kind and cs <= p.start and p.end <= m.start]
    cands += [p for p in phrases if p.kind == m.kind and m.end <= p.start < min(ce, m.end + 12)]
    if m.kind == "count":
        # 338个重大项目分季度集中开工: the event after the counted noun is what is counted — unless the
        # event has its own number (95个重点项目已开复工86个)
        ev = next((p for p in phrases if p.kind == "count" and p.metric and tax.metric(p.metric).event
                   and m.start < p.start <= m.end + 8 and p.start < ce
                   and not any(m.end <= q.start < p.start and q.kind == "count" for q in phrases)), None)
        if ev is not None and not any(x.kind == "count" and m.end <= x.start < ce for _, x in s.mentions):
            cands.insert(0, ev)
    words = prefix
    for _, x in s.mentions:  # the clause's other figures (…11.6%（折合158.4亿美元) are not words naming a thing
        if x.kind in NUMERIC_KINDS and cs <= x.start and x.end <= m.start:
            words = words.replace(x.text, "")
    if not cands and m.kind == "amount" and len(_FILLER_RE.sub("", re.sub(r"增长|下降", "", words))) <= 2:
        # (d) a bare number continuing the sentence (…，达到4211亿元; …11.6%（折合158.4亿美元): the nearest
        # phrase before it
        cands += [p for p in reversed(phrases) if p.kind == m.kind and s.start <= p.start and p.end <= m.start]
    metric = subject = None
    metric_pos = m.start
    for p in cands:
        if p.generic is not None:
            mid, subj = _resolve_generic(s, tax, p, m)
            if mid is None or tax.metric(mid).kind != m.kind:
                continue
            metric, subject, metric_pos = mid, subj, p.start
        else:
            metric, metric_pos = p.metric, p.start
        break
    if metric is None:
        return None
    met = tax.metric(metric)
    if m.kind == "count" and met.units and (m.unit or "个") not in met.units:
        return None
    if subject is None:
        lo = s.start if met.subject_from == "sentence" else min(cs, metric_pos)
        subject = _subject_before(s, tax, lo, max(m.end, metric_pos), projects=False)[1]
        if m.kind == "count" and subject is None and m.object \
                and any(rx.fullmatch(m.object) for _, rx in tax.subjects):
            subject = m.object
        if subject is None and m.kind == "count":
            # the subject may follow the number inside the count (170个州级重点项目)
            subject = _subject_before(s, tax, m.start, min(ce, m.end + 8), projects=False, counts=False)[1]
        if subject is None and met.subject_from == "clause":
            subject = _sector_subject(s, m, metric_pos, cs)
    if not met.status:
        ctx.last_base, ctx.last_subject = metric, subject
        ctx.last_currency = (m.currency or "CNY") if m.kind == "amount" else None
    return metric, subject, None, float(m.value), metric_pos, _phrase_at(s, metric_pos)


def _percent_metric(s: _Sentence, m: Mention, ctx: _Ctx, tax: Taxonomy, cs: int, ce: int):
    """``(metric, subject, basis, value, metric position, evidence)`` of a percent, or None.

    In order: a share of a plan (占年度计划的Y%) files under the plan-share companion of the amount before it;
    a lead over schedule (高于序时进度Zpp) likewise; a percent metric's own phrase (开工率, 民间投资占比,
    GDP增速); a growth (同比增长Z%) of the amount or count metric named in the clause, or of the sentence's
    last claim when the clause names nothing else; a bare item of a list continuing a percent metric.
    """
    text, phrases = s.text, s.phrases
    prefix = text[cs:m.start]
    if _LEVEL_RE.search(prefix):  # 提高到73.4%: a level reached, not a rate of a metric
        return None
    value, basis, inherited = float(m.value), None, False
    metric_pos = m.start
    share = _SHARE_RE.search(prefix)
    vs = _VS_RE.search(prefix) if m.unit == "pp" else None
    own = [p for p in reversed(phrases) if cs <= p.start and p.end <= m.start]
    pct_phrase = next((p for p in own if p.kind == "percent"), None)
    base_phrase = next((p for p in own if p.kind != "percent" and p.generic is None), None)
    growth = _GROWTH_RE.search(prefix) is not None or (m.direction in ("up", "down") and not share)
    # what lies between this number and the previous one (or the clause start), regions aside:
    # "北京10.7%、浙江10.6%" — 浙江's number continues the list
    prev_end = max([x.end for _, x in s.mentions if x.kind in NUMERIC_KINDS and cs <= x.end <= m.start] + [cs])
    local = text[prev_end:m.start]
    for _, x in s.mentions:
        if x.kind == "region" and prev_end <= x.start and x.end <= m.start:
            local = local.replace(x.text, "")
    bare = len(_FILLER_RE.sub("", _GROWTH_RE.sub("", local))) <= 2
    if bare and prev_end > cs and ctx.last_number == (prev_end, False):
        return None  # an item of a list whose head names no metric (国内贷款…分别下降24.4%、5.2%)
    if share:
        base = (base_phrase.metric if base_phrase and base_phrase.start < share.start() else None) \
            or (ctx.last_base if ctx.continues(text, cs) or (ctx.last_clause_end or -1) >= cs else None)
        if base is None:
            return None
        basis = "占总投资" if "总投资" in share.group() else "占计划"
        metric, how = tax.plan_share_of(base), f"share of plan ({share.group()})"
        if metric is None:
            return None
    elif vs and "序时进度" in vs.group("ref") and ctx.last_base and tax.plan_share_of(ctx.last_base):
        metric, basis = tax.plan_share_of(ctx.last_base), vs.group("cmp") + "序时进度"
        how = vs.group()
    elif pct_phrase is not None:
        metric, metric_pos, how = pct_phrase.metric, pct_phrase.start, _phrase_at(s, pct_phrase.start)
        if vs:
            basis = vs.group("cmp") + vs.group("ref")
        elif growth:
            basis = _basis_of(prefix, m)
    elif growth and base_phrase is not None:
        metric, metric_pos = tax.growth_of(base_phrase.metric), base_phrase.start
        basis, how = _basis_of(prefix, m), f"growth of {_phrase_at(s, base_phrase.start)}"
    elif growth and bare and (ctx.last_base or ctx.last_percent_metric) and ctx.continues(text, cs):
        metric, inherited = tax.growth_of(ctx.last_base or ctx.last_percent_metric), True
        basis, how = _basis_of(prefix, m), "growth of the figure before"
    elif bare and not growth:
        # a list continuing a percent metric (北京10.7%、浙江10.6%) or one named earlier in the sentence
        prev = next((p for p in reversed(phrases) if p.kind == "percent" and s.start <= p.start
                     and p.end <= m.start), None)
        if prev is None:
            return None
        metric, metric_pos, how = prev.metric, prev.start, f"list after {_phrase_at(s, prev.start)}"
    else:
        return None
    if growth and basis and basis != "占计划" and (_DOWN_TAIL_RE.search(prefix) or value < 0
                                                   or m.text.lstrip().startswith(("-", "−", "负"))):
        value = -abs(value)
    met = tax.metric(metric)
    if basis is None and met.base and tax.growth_of(met.base) == metric:
        basis = _basis_of(prefix, m)  # a growth rate named by its own phrase (GDP增速…北京10.7%)
    if basis and basis != "占计划" and (re.search(r"美元", prefix) or inherited and ctx.last_currency == "USD"):
        basis += "（按美元计）"  # 折合158.4亿美元，同比增长17.6%: not the yuan growth of the same figure
    lo = s.start if met.subject_from == "sentence" else min(cs, metric_pos)
    subject = _subject_before(s, tax, lo, m.start, projects=False, counts=False)[1]
    if subject is None and (inherited or share):
        subject = ctx.last_subject
    if subject is None and met.subject_from == "clause":
        subject = _sector_subject(s, m, metric_pos, s.clause_of(metric_pos)[0])
    ctx.last_percent_metric = metric
    return metric, subject, basis, value, metric_pos, how


def _status_of(s: _Sentence, m: Mention, tax: Taxonomy, met: Metric, cs: int, ce: int) -> str:
    """actual | plan | target | cumulative, from the metric itself or cue words in the number's clause."""
    if met.status:
        return met.status
    text = s.text
    prefix = text[cs:m.start]
    # cue words inside other metrics' phrases (年度投资计划) say nothing about this number's status
    chars = list(text[cs:ce])
    for p in s.phrases:
        if cs <= p.start and p.end <= ce and p.metric != met.id:
            chars[p.start - cs:p.end - cs] = ["　"] * (p.end - p.start)
    cue_text = "".join(chars)
    share = _SHARE_RE.search(prefix) if m.kind == "percent" else None
    if share:  # 完成年度计划的42%: the plan words name the denominator
        cue_text = cue_text[:share.start()] + cue_text[m.end - cs:]
    if m.kind == "amount":
        # 占计划16.1亿元的19.9%: the plan words belong to the share, not to this amount's status
        cue_text = re.sub(r"(?:占|完成)[^，。；]{0,12}?(?:计划|目标|任务)[^，。；]{0,16}?的\d[\d.]*%", "", cue_text)
    if _TARGET_CUE.search(re.sub(r"(?:完成|占)[^，。；]{0,8}?目标的", "", cue_text)):
        return "target"
    if _PLAN_CUE.search(re.sub(r"(?:占|完成)[^，。；]{0,6}?(?:年度)?计划的?", "", cue_text)):
        return "plan"
    if _CUMULATIVE_CUE.search(prefix):
        return "cumulative"
    return "actual"


def _region_of(s: _Sentence, m: Mention, ctx: _Ctx, tax: Taxonomy, home: tuple, metric_pos: int, cs: int):
    """``(adcode, name, mention index)``: a region named before the number, else the document's home region.

    One in an earlier clause than the metric's is taken only when the claim continues that clause
    (…山西进出口总额达1703.4亿元，增长76.8%) or when that clause reports no figure of its own
    (排名第三的北京，同期工业增加值增速…达到38.7%) — not in "近5000亿量级的惠州，整个都市圈经济总量…"; a region
    inside a project name or heading a list (温江区罗欣药业…等215个项目) is not the figure's region.
    """
    text = s.text
    own_start = s.clause_of(metric_pos)[0] if s.start <= metric_pos < m.start else cs
    continues = metric_pos < cs or (m.kind == "percent" and ctx.continues(text, cs))
    for i, r in reversed(s.mentions):
        if r.kind != "region" or r.end > m.start:
            continue
        if r.start < own_start and not continues:
            rcs, rce = s.clause_of(r.start)
            if any(x.kind in NUMERIC_KINDS and rcs <= x.start < rce for _, x in s.mentions):
                continue
            between = _CLAUSE_SEP.sub("", text[r.end:metric_pos])
            if len(_FILLER_RE.sub("", between)) > 1:
                continue
        if any(p.kind == "project" and p.start <= r.start and r.end <= p.end for _, p in s.mentions):
            continue
        gap = text[r.end:min(m.start, metric_pos) if metric_pos > r.end else m.start]
        if len(gap) > 6 and not any(p.start - r.end <= 6 for p in s.phrases if p.start >= r.end) \
                and not any(rx.match(text, r.end) for _, rx in tax.subjects):
            continue
        if "等" in gap[:6]:
            continue
        return r.adcode, _region_name(r), i
    return home[0], home[1], None


def _period_of(s: _Sentence, m: Mention, met: Metric, status: str, doc: _DocContext, ce: int):
    """``(start, end, date mention index, how)`` — see *Periods* in the module docstring."""
    text, years, date = s.text, s.years, doc.date
    before = [p for p in s.periods if p.end <= m.start]
    after = [p for p in s.periods if m.end <= p.start < ce]
    choice = before[-1] if before else (after[0] if after else None)
    if met.period == "annual":  # an annual plan: the whole year of the period written beside it
        y = None
        if choice is not None:
            start, _ = _resolve(choice, date, _year_before(years, choice.start, date, doc.carry_year))
            y = int(start[:4]) if start else None
        elif doc.carry_period and doc.carry_period[0]:
            y = int(doc.carry_period[0][:4])
        y = y or _year_before(years, m.start, date, doc.carry_year) or (date.year if date else None)
        return (f"{y}-01-01", f"{y}-12-31", None, "annual") if y else (None, None, None, "annual")
    if choice is not None:
        start, end, idx = _resolved_period(choice, date, _year_before(years, choice.start, date, doc.carry_year),
                                           s.mentions)
        return start, end, idx, text[choice.start:choice.end]
    if doc.carry_period is not None:
        return (*doc.carry_period, "paragraph")
    y = _year_before(years, m.start, date, doc.carry_year)
    if status in ("plan", "target"):
        y = y or (date.year if date else None)
        return (f"{y}-01-01", f"{y}-12-31", None, "year") if y else (None, None, None, "unknown")
    if y is not None and (date is None or y != date.year):
        return f"{y}-01-01", f"{y}-12-31", None, "year"
    if date is not None:
        return f"{date.year}-01-01", date.isoformat(), None, "document"
    return None, None, None, "unknown"


def _region_name(r: Mention) -> str:
    """The canonical name of a region mention (成都 → 成都市) where its adcode is known."""
    if r.adcode:
        try:
            from .regions import get

            reg = get(r.adcode)
            if reg is not None:
                return reg.name
        except Exception:  # the region table is optional here: fall back to the text as written
            pass
    return r.text


def metric_rows(taxonomy: Taxonomy | None = None) -> list[dict]:
    """The taxonomy as table rows (for the database and documentation)."""
    tax = taxonomy or load_taxonomy()
    return [{"id": m.id, "kind": m.kind, "description": m.description, "phrases": "、".join(m.phrases),
             "base": m.base, "derived": m.derived} for m in tax.metrics.values()]
