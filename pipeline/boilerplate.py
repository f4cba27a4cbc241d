"""Stage 6: drop site chrome (share bars, comment boxes, copyright footers, paywall notes).

The rules are data: ``rules/boilerplate.yaml`` lists line patterns, each with the keywords that every
line it drops contains, lines it must drop and real content lines it must keep (tested in
tests/test_normalize.py). A document costs one scan for the keywords (stdlib ``re`` over a literal
alternation); only the lines holding a keyword are matched against the patterns.

A ``line`` rule must match a whole line (spaces and the ideographic indentation around it ignored); the
line goes with its line break. A ``tail`` rule may start inside a line and runs to its end: only that
tail goes (a paywall note glued after the last visible words).

>>> from pipeline.offsets import apply_edits
>>> text = "本网讯(记者)\\n本报讯(程修德)今年以来,投资增长8%。\\n分享到:\\n"
>>> apply_edits(text, boilerplate_edits(text))[0]
'本报讯(程修德)今年以来,投资增长8%。\\n'
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import regex

from . import rules_dir
from .offsets import Edit

__all__ = ["BoilerplateRule", "RuleSet", "load_rules", "boilerplate_edits", "compiled"]

_PAD = r"[ \t\u3000\u00a0]*"


@dataclass(frozen=True)
class BoilerplateRule:
    """One chrome pattern: ``where`` is ``line`` (whole line) or ``tail`` (from inside a line to its end)."""

    id: str
    pattern: str
    keywords: tuple[str, ...]
    where: str = "line"
    note: str = ""


def load_rules(path: Path | None = None) -> list[BoilerplateRule]:
    """The rules of ``rules/boilerplate.yaml`` (or ``path``), validated: each has keywords and compiles."""
    from .rules import load_yaml

    data = load_yaml(Path(path or rules_dir() / "boilerplate.yaml"))
    rules = []
    for i, r in enumerate(data.get("rules") or []):
        rule = BoilerplateRule(id=str(r["id"]), pattern=str(r["pattern"]),
                               keywords=tuple(str(k) for k in r.get("keywords") or ()),
                               where=str(r.get("where", "line")), note=str(r.get("note", "")))
        where = f"{path}: rule {rule.id} (#{i})"
        if rule.where not in ("line", "tail"):
            raise ValueError(f"{where}: where must be line or tail, not {rule.where!r}")
        if not rule.keywords or not all(rule.keywords):
            raise ValueError(f"{where}: needs keywords (literal strings every dropped line contains)")
        if "\\s" in rule.pattern:
            raise ValueError(f"{where}: \\s matches line breaks; write [ \\t\\u3000] instead")
        try:
            regex.compile(rule.pattern)
        except regex.error as e:
            raise ValueError(f"{where}: bad pattern: {e}") from None
        rules.append(rule)
    return rules


@dataclass(frozen=True)
class RuleSet:
    """Compiled rules: the keyword scanner, the whole-line and the line-tail patterns."""

    rules: tuple[BoilerplateRule, ...]
    keywords: re.Pattern
    line: regex.Pattern | None
    tail: regex.Pattern | None


def _compile(rules: list[BoilerplateRule]) -> RuleSet:
    """Each rule is a named group ``r<index>`` of one alternation per kind (line, tail)."""
    def alternation(where: str) -> regex.Pattern | None:
        alts = [f"(?P<r{i}>{r.pattern})" for i, r in enumerate(rules) if r.where == where]
        if not alts:
            return None
        body = f"{_PAD}(?:{'|'.join(alts)}){_PAD}"
        return regex.compile(body if where == "line" else body + r"\Z")

    words = sorted({k for r in rules for k in r.keywords}, key=len, reverse=True)
    keywords = re.compile("|".join(map(re.escape, words)) if words else r"(?!)")
    return RuleSet(tuple(rules), keywords, alternation("line"), alternation("tail"))


@lru_cache(maxsize=8)
def compiled(path: str | None = None) -> RuleSet:
    """The compiled rule set (cached per process)."""
    return _compile(load_rules(Path(path) if path else None))


def boilerplate_edits(text: str, *, path: str | None = None) -> list[Edit]:
    """Edits removing every chrome line (with its line break) and every chrome tail in ``text``.

    The ``note`` of each edit is the id of the rule that matched.
    """
    rs = compiled(path)
    edits: list[Edit] = []
    n = len(text)
    pos = 0
    while True:
        k = rs.keywords.search(text, pos)
        if k is None:
            break
        start = text.rfind("\n", 0, k.start()) + 1
        end = text.find("\n", k.end())
        if end < 0:
            end = n
        pos = end + 1
        m = rs.line.fullmatch(text, start, end) if rs.line is not None else None
        if m is None and rs.tail is not None:
            m = rs.tail.search(text, start, end)
            if m is not None and m.start() > start:  # a chrome tail after real words: only the tail goes
                edits.append(Edit(m.start(), end, "", "boilerplate", _rule_id(rs, m)))
                continue
        if m is None:
            continue
        if end < n:
            end += 1  # the line goes with its break
        elif start > 0:
            start -= 1  # the last line has none: take the break before it
        if edits and start < edits[-1].end:
            start = edits[-1].end
        edits.append(Edit(start, end, "", "boilerplate", _rule_id(rs, m)))
    return edits


def _rule_id(rs: RuleSet, m) -> str:
    return rs.rules[int(m.lastgroup[1:])].id
