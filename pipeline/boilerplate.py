"""Stage 6: drop site chrome (share bars, comment boxes, copyright footers, paywall notes).

The rules are data: ``rules/boilerplate.yaml`` lists line patterns, each with the lines it must drop
and real content lines it must keep (tested in tests/test_normalize.py). All rules are compiled into
ONE multi-line regex, so a document costs one scan however many rules there are.

A ``line`` rule must match a whole line (spaces and the ideographic indentation around it ignored); the
line goes with its line break. A ``tail`` rule may start inside a line and runs to its end: only that
tail goes (a paywall note glued after the last visible words).

>>> from pipeline.offsets import apply_edits
>>> text = "本网讯(记者)\\n本报讯(程修德)今年以来,投资增长8%。\\n分享到:\\n"
>>> apply_edits(text, boilerplate_edits(text))[0]
'本报讯(程修德)今年以来,投资增长8%。\\n'
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import regex

from . import rules_dir
from .offsets import Edit

__all__ = ["BoilerplateRule", "load_rules", "boilerplate_edits", "compiled"]

_PAD = r"[ \t\u3000\u00a0]*"


@dataclass(frozen=True)
class BoilerplateRule:
    """One chrome pattern: ``where`` is ``line`` (whole line) or ``tail`` (from inside a line to its end)."""

    id: str
    pattern: str
    where: str = "line"
    note: str = ""


def load_rules(path: Path | None = None) -> list[BoilerplateRule]:
    """The rules of ``rules/boilerplate.yaml`` (or ``path``), validated: each pattern compiles."""
    import yaml

    path = path or rules_dir() / "boilerplate.yaml"
    data = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}
    rules = []
    for i, r in enumerate(data.get("rules") or []):
        rule = BoilerplateRule(id=str(r["id"]), pattern=str(r["pattern"]), where=str(r.get("where", "line")),
                               note=str(r.get("note", "")))
        if rule.where not in ("line", "tail"):
            raise ValueError(f"{path}: rule {rule.id}: where must be line or tail, not {rule.where!r}")
        if "\\s" in rule.pattern:
            raise ValueError(f"{path}: rule {rule.id}: \\s matches line breaks; write [ \\t\\u3000] instead")
        try:
            regex.compile(rule.pattern)
        except regex.error as e:
            raise ValueError(f"{path}: rule {rule.id} (#{i}): bad pattern: {e}") from None
        rules.append(rule)
    return rules


def _compile(rules: list[BoilerplateRule]) -> tuple[regex.Pattern, ...]:
    """Two scans: ``^pad(line rules)pad$`` and ``(tail rules)pad$``, each rule a named group ``r<index>``.

    (One alternation of both is 7× slower: the unanchored tail branch defeats the line anchor.)
    """
    line = [f"(?P<r{i}>{r.pattern})" for i, r in enumerate(rules) if r.where == "line"]
    tail = [f"(?P<r{i}>{r.pattern})" for i, r in enumerate(rules) if r.where == "tail"]
    out = []
    if line:
        out.append(regex.compile(rf"^{_PAD}(?:{'|'.join(line)}){_PAD}$", regex.MULTILINE))
    if tail:
        out.append(regex.compile(rf"{_PAD}(?:{'|'.join(tail)}){_PAD}$", regex.MULTILINE))
    return tuple(out)


@lru_cache(maxsize=8)
def compiled(path: str | None = None) -> tuple[tuple[regex.Pattern, ...], tuple[BoilerplateRule, ...]]:
    """The compiled rule set (cached per process)."""
    rules = load_rules(Path(path) if path else None)
    return _compile(rules), tuple(rules)


def boilerplate_edits(text: str, *, path: str | None = None) -> list[Edit]:
    """Edits removing every chrome line (with its line break) and every chrome tail in ``text``.

    The ``note`` of each edit is the id of the rule that matched.
    """
    patterns, rules = compiled(path)
    edits: list[Edit] = []
    n = len(text)
    matches = [m for p in patterns for m in p.finditer(text)]
    if len(patterns) > 1:
        matches.sort(key=lambda m: m.start())
    for m in matches:
        start, end = m.span()
        if start == end:
            continue
        rule = rules[int(m.lastgroup[1:])] if m.lastgroup else None
        at_line_start = start == 0 or text[start - 1] == "\n"
        if at_line_start and end < n and text[end] == "\n":
            end += 1  # the whole line goes, with its break
        elif at_line_start and end == n and start > 0:
            start -= 1  # last line without a break: take the break before it
        edits.append(Edit(start, end, "", "boilerplate", rule.id if rule else ""))
    return _merge_touching(edits)


def _merge_touching(edits: list[Edit]) -> list[Edit]:
    """apply_edits needs non-overlapping edits: a tail inside a dropped line, or a last-line edit reaching
    back into the previous one, is merged."""
    out: list[Edit] = []
    for e in edits:
        if out and e.start < out[-1].end:
            prev = out.pop()
            e = Edit(prev.start, max(prev.end, e.end), "", e.stage, prev.note + "," + e.note)
        out.append(e)
    return out
