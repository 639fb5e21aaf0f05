"""The failure patterns the fitted model addresses, on the real personas, with queries of our own
(none of them is an eval case): generic words outweighing the domain term, a claim asked as a
yes/no question, and the rank and the gate disagreeing."""

from __future__ import annotations

import numpy as np
import pytest

from bot.matching import Engine
from bot.text import fold


@pytest.fixture(scope="module")
def engine() -> Engine:
    return Engine.load()


def _top(engine: Engine, query: str) -> tuple[str, str]:
    answer = engine.answer(query)
    assert answer.matches, f"no answer for {query!r}"
    return answer.matches[0].persona.display_name, fold(answer.matches[0].entry.answer)


def test_a_common_word_does_not_outweigh_the_domain_term(engine: Engine) -> None:
    # 不够/用/还能 are everyday words; 显卡 (a user's word for 算力) is what is asked about.
    _, quote = _top(engine, "显卡不够用的话还能搞大模型吗")
    assert "算力" in quote


def test_words_weigh_by_how_much_they_say_in_everyday_chinese(engine: Engine) -> None:
    tok = engine.tokenizer
    assert tok.specificity("算力") > tok.specificity("芯片") > tok.specificity("用")
    assert tok.specificity("怎么办") < 1.0 and tok.specificity("觉得") < tok.specificity("监管")


@pytest.mark.parametrize(
    ("query", "expert", "fragment"),
    [
        ("大模型参数是不是越多越好", "丁磊", "大模型或模型大只是单一评价维度"),
        ("开源模型是不是一定比闭源的差", "马超", "闭源模型无论从数据投入还是算力投入"),
    ],
)
def test_a_claim_asked_as_a_question_gets_the_expert_who_addressed_it(engine: Engine, query: str, expert: str,
                                                                      fragment: str) -> None:
    name, quote = _top(engine, query)
    assert name == expert and fold(fragment) in quote


@pytest.mark.parametrize(
    "query",
    ["显卡不够用的话还能搞大模型吗", "手里没多少算力怎么办", "周鸿祎自己怎么看大模型安全？", "AI会不会把程序员都取代了",
     "How do I fix a flat bicycle tyre?", "大模型", "沈为怎么看开源"],
)
def test_rank_and_gate_are_one_decision(engine: Engine, query: str) -> None:
    """What is quoted is exactly what passed the one threshold, best first; nothing below it. (When
    several experts' shares only together pass it, each view quoted passed it asked of that expert.)"""
    q = engine.analyzer.analyse(query)
    ranked = engine._rank(q, list(q.personas))
    answer = engine.answer(query)
    threshold = 100 * engine.model.threshold
    assert all(m.score >= threshold for m in answer.matches)
    passed = [m for m, sure in ranked if sure]
    assert all(sure == (m.score >= threshold) for m, sure in ranked)
    if answer.comparison is not None and not passed:
        assert sum(m.probability for m, _ in ranked) >= engine.model.threshold
        for side in answer.comparison.sides:
            own = [m.entry.id for m, sure in engine._rank(q, [side.persona]) if sure]
            assert [m.entry.id for m in side.matches] == own[:1]
    else:
        assert [m.entry.id for m in answer.matches] == [m.entry.id for m in passed][: len(answer.matches)]
    probabilities = [m.probability for m, _ in ranked]
    assert probabilities == sorted(probabilities, reverse=True)
    assert sum(probabilities) <= 1.0 + 1e-9  # the rest is "nobody said that"


def test_every_match_explains_itself_with_its_features(engine: Engine) -> None:
    match = engine.answer("大模型参数是不是越多越好").matches[0]
    data = match.to_json()
    assert 0 < data["probability"] <= 1 and set(data["why"]["features"]) == set(engine.model.names)
    contributions = np.array(list(data["why"]["features"].values()))
    assert np.isfinite(contributions).all() and contributions.max() > 0
