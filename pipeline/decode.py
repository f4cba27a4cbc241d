"""Stage 1: bytes → text, in any common Chinese encoding. (Placeholder; the normalization work replaces it.)"""
from __future__ import annotations


class InputError(ValueError):
    """A document that cannot be read as text (binary, undecodable, empty...)."""


def decode_bytes(data: bytes) -> tuple[str, str]:
    for enc in ("utf-8", "gb18030"):
        try:
            return data.decode(enc), enc
        except UnicodeDecodeError:
            pass
    raise InputError("not decodable as UTF-8 or GB18030")
