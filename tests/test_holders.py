"""A question asking for the view of someone who is not an expert here gets no one else's quote."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from bot.matching import Engine

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def engine() -> Engine:
    return Engine.load()


@pytest.mark.parametrize(
    ("query", "who"),
    [
        ("张三怎么看大模型的开源和闭源？", "张三"),  # a name no dictionary knows: surname + given name
        ("李彦宏怎么评价开源模型", "李彦宏"),  # a name jieba's dictionary tags as a person
        ("雷军对国内算力紧缺怎么看", "雷军"),  # X对Y…怎么看
        ("吴恩达觉得AI会不会导致大量失业", "吴恩达"),
        ("What does Robin Li think about open source models?", "Robin Li"),
        ("Andrew Ng on open source models", "Andrew Ng"),
    ],
)
def test_someone_else_s_view_is_not_answered_with_an_expert_s_quote(engine: Engine, query: str, who: str) -> None:
    answer = engine.answer(query)
    assert not answer.matches
    assert answer.note == f"这里没有{who}的发言记录。"


def test_the_reply_says_who_here_did_speak_to_it(engine: Engine) -> None:
    """The open question without the name is answered by 沈为; the reply names him as one who spoke to it."""
    plain = engine.answer("AI会不会导致大量失业")
    assert plain.matches and plain.matches[0].persona.display_name == "沈为"
    asked = engine.answer("吴恩达觉得AI会不会导致大量失业")
    assert [p.display_name for p in asked.covered_by] == ["沈为"]


@pytest.mark.parametrize(
    "query",
    [
        "丁磊怎么看开源模型",  # an expert
        "Ding Lei on open source models",
        "Harry Shun on open source",  # an expert's English name, one letter off
        "宇辉觉得企业非得用参数特别大的通用模型吗",  # part of an expert's name
        "那位做投资的嘉宾怎么看游戏股",  # a role, not a name
        "控制论说有效的控制系统得跟被控制的系统一样复杂，那AI走向超人智能时，安全要怎么看？",  # 安全|要
        "马斯克怎么看AI监管",  # a person the experts mention: an answer may report their view
        "What does China think about AI chips?",
        "Alibaba Cloud VP on how early the AI race is",  # a role and an organisation, not a name
    ],
)
def test_experts_roles_and_words_are_not_taken_for_someone_else(engine: Engine, query: str) -> None:
    assert engine.analyzer.analyse(query).unknown_holder is None


def test_the_note_reaches_the_json_and_the_terminal() -> None:
    run = subprocess.run([sys.executable, "-m", "bot.cli", "ask", "张三怎么看开源", "--json"],
                         cwd=ROOT, capture_output=True, text=True, timeout=120)
    data = json.loads(run.stdout)
    assert data["matches"] == [] and data["note"] == "这里没有张三的发言记录。"
    text = subprocess.run([sys.executable, "-m", "bot.cli", "ask", "张三怎么看开源"],
                          cwd=ROOT, capture_output=True, text=True, timeout=120).stdout
    assert "这里没有张三的发言记录。" in text
