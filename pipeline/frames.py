"""The ingested database as pandas DataFrames: what the notebooks (``notebooks/``) and scripts build on.

Every function takes the database (a :class:`sqlite_utils.Database` from :func:`pipeline.store.open_db`,
a :class:`sqlite3.Connection` or a path) and returns a :class:`pandas.DataFrame`; the SQL lives here and
in :mod:`pipeline.query` (claims across regions, conflicts — the queries ``gongbao compare`` runs), never
in a notebook. Columns are the names of ``../shared/CONTRACT.md`` plus a few joined ones (``region``,
``document_path``, ``document_date``).

* :func:`documents_frame`, :func:`documents_by_region` — what was loaded, per region and date;
* :func:`mentions_frame`, :func:`top_mentions` — mentions of one kind, the most frequent ones;
* :func:`project_mentions` — where a project is mentioned across documents, with the sentence around it;
* :func:`metric_coverage` — which metrics are reported by how many regions (what is worth comparing);
* :func:`duplicates_frame`, :func:`duplicate_counts` — repeated paragraphs and what leaving them out changes;
* :func:`cjk_font`, :func:`use_cjk_font` — a CJK font for matplotlib found on this machine, so Chinese
  labels render as characters, not boxes; :func:`figure_fonts` — the font file each text of a figure is
  drawn with; :func:`display_values`, :func:`claim_labels`, :func:`format_period` — chart labels.

>>> import sqlite3
>>> conn = sqlite3.connect(":memory:")
>>> _ = conn.executescript('''
... CREATE TABLE documents (id INTEGER PRIMARY KEY, path TEXT, title TEXT, date TEXT, region_adcode TEXT,
...   region_name TEXT, duplicate_of INT);
... CREATE TABLE paragraphs (id INTEGER PRIMARY KEY, document_id INT, position INT, text TEXT, duplicate_of INT);
... CREATE TABLE mentions (id INTEGER PRIMARY KEY, document_id INT, paragraph_id INT, kind TEXT, text TEXT,
...   start INT, "end" INT, value, unit TEXT, rule TEXT, duplicate_of INT);
... INSERT INTO documents VALUES (1, 'a.txt', 'A', '2017-08-11', '513300', '甘孜藏族自治州', NULL),
...   (2, 'b.txt', 'B', NULL, '513300', '甘孜藏族自治州', NULL);
... INSERT INTO paragraphs VALUES (1, 1, 0, '推进川藏铁路建设。', NULL), (2, 2, 0, '川藏铁路开工。', NULL);
... INSERT INTO mentions VALUES (1, 1, 1, 'project', '川藏铁路', 2, 6, NULL, NULL, 'r', NULL),
...   (2, 2, 2, 'project', '川藏铁路', 0, 4, NULL, NULL, 'r', NULL);
... ''')
>>> documents_by_region(conn)[["region", "n_documents", "first_date"]].to_dict("records")
[{'region': '甘孜藏族自治州', 'n_documents': 2, 'first_date': '2017-08-11'}]
>>> top_mentions(conn, "project")[["text", "n_mentions", "n_documents"]].to_dict("records")
[{'text': '川藏铁路', 'n_mentions': 2, 'n_documents': 2}]
>>> project_mentions(conn, "川藏")["context"].tolist()
['推进【川藏铁路】建设。', '【川藏铁路】开工。']
"""
from __future__ import annotations

import functools
import sqlite3
from pathlib import Path

from .query import claims_frame, connection

__all__ = ["documents_frame", "documents_by_region", "mentions_frame", "top_mentions", "project_mentions",
           "metric_coverage", "duplicates_frame", "duplicate_counts", "cjk_font", "use_cjk_font",
           "missing_glyphs", "figure_fonts", "display_values", "claim_labels", "format_period", "STATUS_ZH",
           "CJK_FAMILIES", "MENTION_KINDS"]

#: The mention kinds of CONTRACT.md.
MENTION_KINDS = ("amount", "percent", "count", "quantity", "date", "region", "project", "mechanism")

#: CJK font families tried in order (simplified Chinese first); the first one installed is used.
CJK_FAMILIES = ("Noto Sans CJK SC", "Source Han Sans SC", "Noto Sans SC", "Noto Serif CJK SC",
                "Source Han Serif SC", "WenQuanYi Zen Hei", "WenQuanYi Micro Hei", "Droid Sans Fallback",
                "Microsoft YaHei", "SimHei", "PingFang SC", "Hiragino Sans GB", "Noto Sans CJK TC",
                "Noto Sans CJK JP", "AR PL UMing CN")

#: characters a CJK font must have to be accepted (a sample of what charts show: regions, metrics, units)
_PROBE = "甘孜藏族自治州成都市柞水县重点项目投资亿元个"


def _columns(conn: sqlite3.Connection, table: str) -> set[str]:
    return {r[1] for r in conn.execute(f"PRAGMA table_info({table})")}


def _col(cols: set[str], name: str, alias: str | None = None, prefix: str = "") -> str:
    """``prefix.name AS alias`` when the column exists, else ``NULL AS alias`` (older databases)."""
    alias = alias or name
    return f'{prefix}"{name}" AS "{alias}"' if name in cols else f'NULL AS "{alias}"'


def _read(db, sql: str, params: tuple = ()):
    import pandas as pd

    return pd.read_sql_query(sql, connection(db), params=params)


# ------------------------------------------------------------------------------------------ documents

def documents_frame(db):
    """One row per document: id, path, title, date, region, region_adcode, region_level, encoding, n_chars,
    n_paragraphs, n_mentions, n_claims, duplicate_of — sorted by region, then date (undated last)."""
    conn = connection(db)
    c = _columns(conn, "documents")
    cols = ", ".join([
        "id", "path", _col(c, "title"), _col(c, "date"),
        "COALESCE(region_name, region_adcode) AS region" if "region_name" in c else "NULL AS region",
        _col(c, "region_adcode"), _col(c, "region_level"), _col(c, "encoding"), _col(c, "n_chars"),
        _col(c, "n_paragraphs"), _col(c, "n_mentions"), _col(c, "n_claims"), _col(c, "duplicate_of")])
    return _read(conn, f"""SELECT {cols} FROM documents
                           ORDER BY region IS NULL, region, date IS NULL, date, id""")


def documents_by_region(db):
    """Documents per region: region, region_adcode, n_documents, n_dated, first_date, last_date, n_chars,
    n_claims — most documents first. Reposted copies (``documents.duplicate_of``) are not counted."""
    df = documents_frame(db)
    if "duplicate_of" in df:
        df = df[df["duplicate_of"].isna()]
    df = df.assign(region=df["region"].fillna("(unknown region)"), region_adcode=df["region_adcode"].fillna(""))
    out = (df.groupby(["region", "region_adcode"], sort=False)
             .agg(n_documents=("id", "size"), n_dated=("date", "count"), first_date=("date", "min"),
                  last_date=("date", "max"), n_chars=("n_chars", "sum"), n_claims=("n_claims", "sum"))
             .reset_index())
    return out.sort_values(["n_documents", "region"], ascending=[False, True], kind="stable").reset_index(drop=True)


# ------------------------------------------------------------------------------------------- mentions

def mentions_frame(db, kind: str | None = None, include_duplicates: bool = False):
    """Mentions (of one ``kind``, or all) with their document: id, document_id, paragraph_id, kind, text,
    start, end, value, unit, rule, document_path, document_date, region (the document's).

    Repeats are left out unless ``include_duplicates``: mentions the store marked (``mentions.duplicate_of``)
    and mentions in a repeated paragraph (``paragraphs.duplicate_of``) whose canonical paragraph has a
    mention of the same kind and text.
    """
    if kind is not None and kind not in MENTION_KINDS:
        raise ValueError(f"unknown mention kind {kind!r}; expected one of {', '.join(MENTION_KINDS)}")
    conn = connection(db)
    m, d = _columns(conn, "mentions"), _columns(conn, "documents")
    where, params = [], []
    if kind is not None:
        where.append("m.kind = ?")
        params.append(kind)
    if not include_duplicates and "duplicate_of" in m:
        where.append("m.duplicate_of IS NULL")
    if not include_duplicates and "duplicate_of" in _columns(conn, "paragraphs"):
        # a repeated paragraph repeats a mention where its canonical paragraph has the same one (the rule
        # pipeline.query applies to claims; also covers repeats inside one document, not marked on the row)
        where.append("""NOT EXISTS (SELECT 1 FROM paragraphs AS p JOIN mentions AS k ON k.paragraph_id = p.duplicate_of
                        WHERE p.id = m.paragraph_id AND k.kind = m.kind AND k.text = m.text)""")
    region = "COALESCE(d.region_name, d.region_adcode)" if "region_name" in d else "NULL"
    sql = f"""SELECT m.id, m.document_id, m.paragraph_id, m.kind, m.text, m.start, m."end",
                     {_col(m, 'value', prefix='m.')}, {_col(m, 'unit', prefix='m.')}, {_col(m, 'rule', prefix='m.')},
                     d.path AS document_path, {_col(d, 'date', 'document_date', 'd.')}, {region} AS region
              FROM mentions AS m JOIN documents AS d ON d.id = m.document_id
              {"WHERE " + " AND ".join(where) if where else ""}
              ORDER BY m.document_id, m.start, m.id"""
    return _read(conn, sql, tuple(params))


def top_mentions(db, kind: str, n: int = 10):
    """The ``n`` most frequent texts of one mention kind: text, n_mentions, n_documents, regions (joined)."""
    df = mentions_frame(db, kind)
    if df.empty:
        return df.assign(n_mentions=[], n_documents=[], regions=[])[["text", "n_mentions", "n_documents", "regions"]]
    out = (df.groupby("text", sort=False)
             .agg(n_mentions=("id", "size"), n_documents=("document_id", "nunique"),
                  regions=("region", lambda s: "、".join(sorted(set(s.dropna())))))
             .reset_index())
    return (out.sort_values(["n_mentions", "n_documents", "text"], ascending=[False, False, True], kind="stable")
               .head(n).reset_index(drop=True))


def project_mentions(db, name: str, exact: bool = False, width: int = 30):
    """Where a project is mentioned across documents: one row per mention of kind ``project`` whose text
    contains ``name`` (equals it with ``exact``), with document, date, region, paragraph position and
    ``context`` — up to ``width`` characters either side in the paragraph, the mention marked 【…】."""
    conn = connection(db)
    op, arg = ("m.text = ?", name) if exact else ("instr(m.text, ?) > 0", name)
    p = _columns(conn, "paragraphs")
    d = _columns(conn, "documents")
    start = "p.start" if "start" in p else "NULL"
    df = _read(conn, f"""
        SELECT m.id AS mention_id, m.text, m.document_id, d.path AS document_path,
               {_col(d, 'title', 'document_title', 'd.')}, {_col(d, 'date', 'document_date', 'd.')},
               {"COALESCE(d.region_name, d.region_adcode)" if "region_name" in d else "NULL"} AS region,
               m.paragraph_id, p.position AS paragraph_position, p.text AS paragraph_text,
               m.start - {start} AS offset, m."end" - m.start AS length
        FROM mentions AS m JOIN documents AS d ON d.id = m.document_id
        LEFT JOIN paragraphs AS p ON p.id = m.paragraph_id
        WHERE m.kind = 'project' AND {op}
        ORDER BY d.date IS NULL, d.date, m.document_id, m.start""", (arg,))
    df["context"] = [_context(t, pt, o, n, width) for t, pt, o, n in
                     zip(df["text"], df["paragraph_text"], df["offset"], df["length"])]
    return df.drop(columns=["paragraph_text", "offset", "length"])


def _context(text: str, paragraph: str | None, offset, length, width: int) -> str:
    """The mention inside its paragraph, marked 【…】, with ``width`` characters either side.

    >>> _context("川藏铁路", "加快推进川藏铁路建设", 4, 4, 2)
    '…推进【川藏铁路】建设'
    """
    if not paragraph:
        return f"【{text}】"
    import pandas as pd

    if pd.isna(offset) or pd.isna(length) or paragraph[int(offset):int(offset) + int(length)] != text:
        offset = paragraph.find(text)  # no paragraph offsets stored: the first occurrence
        if offset < 0:
            return f"【{text}】"
        length = len(text)
    offset, length = int(offset), int(length)
    left = paragraph[max(0, offset - width):offset]
    right = paragraph[offset + length:offset + length + width]
    return (("…" if offset > width else "") + left + f"【{text}】" + right
            + ("…" if offset + length + width < len(paragraph) else ""))


# -------------------------------------------------------------------------------------------- claims

def metric_coverage(db):
    """Metrics by how widely they are reported: metric, n_regions, n_documents, n_claims, first_period,
    last_period — metrics reported by most regions first (the ones worth comparing)."""
    conn = connection(db)
    return _read(conn, """
        SELECT metric, count(DISTINCT COALESCE(region_adcode, region_name)) AS n_regions,
               count(DISTINCT document_id) AS n_documents, count(*) AS n_claims,
               min(period_start) AS first_period, max(COALESCE(period_end, period_start)) AS last_period
        FROM claims GROUP BY metric
        ORDER BY n_regions DESC, n_documents DESC, n_claims DESC, metric""")


# ---------------------------------------------------------------------------------------- duplicates

def duplicates_frame(db, width: int = 40):
    """Every repeated paragraph beside its canonical one: paragraph_id, document_id, document_path,
    canonical_id, canonical_document_id, canonical_path, same_document, text (the first ``width`` characters)."""
    return _read(db, f"""
        SELECT p.id AS paragraph_id, p.document_id, d.path AS document_path,
               c.id AS canonical_id, c.document_id AS canonical_document_id, cd.path AS canonical_path,
               p.document_id = c.document_id AS same_document, substr(p.text, 1, {int(width)}) AS text
        FROM paragraphs AS p
        JOIN paragraphs AS c ON c.id = p.duplicate_of
        JOIN documents AS d ON d.id = p.document_id
        JOIN documents AS cd ON cd.id = c.document_id
        ORDER BY c.id, p.id""").astype({"same_document": bool})


def duplicate_counts(db, metrics=None):
    """What leaving repeats out changes, per metric: claims counted with repeats (``with_duplicates``) and
    without (``without_duplicates``, what ``gongbao compare`` counts), and the ``excluded`` difference.

    Built on :func:`pipeline.query.claims_frame` (``n_sources`` summed), so the rule deciding what is a
    repeat is the one the ``compare`` command applies. ``metrics``: the metrics to count (default: all).
    """
    import pandas as pd

    if metrics is None:
        metrics = metric_coverage(db)["metric"].tolist()
    rows = []
    for metric in metrics:
        n_all = int(claims_frame(db, metric, include_duplicates=True)["n_sources"].sum())
        n_unique = int(claims_frame(db, metric)["n_sources"].sum())
        rows.append({"metric": metric, "with_duplicates": n_all, "without_duplicates": n_unique,
                     "excluded": n_all - n_unique})
    out = pd.DataFrame(rows, columns=["metric", "with_duplicates", "without_duplicates", "excluded"])
    return out.sort_values(["excluded", "with_duplicates"], ascending=False, kind="stable").reset_index(drop=True)


# ----------------------------------------------------------------------------------------- CJK fonts

@functools.lru_cache(maxsize=None)
def cjk_font(families: tuple[str, ...] = CJK_FAMILIES) -> tuple[str, str]:
    """``(family, file)`` of the first installed font in ``families`` that has Chinese glyphs.

    Looks only at fonts matplotlib knows (``matplotlib.font_manager``; Debian: ``apt install
    fonts-noto-cjk``). Raises :class:`LookupError` naming the families tried when none is installed,
    rather than letting charts draw every character as a box.
    """
    from matplotlib import font_manager

    installed: dict[str, str] = {}  # family → file, the regular weight where there is one
    for f in font_manager.fontManager.ttflist:
        if f.name not in installed or f.weight in (400, "normal", "regular"):
            installed[f.name] = f.fname
    for family in families:
        path = installed.get(family)
        if path and not missing_glyphs(_PROBE, path, family):
            return family, path
    raise LookupError("no CJK font found for matplotlib (tried " + ", ".join(families) + "); install one, "
                      "e.g. `apt install fonts-noto-cjk`, then delete matplotlib's font cache")


def use_cjk_font() -> str:
    """Make matplotlib draw Chinese text with :func:`cjk_font` (falling back to DejaVu Sans for Latin);
    returns the family name."""
    import matplotlib

    family, _ = cjk_font()
    matplotlib.rcParams["font.family"] = "sans-serif"
    matplotlib.rcParams["font.sans-serif"] = [family, "DejaVu Sans"]
    matplotlib.rcParams["axes.unicode_minus"] = False  # CJK fonts lack U+2212 MINUS SIGN in some versions
    return family


def missing_glyphs(text: str, font_file: str | Path, family: str | None = None) -> set[str]:
    """The characters of ``text`` (whitespace aside) that the font has no glyph for.

    ``font_file`` may be a collection (``.ttc``): the face named ``family`` is checked (every face when no
    family is given or none matches).
    """
    from fontTools.ttLib import TTCollection, TTFont

    path = str(font_file)
    if path.lower().endswith((".ttc", ".otc")):
        faces = TTCollection(path, lazy=True).fonts
        named = [f for f in faces if family and family in {n.toUnicode() for n in f["name"].names
                                                           if n.nameID in (1, 16)}]
        faces = named or faces
    else:
        faces = [TTFont(path, lazy=True)]
    chars = {ch for ch in text if not ch.isspace()}
    missing = set(chars)
    for face in faces:
        cmap = face.getBestCmap() or {}
        missing &= {ch for ch in chars if ord(ch) not in cmap}
    return missing


def figure_fonts(fig):
    """Every visible non-empty text of a matplotlib figure with the font it is drawn with: columns text, role
    (``tick``, ``title``, ``label``, ``legend``, ``text``), family and file (the font file matplotlib resolves
    for the text's font properties). Draws the figure first, so tick labels are final."""
    import pandas as pd
    from matplotlib import font_manager

    fig.canvas.draw()
    items = []
    for ax in fig.axes:
        items += [("tick", t) for t in (*ax.get_xticklabels(), *ax.get_yticklabels())]
        items += [("title", ax.title), ("label", ax.xaxis.label), ("label", ax.yaxis.label)]
        legend = ax.get_legend()
        if legend is not None:
            items += [("legend", t) for t in (legend.get_title(), *legend.get_texts())]
        items += [("text", t) for t in ax.texts]
    items += [("text", t) for t in fig.texts]
    rows = []
    for role, t in items:
        text = t.get_text()
        if not text.strip() or not t.get_visible():
            continue
        file = font_manager.findfont(t.get_fontproperties(), fallback_to_default=False)
        rows.append({"text": text, "role": role, "family": font_manager.get_font(file).family_name, "file": file})
    return pd.DataFrame(rows, columns=["text", "role", "family", "file"])


# ------------------------------------------------------------------------------------------- chart labels

#: Claim statuses in Chinese, for legends.
STATUS_ZH = {"actual": "实际完成", "cumulative": "累计", "plan": "计划", "target": "目标"}


def display_values(values, units):
    """Values scaled for a chart and the axis label: amounts (unit ``CNY``) in 亿元, others as they are.

    >>> v, label = display_values([18743000000, 4300000000], ["CNY", "CNY"])
    >>> [round(x, 2) for x in v], label
    ([187.43, 43.0], '亿元')
    >>> display_values([11.5], ["%"])[1]
    '%'
    """
    import pandas as pd

    v = pd.to_numeric(pd.Series(list(values)), errors="coerce").astype(float)
    kinds = sorted({u for u in units if isinstance(u, str) and u})
    if kinds == ["CNY"]:
        return (v / 1e8).tolist(), "亿元"
    if len(kinds) == 1:
        return v.tolist(), kinds[0]
    return v.tolist(), "（单位不一：" + "、".join(kinds) + "）" if kinds else ""


def format_period(start, end) -> str:
    """A period as a Chinese label.

    >>> format_period("2019-01-01", "2019-12-31"), format_period("2019-01-01", "2019-08-31")
    ('2019年', '2019年1-8月')
    >>> format_period("2017-01-01", "2017-08-11"), format_period("2019-08-01", "2019-08-31")
    ('2017年1月1日-8月11日', '2019年8月')
    >>> format_period("2016-01-01", "2020-12-31"), format_period(None, None)
    ('2016-2020年', '时期不详')
    """
    import calendar

    import pandas as pd

    if start is None or pd.isna(start):
        return "时期不详" if end is None or pd.isna(end) else f"至{end}"
    if end is None or pd.isna(end):
        return f"{start}起"
    y1, m1, d1 = (int(x) for x in str(start)[:10].split("-"))
    y2, m2, d2 = (int(x) for x in str(end)[:10].split("-"))
    whole = d1 == 1 and d2 == calendar.monthrange(y2, m2)[1]
    if y1 != y2:
        return f"{y1}-{y2}年" if whole and m1 == 1 and m2 == 12 else f"{start}至{end}"
    if not whole:
        return f"{y1}年{m1}月{d1}日-{m2}月{d2}日"
    if m1 == 1 and m2 == 12:
        return f"{y1}年"
    return f"{y1}年{m1}月" if m1 == m2 else f"{y1}年{m1}-{m2}月"


def claim_labels(table) -> list[str]:
    """One label per row of a :func:`pipeline.query.claims_frame` table: region, subject (if any) and period,
    one per line."""
    import pandas as pd

    out = []
    for row in table.itertuples(index=False):
        parts = [row.region if isinstance(row.region, str) and row.region else "地区不详"]
        if isinstance(row.subject, str) and row.subject and not pd.isna(row.subject):
            parts.append(row.subject)
        parts.append(format_period(row.period_start, row.period_end))
        out.append("\n".join(parts))
    return out
