"""English words are indexed and looked up by their stem, after the stopword check."""

from __future__ import annotations

import pytest

from bot.english import term
from bot.matching import Engine


@pytest.mark.parametrize(("a", "b"), [("makes", "making"), ("worried", "worry"), ("models", "model"),
                                      ("wrapped", "wrap")])
def test_inflections_share_one_term(a: str, b: str) -> None:
    assert term(a) == term(b)


@pytest.mark.parametrize("token", ["大模型", "gpt-4", "a100", "2023"])
def test_chinese_numbers_and_mixed_tokens_stay_as_they_are(token: str) -> None:
    assert term(token) == token


def test_a_query_word_finds_the_index_word_in_another_form() -> None:
    """`worried` in a question and `worry` in an alternate are one term; `does` is a stopword as
    written and never reaches the stemmer (it would become `doe`)."""
    engine = Engine.load()
    q = engine.analyzer.analyse("Should we be worried, does it matter?")
    terms = {f.term for c in q.concepts for f in c.forms}
    assert term("worry") in terms and term("worry") in engine.alternates
    assert "doe" not in terms and "does" not in terms
