"""Extraction: every mention in a normalized document, with the rule or model that produced it.

:func:`extract_text` runs the rule extractors (numeric and entity) over normalized text;
:func:`extract_document` does the same for a :class:`~pipeline.normalize.Normalized` document, adds the
statistical NER model's mentions where it is installed, and maps every span back to the raw text.
"""
from __future__ import annotations

from ..mention import Mention
from .merge import merge_mentions

__all__ = ["extract_text", "extract_document", "Mention"]


def extract_text(text: str, *, meta=None, use_model: bool = False, kinds=None) -> list[Mention]:
    """All mentions in normalized ``text``, in reading order, overlapping rule hits resolved."""
    from ..docmeta import document_meta
    from .entities import extract_entities
    from .numeric import extract_numeric

    if meta is None:
        meta = document_meta(text)
    found: list[Mention] = []
    if kinds is None or kinds & {"amount", "percent", "count", "quantity", "date"}:
        found += extract_numeric(text, doc_date=getattr(meta, "date", None))
    if kinds is None or kinds & {"region", "project", "mechanism"}:
        found += extract_entities(text, meta=meta)
        if use_model:
            from .model import predict_entities

            found += predict_entities(text, rule_mentions=found)
    out = merge_mentions(found)
    if kinds is not None:
        out = [m for m in out if m.kind in kinds]
    return out


def extract_document(doc, *, meta=None, use_model: bool = True, kinds=None) -> list[Mention]:
    """Mentions of a normalized document, each with ``raw_start``/``raw_end`` in the raw text."""
    mentions = extract_text(doc.text, meta=meta, use_model=use_model, kinds=kinds)
    return [m.with_raw(*doc.offsets.raw_span(m.start, m.end)) for m in mentions]
