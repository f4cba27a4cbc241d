"""Claims on real text: the metric taxonomy, its cases, the seeds' key figures and a hand-reviewed sample.

Everything here runs the real pipeline (normalize → document_meta → extract_text → build_claims).
"""
from __future__ import annotations

from dataclasses import FrozenInstanceError
from functools import lru_cache
from pathlib import Path
from types import SimpleNamespace

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import CORPUS, DEVCORPUS, ROOT, SEEDS, dev_paths, needs_shared, seed_paths
from pipeline.claims import Claim, build_claims, document_parts, load_taxonomy, parse_period

REVIEW = ROOT / "tests" / "fixtures" / "claims_review.yaml"

REQUIRED = ["全社会固定资产投资", "固定资产投资增速", "重点项目完成投资", "重点项目个数", "年度计划投资", "总投资",
            "开工率", "开复工率", "新开工项目个数", "竣工项目个数", "储备项目个数", "储备项目投资", "民间投资占比",
            "技改投资增速", "地区生产总值", "地区生产总值增速", "一般公共预算收入", "社会消费品零售总额", "进出口总额"]


# ------------------------------------------------------------------------------------------ pipeline
@lru_cache(maxsize=None)
def processed(path: Path):
    """``(text, mentions, meta, paragraphs)`` of a document through the real pipeline."""
    from pipeline.docmeta import document_meta
    from pipeline.extract import extract_text
    from pipeline.normalize import normalize, split_paragraphs

    text = normalize(path.read_bytes(), name=path.name).text
    meta = document_meta(text)
    return text, extract_text(text, meta=meta), meta, split_paragraphs(text)


@lru_cache(maxsize=None)
def claims_of(path: Path) -> tuple[str, tuple[Claim, ...], list]:
    text, mentions, meta, paragraphs = processed(path)
    return text, tuple(build_claims(text, mentions, meta=meta, paragraphs=paragraphs)), mentions


def claim_at(path: Path, near: str, number: str) -> Claim | None:
    """The claim built from the number ``number`` inside the first occurrence of ``near``."""
    text, claims, mentions = claims_of(path)
    i = text.find(near)
    assert i >= 0, f"{near!r} is not in the normalized text of {path.name}"
    j = i + near.index(number)
    for c in claims:
        m = mentions[c.mention_indexes[0]]
        if m.start < j + len(number) and j < m.end:
            return c
    return None


def seed(prefix: str) -> Path:
    return next(p for p in seed_paths() if p.name.startswith(prefix))


# ------------------------------------------------------------------------------------------ taxonomy
def test_taxonomy_has_the_required_metrics_with_kind_and_description():
    tax = load_taxonomy()
    for mid in REQUIRED:
        m = tax.metric(mid)
        assert m.kind in ("amount", "percent", "count") and m.description, mid
    assert tax.metric("固定资产投资增速").base == "全社会固定资产投资"
    assert tax.growth_of("全社会固定资产投资") == "固定资产投资增速"
    assert tax.growth_of("民间投资占比") == "民间投资增速"  # a share's growth is its base's
    with pytest.raises(KeyError, match="not in rules/metrics.yaml"):
        tax.metric("no such metric")


def test_metrics_yaml_keeps_its_cases_out_of_the_mention_examples():
    data = yaml.safe_load((ROOT / "rules" / "metrics.yaml").read_text(encoding="utf-8"))
    assert "examples" not in data and "negatives" not in data  # tests/test_rule_examples.py reads those
    assert len(data["cases"]) >= 20


def _case_id(case):
    return f"{case['span']}@{case['sentence'][:12]}"


@pytest.mark.parametrize("case", load_taxonomy().cases, ids=_case_id)
def test_metric_cases(case):
    """Each case of rules/metrics.yaml: the claim built from `span` in `sentence` has the expected fields."""
    from pipeline.extract import extract_text

    text = case["sentence"]
    meta = SimpleNamespace(date="2019-09-30", region_adcode=None, region_name=None, title=None)
    mentions = extract_text(text, meta=meta)
    claims = build_claims(text, mentions, meta=meta, paragraphs=[(0, len(text))])
    j = text.index(case["span"])
    hit = [c for c in claims if mentions[c.mention_indexes[0]].start < j + len(case["span"])
           and j < mentions[c.mention_indexes[0]].end]
    if case["expect"] is None:  # a number that measures no metric of the taxonomy
        assert not hit, f"{case['span']!r} should give no claim, got {[(c.metric, c.value) for c in hit]}"
        return
    assert hit, f"no claim for {case['span']!r}; claims: {[(c.metric, c.value) for c in claims]}"
    got = hit[0]
    for k, v in case["expect"].items():
        if isinstance(v, (int, float)) and not isinstance(v, bool):
            assert getattr(got, k) == pytest.approx(v), k
        else:
            assert getattr(got, k) == v, f"{k}: {getattr(got, k)!r} != {v!r}"


# ------------------------------------------------------------------------------------------ periods
@pytest.mark.parametrize("phrase, doc_date, year, expected", [
    ("1—8月", "2019-10-01", None, ("2019-01-01", "2019-08-31")),
    ("一至四月份", "2022-05-20", None, ("2022-01-01", "2022-04-30")),
    ("今年以来", "2017-08-11", None, ("2017-01-01", "2017-08-11")),
    ("截至5月底", "2020-06-10", None, ("2020-01-01", "2020-05-31")),
    ("截至8月份", None, 2023, ("2023-01-01", "2023-08-31")),
    ("上半年", "2017-08-11", None, ("2017-01-01", "2017-06-30")),
    ("前三季度", "2021-11-01", None, ("2021-01-01", "2021-09-30")),
    ("三季度", "2019-10-01", None, ("2019-07-01", "2019-09-30")),
    ("去年1-11月", "2022-01-25", None, ("2021-01-01", "2021-11-30")),
    ("2022年1月", None, None, ("2022-01-01", "2022-01-31")),
    ("2010年", "2022-01-25", None, ("2010-01-01", "2010-12-31")),
    ("今年前5个月", "2021-07-20", None, ("2021-01-01", "2021-05-31")),
    ("今年以来", "2017", None, ("2017-01-01", None)),  # a year-only document date: the end is unknown
    ("1—8月", None, None, (None, None)),  # no year anywhere: left unknown rather than guessed
])
def test_parse_period(phrase, doc_date, year, expected):
    assert parse_period(phrase, doc_date, year) == expected


_PERIOD_PIECES = list("截至止到今去上本年以来目前为止时期间十一二三四五六七八九〇0123456789２０-—–~～至月份底末前个半下季度第全同期”\"，。a ")


def _plain_periods(text: str, start: int = 0, end: int | None = None) -> list[tuple[int, int]]:
    from pipeline.claims import _PERIOD_RE

    return [m.span() for m in _PERIOD_RE.finditer(text, start, len(text) if end is None else end)]


def _found_periods(text: str, start: int = 0, end: int | None = None) -> list[tuple[int, int]]:
    from pipeline.claims import find_periods

    return [(p.start, p.end) for p in find_periods(text, start, end)]


@pytest.mark.parametrize("path", sorted(CORPUS.glob("*.txt")) + dev_paths(), ids=lambda p: p.name)
def test_period_scan_finds_what_the_pattern_finds(path):
    """find_periods tries the period pattern only near anchor characters; it must find exactly what a plain
    scan finds, over whole documents and over every sentence (the way build_claims calls it)."""
    import re

    from pipeline.normalize import normalize

    text = normalize(path.read_bytes(), name=path.name).text
    assert _found_periods(text) == _plain_periods(text) != []
    for m in re.finditer(r"[^。！？!?\n]+", text):
        assert _found_periods(text, *m.span()) == _plain_periods(text, *m.span())


@pytest.mark.parametrize("phrase", ["截止到2019年12月份", "截至到目前", "十三五”时期", "2020年前十二个月",
                                    "去年十一—十二月份", "今年第四季度", "2019年下半年", "年底前", "至今"])
def test_period_scan_keeps_the_longest_leads(phrase):
    text = "，" + phrase + "。"
    assert _found_periods(text) == _plain_periods(text) == [(1, 1 + len(phrase))]


@settings(max_examples=300, deadline=None, suppress_health_check=list(HealthCheck))
@given(st.text(st.sampled_from(_PERIOD_PIECES), max_size=40), st.integers(0, 40), st.integers(0, 40))
def test_period_scan_on_any_text(text, a, b):
    a, b = sorted((min(a, len(text)), min(b, len(text))))
    assert _found_periods(text, a, b) == _plain_periods(text, a, b)


@settings(max_examples=300, deadline=None, suppress_health_check=list(HealthCheck))
@given(st.text(st.sampled_from(_PERIOD_PIECES + list("！？!?\n")), max_size=40))
def test_a_paragraph_scan_finds_each_sentences_periods(text):
    """build_claims scans a paragraph once and gives each sentence the phrases starting in it: the same
    as scanning each sentence alone (no period phrase or year holds a sentence end)."""
    import bisect

    from pipeline.claims import _SENT_END, _YEAR_RE, _spans

    whole = _found_periods(text)
    years = [m.span() for m in _YEAR_RE.finditer(text)]
    for ss, se in _spans(text, 0, len(text), _SENT_END):
        starts = [a for a, _ in whole]
        assert whole[bisect.bisect_left(starts, ss):bisect.bisect_left(starts, se)] == _found_periods(text, ss, se)
        assert [y for y in years if ss <= y[0] < se] == [m.span() for m in _YEAR_RE.finditer(text, ss, se)]


def test_parse_period_rejects_text_without_a_period():
    with pytest.raises(ValueError, match="no period phrase"):
        parse_period("全社会固定资产投资", "2017-08-11")


def test_document_parts_split_a_compilation_only():
    text = "篇一 县人民政府报告\n正文一\n篇二 区报告\n正文二\n篇三 区报告\n正文三"
    parts = document_parts(text)
    assert [text[a:b].split()[0] for a, b in parts] == ["篇一", "篇二", "篇三"]
    assert document_parts("今年以来，全社会固定资产投资完成187.43亿元") == [(0, 24)]


# ------------------------------------------------------------------------------------------ the seeds
@needs_shared
def test_ganzi_fixed_asset_investment_2017_year_to_date():
    path = seed("000")
    amount = claim_at(path, "全社会固定资产投资完成187.43亿元", "187.43亿元")
    assert (amount.metric, amount.region_adcode, amount.value, amount.unit, amount.status) == \
           ("全社会固定资产投资", "513300", 18743000000, "CNY", "actual")
    assert (amount.period_start, amount.period_end) == ("2017-01-01", "2017-08-11")
    growth = claim_at(path, "同比增长11%左右", "11%")
    assert (growth.metric, growth.value, growth.unit, growth.basis, growth.qualifier) == \
           ("固定资产投资增速", 11, "%", "同比", "左右")
    assert (growth.region_adcode, growth.period_start, growth.period_end) == \
           ("513300", amount.period_start, amount.period_end)
    target = claim_at(path, "全社会固定资产投资完成460.00亿元以上", "460.00亿元")
    assert (target.status, target.period_end, target.value) == ("target", "2017-12-31", 46000000000)


@needs_shared
def test_chengdu_key_projects_january_to_august_2019():
    path = seed("002")
    done = claim_at(path, "1—8月完成投资3568.05亿元", "3568.05亿元")
    assert (done.metric, done.region_adcode, done.value, done.status) == \
           ("重点项目完成投资", "510100", 356805000000, "actual")
    assert (done.period_start, done.period_end) == ("2019-01-01", "2019-08-31")
    share = claim_at(path, "占年度计划的77.45%", "77.45%")
    assert (share.metric, share.value, share.basis, share.period_end) == \
           ("重点项目投资计划完成率", 77.45, "占计划", "2019-08-31")
    plan = claim_at(path, "年度计划投资4606.99亿元", "4606.99亿元")
    assert (plan.metric, plan.value, plan.status, plan.period_start, plan.period_end) == \
           ("年度计划投资", 460699000000, "plan", "2019-01-01", "2019-12-31")
    provincial = claim_at(path, "144个省重点项目完成投资1338.3亿元", "1338.3亿元")
    assert (provincial.subject, provincial.period_end) == ("省重点项目", "2019-08-31")  # 其中 …
    # 温江区 heads a project name: the figure is still Chengdu's
    started = claim_at(path, "等215个项目开工建设", "215")
    assert (started.metric, started.region_adcode) == ("新开工项目个数", "510100")


@needs_shared
def test_zhashui_key_projects_by_end_of_may():
    path = seed("001")
    count = claim_at(path, "全县95个重点项目", "95")
    done = claim_at(path, "完成投资43亿元", "43亿元")
    assert (count.metric, count.value, count.region_adcode) == ("重点项目个数", 95, "611026")
    assert (done.metric, done.value, done.unit, done.status, done.region_adcode) == \
           ("重点项目完成投资", 4300000000, "CNY", "actual", "611026")
    text, _, mentions = claims_of(path)
    period_mentions = [mentions[i] for i in done.mention_indexes if mentions[i].kind == "date"]
    assert [m.text for m in period_mentions] == ["截至5月底"]  # the evidence of its period
    # the text has no date; “十四五”规划编制 dates it to 2020
    assert (done.period_start, done.period_end) == ("2020-01-01", "2020-05-31")
    assert (count.period_start, count.period_end) == ("2020-01-01", "2020-05-31")


# ------------------------------------------------------------------------------------------ invariants
def _all_docs() -> list[Path]:
    return seed_paths() + dev_paths()


@pytest.mark.parametrize("path", _all_docs(), ids=lambda p: f"{p.parent.name}/{p.name}")
def test_claims_are_well_formed(path):
    text, claims, mentions = claims_of(path)
    tax = load_taxonomy()
    paragraphs = processed(path)[3]
    for c in claims:
        with pytest.raises(FrozenInstanceError):
            c.value = 0  # type: ignore[misc]
        met = tax.metric(c.metric)
        m = mentions[c.mention_indexes[0]]
        assert m.kind == met.kind or (m.kind == "percent" and met.kind == "percent"), (c.metric, m.kind)
        assert c.unit == ("CNY" if m.kind == "amount" and not m.currency else c.unit)
        assert c.status in ("actual", "plan", "target", "cumulative")
        assert c.sentence_start <= m.start and m.end <= c.sentence_end
        assert c.start <= m.start < c.end <= c.sentence_end
        ps, pe = paragraphs[c.paragraph_index]
        assert ps <= m.start < pe
        assert all(0 <= i < len(mentions) for i in c.mention_indexes)
        if c.period_start and c.period_end:
            assert c.period_start <= c.period_end
        row = c.to_row()
        assert set(row) >= {"metric", "subject", "region_adcode", "region_name", "period_start", "period_end",
                            "value", "unit", "status", "basis", "paragraph_index", "start", "end",
                            "mention_indexes"}


@needs_shared
def test_every_document_with_figures_yields_claims():
    for path in _all_docs():
        _, claims, mentions = claims_of(path)
        numbers = [m for m in mentions if m.kind in ("amount", "percent")]
        if len(numbers) >= 5:
            assert len(claims) >= len(numbers) // 4, path.name


# ------------------------------------------------------------------------------------------ hand review
def _review_items() -> list[dict]:
    return yaml.safe_load(REVIEW.read_text(encoding="utf-8"))["items"]


def _right(item: dict) -> tuple[bool, str]:
    path = (SEEDS if item["doc"].startswith("seeds/") else DEVCORPUS) / item["doc"].split("/", 1)[1]
    c = claim_at(path, item["near"], str(item["number"]))
    if c is None:
        return False, "no claim"
    period = item["period"]
    want_period = (None, None) if period is None else tuple(str(d) for d in period)
    region = c.region_adcode or c.region_name
    problems = []
    if c.metric != item["metric"]:
        problems.append(f"metric {c.metric}")
    if region != item["region"]:
        problems.append(f"region {region}")
    if (c.period_start, c.period_end) != want_period:
        problems.append(f"period {c.period_start}..{c.period_end}")
    return not problems, ", ".join(problems)


@needs_shared
def test_reviewed_claims():
    """At least 45 of the 50 hand-reviewed claims have the right metric, region and period."""
    items = _review_items()
    assert len(items) == 50
    results = [(item, *_right(item)) for item in items]
    wrong = [f"{i['doc']} {i['near']}: {why}" for i, ok, why in results if not ok]
    right = len(items) - len(wrong)
    print(f"\nreviewed claims right: {right}/{len(items)}")
    for w in wrong:
        print("  wrong:", w)
    assert right >= 45, "\n".join(wrong)



# ------------------------------------------------------------------------------------------ robustness
_PIECES = list("今年以来全社会固定资产投资完成亿元同比增长下降%，。、；1234567890.—-月底截至上半年重点项目个占计划的省县甘孜成都\n篇一二 ")


@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
@given(st.text(st.sampled_from(_PIECES), max_size=60), st.sampled_from([None, "2017", "2017-08", "2017-08-11"]))
def test_any_text_gives_well_formed_claims(text, date):
    from pipeline.extract import extract_text

    meta = SimpleNamespace(date=date, region_adcode=None, region_name=None, title=None)
    mentions = extract_text(text, meta=meta)
    for c in build_claims(text, mentions, meta=meta, paragraphs=[(0, len(text))]):
        assert 0 <= c.start <= c.end <= len(text) and c.mention_indexes[0] < len(mentions)
        assert c.period_start is None or c.period_end is None or c.period_start <= c.period_end


@needs_shared
@pytest.mark.parametrize("path", dev_paths(), ids=lambda p: p.name)
def test_broken_copies_give_the_same_claims(path):
    """The devcorpus' broken copies (mojibake, pinyin, traditional characters) yield the clean text's claims."""
    broken = DEVCORPUS / "broken" / path.name
    if not broken.exists():
        pytest.skip(f"no broken copy of {path.name}")

    def figures(p: Path) -> set:
        return {(c.metric, c.value, c.region_adcode, c.period_start, c.period_end, c.status) for c in claims_of(p)[1]}

    clean = figures(path)
    assert clean and figures(broken) == clean


def test_docstring_examples():
    """The examples in the modules' docstrings are true (pipeline.claims and pipeline.query)."""
    import doctest

    import pipeline.claims
    import pipeline.query

    for module in (pipeline.claims, pipeline.query):
        result = doctest.testmod(module)
        assert result.attempted and not result.failed, module.__name__
