"""The shared command layer: parsing, names glued to questions, state changes, typed replies."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.conversation import (
    AllExperts,
    AnswerReply,
    ChatState,
    ComparePicker,
    CompareReply,
    Conversation,
    EmptyText,
    EntryReply,
    ExpertList,
    ExpertProfile,
    Help,
    NoMore,
    TopicAnswer,
    TopicList,
    UnknownCommand,
    UnknownExpertReply,
    Usage,
    Welcome,
    has_content,
    parse_command,
)
from bot.matching import Engine


@pytest.fixture(scope="module")
def conv(tiny_personas_dir: Path) -> Conversation:
    return Conversation(Engine.load(tiny_personas_dir))


def test_parse_command_splits_bot_username_and_args() -> None:
    assert parse_command("/ask@PersonaBot 丁磊 开源") == ("ask", "丁磊 开源", "PersonaBot")
    assert parse_command("/HELP") == ("help", "", None)
    assert parse_command("/ask\n开源怎么看") == ("ask", "开源怎么看", None)
    assert parse_command("开源怎么看") is None
    assert parse_command("/") is None
    assert parse_command("/路径") is None


@pytest.mark.parametrize("text", ["", "   ", "？！。", "🙂🎉", "...!!!", "\n\t"])
def test_no_content_is_not_a_question(text: str) -> None:
    assert not has_content(text)


def test_expert_then_plain_question_goes_to_that_expert(conv: Conversation) -> None:
    state = ChatState()
    reply = conv.handle("/expert 丁磊", state)
    assert isinstance(reply, ExpertProfile) and reply.selected and state.expert_id == "ding-lei"
    reply = conv.handle("开源怎么看", state)
    assert isinstance(reply, AnswerReply)
    assert reply.answer.matches and {m.persona.id for m in reply.answer.matches} == {"ding-lei"}
    assert isinstance(conv.handle("/all", state), AllExperts) and state.expert_id is None


@pytest.mark.parametrize(
    ("text", "expert"),
    [
        ("/ask 沈向洋 开源模型重要吗", "shen-xiangyang"),
        ("/ask 丁磊开源怎么看", "ding-lei"),  # Chinese name glued to the question
        ("/ask Harry Shum 开源模型重要吗", "shen-xiangyang"),  # two-word name
    ],
)
def test_ask_takes_leading_name_without_changing_state(conv: Conversation, text: str, expert: str) -> None:
    state = ChatState()
    reply = conv.handle(text, state)
    assert isinstance(reply, AnswerReply) and reply.answer.persona_filter is not None
    assert reply.answer.persona_filter.id == expert
    assert state.expert_id is None


def test_ask_without_name_uses_current_expert(conv: Conversation) -> None:
    reply = conv.handle("/ask 监管", ChatState("zhang-yaqin"))
    assert isinstance(reply, AnswerReply) and reply.answer.persona_filter is not None
    assert reply.answer.persona_filter.id == "zhang-yaqin"


@pytest.mark.parametrize(
    "text", ["/compare 丁磊 沈向洋 监管", "/compare 丁磊沈向洋监管", "/compare 丁磊 vs Harry Shum 监管"]
)
def test_compare_parses_two_names_and_question(conv: Conversation, text: str) -> None:
    reply = conv.handle(text, ChatState())
    assert isinstance(reply, CompareReply)
    assert [s.persona.id for s in reply.comparison.sides] == ["ding-lei", "shen-xiangyang"]
    assert reply.comparison.query == "监管"


def test_compare_flow_without_arguments(conv: Conversation) -> None:
    assert isinstance(conv.handle("/compare", ChatState()), ComparePicker)
    picker = conv.compare_pick("ding-lei", "shen-xiangyang")
    assert isinstance(picker, ComparePicker) and {t.id for t in picker.topics} == {"open-source", "regulation"}
    reply = conv.compare_topic("ding-lei", "shen-xiangyang", "regulation")
    assert isinstance(reply, CompareReply)
    assert [s.matches[0].entry.id for s in reply.comparison.sides] == ["dl-003", "sx-002"]


def test_unknown_expert_offers_closest(conv: Conversation) -> None:
    reply = conv.handle("/expert 马云", ChatState())
    assert isinstance(reply, UnknownExpertReply) and reply.experts


def test_simple_commands_return_their_reply_types(conv: Conversation) -> None:
    state = ChatState()
    assert isinstance(conv.handle("/help", state), Help)
    assert isinstance(conv.handle("/experts", state), ExpertList)
    assert isinstance(conv.handle("/topics 张亚勤", state), TopicList)
    assert isinstance(conv.handle("/ask", state), Usage)
    assert isinstance(conv.handle("/nope", state), UnknownCommand)
    assert isinstance(conv.handle("  🙂 ", state), EmptyText)
    welcome = conv.handle("/start shen-xiangyang", state)
    assert isinstance(welcome, Welcome) and welcome.examples and state.expert_id == "shen-xiangyang"


def test_follow_ups_survive_stale_ids(conv: Conversation) -> None:
    assert isinstance(conv.more("dl-001"), EntryReply)
    assert isinstance(conv.more("dl-002", 2), EntryReply) and isinstance(conv.more("dl-002", 3), NoMore)
    assert isinstance(conv.entry("gone-999"), NoMore)
    assert isinstance(conv.topic("regulation"), TopicAnswer)
    assert isinstance(conv.compare_pick("nobody"), NoMore)
    others = conv.others("dl-003")
    assert isinstance(others, AnswerReply)
    assert all(m.persona.id != "ding-lei" for m in others.answer.matches)


def test_current_expert_gone_after_reload_falls_back_to_everyone(conv: Conversation) -> None:
    state = ChatState("someone-removed")
    reply = conv.handle("监管", state)
    assert isinstance(reply, AnswerReply) and reply.answer.persona_filter is None


def test_just_a_name_shows_that_expert_even_when_another_is_current(conv: Conversation) -> None:
    state = ChatState("shen-xiangyang")
    reply = conv.handle("丁磊", state)
    assert isinstance(reply, ExpertProfile) and reply.persona.id == "ding-lei" and not reply.selected
    assert state.expert_id == "shen-xiangyang"
