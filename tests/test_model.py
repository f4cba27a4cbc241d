"""The statistical NER (pipeline/extract/model.py): the shipped model, its mentions, training.

The full training run (minutes) is a benchmark (`benchmarks/bench_model.py --train`, `make train`);
here a smoke run of a few steps checks the same code path end to end.
"""
from __future__ import annotations

import json
import random
import re
import socket
import time

import pytest
from click.testing import CliRunner

from conftest import CORPUS, ROOT

spacy = pytest.importorskip("spacy")

from pipeline.cli import cli  # noqa: E402
from pipeline.extract import extract_text  # noqa: E402
from pipeline.extract import model as ner  # noqa: E402
from pipeline.normalize import normalize  # noqa: E402

ENTITY = {"project", "mechanism", "region"}
# Report sentences written for this test: project names that the rules miss (no list marker, no
# proper-name signal the rules use), in report context. If the rules learn to find them all, pick
# other names: the point is to see the model's own mentions in the command's output.
NEW_NAMES = "积极推进樟木头水厂、鹭岛会展中心建设，确保年内投用。今年重点抓好桂花湾湿地公园和金牛农贸市场两个项目。"
EXPECTED = {"樟木头水厂", "鹭岛会展中心", "桂花湾湿地公园", "金牛农贸市场"}


@pytest.fixture(scope="module")
def seed_text() -> str:
    path = CORPUS / "003_56acd2ca6796b9a8.txt"
    return normalize(path.read_bytes(), name=str(path)).text


@pytest.fixture()
def no_network(monkeypatch):
    """Any attempt to open a network connection fails the test."""
    def refuse(*args, **kwargs):
        raise AssertionError("network access attempted")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)


def test_shipped_model_is_small_and_char_segmented():
    assert (ner.MODEL_DIR / "meta.json").exists(), "the trained model is not installed: run `gongbao train`"
    size = sum(f.stat().st_size for f in ner.MODEL_DIR.rglob("*") if f.is_file())
    assert size <= 30 * 1024 * 1024
    cfg = (ner.MODEL_DIR / "config.cfg").read_text(encoding="utf-8")
    assert 'segmenter = "char"' in cfg
    meta = json.loads((ner.MODEL_DIR / "meta.json").read_text(encoding="utf-8"))
    assert set(meta["labels"]["ner"]) == {"PROJECT", "MECHANISM", "REGION"}


def test_model_loads_offline_and_marks_its_mentions(no_network, seed_text, monkeypatch):
    monkeypatch.delenv(ner.MODEL_ENV, raising=False)
    ner.load_model.cache_clear()
    nlp = ner.load_model()
    assert nlp is not None and nlp.lang == "zh" and "ner" in nlp.pipe_names
    found = ner.predict_entities(seed_text)
    assert len(found) >= 10  # the seed is a county report full of project names
    for m in found:
        assert m.source == "model" and m.rule == "model.ner" and m.kind in ENTITY
        assert m.text == seed_text[m.start:m.end] and m.end - m.start >= 2
    kinds = {m.kind for m in found}
    assert "project" in kinds
    # most of its projects are gold projects of that seed
    gold_file = ROOT.parent / "shared" / "gold" / "003_56acd2ca6796b9a8.json"
    if gold_file.exists():
        gold = {g["text"] for g in json.loads(gold_file.read_text(encoding="utf-8"))["mentions"]}
        projects = [m.text for m in found if m.kind == "project"]
        assert sum(p in gold for p in projects) >= len(projects) // 2


def test_model_adds_only_where_rules_are_silent(seed_text):
    rules = extract_text(seed_text)
    added = ner.predict_entities(seed_text, rule_mentions=rules)
    assert all(not (a.start < r.end and r.start < a.end) for a in added for r in rules if r.kind in ENTITY)
    combined = extract_text(seed_text, use_model=True)
    rule_keys = {(m.kind, m.start, m.end, m.rule) for m in rules}
    assert rule_keys <= {(m.kind, m.start, m.end, m.rule) for m in combined}  # the model never removes a rule hit
    assert all(m.text == seed_text[m.start:m.end] for m in combined)


def test_extract_command_marks_model_mentions():
    runner = CliRunner()
    with_model = runner.invoke(cli, ["extract", "-", "--format", "jsonl"], input=NEW_NAMES.encode("utf-8"))
    without = runner.invoke(cli, ["extract", "-", "--format", "jsonl", "--no-model"], input=NEW_NAMES.encode("utf-8"))
    assert with_model.exit_code == 0 and without.exit_code == 0, with_model.output + without.output
    rows = [json.loads(line) for line in with_model.output.splitlines()]
    plain = [json.loads(line) for line in without.output.splitlines()]
    model_rows = [r for r in rows if r.get("source") == "model"]
    assert EXPECTED <= {r["text"] for r in rows if r["kind"] == "project"}, rows
    assert model_rows, "the rules now find every name: choose names they miss"
    assert all(r["rule"] == "model.ner" and r["kind"] in ENTITY for r in model_rows)
    assert all(NEW_NAMES[r["start"]:r["end"]] == r["text"] for r in rows)
    assert not any(r.get("source") == "model" for r in plain)
    assert [r for r in rows if r.get("source") != "model"] == plain  # rule mentions are unchanged


def test_synthetic_sentences_are_labelled_by_construction():
    a = ner.synthetic_sentences(200, random.Random(7))
    assert a == ner.synthetic_sentences(200, random.Random(7))  # reproducible from the seed
    labels = set()
    for text, spans in a:
        for (s, e, lab), nxt in zip(spans, spans[1:] + [(len(text), len(text), None)]):
            assert 0 <= s < e <= nxt[0] and text[s:e].strip() == text[s:e]
            assert "“" not in text[s:e] and "”" not in text[s:e]
            labels.add(lab)
    assert labels == {"PROJECT", "MECHANISM", "REGION"}


def test_gold_is_located_and_augmented(seed_text):
    gold = [{"kind": "project", "text": "雷打滩水电站"}, {"kind": "region", "text": "不在文中的县"}]
    spans = ner.locate_gold(seed_text, gold)
    assert len(spans) == 1 and seed_text[spans[0][0]:spans[0][1]] == "雷打滩水电站"
    sents = list(ner._sentences(seed_text, spans))
    (sent, inside), = [(t, s) for t, s in sents if s]
    (new, new_spans), = ner.augment([(sent, inside)], {"PROJECT": ["青溪水库"]}, random.Random(0), 1)
    s, e, lab = new_spans[0]
    assert new[s:e] == "青溪水库" and lab == "PROJECT"
    assert new.replace("青溪水库", "雷打滩水电站", 1) == sent


def test_tiny_training_run_end_to_end(tmp_path):
    """A few steps on a small corpus: the corpus builder, spaCy training and loading of the result."""
    started = time.time()
    out = ner.train(output=tmp_path / "ner", gold_dir=tmp_path / "no-gold", text_dirs=[],
                    synthetic=150, copies=0,
                    overrides={"training.max_steps": 30, "training.eval_frequency": 15})
    assert (out / "meta.json").exists()
    nlp = ner.load_model(str(out))
    found = ner.predict_entities(NEW_NAMES, model_path=str(out))
    assert all(m.text == NEW_NAMES[m.start:m.end] and m.source == "model" for m in found)
    assert nlp.pipe_names == ["tok2vec", "ner"]
    assert time.time() - started < 120


def test_missing_model_means_rules_alone(tmp_path, seed_text):
    assert ner.load_model(str(tmp_path)) is None
    assert ner.predict_entities(seed_text, model_path=str(tmp_path)) == []


def test_with_pkuseg_segmenter(monkeypatch, seed_text):
    """The segmenter is configuration: with pkuseg the rules and the model still combine cleanly."""
    pytest.importorskip("pkuseg")
    from pipeline import segment

    try:  # pkuseg fetches its default model on first use: no model on disk means no pkuseg here
        segment.cut("测试", backend="pkuseg")
    except Exception as e:  # noqa: BLE001 - a download error's type depends on the HTTP library
        pytest.skip(f"pkuseg cannot load its model offline: {type(e).__name__}")
    monkeypatch.setenv("GONGBAO_SEGMENTER", "pkuseg")
    found = extract_text(seed_text, use_model=True, kinds=ENTITY)
    assert found and all(m.text == seed_text[m.start:m.end] for m in found)


def _all_seed_texts() -> list[str]:
    return [normalize(p.read_bytes(), name=str(p)).text for p in sorted(CORPUS.glob("*.txt"))]


def test_skipped_pieces_hold_no_plausible_name():
    """predict_entities runs spaCy only on pieces with a name ending (_name_hint): in every piece it
    skips, no span that the model could return there (snapped to quotes, so reaching past the piece a
    little) passes plausible() — the skip is a necessary condition, so it changes no result."""
    hint = ner._name_hint(ner.MODEL_KINDS)
    skipped = 0
    for text in _all_seed_texts():
        for off, piece in ner._pieces(text):
            if not piece.strip() or hint.search(text, max(0, off - ner._REACH), off + len(piece) + ner._REACH):
                continue
            skipped += 1
            lo, hi = max(0, off - 2), min(len(text), off + len(piece) + 2)
            for s in range(lo, hi):
                for e in range(s + 2, min(hi, s + ner.MAX_NAME) + 1):
                    for kind in ner.MODEL_KINDS:
                        assert not ner.plausible(kind, text, s, e), (kind, text[s:e])
    assert skipped >= 10  # the seeds have headings, datelines and number-only lines to skip


def test_prefilter_and_piece_cache_change_no_result(seed_text, monkeypatch):
    """The same mentions with every piece sent to spaCy, and again from the piece cache alone."""
    nlp = ner.load_model()
    ner._PIECE_CACHE.pop(nlp, None)
    filtered = ner.predict_entities(seed_text)
    ner._PIECE_CACHE.pop(nlp, None)
    with monkeypatch.context() as m:
        m.setattr(ner, "_name_hint", lambda kinds: re.compile(""))
        everything = ner.predict_entities(seed_text)
    assert filtered == everything and len(filtered) >= 10

    def refuse(*args, **kwargs):
        raise AssertionError("spaCy ran on a piece it had already seen")

    monkeypatch.setattr(nlp, "pipe", refuse)
    assert ner.predict_entities(seed_text) == filtered
