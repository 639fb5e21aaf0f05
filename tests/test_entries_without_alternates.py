"""An entry nobody has written alternate questions or near misses for (a source added today) is
matched on what it has: the question it was asked stands in for its alternates, and its near
misses' measures are unknown, which the model reads as average, so the weights the fitted model
gives to that curated data neither help nor sink it."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from bot.matching import Engine
from bot.matching.features import NAMES


@pytest.fixture(scope="module")
def engine(tiny_personas_dir: Path) -> Engine:
    return Engine.load(tiny_personas_dir)  # three small persona files, no alternates, no near misses


def test_the_asked_question_stands_in_for_missing_alternates(engine: Engine) -> None:
    q = engine.analyzer.analyse("人工智能需要监管吗")
    scored = engine.scored(q, [engine.resolve("丁磊")])
    asked = [engine.candidate(int(i))[1].question for i in scored.candidates]
    best = asked.index("人工智能需要监管吗？")
    assert scored.features[best, NAMES.index("alternate_similarity")] > 0.9
    assert scored.features[best, NAMES.index("alternates_bm25")] > 0


def test_near_miss_measures_are_unknown_not_zero(engine: Engine) -> None:
    q = engine.analyzer.analyse("开源怎么看")
    scored = engine.scored(q, [engine.resolve("丁磊")])
    for name in ("near_miss_similarity", "near_miss_coverage"):
        assert np.isnan(scored.features[:, NAMES.index(name)]).all()
    why = engine.model.contributions(scored.features[0])
    assert why["near_miss_similarity"] == 0 and why["near_miss_coverage"] == 0


@pytest.mark.parametrize(("query", "expert"), [("开源怎么看", "丁磊"), ("人工智能需要监管吗", None)])
def test_a_corpus_without_alternates_is_still_answered(engine: Engine, query: str, expert: str | None) -> None:
    answer = engine.answer(query, persona=expert)
    assert answer.matches and answer.matches[0].persona.display_name == "丁磊"


def test_off_topic_questions_still_get_no_answer(engine: Engine) -> None:
    for query in ("红烧肉怎么做才不腻", "今天上海会下雨吗", "推荐几本武侠小说"):
        assert not engine.answer(query).matches


def test_a_measure_never_taken_fits_to_a_finite_neutral_weight() -> None:
    """A corpus with no near misses at all: their columns are all unknown, and the fitted file must
    still be plain numbers (JSON has no NaN), with those columns adding nothing."""
    from bot.matching.fit import Group, train

    rng = np.random.default_rng(0)
    groups = []
    for i in range(12):
        x = rng.random((4, len(NAMES)))
        x[:, NAMES.index("near_miss_similarity")] = np.nan
        labels = np.zeros(4, dtype=np.int64)
        labels[i % 4] = int(i % 3 != 0)
        groups.append(Group(f"c{i}", not labels.any(), x, labels, ("a", "b", "c", "d")))
    model = train(groups, penalty=1.0)
    column = NAMES.index("near_miss_similarity")
    assert np.isfinite(model.mean).all() and np.isfinite(model.scale).all() and np.isfinite(model.coef).all()
    assert model.mean[column] == 0 and model.scale[column] == 1 and abs(model.coef[column]) < 1e-6
