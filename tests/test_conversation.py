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
    reply = conv.handle("算力是瓶颈吗", state)
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
    "text", ["/compare 丁磊 沈向洋 监管", "/compare 丁磊沈向洋监管", "/compare 丁磊 vs Harry Shum 监管",
             "/compare 丁磊和沈向洋 监管", "/compare 丁磊和沈向洋监管", "/compare 丁磊、沈向洋 监管", "/compare 丁磊 与 沈向洋 监管"]
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
    reply = conv.handle("人工智能需要监管吗", state)
    assert isinstance(reply, AnswerReply) and reply.answer.persona_filter is None


def test_just_a_name_shows_that_expert_even_when_another_is_current(conv: Conversation) -> None:
    state = ChatState("shen-xiangyang")
    reply = conv.handle("丁磊", state)
    assert isinstance(reply, ExpertProfile) and reply.persona.id == "ding-lei" and not reply.selected
    assert state.expert_id == "shen-xiangyang"


@pytest.mark.parametrize("text", ["/compare 马云和丁磊 监管", "/compare 丁磊和马云 监管", "/compare 丁磊 马云 监管"])
def test_unknown_name_in_compare_is_named_and_leaves_the_current_expert(conv: Conversation, text: str) -> None:
    from bot.conversation import UnknownExpertReply

    state = ChatState("zhang-yaqin")
    reply = conv.handle(text, state)
    assert isinstance(reply, UnknownExpertReply) and reply.name == "马云" and reply.for_compare
    assert state.expert_id == "zhang-yaqin"


@pytest.mark.parametrize(("text", "kind", "english"), [
    ("你好", "greeting", False), ("您好！", "greeting", False), ("Hi!", "greeting", True), ("hello 🙂", "greeting", True),
    ("谢谢", "thanks", False), ("thank you", "thanks", True), ("你是谁？", "who", False), ("Who are you", "who", True),
])
def test_small_talk_is_its_own_reply_from_the_data_file(conv: Conversation, text: str, kind: str, english: bool) -> None:
    from bot.conversation import SmallTalkReply

    reply = conv.handle(text, ChatState())
    assert isinstance(reply, SmallTalkReply) and reply.kind == kind and reply.english == english
    assert len(reply.examples) == 2 and reply.text


@pytest.mark.parametrize("text", ["你好，丁磊怎么看开源", "hi, what about AI regulation", "谢谢你对监管的看法"])
def test_small_talk_with_a_question_is_a_question(conv: Conversation, text: str) -> None:
    from bot.conversation import SmallTalkReply

    assert not isinstance(conv.handle(text, ChatState()), SmallTalkReply)


def test_small_talk_phrases_live_in_the_corpus(tmp_path: Path, conv: Conversation) -> None:
    from bot.conversation import SmallTalkReply
    from bot.smalltalk import SmallTalk

    (tmp_path / "smalltalk.yaml").write_text("greeting:\n  phrases: [早安]\n  zh: 早！\n  en: Morning!\n",
                                             encoding="utf-8")
    custom = Conversation(conv.engine, smalltalk=SmallTalk.load(tmp_path))
    reply = custom.handle("早安", ChatState())
    assert isinstance(reply, SmallTalkReply) and reply.text == "早！"
    assert not isinstance(custom.handle("你好", ChatState()), SmallTalkReply)
    (tmp_path / "smalltalk.yaml").write_text("greeting: [oops", encoding="utf-8")
    assert SmallTalk.load(tmp_path).match("早安") is None  # a broken file: no small talk, no crash


def test_more_pages_through_all_of_the_experts_other_answers(conv: Conversation) -> None:
    ids = conv.more_entries("dl-003")
    assert sorted(ids) == ["dl-001", "dl-002", "dl-004"]  # not only dl-003's topic
    pages = [conv.more("dl-003", n) for n in range(len(ids))]
    assert all(isinstance(p, EntryReply) and p.total == 3 for p in pages)
    assert isinstance(conv.more("dl-003", 3), NoMore) and isinstance(conv.more("dl-003", -1), NoMore)


def test_a_quote_link_opens_exactly_that_entry_and_leaves_the_expert_alone(conv: Conversation) -> None:
    state = ChatState("ding-lei")
    reply = conv.handle("/start q_sx-003", state)
    assert isinstance(reply, EntryReply) and reply.match.entry.id == "sx-003" and state.expert_id == "ding-lei"
    assert isinstance(conv.handle("/start q_nope", ChatState()), NoMore)


def test_rivals_are_the_experts_with_their_own_answer_and_compare_uses_them(conv: Conversation) -> None:
    from bot.conversation import RivalPicker
    from bot.views import build

    assert conv.rivals("dl-001") == tuple(m.persona for m in conv.rival_answers("dl-001"))
    assert [p.id for p in conv.rivals("dl-001")] == ["shen-xiangyang"]  # open source: he spoke too
    assert conv.rivals("zy-002") == ()  # nobody else on autonomous driving: no 对比 button
    both = conv.versus("dl-001")  # one rival: straight to both sides on the entry's question
    assert isinstance(both, CompareReply)
    assert [s.persona.id for s in both.comparison.sides] == ["ding-lei", "shen-xiangyang"]
    assert all(s.matches for s in both.comparison.sides)  # each side answers, as the button promised
    assert isinstance(conv.versus("zy-002"), NoMore) and isinstance(conv.compare_entry("dl-001", "nobody"), NoMore)
    others = conv.others("dl-001")
    assert isinstance(others, AnswerReply) and [m.persona.id for m in others.answer.matches] == ["shen-xiangyang"]
    match = conv.engine.entry("zy-001")
    assert match is not None
    view = build(RivalPicker(match, tuple(conv.engine.personas[:2])))  # several rivals: one button each
    assert [b.args for b in view.buttons] == [("zy-001", p.id) for p in conv.engine.personas[:2]]
    assert isinstance(conv.compare_entry("dl-001", "zhang-yaqin"), NoMore)  # not a rival: nothing to set beside


def test_reload_builds_a_new_conversation_over_the_new_engine(conv: Conversation, tiny_personas_dir: Path) -> None:
    conv.rivals("dl-001")
    fresh = conv.with_engine(Engine.load(tiny_personas_dir))
    assert fresh is not conv and fresh.engine is not conv.engine and fresh.smalltalk is conv.smalltalk
    assert "_rivals" not in fresh.__dict__  # nothing cached from the old engine
