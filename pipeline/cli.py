"""The ``gongbao`` command: a thin click layer over the library (see ../shared/CONTRACT.md)."""
from __future__ import annotations

import json
import sys
from pathlib import Path

import click

DEFAULT_DB = "gongbao.db"


def _read_input(path: str) -> tuple[bytes, str]:
    """Bytes of PATH (or stdin for ``-``) and a display name."""
    if path == "-":
        return sys.stdin.buffer.read(), "<stdin>"
    p = Path(path)
    if p.is_dir():
        raise click.BadParameter(f"{path} is a directory; give a file (ingest takes directories)")
    try:
        return p.read_bytes(), str(p)
    except OSError as e:
        raise click.FileError(path, hint=e.strerror or str(e))


def _normalize_or_fail(data: bytes, name: str):
    from .decode import InputError
    from .normalize import normalize

    try:
        return normalize(data, name=name)
    except InputError as e:
        raise click.ClickException(f"{name}: {e}")


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="gongbao")
def cli():
    """gongbao (公报): repair, extract and publish facts from Chinese government reports."""


@cli.command()
@click.argument("path", default="-")
@click.option("--explain", is_flag=True, help="Print one JSON object per repair instead of the text.")
def normalize(path, explain):
    """Print the normalized (decoded, repaired, simplified) text of one document.

    Example: gongbao normalize corpus/000_1b035ffb47a9f3b7.txt
    """
    data, name = _read_input(path)
    doc = _normalize_or_fail(data, name)
    if explain:
        for r in doc.repairs:
            click.echo(json.dumps(r.to_json(), ensure_ascii=False))
    else:
        click.echo(doc.text, nl=not doc.text.endswith("\n"))


@cli.command()
@click.argument("path", default="-")
@click.option("--format", "fmt", type=click.Choice(["jsonl", "table"]), default="jsonl", show_default=True)
@click.option("--kinds", default=None, help="Comma-separated kinds to keep (default: all).")
@click.option("--no-model", is_flag=True, help="Rules only: do not combine the statistical NER model.")
def extract(path, fmt, kinds, no_model):
    """Print every mention in one document, one JSON object per line.

    Example: gongbao extract corpus/001_680b4428d966c892.txt --format jsonl
    """
    from .extract import extract_document

    data, name = _read_input(path)
    doc = _normalize_or_fail(data, name)
    wanted = set(kinds.split(",")) if kinds else None
    mentions = extract_document(doc, use_model=not no_model)
    for m in mentions:
        if wanted and m.kind not in wanted:
            continue
        if fmt == "jsonl":
            click.echo(json.dumps(m.to_json(), ensure_ascii=False))
        else:
            click.echo(f"{m.kind:10} {m.start:6}-{m.end:<6} {m.text}\t{m.value if m.value is not None else ''}\t{m.rule}")


@cli.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path())
@click.option("--db", "db_path", default=DEFAULT_DB, show_default=True, help="SQLite file to load.")
@click.option("--workers", type=int, default=0, help="Worker processes (0 = all cores).")
@click.option("--engine", type=click.Choice(["local", "dask"]), default="local", show_default=True)
@click.option("--scheduler", default=None, help="Dask scheduler address (with --engine dask).")
@click.option("--shard-dir", default=None, type=click.Path(file_okay=False),
              help="With --engine dask: a directory shared by the client and the workers for result shards.")
@click.option("--strict", is_flag=True, help="Exit non-zero when any file failed.")
@click.option("--max-bytes", type=int, default=20 * 1024 * 1024, show_default=True,
              help="Files larger than this are recorded as errors, not loaded.")
@click.option("--progress/--no-progress", default=None, help="Progress bar (default: on a terminal).")
@click.option("--model/--no-model", "use_model", default=True, show_default=True,
              help="Add the statistical NER model's entity mentions to the rules'.")
@click.option("--reprocess", is_flag=True, help="Run the pipeline again over content already loaded.")
@click.option("--timeout", "doc_timeout", type=float, default=300.0, show_default=True,
              help="Seconds one document may take before it is recorded as an error.")
def ingest(paths, db_path, workers, engine, scheduler, shard_dir, strict, max_bytes, progress, use_model,
           reprocess, doc_timeout):
    """Normalize, dedupe, extract and load documents into SQLite; rerunnable and incremental.

    Example: gongbao ingest corpus/ --db gongbao.db
    """
    from .store import ingest_paths

    if progress is None:
        progress = sys.stderr.isatty()
    if shard_dir:
        import os

        os.environ["GONGBAO_SHARD_DIR"] = shard_dir  # read by pipeline.distributed
    summary = ingest_paths(list(paths), db_path, workers=workers or None, engine=engine,
                           scheduler=scheduler, max_bytes=max_bytes, progress=progress, use_model=use_model,
                           reprocess=reprocess, doc_timeout=doc_timeout)
    click.echo(summary.line(), err=True)
    if strict and summary.errors:
        sys.exit(1)


@cli.command()
@click.option("--db", "db_path", default=DEFAULT_DB, show_default=True)
@click.option("--port", type=int, default=8001, show_default=True)
@click.option("--host", default="127.0.0.1", show_default=True, help="Bind address (loopback by default).")
def serve(db_path, port, host):
    """Publish the database with Datasette (read-only, 127.0.0.1 by default).

    Example: gongbao serve --db gongbao.db --port 8001
    """
    from .publish import serve as _serve

    if not Path(db_path).exists():
        raise click.ClickException(f"{db_path} does not exist; run `gongbao ingest PATH --db {db_path}` first")
    _serve(db_path, port=port, host=host)


def _emit_frame(df, fmt):
    if fmt == "json":
        click.echo(df.to_json(orient="records", force_ascii=False))
    elif fmt == "csv":
        click.echo(df.to_csv(index=False), nl=False)
    else:
        import pandas as pd

        with pd.option_context("display.max_rows", 500, "display.max_columns", 20, "display.width", 200,
                               "display.unicode.east_asian_width", True):
            click.echo(df.to_string(index=False) if len(df) else "(no rows)")


@cli.command()
@click.argument("metric")
@click.option("--db", "db_path", default=DEFAULT_DB, show_default=True)
@click.option("--period", default=None, help="Year (YYYY) or YYYY-MM the claims' period must fall in.")
@click.option("--format", "fmt", type=click.Choice(["table", "csv", "json"]), default="table", show_default=True)
@click.option("--include-duplicates", is_flag=True, help="Keep claims from duplicate paragraphs.")
def compare(metric, db_path, period, fmt, include_duplicates):
    """A metric across regions: value, unit, period and source.

    Example: gongbao compare 全社会固定资产投资 --db gongbao.db --period 2017
    """
    from .store import claims_frame, open_db

    db = open_db(db_path, must_exist=True)
    try:
        frame = claims_frame(db, metric, period, include_duplicates=include_duplicates)
    except KeyError as e:  # an unknown metric: the message lists the nearest known ones
        raise click.ClickException(str(e.args[0] if e.args else e))
    _emit_frame(frame, fmt)


@cli.command()
@click.option("--db", "db_path", default=DEFAULT_DB, show_default=True)
@click.option("--format", "fmt", type=click.Choice(["table", "csv", "json"]), default="table", show_default=True)
@click.option("--tolerance", type=float, default=0.01, show_default=True, help="Relative difference that counts.")
def conflicts(db_path, fmt, tolerance):
    """Claims of the same region, metric and period whose values disagree.

    Example: gongbao conflicts --db gongbao.db
    """
    from .store import conflicts_frame, open_db

    db = open_db(db_path, must_exist=True)
    _emit_frame(conflicts_frame(db, tolerance=tolerance), fmt)


@cli.command()
@click.option("--db", "db_path", default=DEFAULT_DB, show_default=True)
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True)
def duplicates(db_path, fmt):
    """Clusters of repeated and near-repeated paragraphs.

    Example: gongbao duplicates --db gongbao.db --format json
    """
    from .store import duplicate_clusters, open_db

    db = open_db(db_path, must_exist=True)
    clusters = duplicate_clusters(db)
    if fmt == "json":
        click.echo(json.dumps(clusters, ensure_ascii=False))
    else:
        for c in clusters:
            click.echo(f"{c['canonical']}\t{len(c['members'])} members\t{c.get('text', '')[:60]}")


@cli.command()
@click.option("--db", "db_path", default=DEFAULT_DB, show_default=True)
def check(db_path):
    """Check a database for orphans, half-written documents and a stale search index.

    Example: gongbao check --db gongbao.db
    """
    from .store import check_integrity, open_db, table_counts

    db = open_db(db_path, must_exist=True)
    for table, n in table_counts(db).items():
        click.echo(f"{table}\t{n}")
    problems = check_integrity(db)
    for p in problems:
        click.echo(f"problem: {p}", err=True)
    if problems:
        sys.exit(1)
    click.echo("ok", err=True)


@cli.command()
@click.option("--config", default="configs/ner.cfg", show_default=True, type=click.Path())
@click.option("--output", default="pipeline/models/ner", show_default=True, type=click.Path())
@click.option("--seed", type=int, default=0, show_default=True)
def train(config, output, seed):
    """Train the statistical NER model (spaCy, blank zh) from rule silver labels and the seed gold.

    Example: gongbao train --output pipeline/models/ner
    """
    from .extract.model import train as _train

    _train(config_path=config, output=output, seed=seed)


def main():  # pragma: no cover - console script
    cli()


if __name__ == "__main__":  # pragma: no cover
    main()
