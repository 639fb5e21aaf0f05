"""A question that asks for a figure or a date (corpus/cues.yaml `asks_number`) is not answered by
an answer that gives none, however many words they share: the `number_missing` feature."""

from __future__ import annotations

import pytest

from bot.matching import Engine
from bot.matching.features import NAMES, has_number
from bot.text import fold


@pytest.fixture(scope="module")
def engine() -> Engine:
    return Engine.load()


@pytest.mark.parametrize(("text", "expected"), [
    ("需要六七个亿以上", True), ("一万张A100", True), ("2023年", True), ("上万张卡", True), ("三年之内", True),
    ("这几年发展很快", False), ("第一件事是文生图", False), ("这是一个长跑", False),
])
def test_a_figure_is_digits_or_a_numeral_with_a_magnitude_or_unit(text: str, expected: bool) -> None:
    assert has_number(text) is expected


@pytest.mark.parametrize(("query", "asks"), [
    ("训练一个大模型要花多少钱", True), ("How much does it cost to train one?", True),
    ("AGI什么时候能实现", True), ("他提了哪几点建议", False), ("开源和闭源哪个好", False),
    ("What happens when models get bigger?", False),
])
def test_questions_that_ask_for_a_figure_are_recognised(engine: Engine, query: str, asks: bool) -> None:
    assert engine.analyzer.analyse(query).asks_number is asks


def test_the_feature_fires_only_where_the_answer_gives_no_figure(engine: Engine) -> None:
    q = engine.analyzer.analyse("开源模型一年要花多少钱维护")
    scored = engine.scored(q, [])
    column = NAMES.index("number_missing")
    for row, doc_id in enumerate(scored.candidates):
        _, entry = engine.candidate(int(doc_id))
        assert scored.features[row, column] == (not has_number(fold(entry.answer)))
    assert 0 < scored.features[:, column].sum() < len(scored.candidates)  # both kinds are among them


def test_the_fitted_model_weighs_a_missing_figure_against_an_answer(engine: Engine) -> None:
    assert engine.model.coef[NAMES.index("number_missing")] < 0
