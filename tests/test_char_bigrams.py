"""`char_bigrams`: the share of the query's Chinese character pairs that are pairs of the entry's
question, answer or alternates, by substring tests (or the entry's kept set of pairs), exactly as
the sets of their pairs give it."""

from __future__ import annotations

from dataclasses import replace

from bot.matching.features import Texts, _bigram_share, bigrams

TEXTS = [
    Texts("大模型的算力够不够", "算力不够，就要想办法。gpu 也贵", ("开源模型怎么看",), frozenset()),
    Texts("ai 会取代人吗", "不会。ai是工具", ("大模 型",), frozenset()),  # a space breaks a pair
    Texts("模型", "", (), frozenset()),
    Texts("", "", (), frozenset(), ("算力够不够",)),  # near misses are not compared
]


def _by_sets(said: str, t: Texts) -> float:
    wanted = bigrams(said)
    return len(wanted & bigrams(" ".join((t.question, t.answer, *t.alternates)))) / len(wanted)


def test_the_share_is_the_sets_share_with_or_without_the_kept_sets() -> None:
    kept = [replace(t, pairs=bigrams(t.compared())) for t in TEXTS]
    for said in ("大模型的算力够不够用", "开源模型算力", "AI会取代人吗 大模型", "模型模型"):
        expected = [_by_sets(said, t) for t in TEXTS]
        assert _bigram_share(said, TEXTS) == _bigram_share(said, kept) == expected, said


def test_a_query_without_pairs_shares_nothing() -> None:
    assert _bigram_share("what about gpu? 算", TEXTS) == [0.0] * len(TEXTS)
