"""Comparing claims across regions: the queries behind ``gongbao compare`` / ``gongbao conflicts`` and notebooks.

Both functions take the ingested database (a :class:`sqlite_utils.Database`, a :class:`sqlite3.Connection`
or a path) and return a :class:`pandas.DataFrame` — one SQL statement each, here and nowhere else.

* :func:`claims_frame` — one metric across regions: **one row per region, period, subject, status, basis and
  unit**. Repeats are left out unless ``include_duplicates``: a claim the store marked as one
  (``claims.duplicate_of``), or a claim in a repeated paragraph (``paragraphs.duplicate_of``) whose canonical
  paragraph reports the same figure. A near-duplicate paragraph whose number was changed is *not* a repeat —
  a copied report that disagrees is exactly what :func:`conflicts_frame` should show. Claims that still agree on all of those keys (the same figure
  reported by two documents) are collapsed to the earliest, with ``n_sources`` saying how many reported it and
  ``value_min``/``value_max_reported`` showing whether they agreed (see :func:`conflicts_frame` for the ones
  that do not).
* :func:`conflicts_frame` — the same region, metric, subject, status, basis, unit and period reported with
  values more than ``tolerance`` apart (relative to the larger magnitude) in different documents or paragraphs.

>>> import sqlite3
>>> conn = sqlite3.connect(":memory:")
>>> _ = conn.executescript('''
... CREATE TABLE documents (id INTEGER PRIMARY KEY, path TEXT, title TEXT, date TEXT);
... CREATE TABLE paragraphs (id INTEGER PRIMARY KEY, document_id INT, position INT, text TEXT, duplicate_of INT);
... CREATE TABLE claims (id INTEGER PRIMARY KEY, document_id INT, paragraph_id INT, metric TEXT, subject TEXT,
...   region_adcode TEXT, region_name TEXT, period_start TEXT, period_end TEXT, value REAL, unit TEXT,
...   status TEXT, basis TEXT, duplicate_of INT);
... INSERT INTO documents VALUES (1, 'a.txt', 'A', '2017-08-11'), (2, 'b.txt', 'B', '2017-08-20');
... INSERT INTO paragraphs VALUES (1, 1, 0, '…', NULL), (2, 2, 0, '…', NULL);
... INSERT INTO claims VALUES
...  (1, 1, 1, '全社会固定资产投资', NULL, '513300', '甘孜藏族自治州', '2017-01-01', '2017-08-11', 18743000000, 'CNY', 'actual', NULL, NULL),
...  (2, 2, 2, '全社会固定资产投资', NULL, '513300', '甘孜藏族自治州', '2017-01-01', '2017-08-11', 18000000000, 'CNY', 'actual', NULL, NULL);
... ''')
>>> claims_frame(conn, "全社会固定资产投资")[["region", "value", "n_sources"]].to_dict("records")
[{'region': '甘孜藏族自治州', 'value': 18743000000, 'n_sources': 2}]
>>> len(conflicts_frame(conn))
2
"""
from __future__ import annotations

import re
import sqlite3
from os import PathLike

__all__ = ["claims_frame", "conflicts_frame", "metrics_frame", "resolve_metric", "period_bounds", "connection"]

#: the keys that make two claims the same figure (besides the region)
FIGURE_KEYS = ("metric", "subject", "period_start", "period_end", "status", "basis", "unit")

_COLUMNS = ["region", "region_adcode", "metric", "subject", "value", "unit", "qualifier", "period_start",
            "period_end", "status", "basis", "document_id", "document_path", "document_title", "document_date",
            "paragraph_id", "paragraph_position", "claim_id"]


def connection(db) -> sqlite3.Connection:
    """The :class:`sqlite3.Connection` behind ``db`` (a sqlite-utils Database, a connection or a path)."""
    if isinstance(db, sqlite3.Connection):
        return db
    conn = getattr(db, "conn", None)
    if isinstance(conn, sqlite3.Connection):
        return conn
    if isinstance(db, (str, PathLike)):
        return sqlite3.connect(str(db))
    raise TypeError(f"expected a sqlite_utils.Database, sqlite3.Connection or a path, not {type(db).__name__}")


def resolve_metric(name: str) -> str:
    """The canonical metric for ``name``: a metric id, or one of its surface phrases (GDP → 地区生产总值).

    >>> resolve_metric("GDP"), resolve_metric("固定资产投资"), resolve_metric("开工率")
    ('地区生产总值', '全社会固定资产投资', '开工率')
    """
    from .claims import load_taxonomy

    tax = load_taxonomy()
    if name in tax.metrics:
        return name
    ref = tax.phrase_map.get(name)
    if ref is not None and ref[0] == "metric":
        return ref[1]
    import difflib

    close = difflib.get_close_matches(name, list(tax.metrics), n=5, cutoff=0.4)
    raise KeyError(f"unknown metric {name!r}" + (f"; did you mean {'、'.join(close)}?" if close else
                                                 " (see pipeline.query.metrics_frame())"))


def period_bounds(period: str | int | None) -> tuple[str, str] | None:
    """``(lo, hi)`` ISO dates for ``--period``: ``YYYY`` (a year) or ``YYYY-MM`` (a month).

    >>> period_bounds("2019")
    ('2019-01-01', '2019-12-31')
    >>> period_bounds("2020-05")
    ('2020-05-01', '2020-05-31')
    """
    if period is None or period == "":
        return None
    s = str(period).strip()
    m = re.fullmatch(r"((?:19|20)\d\d)(?:-(\d\d?))?", s)
    if not m:
        raise ValueError(f"period must be YYYY or YYYY-MM, not {period!r}")
    y = int(m.group(1))
    if m.group(2) is None:
        return f"{y}-01-01", f"{y}-12-31"
    import calendar

    mo = int(m.group(2))
    if not 1 <= mo <= 12:
        raise ValueError(f"month out of range in {period!r}")
    return f"{y}-{mo:02d}-01", f"{y}-{mo:02d}-{calendar.monthrange(y, mo)[1]:02d}"


def _columns(conn: sqlite3.Connection, table: str) -> set[str]:
    return {r[1] for r in conn.execute(f"PRAGMA table_info({table})")}


def _claims_sql(conn: sqlite3.Connection, include_duplicates: bool) -> str:
    """The one SELECT over claims ⋈ documents ⋈ paragraphs both frames use (optional columns guarded)."""
    c_cols, d_cols, p_cols = _columns(conn, "claims"), _columns(conn, "documents"), _columns(conn, "paragraphs")
    if not c_cols:
        raise LookupError("the database has no claims table (run `gongbao ingest` first)")
    qualifier = "c.qualifier" if "qualifier" in c_cols else "NULL"
    title = "d.title" if "title" in d_cols else "NULL"
    ddate = "d.date" if "date" in d_cols else "NULL"
    position = "p.position" if "position" in p_cols else "NULL"
    claim_id = "c.id" if "id" in c_cols else "c.rowid"
    where = []
    if not include_duplicates:
        if "duplicate_of" in c_cols:
            where.append("c.duplicate_of IS NULL")
        if "duplicate_of" in p_cols:
            # a repeated paragraph repeats a figure only where its canonical paragraph reports the same one
            where.append("""NOT (p.duplicate_of IS NOT NULL AND EXISTS (
                SELECT 1 FROM claims AS k WHERE k.paragraph_id = p.duplicate_of AND k.metric = c.metric
                  AND k.subject IS c.subject AND k.region_adcode IS c.region_adcode
                  AND k.period_start IS c.period_start AND k.period_end IS c.period_end
                  AND k.status IS c.status AND k.basis IS c.basis AND k.value IS c.value))""")
    return f"""
        SELECT COALESCE(c.region_name, c.region_adcode) AS region, c.region_adcode, c.metric, c.subject,
               c.value, c.unit, {qualifier} AS qualifier, c.period_start, c.period_end, c.status, c.basis,
               c.document_id, d.path AS document_path, {title} AS document_title, {ddate} AS document_date,
               c.paragraph_id, {position} AS paragraph_position, {claim_id} AS claim_id
        FROM claims AS c
        LEFT JOIN documents AS d ON d.id = c.document_id
        LEFT JOIN paragraphs AS p ON p.id = c.paragraph_id
        {"WHERE " + " AND ".join(where) if where else ""}
    """


def _read(db, where: str = "", params: tuple = (), include_duplicates: bool = False):
    import pandas as pd

    conn = connection(db)
    sql = f"SELECT * FROM ({_claims_sql(conn, include_duplicates)}) {where} ORDER BY claim_id"
    df = pd.read_sql_query(sql, conn, params=params)
    df["region_key"] = df["region_adcode"].fillna(df["region"]).fillna("")
    return df


def _int_if_whole(s):
    """Whole-unit values (amounts in yuan, counts) as nullable integers, so tables print 18743000000."""
    import pandas as pd

    v = pd.to_numeric(s, errors="coerce")
    if len(v) and v.notna().all() and (v == v.round()).all() and v.abs().max() < 2 ** 62:
        return v.astype("Int64")
    return v


def claims_frame(db, metric: str, period: str | int | None = None, include_duplicates: bool = False,
                 *, status: str | None = None):
    """One metric across regions: a DataFrame with one row per region and period.

    ``metric`` is a metric id of ``rules/metrics.yaml`` or one of its phrases (GDP, 固定资产投资); an unknown
    name raises :class:`KeyError` with the nearest ids.

    ``period``: ``YYYY`` keeps claims whose period lies within that year; ``YYYY-MM`` keeps claims whose
    period *ends* in that month (a year-to-date figure reported for that month). ``status`` (actual, plan,
    target, cumulative) narrows further. Columns: region, region_adcode, metric, subject, value, unit,
    qualifier, period_start, period_end, status, basis, document_id, document_path, document_title,
    document_date, paragraph_id, paragraph_position, claim_id, n_sources, value_min, value_max_reported —
    sorted by period, then region. Values are whole yuan for amounts (``unit`` CNY).
    """
    import pandas as pd

    conn = connection(db)
    known = {m for (m,) in conn.execute("SELECT DISTINCT metric FROM claims")} if _columns(conn, "claims") else set()
    if metric not in known:
        metric = resolve_metric(metric)
    where, params = ["metric = ?"], [metric]
    bounds = period_bounds(period)
    if bounds is not None:
        lo, hi = bounds
        if len(str(period).strip()) == 4:
            where.append("period_start >= ? AND COALESCE(period_end, period_start) <= ?")
        else:
            where.append("COALESCE(period_end, period_start) BETWEEN ? AND ?")
        params += [lo, hi]
    if status is not None:
        where.append("status = ?")
        params.append(status)
    df = _read(conn, "WHERE " + " AND ".join(where), tuple(params), include_duplicates)
    out_cols = _COLUMNS + ["n_sources", "value_min", "value_max_reported"]
    if df.empty:
        return pd.DataFrame(columns=out_cols)
    keys = ["region_key", *FIGURE_KEYS]
    grouped = df.groupby(keys, dropna=False, sort=False)
    first = grouped.head(1).set_index(keys)
    stats = grouped.agg(n_sources=("claim_id", "size"), value_min=("value", "min"),
                        value_max_reported=("value", "max"))
    out = first.join(stats).reset_index()
    out = out.sort_values(["period_start", "period_end", "region", "subject", "status", "basis"],
                          na_position="last", kind="stable").reset_index(drop=True)
    for col in ("value", "value_min", "value_max_reported"):
        out[col] = _int_if_whole(out[col])
    return out[out_cols]


def conflicts_frame(db, tolerance: float = 0.01):
    """Figures reported differently: the same region, metric and period with values more than ``tolerance`` apart.

    Claims are the same figure when region, metric, subject, period, status, basis and unit agree; a group
    is a conflict when it holds claims from at least two different documents or paragraphs whose values
    differ by more than ``tolerance`` × the larger magnitude. Repeated paragraphs are excluded first (they
    neither conflict nor count twice); claims without a period are not compared. One row per claim of a
    conflicting group, with ``conflict`` (group number), ``n_values`` and ``rel_diff``.
    """
    import pandas as pd

    if tolerance < 0:
        raise ValueError("tolerance must be ≥ 0")
    df = _read(db, "WHERE period_start IS NOT NULL AND value IS NOT NULL")
    out_cols = ["conflict", *_COLUMNS, "n_values", "rel_diff"]
    if df.empty:
        return pd.DataFrame(columns=out_cols)
    keys = ["region_key", *FIGURE_KEYS]
    rows = []
    for n, (_, g) in enumerate(df.groupby(keys, dropna=False, sort=True)):
        sources = set(zip(g["document_id"], g["paragraph_id"].fillna(-1)))
        if len(sources) < 2:
            continue
        hi, lo = g["value"].max(), g["value"].min()
        scale = max(abs(hi), abs(lo))
        rel = (hi - lo) / scale if scale else 0.0
        if rel <= tolerance:
            continue
        g = g.assign(conflict=n, n_values=g["value"].nunique(), rel_diff=rel)
        rows.append(g)
    if not rows:
        return pd.DataFrame(columns=out_cols)
    out = pd.concat(rows, ignore_index=True)
    out["conflict"] = pd.factorize(out["conflict"])[0] + 1
    return out.sort_values(["conflict", "value", "claim_id"], kind="stable").reset_index(drop=True)[out_cols]


def metrics_frame():
    """The metric taxonomy (rules/metrics.yaml) as a DataFrame: id, kind, description, phrases, base, derived.

    What ``claims_frame(db, metric)`` accepts; growth and plan-share companions (``derived``) included.
    """
    import pandas as pd

    from .claims import metric_rows

    return pd.DataFrame(metric_rows())
