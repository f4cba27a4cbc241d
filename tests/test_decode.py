"""Decoding: every common Chinese encoding of the real documents reads back exactly; bad input gets a clear error."""
from __future__ import annotations

import io
import random
import zipfile

import pytest
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

from pipeline.decode import EmptyInputError, InputError, NotTextError, UndecodableError, cjk_plausibility, decode_bytes

from conftest import CORPUS, dev_paths, seed_paths


def _texts() -> list[tuple[str, str]]:
    """(name, text) of the seeds (traditional + pinyin + mojibake) and the clean devcorpus (simplified)."""
    paths = seed_paths() + dev_paths()
    return [(p.name, p.read_text(encoding="utf-8")) for p in paths]


TEXTS = _texts()


@pytest.mark.parametrize("name,text", TEXTS, ids=[n for n, _ in TEXTS])
@pytest.mark.parametrize("encoding,expected", [
    ("utf-8", "utf-8"), ("utf-8-sig", "utf-8-sig"), ("utf-16", "utf-16"), ("utf-16-le", "utf-16-le"),
    ("utf-16-be", "utf-16-be"), ("utf-32", "utf-32"), ("gb18030", "gb18030"),
])
def test_real_documents_round_trip(name, text, encoding, expected):
    data = text.encode(encoding)
    assert decode_bytes(data) == (text, expected)


def test_gbk_documents_are_read_as_gb18030():
    for name, text in TEXTS:
        try:
            data = text.encode("gbk")
        except UnicodeEncodeError:
            continue
        assert decode_bytes(data) == (text, "gb18030"), name


@pytest.mark.parametrize("name,text", [(p.name, p.read_text(encoding="utf-8")) for p in dev_paths()])
def test_big5_traditional_text(name, text):
    """Big5 bytes are nearly always valid GBK too; the plausibility judge must still pick Big5."""
    import opencc

    trad = opencc.OpenCC("s2tw").convert(text)
    data = trad.encode("big5", errors="ignore")
    expected = data.decode("big5")
    assert decode_bytes(data) == (expected, "big5")
    # and the GBK misreading of the same bytes would have been implausible
    assert cjk_plausibility(data.decode("gb18030", errors="replace")) < 0.6 < cjk_plausibility(expected)


def test_bomless_utf16_without_any_ascii():
    text = "全社会固定资产投资完成亿元同比增长左右"
    assert decode_bytes(text.encode("utf-16-le")) == (text, "utf-16-le")
    assert decode_bytes(text.encode("utf-16-be")) == (text, "utf-16-be")


def test_mixed_encodings_are_decoded_line_by_line():
    lines = ["柞水五项措施确保投资稳增长", "本报讯(程修德)今年以来,柞水县集中力量加快推进重大项目建设", "截至5月底,全县95个重点项目已开复工86个"]
    data = lines[0].encode("utf-8") + b"\n" + lines[1].encode("gbk") + b"\n" + lines[2].encode("utf-8")
    assert decode_bytes(data) == ("\n".join(lines), "mixed")


def test_truncated_gbk_keeps_the_text_and_marks_the_lost_byte():
    data = "全社会固定资产投资完成187.43亿元".encode("gbk")[:-1]
    text, enc = decode_bytes(data)
    assert enc == "gb18030" and text == "全社会固定资产投资完成187.43亿\ufffd"


def test_nul_bytes_do_not_make_text_binary():
    text, enc = decode_bytes("投资\x00完成187.43亿元\n".encode("utf-8"))
    assert text == "投资\x00完成187.43亿元\n" and enc == "utf-8"


def _zip_bytes() -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("a.txt", "投资" * 100)
    return buf.getvalue()


@pytest.mark.parametrize("data,cls,words", [
    (b"\x89PNG\r\n\x1a\n" + bytes(range(256)), NotTextError, "PNG"),
    (_zip_bytes(), NotTextError, "ZIP"),
    (b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n", NotTextError, "PDF"),
    (b"\x7fELF\x02\x01\x01" + bytes(100), NotTextError, "ELF"),
    (bytes(range(32)) * 50, NotTextError, "control bytes"),
    (b"", EmptyInputError, "empty"),
    (b" \r\n\t\n", EmptyInputError, "whitespace"),
    (b"caf\xe9 cr\xe8me br\xfbl\xe9e \xe0 la fran\xe7aise", UndecodableError, "UTF-8"),
])
def test_bad_input_gets_a_specific_error(data, cls, words):
    with pytest.raises(cls) as e:
        decode_bytes(data)
    assert isinstance(e.value, InputError) and words in str(e.value)


def test_random_bytes_are_rejected_cleanly():
    rng = random.Random(0)
    for _ in range(20):
        data = rng.randbytes(rng.randint(1, 4000))
        try:
            text, enc = decode_bytes(data)
        except InputError as e:
            assert str(e)
        else:  # a few random byte strings are valid GB18030; then they must be fully decoded
            assert isinstance(text, str) and enc


@settings(max_examples=150, deadline=None)
@given(st.binary(max_size=600))
def test_decode_never_raises_anything_but_input_error(data):
    try:
        text, enc = decode_bytes(data)
    except InputError:
        return
    assert isinstance(text, str) and isinstance(enc, str)


def test_cli_reports_binary_input_without_traceback(tmp_path):
    from pipeline.cli import cli

    png = tmp_path / "chart.png"
    png.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4)
    res = CliRunner().invoke(cli, ["normalize", str(png)])
    assert res.exit_code != 0
    assert "PNG image, not text" in res.output and "Traceback" not in res.output
    empty = tmp_path / "empty.txt"
    empty.write_bytes(b"")
    res = CliRunner().invoke(cli, ["normalize", str(empty)])
    assert res.exit_code != 0 and "empty input" in res.output


def test_corpus_copies_decode():
    for p in sorted(CORPUS.glob("*.txt")):
        text, enc = decode_bytes(p.read_bytes())
        assert enc == "utf-8" and len(text) > 1000


def test_charset_normalizer_is_a_sane_fallback_judge():
    from pipeline.decode import _judge

    pytest.importorskip("charset_normalizer")
    simp = "全社会固定资产投资完成187.43亿元,同比增长11%左右,完成省定目标的43%"
    trad = "臺灣的經濟發展，投資完成億元，同比增長，完成年度計劃"
    assert _judge(simp.encode("gb18030"), ["gb18030", "big5"]) == "gb18030"
    assert _judge(trad.encode("big5"), ["gb18030", "big5"]) == "big5"
