"""Rules as data: loading ``rules/*.yaml``, expanding shared fragments, compiling patterns once.

A rule file may carry ``fragments`` (named regex pieces), ``lexicons`` (tables: word → value) and
``rules`` (``id`` + ``pattern`` + fields), beside the ``examples``/``negatives`` that
``tests/test_rule_examples.py`` runs. Patterns reference other pieces by name, as Recognizers-Text
does in Chinese-Numbers.yaml:

- ``{number}`` — the fragment ``number`` (fragments may reference fragments, cycles are an error);
- ``{@currency}`` — an alternation of the keys of lexicon ``currency``, longest first, escaped.

Regex quantifiers such as ``{1,3}`` are left alone (a reference starts with a letter or ``@``).
Files are read and patterns compiled once per process (:func:`functools.lru_cache`).

>>> expand("(?P<n>{arabic})万", {"arabic": r"\\d{1,3}"}, {})
'(?P<n>(?:\\\\d{1,3}))万'
>>> expand("{@cur}", {}, {"cur": {"元": "CNY", "美元": "USD"}})
'(?:美元|元)'
"""
from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any

import regex
import yaml

from . import rules_dir

#: libyaml's parser when PyYAML has it: the same objects as yaml.safe_load, ~7x faster (rule files are
#: read at every worker's start)
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

_REF = regex.compile(r"\{(@?[A-Za-z_][A-Za-z0-9_]*)\}")


class RuleError(ValueError):
    """A rule file that cannot be used: unknown reference, cycle, bad pattern."""


@lru_cache(maxsize=None)
def load_yaml(path: str | Path) -> dict:
    """The parsed content of one YAML rule or lexicon file (cached; treat the result as read-only)."""
    p = Path(path)
    try:
        data = yaml.load(p.read_text(encoding="utf-8"), Loader=_LOADER) or {}
    except yaml.YAMLError as e:
        raise RuleError(f"{p}: invalid YAML: {e}") from e
    if not isinstance(data, dict):
        raise RuleError(f"{p}: expected a mapping at top level")
    return data


def rule_file(name: str) -> Path:
    """``rules/<name>.yaml`` of this checkout (or of the installed package)."""
    return rules_dir() / f"{name}.yaml"


def rule_files() -> list[Path]:
    """Every YAML file under rules/ (sorted), for tests that discover examples by path."""
    root = rules_dir()
    return sorted(p for p in root.rglob("*.yaml") if p.is_file())


@lru_cache(maxsize=None)
def fragments(name: str = "fragments") -> tuple[dict[str, str], dict[str, dict]]:
    """The named fragments and lexicons of ``rules/<name>.yaml``."""
    data = load_yaml(rule_file(name))
    frags = {str(k): str(v) for k, v in (data.get("fragments") or {}).items()}
    lex = {str(k): (v if isinstance(v, dict) else {w: True for w in v})
           for k, v in (data.get("lexicons") or {}).items()}
    return frags, lex


def lexicon(name: str, file: str = "fragments") -> dict:
    """One lexicon table of a fragments file (word → value; lists become word → True)."""
    lex = fragments(file)[1]
    if name not in lex:
        raise RuleError(f"rules/{file}.yaml has no lexicon {name!r}")
    return lex[name]


def alternation(words) -> str:
    """A non-capturing alternation of literal ``words``, longest first (so 万亿 beats 万)."""
    ws = sorted({str(w) for w in words if str(w)}, key=lambda w: (-len(w), w))
    return "(?:" + "|".join(regex.escape(w) for w in ws) + ")"


def expand(pattern: str, frags: dict[str, str], lex: dict[str, dict], _stack: tuple = ()) -> str:
    """``pattern`` with every ``{name}`` / ``{@lexicon}`` reference replaced, recursively."""

    def sub(m: regex.Match) -> str:
        ref = m.group(1)
        if ref.startswith("@"):
            if ref[1:] not in lex:
                raise RuleError(f"unknown lexicon {ref[1:]!r} in pattern {pattern!r}")
            return alternation(lex[ref[1:]])
        if ref in _stack:
            raise RuleError(f"fragment cycle: {' -> '.join(_stack + (ref,))}")
        if ref not in frags:
            raise RuleError(f"unknown fragment {ref!r} in pattern {pattern!r}")
        return "(?:" + expand(frags[ref], frags, lex, _stack + (ref,)) + ")"

    return _REF.sub(sub, pattern)


@lru_cache(maxsize=None)
def compile_pattern(pattern: str, fragments_file: str = "fragments", local: str | None = None) -> regex.Pattern:
    """Compile ``pattern`` after expanding references against ``rules/<fragments_file>.yaml``.

    With ``local``, the fragments and lexicons of ``rules/<local>.yaml`` are added (and win).
    """
    frags, lex = fragments(fragments_file)
    if local and local != fragments_file:
        lf, ll = fragments(local)
        frags, lex = {**frags, **lf}, {**lex, **ll}
    src = expand(pattern, frags, lex)
    try:
        return regex.compile(src, regex.V0)
    except regex.error as e:
        raise RuleError(f"bad pattern {pattern!r}: {e}") from e


def fragment(name: str, fragments_file: str = "fragments") -> regex.Pattern:
    """One named fragment, compiled."""
    return compile_pattern("{" + name + "}", fragments_file)


@lru_cache(maxsize=None)
def load_rules(name: str) -> tuple[dict[str, Any], ...]:
    """The ``rules:`` of ``rules/<name>.yaml``, each with its compiled ``regex`` and a full ``id``.

    A rule's id is prefixed with the file's kind (``amount.currency``) unless it already has a dot.
    """
    data = load_yaml(rule_file(name))
    out = []
    for r in data.get("rules") or ():
        if "id" not in r or "pattern" not in r:
            raise RuleError(f"rules/{name}.yaml: a rule needs an id and a pattern: {r!r}")
        rid = r["id"] if "." in r["id"] else f"{name}.{r['id']}"
        spec = {**r, "id": rid, "regex": compile_pattern(r["pattern"], local=name)}
        for key in ("not_after", "require_after"):
            if key in r:
                spec[key] = compile_pattern(r[key], local=name)
        if "not_before" in r:
            spec["not_before"] = compile_pattern("(?<=" + r["not_before"] + ")", local=name)
        out.append(spec)
    return tuple(out)
