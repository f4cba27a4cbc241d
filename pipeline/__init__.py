"""gongbao (公报): a Chinese NLP extraction pipeline over government reports.

Stages, one module each: :mod:`pipeline.decode` and :mod:`pipeline.normalize` (bytes → repaired
simplified text with an offset map), :mod:`pipeline.extract` (mentions), :mod:`pipeline.claims`,
:mod:`pipeline.dedupe`, :mod:`pipeline.store` (SQLite) and :mod:`pipeline.publish` (Datasette).
"""
from pathlib import Path

__version__ = "0.1.0"

PACKAGE_DIR = Path(__file__).resolve().parent


def rules_dir() -> Path:
    """The rules/ directory: the repository's top-level one in a checkout, else the packaged copy."""
    top = PACKAGE_DIR.parent / "rules"
    return top if top.is_dir() else PACKAGE_DIR / "rules"
