"""Document meta (title, date, home region) on the real seeds and devcorpus documents."""
from __future__ import annotations

import dataclasses
from functools import lru_cache
from pathlib import Path

import pytest

from conftest import CORPUS, DEVCORPUS, SEEDS, needs_shared
from pipeline.docmeta import DocMeta, document_meta
from pipeline.normalize import normalize


@lru_cache(maxsize=None)
def meta_of(path: Path) -> DocMeta:
    return document_meta(normalize(path.read_bytes(), name=path.name).text)


def seed(prefix: str) -> Path:
    src = SEEDS if SEEDS.is_dir() else CORPUS
    return next(src.glob(f"{prefix}_*.txt"))


def test_masthead_gives_region_and_date():
    m = meta_of(seed("000"))
    assert (m.region_adcode, m.region_name, m.region_level) == ("513300", "甘孜藏族自治州", "city")
    assert m.date == "2017-08-11"
    ev = m.evidence_dict()
    assert ev["region"].startswith("masthead") and "2017年08月11日" in ev["date"]


def test_title_gives_county():
    m = meta_of(seed("001"))
    assert m.title == "柞水五项措施确保投资稳增长"
    assert (m.region_adcode, m.region_name, m.region_level) == ("611026", "柞水县", "county")
    assert m.evidence_dict()["region"] == "title: 柞水"
    assert m.date == "2020"  # 紧扣…“十四五”规划编制机遇: written the year before the plan starts


def test_deictic_city_words_resolve_to_the_city_named_most():
    m = meta_of(seed("002"))
    assert (m.region_adcode, m.region_name) == ("510100", "成都市")
    assert m.date == "2019-10-01"
    assert m.title.startswith("关注")


def test_signature_of_an_unlisted_county_and_chinese_numeral_date():
    m = meta_of(seed("003"))
    assert m.region_name == "天城县" and m.region_adcode is None and m.region_level == "county"
    assert m.date == "2005-04-27"
    assert m.evidence_dict()["region"] == "signature: 天城县人民政府"


def test_provincial_speech_takes_the_province_of_the_cities_named():
    m = meta_of(seed("004"))
    assert (m.region_adcode, m.region_level) == ("230000", "province")
    assert m.title == "在全省产业项目建设暨工业固定资产投资视频会议上的讲话"


@needs_shared
@pytest.mark.parametrize("doc,adcode,date", [
    ("001.txt", "420000", "2026"),   # 湖北 work report: 全省 + 湖北; reviews 刚刚过去的2025年
    ("002.txt", None, None),         # national statistics: no home region
    ("003.txt", "440300", "2022"),   # title: 深圳GDP破3万亿元; 去年1-11月 = 2021年1-11月
    ("004.txt", None, "2022"),
    ("005.txt", None, "2021"),
    ("006.txt", None, "2022"),
])
def test_devcorpus(doc, adcode, date):
    m = meta_of(DEVCORPUS / doc)
    assert m.region_adcode == adcode
    assert m.date == date


def test_meta_is_frozen_and_serializable():
    m = document_meta("柞水五项措施确保投资稳增长\n本报讯 今年以来,柞水县集中力量加快推进重大项目建设。")
    with pytest.raises(dataclasses.FrozenInstanceError):
        m.title = "x"  # type: ignore[misc]
    assert m.to_json()["region_adcode"] == "611026"
    assert hash(m)


def test_dateline_and_national_title():
    m = document_meta("本报记者 王明\n新华社成都10月1日电 四川全省经济运行稳中有进。")
    assert m.region_adcode == "510100" and m.evidence_dict()["region"].startswith("dateline")
    national = document_meta("1-4月全国商品房销售量价齐跌\n新华社北京5月16日电 国家统计局公布数据。")
    assert national.region_adcode is None


def test_source_line_and_autonomous_region_deixis():
    text = ("1—7月全区扩大有效投资重大项目推进情况\n来源：宁夏日报\n"
            "1—7月,全区重大项目加速推进。中卫市增长36.4%,吴忠市增长7.5%。自治区住房和城乡建设厅1个。")
    m = document_meta(text)
    assert (m.region_adcode, m.evidence_dict()["region"]) == ("640000", "source: 宁夏日报")
    without_source = document_meta(text.replace("来源：宁夏日报\n", ""))
    assert without_source.region_adcode == "640000"  # 全区 + 自治区: the autonomous region


def test_a_period_is_not_a_date():
    m = document_meta("1-2月广东经济数据出炉\n2021年1-2月，广东经济持续稳定恢复。")
    assert m.date == "2021" and m.region_adcode == "440000"


def test_relative_year_beats_the_latest_year_mentioned():
    text = ("深圳经济稳步增长\n2021年，深圳经济总量突破3万亿元。据去年12月底发布的《2021年1-11月经济运行情况》，"
            "去年1-11月，全市规模以上工业增加值同比增长4.8%。")
    m = document_meta(text)
    assert m.date == "2022" and m.evidence_dict()["date"].startswith("relative year")
    glossed = document_meta("回顾去年（2023年），全县地区生产总值增长6%。2024年目标增长6.5%。")
    assert glossed.date == "2024"
    # 去年 with no number beside it says nothing: the weak fallback stays
    weak = document_meta("去年全县生产总值增长6%。2023年以来，投资稳步回升。")
    assert weak.date == "2023" and "weak" in weak.evidence_dict()["date"]


def test_report_title_and_plan_year_date_a_work_report():
    # the title names the year of a work report; a statistical bulletin comes out the year after
    m = document_meta("陕西省2026年政府工作报告\n各位代表：\n2027年、2028年分别建成两条高铁。")
    assert m.date == "2026" and m.evidence_dict()["date"].startswith("report title")
    assert document_meta("2021年四川省国民经济和社会发展统计公报\n2021年，全省生产总值增长8.2%。").date == "2022"
    # no title: 今年是“十五五”开局之年 dates the text, and beats the future years it plans for
    plan = document_meta("各位代表：\n今年是实施“十五五”规划开局之年。力争2030年基本建成。")
    assert plan.date == "2026" and plan.evidence_dict()["date"].startswith("relative year")
    two_year = document_meta("1-7月，全市固定资产投资同比增长7.4%，比2019年1-7月增长20.5%，两年平均增长9.8%。")
    assert two_year.date == "2021"


def test_empty_text():
    m = document_meta("")
    assert m == DocMeta()
