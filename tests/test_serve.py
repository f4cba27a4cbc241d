"""``gongbao serve`` over the database ``gongbao ingest corpus/`` builds: the JSON API, search, every canned
query, the plugin pages, loopback binding and read-only access. The server always stops."""
from __future__ import annotations

import json
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import pytest
import yaml

from conftest import ROOT
from pipeline import search
from pipeline.publish import METADATA, load_metadata
from test_search import corpus_db_path, like_ids

QUERIES = yaml.safe_load(METADATA.read_text(encoding="utf-8"))["databases"]["gongbao"]["queries"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """A running ``gongbao serve``: its base URL, database name and file."""

    def __init__(self, db_path: Path, port: int, proc: subprocess.Popen, log: Path):
        self.db_path, self.port, self.proc, self.log = db_path, port, proc, log
        self.base = f"http://127.0.0.1:{port}"
        self.db = db_path.stem

    def url(self, path: str, **params) -> str:
        return self.base + path + ("?" + urllib.parse.urlencode(params) if params else "")

    def get(self, path: str, **params) -> tuple[int, str]:
        try:
            with urllib.request.urlopen(self.url(path, **params), timeout=30) as r:
                return r.status, r.read().decode("utf-8")
        except urllib.error.HTTPError as e:
            return e.code, e.read().decode("utf-8", "replace")

    def json(self, path: str, **params):
        status, body = self.get(path, **params)
        assert status == 200, f"{path} {params}: HTTP {status}\n{body[:2000]}"
        return json.loads(body)

    def rows(self, name: str, /, **params) -> list[dict]:
        return self.json(f"/{self.db}/{name}.json", _shape="array", **params)


def start_server(db_path: Path, log: Path) -> Server:
    port = free_port()
    gongbao = Path(sys.executable).with_name("gongbao")
    cmd = [str(gongbao)] if gongbao.exists() else [sys.executable, "-m", "pipeline.cli"]
    with open(log, "wb") as out:
        proc = subprocess.Popen(cmd + ["serve", "--db", str(db_path), "--port", str(port)], cwd=ROOT,
                                stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    server = Server(db_path, port, proc, log)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"gongbao serve exited with {proc.returncode}:\n{log.read_text(errors='replace')}")
        try:
            urllib.request.urlopen(server.url("/-/versions.json"), timeout=2).read()
            return server
        except OSError:
            time.sleep(0.3)
    stop_server(server)
    raise RuntimeError(f"gongbao serve did not answer within 60 s:\n{log.read_text(errors='replace')}")


def stop_server(server: Server) -> None:
    """Stop the server's process group: SIGTERM, then SIGKILL after 10 s."""
    if server.proc.poll() is None:
        os.killpg(server.proc.pid, signal.SIGTERM)
        try:
            server.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(server.proc.pid, signal.SIGKILL)
            server.proc.wait(timeout=10)


@pytest.fixture(scope="session")
def server(tmp_path_factory):
    db_path = corpus_db_path(tmp_path_factory)
    srv = start_server(db_path, tmp_path_factory.mktemp("serve") / "serve.log")
    try:
        yield srv
    finally:
        stop_server(srv)
    assert srv.proc.poll() is not None


@pytest.fixture(scope="module")
def conn(server):
    c = sqlite3.connect(f"file:{server.db_path}?mode=ro", uri=True)
    yield c
    c.close()


def some(conn, sql: str, *args):
    row = conn.execute(sql, args).fetchone()
    return row[0] if row else None


# ------------------------------------------------------------------------------------------ the API

def test_tables_are_listed(server):
    data = server.json(f"/{server.db}.json")
    tables = {t["name"]: t for t in data["tables"]}
    assert {"documents", "paragraphs", "mentions", "claims", "regions", "ingest_errors"} <= set(tables)
    assert tables["paragraphs"]["count"] > 0 and tables["documents"]["count"] == 5
    assert tables["paragraphs_fts"]["hidden"]


def test_every_table_and_column_is_described(server, conn):
    meta = load_metadata(str(server.db_path))
    described = meta["databases"][server.db]["tables"]
    names = [r[0] for r in conn.execute(
        "select name from sqlite_master where type in ('table', 'view') and name not like 'paragraphs_fts%' "
        "and name not like 'sqlite_%' and name not like '\\_%' escape '\\'")]
    missing = []
    for t in names:
        if not (described.get(t) or {}).get("description"):
            missing.append(t)
            continue
        cols = [r[1] for r in conn.execute(f"pragma table_info([{t}])")]
        missing += [f"{t}.{c}" for c in cols if c not in (described[t].get("columns") or {})]
    assert missing == []


@pytest.mark.parametrize("q", ["投资", "重点项目", "固定资产投资", "187.43亿元"])
def test_search_returns_the_rows_of_a_like_scan(server, conn, q):
    expected = like_ids(conn, q)
    assert expected
    via_query = {r["id"] for r in server.rows("search", q=q)}
    via_table = {r["id"] for r in server.rows("paragraphs", _search=q, _size="max", _col="id")}
    assert via_query == expected
    assert via_table == expected


def test_table_search_box_is_shown_and_keeps_the_query(server):
    status, page = server.get(f"/{server.db}/paragraphs", _search="重点项目")
    assert status == 200
    assert 'name="_search"' in page and 'value="重点项目"' in page
    assert "text contains &#34;重点项目&#34;" in page


def test_hostile_search_input_is_text(server, conn):
    for q in ['投资"', 'NEAR(投资', "投资 OR 项目", "*"]:
        rows = server.rows("search", q=q)
        terms = search.query_terms(q)
        expected = set.intersection(*(like_ids(conn, t) for t in terms))
        assert {r["id"] for r in rows} == expected, q


def test_search_words_mode(server, conn):
    rows = server.rows("search_words", q="固定资产投资增长")
    assert rows
    for r in rows:
        text = some(conn, "select text from paragraphs where id = ?", r["id"])
        assert all(w in text for w in ["固定资产", "投资", "增长"])
        assert "<mark>" in r["snippet"] or len(text) > 80
    table = server.rows("paragraphs", _search="固定资产投资增长", _zhmode="words", _size="max", _col="id")
    assert {r["id"] for r in table} == {r["id"] for r in rows}


def test_compare_across_regions(server, conn):
    metric = some(conn, "select metric from claims where duplicate_of is null group by metric "
                        "order by count(distinct region_name) desc, count(*) desc limit 1")
    rows = server.rows("compare", metric=metric, period="")
    assert len({r["region_name"] for r in rows}) >= 2
    assert all(r["metric"] == metric for r in rows)
    values = [r["value"] for r in rows]
    assert values == sorted(values, reverse=True)
    year = some(conn, "select substr(period_end, 1, 4) from claims where metric = ? and period_end is not null",
                metric)
    in_year = server.rows("compare", metric=metric, period=year)
    assert in_year and all(year in (r["period_start"] or "") + (r["period_end"] or "") for r in in_year)


def test_conflicts(server, conn):
    rows = server.rows("conflicts", tolerance="0.01")
    for r in rows:
        assert abs(r["value_a"] - r["value_b"]) > 0.01 * max(abs(r["value_a"]), abs(r["value_b"]))
    assert rows == server.rows("conflicts", tolerance="")
    assert len(server.rows("conflicts", tolerance="1e9")) == 0


def test_largest_projects_and_project_mentions(server, conn):
    rows = server.rows("largest_projects", region="")
    amounts = [r["amount"] for r in rows]
    assert amounts == sorted(amounts, reverse=True)
    n_projects = some(conn, "select count(*) from mentions where kind = 'project'")
    mentions = server.rows("project_mentions", name="")
    assert len(mentions) == n_projects
    if n_projects:
        name = mentions[0]["text"]
        assert all(name in r["text"] for r in server.rows("project_mentions", name=name))


def test_duplicate_clusters(server, conn):
    rows = server.rows("duplicates", min_size="")
    n_dup = some(conn, "select count(*) from paragraphs where duplicate_of is not null")
    assert sum(r["members"] - 1 for r in rows) == n_dup
    assert all(r["members"] >= 2 for r in rows)
    assert all(r["members"] >= 3 for r in server.rows("duplicates", min_size="3"))


def test_every_canned_query_answers(server):
    assert set(QUERIES) == {"search", "search_words", "compare", "conflicts", "largest_projects",
                            "project_mentions", "duplicates"}
    for name in QUERIES:
        data = server.json(f"/{server.db}/{name}.json")
        assert "error" not in data or not data["error"], name


# ---------------------------------------------------------------------------------- plugin pages

def test_mentions_link_to_their_paragraph_with_the_span_marked(server, conn):
    mid, pid, text, start, end = conn.execute(
        "select id, paragraph_id, text, start, \"end\" from mentions where kind = 'amount' "
        "and paragraph_id is not null order by id limit 1").fetchone()
    status, page = server.get(f"/{server.db}/mentions", kind="amount")
    assert status == 200 and f"/-/gongbao/paragraph/{pid}?start={start}&amp;end={end}" in page
    status, page = server.get(f"/-/gongbao/paragraph/{pid}", start=start, end=end)
    assert status == 200 and f"<mark>{text}</mark>" in page
    assert "Traceback" not in page


def test_claims_link_to_their_paragraph(server, conn):
    pid, start, end = conn.execute("select paragraph_id, start, \"end\" from claims where paragraph_id is not null "
                                   "and start is not null order by id limit 1").fetchone()
    status, page = server.get(f"/{server.db}/claims")
    assert status == 200 and "/-/gongbao/paragraph/" in page
    status, page = server.get(f"/-/gongbao/paragraph/{pid}", start=start, end=end)
    assert status == 200 and "<mark>" in page


def test_paragraph_page_says_when_a_span_is_elsewhere(server, conn):
    pid, start, end = conn.execute("select id, start, \"end\" from paragraphs order by id limit 1").fetchone()
    status, page = server.get(f"/-/gongbao/paragraph/{pid}", start=end + 5, end=end + 9)
    assert status == 200 and "lies outside this paragraph" in page and "<mark>" not in page


def test_paragraph_page_errors_are_clean(server):
    assert server.get("/-/gongbao/paragraph/999999")[0] == 404
    assert server.get("/-/gongbao/paragraph/1", start="x", end="2")[0] == 400


def test_chart_of_a_metric_across_regions(server, conn):
    metric = some(conn, "select metric from claims where duplicate_of is null group by metric "
                        "order by count(distinct region_name) desc, count(*) desc limit 1")
    regions = {r[0] or r[1] or "（未知地区）" for r in conn.execute(
        "select distinct region_name, region_adcode from claims where metric = ? "
        "and duplicate_of is null and value is not null", (metric,))}
    status, svg = server.get("/-/gongbao/chart", metric=metric, _format="svg")
    assert status == 200 and svg.startswith("<svg")
    assert svg.count("<rect") == len(regions)
    assert all(r in svg for r in regions)


def test_css_is_served(server):
    status, css = server.get("/-/gongbao/static/gongbao.css")
    assert status == 200 and "Noto Sans CJK SC" in css


# -------------------------------------------------------------------------------- safety of serving

def listening_addresses(port: int) -> set[str]:
    """Local addresses of sockets listening on PORT, from /proc/net/tcp{,6}."""
    found = set()
    for name in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            lines = Path(name).read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            local, state = line.split()[1], line.split()[3]
            addr, hex_port = local.split(":")
            if state == "0A" and int(hex_port, 16) == port:
                found.add(addr)
    return found


def test_bound_to_loopback_only(server):
    if not Path("/proc/net/tcp").exists():
        pytest.skip("needs Linux /proc/net/tcp")
    assert listening_addresses(server.port) == {"0100007F"}  # 127.0.0.1, nothing on 0.0.0.0 or ::


def test_read_only(server, conn):
    before = some(conn, "select count(*) from paragraphs")
    info = server.json("/-/databases.json")
    assert [d["is_mutable"] for d in info if d["name"] == server.db] == [False]
    for sql in ["delete from paragraphs", "insert into ingest_errors(path, stage, message, at) values ('x','y','z','t')",
                "update documents set title = 'x'", "drop table claims", "pragma user_version = 7"]:
        status, body = server.get(f"/{server.db}.json", sql=sql)
        assert status in (400, 403), (sql, status, body[:300])
    assert some(conn, "select count(*) from paragraphs") == before
