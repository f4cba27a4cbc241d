"""Publish a gongbao database with Datasette: the plugin (SQL functions, links, pages) and ``serve``.

Registered as the Datasette plugin ``gongbao`` through the ``datasette`` entry point in pyproject.toml,
so it is active in every Datasette started from this environment. It adds:

* SQL functions (``prepare_connection``): ``zh_query(q[, mode])`` — an FTS5 MATCH expression for
  ``paragraphs_fts`` (:mod:`pipeline.search`), ``zh_segment(text)`` — jieba words, and
  ``zh_snippet(text, q)`` — the text around the hits with ``<mark>`` tags.
* The table search box on ``paragraphs`` (``filters_from_request``): ``?_search=投资`` keeps the
  paragraphs whose text contains every term, exactly as ``LIKE '%投资%'`` would; ``&_zhmode=words``
  matches jieba words instead.
* Links (``render_cell``): a mention's ``text`` and a claim's ``value`` open
  ``/-/gongbao/paragraph/<id>?start=&end=`` — the paragraph with the span marked (offsets in the
  document's normalized text, as stored). A ``snippet`` column renders its ``<mark>`` tags.
* Pages (``register_routes``): that paragraph page and ``/-/gongbao/chart?metric=&period=``, an SVG
  bar chart of one metric across regions (the canned query ``compare`` as a picture).

``serve`` starts Datasette on one database, read-only (immutable), on 127.0.0.1 by default, with
``pipeline/datasette/metadata.yml`` (descriptions, facets, canned queries) fitted to that database.
"""
from __future__ import annotations

import html
import json
import re
import sqlite3
import tempfile
import urllib.parse
from pathlib import Path

from datasette import hookimpl
from datasette.utils.asgi import Response
from markupsafe import Markup

from . import PACKAGE_DIR
from . import search as zh

PLUGIN = "gongbao"
METADATA = PACKAGE_DIR / "datasette" / "metadata.yml"
TEMPLATES = PACKAGE_DIR / "templates"
STATIC = PACKAGE_DIR / "static"
PARAGRAPH_PATH = "/-/gongbao/paragraph/"
CHART_PATH = "/-/gongbao/chart"
STATIC_PATH = "/-/gongbao/static/"
#: Tables whose ``_search`` goes through ``zh_query`` → the FTS table indexing them (rowid = id).
SEARCH_TABLES = {"paragraphs": zh.FTS_TABLE}
#: Foreign-key columns → the table they point to (for labels of rows that have none).
FK_TABLES = {"document_id": "documents", "paragraph_id": "paragraphs"}
SNIPPET_CONTEXT = 40  # characters kept either side of the first hit by zh_snippet
_MARK_SPLIT = re.compile(r"(</?mark>)")
_MARKED = re.compile(r"<mark>(.*?)</mark>")


# ---------------------------------------------------------------------------------------------
# SQL functions
# ---------------------------------------------------------------------------------------------

def hits(text: str, q: str) -> list[tuple[int, int]]:
    """Non-overlapping ``(start, end)`` of every exact query term in TEXT (ASCII case folded, as LIKE).

    >>> hits("重点项目和重点工作", "重点 项目")
    [(0, 2), (2, 4), (5, 7)]
    """
    folded = _fold(text)
    spans = []
    for term in zh.query_terms(q or ""):
        t = _fold(term)
        i = folded.find(t)
        while t and i >= 0:
            spans.append((i, i + len(t)))
            i = folded.find(t, i + len(t))
    spans.sort()
    out: list[tuple[int, int]] = []
    for s, e in spans:
        if out and s < out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], e))
        else:
            out.append((s, e))
    return out


def _fold(s: str) -> str:
    """ASCII-only lower-casing (what SQLite's LIKE folds), keeping every index in place."""
    return "".join(c.lower() if c.isascii() else c for c in s)


def mark_spans(text: str, spans: list[tuple[int, int]]) -> str:
    """TEXT with ``<mark>…</mark>`` around SPANS (not HTML-escaped; see :func:`marked_html`)."""
    out, pos = [], 0
    for s, e in spans:
        out += [text[pos:s], "<mark>", text[s:e], "</mark>"]
        pos = e
    out.append(text[pos:])
    return "".join(out)


def zh_snippet(text: str | None, q: str | None, context: int = SNIPPET_CONTEXT) -> str:
    """TEXT around its first hit of Q, hits wrapped in ``<mark>`` tags, ``…`` where cut.

    >>> zh_snippet("全州全社会固定资产投资完成187.43亿元，同比增长11%左右", "187.43亿元", 6)
    '…资产投资完成<mark>187.43亿元</mark>，同比增长1…'
    """
    text = text or ""
    spans = hits(text, q or "")
    if not spans:
        return text[: 2 * context] + ("…" if len(text) > 2 * context else "")
    lo = max(0, spans[0][0] - context)
    hi = min(len(text), spans[0][1] + context)
    inside = [(s - lo, min(e, hi) - lo) for s, e in spans if s < hi]
    return ("…" if lo else "") + mark_spans(text[lo:hi], inside) + ("…" if hi < len(text) else "")


def marked_html(value: str) -> Markup:
    """HTML for text holding ``<mark>`` tags: everything escaped except exactly those tags."""
    return Markup("".join(p if p in ("<mark>", "</mark>") else html.escape(p) for p in _MARK_SPLIT.split(value)))


@hookimpl
def prepare_connection(conn: sqlite3.Connection):
    zh.register_functions(conn)
    conn.create_function("zh_snippet", 2, zh_snippet, deterministic=True)


# ---------------------------------------------------------------------------------------------
# Table search box
# ---------------------------------------------------------------------------------------------

@hookimpl(trylast=True)
def filters_from_request(request, database, table, datasette):
    """``?_search=`` on ``paragraphs`` through ``zh_query`` (run last so our context wins).

    Only where the database has the index; ``&_zhmode=words`` matches jieba words instead of the exact text.
    """
    fts = SEARCH_TABLES.get(table)
    if fts is None:
        return None

    async def inner():
        from datasette.filters import FilterArguments

        if not await datasette.get_database(database).table_exists(fts):
            return None
        q = request.args.get("_search", "")
        mode = "words" if request.args.get("_zhmode") == "words" else "exact"
        context = {"supports_search": True, "search": q}
        if not q.strip():
            return FilterArguments([], extra_context=context)
        return FilterArguments(
            [f"id in (select rowid from [{fts}] where [{fts}] match zh_query(:zh_search, :zh_mode))"],
            params={"zh_search": q, "zh_mode": mode},
            human_descriptions=[f'text contains "{q}"' if mode == "exact" else f'text has the words of "{q}"'],
            extra_context=context,
        )

    return inner


# ---------------------------------------------------------------------------------------------
# Links from mentions and claims to their paragraph
# ---------------------------------------------------------------------------------------------

def paragraph_url(datasette, paragraph_id, start=None, end=None, q=None, database=None) -> str:
    """URL of the paragraph page, marking the document span [START, END) and/or the terms of Q."""
    args = {k: v for k, v in (("start", start), ("end", end), ("q", q), ("db", database)) if v not in (None, "")}
    url = datasette.urls.path(f"{PARAGRAPH_PATH}{int(paragraph_id)}")
    return url + ("?" + urllib.parse.urlencode(args) if args else "")


def _row_get(row, key):
    """ROW[KEY], or None; a foreign key the table view expanded to ``{"value", "label"}`` gives its value."""
    try:
        v = row[key]
    except (IndexError, KeyError):
        return None
    return v.get("value") if isinstance(v, dict) else v


def _number(x: float, decimals: int = 2) -> str:
    """X with thousands separators and at most DECIMALS decimals, trailing zeros dropped."""
    text = f"{x:,.{decimals}f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def format_value(value, unit=None) -> str:
    """A value as these reports write it: 18743000000 CNY → ``187.43亿元``, 11 % → ``11%``.

    >>> format_value(460699000000.0, "CNY"), format_value(35000.0, "CNY"), format_value(1105.0, "个")
    ('4,606.99亿元', '3.5万元', '1,105个')
    """
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return str(value)
    unit = unit or ""
    if unit in ("CNY", "元"):
        if abs(value) >= 1e8:
            return _number(value / 1e8, 4) + "亿元"
        if abs(value) >= 1e4:
            return _number(value / 1e4, 4) + "万元"
        return _number(value) + "元"
    if unit in ("%", "percent"):
        return _number(value) + "%"
    return _number(value, 4) + unit


@hookimpl
def render_cell(row, value, column, table, database, datasette):
    keys = row.keys() if hasattr(row, "keys") else ()
    if isinstance(value, dict) and column in FK_TABLES and value.get("value") is not None \
            and value.get("label") in (None, "", "None"):
        # A foreign key whose label (e.g. an untitled document) is empty: show "#id", not "None".
        url = datasette.urls.row(database, FK_TABLES[column], value["value"])
        return Markup(f'<a href="{html.escape(url)}">#{html.escape(str(value["value"]))}</a>')
    if column == "snippet" and isinstance(value, str) and "<mark>" in value:
        return marked_html(value)
    if column == "id" and table is None and "snippet" in keys and isinstance(value, int):
        # A search hit: open the paragraph with the same terms marked.
        terms = dict.fromkeys(_MARKED.findall(_row_get(row, "snippet") or ""))
        q = " ".join(f'"{t}"' if any(c.isspace() for c in t) else t for t in terms)
        url = paragraph_url(datasette, value, q=q or None)
        return Markup(f'<a href="{html.escape(url)}" title="在段落中查看">{value}</a>')
    link = span_link(row, keys, column, table)
    if link is None or value is None:
        return None
    pid, start, end, is_value = link
    db = database if len([d for d in datasette.databases if d != "_internal"]) > 1 else None
    unit = _row_get(row, "unit")
    label = format_value(value, unit) if is_value else value
    url = paragraph_url(datasette, pid, start, end, database=db)
    raw = _number(value, 4) if isinstance(value, (int, float)) else value
    title = (f"{raw} {unit or ''} — " if is_value else "") + "在段落中查看"
    return Markup(f'<a class="gongbao-span" href="{html.escape(url)}" title="{html.escape(title)}">'
                  f"{html.escape(str(label))}</a>")


#: Cells that link to their span: column → (paragraph, start, end columns, is a claim value, row test).
SPAN_COLUMNS = {
    "text": ("paragraph_id", "start", "end", False, lambda keys, table: table in ("mentions", "unique_mentions")
             or (table is None and "kind" in keys)),
    "project": ("paragraph_id", "start", "end", False, lambda keys, table: table is None),
    "value": ("paragraph_id", "start", "end", True, lambda keys, table: table in ("claims", "unique_claims")
              or (table is None and "metric" in keys)),
    "value_a": ("paragraph_a", "start_a", "end_a", True, lambda keys, table: table is None),
    "value_b": ("paragraph_b", "start_b", "end_b", True, lambda keys, table: table is None),
}


def span_link(row, keys, column, table):
    """``(paragraph_id, start, end, is_value)`` when this cell names a mention or claim, else None."""
    spec = SPAN_COLUMNS.get(column)
    if spec is None:
        return None
    pcol, scol, ecol, is_value, applies = spec
    if not (pcol in keys and scol in keys and ecol in keys and applies(keys, table)):
        return None
    pid = _row_get(row, pcol)
    return None if pid is None else (pid, _row_get(row, scol), _row_get(row, ecol), is_value)


# ---------------------------------------------------------------------------------------------
# Pages
# ---------------------------------------------------------------------------------------------

def _database(datasette, request):
    """The database a page reads: ``?db=`` or the first one served."""
    names = [n for n in datasette.databases if n != "_internal"]
    name = request.args.get("db") or (names[0] if names else None)
    if name not in names:
        from datasette.utils.asgi import NotFound

        raise NotFound(f"no database {name!r}")
    return name, datasette.get_database(name)


def _int_arg(request, key):
    v = request.args.get(key)
    try:
        return int(v) if v not in (None, "") else None
    except ValueError:
        from datasette.utils.asgi import BadRequest

        raise BadRequest(f"{key} must be an integer, not {v!r}")


async def paragraph_page(datasette, request):
    """One paragraph with a span and/or search terms marked, its document and its mentions."""
    name, db = _database(datasette, request)
    await datasette.ensure_permissions(request.actor, [("view-table", (name, "paragraphs")),
                                                       ("view-database", name), "view-instance"])
    pid = int(request.url_vars["id"])
    rows = (await db.execute(
        "select p.*, d.title as document_title, d.date as document_date, d.region_name as document_region "
        "from paragraphs p join documents d on d.id = p.document_id where p.id = ?", [pid])).rows
    if not rows:
        from datasette.utils.asgi import NotFound

        raise NotFound(f"no paragraph {pid}")
    p = dict(rows[0])
    text, base = p["text"] or "", p.get("start") or 0
    start, end, q = _int_arg(request, "start"), _int_arg(request, "end"), request.args.get("q", "")
    spans, note = [], None
    if start is not None and end is not None:
        s, e = start - base, end - base
        if 0 <= s < e <= len(text):
            spans.append((s, e))
        else:
            note = f"span {start}–{end} lies outside this paragraph ({base}–{base + len(text)})"
    spans = sorted(set(spans) | set(hits(text, q)))
    merged: list[tuple[int, int]] = []
    for s, e in spans:
        if merged and s < merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], e))
        else:
            merged.append((s, e))
    mentions = []
    if await db.table_exists("mentions"):
        cols = set(await db.table_columns("mentions"))
        wanted = [c for c in ("id", "kind", "text", "start", "end", "value", "unit", "currency", "rule") if c in cols]
        mentions = [dict(r) for r in (await db.execute(
            f"select {', '.join(f'[{c}]' for c in wanted)} from mentions where paragraph_id = ? order by start",
            [pid])).rows]
    for m in mentions:
        m["url"] = paragraph_url(datasette, pid, m.get("start"), m.get("end"),
                                 database=request.args.get("db"))
        m["shown_value"] = format_value(m["value"], m.get("currency") or m.get("unit") or "") \
            if m.get("value") is not None else ""
    neighbours = {r["position"]: r["id"] for r in (await db.execute(
        "select id, position from paragraphs where document_id = ? and position in (?, ?)",
        [p["document_id"], (p["position"] or 0) - 1, (p["position"] or 0) + 1])).rows}
    def step(delta: int) -> str | None:
        other = neighbours.get((p["position"] or 0) + delta)
        return None if other is None else paragraph_url(datasette, other, q=q or None, database=request.args.get("db"))

    return Response.html(await datasette.render_template(
        "gongbao_paragraph.html",
        {
            "database": name, "paragraph": p, "text_html": marked_html(mark_spans(text, merged)),
            "note": note, "q": q, "mentions": mentions,
            "prev_url": step(-1), "next_url": step(+1),
        },
        request=request,
    ))


def period_label(row: dict) -> str:
    """``2019``, ``2019-01–2019-08`` or '' for a claim's period.

    >>> period_label({"period_start": "2019-01-01", "period_end": "2019-12-31"})
    '2019'
    >>> period_label({"period_start": "2019-01-01", "period_end": "2019-08-31"})
    '2019-01–2019-08'
    """
    start, end = row.get("period_start") or "", row.get("period_end") or ""
    if not (start or end):
        return ""
    if start[5:] == "01-01" and end[5:] == "12-31" and start[:4] == end[:4]:
        return start[:4]
    return f"{start[:7]}–{end[:7]}" if start and end else (start or end)[:7]


def bar_chart_svg(bars: list[tuple[str, float, str]], title: str, width: int = 760) -> str:
    """A horizontal bar chart as standalone SVG: one ``(label, value, value_text)`` per bar.

    >>> "甘孜" in bar_chart_svg([("甘孜", 2.0, "2")], "t")
    True
    """
    row_h, left, right, top = 30, 260, 150, 44
    height = top + row_h * max(len(bars), 1) + 20
    top_value = max((v for _, v, _ in bars), default=0) or 1
    esc = html.escape
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" class="gongbao-chart" role="img" width="{width}" '
             f'height="{height}" viewBox="0 0 {width} {height}" aria-label="{esc(title)}">',
             "<style>text{font-family:'Noto Sans CJK SC','Noto Sans SC','PingFang SC','Microsoft YaHei',"
             "sans-serif;font-size:14px;fill:#222}text.title{font-size:16px;font-weight:bold}"
             "rect{fill:#4a7fb0}rect:hover{fill:#d48806}</style>",
             f'<text x="0" y="24" class="title">{esc(title)}</text>']
    span = width - left - right
    for i, (label, value, shown) in enumerate(bars):
        y = top + i * row_h
        w = max(1.0, span * max(value, 0) / top_value)
        parts += [f'<text x="{left - 8}" y="{y + 20}" text-anchor="end">{esc(label)}</text>',
                  f'<rect x="{left}" y="{y + 4}" width="{w:.1f}" height="{row_h - 8}">'
                  f'<title>{esc(shown)}</title></rect>',
                  f'<text x="{left + w + 6:.1f}" y="{y + 20}">{esc(shown)}</text>']
    if not bars:
        parts.append(f'<text x="{left}" y="{top + 18}">（无数据）</text>')
    parts.append("</svg>")
    return "".join(parts)


async def chart_page(datasette, request):
    """A bar chart of one metric across regions, from the canned query ``compare``."""
    name, db = _database(datasette, request)
    await datasette.ensure_permissions(request.actor, [("view-table", (name, "claims")),
                                                       ("view-database", name), "view-instance"])
    metric, period = request.args.get("metric", ""), request.args.get("period", "")
    query = (datasette.metadata("queries", database=name) or {}).get("compare")
    sql = query["sql"] if isinstance(query, dict) else query
    metrics = []
    if await db.table_exists("claims"):
        metrics = [r[0] for r in (await db.execute(
            "select metric from claims where metric is not null group by metric order by count(*) desc limit 50")).rows]
    if not metric and metrics:
        metric = metrics[0]
    rows = [dict(r) for r in (await db.execute(sql, {"metric": metric, "period": period})).rows] if sql else []
    best: dict[str, dict] = {}  # one bar per region: its largest claim (the query sorts by value)
    for r in rows:
        key = r.get("region_name") or r.get("region_adcode") or "（未知地区）"
        if r.get("value") is not None and key not in best:
            best[key] = r
    bars = [(f"{k}（{period_label(r)}）" if period_label(r) else k, float(r["value"]),
             format_value(r["value"], r.get("unit"))) for k, r in best.items()]
    title = f"{metric}" + (f"（{period}）" if period else "")
    if request.args.get("_format") == "svg":
        return Response(bar_chart_svg(bars, title), content_type="image/svg+xml; charset=utf-8")
    return Response.html(await datasette.render_template(
        "gongbao_chart.html",
        {"database": name, "metric": metric, "period": period, "metrics": metrics, "rows": rows,
         "svg": Markup(bar_chart_svg(bars, title)),
         "query_url": datasette.urls.database(name) + "/compare?" + urllib.parse.urlencode(
             {"metric": metric, "period": period})},
        request=request,
    ))


async def static_file(request):
    """This package's static/ files (served by a route, so they work whether installed or not)."""
    name = request.url_vars["name"]
    files = {p.name: p for p in STATIC.iterdir() if p.is_file()}
    if name not in files:
        from datasette.utils.asgi import NotFound

        raise NotFound(name)
    types = {".css": "text/css; charset=utf-8", ".js": "application/javascript; charset=utf-8",
             ".svg": "image/svg+xml"}
    return Response(files[name].read_text(encoding="utf-8"),
                    content_type=types.get(files[name].suffix, "text/plain; charset=utf-8"),
                    headers={"Cache-Control": "max-age=3600"})


@hookimpl
def register_routes():
    return [
        (r"^/-/gongbao/paragraph/(?P<id>\d+)$", paragraph_page),
        (r"^/-/gongbao/chart$", chart_page),
        (r"^/-/gongbao/static/(?P<name>[A-Za-z0-9_.-]+)$", static_file),
    ]


@hookimpl
def extra_css_urls(datasette):
    return [datasette.urls.path(STATIC_PATH + "gongbao.css")]


@hookimpl
def prepare_jinja2_environment(env):
    """Make templates/ (gongbao_paragraph.html, gongbao_chart.html) findable, after user overrides."""
    from jinja2 import ChoiceLoader, FileSystemLoader

    env.loader = ChoiceLoader([env.loader, FileSystemLoader(str(TEMPLATES))])


# ---------------------------------------------------------------------------------------------
# serve
# ---------------------------------------------------------------------------------------------

def _columns(db_path: str) -> dict[str, set[str]]:
    """Table → column names of the SQLite file, read-only."""
    conn = sqlite3.connect(f"file:{Path(db_path).resolve()}?mode=ro", uri=True)
    try:
        tables = [r[0] for r in conn.execute("select name from sqlite_master where type in ('table', 'view')")]
        return {t: {r[1] for r in conn.execute(f"pragma table_info([{t}])")} for t in tables}
    finally:
        conn.close()


def load_metadata(db_path: str, metadata_path: Path = METADATA) -> dict:
    """The metadata of METADATA_PATH fitted to one database file.

    ``databases.gongbao`` is renamed to the file's Datasette name (its stem), and facets, sort orders
    and column descriptions naming tables or columns the file does not have are dropped, so an older
    or partial database still serves.
    """
    import yaml

    meta = yaml.safe_load(metadata_path.read_text(encoding="utf-8"))
    cols = _columns(db_path)
    dbs = meta.get("databases") or {}
    (template,) = dbs.values() if len(dbs) == 1 else ({},)
    tables = {}
    for name, t in (template.get("tables") or {}).items():
        if name not in cols:
            continue
        t = dict(t)
        have = cols[name]
        if "facets" in t:
            t["facets"] = [f for f in t["facets"] if (f if isinstance(f, str) else next(iter(f.values()))) in have]
        for key in ("sort", "sort_desc", "label_column"):
            if t.get(key) and t[key] not in have:
                del t[key]
        if "columns" in t:
            t["columns"] = {c: d for c, d in t["columns"].items() if c in have}
        tables[name] = t
    name = Path(db_path).stem
    meta["databases"] = {name: {**template, "tables": tables}}
    from datasette.utils import tilde_encode

    text = json.dumps(meta, ensure_ascii=False).replace("{database}", json.dumps(tilde_encode(name))[1:-1])
    return json.loads(text)


def datasette_args(db_path: str, metadata_file: str, port: int, host: str) -> list[str]:
    """The ``datasette serve`` arguments ``serve`` runs with."""
    args = ["serve", "-i", str(db_path), "--metadata", metadata_file, "--host", host, "--port", str(port),
            "--setting", "sql_time_limit_ms", "5000",
            "--setting", "facet_time_limit_ms", "500",
            "--setting", "default_page_size", "50",
            "--setting", "num_sql_threads", "3"]
    return args


def ensure_plugin_registered() -> None:
    """Register this module with Datasette's plugin manager unless the entry point already did
    (a checkout used without ``pip install -e .``)."""
    import sys

    from datasette.plugins import pm

    if not any(getattr(p, "__name__", "") == __name__ for p in pm.get_plugins()):
        pm.register(sys.modules[__name__], name=PLUGIN)


def serve(db_path: str, port: int = 8001, host: str = "127.0.0.1") -> None:
    """Run Datasette on DB_PATH until interrupted: immutable (read-only), metadata, this plugin.

    Binds to 127.0.0.1 unless HOST says otherwise. Blocks; Ctrl-C stops it.
    """
    from datasette.cli import cli as datasette_cli

    if not Path(db_path).is_file():
        raise FileNotFoundError(db_path)
    ensure_plugin_registered()
    with tempfile.TemporaryDirectory(prefix="gongbao-serve-") as tmp:
        meta_file = Path(tmp) / "metadata.json"
        meta_file.write_text(json.dumps(load_metadata(db_path), ensure_ascii=False), encoding="utf-8")
        try:
            datasette_cli.main(args=datasette_args(db_path, str(meta_file), port, host), prog_name="datasette",
                               standalone_mode=False)
        except KeyboardInterrupt:  # pragma: no cover - interactive
            pass
