"""Combining the outputs of several extractors into one ordered list of mentions."""
from __future__ import annotations

from ..mention import Mention

NUMERIC = frozenset({"amount", "percent", "count", "quantity", "date"})
ENTITY = frozenset({"region", "project", "mechanism"})


def merge_mentions(mentions: list[Mention]) -> list[Mention]:
    """Drop exact repeats, then order by position (container before contained at the same start).

    Numeric kinds must not overlap one another (each extractor already resolves its own
    conflicts; across extractors the longer span wins). Entity kinds may nest (a project
    containing a region), as the gold guidelines allow; a model mention that overlaps a rule
    mention of the same kind is dropped in favour of the rule's.
    """
    seen = set()
    uniq = []
    for m in mentions:
        key = (m.kind, m.start, m.end)
        if key in seen:
            continue
        seen.add(key)
        uniq.append(m)
    numeric = sorted((m for m in uniq if m.kind in NUMERIC), key=lambda m: (-(m.end - m.start), m.start))
    kept: list[Mention] = []
    taken: list[tuple[int, int]] = []
    for m in numeric:
        if any(m.start < e and s < m.end for s, e in taken):
            continue
        kept.append(m)
        taken.append((m.start, m.end))
    rules = [m for m in uniq if m.kind in ENTITY and m.source != "model"]
    for m in uniq:
        if m.kind not in ENTITY:
            continue
        if m.source == "model" and any(r.kind == m.kind and r.start < m.end and m.start < r.end for r in rules):
            continue
        kept.append(m)
    kept.sort(key=lambda m: (m.start, -(m.end - m.start)))
    return kept
