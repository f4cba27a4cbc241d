"""Normalization on the real documents: no pinyin, no traditional characters, no chrome; exact offsets;
idempotence; clean text untouched; and each stage on its own."""
from __future__ import annotations

import json
import random
import time
import unicodedata
from functools import lru_cache

import pytest
import regex
import yaml
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pipeline import rules_dir
from pipeline.boilerplate import boilerplate_edits, compiled
from pipeline.decode import EmptyInputError
from pipeline.normalize import (control_edits, normalize, space_edits, split_paragraphs, split_sentences,
                                t2s_edits, to_halfwidth, to_simplified)
from pipeline.offsets import apply_edits
from pipeline.pinyin import pinyin_edits

from conftest import DEVCORPUS, dev_paths, needs_shared, seed_paths

SEEDS = seed_paths()
TONED = "āáǎàēéěèīíǐìōóǒòūúǔùǖǘǚǜńňǹḿ"
ANNOTATION = regex.compile(rf"[(（][a-zü{TONED}]*[{TONED}][a-zü{TONED}]*[)）]")


@lru_cache(maxsize=None)
def norm(path):
    return normalize(path.read_bytes(), name=str(path))


def _apply(text, edits):
    return apply_edits(text, edits)[0]


# ------------------------------------------------------------------------------------------ the seeds

@pytest.mark.parametrize("path", SEEDS, ids=[p.name[:3] for p in SEEDS])
def test_seed_has_no_pinyin_no_traditional_no_chrome(path):
    raw = path.read_text(encoding="utf-8")
    doc = norm(path)
    text = doc.text
    if ANNOTATION.search(raw):  # the broken seeds: the test is meaningful
        assert ANNOTATION.search(text) is None, ANNOTATION.search(text)
        assert not regex.search(rf"[?\ufffd][a-z{TONED}]+\)", text)
    changed = [c for c in set(text) if to_simplified(c) != c]
    assert changed == [], f"traditional characters left: {changed}"
    for chrome in ("分享到", "文章评论", "所有评论", "评论请遵守", "点击加载更多", "河南新闻网", "中国互联网举报中心",
                   "违法和不良信息举报", "新文秘网", "正式会员可完整阅读", "未完,全文共", "当前仅显示", "文章字数",
                   "收藏《"):
        assert chrome not in text, chrome
    for line in text.split("\n"):
        assert line.strip() not in ("最新消息", "本网讯(记者)", "- 目录"), line
        assert line == line.strip() and line, repr(line)


def test_seed_content_lines_that_look_like_chrome_stay():
    by_prefix = {p.name[:3]: norm(p).text for p in SEEDS}
    assert "本报讯(程修德)今年以来,柞水县集中力量加快推进重大项目建设" in by_prefix["001"]
    assert "本网讯(本网记者)今年以来,我州认真贯彻落实" in by_prefix["000"]
    assert by_prefix["002"].startswith("关注全力以赴抓好重大项目建设切实筑牢经济社会高质量发展的重要支撑\n2019-10-01 01:07\n原标题:")
    assert by_prefix["004"].startswith("目录/提纲:……\n一、要用好关键一招")  # an outline is content
    assert by_prefix["004"].endswith("一个是主导。目")  # the paywall note after the last words goes


def test_seed_003_repeats_its_report_and_both_copies_normalize_alike():
    """003 holds the same report twice (篇二, 篇三): once garbled in places, once clean. After the whole
    pipeline the two copies must (almost) coincide."""
    from rapidfuzz.distance import Levenshtein

    path = next(p for p in SEEDS if p.name.startswith("003"))
    raw, text = path.read_text(encoding="utf-8"), norm(path).text
    raw2, raw3 = raw[raw.index("篇二"):raw.index("篇三")], raw[raw.index("篇三"):]
    txt2, txt3 = text[text.index("篇二"):text.index("篇三")], text[text.index("篇三"):]
    raw_gap = Levenshtein.distance(raw2.split("\n", 1)[1], raw3.split("\n", 1)[1])
    gap = Levenshtein.distance(txt2.split("\n", 1)[1].strip(), txt3.split("\n", 1)[1].strip())
    assert gap <= 6 < raw_gap, (gap, raw_gap)


def test_explain_lists_repairs_with_stage_offsets_and_text():
    from pipeline.cli import cli

    path = next(p for p in SEEDS if p.name.startswith("000"))
    res = CliRunner().invoke(cli, ["normalize", "--explain", str(path)])
    assert res.exit_code == 0, res.output
    rows = [json.loads(line) for line in res.output.splitlines()]
    raw = norm(path).raw
    stages = {r["stage"] for r in rows}
    assert {"pinyin", "t2s"} <= stages
    for r in rows:
        assert {"stage", "start", "end", "before", "after"} <= set(r)
        assert 0 <= r["start"] <= r["end"] <= len(raw)
        if r["stage"] in ("pinyin", "mojibake", "control"):  # first stages: before is exactly the raw text
            assert raw[r["start"]:r["end"]] == r["before"], r
    pinyin = [r for r in rows if r["stage"] == "pinyin"]
    assert pinyin[0]["before"] == "(wǎng)" and pinyin[0]["after"] == ""
    t2s = [r for r in rows if r["stage"] == "t2s"]
    assert any(r["before"] == "網" and r["after"] == "网" for r in t2s)
    repaired = [(r["start"], r["end"]) for r in rows if r["stage"] in ("mojibake", "lost_char")]
    for r in t2s:  # outside repaired spans, a t2s repair sits exactly on its raw characters
        if not any(a < r["end"] and r["start"] < b for a, b in repaired):
            assert raw[r["start"]:r["end"]] == r["before"], r


@pytest.mark.parametrize("path", SEEDS, ids=[p.name[:3] for p in SEEDS])
def test_offsets_map_every_character_back_to_its_raw_source(path):
    doc = norm(path)
    text, raw = doc.text, doc.raw
    touched = [(r.start, r.end) for r in doc.repairs if r.stage in ("mojibake", "lost_char")]
    checked = 0
    for i, c in enumerate(text):
        if not ("\u4e00" <= c <= "\u9fff"):
            continue
        s, e = doc.offsets.raw_span(i, i + 1)
        if any(a < e and s < b for a, b in touched):
            continue  # a repaired character comes from a garbled span, not from one raw character
        src = raw[s:e]
        assert to_simplified(_apply(src, pinyin_edits(src))) == c, (i, c, src)
        checked += 1
    assert checked > 0.9 * sum(1 for c in text if "\u4e00" <= c <= "\u9fff")


@pytest.mark.parametrize("path", SEEDS, ids=[p.name[:3] for p in SEEDS])
def test_offsets_of_random_spans_cover_their_text(path):
    doc = norm(path)
    text, raw = doc.text, doc.raw
    rng = random.Random(7)
    for _ in range(300):
        s = rng.randrange(len(text))
        e = min(len(text), s + rng.randint(1, 40))
        rs, re_ = doc.offsets.raw_span(s, e)
        assert 0 <= rs < re_ <= len(raw)
        piece = normalize(raw[rs:re_]).text  # the raw span normalizes to (about) the same text
        if not any(a < re_ and rs < b for a, b in ((r.start, r.end) for r in doc.repairs
                                                  if r.stage in ("mojibake", "lost_char", "boilerplate"))):
            assert piece.replace("\n", "").replace(" ", "") == text[s:e].replace("\n", "").replace(" ", ""), \
                (text[s:e], raw[rs:re_])
        # spans are monotonic: a longer normalized span never maps to a shorter raw one
        rs2, re2 = doc.offsets.raw_span(s, min(len(text), e + 5))
        assert rs2 == rs and re2 >= re_


@pytest.mark.parametrize("path", SEEDS + dev_paths() + sorted((DEVCORPUS / "broken").glob("*.txt")),
                         ids=lambda p: p.parent.name[:3] + p.name[:3])
def test_idempotent(path):
    once = normalize(path.read_bytes()).text
    assert normalize(once).text == once
    assert normalize(once.encode("utf-8")).text == once


@needs_shared
@pytest.mark.parametrize("path", dev_paths(), ids=lambda p: p.name[:3])
def test_clean_simplified_text_passes_through(path):
    """Only whitespace and width change on clean simplified text: no character is converted or dropped."""
    clean = path.read_text(encoding="utf-8")
    expected = []
    for line in clean.split("\n"):
        line = " ".join(line.replace("\u3000", " ").split())
        if line:
            expected.append(_fw_digits(line))
    doc = normalize(clean.encode("utf-8"))
    assert doc.text == "\n".join(expected)
    assert {r.stage for r in doc.repairs} <= {"space", "width"}


def _fw_digits(s):
    return "".join(chr(ord(c) - 0xFEE0) if ("０" <= c <= "９" or "Ａ" <= c <= "Ｚ" or "ａ" <= c <= "ｚ" or c == "％")
                   else c for c in s)


@needs_shared
def test_devcorpus_broken_character_error_rate():
    """The whole pipeline on devcorpus/broken against the clean originals (tools/cer.py's measure)."""
    from rapidfuzz.distance import Levenshtein

    def canon(s):
        return "".join(unicodedata.normalize("NFKC", s).split())

    d = n = 0
    for clean in dev_paths():
        broken = DEVCORPUS / "broken" / clean.name
        a, b = canon(clean.read_text(encoding="utf-8")), canon(normalize(broken.read_bytes()).text)
        d, n = d + Levenshtein.distance(a, b), n + len(a)
    assert d / n < 0.004, f"CER {d / n:.4%}"


# ------------------------------------------------------------------------------------------ boilerplate rules

BOILERPLATE = yaml.safe_load((rules_dir() / "boilerplate.yaml").read_text(encoding="utf-8"))
PRE, POST = "今年以来,全县投资增长8%。\n", "\n下一步,全力抓好项目建设。"


@pytest.mark.parametrize("line", BOILERPLATE["drop"])
def test_boilerplate_drop_examples(line):
    text = PRE + line + POST
    assert _apply(text, boilerplate_edits(text)) == PRE + POST[1:]
    assert _apply(line, boilerplate_edits(line)) == ""


@pytest.mark.parametrize("line", BOILERPLATE["keep"])
def test_boilerplate_keep_examples(line):
    text = PRE + line + POST
    assert boilerplate_edits(text) == []
    assert normalize("\u3000\u3000" + line).text == to_halfwidth(line).strip()


@pytest.mark.parametrize("case", BOILERPLATE["trim"], ids=lambda c: c["keep"][:10])
def test_boilerplate_trim_examples(case):
    text = PRE + case["line"] + POST
    assert _apply(text, boilerplate_edits(text)) == PRE + case["keep"] + POST


def test_every_boilerplate_rule_has_a_drop_example():
    used = {e.note for line in BOILERPLATE["drop"] for e in boilerplate_edits(line)}
    assert {r.id for r in compiled().rules} <= used


def test_boilerplate_on_generated_chrome():
    """The chrome tools/corrupt.py adds (CHROME_HEAD/CHROME_TAIL) is all dropped."""
    head = ["本网讯(记者)", "文章字数:4114"]
    tail = ["……(新文秘网省略1234字,正式会员可完整阅读)……", "分享到:", "文章评论 · 所有评论", "点击加载更多",
            "© 2016-2018 某某新闻网 中国互联网举报中心", "违法和不良信息举报:someone@example.com"]
    body = "今年以来,全县投资增长8%。"
    assert normalize("\n".join(head + [body] + tail) + "\n").text == body


# ------------------------------------------------------------------------------------------ stages

@pytest.mark.parametrize("before,after", [
    ("本網(wǎng)訊(本網(wǎng)記者)", "本網訊(本網記者)"),
    ("網（wǎng）站", "網站"),
    ("綠(lǜ)色", "綠色"),
    ("們(men)的", "們的"),  # toneless, but the reading of 們
    ("嗯(ń)", "嗯"),
    ("甘孜日?qǐng)?bào) 2017", "甘孜日\ufffd 2017"),  # unrecovered orphans: one lost character, marked
    ("當(dāng)?shù)攸h委", "當\ufffd攸h委"),
])
def test_pinyin_annotations_are_stripped(before, after):
    assert _apply(before, pinyin_edits(before)) == after


@pytest.mark.parametrize("text", [
    "(本网记者)", "GDP(ppp)", "增长(2019)", "(人民币,下同)", "单位(ge)", "标准(GB/T 1234)", "面积(km)",
    "(一)明确投资方向", "A(men)", "如何?好)", "问题?(见附件)",
])
def test_real_parenthesised_content_is_kept(text):
    assert pinyin_edits(text) == []


@pytest.mark.parametrize("trad,simp", [
    ("隨著經濟發展", "随着经济发展"), ("意味著什麼", "意味着什么"), ("著力加強", "着力加强"),
    ("作用顯著增強", "作用显著增强"), ("著名的著作", "著名的著作"), ("臺灣", "台湾"), ("臺賬", "台账"),
    ("裡面", "里面"), ("佔比", "占比"), ("關於", "关于"), ("乾燥", "干燥"), ("乾隆", "乾隆"),
])
def test_traditional_to_simplified(trad, simp):
    assert to_simplified(trad) == simp
    assert _apply(trad, t2s_edits(trad)) == simp


def test_width_and_space():
    text = "\u3000\u3000ＧＤＰ增长１２．５％，　达到 3  亿元；\t同比\r\n\r\n\r\n第二段。 "
    assert normalize(text).text == "GDP增长12.5%， 达到 3 亿元； 同比\n第二段。"
    assert to_halfwidth("（一）“十四五”：１．５％！") == "（一）“十四五”：1.5%！"


def test_control_characters_and_emoji():
    text = "投资\u200b完成\u200e187.43\x00亿元\ufeff\u202e👍🏽 👨\u200d👩\u200d👧\x07\u2028下一段\ud800"
    out = normalize(text).text
    assert out == "投资完成187.43亿元👍🏽 👨\u200d👩\u200d👧\n下一段\ufffd"
    assert [e.after for e in control_edits("a\r\nb\rc")] == ["\n", "\n"]


def test_space_edits_keep_single_spaces():
    assert space_edits("作者 陈婧\n正文") == []


# ------------------------------------------------------------------------------------------ HTML

HTML = """<!DOCTYPE html><html><head><meta charset="gbk"><title>柞水五项措施确保投资稳增长</title>
<script>var ad = "<p>广告</p>"; for(;;){}</script><style>p{color:red}</style></head>
<body><div class="nav">首页 | 新闻中心 | 政务公开</div>
<div class="article"><h1>柞水五项措施确保投资稳增长</h1>
<p>本报讯(程修德)今年以来,柞水县集中力量加快推进重大项目建设,力争全年固定资产投资增速达到８％以上,为全县经济社会持续健康发展提供强大支撑。</p>
<p>全力加快项目進度。截至5月底,全县95个重点项目已开复工86个,开复工率90.5%,完成投资43亿元,占年度任务115.4亿元的37.3%。</p>
<!-- 评论区 --><p>分享到:</p></div>
<div class="footer">© 2016-2018 某某新闻网 中国互联网举报中心</div></body></html>"""


def test_html_main_text_with_paragraphs():
    doc = normalize(HTML.encode("gb18030"), name="page.html")
    assert doc.is_html
    assert "本报讯(程修德)今年以来,柞水县集中力量加快推进重大项目建设,力争全年固定资产投资增速达到8%以上" in doc.text
    assert "全力加快项目进度。截至5月底,全县95个重点项目已开复工86个" in doc.text
    for junk in ("广告", "color", "for(;;)", "<p>", "分享到", "中国互联网举报中心"):
        assert junk not in doc.text
    assert len(doc.paragraphs) >= 2
    # the raw text of an HTML document is its extracted text: offsets point into it, not into markup
    s = doc.text.index("开复工率")
    rs, re_ = doc.offsets.raw_span(s, s + 4)
    assert doc.raw[rs:re_] == "开复工率"


def test_html_sniffing_and_forcing():
    assert normalize(HTML).is_html
    assert not normalize("增速<5%,规模>3亿元。").is_html
    assert normalize("<p>投资增长8%。</p>", is_html=True).text == "投资增长8%。"
    assert normalize("<p>投资增长8%。</p>", is_html=False).text == "<p>投资增长8%。</p>"


@pytest.mark.parametrize("html", [
    "<div>" * 50000 + "深层文本内容。" + "</div>" * 50000,
    "<html><body>" + "<script>alert(1)</script>" * 5000 + "<p>正文内容在这里。</p></body></html>",
    "<html><body><p>未闭合的段落<div><span>混乱的标记<table><tr><td>投资增长8%</body>",
    "<html>" + "<p>重复段落,内容很长很长。</p>" * 20000 + "</html>",
    "<!DOCTYPE html><html><body><p>\x00空字符\ud800与代理</p><p>&#0;&#xD800;&nbsp;&lt;实体&gt;</p></body></html>",
])
def test_hostile_html_neither_crashes_nor_hangs(html):
    t = time.perf_counter()
    try:
        doc = normalize(html, is_html=True)
    except EmptyInputError:
        return
    assert time.perf_counter() - t < 30
    assert "<" not in doc.text.replace("<实体>", "") and "alert" not in doc.text


def test_html_without_text_is_an_input_error():
    with pytest.raises(EmptyInputError):
        normalize(b"<html><head><script>x()</script></head><body></body></html>")


# ------------------------------------------------------------------------------------------ splitting

def test_split_sentences():
    t = ("今年以来,全社会固定资产投资完成187.43亿元,同比增长11%左右;170个州级重点项目完成投资122.73亿元。"
         "他说:“项目已开工。资金已到位。”下一步?继续努力!\n第二段没有句号")
    got = [t[s:e] for s, e in split_sentences(t)]
    assert got == ["今年以来,全社会固定资产投资完成187.43亿元,同比增长11%左右;", "170个州级重点项目完成投资122.73亿元。",
                   "他说:“项目已开工。资金已到位。”下一步?", "继续努力!", "第二段没有句号"]


def test_split_sentences_survives_an_unbalanced_quote():
    t = "落实“四督四保,不断完善项目。" + "推进项目建设。" * 40
    spans = split_sentences(t)
    assert len(spans) > 20 and all(t[s:e].endswith("。") for s, e in spans)


def test_split_sentences_keeps_closing_quotes_and_ellipsis():
    t = "形成“大抓项目、抓大项目。”的氛围……接着推进。"
    assert [t[s:e] for s, e in split_sentences(t)] == ["形成“大抓项目、抓大项目。”的氛围……", "接着推进。"]


def test_paragraphs_are_the_lines_of_the_text():
    for p in SEEDS:
        doc = norm(p)
        assert [doc.text[s:e] for s, e in doc.paragraphs] == doc.text.split("\n")
    assert split_paragraphs("标题\n\n  第一段。\n第二段。 ") == [(0, 2), (6, 10), (11, 15)]


def test_str_input_and_empty():
    assert normalize("").text == ""
    with pytest.raises(EmptyInputError):
        normalize(b"")
    with pytest.raises(TypeError):
        normalize(123)


def test_length_changing_conversion_is_aligned_per_line():
    """OpenCC keeps lengths in practice; if a phrase ever maps to a different length, offsets stay exact."""
    from pipeline.normalize import _aligned_edits

    text = "第一行香菸税收。\n第二行隨著增長。\n"
    convert = lambda s: to_simplified(s).replace("香烟", "烟")  # noqa: E731 - a 2→1 phrase mapping
    edits = _aligned_edits(text, "t2s", convert)
    out, m = apply_edits(text, edits)
    assert out == "第一行烟税收。\n第二行随着增长。\n"
    s = out.index("税收")
    assert m.to_source(s, s + 2) == (text.index("税收"), text.index("税收") + 2)
    s = out.index("随着")
    assert text[slice(*m.to_source(s, s + 2))] == "隨著"


ALPHABET = list("網(wǎng)訊?qǐng)著隨顯 \u3000\t\n\r（）()ＧＤＰ１２．％,。;!?“”本网讯分享到:记者…abc€\u200b\ufeff\x00\ud800👍")


@settings(max_examples=200, deadline=None, suppress_health_check=list(HealthCheck))
@given(st.one_of(st.text(alphabet=st.sampled_from(ALPHABET), max_size=60), st.text(max_size=60)))
def test_any_text_normalizes_idempotently_with_offsets_in_bounds(s):
    doc = normalize(s)
    assert normalize(doc.text).text == doc.text
    assert all(0 <= r.start <= r.end <= len(doc.raw) for r in doc.repairs)
    for i in range(len(doc.text)):
        rs, re_ = doc.offsets.raw_span(i, i + 1)
        assert 0 <= rs <= re_ <= len(doc.raw)


def test_a_failing_repair_is_fenced_and_reported(monkeypatch):
    import pipeline.normalize as N

    def broken(text):
        raise IndexError("string index out of range")

    monkeypatch.setattr(N, "repair_mojibake", broken)
    with pytest.warns(RuntimeWarning, match="mojibake repair failed"):
        doc = N.normalize("本網(wǎng)訊 甘孜日?qǐng)?bào)", name="x.txt")
    assert doc.text == "本网讯 甘孜日\ufffd"


@pytest.mark.parametrize("module", ["pipeline.decode", "pipeline.normalize", "pipeline.pinyin",
                                    "pipeline.boilerplate", "pipeline.html_text"])
def test_docstring_examples(module):
    import doctest
    import importlib

    result = doctest.testmod(importlib.import_module(module))
    assert result.attempted > 0 and result.failed == 0


def test_kangxi_radicals_and_compatibility_ideographs_become_ordinary_characters():
    """PDF converters emit ⽇ (U+2F47) for 日 and ⾨ for 門; they must read (and simplify) as text."""
    doc = normalize("⾨⼾開放，⽇報⼀季度投資增長８％")
    assert doc.text == "门户开放，日报一季度投资增长8%"
    s = doc.text.index("门")
    assert doc.raw[slice(*doc.offsets.raw_span(s, s + 1))] == "⾨"


def test_t2s_protect_list_covers_every_region_name_t2s_would_alter():
    """OpenCC t2s turns 乾县 into 干县; every gazetteer name it would alter is protected, and survives."""
    from pipeline.normalize import _opencc, normalize
    from pipeline.regions import all_regions

    conv = _opencc()
    altered = sorted({r["name"] for r in all_regions() if r.get("name") and conv.convert(r["name"]) != r["name"]})
    assert altered, "expected at least 乾县 to be altered by plain t2s"
    for name in altered:
        assert normalize(f"陝西省{name}召開會議").text == f"陕西省{name}召开会议"
