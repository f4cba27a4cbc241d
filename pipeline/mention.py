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

from dataclasses import MISSING, asdict, dataclass, field, fields, replace
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


def _slot_setting_init(cls):
    """An ``__init__`` for a frozen slotted dataclass with the generated one's exact signature and
    checks, that stores each field through its slot descriptor.

    The dataclass-generated ``__init__`` of a frozen class stores every field with
    ``object.__setattr__`` looked up anew on each line; for Mention's 20 fields that is most of the
    cost of making one, and extraction makes one per mention found. Calling the slot descriptors
    directly halves it (tests/test_numeric.py checks that both build equal records).
    """
    params, body, env = [], [], {}
    for f in fields(cls):
        if f.default is not MISSING:
            env[f"_d_{f.name}"] = f.default
            params.append(f"{f.name}=_d_{f.name}")
        elif f.default_factory is not MISSING:  # pragma: no cover - Mention has none
            raise TypeError("default_factory fields are not supported here")
        else:
            params.append(f.name)
        env[f"_s_{f.name}"] = cls.__dict__[f.name].__set__
        body.append(f"    _s_{f.name}(self, {f.name})")
    src = f"def __init__(self, {', '.join(params)}):\n" + "\n".join(body) + "\n    self.__post_init__()\n"
    exec(src, env)  # noqa: S102 - a fixed template over the class's own field names, as dataclasses does
    init = env["__init__"]
    init.__qualname__ = f"{cls.__qualname__}.__init__"
    init.__doc__ = cls.__init__.__doc__
    return init


Mention.__init__ = _slot_setting_init(Mention)


def overlaps(a: Mention, b: Mention) -> bool:
    return a.start < b.end and b.start < a.end
