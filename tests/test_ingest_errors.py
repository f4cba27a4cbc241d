"""Bad inputs: each one becomes a row in ``ingest_errors`` with a clear message, and the batch goes on.

One directory holds good documents in every common Chinese encoding next to files that cannot be
loaded (binary, empty, 50 MB, a dangling link, a FIFO, a page of nothing but script); a single
``gongbao ingest`` run must load all the good ones, record each bad one, and exit non-zero only
with ``--strict``. (The tests run as root, where ``chmod 000`` blocks nothing, so unreadable inputs
are made with links and FIFOs.)
"""
from __future__ import annotations

import os
import random

import pytest
from click.testing import CliRunner

from conftest import CORPUS
from pipeline.cli import cli
from pipeline.ingest import iter_files, read_source
from pipeline.process import process_document
from pipeline.store import check_integrity, ingest_paths, open_db, table_counts

# A real paragraph of a seed report, clean (simplified and traditional).
PARA = ("今年以来，全社会固定资产投资完成187.43亿元，同比增长11%左右，完成省定目标的43%；"
        "170个州级重点项目完成投资89.5亿元。")
PARA_T = ("今年以來，全社會固定資產投資完成187.43億元，同比增長11%左右，完成省定目標的43%；"
          "170個州級重點項目完成投資89.5億元。")
TEXT = "甘孜日报 2017年08月11日\n" + PARA + "\n" + "全州新开工项目45个，续建项目125个，项目建设加快推进。\n"


def _write_battery(d) -> tuple[dict[str, str], dict[str, str]]:
    """Write the good and bad files; return {name: text the document must contain}, {name: expected stages}."""
    d.mkdir()
    good = {}
    (d / "utf8.txt").write_bytes(TEXT.encode("utf-8")); good["utf8.txt"] = PARA
    (d / "gbk.txt").write_bytes(TEXT.encode("gbk")); good["gbk.txt"] = PARA
    (d / "gb18030.txt").write_bytes(("四川省" + TEXT).encode("gb18030")); good["gb18030.txt"] = PARA
    (d / "big5.txt").write_bytes(("甘孜日報 2017年08月11日\n" + PARA_T + "\n").encode("big5")); good["big5.txt"] = PARA
    (d / "utf16-bom.txt").write_bytes(TEXT.encode("utf-16")); good["utf16-bom.txt"] = PARA
    (d / "utf16le-nobom.txt").write_bytes(TEXT.encode("utf-16-le")); good["utf16le-nobom.txt"] = PARA
    (d / "utf16be-nobom.txt").write_bytes(TEXT.encode("utf-16-be")); good["utf16be-nobom.txt"] = PARA
    (d / "utf8-bom.txt").write_bytes(b"\xef\xbb\xbf" + TEXT.encode("utf-8")); good["utf8-bom.txt"] = PARA
    # cut in the middle of the last character: the text before it is still a document
    (d / "truncated-utf8.txt").write_bytes((TEXT + "续建").encode("utf-8")[:-2]); good["truncated-utf8.txt"] = PARA
    (d / "page.html").write_bytes(
        ("<html><head><meta charset='utf-8'><title>甘孜州项目年工作成效</title>"
         + "<script>var s='脚本里的文字不是正文'; for(;;){}</script>" * 200
         + "<style>p{color:red}</style></head><body><div class='nav'>首页 | 新闻</div>"
         + f"<div class='content'><p>{PARA}</p><p>全州新开工项目45个，续建项目125个，项目建设加快推进。</p></div>"
         + "<script>document.write('广告')</script></body></html>").encode("utf-8"))
    good["page.html"] = PARA
    # deeply nested markup around a real paragraph: loaded or recorded, never a crash
    depth = 20000
    (d / "nested.html").write_bytes(
        ("<html><body>" + "<div>" * depth + f"<p>{PARA}</p>" + "</div>" * depth + "</body></html>").encode("utf-8"))

    bad = {}
    rng = random.Random(7)
    (d / "random.bin").write_bytes(bytes(rng.randrange(256) for _ in range(8192))); bad["random.bin"] = {"decode"}
    (d / "image.png").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(rng.randrange(256) for _ in range(4000)))
    bad["image.png"] = {"decode"}
    (d / "undecodable.txt").write_bytes(bytes(rng.randrange(0x80, 0xFF) for _ in range(3000)))
    bad["undecodable.txt"] = {"decode"}
    (d / "empty.txt").write_bytes(b""); bad["empty.txt"] = {"read"}
    with open(d / "huge.txt", "wb") as f:  # 50 MB, sparse: costs no disk and is never read
        f.truncate(50 * 1024 * 1024)
    bad["huge.txt"] = {"read"}
    (d / "scripts-only.html").write_bytes(("<html><head><script>var a='正文不在这里';</script></head><body>"
                                           + "<script>alert(1)</script>" * 500 + "</body></html>").encode("utf-8"))
    bad["scripts-only.html"] = {"normalize", "decode"}
    os.symlink(d / "no-such-target.txt", d / "dangling.txt"); bad["dangling.txt"] = {"read"}
    os.mkfifo(d / "pipe.txt"); bad["pipe.txt"] = {"read"}
    sub = d / "sub"
    sub.mkdir()
    (sub / "whitespace.txt").write_bytes("\n \u3000\t\r\n".encode("utf-8")); bad["sub/whitespace.txt"] = {"normalize", "decode"}
    return good, bad


@pytest.fixture(scope="module")
def battery(tmp_path_factory):
    root = tmp_path_factory.mktemp("battery")
    d = root / "in"
    good, bad = _write_battery(d)
    db_path = root / "g.db"
    missing = root / "not-there.txt"
    res = CliRunner().invoke(cli, ["ingest", str(d), str(missing), "--db", str(db_path), "--workers", "2"],
                             catch_exceptions=False)
    return d, db_path, good, bad, missing, res


def test_one_run_loads_every_good_file(battery):
    d, db_path, good, bad, missing, res = battery
    assert res.exit_code == 0, res.output
    db = open_db(db_path, must_exist=True)
    texts = {os.path.relpath(p, d): t for p, t in db.conn.execute(
        "SELECT p.path, d.text FROM document_paths p JOIN documents d ON d.id = p.document_id")}
    for name, must in good.items():
        assert name in texts, f"{name} was not loaded: {res.output}"
        assert must in texts[name], f"{name}: {texts[name][:200]!r}"
    assert "脚本里的文字" not in texts["page.html"] and "广告" not in texts["page.html"]
    encodings = dict(db.conn.execute("SELECT path, encoding FROM documents"))
    assert "gb" in (encodings.get(str(d / "gbk.txt")) or "").lower()
    assert "big5" in (encodings.get(str(d / "big5.txt")) or "").lower().replace("-", "")
    assert check_integrity(db) == []


def test_every_bad_file_is_recorded_with_a_reason(battery):
    d, db_path, good, bad, missing, res = battery
    db = open_db(db_path, must_exist=True)
    errors = {os.path.relpath(p, d): (stage, msg) for p, stage, msg in
              db.conn.execute("SELECT path, stage, message FROM ingest_errors")}
    for name, stages in bad.items():
        assert name in errors, f"{name} not recorded; errors: {errors}"
        got_stage, msg = errors[name]
        assert got_stage in stages, (name, got_stage, msg)
        assert len(msg) > 8
    assert "over the size limit" in errors["huge.txt"][1]
    assert "empty" in errors["empty.txt"][1]
    assert "dangling" in errors["dangling.txt"][1]
    assert "FIFO" in errors["pipe.txt"][1]
    assert os.path.relpath(missing, d) in errors
    # the nested page was either loaded or recorded, exactly once
    nested = str(d / "nested.html")
    n_doc = db.conn.execute("SELECT count(*) FROM document_paths WHERE path = ?", (nested,)).fetchone()[0]
    n_err = db.conn.execute("SELECT count(*) FROM ingest_errors WHERE path = ?", (nested,)).fetchone()[0]
    assert n_doc + n_err == 1
    # the summary says how many failed and names them
    n_failed = len(bad) + 1 + n_err
    assert f"{n_failed} errors" in res.output
    assert "huge.txt" in res.output or "more: SELECT * FROM ingest_errors" in res.output


def test_strict_exits_non_zero_and_a_rerun_changes_nothing(battery):
    d, db_path, good, bad, missing, res = battery
    before = table_counts(open_db(db_path))
    again = CliRunner().invoke(cli, ["ingest", str(d), str(missing), "--db", str(db_path), "--workers", "1",
                                     "--strict"], catch_exceptions=False)
    assert again.exit_code == 1
    assert table_counts(open_db(db_path)) == before
    ok = CliRunner().invoke(cli, ["ingest", str(d / "utf8.txt"), "--db", str(db_path), "--strict"],
                            catch_exceptions=False)
    assert ok.exit_code == 0, ok.output


def test_a_fixed_file_leaves_the_error_table(tmp_path):
    d = tmp_path / "in"
    d.mkdir()
    f = d / "a.txt"
    f.write_bytes(b"")
    db_path = tmp_path / "g.db"
    s = ingest_paths([d], db_path, workers=1)
    assert [e.stage for e in s.errors] == ["read"]
    f.write_bytes(TEXT.encode("gbk"))
    s = ingest_paths([d], db_path, workers=1)
    assert s.new == 1 and not s.errors
    db = open_db(db_path)
    assert db.conn.execute("SELECT count(*) FROM ingest_errors").fetchone()[0] == 0
    # content that turns bad takes its old rows with it
    f.write_bytes(bytes(range(256)) * 16)
    s = ingest_paths([d], db_path, workers=1)
    assert len(s.errors) == 1
    assert db.conn.execute("SELECT count(*) FROM documents").fetchone()[0] == 0
    assert check_integrity(db) == []


def test_an_extractor_exception_is_recorded_and_the_batch_continues(tmp_path, monkeypatch):
    import pipeline.extract as extract

    real = extract.extract_document

    def flaky(doc, **kw):
        if "爆炸" in doc.text:
            raise ZeroDivisionError("boom in a rule")
        return real(doc, **kw)

    monkeypatch.setattr(extract, "extract_document", flaky)
    d = tmp_path / "in"
    d.mkdir()
    (d / "a.txt").write_bytes(TEXT.encode("utf-8"))
    (d / "b.txt").write_bytes(("爆炸性增长：" + TEXT).encode("utf-8"))
    s = ingest_paths([d], tmp_path / "g.db", workers=1)
    assert s.new == 1 and len(s.errors) == 1
    err = s.errors[0]
    assert err.path.endswith("b.txt") and err.stage == "extract"
    assert "ZeroDivisionError: boom in a rule" in err.message and "test_ingest_errors.py" in err.message


def test_read_source_refuses_without_reading():
    assert read_source("/dev/zero").message.startswith("not a regular file")
    assert read_source(CORPUS).message.startswith("is a directory")
    src = read_source(sorted(CORPUS.glob("*.txt"))[0], max_bytes=100)
    assert src.stage == "read" and "over the size limit of 100 bytes" in src.message


def test_walk_is_sorted_skips_hidden_and_yields_explicit_paths(tmp_path):
    (tmp_path / "b").mkdir()
    (tmp_path / "b" / "2.txt").write_text("x")
    (tmp_path / "a.txt").write_text("x")
    (tmp_path / ".hidden.txt").write_text("x")
    (tmp_path / ".git").mkdir()
    (tmp_path / ".git" / "c.txt").write_text("x")
    got = list(iter_files([tmp_path, tmp_path / "missing.txt"]))
    assert got == [str(tmp_path / "a.txt"), str(tmp_path / "b" / "2.txt"), str(tmp_path / "missing.txt")]
    # a link to a directory is walked when named, and not followed inside a walk (no cycles)
    os.symlink(tmp_path, tmp_path / "b" / "loop")
    assert list(iter_files([str(tmp_path / "b" / "loop") + "/"])) == [
        str(tmp_path / "b" / "loop" / "a.txt"), str(tmp_path / "b" / "loop" / "b" / "2.txt"),
        str(tmp_path / "b" / "loop" / "b" / "loop")]
    assert read_source(tmp_path / "b" / "loop").message.startswith("is a directory")


def test_process_document_is_pure_and_pickles():
    import pickle

    data = sorted(CORPUS.glob("*.txt"))[0].read_bytes()
    a = process_document("x.txt", data)
    b = pickle.loads(pickle.dumps(process_document("x.txt", data)))
    assert a.ok and a.text == b.text and a.mentions == b.mentions and a.claims == b.claims
    bad = process_document("y.bin", bytes(range(256)) * 8)
    assert not bad.ok and bad.error.stage == "decode" and bad.text is None


def test_a_document_that_runs_away_times_out_in_its_stage(tmp_path, monkeypatch):
    import time

    import pipeline.extract as extract

    real = extract.extract_document

    def stuck(doc, **kw):
        if "卡住" in doc.text:
            while True:  # a runaway pattern
                time.sleep(0.01)
        return real(doc, **kw)

    monkeypatch.setattr(extract, "extract_document", stuck)
    d = tmp_path / "in"
    d.mkdir()
    (d / "a.txt").write_bytes(("卡住了：" + TEXT).encode("utf-8"))
    (d / "b.txt").write_bytes(TEXT.encode("utf-8"))
    t = time.perf_counter()
    s = ingest_paths([d], tmp_path / "g.db", workers=1, doc_timeout=1.0)
    assert time.perf_counter() - t < 30
    assert s.new == 1 and len(s.errors) == 1
    assert s.errors[0].stage == "extract" and "gave up after 1 s" in s.errors[0].message
