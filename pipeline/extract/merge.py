"""Combining the outputs of several extractors into one ordered list of mentions."""
from __future__ import annotations

from bisect import bisect_left
from itertools import accumulate

from ..mention import Mention

NUMERIC = frozenset({"amount", "percent", "count", "quantity", "date"})
ENTITY = frozenset({"region", "project", "mechanism"})


def merge_mentions(mentions: list[Mention]) -> list[Mention]:
    """Drop exact repeats, then order by position (container before contained at the same start).

    Numeric kinds must not overlap one another (each extractor already resolves its own
    conflicts; across extractors the longer span wins). Entity kinds may nest (a project
    containing a region), as the gold guidelines allow; a model mention that overlaps a rule
    mention of the same kind is dropped in favour of the rule's.

    Spans ``[s, e)`` overlap when ``s < e2 and s2 < e`` (an empty span overlaps only what strictly
    contains it). Both overlap tests are by bisection, so a long document with thousands of figures
    costs n log n, not n².
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
    taken = _Disjoint()
    for m in numeric:
        if taken.overlaps(m.start, m.end):
            continue
        kept.append(m)
        taken.add(m.start, m.end)
    rules = _RuleSpans(m for m in uniq if m.kind in ENTITY and m.source != "model")
    for m in uniq:
        if m.kind not in ENTITY:
            continue
        if m.source == "model" and rules.overlaps(m.kind, m.start, m.end):
            continue
        kept.append(m)
    kept.sort(key=lambda m: (m.start, -(m.end - m.start)))
    return kept


class _Disjoint:
    """Spans that do not overlap one another, sorted, so their ends rise with their starts."""

    def __init__(self) -> None:
        self._starts: list[int] = []
        self._ends: list[int] = []

    def overlaps(self, a: int, b: int) -> bool:
        i = bisect_left(self._starts, b)  # the spans starting before b; the last of them ends last
        return i > 0 and self._ends[i - 1] > a

    def add(self, a: int, b: int) -> None:
        i = bisect_left(self._starts, a)
        self._starts.insert(i, a)
        self._ends.insert(i, b)


class SpanIndex:
    """Spans ``(start, end)`` that may overlap or nest, for "does any of them overlap ``[a, b)``" in log time.

    >>> idx = SpanIndex([(0, 9), (2, 4), (12, 15)])
    >>> idx.overlaps(9, 12), idx.overlaps(8, 10), idx.overlaps(13, 13), idx.overlaps(12, 12)
    (False, True, True, False)
    """

    def __init__(self, spans=()) -> None:
        pairs = sorted(spans)
        self._starts = [s for s, _ in pairs]
        self._max_end = list(accumulate((e for _, e in pairs), max))

    def overlaps(self, a: int, b: int) -> bool:
        """Whether some span ``(s, e)`` has ``s < b and a < e``."""
        i = bisect_left(self._starts, b)  # spans starting before b; the furthest end among them decides
        return i > 0 and self._max_end[i - 1] > a


class _RuleSpans:
    """The rule mentions' spans by kind (they may nest), for "does any of this kind overlap [a, b)"."""

    def __init__(self, mentions) -> None:
        by_kind: dict[str, list[tuple[int, int]]] = {}
        for m in mentions:
            by_kind.setdefault(m.kind, []).append((m.start, m.end))
        self._index = {k: SpanIndex(v) for k, v in by_kind.items()}

    def overlaps(self, kind: str, a: int, b: int) -> bool:
        idx = self._index.get(kind)
        return idx is not None and idx.overlaps(a, b)
