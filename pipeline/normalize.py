"""Normalization (placeholder, to be replaced by the full stage pipeline)."""
from __future__ import annotations

from dataclasses import dataclass, field

import regex

from .decode import decode_bytes
from .offsets import Edit, OffsetMap, Repair, apply_edits, repairs_from_edits

_PINYIN = regex.compile(r"\((?:[a-zāáǎàēéěèīíǐìōóǒòūúǔùǖǘǚǜü]+)\)")


@dataclass
class Normalized:
    text: str
    raw: str
    encoding: str
    offsets: OffsetMap
    repairs: list[Repair] = field(default_factory=list)


def normalize(data, *, name: str = "", is_html: bool | None = None) -> Normalized:
    import opencc

    raw, enc = decode_bytes(data) if isinstance(data, bytes) else (data, "str")
    edits = [Edit(m.start(), m.end(), "", "pinyin") for m in _PINYIN.finditer(raw)]
    text, m1 = apply_edits(raw, edits)
    conv = opencc.OpenCC("t2s")
    text = conv.convert(text)
    return Normalized(text, raw, enc, OffsetMap([m1]), repairs_from_edits(raw, edits))
