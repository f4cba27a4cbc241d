"""Numeral parsing for report text: Arabic, Chinese and mixed numerals, with 万/亿 scaling.

Pure functions, no I/O. The extraction rules (``rules/fragments.yaml``) find the candidate strings;
this module turns a matched string into a value, and says *no* (``None``) to strings that only look
like numbers (``十三五``, ``三四``), so a rule can stay permissive and the parser strict.

>>> parse_number("187.43亿").value
18743000000.0
>>> parse_number("四千九百六十八点四五亿").value
496845000000.0
>>> parse_number("三十多亿")
Num(value=3000000000.0, approx='多', scale=100000000)
>>> parse_number("十三五") is None
True
"""
from __future__ import annotations

from decimal import Decimal, InvalidOperation
from functools import lru_cache
from typing import NamedTuple

#: Chinese digits (``两`` and ``〇`` included; the Latin ``o``/``O`` of scraped years only positionally).
CN_DIGITS = {"〇": 0, "零": 0, "○": 0, "Ｏ": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5,
             "六": 6, "七": 7, "八": 8, "九": 9, "壹": 1, "贰": 2, "叁": 3, "肆": 4, "伍": 5, "陆": 6,
             "柒": 7, "捌": 8, "玖": 9}
#: Digits that only occur in positional strings (years such as 二oo五), never in counted numbers.
POSITIONAL_ONLY = {"o": 0, "O": 0}
SMALL_UNITS = {"十": 10, "拾": 10, "百": 100, "佰": 100, "千": 1000, "仟": 1000}
BIG_UNITS = {"万": 10_000, "亿": 100_000_000}
#: Trailing scale words after an Arabic number (3.5万亿, 41162万, 5千万).
SCALES = {"万亿": 10**12, "千亿": 10**11, "百亿": 10**10, "十亿": 10**9, "亿": 10**8, "千万": 10**7,
          "百万": 10**6, "十万": 10**5, "万": 10**4, "千": 10**3, "百": 10**2}
APPROX = ("多", "余", "几")


class Num(NamedTuple):
    """A parsed number: its ``value``, an approximation word inside it (多/余/几) and its trailing scale."""

    value: float
    approx: str | None = None
    scale: int = 1


def parse_arabic(s: str) -> Decimal | None:
    """Arabic digits with optional thousands separators and decimals (full-width digits allowed).

    >>> parse_arabic("35,834.65")
    Decimal('35834.65')
    >>> parse_arabic("１２.５")
    Decimal('12.5')
    >>> parse_arabic("1,2") is None
    True
    """
    if s.isascii() and "," not in s:
        try:
            return Decimal(s)
        except InvalidOperation:
            return None
    t = s.replace(",", "").replace("，", "")
    if "," in s:
        head, *groups = s.split(".")[0].split(",")
        if not (1 <= len(head) <= 3 and all(len(g) == 3 for g in groups)):
            return None
    try:
        return Decimal("".join(str(int(c)) if c.isdigit() else c for c in t))
    except (InvalidOperation, ValueError):
        return None


def parse_positional(s: str) -> int | None:
    """A digit-by-digit Chinese numeral, as in years: 二〇〇五, 二oo五, 二零一七.

    >>> parse_positional("二〇〇五"), parse_positional("二oo五"), parse_positional("二十")
    (2005, 2005, None)
    """
    out = 0
    for c in s:
        d = CN_DIGITS.get(c, POSITIONAL_ONLY.get(c))
        if d is None or c == "两":
            return None
        out = out * 10 + d
    return out if s else None


def parse_chinese_int(s: str) -> int | None:
    """A Chinese integer in the usual unit notation, or None when ``s`` is not well formed.

    >>> [parse_chinese_int(x) for x in ("一千二百万", "两", "廿三", "一百零五", "十", "三千五", "三万亿")]
    [12000000, 2, 23, 105, 10, 3500, 3000000000000]
    >>> [parse_chinese_int(x) for x in ("十三五", "三四", "一二", "千百", "千")]
    [None, None, None, None, None]
    >>> [parse_chinese_int(x) for x in ("千亿", "百亿", "千万")]
    [100000000000, 10000000000, 10000000]
    """
    if not s:
        return None
    s = s.replace("廿", "二十")
    if len(s) > 1 and s[0] in "百千" and all(c in BIG_UNITS for c in s[1:]):
        s = "一" + s  # 百亿, 千亿, 千万: a bare 百/千 before 万/亿 is one hundred/thousand of them
    total = 0  # everything closed by 亿
    section = 0  # below 亿, closed by 万
    part = 0  # below 万
    digit: int | None = None
    last_small = 10**5  # units in a part must descend (千 > 百 > 十)
    last_unit = 1
    after_zero = False
    seen_any = False
    for c in s:
        if c in CN_DIGITS:
            d = CN_DIGITS[c]
            if d == 0:
                if digit is not None or not seen_any:
                    return None  # 零 only after a unit (一百零五)
                after_zero = True
                continue
            if digit is not None:
                return None  # two digits in a row: 三四, 十三五
            digit = d
            seen_any = True
        elif c in SMALL_UNITS:
            u = SMALL_UNITS[c]
            if u >= last_small:
                return None
            if digit is None:
                if u != 10 or part or after_zero:
                    return None
                digit = 1  # leading 十 (十条, 十万)
            part += digit * u
            digit, last_small, last_unit, after_zero, seen_any = None, u, u, False, True
        elif c in BIG_UNITS:
            u = BIG_UNITS[c]
            val = part + (digit or 0)
            if u == 10_000:
                if section or (not val and seen_any):
                    return None
                section = (val or 1) * u
            else:
                base = total + section + val
                if not base and seen_any:
                    return None
                total = (base or 1) * u
                section = 0
            part, digit, last_small, last_unit, after_zero = 0, None, 10**5, u, False
            seen_any = True
        else:
            return None
    if digit is not None:
        if not after_zero and last_unit > 1:
            digit *= last_unit // 10  # 三千五 = 3500, 两万五 = 25000
        part += digit
    return total + section + part if seen_any else None


_SCALE_WORDS = tuple(sorted(SCALES, key=len, reverse=True))
_SCALE_CHARS = frozenset("".join(SCALES))


def _scale_of(s: str) -> tuple[str, int]:
    """Split a trailing run of 万/亿 (or a scale word) off ``s``: ('187.43', 10**8) for '187.43亿'."""
    if s[-1] not in _SCALE_CHARS:
        return s, 1
    for word in _SCALE_WORDS:
        if s.endswith(word) and len(s) > len(word):
            return s[: -len(word)], SCALES[word]
    return s, 1


@lru_cache(maxsize=65536)
def parse_number(s: str, *, positional: bool = False) -> Num | None:
    """Parse one numeral as matched by the ``number`` fragment; None when it is not a number.

    Handles Arabic (``1,297``, ``3.5万亿``, ``310多万``), Chinese (``一千二百万``, ``三十多亿``,
    ``四千九百六十八点四五亿``) and the scale/approximation words between them. Digit-by-digit
    Chinese strings (``二〇〇五``) are accepted only with ``positional=True`` (for years).

    >>> parse_number("1.2万亿").value
    1200000000000.0
    >>> parse_number("310多万")
    Num(value=3100000.0, approx='多', scale=10000)
    >>> parse_number("3亿多")
    Num(value=300000000.0, approx='多', scale=100000000)
    >>> parse_number("200余")
    Num(value=200.0, approx='余', scale=1)
    >>> parse_number("5千万").value, parse_number("十").value, parse_number("万亿").value
    (50000000.0, 10.0, 1000000000000.0)
    >>> parse_number("二〇〇五") is None, parse_number("二〇〇五", positional=True).value
    (True, 2005.0)
    """
    s = s.strip()
    if not s:
        return None
    if len(s) > 1 and s[-1] in APPROX and s[-2] in _SCALE_CHARS:  # 3亿多, 1万余, 三百多
        inner = parse_number(s[:-1], positional=positional)
        return None if inner is None or inner.approx else Num(inner.value, s[-1], inner.scale)
    approx = None
    body, scale = _scale_of(s)
    if body and body[-1] in APPROX:
        approx, body = body[-1], body[:-1]
    elif s[-1] in APPROX:
        approx, body, scale = s[-1], s[:-1], 1
    if not body:
        return None
    if body[0].isdigit() or body[0] == ".":
        base = parse_arabic(body)
        if base is None:
            return None
        return Num(float(base * scale), approx, scale)
    # Chinese: the scale may be part of the numeral itself (一千二百万); keep the trailing run as scale.
    text = body + ("" if scale == 1 else s[len(body) + (1 if approx else 0):])
    if approx:
        base = _parse_chinese(body, positional)
        return None if base is None else Num(float(base * scale), approx, scale)
    value = _parse_chinese(text, positional)
    if value is None:
        return None
    trail = 1
    for c in reversed(text):
        if c not in BIG_UNITS:
            break
        trail *= BIG_UNITS[c]
    return Num(float(value), None, trail)


def _parse_chinese(s: str, positional: bool) -> Decimal | None:
    if "点" in s:
        head, _, tail = s.partition("点")
        scale = 1
        while tail and tail[-1] in BIG_UNITS:
            scale *= BIG_UNITS[tail[-1]]
            tail = tail[:-1]
        ip = parse_chinese_int(head)
        fp = "".join(str(CN_DIGITS[c]) for c in tail if c in CN_DIGITS)
        if ip is None or not tail or len(fp) != len(tail):
            return None
        return Decimal(f"{ip}.{fp}") * scale
    if len(s) >= 2 and all(c in CN_DIGITS or c in POSITIONAL_ONLY for c in s):
        p = parse_positional(s) if positional else None
        return None if p is None else Decimal(p)
    v = parse_chinese_int(s)
    return None if v is None else Decimal(v)


def to_number(value: float) -> float | int:
    """An integer-valued float as int (for display and YAML round-trips), else the float.

    >>> to_number(3.0), to_number(2.5)
    (3, 2.5)
    """
    return int(value) if float(value).is_integer() else value
