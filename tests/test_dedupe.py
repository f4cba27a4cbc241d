"""Paragraph and document deduplication on the real seeds (normalised with pipeline.normalize)."""
from __future__ import annotations

import random
import sqlite3

import pytest

from conftest import DEVCORPUS, needs_shared, seed_paths
from pipeline.dedupe import (MIN_EXACT_CHARS, MIN_NEAR_CHARS, DedupeIndex, find_duplicates, fold, numbers,
                             numbers_agree, shingle_hashes, signatures, similarity)
from pipeline.normalize import normalize


def paragraph_texts(doc) -> list[str]:
    """The paragraphs of a normalised document, whatever form ``.paragraphs`` takes (texts, spans, objects);
    non-empty lines of ``.text`` when the normaliser gives none."""
    paras = getattr(doc, "paragraphs", None)
    if paras is None:
        out = [line for line in doc.text.split("\n") if line.strip()]
    else:
        out = []
        for p in paras:
            if isinstance(p, str):
                out.append(p)
            elif hasattr(p, "text"):
                out.append(p.text)
            elif hasattr(p, "start"):
                out.append(doc.text[p.start:p.end])
            else:
                out.append(doc.text[p[0]:p[1]])
    return [p for p in out if p.strip()]


_CACHE: dict[str, list[str]] = {}


def seed(prefix: str) -> list[str]:
    if prefix not in _CACHE:
        path = next(p for p in seed_paths() if p.name.startswith(prefix))
        _CACHE[prefix] = paragraph_texts(normalize(path.read_bytes(), name=path.name))
    return _CACHE[prefix]


def containing(prefix: str, needle: str) -> str:
    """The first paragraph of a seed that contains ``needle``."""
    return next(p for p in seed(prefix) if needle in p)


def all_seeds() -> list[tuple[str, list[str]]]:
    return [(p.name[:3], seed(p.name[:3])) for p in seed_paths()]


def index_docs(conn, docs: list[list[str]], **kw) -> tuple[DedupeIndex, list[list[int]]]:
    """Index documents 1..n with paragraph ids numbered across them; returns the index and the ids."""
    ix = DedupeIndex(conn, **kw)
    ids, next_id = [], 1
    for d, paras in enumerate(docs, start=1):
        pids = list(range(next_id, next_id + len(paras)))
        next_id += len(paras)
        ix.assign(d, list(zip(pids, paras)))
        ids.append(pids)
    return ix, ids


def damage(text: str, rate: float, rng: random.Random) -> str:
    """Mojibake-like damage: replace, drop or insert ``rate`` of the characters."""
    chars = list(text)
    for _ in range(max(1, int(len(chars) * rate))):
        i = rng.randrange(len(chars))
        op = rng.random()
        if op < 0.5:
            chars[i] = rng.choice("?€锟斤拷")
        elif op < 0.75:
            del chars[i]
        else:
            chars.insert(i, rng.choice("?(xiàng)"))
    return "".join(chars)


# ------------------------------------------------------------------------------------------ building blocks

def test_fold_ignores_width_punctuation_and_spacing():
    assert fold("２０１７年，投资 “完成”187.43亿元。") == fold("2017年,投资\"完成\" 187.43亿元") == "2017年投资完成18743亿元"
    assert fold("对深圳乃至大湾区意味著什么") == fold("对深圳乃至大湾区意味着什么")


def test_signatures_equal_datasketch_minhash():
    datasketch = pytest.importorskip("datasketch")
    texts = [fold(p) for p in seed("000")[:4]] + ["ab", ""]
    sig = signatures(texts)
    hv, starts = shingle_hashes(texts)
    for i in range(len(texts)):
        m = datasketch.MinHash(num_perm=128, seed=1, hashfunc=lambda x: x, scheme="affine32")
        vals = [int(x) for x in hv[starts[i]:starts[i + 1]]]
        if vals:
            m.update_batch(vals)
        assert (m.hashvalues == sig[i]).all()
    # the share of agreeing values estimates the 3-shingle Jaccard of a paragraph and its damaged copy
    a = fold(containing("001", "开复工率"))
    b = fold(damage(containing("001", "开复工率"), 0.05, random.Random(0)))
    sa, sb = ({x[i:i + 3] for i in range(len(x) - 2)} for x in (a, b))
    pair = signatures([a, b])
    assert abs((pair[0] == pair[1]).mean() - len(sa & sb) / len(sa | sb)) < 0.12


def test_numbers_must_agree():
    assert numbers_agree(["2019", "95", "86"], ["2019", "95", "86", "37"])
    assert not numbers_agree(["1475"], ["714"])
    # a templated update with new figures is not a duplicate of last month's report, whatever the wording
    p = containing("001", "开复工率")
    update = p.replace("95", "97").replace("86", "91").replace("90.5", "93.8").replace("43亿元", "51亿元") \
        .replace("37.3", "44.2").replace("5月底", "6月底").replace("9月底", "10月底")
    assert similarity(fold(p), fold(update)) > 0.85
    assert find_duplicates([p, update]) == [None, None]


def _numbers_agree_plainly(a, b, share=0.5):
    """numbers_agree as first written (no shortcuts): the reference its faster form must equal."""
    from rapidfuzz.distance import Indel

    if not a or not b:
        return True
    small, big = (a, b) if len(a) <= len(b) else (b, a)
    pool = list(big)
    hit = 0
    for x in small:
        if x in pool:
            pool.remove(x)
            hit += 1
            continue
        for j, y in enumerate(pool):
            if min(len(x), len(y)) >= 2 and Indel.distance(x, y, score_cutoff=1) <= 1:
                del pool[j]
                hit += 1
                break
    return hit >= share * len(small)


def test_numbers_agree_equals_the_plain_definition():
    # the figures of real paragraphs, and random digit runs near each other (dropped/added/changed digits)
    rng = random.Random(8)
    real = [numbers(fold(p)) for p in seed("001") + seed("003")]
    real = [n for n in real if n]
    cases = [(a, b) for a in real[:40] for b in real[:40]]
    for _ in range(3000):
        base = ["".join(rng.choice("0123456789") for _ in range(rng.randint(1, 5))) for _ in range(rng.randint(0, 8))]
        other = [rng.choice([x, x[1:], x + rng.choice("0123456789"), x[:-1] + rng.choice("0123456789"),
                             "".join(rng.choice("0123456789") for _ in range(rng.randint(1, 5)))])
                 for x in base if rng.random() < 0.9]
        rng.shuffle(other)
        cases.append((base, other))
    for a, b in cases:
        for share in (0.5, 0.3, 1.0):
            assert numbers_agree(a, b, share) == _numbers_agree_plainly(a, b, share), (a, b, share)


# ------------------------------------------------------------------------------------------ the real seeds

def test_seed_001_all_five_repeated_paragraphs_found():
    paras = seed("001")
    first: dict[str, int] = {}
    expected = {}
    for i, p in enumerate(paras):
        key = p.strip()
        if key in first:
            expected[i] = first[key]
        else:
            first[key] = i
    assert len(expected) == 5  # the page repeats five paragraphs verbatim
    got = find_duplicates(paras)
    assert {i: c for i, c in enumerate(got) if c is not None} == expected


def _pian(paras: list[str], label: str) -> int:
    return next(i for i, p in enumerate(paras) if p.strip().startswith(label))


def test_seed_003_every_pian3_paragraph_matches_its_pian2_twin():
    paras = seed("003")
    two, three = _pian(paras, "篇二"), _pian(paras, "篇三")
    twins = list(zip(range(two, three), range(three, len(paras))))
    assert len(twins) == three - two == len(paras) - three  # the same report, paragraph for paragraph
    got = find_duplicates(paras)
    near = 0
    for a, b in twins:
        fa, fb = fold(paras[a]), fold(paras[b])
        if len(fb) >= MIN_NEAR_CHARS or (fa == fb and len(fb) >= MIN_EXACT_CHARS):
            assert got[b] == a, (paras[a][:30], paras[b][:30])
            near += fa != fb
        else:  # short and not identical: "篇三 扩大有效投资…" vs "篇二 合理扩大有效投资…" are left alone
            assert got[b] is None
    assert sum(got[b] == a for a, b in twins) >= len(twins) - 2
    # nothing in 篇一 and nothing in 篇二 is a duplicate
    assert all(c is None for c in got[:three])
    print(f"003: {len(twins)} twins, {near} of them damaged (near, not exact)")


def test_damaged_copies_of_real_paragraphs_are_found():
    rng = random.Random(3)
    paras = [p for _, ps in all_seeds() for p in ps if len(fold(p)) >= 60]
    paras = [p for p, c in zip(paras, find_duplicates(paras)) if c is None]  # one copy of each (001, 003 repeat)
    assert len(paras) >= 40
    for rate in (0.01, 0.03, 0.06):
        copies = [damage(p, rate, rng) for p in paras]
        got = find_duplicates(paras + copies)
        assert got[len(paras):] == list(range(len(paras))), rate


def _pairs_of(clusters: list[dict]) -> set[tuple[int, int]]:
    return {(c["canonical"], m) for c in clusters for m in c["members"][1:]}


@needs_shared
def test_no_false_clusters_within_or_across_seed_and_dev_documents():
    docs = [ps for _, ps in all_seeds()] + [paragraph_texts(normalize(p.read_bytes()))
                                           for p in sorted(DEVCORPUS.glob("*.txt"))]
    names = [n for n, _ in all_seeds()] + [f"dev{p.stem}" for p in sorted(DEVCORPUS.glob("*.txt"))]
    conn = sqlite3.connect(":memory:")
    ix, ids = index_docs(conn, docs)
    where = {pid: (d, i) for d, pids in enumerate(ids) for i, pid in enumerate(pids)}
    text = {pid: docs[d][i] for pid, (d, i) in where.items()}
    s003 = seed("003")
    two, three = _pian(s003, "篇二"), _pian(s003, "篇三")
    for canonical, member in _pairs_of(ix.clusters()):
        (dc, ic), (dm, im) = where[canonical], where[member]
        assert dc == dm, f"cross-document cluster: {text[canonical][:30]} / {text[member][:30]}"
        a, b = fold(text[canonical]), fold(text[member])
        if names[dc] == "001":
            assert a == b
        elif names[dc] == "003":
            assert two <= ic < three <= im and im - ic == three - two
        else:  # a repeated headline ("原标题：…", "收藏《…》") is a repeat; anything else is a false cluster
            assert a in b or b in a, f"{names[dc]}: {text[canonical][:40]} / {text[member][:40]}"
    assert all(ix.document_duplicate_of(d) is None for d in range(1, len(docs) + 1))


def test_short_lines_cluster_only_in_context():
    body = seed("000")[1]
    date, heading = "2017年08月11日 10:32", "二、下一步工作打算"
    conn = sqlite3.connect(":memory:")
    ix, ids = index_docs(conn, [[date, heading, body], [date, heading, seed("001")[3]],
                                [heading, "特此报告。", heading, "特此报告。"]])
    got = {pid: c for pid, c in ix.conn.execute("SELECT paragraph_id, canonical_id FROM paragraph_signatures")}
    assert got[ids[1][0]] is None and got[ids[1][1]] is None  # same date and heading, unrelated documents
    assert got[ids[2][2]] == ids[2][0]  # the heading repeated within one document
    assert got[ids[2][3]] is None  # below MIN_EXACT_CHARS: never clustered


# ------------------------------------------------------------------------------------------ documents

def repost(paras: list[str]) -> list[str]:
    """The same release on another site: another masthead, a changed first line, the ending trimmed."""
    return ["某某新闻网 2019-10-02 08:15", "来源：" + paras[0][:12] + "（转载）"] + paras[1:-3] + ["责任编辑：王某"]


def test_reposted_document_is_a_duplicate_of_the_original():
    conn = sqlite3.connect(":memory:")
    docs = [seed("002"), seed("000"), repost(seed("002")), repost(seed("000"))]
    ix, ids = index_docs(conn, docs)
    assert [ix.document_duplicate_of(d) for d in (1, 2, 3, 4)] == [None, None, 1, 2]
    # its content paragraphs (after the changed first line) point at the original's
    dup = {p: c["canonical"] for c in ix.clusters() for p in c["members"][1:] if p in ids[2]}
    content = [i for i, p in enumerate(docs[2]) if len(fold(p)) >= MIN_NEAR_CHARS and i >= 2]
    assert content and all(dup.get(ids[2][i]) in ids[0] for i in content)


@needs_shared
def test_broken_copies_of_dev_documents_are_reposts():
    clean = sorted(DEVCORPUS.glob("*.txt"))
    docs = [paragraph_texts(normalize(p.read_bytes())) for p in clean]
    docs += [paragraph_texts(normalize((DEVCORPUS / "broken" / p.name).read_bytes())) for p in clean]
    ix, _ = index_docs(sqlite3.connect(":memory:"), docs)
    n = len(clean)
    assert [ix.document_duplicate_of(n + d) for d in range(1, n + 1)] == list(range(1, n + 1))


# ------------------------------------------------------------------------------------------ incremental

def test_incremental_runs_over_one_file_equal_a_single_run(tmp_path):
    docs = [ps for _, ps in all_seeds()] + [repost(seed("002")), seed("001")[:6]]
    single, _ = index_docs(sqlite3.connect(":memory:"), docs)
    expected = single.clusters()
    expected_docs = [single.document_duplicate_of(d) for d in range(1, len(docs) + 1)]

    path = tmp_path / "dedupe.db"
    next_id = 1
    for d, paras in enumerate(docs, start=1):  # a new process per document: new connection, new index
        conn = sqlite3.connect(path)
        ix = DedupeIndex(conn)
        ix.assign(d, [(next_id + i, p) for i, p in enumerate(paras)])
        next_id += len(paras)
        conn.commit()
        conn.close()
    conn = sqlite3.connect(path)
    ix = DedupeIndex(conn)
    assert ix.clusters() == expected
    assert [ix.document_duplicate_of(d) for d in range(1, len(docs) + 1)] == expected_docs
    assert any(len(c["members"]) > 2 for c in expected)  # 002's paragraphs, its repost and 001's copy


def test_two_live_instances_see_each_others_rows(tmp_path):
    path = tmp_path / "d.db"
    a, b = sqlite3.connect(path), sqlite3.connect(path)
    ia = DedupeIndex(a)
    a.commit()  # the tables exist for everyone
    ib = DedupeIndex(b)
    paras = [containing("001", "开复工率"), containing("001", "双过半")]
    ia.assign(1, [(1, paras[0])])
    a.commit()
    assert ib.assign(2, [(2, paras[0]), (3, paras[1])]) == {2: 1, 3: None}
    b.commit()
    assert ia.assign(3, [(4, damage(paras[1], 0.02, random.Random(1)))]) == {4: 3}


def test_forget_document_elects_the_next_earliest_member():
    conn = sqlite3.connect(":memory:")
    original = seed("002")
    ix, ids = index_docs(conn, [original, repost(original), repost(original)])
    before = {m: c["canonical"] for c in ix.clusters() for m in c["members"][1:]}
    changes = ix.forget_document(1)
    assert changes, "the original held the canonical paragraphs"
    for pid, new in changes.items():
        assert pid in ids[1] + ids[2] and before[pid] in ids[0]
        assert new is None if pid in ids[1] else new in ids[1]
    after = {m: c["canonical"] for c in ix.clusters() for m in c["members"][1:]}
    assert set(after) <= set(ids[2]) and all(c in ids[1] for c in after.values())
    assert ix.document_duplicate_of(3) == 2 and ix.document_duplicate_of(2) is None
    # the forgotten document no longer matches anything, and a new copy of it joins the new canonicals;
    # the index updated in place answers exactly like one rebuilt from the file
    assert not any(p in ids[0] for c in ix.clusters() for p in c["members"])
    conn.commit()  # (a backup waits for open write transactions)
    copy = sqlite3.connect(":memory:")
    conn.backup(copy)
    new_doc = [(9000 + i, p) for i, p in enumerate(original)]
    got = ix.assign(4, new_doc)
    assert got == DedupeIndex(copy).assign(4, new_doc)
    assert {c for c in got.values() if c is not None} <= set(ids[1])
    assert ix.document_duplicate_of(4) == 2


def test_stored_parameters_are_checked():
    conn = sqlite3.connect(":memory:")
    DedupeIndex(conn)
    with pytest.raises(ValueError, match="other parameters"):
        DedupeIndex(conn, num_perm=64, bands=16)
    DedupeIndex(conn, threshold=0.9)  # the verification threshold may change; signatures stay valid
