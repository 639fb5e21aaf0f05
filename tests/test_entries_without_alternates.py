"""An entry nobody has written alternate questions for (a source added today) is matched on what
it has: its alternates' measures are unknown, and the model reads unknown as average, so the
weight the fitted model gives to alternates neither helps nor sinks it."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from bot.matching import Engine
from bot.matching.features import NAMES


@pytest.fixture(scope="module")
def engine(tiny_personas_dir: Path) -> Engine:
    return Engine.load(tiny_personas_dir)  # three small persona files, no alternates


def test_alternates_measures_are_unknown_not_zero(engine: Engine) -> None:
    q = engine.analyzer.analyse("开源怎么看")
    scored = engine.scored(q, [engine.resolve("丁磊")])
    for name in ("alternates_bm25", "alternates_coverage", "alternate_similarity", "alternate_similarity_lead"):
        assert np.isnan(scored.features[:, NAMES.index(name)]).all()
    why = engine.model.contributions(scored.features[0])
    assert why["alternate_similarity"] == 0 and why["alternates_bm25"] == 0


@pytest.mark.parametrize(("query", "expert"), [("开源怎么看", "丁磊"), ("人工智能需要监管吗", None)])
def test_a_corpus_without_alternates_is_still_answered(engine: Engine, query: str, expert: str | None) -> None:
    answer = engine.answer(query, persona=expert)
    assert answer.matches and answer.matches[0].persona.display_name == "丁磊"


def test_off_topic_questions_still_get_no_answer(engine: Engine) -> None:
    for query in ("红烧肉怎么做才不腻", "今天上海会下雨吗", "推荐几本武侠小说"):
        assert not engine.answer(query).matches
