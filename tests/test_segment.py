"""The segmenter interface: back-end chosen by argument or $GONGBAO_SEGMENTER, pkuseg optional."""
from __future__ import annotations

import pytest

from pipeline import segment

TEXT = "温江区罗欣药业医药健康产业园等215个项目开工建设"


def test_cut_covers_the_text_and_finds_words():
    words = segment.cut(TEXT)
    assert "".join(words) == TEXT
    assert "温江区" in words and "项目" in words


def test_posseg_tags_verbs_and_places():
    tags = dict(segment.posseg("加快推进天府新区建设"))
    assert tags["加快"].startswith("v")
    assert "".join(w for w, _ in segment.posseg(TEXT)) == TEXT


def test_cut_for_search_adds_subwords():
    words = segment.cut_for_search("四川天府新区管委会")
    assert "管委会" in words and "新区" in words


def test_empty_text():
    assert segment.cut("") == [] and segment.posseg("") == []


def test_backend_from_environment(monkeypatch):
    monkeypatch.setenv(segment.ENV_VAR, "JIEBA")
    assert segment.backend_name() == "jieba"
    monkeypatch.setenv(segment.ENV_VAR, "nonsense")
    with pytest.raises(ValueError, match="unknown segmenter"):
        segment.cut(TEXT)
    assert segment.backend_name("jieba") == "jieba"  # the argument wins over the environment


def test_pure_python_jieba_agrees_with_rjieba(monkeypatch):
    """The fallback path (no rjieba) gives the same precise-mode words."""
    expected = segment.cut(TEXT)
    monkeypatch.setattr(segment, "_rjieba", lambda: None)
    assert segment.cut(TEXT) == expected
    tagged = segment.posseg(TEXT)
    assert "".join(w for w, _ in tagged) == TEXT and dict(tagged)["项目"] == "n"


def test_pkuseg_backend_when_installed(monkeypatch):
    """pkuseg runs on its bundled default model only: any download attempt fails the test."""
    pkuseg = pytest.importorskip("pkuseg")

    def no_download(*args, **kwargs):
        raise AssertionError(f"pkuseg tried to download {args[:1]}")

    monkeypatch.setattr(pkuseg, "download_model", no_download)
    segment._pkuseg.cache_clear()
    words = segment.cut(TEXT, backend="pkuseg")
    assert "".join(words) == TEXT and "项目" in words
    tagged = segment.posseg(TEXT, backend="pkuseg")
    assert [w for w, _ in tagged] == words
    assert dict(tagged)["项目"] == "n" and all(isinstance(t, str) and t for _, t in tagged)


def test_pkuseg_backend_drives_extraction(monkeypatch):
    """The whole rule extractor runs on pkuseg words when the environment asks for it."""
    pytest.importorskip("pkuseg")
    from pipeline.extract import extract_text

    monkeypatch.setenv(segment.ENV_VAR, "pkuseg")
    found = {m.text for m in extract_text("新建龙母沟水库可研已通过州级评审", kinds={"project"})}
    assert "龙母沟水库" in found


def test_pkuseg_missing_is_a_clear_error(monkeypatch):
    import importlib.util

    if importlib.util.find_spec("pkuseg") is not None:
        pytest.skip("pkuseg is installed")
    segment._pkuseg.cache_clear()
    with pytest.raises(ImportError, match="pkuseg"):
        segment.cut(TEXT, backend="pkuseg")
