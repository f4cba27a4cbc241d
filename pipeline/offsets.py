"""Edits and the offset map that carries spans of normalized text back to the raw text.

Every normalization stage describes what it changed as a list of :class:`Edit` (replace
``source[start:end]`` with ``after``). :func:`apply_edits` applies them and returns a
:class:`StageMap`; an :class:`OffsetMap` chains the stage maps, so any span of the final text maps
back to the raw span it came from. Only the edits are stored, never a per-character table, so an
untouched document costs nothing.

>>> text, m = apply_edits("網(wǎng)站", [Edit(1, 7, "", "pinyin")])
>>> text
'網站'
>>> m.to_source(1, 2)
(7, 8)
>>> OffsetMap([m]).raw_span(0, 2)
(0, 8)
"""
from __future__ import annotations

from bisect import bisect_right
from dataclasses import dataclass
from typing import NamedTuple


class Edit(NamedTuple):
    """Replace ``source[start:end]`` with ``after``; ``stage`` names who asked for it.

    A NamedTuple rather than a frozen dataclass: stages create one per annotation on damaged
    text, and a tuple is several times cheaper to build while being just as immutable.
    """

    start: int
    end: int
    after: str
    stage: str
    note: str = ""


@dataclass(frozen=True, slots=True)
class Repair:
    """One logged repair, in CONTRACT.md's ``--explain`` shape (offsets in the stage's input)."""

    stage: str
    start: int
    end: int
    before: str
    after: str
    note: str = ""

    def to_json(self) -> dict:
        d = {"stage": self.stage, "start": self.start, "end": self.end,
             "before": self.before, "after": self.after}
        if self.note:
            d["note"] = self.note
        return d


class StageMap:
    """Maps positions of one stage's output back to its input."""

    __slots__ = ("_dst_starts", "_edits")

    def __init__(self, edits: list[tuple[int, int, int, int]]):
        # (src_start, src_end, dst_start, dst_end), sorted and non-overlapping
        self._edits = edits
        self._dst_starts = [e[2] for e in edits]

    def __bool__(self) -> bool:
        return bool(self._edits)

    def _locate(self, p: int):
        i = bisect_right(self._dst_starts, p) - 1
        return self._edits[i] if i >= 0 else None

    def _left(self, p: int) -> int:
        e = self._locate(p)
        if e is None:
            return p
        s0, s1, d0, d1 = e
        if p < d1:
            return s0
        return s1 + (p - d1)

    def _right(self, p: int) -> int:
        """Source end of the character at p (exclusive)."""
        e = self._locate(p)
        if e is None:
            return p + 1
        s0, s1, d0, d1 = e
        if p < d1:
            return s1
        return s1 + (p - d1) + 1

    def to_source(self, start: int, end: int) -> tuple[int, int]:
        if end <= start:
            p = self._left(start)
            return p, p
        return self._left(start), self._right(end - 1)


class OffsetMap:
    """A chain of stage maps, first stage first."""

    def __init__(self, stages: list[StageMap] | None = None):
        self.stages = [s for s in (stages or []) if s]

    def then(self, stage: StageMap) -> "OffsetMap":
        return OffsetMap(self.stages + [stage])

    def raw_span(self, start: int, end: int) -> tuple[int, int]:
        for stage in reversed(self.stages):
            start, end = stage.to_source(start, end)
        return start, end


def apply_edits(text: str, edits: list[Edit]) -> tuple[str, StageMap]:
    """Apply non-overlapping edits (any order) and return the new text and its stage map."""
    if not edits:
        return text, StageMap([])
    edits = sorted(edits, key=lambda e: (e.start, e.end))
    parts: list[str] = []
    table: list[tuple[int, int, int, int]] = []
    pos = 0
    out_len = 0
    for e in edits:
        if e.start < pos:
            raise ValueError(f"overlapping edits at {e.start} (stage {e.stage})")
        keep = text[pos:e.start]
        parts.append(keep)
        out_len += len(keep)
        parts.append(e.after)
        table.append((e.start, e.end, out_len, out_len + len(e.after)))
        out_len += len(e.after)
        pos = e.end
    parts.append(text[pos:])
    return "".join(parts), StageMap(table)


def repairs_from_edits(text: str, edits: list[Edit]) -> list[Repair]:
    """The log lines for a stage's edits, offsets in that stage's input text."""
    return [Repair(e.stage, e.start, e.end, text[e.start:e.end], e.after, e.note)
            for e in sorted(edits, key=lambda e: e.start)]
