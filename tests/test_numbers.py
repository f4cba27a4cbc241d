"""Numeral parsing (pipeline/numbers.py): Arabic, Chinese and mixed numerals, and the look-alikes
the parser must refuse so that permissive rules stay precise."""
from __future__ import annotations

import doctest

import pytest

from pipeline import numbers
from pipeline.numbers import Num, parse_chinese_int, parse_number, parse_positional


def test_doctests():
    result = doctest.testmod(numbers)
    assert result.attempted >= 10 and result.failed == 0


@pytest.mark.parametrize("text,value", [
    ("187.43亿", 18743000000), ("1,297", 1297), ("35,834.65", 35834.65), ("１２.５", 12.5),
    ("3.5万亿", 3.5e12), ("1.2万亿", 1.2e12), ("41162万", 411620000), ("5千万", 5e7), ("300亿", 3e10),
    ("一千二百万", 12000000), ("四千九百六十八点四五亿", 496845000000), ("二十亿", 2e9), ("两", 2),
    ("廿", 20), ("廿三", 23), ("十", 10), ("十五", 15), ("一百零五", 105), ("一千零五十", 1050),
    ("三万亿", 3e12), ("一亿三千万", 1.3e8), ("两万五", 25000), ("三千五", 3500), ("壹佰", 100),
    ("万", 1e4), ("万亿", 1e12), ("九十万", 900000), ("一点五", 1.5),
])
def test_values(text, value):
    got = parse_number(text)
    assert got is not None, text
    assert got.value == pytest.approx(value, rel=1e-12)


@pytest.mark.parametrize("text,expected", [
    ("三十多亿", Num(3e9, "多", 10**8)),
    ("30多亿", Num(3e9, "多", 10**8)),
    ("310多万", Num(3.1e6, "多", 10**4)),
    ("200余", Num(200.0, "余", 1)),
    ("200余万", Num(2e6, "余", 10**4)),
    ("三十几亿", Num(3e9, "几", 10**8)),
    ("十几", Num(10.0, "几", 1)),
])
def test_approximation_words(text, expected):
    assert parse_number(text) == expected


def test_scale_is_reported_for_ranges():
    # a bare lower bound (十 in 十至二十亿元) takes the upper bound's scale
    assert parse_number("二十亿").scale == 10**8
    assert parse_number("5000万").scale == 10**4
    assert parse_number("十").scale == 1


@pytest.mark.parametrize("text", ["十三五", "三四", "一二", "千百", "十十", "二零", "零", "〇", "二〇〇五",
                                  "1,2", "1,2345", "", "多", "万万", "百", "千", "百千万"])
def test_look_alikes_are_refused(text):
    assert parse_number(text) is None


@pytest.mark.parametrize("text,value", [("百亿", 1e10), ("千亿", 1e11), ("千万", 1e7), ("百万", 1e6)])
def test_round_hundreds_of_a_scale(text, value):
    # 近千亿元, 突破百亿次: a bare 百/千 before 万/亿 is a number; whether it is a mention (not a
    # label such as 百亿级, 千亿产业) is decided by the extractor, which wants a qualifier before it
    assert parse_number(text).value == value


@pytest.mark.parametrize("text,value", [("二〇〇五", 2005), ("二oo五", 2005), ("二零一七", 2017), ("一九九八", 1998)])
def test_positional_years(text, value):
    assert parse_positional(text) == value
    assert parse_number(text, positional=True).value == value
    assert parse_number(text) is None  # never a count or an amount


def test_chinese_int_structure():
    assert parse_chinese_int("一千二百三十四万五千六百七十八") == 12345678
    assert parse_chinese_int("十万") == 100000
    assert parse_chinese_int("一百十") is None  # a unit after a unit without a digit
    assert parse_chinese_int("百") is None
