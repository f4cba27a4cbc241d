"""Every example and negative of every rules/*.yaml, run through the real extractor.

Rule files are discovered by path (any ``rules/**/*.yaml`` with ``examples:`` or ``negatives:``), so
a new rule file is tested as soon as it exists. The shared format (see /tmp/team/BRIEF.md):

- ``forms`` + ``expect``: each whole string must be exactly one mention of ``expect.kind``, with
  the expected fields;
- ``sentence`` + ``span`` + ``expect``: a mention with exactly that text and those fields must be
  found in the sentence;
- ``negatives``: strings in which no mention of the file's ``kinds`` may be found.

Fields in ``expect`` are compared only where given; numbers with a relative tolerance of 1e-9.
"""
from __future__ import annotations

import math

import pytest
import yaml

from pipeline import rules_dir
from pipeline.extract import extract_text


def _rule_files():
    for path in sorted(rules_dir().rglob("*.yaml")):
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        if isinstance(data, dict) and (data.get("examples") or data.get("negatives")):
            yield path, data


def _cases():
    for path, data in _rule_files():
        name = path.relative_to(rules_dir()).as_posix()
        kinds = set(data.get("kinds") or ())
        for i, ex in enumerate(data.get("examples") or ()):
            if not isinstance(ex, dict) or "expect" not in ex or not ("forms" in ex or "sentence" in ex):
                yield pytest.param("malformed", repr(ex), None, None, kinds, id=f"{name}:{i}:malformed")
            elif "forms" in ex:
                for form in ex["forms"]:
                    yield pytest.param("form", form, None, ex["expect"], kinds, id=f"{name}:{i}:{form}")
            else:
                yield pytest.param("sentence", ex["sentence"], ex.get("span"), ex["expect"], kinds,
                                   id=f"{name}:{i}:{ex.get('span')}")
        for j, neg in enumerate(data.get("negatives") or ()):
            yield pytest.param("negative", neg, None, None, kinds, id=f"{name}:neg{j}:{str(neg)[:30]}")


CASES = list(_cases())


def _same(expected, got) -> bool:
    if isinstance(expected, bool) or expected is None:
        return expected == got
    if isinstance(expected, (int, float)) and isinstance(got, (int, float)) and not isinstance(got, bool):
        return math.isclose(float(expected), float(got), rel_tol=1e-9, abs_tol=1e-12)
    return expected == got


def _mismatch(expect: dict, mention) -> dict:
    d = mention.to_json()
    return {k: (v, d.get(k)) for k, v in expect.items() if not _same(v, d.get(k))}


def _show(mentions) -> list:
    return [(m.kind, m.text, m.value, m.rule) for m in mentions]


@pytest.mark.parametrize("case,text,span,expect,kinds", CASES)
def test_rule_example(case, text, span, expect, kinds):
    if case == "malformed":
        pytest.fail(f"an example needs `expect` and `forms` or `sentence` + `span`: {text}")
    if case == "negative":
        found = extract_text(text, kinds=kinds)
        assert found == [], f"negative {text!r} matched {_show(found)}"
        return
    kind = expect["kind"]
    found = extract_text(text, kinds={kind})
    if case == "form":
        assert len(found) == 1, f"{text!r}: expected one {kind} mention, got {_show(found)}"
        m = found[0]
        assert (m.start, m.end) == (0, len(text)), f"{text!r}: mention covers only {m.text!r}"
    else:
        hits = [m for m in found if m.text == span]
        assert hits, f"{span!r} not found in {text!r}; got {_show(found)}"
        m = hits[0]
    assert m.text == text[m.start:m.end]
    assert m.rule, "every mention names its rule"
    bad = _mismatch(expect, m)
    assert not bad, f"{text!r}: field mismatches (expected, got): {bad}"


def test_rule_files_are_discovered():
    names = {p.name for p, _ in _rule_files()}
    assert {"amount.yaml", "percent.yaml", "count.yaml", "quantity.yaml", "date.yaml"} <= names


def test_numeric_rule_files_carry_enough_examples():
    numeric = {"amount", "percent", "count", "quantity", "date"}
    n = 0
    for path, data in _rule_files():
        if path.stem in numeric:
            assert data.get("negatives"), f"{path.name} has no negatives"
            for ex in data.get("examples") or ():
                n += len(ex.get("forms", ())) or 1
    assert n >= 300, f"only {n} numeric examples"
