"""The one record every extractor produces: a frozen :class:`Mention`.

A mention keeps the evidence beside the value (the exact text and its offsets in the normalized
text, and, once mapped, in the raw text) and the id of the rule or model that produced it, so every
fact in the database can be explained.

>>> m = Mention(kind="amount", text="43亿元", start=10, end=15, rule="amount.unit_yi",
...             value=4.3e9, currency="CNY")
>>> m.to_json()["value"]
4300000000.0
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field, replace
from typing import Any

KINDS = ("amount", "percent", "count", "quantity", "date", "region", "project", "mechanism")


@dataclass(frozen=True, slots=True)
class Mention:
    kind: str
    text: str
    start: int
    end: int
    rule: str
    value: Any = None  # float for numbers, ISO text for dates
    value_max: Any = None
    unit: str | None = None
    currency: str | None = None
    qualifier: str | None = None
    direction: str | None = None
    object: str | None = None
    adcode: str | None = None
    basis: str | None = None  # 同比 / 环比 for percents
    relative: bool | None = None  # dates left relative (no document date known)
    level: str | None = None  # region level: province / city / county / new_area
    source: str = "rule"  # "rule" or "model"
    raw_start: int | None = None
    raw_end: int | None = None
    extra: tuple = field(default=(), compare=False)  # (key, value) pairs for kind-specific extras

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"unknown mention kind {self.kind!r}; expected one of {KINDS}")
        if not (0 <= self.start <= self.end):
            raise ValueError(f"bad span {self.start}..{self.end} for {self.text!r}")

    def with_raw(self, raw_start: int, raw_end: int) -> "Mention":
        return replace(self, raw_start=raw_start, raw_end=raw_end)

    def shifted(self, delta: int) -> "Mention":
        """The same mention with its normalized offsets moved by ``delta`` (paragraph → document)."""
        return replace(self, start=self.start + delta, end=self.end + delta)

    def to_json(self) -> dict:
        """The CONTRACT.md shape: always kind/text/start/end/rule, other fields only when set."""
        d = asdict(self)
        extra = dict(d.pop("extra") or ())
        out = {k: v for k, v in d.items() if v is not None}
        if out.get("source") == "rule":
            out.pop("source")
        out.update(extra)
        return out


def overlaps(a: Mention, b: Mention) -> bool:
    return a.start < b.end and b.start < a.end
