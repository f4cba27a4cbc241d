"""Comparing claims across regions: pipeline.query over a database built by the real ingest of the seeds."""
from __future__ import annotations

import json
import shutil
import sqlite3

import pytest
import sqlite_utils
from click.testing import CliRunner

from conftest import seed_paths
from pipeline.cli import cli
from pipeline.query import claims_frame, conflicts_frame, metrics_frame, period_bounds
from pipeline.store import ingest_paths, open_db

FIGURE = ["region", "period_start", "period_end", "subject", "status", "basis", "unit"]


@pytest.fixture(scope="module")
def seeds_db(tmp_path_factory):
    path = tmp_path_factory.mktemp("query") / "seeds.db"
    summary = ingest_paths(seed_paths(), path, workers=1)
    assert not summary.errors
    return path


def test_compare_lists_each_region_once_per_period_in_yuan(seeds_db):
    df = claims_frame(open_db(seeds_db), "全社会固定资产投资")
    assert not df.duplicated(FIGURE).any()
    assert set(df["unit"]) == {"CNY"} and str(df["value"].dtype) == "Int64"
    ganzi = df[(df["region_adcode"] == "513300") & (df["status"] == "actual")]
    assert ganzi[["value", "period_start", "period_end"]].values.tolist() == \
           [[18743000000, "2017-01-01", "2017-08-11"]]
    assert ganzi["document_path"].iloc[0].endswith("000_1b035ffb47a9f3b7.txt")
    assert ganzi["paragraph_id"].notna().all()
    tiancheng = df[df["region"] == "天城县"]
    assert tiancheng[["value", "period_end"]].values.tolist() == [[321000000, "2005-03-31"]]
    assert list(df["period_start"]) == sorted(df["period_start"])


def test_period_filter(seeds_db):
    db = open_db(seeds_db)
    y2017 = claims_frame(db, "全社会固定资产投资", "2017")
    assert set(y2017["region_adcode"]) == {"513300"} and len(y2017) == 2  # the year-to-date figure and the target
    assert list(claims_frame(db, "全社会固定资产投资", "2017-08")["value"]) == [18743000000]
    assert claims_frame(db, "全社会固定资产投资", "1999").empty
    assert list(claims_frame(db, "全社会固定资产投资", "2017", status="target")["value"]) == [46000000000]
    with pytest.raises(ValueError, match="YYYY or YYYY-MM"):
        claims_frame(db, "全社会固定资产投资", "last year")


def test_repeated_paragraphs_count_once(seeds_db):
    """柞水's report repeats its paragraphs: one row by default, the copy only with include_duplicates."""
    db = open_db(seeds_db)
    df = claims_frame(db, "重点项目完成投资")
    zhashui = df[df["region_adcode"] == "611026"]
    assert zhashui[["value", "period_end", "n_sources"]].values.tolist() == [[4300000000, "2020-05-31", 1]]
    both = claims_frame(db, "重点项目完成投资", include_duplicates=True)
    assert both[both["region_adcode"] == "611026"]["n_sources"].tolist() == [2]
    assert conflicts_frame(db).query("region_adcode == '611026'").empty


def test_the_cli_prints_the_same_frame(seeds_db):
    res = CliRunner().invoke(cli, ["compare", "全社会固定资产投资", "--db", str(seeds_db), "--format", "json"])
    assert res.exit_code == 0, res.output
    rows = json.loads(res.output)
    assert {(r["region"], r["period_start"], r["period_end"], r["status"]) for r in rows} == \
           {("甘孜藏族自治州", "2017-01-01", "2017-08-11", "actual"), ("甘孜藏族自治州", "2017-01-01", "2017-12-31", "target"),
            ("天城县", "2005-01-01", "2005-03-31", "actual")}
    assert 18743000000 in [r["value"] for r in rows]


def test_conflicts_between_documents(tmp_path):
    """Two reports of the same figure that disagree by more than 1% conflict; 0.04% apart they do not."""
    src = next(p for p in seed_paths() if p.name.startswith("000"))
    text = src.read_bytes().decode("utf-8")
    assert "187.43" in text
    docs = tmp_path / "docs"
    docs.mkdir()
    shutil.copy(src, docs / "a.txt")
    (docs / "b.txt").write_text(text.replace("187.43", "190.00"), encoding="utf-8")  # 1.4% apart
    (docs / "c.txt").write_text(text.replace("187.43", "187.50"), encoding="utf-8")  # 0.04% apart
    db_path = tmp_path / "c.db"
    ingest_paths([docs], db_path, workers=1)
    db = open_db(db_path)
    conf = conflicts_frame(db)
    fai = conf[conf["metric"] == "全社会固定资产投资"]
    assert sorted(fai["value"]) == [18743000000.0, 18750000000.0, 19000000000.0]
    assert fai["conflict"].nunique() == 1 and fai["rel_diff"].iloc[0] == pytest.approx(257e6 / 19e9)
    assert conflicts_frame(db, tolerance=0.02).query("metric == '全社会固定资产投资'").empty
    # the shared paragraphs are duplicates: they neither conflict nor add sources
    assert set(conf["metric"]) == {"全社会固定资产投资"}
    row = claims_frame(db, "全社会固定资产投资", "2017-08")
    assert row["n_sources"].tolist() == [3] and row["value_max_reported"].tolist() == [19000000000]


def test_accepts_a_connection_or_a_path_and_a_db_built_from_build_claims(tmp_path):
    """The frames only need the contract's tables: a database written with sqlite-utils from build_claims."""
    from pipeline.claims import build_claims
    from pipeline.docmeta import document_meta
    from pipeline.extract import extract_text
    from pipeline.normalize import normalize, split_paragraphs

    path = tmp_path / "small.db"
    db = sqlite_utils.Database(path)
    for doc_id, src in enumerate(seed_paths()[:3], start=1):
        text = normalize(src.read_bytes()).text
        meta = document_meta(text)
        paras = split_paragraphs(text)
        db["documents"].insert({"id": doc_id, "path": str(src), "title": meta.title, "date": meta.date})
        db["paragraphs"].insert_all([{"id": doc_id * 1000 + i, "document_id": doc_id, "position": i,
                                      "text": text[s:e], "duplicate_of": None} for i, (s, e) in enumerate(paras)])
        claims = build_claims(text, extract_text(text, meta=meta), meta=meta, paragraphs=paras)
        db["claims"].insert_all([{**{k: v for k, v in c.to_row().items() if k != "paragraph_index"}, "id": None,
                                  "mention_indexes": json.dumps(c.mention_indexes), "document_id": doc_id,
                                  "paragraph_id": doc_id * 1000 + c.paragraph_index, "duplicate_of": None}
                                 for c in claims], pk="id", alter=True)
    by_db = claims_frame(db, "重点项目完成投资")
    by_conn = claims_frame(sqlite3.connect(path), "重点项目完成投资")
    by_path = claims_frame(str(path), "重点项目完成投资")
    assert by_db.equals(by_conn) and by_db.equals(by_path)
    assert {"510100", "513300", "611026"} <= set(by_db["region_adcode"])
    # without the duplicate flags the repeated 柞水 paragraphs are two sources of one row, not two rows
    assert by_db[by_db["region_adcode"] == "611026"]["n_sources"].tolist() == [2]


def test_a_metric_may_be_named_by_its_phrase(seeds_db):
    db = open_db(seeds_db)
    assert claims_frame(db, "固定资产投资").equals(claims_frame(db, "全社会固定资产投资"))
    with pytest.raises(KeyError, match="did you mean.*全社会固定资产投资"):
        claims_frame(db, "全社会固定资产")


def test_bad_inputs_fail_clearly(tmp_path):
    with pytest.raises(TypeError, match="sqlite_utils.Database"):
        claims_frame(42, "全社会固定资产投资")
    with pytest.raises(LookupError, match="no claims table"):
        claims_frame(sqlite3.connect(":memory:"), "全社会固定资产投资")
    assert period_bounds("2020-02") == ("2020-02-01", "2020-02-29")
    with pytest.raises(ValueError):
        period_bounds("2020-13")


def test_metrics_frame_lists_what_compare_accepts(seeds_db):
    metrics = metrics_frame()
    assert {"全社会固定资产投资", "固定资产投资增速", "重点项目投资计划完成率"} <= set(metrics["id"])
    used = set(open_db(seeds_db).execute("SELECT DISTINCT metric FROM claims").fetchall())
    assert {m for (m,) in used} <= set(metrics["id"])
