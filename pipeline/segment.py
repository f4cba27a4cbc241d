"""Word segmentation and part-of-speech tagging behind one small interface.

The back-end is a configuration value, as in spaCy's Chinese tokenizer: ``jieba`` (the default;
served by the Rust port ``rjieba`` where it offers the function, else by pure-Python ``jieba``)
or ``pkuseg`` (optional, imported only when asked for; only the ``default`` model that ships in
its package is used — pkuseg's other models and its POS tagger are downloads, which gongbao never
makes at run time, so pkuseg words are tagged with jieba's dictionary tags). Pick it per call with ``backend=`` or for
the whole process with the ``GONGBAO_SEGMENTER`` environment variable. Dictionaries and models
are loaded once per process.

>>> cut("温江区罗欣药业医药健康产业园")[:2]
['温江区', '罗欣']
>>> posseg("加快推进")[0]
('加快', 'v')
"""
from __future__ import annotations

import os
import re
from functools import lru_cache

BACKENDS = ("jieba", "pkuseg")
_SURROGATE = re.compile("[\ud800-\udfff]")
ENV_VAR = "GONGBAO_SEGMENTER"

__all__ = ["BACKENDS", "ENV_VAR", "backend_name", "cut", "posseg", "cut_for_search"]


def backend_name(backend: str | None = None) -> str:
    """The back-end to use: ``backend`` if given, else ``$GONGBAO_SEGMENTER``, else ``jieba``."""
    return _checked_name(backend or os.environ.get(ENV_VAR) or "jieba")


@lru_cache(maxsize=16)
def _checked_name(raw: str) -> str:
    name = raw.strip().lower()
    if name not in BACKENDS:
        raise ValueError(f"unknown segmenter {name!r}; choose one of {BACKENDS} "
                         f"(argument `backend` or ${ENV_VAR})")
    return name


@lru_cache(maxsize=1)
def _rjieba():
    """The Rust jieba port, or None when it is not installed."""
    try:
        import rjieba
    except ImportError:  # pragma: no cover - rjieba is a declared dependency
        return None
    return rjieba


@lru_cache(maxsize=1)
def _jieba():
    import logging

    import jieba
    import jieba.posseg

    jieba.setLogLevel(logging.WARNING)
    jieba.initialize()
    return jieba


@lru_cache(maxsize=1)
def _pkuseg():
    """pkuseg with its bundled ``default`` model (never ``postag=True`` or a named model: those download)."""
    try:
        import pkuseg
    except ImportError as e:
        raise ImportError("the pkuseg segmenter is not installed: `pip install pkuseg` "
                          "(it builds with numpy and cython), or use the default jieba back-end") from e
    return pkuseg.pkuseg(model_name="default", postag=False)


def _jieba_tag(word: str) -> str:
    """jieba's tag for one word cut by another segmenter: its own tag when jieba keeps it whole, else the
    tag of its last jieba word (the head of a Chinese compound is on the right)."""
    tagged = posseg(word, backend="jieba")
    return tagged[-1][1] if tagged else "x"


def cut(text: str, *, backend: str | None = None) -> list[str]:
    """Words of ``text`` (precise mode, HMM for unknown words); ``"".join(cut(t)) == t``."""
    name = backend_name(backend)
    if name == "pkuseg":
        return list(_pkuseg().cut(text)) if text else []
    rj = _rjieba()
    if rj is not None:
        try:
            return rj.cut(text, True)
        except UnicodeEncodeError:  # lone surrogates: same-length stand-ins keep offsets valid
            return rj.cut(_SURROGATE.sub("\ufffd", text), True)
    return list(_jieba().cut(text, HMM=True))


def posseg(text: str, *, backend: str | None = None) -> list[tuple[str, str]]:
    """``(word, tag)`` pairs with jieba's (ICTCLAS-style) tags: ``v`` verb, ``n`` noun, ``ns`` place …"""
    name = backend_name(backend)
    if name == "pkuseg":
        return [(w, _jieba_tag(w)) for w in cut(text, backend="pkuseg")]
    rj = _rjieba()
    if rj is not None:
        try:
            return rj.tag(text, True)
        except UnicodeEncodeError:
            return rj.tag(_SURROGATE.sub("\ufffd", text), True)
    return [(p.word, p.flag) for p in _jieba().posseg.cut(text, HMM=True)]


def cut_for_search(text: str, *, backend: str | None = None) -> list[str]:
    """Words of ``text`` plus the shorter words inside long ones (search-engine mode).

    pkuseg has no search mode; there the long words are followed by their jieba sub-words.
    """
    name = backend_name(backend)
    if name == "pkuseg":
        out = []
        for w in cut(text, backend="pkuseg"):
            out += [s for s in cut_for_search(w, backend="jieba") if s != w] + [w] if len(w) > 2 else [w]
        return out
    rj = _rjieba()
    if rj is not None:
        try:
            return rj.cut_for_search(text, True)
        except UnicodeEncodeError:
            return rj.cut_for_search(_SURROGATE.sub("\ufffd", text), True)
    return list(_jieba().cut_for_search(text, HMM=True))
