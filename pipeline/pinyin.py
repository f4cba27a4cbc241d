"""Stage 4: strip the pinyin annotations some sites glue after characters: ``網(wǎng)站`` → ``網站``.

An annotation is a parenthesised (ASCII or fullwidth) pinyin syllable right after a Han character:

* a toned syllable (``(wǎng)``, ``(lǜ)``, ``(ń)``, combining tone marks too) is always an annotation;
* a toneless one (``(men)`` after 們) only when it is a reading of that very character, so real
  content such as ``(GDP)``, ``(2019)``, ``(本网记者)``, ``(人民币,下同)`` or ``(ppp)`` is never touched.

The broken decoder of the genre (see ../shared/MOJIBAKE.md) also leaves *orphan* annotations: a lone
GBK byte shown as ``?`` swallowed the ``(``, as in ``日?qǐng)?bào)``. The mojibake repair (which runs
first and uses these as hints) fixes the ones it can; every orphan left over marks a character that is
lost for good and becomes one U+FFFD (two orphans in a row are the two bytes of one character),
so the damage stays visible instead of silently disappearing.

>>> from pipeline.offsets import apply_edits
>>> apply_edits("本網(wǎng)訊(本網(wǎng)記者)", pinyin_edits("本網(wǎng)訊(本網(wǎng)記者)"))[0]
'本網訊(本網記者)'
>>> apply_edits("甘孜日?qǐng)?bào) 2017", pinyin_edits("甘孜日?qǐng)?bào) 2017"))[0]
'甘孜日\\ufffd 2017'
>>> pinyin_edits("GDP(ppp)增长(2019)")
[]
"""
from __future__ import annotations

import unicodedata
from functools import lru_cache

import regex

from .offsets import Edit

__all__ = ["pinyin_edits", "is_syllable", "strip_tones", "ANNOTATION", "ORPHAN"]

#: Letters of pinyin written with precomposed tone marks (and ü, ê, the m/n interjections).
_TONED = "āáǎàēéěèīíǐìōóǒòūúǔùǖǘǚǜńňǹḿếềê̄ê̌"
_LETTERS = f"a-zü{_TONED}\u0300\u0301\u0304\u030c"
_SYL = f"[{_LETTERS}]{{1,7}}"

#: A candidate annotation (checked further by :func:`_is_annotation`): toned after any visible
#: character (mojibake may have put a stray letter or € before it), toneless after a Han character.
ANNOTATION = regex.compile(rf"(?<=[^\s(（])[(（]({_SYL})[)）]")
#: One or more orphan annotations: a lost byte shown as ``?`` (or U+FFFD) that swallowed the ``(``.
ORPHAN = regex.compile(rf"(?:[?\ufffd]{_SYL}\))+")
_ORPHAN_ONE = regex.compile(rf"[?\ufffd]({_SYL})\)")
#: One regex pass finds every candidate region; the clean-text path costs just this scan.
_CANDIDATE = regex.compile(rf"[?\ufffd]{_SYL}\)|(?<=[^\s(（])[(（]({_SYL})[)）]")

_TONE_MARKS = {0x0300: None, 0x0301: None, 0x0304: None, 0x030C: None}


def strip_tones(s: str) -> str:
    """Pinyin without tone marks (ü kept): ``strip_tones("lǜ") == "lü"``."""
    if s.isascii():
        return s
    decomposed = unicodedata.normalize("NFD", s).translate(_TONE_MARKS)
    return unicodedata.normalize("NFC", decomposed)


def has_tone(s: str) -> bool:
    """True when ``s`` carries a tone mark (precomposed or combining)."""
    return strip_tones(s) != s


@lru_cache(maxsize=1)
def _readings() -> dict[int, frozenset[str]]:
    """Toneless readings of every character pypinyin knows (codepoint → syllables)."""
    from pypinyin.pinyin_dict import pinyin_dict

    return {cp: frozenset(strip_tones(r) for r in value.split(",")) for cp, value in pinyin_dict.items()}


@lru_cache(maxsize=1)
def _syllable_set() -> frozenset[str]:
    """Every toneless syllable (≈ 420), from pypinyin's character table."""
    out: set[str] = set()
    for readings in _readings().values():
        out.update(readings)
    return frozenset(out)


@lru_cache(maxsize=4096)
def is_syllable(s: str) -> bool:
    """True when ``s`` (toned or not) is a Mandarin syllable: ``is_syllable("wǎng")``, not ``"ppp"``."""
    return strip_tones(s) in _syllable_set()


_HAN = regex.compile(r"\p{Han}")


@lru_cache(maxsize=65536)
def _is_annotation(char: str, syllable: str) -> bool:
    """A toned syllable always is one; a toneless one must be a reading of the Han ``char`` before it
    (們(men), not 單位(ge))."""
    if has_tone(syllable):
        return is_syllable(syllable)
    return bool(_HAN.match(char)) and syllable in _readings().get(ord(char), ())


def pinyin_edits(text: str) -> list[Edit]:
    """Edits deleting pinyin annotations and turning unrepaired orphan annotations into U+FFFD.

    Stage names: ``pinyin`` for an annotation removed, ``lost_char`` for an orphan marked as lost.
    """
    edits: list[Edit] = []
    pos = 0  # end of the last orphan run, so its later members are not matched again
    append = edits.append
    for m in _CANDIDATE.finditer(text):
        syl = m.group(1)
        if syl is not None:  # "(pinyin)" after a character
            start, end = m.span()
            if _is_annotation(text[start - 1], syl):
                append(Edit(start, end, "", "pinyin"))
        elif m.start() >= pos:
            edit = _orphan_edit(text, m.start())
            if edit is not None:
                edits.append(edit)
                pos = edit.end
    return edits


def _orphan_edit(text: str, start: int) -> Edit | None:
    """One U+FFFD per lost character for the orphan run at ``start`` (None if it is not pinyin)."""
    ends = []
    for m in _ORPHAN_ONE.finditer(ORPHAN.match(text, start).group()):
        if not is_syllable(m.group(1)):
            break
        ends.append(m.end())
    if not ends:
        return None
    # two orphans in a row hold the lead and the trail byte of one character
    return Edit(start, start + ends[-1], "\ufffd" * ((len(ends) + 1) // 2), "lost_char",
                "unrepaired mojibake: the character is lost")
