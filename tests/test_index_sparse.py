"""The sparse search computes exactly what a pass over every passage computes, bit for bit.

`_dense_search` is the search as it was before it became sparse (every array as long as the
corpus), kept here as the oracle: for every tune, holdout and dev question, each field's
per-entry figures must be equal as float32 values, not merely close, because the fitted weights
and `persona-bot fit --check` depend on them.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pytest
import yaml

from bot.matching import Engine
from bot.matching.index import Concept, Hits, Index, contains, sorted_distinct

ROOT = Path(__file__).resolve().parents[1]
EVALS = (ROOT / "eval" / "tune.yaml", ROOT / "eval" / "holdout.yaml", Path("/work/shared/eval/dev_eval.yaml"))
F32 = npt.NDArray[np.float32]


@pytest.fixture(scope="module")
def engine() -> Engine:
    return Engine.load()


def _queries() -> list[str]:
    out: list[str] = []
    for path in EVALS:
        if path.is_file():
            out += [str(case["query"]) for case in yaml.safe_load(path.read_text(encoding="utf-8"))]
    return out


def _dense_search(index: Index, concepts: Sequence[Concept]) -> dict[str, object]:
    """The former Index.search: dense arrays over all passages and entries (the oracle)."""
    p_bm25, p_cover, p_count, p_topical, p_specific = np.zeros((5, index.passages), dtype=np.float32)
    e_cover = np.zeros(index.size, dtype=np.float32)
    e_specific = np.zeros(index.size, dtype=np.float32)
    matched = []
    total = total_specific = 0.0
    touched = np.zeros(index.passages, dtype=bool)
    parent = index._parent
    for concept in concepts:
        weight = index.concept_weight(concept)
        specificity = index.tokenizer.specificity(concept.text)
        total += weight
        total_specific += weight * specificity
        ids, weights, credit = index._postings(concept, weight)
        p_bm25[ids] += weights
        p_cover[ids] += credit
        p_specific[ids] += credit * np.float32(specificity)
        p_count[ids] += 1
        if not concept.entity:
            p_topical[ids] += 1
        keys = parent[ids]
        starts = np.flatnonzero(np.concatenate(([True], keys[1:] != keys[:-1]))) if len(keys) else keys
        entries = keys[starts]
        if len(entries):
            best_credit = np.maximum.reduceat(credit, starts)
            e_cover[entries] += best_credit
            e_specific[entries] += best_credit * np.float32(specificity)
        matched.append(entries)
        touched[ids] = True
    out = {name: np.zeros(index.size, dtype=np.float32) for name in ("bm25", "cover", "count", "topical", "specific")}
    best_passage = np.full(index.size, -1, dtype=np.int32)
    hit = np.flatnonzero(touched)
    if len(hit):
        keys = parent[hit]
        starts = np.flatnonzero(np.concatenate(([True], keys[1:] != keys[:-1])))
        entries = keys[starts]
        best = np.maximum.reduceat(np.stack((p_bm25[hit], p_cover[hit], p_count[hit], p_topical[hit],
                                             p_specific[hit])), starts, axis=1)
        for name, row in zip(("bm25", "cover", "count", "topical", "specific"), best, strict=True):
            out[name][entries] = row
        order = np.lexsort((-p_cover[hit], parent[hit]))
        best_passage[entries] = hit[order][starts]
    if total:
        out["cover"] /= np.float32(total)
        e_cover /= np.float32(total)
    if total_specific:
        out["specific"] /= np.float32(total_specific)
        e_specific /= np.float32(total_specific)
    return {**out, "e_cover": e_cover, "e_specific": e_specific, "matched": matched, "best_passage": best_passage}


def _expand(hits: Hits, values: F32, size: int) -> F32:
    return hits.take(values, np.arange(size, dtype=np.int32))


def test_sparse_search_equals_the_dense_pass_bit_for_bit(engine: Engine) -> None:
    queries = _queries()
    assert len(queries) > 300
    checked = 0
    for query in queries:
        concepts = engine.analyzer.analyse(query).concepts
        for index in (engine.index, engine.alternates, engine.context):
            hits, dense = index.search(concepts), _dense_search(index, concepts)
            everything = np.arange(index.size, dtype=np.int32)
            for mine, theirs in ((hits.bm25, "bm25"), (hits.passage_coverage, "cover"),
                                 (hits.passage_concepts, "count"), (hits.passage_topical, "topical"),
                                 (hits.specific_coverage, "specific"), (hits.entry_coverage, "e_cover"),
                                 (hits.entry_specific_coverage, "e_specific")):
                expected = dense[theirs]
                assert isinstance(expected, np.ndarray)
                got = _expand(hits, mine, index.size)
                assert got.dtype == expected.dtype and got.tobytes() == expected.tobytes(), (query, theirs)
            assert np.array_equal(hits.take(hits.best_passage, everything, missing=-1), dense["best_passage"])
            matched = dense["matched"]
            assert isinstance(matched, list)
            assert [m.tolist() for m in hits.matched] == [m.tolist() for m in matched]
            # Entries outside `entries` scored nothing at all in the dense pass.
            outside = np.setdiff1d(everything, hits.entries)
            assert not dense["bm25"][outside].any() and not dense["e_cover"][outside].any()  # type: ignore[index]
            checked += 1
    assert checked == 3 * len(queries)


def test_an_entry_no_term_touched_reads_as_zero_and_no_passage(engine: Engine) -> None:
    concepts = engine.analyzer.analyse("算力").concepts
    hits = engine.index.search(concepts)
    untouched = int(np.setdiff1d(np.arange(engine.index.size), hits.entries)[0])
    assert hits.take(hits.bm25, np.array([untouched], dtype=np.int32))[0] == 0
    assert hits.passage_of(untouched) == -1
    assert hits.passage_of(int(hits.entries[0])) >= 0
    assert not any(hits.has(j, untouched) for j in range(len(concepts)))


def test_a_query_with_no_known_word_touches_nothing(engine: Engine) -> None:
    hits = engine.index.search([Concept("zzqqxx", ())])
    assert len(hits.entries) == 0 and len(hits.bm25) == 0
    assert hits.take(hits.bm25, np.array([0, 1], dtype=np.int32)).tolist() == [0, 0]
    assert hits.passage_of(0) == -1


def test_sorted_helpers() -> None:
    keys = np.array([2, 5, 9], dtype=np.int32)
    assert contains(keys, np.array([9, 1, 5, 10, 2], dtype=np.int32)).tolist() == [True, False, True, False, True]
    assert contains(keys[:0], np.array([1], dtype=np.int32)).tolist() == [False]
    assert sorted_distinct(np.array([1, 1, 2, 7, 7, 7], dtype=np.int32)).tolist() == [1, 2, 7]
    assert sorted_distinct(keys[:0]).tolist() == []


def test_figures_for_the_candidates_alone_equal_the_dense_pass(engine: Engine) -> None:
    """`Hits.focus` computes coverage over the candidates' passages only: same bits as everyone's."""
    rng = np.random.default_rng(0)
    for query in _queries()[::3]:
        concepts = engine.analyzer.analyse(query).concepts
        for index in (engine.index, engine.alternates, engine.context):
            hits, dense = index.search(concepts), _dense_search(index, concepts)
            wanted = np.unique(np.concatenate((hits.entries[:30], rng.integers(0, index.size, 5)))).astype(np.int32)
            focused = hits.focus(wanted)
            for mine, theirs in ((focused.bm25, "bm25"), (focused.passage_coverage, "cover"),
                                 (focused.passage_concepts, "count"), (focused.passage_topical, "topical"),
                                 (focused.specific_coverage, "specific"), (focused.entry_coverage, "e_cover"),
                                 (focused.entry_specific_coverage, "e_specific")):
                expected = dense[theirs]
                assert isinstance(expected, np.ndarray)
                assert focused.take(mine, wanted).tobytes() == expected[wanted].tobytes(), (query, theirs)
            assert np.array_equal(focused.take(focused.best_passage, wanted, missing=-1), dense["best_passage"][wanted])  # type: ignore[index]
            assert [m.tolist() for m in focused.matched] == [m.tolist() for m in hits.matched]
