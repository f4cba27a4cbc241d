"""Normalization: bytes of a scraped report → clean simplified text with an offset map back to the raw text.

Stages, in order (each a pure function returning :class:`~pipeline.offsets.Edit` lists, applied with
:func:`~pipeline.offsets.apply_edits` and chained in an :class:`~pipeline.offsets.OffsetMap`):

- ``decode`` (:mod:`pipeline.decode`): bytes → text (BOM, UTF-16 sniffing, UTF-8, GB18030, Big5, mixed).
- ``html`` (:mod:`pipeline.html_text`): the main text of an HTML page. For HTML the *raw* text, the base
  of every offset, is that extracted text: offsets into markup would point inside tags and scripts.
- ``control``: line endings to ``\\n``; NUL, control, zero-width and bidi characters out; lone surrogates
  → U+FFFD. First, so that no later pattern trips on an invisible character.
- ``mojibake`` / ``lost_char`` (:mod:`pipeline.repair`): GBK one-byte-shift repair, lost characters.
- ``pinyin`` (:mod:`pipeline.pinyin`): ``網(wǎng)`` → ``網``; unrepaired orphans ``?qǐng)`` → U+FFFD.
- ``width``: fullwidth digits, letters and ％ → ASCII (Chinese punctuation ，。；：！？“”（） is kept);
  Kangxi radicals and compatibility ideographs → the ordinary characters (before t2s: ⾨ → 門 → 门).
- ``t2s``: traditional → simplified, OpenCC ``t2s`` at phrase level, plus the 著/着 rule.
- ``boilerplate`` (:mod:`pipeline.boilerplate`): site chrome lines and paywall notes, rules in
  ``rules/boilerplate.yaml``.
- ``space``: runs of spaces, tabs and U+3000 → one space; indentation, trailing spaces, blank lines go.

The mojibake repair runs before pinyin stripping because the stray pinyin are its hints. A clean
simplified document costs one regex scan per stage and one OpenCC call: nothing per character in Python.

>>> doc = normalize("本網(wǎng)訊 全社會(huì)固定資產(chǎn)投資完成１８７．４３億元")
>>> doc.text
'本网讯 全社会固定资产投资完成187.43亿元'
>>> s = doc.text.index("社会")
>>> doc.raw[slice(*doc.offsets.raw_span(s, s + 2))]
'社會'
"""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from functools import lru_cache

import regex

from .boilerplate import boilerplate_edits
from .decode import EmptyInputError, decode_bytes
from .html_text import html_to_text, looks_like_html
from .offsets import Edit, OffsetMap, Repair, apply_edits
from .pinyin import pinyin_edits

try:
    from .repair import repair_mojibake
except ImportError:  # pragma: no cover - pipeline/repair.py is developed separately
    def repair_mojibake(text: str) -> list[Edit]:
        """Placeholder until the mojibake repair lands: no edits."""
        return []

__all__ = ["Normalized", "normalize", "split_paragraphs", "split_sentences", "control_edits", "t2s_edits",
           "to_simplified", "width_edits", "to_halfwidth", "space_edits", "OPENCC_CONFIG"]


# ------------------------------------------------------------------------------------------------ result

@dataclass(frozen=True, slots=True)
class _Logged:
    """What one stage did, kept so the repair log can be built on demand.

    Either ``edits`` (offsets in ``before``), or — for the length-preserving stages (t2s, width), which
    need no offset map — the texts before and after, diffed only when someone asks for the log.
    """

    stage: str
    before: str
    omap: OffsetMap
    edits: tuple[Edit, ...] = ()
    after: str | None = None


@dataclass
class Normalized:
    """A normalized document.

    ``text`` is the final simplified text; ``raw`` the decoded document (for HTML: the extracted main
    text); ``offsets.raw_span(s, e)`` the span of ``raw`` that ``text[s:e]`` came from; ``paragraphs``
    the (start, end) spans of the paragraphs of ``text``; ``repairs`` the log of every change, with
    offsets in ``raw`` (built on first access).
    """

    text: str
    raw: str
    encoding: str
    offsets: OffsetMap
    paragraphs: list[tuple[int, int]] = field(default_factory=list)
    is_html: bool = False
    name: str = ""
    _log: list[_Logged] = field(default_factory=list, repr=False)
    _repairs: list[Repair] | None = field(default=None, repr=False)

    @property
    def repairs(self) -> list[Repair]:
        """Every change, in stage order: ``Repair(stage, start, end, before, after, note)``.

        ``start``/``end`` are offsets in :attr:`raw`; ``before`` is the text the stage replaced (equal to
        ``raw[start:end]`` unless an earlier stage already changed that spot) and ``after`` its
        replacement. Consecutive characters changed by t2s or width are one entry when their raw sources
        are adjacent too.
        """
        if self._repairs is None:
            self._repairs = [r for entry in self._log for r in _repairs_of(entry)]
        return self._repairs

    def raw_span(self, start: int, end: int) -> tuple[int, int]:
        """Shortcut for ``offsets.raw_span``."""
        return self.offsets.raw_span(start, end)


def _repairs_of(entry: _Logged) -> list[Repair]:
    if entry.after is None:
        return [Repair(entry.stage, *entry.omap.raw_span(e.start, e.end), entry.before[e.start:e.end], e.after,
                       e.note) for e in entry.edits]
    # a length-preserving stage: runs of changed characters, split where their raw sources are not adjacent
    # (網(wǎng)訊 → 网讯 is two repairs, 網 and 訊, each at its own raw offset)
    out: list[Repair] = []
    for s, e in _diff_runs(entry.before, entry.after):
        run_start = s
        rs, re_ = entry.omap.raw_span(s, s + 1)
        for i in range(s + 1, e + 1):
            nxt = entry.omap.raw_span(i, i + 1) if i < e else None
            if nxt is not None and nxt[0] == re_:
                re_ = nxt[1]
                continue
            out.append(Repair(entry.stage, rs, re_, entry.before[run_start:i], entry.after[run_start:i]))
            if nxt is not None:
                run_start, (rs, re_) = i, nxt
    return out


def _diff_runs(a: str, b: str) -> list[tuple[int, int]]:
    """Runs ``(start, end)`` where two strings of equal length differ, vectorised when numpy is there."""
    try:
        import numpy as np
    except ImportError:  # pragma: no cover
        idx = [i for i, (x, y) in enumerate(zip(a, b)) if x != y]
    else:
        x = np.frombuffer(a.encode("utf-32-le", "surrogatepass"), dtype="<u4")
        y = np.frombuffer(b.encode("utf-32-le", "surrogatepass"), dtype="<u4")
        idx = np.flatnonzero(x != y).tolist()
    runs: list[tuple[int, int]] = []
    for i in idx:
        if runs and runs[-1][1] == i:
            runs[-1] = (runs[-1][0], i + 1)
        else:
            runs.append((i, i + 1))
    return runs


# ------------------------------------------------------------------------------------------------ control

_NEWLINES = "\r\n\u2028\u2029\x85\x0b\x0c"
#: Line breaks, C0/C1 controls (tab and LF kept), zero-width and bidi formatting characters, BOM, soft
#: hyphen, interlinear annotation marks, lone surrogates — one character class, so clean text costs one
#: fast scan. A ZWJ between two emoji is kept (👨‍👩‍👧); CR LF is one edit.
_CONTROL = re.compile(  # stdlib re: 3-4× faster than regex for a lone character class
    "[\r\u2028\u2029\x85\x0b\x0c\x00-\x08\x0e-\x1f\x7f\x80-\x84\x86-\x9f\u200b-\u200f\u202a-\u202e"
    "\u2060-\u2064\u2066-\u2069\ufeff\u00ad\u061c\ufff9-\ufffb\u180e\ud800-\udfff]"
)
_EMOJI = regex.compile(r"[\p{Extended_Pictographic}\p{Emoji_Modifier}\ufe0f]")


def control_edits(text: str) -> list[Edit]:
    """Edits normalizing line breaks to ``\\n`` and removing invisible control/formatting characters.

    >>> [(e.start, e.after) for e in control_edits("a\\r\\nb\\u200bc\\x00")]
    [(1, '\\n'), (4, ''), (6, '')]
    """
    edits = []
    for m in _CONTROL.finditer(text):
        i = m.start()
        c = text[i]
        end = i + 1
        if c == "\r" and text[end:end + 1] == "\n":
            edits.append(Edit(i, end + 1, "\n", "control"))
            continue
        if c == "\u200d" and 0 < i and end < len(text) and _EMOJI.match(text, i - 1) and _EMOJI.match(text, end):
            continue  # joins an emoji sequence
        if c in _NEWLINES:
            after = "\n"
        elif "\ud800" <= c <= "\udfff":
            after = "\ufffd"
        else:
            after = ""
        edits.append(Edit(i, end, after, "control"))
    return edits


# ------------------------------------------------------------------------------------------------ t2s

#: OpenCC configuration. Measured on ../shared/seeds and devcorpus/broken (made with s2tw): ``t2s`` and
#: ``tw2s`` differ only on 著, where ``t2s`` keeps 著 everywhere (随著, 著力: 20 errors) and ``tw2s``
#: turns every 著 into 着 (显著 → 显着: 2 errors on clean text). ``t2s`` plus the 著 rule below gets both right.
OPENCC_CONFIG = "t2s"

#: 著 stays 著 (zhù, "to write; marked") in these words; elsewhere a traditional-text 著 is the aspect
#: particle or verb written 着 in simplified Chinese (随着, 意味着, 着力, 着眼, 存在着).
_ZHU_BEFORE = "显昭卓名巨原论专编土遗译拙撰合彰颇"
_ZHU_AFTER = "名作称述者录书"
_ZHE = re.compile(rf"(?<![{_ZHU_BEFORE}])著(?![{_ZHU_AFTER}])")


@lru_cache(maxsize=4)
def _opencc(config: str = OPENCC_CONFIG):
    import opencc

    return opencc.OpenCC(config)


@lru_cache(maxsize=1)
def _protected() -> tuple[tuple[str, str], ...]:
    """(what t2s makes of a protected word, the word) for rules/lexicons/t2s_protect.txt."""
    from . import rules_dir

    path = rules_dir() / "lexicons" / "t2s_protect.txt"
    words = [w.strip() for w in path.read_text(encoding="utf-8").splitlines()
             if w.strip() and not w.startswith("#")] if path.exists() else []
    conv = _opencc()
    return tuple((conv.convert(w), w) for w in words if conv.convert(w) != w)


def _restore_protected(text: str, out: str) -> str:
    """Put back protected words (place names such as 乾县) that t2s turned into something else, where the
    input had the protected characters (simplified or traditional) at the same place."""
    for wrong, word in _protected():
        i = out.find(wrong)
        while i >= 0:
            src = text[i:i + len(word)]
            if all(s == w for s, w, x in zip(src, word, wrong) if w != x):
                out = out[:i] + word + out[i + len(word):]
            i = out.find(wrong, i + 1)
    return out


def to_simplified(text: str) -> str:
    """``text`` in simplified characters (OpenCC phrase-level conversion, the 著/着 rule, and the
    protected words of rules/lexicons/t2s_protect.txt).

    >>> to_simplified("隨著經濟發展,意味著顯著增長")
    '随着经济发展,意味着显著增长'
    >>> to_simplified("陝西省乾縣,乾县,干县")
    '陕西省乾县,乾县,干县'
    """
    out = _opencc().convert(text)
    if "著" in out:
        out = _ZHE.sub("着", out)
    if len(out) == len(text) and any(wrong in out for wrong, _ in _protected()):
        out = _restore_protected(text, out)
    return out


def t2s_edits(text: str) -> list[Edit]:
    """Edits turning ``text`` simplified: one per run of changed characters.

    OpenCC keeps the length of nearly every text; where a line changes length (a phrase mapped to a
    different number of characters), that line is aligned with difflib so offsets stay exact.
    """
    out = to_simplified(text)
    if len(out) == len(text):
        return [Edit(s, e, out[s:e], "t2s") for s, e in _diff_runs(text, out)]
    return _aligned_edits(text, "t2s", to_simplified)


def _aligned_edits(text: str, stage: str, convert) -> list[Edit]:
    """Line-by-line conversion; equal-length lines diffed by position, the others aligned with difflib."""
    from difflib import SequenceMatcher

    edits: list[Edit] = []
    pos = 0
    for line in text.splitlines(keepends=True):
        new = convert(line)
        if new != line:
            if len(new) == len(line):
                edits += [Edit(pos + s, pos + e, new[s:e], stage) for s, e in _diff_runs(line, new)]
            else:
                ops = SequenceMatcher(None, line, new, autojunk=False).get_opcodes()
                edits += [Edit(pos + i1, pos + i2, new[j1:j2], stage)
                          for op, i1, i2, j1, j2 in ops if op != "equal"]
        pos += len(line)
    return edits


# ------------------------------------------------------------------------------------------------ width

_WIDTH = {chr(c): chr(c - 0xFEE0) for c in range(0xFF10, 0xFF1A)}  # ０-９
_WIDTH.update({chr(c): chr(c - 0xFEE0) for c in range(0xFF21, 0xFF3B)})  # Ａ-Ｚ
_WIDTH.update({chr(c): chr(c - 0xFEE0) for c in range(0xFF41, 0xFF5B)})  # ａ-ｚ
_WIDTH["％"] = "%"
_WIDTH["．"] = "."  # only between digits, see _WIDE
#: Kangxi radicals (⽇ U+2F47), CJK radical supplements and compatibility ideographs (U+F900–U+FAFF) that
#: PDF converters emit in place of the ordinary characters they look like: mapped to those (NFKC), 1:1.
for _lo, _hi in ((0x2E80, 0x2EF3), (0x2F00, 0x2FD5), (0xF900, 0xFAD9)):
    for _cp in range(_lo, _hi + 1):
        _nf = unicodedata.normalize("NFKC", chr(_cp))
        if len(_nf) == 1 and _nf != chr(_cp):
            _WIDTH[chr(_cp)] = _nf
_WIDE = re.compile("[０-９Ａ-Ｚａ-ｚ％\u2e80-\u2ef3\u2f00-\u2fd5\uf900-\ufad9]+")
_WIDE_DOT = re.compile("(?<=[0-9０-９])．(?=[0-9０-９])")


def _halfwidth_run(m) -> str:
    return "".join(_WIDTH.get(c, c) for c in m.group())


def to_halfwidth(text: str) -> str:
    """Fullwidth digits, letters and ％ (and ． between digits) in ASCII, Kangxi radicals and
    compatibility ideographs as the ordinary characters; the length is kept.

    Chinese punctuation (，。；：！？“”（）) stays; fullwidth and other Unicode spaces are the space stage's.

    >>> to_halfwidth("ＧＤＰ增长１２．５％，达到")
    'GDP增长12.5%，达到'
    >>> to_halfwidth("⽇报⼀⼆")  # Kangxi radicals from a PDF converter
    '日报一二'
    """
    out = _WIDE.sub(_halfwidth_run, text)
    return _WIDE_DOT.sub(".", out) if "．" in out else out


def width_edits(text: str) -> list[Edit]:
    """:func:`to_halfwidth` as edits, one per run of changed characters."""
    out = to_halfwidth(text)
    return [Edit(s, e, out[s:e], "width") for s, e in _diff_runs(text, out)] if out != text else []


# ------------------------------------------------------------------------------------------------ space

#: Whitespace worth an edit: a run of two or more, or one that is neither a space nor a line break
#: (tab, U+3000, no-break and typographic spaces). Python's ``\\s`` covers all Unicode spaces.
_SPACE = re.compile(r"\s{2,}|[^\S \n]")


def space_edits(text: str) -> list[Edit]:
    """Edits collapsing space runs, removing indentation, trailing spaces and blank lines.

    Every horizontal space (tab, U+3000, no-break...) becomes an ASCII space; a run of them becomes one;
    a run containing a line break (trailing spaces, blank lines, the ideographic indentation ``　　`` of
    the next line) becomes one line break; whitespace at the start and end of the document goes.

    >>> text = "  原标题:关注  全力\\t以赴 \\n\\n\\n\\u3000\\u3000近日"
    >>> apply_edits(text, space_edits(text))[0]
    '原标题:关注 全力 以赴\\n近日'
    """
    edits = []
    n = len(text)
    for m in _SPACE.finditer(text):
        s, e = m.span()
        if s == 0 or e == n:
            after = ""
        elif "\n" in m.group():
            after = "\n"
        else:
            after = " "
        if m.group() != after:
            edits.append(Edit(s, e, after, "space"))
    if text[:1].isspace() and not (edits and edits[0].start == 0):
        edits.insert(0, Edit(0, 1, "", "space"))
    if n > 1 and text[-1].isspace() and not (edits and edits[-1].end == n):
        edits.append(Edit(n - 1, n, "", "space"))
    return edits


# ------------------------------------------------------------------------------------------------ pipeline

def normalize(data: bytes | str, *, name: str = "", is_html: bool | None = None) -> Normalized:
    """Normalize one document (bytes in any common Chinese encoding, or already-decoded text).

    ``is_html=None`` sniffs HTML from ``name`` and the content. Raises an
    :class:`~pipeline.decode.InputError` subclass for binary, empty or undecodable input.
    """
    if isinstance(data, (bytes, bytearray, memoryview)):
        raw, encoding = decode_bytes(bytes(data))
    elif isinstance(data, str):
        raw, encoding = data, "str"
    else:
        raise TypeError(f"normalize() takes bytes or str, not {type(data).__name__}")
    html = looks_like_html(raw, name) if is_html is None else bool(is_html)
    if html:
        raw = html_to_text(raw)
        if not raw:
            raise EmptyInputError("no text in this HTML page (only markup, scripts or navigation)")

    text = raw
    omap = OffsetMap()
    log: list[_Logged] = []

    def edit_stage(stage: str, edits: list[Edit]) -> None:
        nonlocal text, omap
        if edits:
            log.append(_Logged(stage, text, omap, tuple(edits)))
            text, m = apply_edits(text, edits)
            omap = omap.then(m)

    def same_length_stage(stage: str, out: str, fallback) -> None:
        """A conversion that keeps the length needs no offset map; otherwise align it."""
        nonlocal text
        if out == text:
            return
        if len(out) == len(text):
            log.append(_Logged(stage, text, omap, after=out))
            text = out
        else:
            edit_stage(stage, fallback(text))

    edit_stage("control", control_edits(text))
    edit_stage("mojibake", _repair(text, name))
    edit_stage("pinyin", pinyin_edits(text))
    same_length_stage("width", to_halfwidth(text), width_edits)  # before t2s: a Kangxi ⾨ becomes 門, then 门
    same_length_stage("t2s", to_simplified(text), t2s_edits)
    edit_stage("boilerplate", boilerplate_edits(text))
    edit_stage("space", space_edits(text))
    return Normalized(text=text, raw=raw, encoding=encoding, offsets=omap, paragraphs=split_paragraphs(text),
                      is_html=html, name=name, _log=log)


def _repair(text: str, name: str) -> list[Edit]:
    """The mojibake repair, fenced: a heuristic that fails on some input must not lose the document.

    The failure is reported as a RuntimeWarning (so tests and logs show it) and the text goes on
    unrepaired; the pinyin stage then marks any orphan annotation as a lost character.
    """
    try:
        return repair_mojibake(text)
    except Exception as e:  # noqa: BLE001 - see docstring
        import warnings

        warnings.warn(f"{name or 'document'}: mojibake repair failed ({type(e).__name__}: {e}); "
                      "text left unrepaired", RuntimeWarning, stacklevel=2)
        return []


# ------------------------------------------------------------------------------------------------ splitting

_PARA = regex.compile(r"[^\S\n]*+([^\s](?:[^\n]*[^\s])?)")


def split_paragraphs(text: str) -> list[tuple[int, int]]:
    """Spans of the paragraphs of ``text``: its non-blank lines, without surrounding whitespace.

    >>> split_paragraphs("标题\\n\\n  第一段。\\n第二段。")
    [(0, 2), (6, 10), (11, 15)]
    """
    return [m.span(1) for m in _PARA.finditer(text)]


#: Sentence ends: 。！？； and their ASCII forms (the genre's mojibake turned some to ASCII), …… and line
#: breaks. ASCII ! ? ; between two digits do not end anything; . never does (187.43).
_EVENTS = regex.compile(r"\n|[。！？；!?;]+|…+|[“‘「『（(《【]|[”’」』）)》】]")
_OPENERS = "“‘「『（(《【"
_CLOSERS = "”’」』）)》】"
#: A quotation still open after this many characters is treated as unbalanced (the mojibake eats quotes).
MAX_QUOTE = 150


def split_sentences(text: str) -> list[tuple[int, int]]:
    """Spans of the sentences of ``text``, ending after 。！？；… (with closing quotes) or at a line break.

    Does not split inside a number (187.43) or inside a quotation or bracket that closes in time:
    ``他说：“项目已开工。资金已到位。”下一步`` is one sentence up to its end.

    >>> t = "投资完成187.43亿元,增长11%。他说:“项目已开工。资金已到位。”下一步。"
    >>> [t[s:e] for s, e in split_sentences(t)]
    ['投资完成187.43亿元,增长11%。', '他说:“项目已开工。资金已到位。”下一步。']
    """
    spans: list[tuple[int, int]] = []
    start = 0
    depth = 0
    opened_at = 0
    n = len(text)

    def close(end: int) -> None:
        nonlocal start
        _push(text, start, end, spans)
        start = end

    for m in _EVENTS.finditer(text):
        tok = m.group()
        c = tok[0]
        if c == "\n":
            depth = 0
            close(m.start())
            start = m.end()
        elif c in _OPENERS:
            if depth == 0:
                opened_at = m.start()
            depth += 1
        elif c in _CLOSERS:
            depth = max(0, depth - 1)
        else:
            if c in "!?;" and _between_digits(text, m.start(), m.end()):
                continue
            if depth > 0 and m.start() - opened_at <= MAX_QUOTE:
                continue
            depth = 0
            end = m.end()
            while end < n and text[end] in _CLOSERS:
                end += 1
            close(end)
    _push(text, start, n, spans)
    return spans


def _between_digits(text: str, s: int, e: int) -> bool:
    return 0 < s and e < len(text) and text[s - 1].isdigit() and text[e].isdigit()


def _push(text: str, s: int, e: int, spans: list[tuple[int, int]]) -> None:
    while s < e and text[s].isspace():
        s += 1
    while e > s and text[e - 1].isspace():
        e -= 1
    if s < e and (not spans or spans[-1][1] <= s):
        spans.append((s, e))
