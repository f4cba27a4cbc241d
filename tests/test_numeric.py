"""Numeric extraction on real report text: accuracy against the gold files (with evaluate.py's own
matching), span invariants, document-date resolution, and bounded time on hostile input."""
from __future__ import annotations

import json
import re
import time
from pathlib import Path

import pytest

from conftest import CORPUS, DEVCORPUS, GOLD, SHARED, dev_paths, needs_shared, seed_paths, shared_tool
from pipeline.extract.numeric import extract_numeric
from pipeline.mention import Mention

NUMERIC = {"amount", "percent", "count", "quantity", "date"}
SCORED = ("amount", "percent", "count")




def _normalized(path: Path) -> str:
    from pipeline.normalize import normalize

    return normalize(path.read_bytes(), name=path.name).text


def _predict(path: Path) -> list[dict]:
    """What ``gongbao extract --format jsonl`` prints for the numeric kinds (same library calls)."""
    from pipeline.extract import extract_document
    from pipeline.normalize import normalize

    doc = normalize(path.read_bytes(), name=path.name)
    return [m.to_json() for m in extract_document(doc, use_model=False, kinds=NUMERIC)]


def _score(gold_dir: Path, docs_dir: Path) -> dict:
    ev = shared_tool("evaluate")
    tp = dict.fromkeys(SCORED, 0)
    ng = dict.fromkeys(SCORED, 0)
    np_ = dict.fromkeys(SCORED, 0)
    errors = []
    for gf in sorted(gold_dir.glob("*.json")):
        gold = json.loads(gf.read_text(encoding="utf-8"))
        preds = _predict(docs_dir / gold["doc"])
        for kind in SCORED:
            g = [m for m in gold["mentions"] if m["kind"] == kind]
            p = [m for m in preds if m["kind"] == kind]
            hit, missed, spurious = ev.align(kind, g, p)
            tp[kind] += hit
            ng[kind] += len(g)
            np_[kind] += len(p)
            errors += [(gold["doc"], "missed", m["text"]) for m in missed]
            errors += [(gold["doc"], "spurious", m["text"]) for m in spurious]
    out = {}
    for kind in SCORED:
        prec = tp[kind] / np_[kind] if np_[kind] else 0.0
        rec = tp[kind] / ng[kind] if ng[kind] else 1.0
        out[kind] = 2 * prec * rec / (prec + rec) if prec + rec else 0.0
    return {"f1": out, "errors": errors}


@needs_shared
def test_seed_gold_f1_at_least_095():
    r = _score(GOLD, SHARED / "seeds")
    for kind, f1 in r["f1"].items():
        assert f1 >= 0.95, f"{kind} F1 {f1:.3f} on the seeds; errors: {r['errors'][:20]}"


@needs_shared
def test_devcorpus_gold_f1_at_least_095():
    r = _score(DEVCORPUS / "gold", DEVCORPUS)
    for kind, f1 in r["f1"].items():
        assert f1 >= 0.95, f"{kind} F1 {f1:.3f} on the devcorpus; errors: {r['errors'][:20]}"


def _all_texts() -> list[tuple[str, str]]:
    paths = list(seed_paths()) + list(dev_paths()) + sorted(CORPUS.glob("*.txt"))
    return [(p.name, _normalized(p)) for p in paths]


def test_spans_rules_and_no_overlap_on_real_text():
    texts = _all_texts()
    assert texts, "no documents found"
    total = 0
    for name, text in texts:
        ms = extract_numeric(text, doc_date="2021-11-01")
        total += len(ms)
        for m in ms:
            assert m.kind in NUMERIC
            assert m.text == text[m.start:m.end], (name, m)
            assert m.rule.startswith(m.kind + "."), (name, m.rule)
        for a, b in zip(ms, ms[1:]):
            assert a.end <= b.start, (name, a.text, b.text)
    assert total > 300


def test_gold_style_mentions_in_a_real_paragraph():
    p = seed_paths()[0]
    text = _normalized(p)
    got = {(m.kind, m.text, m.value) for m in extract_numeric(text)}
    assert ("amount", "187.43亿元", 18743000000.0) in got
    assert ("percent", "11%左右", 11.0) in got
    assert ("count", "170个州级重点项目", 170.0) in got
    assert ("amount", "460.00亿元以上", 46000000000.0) in got
    # the paragraph's headline number 逐一分析 / 258个 never become money
    assert not any(m.kind == "amount" and m.text.endswith("个") for m in extract_numeric(text))


def test_mention_json_shape():
    (m,) = [x for x in extract_numeric("完成投资约5000万至1亿元") if x.kind == "amount"]
    d = m.to_json()
    assert d["kind"] == "amount" and d["rule"] == "amount.range"
    assert d["value"] == 5e7 and d["value_max"] == 1e8 and d["currency"] == "CNY" and d["qualifier"] == "约"
    assert isinstance(m, Mention)


@pytest.mark.parametrize("doc_date,text,value,relative", [
    ("2019-09-20", "1—8月，全市固定资产投资增长8.5%", "2019-01/2019-08", None),
    ("2019-09-20", "一至四月份，招商引资到位资金增长", "2019-01/2019-04", None),
    ("2019-09-20", "上半年，全市经济运行平稳", "2019-01/2019-06", None),
    ("2019-09-20", "三季度，项目集中开工", "2019-07/2019-09", None),
    ("2017-08-11", "今年以来，全社会固定资产投资完成187.43亿元", "2017-01/2017-08", None),
    ("2019-09-20", "截至5月底，已开工86个", "2019-05", None),
    ("2022-02-01", "去年上半年全市地区生产总值增长", "2021-01/2021-06", None),
    ("2023-11-20", "今年1-10月，全省规上工业企业利润下降", "2023-01/2023-10", None),
    (None, "1-7月，全市固定资产投资增长8.5%", "--01/--07", True),
    (None, "今年以来，全社会固定资产投资", "--01/..", True),
])
def test_periods_resolve_against_document_date(doc_date, text, value, relative):
    dates = [m for m in extract_numeric(text, doc_date=doc_date) if m.kind == "date"]
    assert dates, text
    assert dates[0].value == value
    assert dates[0].relative is relative


def test_full_dates_need_no_document_date():
    (d,) = [m for m in extract_numeric("二oo五年四月二十七日召开") if m.kind == "date"]
    assert d.value == "2005-04-27" and d.relative is None


def test_invalid_calendar_dates_are_dropped():
    assert not [m for m in extract_numeric("2019年2月30日") if m.kind == "date" and m.value == "2019-02-30"]


# --- hostile input: bounded time ---------------------------------------------------------------------

HOSTILE = {
    "digits": "1" * 200_000,
    "chinese_numerals": "一" * 200_000,
    "one_amount_repeated": "187.43亿元，" * 25_000,
    "one_count_repeated": "1个" * 60_000,
    "thousands_commas": "1," * 100_000,
    "list_without_unit": "、1" * 60_000,
    "ranges_without_unit": "1-" * 60_000,
    "qualifiers": "超过" * 60_000,
    "quotes": "“" * 200_000,
}


@pytest.mark.parametrize("name", sorted(HOSTILE))
def test_hostile_input_finishes_in_bounded_time(name):
    text = HOSTILE[name]
    t0 = time.perf_counter()
    ms = extract_numeric(text)
    elapsed = time.perf_counter() - t0
    assert elapsed < 30, f"{name}: {elapsed:.1f} s for {len(text):,} chars"
    for m in ms[:50]:
        assert m.text == text[m.start:m.end]


def test_time_grows_linearly():
    unit = "今年以来，全社会固定资产投资完成187.43亿元，同比增长11%左右，170个州级重点项目完成投资122.73亿元。"
    extract_numeric(unit)
    small, big = unit * 500, unit * 2000
    t0 = time.perf_counter()
    extract_numeric(small)
    t1 = time.perf_counter()
    n = len(extract_numeric(big))
    t2 = time.perf_counter()
    assert n == 2000 * 5
    assert (t2 - t1) < 12 * max(t1 - t0, 0.01), f"4× text took {(t2 - t1) / max(t1 - t0, 1e-9):.1f}× time"


# --- the fast paths find what the plain ones find ---------------------------------------------------

def _texts() -> list[str]:
    """Normalized corpus texts (always there), plus the shared devcorpus, clean and broken, when present."""
    paths = sorted(CORPUS.glob("*.txt"))
    if SHARED.is_dir():
        paths += sorted(DEVCORPUS.glob("*.txt")) + sorted((DEVCORPUS / "broken").glob("*.txt"))
    return [_normalized(p) for p in paths]


def _fuzz(alphabet: list[str], n: int, seed: int) -> list[str]:
    import random

    rng = random.Random(seed)
    return ["".join(rng.choice(alphabet) for _ in range(rng.randrange(1, 30))) for _ in range(n)]


NUMBER_PIECES = ["1", "2", "0", "9", "１", "２", ".", ",", "，", "、", "-", "−", "至", "一", "二", "两", "十", "百",
                 "千", "万", "亿", "〇", "零", "廿", "壹", "佰", "点", "多", "余", "几", "数", "第", "个", "元", "%",
                 "米", "年", "月", "项", "人", "倍", "大类", "的"]


def test_number_scan_finds_exactly_the_numbers_of_the_number_fragment():
    """``number_scan`` (numeric.py's scan, stdlib re) is ``number`` rewritten to lead with one class."""
    from pipeline.extract.numeric import _anchored
    from pipeline.rules import compile_pattern

    scan = _anchored()[0]
    follow = scan.pattern[scan.pattern.rindex("(?=["):]
    plain = compile_pattern("(?:{number})" + follow)
    for text in _texts() + _fuzz(NUMBER_PIECES, 3000, 1):
        assert [m.span() for m in scan.finditer(text)] == [m.span() for m in plain.finditer(text)], text[:80]


def test_stdlib_rule_patterns_match_as_the_regex_ones_do():
    """Anchored rules match with the stdlib ``re`` compile of their pattern: same spans and groups."""
    from pipeline.extract.numeric import numeric_rules

    starts = re.compile(r"[\d〇零○一二两三四五六七八九十百千万亿廿壹贰叁肆伍陆柒捌玖拾佰仟\-−约大近将接超逾突破过不至最人共累百千]")
    texts = _texts() + _fuzz(NUMBER_PIECES + ["超过", "约", "人民币", "个百分点", "×", "公里", "成"], 1500, 2)
    for rule in numeric_rules():
        if rule.rx is rule.regex:
            continue
        assert rule.rx.groupindex == rule.regex.groupindex and rule.rx.groups == rule.regex.groups, rule.id
        for text in texts:
            for p in (m.start() for m in starts.finditer(text)):
                a, b = rule.rx.match(text, p), rule.regex.match(text, p)
                assert (a and (a.span(), a.groupdict())) == (b and (b.span(), b.groupdict())), (rule.id, text[p:p + 20])


def test_windowed_rules_find_what_a_whole_text_scan_finds():
    """A rule with ``window`` is scanned only around its required words: no match may be lost."""
    from pipeline.extract.numeric import _scanning, _windows

    pieces = ["今年", "去年", "上年", "明年", "本年", "上半年", "下半年", "前", "第", "一", "三", "四", "1", "4", "10",
              "11", "12", "十一", "季度", "以来", "个月", "月", "月份", "-", "至", "上旬", "底", "，", "年"]
    texts = _texts() + _fuzz(pieces, 3000, 3) + ["今年前十一个月", "今年10-12月份上旬", "去年以来，今年一季度",
                                               "前十一个月", "第四季度", "上半年", "明年11-12月份下旬"]
    windowed = [(r, f, w) for r, _, f, w in _scanning() if w]
    assert windowed  # date.period
    for rule, finder, window in windowed:
        for text in texts:
            full = [(m.span(), m.groups()) for m in rule.regex.finditer(text)]
            parts = [(m.span(), m.groups()) for lo, hi in _windows(text, finder, *window)
                     for m in rule.regex.finditer(text, lo, hi)]
            assert parts == full, (rule.id, text[:80])


def test_resolve_by_overlap_groups_equals_the_global_greedy_choice():
    """resolve() runs the greedy choice per group of overlapping candidates; it must keep exactly
    what one greedy pass over all candidates keeps (longest first, ties by kind, then start)."""
    import random
    from bisect import bisect_right

    from pipeline.extract.numeric import KIND_PRIORITY, resolve

    def greedy(found):
        order = sorted(found, key=lambda m: (m["start"] - m["end"], KIND_PRIORITY[m["kind"]], m["start"]))
        starts, ends, kept = [], [], []
        for m in order:
            s, e = m["start"], m["end"]
            i = bisect_right(starts, s)
            if (i and ends[i - 1] > s) or (i < len(starts) and starts[i] < e):
                continue
            starts.insert(i, s)
            ends.insert(i, e)
            kept.append(m)
        return sorted(kept, key=lambda m: m["start"])

    rng = random.Random(4)
    for _ in range(3000):
        found = []
        for k in range(rng.randrange(0, 25)):
            s = rng.randrange(0, 60)
            found.append({"start": s, "end": s + rng.randrange(1, 8), "kind": rng.choice(sorted(NUMERIC)), "id": k})
        assert [m["id"] for m in resolve(found)] == [m["id"] for m in greedy(found)]


def test_mention_constructor_keeps_the_dataclass_signature_and_checks():
    """Mention's slot-setting ``__init__`` (pipeline/mention.py) takes and checks what the generated one did."""
    import dataclasses
    import inspect

    params = list(inspect.signature(Mention).parameters.values())
    fields = dataclasses.fields(Mention)
    assert [p.name for p in params] == [f.name for f in fields]
    for p, f in zip(params, fields):
        assert p.default == (inspect.Parameter.empty if f.default is dataclasses.MISSING else f.default)
    m = Mention("amount", "3亿元", 0, 4, "amount.currency", value=3e8, currency="CNY")
    assert (m.kind, m.value, m.currency, m.unit, m.source, m.extra) == ("amount", 3e8, "CNY", None, "rule", ())
    assert m == Mention(kind="amount", text="3亿元", start=0, end=4, rule="amount.currency", value=3e8, currency="CNY")
    assert dataclasses.replace(m, start=1).start == 1 and m.with_raw(5, 9).raw_end == 9
    assert hash(m) == hash(dataclasses.replace(m))
    with pytest.raises(dataclasses.FrozenInstanceError):
        m.start = 2
    with pytest.raises(ValueError, match="unknown mention kind"):
        Mention("nope", "x", 0, 1, "r")
    with pytest.raises(ValueError, match="bad span"):
        Mention("amount", "x", 2, 1, "r")
    with pytest.raises(TypeError):
        Mention("amount", "x", 0)


# --- property: every mention is a faithful span --------------------------------------------------------

hypothesis = pytest.importorskip("hypothesis")
from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

PIECES = ["1", "2", "0", "9", ".", ",", "，", "、", "%", "％", "‰", "-", "—", "至", "一", "二", "两", "十", "百",
          "千", "万", "亿", "〇", "点", "多", "余", "元", "美元", "人民币", "个", "项", "次", "家", "人", "倍",
          "成", "百分点", "公里", "千瓦", "吨", "亩", "年", "月", "日", "季度", "上半年", "以来", "今年", "约",
          "超过", "突破", "以上", "左右", "增长", "下降", "同比", "“", "”", "《", "》", "第", "项目", "企业",
          "投资", "GDP", "×", "MW", "翻一番", "零增长", "百分之", "\n", " "]


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(PIECES), max_size=40), st.sampled_from([None, "2019-09-20", "2017"]))
def test_mentions_are_exact_non_overlapping_spans(pieces, doc_date):
    text = "".join(pieces)
    ms = extract_numeric(text, doc_date=doc_date)
    for m in ms:
        assert 0 <= m.start < m.end <= len(text)
        assert m.text == text[m.start:m.end]
        assert m.rule and m.kind in NUMERIC
        if m.kind in ("amount", "percent", "count", "quantity"):
            assert isinstance(m.value, float) and m.value >= 0
    for a, b in zip(ms, ms[1:]):
        assert a.end <= b.start


def test_package_does_not_import_benchmark_extras():
    root = Path(__file__).resolve().parents[1] / "pipeline"
    for py in root.rglob("*.py"):
        src = py.read_text(encoding="utf-8")
        assert "import jionlp" not in src and "recognizers" not in src, py


# --- the rule loader (pipeline/rules.py) ---------------------------------------------------------------

def test_rule_loader_expands_fragments_and_lexicons():
    import doctest

    from pipeline import rules

    assert doctest.testmod(rules).failed == 0
    src = rules.compile_pattern("{number}{currency}").pattern
    assert "美元" in src and not re.search(r"\{@?[A-Za-z_]", src)  # every reference expanded
    assert rules.fragment("number").fullmatch("四千九百六十八点四五亿")
    assert rules.fragment("number").fullmatch("1,297")


def test_rule_loader_reports_bad_references():
    from pipeline.rules import RuleError, expand

    with pytest.raises(RuleError, match="unknown fragment"):
        expand("{nope}", {}, {})
    with pytest.raises(RuleError, match="cycle"):
        expand("{a}", {"a": "{b}", "b": "{a}"}, {})
    with pytest.raises(RuleError, match="unknown lexicon"):
        expand("{@nope}", {}, {})


def test_every_numeric_rule_has_an_id_kind_prefix_and_is_exercised_by_an_example():
    import yaml

    from pipeline import rules_dir
    from pipeline.extract.numeric import numeric_rules

    ids = {r.id for r in numeric_rules()}
    seen = set()
    for kind in ("amount", "percent", "count", "quantity", "date"):
        data = yaml.safe_load((rules_dir() / f"{kind}.yaml").read_text(encoding="utf-8"))
        for ex in data["examples"]:
            texts = ex.get("forms") or [ex["sentence"]]
            for t in texts:
                seen |= {m.rule for m in extract_numeric(t, doc_date="2019-09-20")}
    assert all(i.split(".")[0] in NUMERIC for i in ids)
    assert ids - seen == set(), f"rules no example exercises: {sorted(ids - seen)}"
