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
    checks (``__post_init__``), that stores the fields the cheap way.

    A frozen class refuses attribute assignment, so the dataclass-generated ``__init__`` stores each
    field through a generic ``object.__setattr__`` call: for Mention's 20 fields that is most of the
    cost of making one, and extraction makes one per mention found. This one gives the new instance,
    for the time of the stores, a plain class with the very same slots (the same layout, so
    ``__class__`` may be switched both ways), stores the fields with ordinary attribute assignment,
    which the interpreter writes straight into the slot, and switches back before ``__post_init__``.
    It builds a Mention in about a third of the time (tests/test_numeric.py checks the signature,
    the checks and equality with keyword construction).
    """
    writable = type(f"_Writable{cls.__name__}", (), {"__slots__": cls.__slots__, "__module__": cls.__module__})
    params, body, env = [], [], {"_set": object.__setattr__, "_cls": cls, "_writable": writable}
    for f in fields(cls):
        if f.default is not MISSING:
            env[f"_d_{f.name}"] = f.default
            params.append(f"{f.name}=_d_{f.name}")
        elif f.default_factory is not MISSING:  # pragma: no cover - Mention has none
            raise TypeError("default_factory fields are not supported here")
        else:
            params.append(f.name)
        body.append(f"    self.{f.name} = {f.name}")
    src = (f"def __init__(self, {', '.join(params)}):\n    _set(self, '__class__', _writable)\n"
           + "\n".join(body) + "\n    self.__class__ = _cls\n    self.__post_init__()\n")
    exec(src, env)  # noqa: S102 - a fixed template over the class's own field names, as dataclasses does
    init = env["__init__"]
    init.__qualname__ = f"{cls.__qualname__}.__init__"
    init.__doc__ = cls.__init__.__doc__
    return init


Mention.__init__ = _slot_setting_init(Mention)


def overlaps(a: Mention, b: Mention) -> bool:
    return a.start < b.end and b.start < a.end
