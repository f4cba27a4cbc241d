"""A small character bigram language model for scoring repair candidates of damaged Chinese text.

The model is built from jieba's bundled word list (``jieba/dict.txt``: word, frequency, tag): every word
is converted to Taiwan-style traditional characters with OpenCC (the form in which the damaged pages were
stored), and each word contributes its frequency to the unigram count of each of its characters and to
the bigram count of each adjacent pair inside it. Pairs across word boundaries are unseen, so the bigram
estimate is interpolated with the unigram one.

At run time a :class:`DocCache` built from the *clean* parts of the document being repaired is mixed in:
the same phrase is often intact elsewhere in the same report (四督四保, 項目包保聯繫...). The cache keeps
character trigrams too, so a two-character history seen in the document (督四 → 保) outweighs what a
bigram can tell (四 → 保 or 四 → 。).

Build the data file (reproducible, a few seconds)::

    python -m pipeline.charlm build

>>> lm = load()
>>> lm.logp("項", "目") > lm.logp("項", "粋")
True
"""
from __future__ import annotations

import gzip
import math
import sys
from collections import Counter
from functools import lru_cache
from pathlib import Path

DATA = Path(__file__).resolve().parent / "data" / "charlm_tw.tsv.gz"

# Punctuation is absent from the word list; these fixed probabilities of *following any character* keep
# punctuation neither free nor forbidden when candidates restore a fullwidth mark inside a garbled run.
PUNCT_P = {"，": 0.05, "。": 0.03, "、": 0.02, "；": 0.004, "：": 0.006, "“": 0.008, "”": 0.008,
           "！": 0.001, "？": 0.001, "（": 0.003, "）": 0.003, "《": 0.003, "》": 0.003,
           ",": 0.05, ";": 0.004, ":": 0.006, "!": 0.001, "?": 0.001, "(": 0.003, ")": 0.003,
           "%": 0.01, ".": 0.01, "\ufffd": 1e-4}
DIGIT_P = 0.02          # any ASCII digit (numbers are everywhere in reports)
ASCII_P = 0.0005        # any other ASCII character
LAMBDA = 0.6            # weight of the in-word bigram estimate against the unigram one
CACHE_W = 0.35          # weight of the document cache model where it has seen the previous character
CACHE_W3 = 0.6          # ... where it has seen the previous two characters (its trigram estimate is used)
TEXT_WEIGHT = 300       # weight of one character occurrence in running clean text (jieba counts are corpus counts)
ROOT = Path(__file__).resolve().parents[1]
# Undamaged simplified reports shipped with the project (never the devcorpus evaluation set).
CLEAN_TEXTS = sorted((ROOT / "corpus").glob("00[12]_*.txt"))
MIN_BIGRAM = 3          # bigrams rarer than this (in frequency-weighted counts) are not stored
MEMO_MAX = 1 << 20      # memoized log probabilities kept without a document cache (then started afresh)


def build(dict_path: str | Path | None = None, out: Path = DATA, clean_texts=None) -> Path:
    """Build the traditional-character unigram/bigram counts from jieba's dict.txt into ``out``.

    ``clean_texts`` (default: the undamaged simplified documents in corpus/, see CLEAN_TEXTS) add running
    text, converted to traditional, with a fixed weight per occurrence."""
    if clean_texts is None:
        clean_texts = [p for p in CLEAN_TEXTS if p.exists()]
    import opencc

    if dict_path is None:
        import jieba
        dict_path = Path(jieba.__file__).parent / "dict.txt"
    words, freqs = [], []
    with open(dict_path, encoding="utf-8") as fh:
        for line in fh:
            parts = line.split()
            if len(parts) >= 2 and parts[1].isdigit():
                words.append(parts[0])
                freqs.append(int(parts[1]))
    s2t = opencc.OpenCC("s2tw")
    trad = s2t.convert("\n".join(words)).split("\n")
    uni: Counter[str] = Counter()
    bi: Counter[str] = Counter()
    for w, f in zip(trad, freqs):
        w = "".join(c for c in w if "\u4e00" <= c <= "\u9fff")
        for i, c in enumerate(w):
            uni[c] += f
            if i:
                bi[w[i - 1:i + 1]] += f
    # Running text adds what a word list lacks: punctuation in context and pairs across words.
    for path in clean_texts or []:
        text = s2t.convert(Path(path).read_text(encoding="utf-8"))
        text = "".join(chr(ord(c) + 0xFEE0) if c in ",;:!?()" else c for c in text)
        for line in text.splitlines():
            line = "".join(line.split())
            for i, c in enumerate(line):
                uni[c] += TEXT_WEIGHT
                if i:
                    bi[line[i - 1:i + 1]] += TEXT_WEIGHT
    out.parent.mkdir(parents=True, exist_ok=True)
    with gzip.open(out, "wt", encoding="utf-8", compresslevel=9) as fh:
        fh.write("# char unigram/bigram counts, traditional (s2tw) jieba dict.txt; built by pipeline.charlm.build\n")
        for k, v in sorted(uni.items()):
            fh.write(f"{k}\t{v}\n")
        for k, v in sorted(bi.items()):
            if v >= MIN_BIGRAM:
                fh.write(f"{k}\t{v}\n")
    return out


class DocCache:
    """Character unigram/bigram/trigram counts of one document's clean text (the cache model).

    Its counts are read-only once built: :meth:`CharLM.logp` memoizes log probabilities per cache
    (``memo``; the repair of one page asks for the same few thousand pairs hundreds of thousands of times).
    """

    __slots__ = ("uni", "bi", "left", "tri", "n", "memo", "pairs", "memo_lm")

    def __init__(self, text: str = ""):
        self.uni: Counter[str] = Counter(text)
        self.bi: Counter[str] = Counter(text[i:i + 2] for i in range(len(text) - 1))
        self.left: Counter[str] = Counter(self.uni)          # = Counter(text[:-1])
        if text:
            if self.left[text[-1]] > 1:
                self.left[text[-1]] -= 1
            else:
                del self.left[text[-1]]
        self.tri: Counter[str] = Counter(text[i:i + 3] for i in range(len(text) - 2))
        self.n = len(text)
        self.memo: dict[tuple[str, str], float] = {}
        self.pairs: dict[str, tuple[float | None, float]] = {}   # CharLM.p's per-pair parts
        self.memo_lm: CharLM | None = None     # the model whose numbers ``memo`` and ``pairs`` hold


class CharLM:
    """Interpolated character bigram model (log probabilities in nats)."""

    def __init__(self, uni: dict[str, int], bi: dict[str, int]):
        self.uni = uni
        self.bi = bi
        self.total = sum(uni.values())
        self.vocab = 30000
        left: dict[str, int] = {}
        get = left.get
        for k, v in bi.items():
            a = k[0]
            left[a] = get(a, 0) + v
        self.left = left
        self._floor = math.log(0.5 / (self.total + 0.5 * self.vocab))
        self._memo: dict[tuple[str, str], float] = {}     # log P(b | h) without a document cache
        self._base: dict[str, float] = {}                 # P(b | a) of the model alone, by a + b
        self._log_uni: dict[str, float] = {}
        self._lp2: dict[str, float] = {}                  # log P(b | a) without a document cache, by a + b
        self._pu: dict[str, float] = {}                    # p_uni by character

    def p_uni(self, c: str) -> float:
        """Unigram probability; punctuation, digits and ASCII get fixed shares."""
        if c in PUNCT_P:
            return PUNCT_P[c]
        n = self.uni.get(c)
        if n:
            return (n + 0.5) / (self.total + 0.5 * self.vocab)
        if c.isascii():
            return DIGIT_P if c.isdigit() else ASCII_P
        return (self.uni.get(c, 0) + 0.5) / (self.total + 0.5 * self.vocab)

    def p(self, h: str, b: str, cache: DocCache | None = None) -> float:
        """P(b | h), exactly as :meth:`p_reference` defines it (see :meth:`_p_many`)."""
        return self._p_many((h,), (b,), cache)[0]

    def _p_many(self, hs, bs, cache: DocCache | None) -> list[float]:
        """[P(b | h) for h, b in zip(hs, bs)], exactly as :meth:`p_reference` (the same operations in the
        same order, so the same floats), from memoized parts: the model's bigram/unigram mix per pair
        (a, b) and the cache's bigram mix per pair; only the cache's trigram term needs the whole history.
        One loop with everything bound locally: this is the repair's innermost loop."""
        base_memo = self._base
        if len(base_memo) > MEMO_MAX:
            base_memo.clear()
        left_get, bi_get, p_uni, pu_memo = self.left.get, self.bi.get, self.p_uni, self._pu
        use_cache = cache is not None and cache.n
        if use_cache:
            if cache.memo_lm is not self:
                cache.memo.clear()
                cache.pairs.clear()
                cache.memo_lm = self
            pairs, n = cache.pairs, cache.n
            c_left, c_uni, c_bi, c_tri = cache.left.get, cache.uni.get, cache.bi.get, cache.tri.get
        out = []
        for h, b in zip(hs, bs):
            a = h[-1:]
            if not a:
                out.append(self.p_reference(h, b, cache))
                continue
            ab = a + b
            base = base_memo.get(ab)
            if base is None:
                pu = pu_memo.get(b)
                if pu is None:
                    pu = pu_memo[b] = p_uni(b)
                la = left_get(a, 0)
                base = base_memo[ab] = LAMBDA * bi_get(ab, 0) / la + (1 - LAMBDA) * pu if la else pu
            if not use_cache:
                out.append(base)
                continue
            e = pairs.get(ab)
            if e is None:
                lc = c_left(a, 0)
                pc_uni = c_uni(b, 0) / n
                if lc:
                    pc = 0.7 * c_bi(ab, 0) / lc + 0.3 * pc_uni
                    e = (pc, (1 - CACHE_W) * base + CACHE_W * pc)
                else:
                    e = (None, (1 - CACHE_W / 3) * base + (CACHE_W / 3) * pc_uni)
                pairs[ab] = e
            pc = e[0]
            if pc is not None and len(h) == 2:
                l3 = c_bi(h, 0)
                if l3:
                    pc = 0.5 * c_tri(h + b, 0) / l3 + 0.5 * pc
                    out.append((1 - CACHE_W3) * base + CACHE_W3 * pc)
                    continue
            out.append(e[1])
        return out

    def p_reference(self, h: str, b: str, cache: DocCache | None = None) -> float:
        """P(b | h) for a history ``h`` of one or two characters, interpolating in-word bigrams, unigrams
        and the optional document cache (whose trigrams count where it has seen both characters of h).

        The definition, written plainly; :meth:`p` computes the same numbers from memoized parts."""
        a = h[-1:]
        pu = self.p_uni(b)
        la = self.left.get(a, 0)
        if la:
            p = LAMBDA * self.bi.get(a + b, 0) / la + (1 - LAMBDA) * pu
        else:
            p = pu
        if cache is not None and cache.n:
            lc = cache.left.get(a, 0)
            pc_uni = cache.uni.get(b, 0) / cache.n
            if lc:
                pc = 0.7 * cache.bi.get(a + b, 0) / lc + 0.3 * pc_uni
                l3 = cache.bi.get(h, 0) if len(h) == 2 else 0
                if l3:
                    pc = 0.5 * cache.tri.get(h + b, 0) / l3 + 0.5 * pc
                    p = (1 - CACHE_W3) * p + CACHE_W3 * pc
                else:
                    p = (1 - CACHE_W) * p + CACHE_W * pc
            else:
                p = (1 - CACHE_W / 3) * p + (CACHE_W / 3) * pc_uni
        return p

    def _memo_for(self, cache: DocCache | None) -> dict[tuple[str, str], float]:
        """Where log P(b | h) is memoized: on the document cache (reset when another model uses it),
        or on the model when there is none (bounded)."""
        if cache is None:
            if len(self._memo) > MEMO_MAX:
                self._memo.clear()
            return self._memo
        if cache.memo_lm is not self:
            cache.memo.clear()
            cache.pairs.clear()
            cache.memo_lm = self
        return cache.memo

    def logp(self, a: str, b: str, cache: DocCache | None = None) -> float:
        """log P(b | a), memoized (per document cache, or on the model when there is none)."""
        memo = self._memo_for(cache)
        key = (a, b)
        v = memo.get(key)
        if v is None:
            v = memo[key] = math.log(self.p(a, b, cache))
        return v

    def logps(self, hs, bs, cache: DocCache | None = None) -> list[float]:
        """[log P(b | h) for h, b in zip(hs, bs)]: :meth:`logp` for many pairs in one call."""
        memo = self._memo_for(cache)
        keys = list(zip(hs, bs))
        out = list(map(memo.get, keys))
        if None in out:
            todo = list(dict.fromkeys(k for k, v in zip(keys, out) if v is None))
            log = math.log
            for k, p in zip(todo, self._p_many([k[0] for k in todo], [k[1] for k in todo], cache)):
                memo[k] = log(p)
            out = list(map(memo.__getitem__, keys))
        return out

    def logps_once(self, hs, bs, cache: DocCache | None = None) -> list[float]:
        """[log P(b | h) for h, b in zip(hs, bs)], the same floats as :meth:`logps`, computed without
        its memo: for pairs that seldom recur (a repair's candidate characters), keying and storing
        each one costs more than it saves."""
        log = math.log
        return [log(p) for p in self._p_many(hs, bs, cache)]

    def log_uni(self, c: str) -> float:
        """log of :meth:`p_uni`, memoized."""
        v = self._log_uni.get(c)
        if v is None:
            v = self._log_uni[c] = math.log(self.p_uni(c))
        return v

    def score(self, text: str, left: str = "", cache: DocCache | None = None) -> float:
        """Log probability of ``text`` following the context ``left`` (its last two characters; may be empty).

        The sum of :meth:`logp` over the characters, in order (the same floats), read from the memo
        directly; without a document cache P(b | h) depends on the last character of h only, so the
        terms are memoized by that pair (``_lp2``)."""
        prev = left[-2:] if left else ""
        s = 0.0
        if not text:
            return s
        if not prev:
            c = text[0]
            s += self.log_uni(c)
            prev = c
            text = text[1:]
        if cache is None:
            lp2 = self._lp2
            if len(lp2) > MEMO_MAX:
                lp2.clear()
            get = lp2.get
            a = prev[-1]
            for c in text:
                ab = a + c
                v = get(ab)
                if v is None:
                    v = lp2[ab] = math.log(self.p(a, c))
                s += v
                a = c
            return s
        return self.score_more(text, prev, s, cache)[0]

    def score_more(self, text: str, prev: str, s: float, cache: DocCache | None = None) -> tuple[float, str]:
        """Go on with a :meth:`score`: ``s`` plus the log probabilities of ``text`` after the history
        ``prev`` (up to two characters), added one by one as :meth:`score` adds them, and the history after
        it. ``score(a + b, left)`` is ``score_more(b, *score_more(a, left[-2:], 0.0))`` to the last bit."""
        if not text:
            return s, prev
        if not prev:
            c = text[0]
            s += self.log_uni(c)
            prev = c
            text = text[1:]
        memo = self._memo_for(cache)
        get = memo.get
        for c in text:
            key = (prev, c)
            v = get(key)
            if v is None:
                v = memo[key] = math.log(self.p(prev, c, cache))
            s += v
            prev = prev[-1] + c
        return s, prev

    def score_many(self, texts) -> list[float]:
        """[self.score(t) for t in texts] (no context, no document cache) in one call: the repair scores
        every clause of a document this way."""
        lp2 = self._lp2
        if len(lp2) > MEMO_MAX:
            lp2.clear()
        get, log_uni, log, p = lp2.get, self.log_uni, math.log, self.p
        out = []
        for text in texts:
            s = 0.0
            if text:
                a = text[0]
                s += log_uni(a)
                for c in text[1:]:
                    ab = a + c
                    v = get(ab)
                    if v is None:
                        v = lp2[ab] = log(p(a, c))
                    s += v
                    a = c
            out.append(s)
        return out

    def is_common(self, c: str, threshold: float = 2e-6) -> bool:
        return self.p_uni(c) >= threshold


@lru_cache(maxsize=1)
def load(path: Path = DATA) -> CharLM:
    """The model, loaded once per process (build it with ``python -m pipeline.charlm build``)."""
    if not path.exists():
        raise FileNotFoundError(f"{path} is missing: run `python -m pipeline.charlm build`")
    uni, bi = _parse(gzip.decompress(path.read_bytes()).decode("utf-8"))
    return CharLM(uni, bi)


def _parse(data: str) -> tuple[dict[str, int], dict[str, int]]:
    r"""Unigram and bigram counts from the TSV text (``#`` comment lines, then ``key<TAB>count`` lines).

    Split in one go rather than line by line (the file has ~285k lines; this is ~5x faster).

    >>> _parse("# c\n項\t5\n項目\t3\n")
    ({'項': 5}, {'項目': 3})
    """
    while data.startswith("#"):
        data = data.partition("\n")[2]
    if "\n#" in data:                   # comment lines further down: drop them one by one
        data = "\n".join(ln for ln in data.split("\n") if not ln.startswith("#"))
    fields = data.rstrip("\n").replace("\n", "\t").split("\t") if data.strip() else []
    keys, counts = fields[0::2], list(map(int, fields[1::2]))
    if len(keys) != len(counts):
        raise ValueError("malformed character LM data: every line must be key<TAB>count")
    # build() writes the unigrams first: split there, checking that the order holds
    n = next((i for i, k in enumerate(keys) if len(k) != 1), len(keys))
    if any(len(k) == 1 for k in keys[n:]):
        uni = {k: v for k, v in zip(keys, counts) if len(k) == 1}
        bi = {k: v for k, v in zip(keys, counts) if len(k) != 1}
        return uni, bi
    return dict(zip(keys[:n], counts[:n])), dict(zip(keys[n:], counts[n:]))


if __name__ == "__main__":
    if sys.argv[1:2] == ["build"]:
        p = build()
        print(f"wrote {p} ({p.stat().st_size / 1e6:.2f} MB)")
    else:
        print("usage: python -m pipeline.charlm build")
        sys.exit(2)
