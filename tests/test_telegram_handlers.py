"""Handlers in-process: real PTB Application, real HTTP to the strict test server, no polling."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import replace
from pathlib import Path

import pytest
import pytest_asyncio
from botapi import BotApiServer, SentMessage
from botapi.harness import InProcessBot
from botapi.personas import PERSONAS, write_personas

from bot.matching import Engine
from bot.telegram import keyboards

USER = 1001
GROUP = -1001234567890


@pytest.fixture(scope="module")
def engine(tiny_personas_dir: Path) -> Engine:
    return Engine.load(tiny_personas_dir)


@pytest_asyncio.fixture
async def server() -> AsyncIterator[BotApiServer]:
    async with BotApiServer() as srv:
        srv.private_chat(USER)
        srv.group_chat(GROUP, members=(USER, 1002))
        yield srv


@pytest_asyncio.fixture
async def bot(
    server: BotApiServer, engine: Engine, tiny_personas_dir: Path, tmp_path: Path
) -> AsyncIterator[InProcessBot]:
    harness = InProcessBot(server, engine, tiny_personas_dir, tmp_path / "data", admins=frozenset({USER}))
    await harness.start()
    yield harness
    await harness.stop()


async def say(bot: InProcessBot, text: str, chat: int = USER, **kw: object) -> list[SentMessage]:
    """Send text as the user, process it, return what the bot sent in reply."""
    mark = bot.server.mark()
    await bot.server.send_text(chat, text, **kw)  # type: ignore[arg-type]
    await bot.pump()
    return bot.server.messages(chat, mark)


async def tap(bot: InProcessBot, message: SentMessage, label: str | None = None, data: str | None = None,
              ) -> tuple[list[SentMessage], dict[str, object]]:
    mark = bot.server.mark()
    qid = await bot.server.press(message, label, data=data)
    await bot.pump()
    return bot.server.messages(message.chat_id, mark), bot.server.callback_answers[qid]


async def test_start_welcomes_lists_experts_and_examples(bot: InProcessBot) -> None:
    [msg] = await say(bot, "/start")
    assert msg.parse_mode == "HTML"
    assert "丁磊" in msg.text and "沈向洋" in msg.text and "/ask" in msg.text
    assert {"丁磊", "沈向洋", "张亚勤"} <= set(msg.button_texts)


async def test_deep_link_opens_expert_and_next_question_goes_to_them(bot: InProcessBot) -> None:
    [msg] = await say(bot, "/start zhang-yaqin")
    assert "已为你打开" in msg.text and "张亚勤" in msg.text
    [answer] = await say(bot, "监管怎么做")
    assert answer.text.startswith("张亚勤")


async def test_help_about_and_unknown_command(bot: InProcessBot) -> None:
    [help_msg] = await say(bot, "/help")
    assert "/compare" in help_msg.text
    [about] = await say(bot, "/about")
    assert "怎么选出回答" in about.text and "界面新闻" in about.text
    [unknown] = await say(bot, "/frobnicate")
    assert "没有 /frobnicate 这个命令" in unknown.text and "/ask" in unknown.text


async def test_command_for_another_bot_is_ignored(bot: InProcessBot) -> None:
    assert await say(bot, "/ask@OtherBot 丁磊 开源") == []
    assert await say(bot, "/frob@OtherBot") == []
    [reply] = await say(bot, "/help@PersonaTestBot")
    assert "使用说明" in reply.text


async def test_experts_keyboard_tap_sets_current_expert(bot: InProcessBot) -> None:
    [listing] = await say(bot, "/experts")
    [profile], answer = await tap(bot, listing, "沈向洋")
    assert "已选择沈向洋" in profile.text and "香港科技大学" in profile.text and "话题" in profile.text
    assert answer.get("text") in (None, "")
    [reply] = await say(bot, "年轻人应该学什么")
    assert reply.text.startswith("沈向洋") and "学数学" in reply.text
    [gone] = await say(bot, "/all")
    assert "所有专家" in gone.text


async def test_expert_command_and_unknown_expert(bot: InProcessBot) -> None:
    [msg] = await say(bot, "/expert Harry Shum")
    assert "已选择沈向洋" in msg.text
    [unknown] = await say(bot, "/expert 马云")
    assert "没有找到叫「马云」的专家" in unknown.text and unknown.buttons


async def test_answer_format_and_buttons(bot: InProcessBot) -> None:
    [msg] = await say(bot, "/ask 张亚勤 AI 监管应该怎么做")
    lines = msg.text.split("\n")
    assert lines[0] == "张亚勤 · 清华大学智能产业研究院院长 · 很接近"  # name, short role, how sure in words
    assert lines[1] == "来源：财新 · 2024-09-10 原文"  # one line of context: outlet, date, link
    assert lines[2] == "问：AI 监管应该怎么做？"
    assert "监管要有底线" in msg.text
    assert any(e["type"] == "blockquote" for e in msg.entities)
    bold = [msg.text[e["offset"]: e["offset"] + e["length"]] for e in msg.entities if e["type"] == "bold"]
    assert "监管" in bold  # the matched words are marked in the quote
    link = next(e for e in msg.entities if e["type"] == "text_link")
    assert link["url"] == "https://example.com/caixin?a=1&b=2"
    assert not any("原文" in t or "来源" in t for t in msg.button_texts)  # the source is on screen already
    assert msg.button("更多张亚勤")["callback_data"].startswith("v1|")
    share = msg.button("分享")["url"]
    assert share.startswith("https://t.me/share/url?url=") and "PersonaTestBot%3Fstart%3Dq_zy-001" in share


async def test_corpus_text_is_escaped(bot: InProcessBot) -> None:
    [msg] = await say(bot, "/ask 丁磊 算力是不是最大的瓶颈")
    assert "<在下降> & 成本" in msg.text and "<b>问题</b>" in msg.text  # shown literally, not as markup
    assert "&lt;在下降&gt; &amp;" in msg.html


async def test_user_text_is_escaped_in_no_answer(bot: InProcessBot) -> None:
    [msg] = await say(bot, "<xyzzy> 的 & qwertz")
    assert "没有找到" in msg.text and "<xyzzy> 的 & qwertz" in msg.text
    [english] = await say(bot, "<xyzzy> & qwertz")  # no Chinese character: English chrome
    assert english.text.startswith("No recorded words") and "<xyzzy> & qwertz" in english.text


async def test_long_answer_is_split_and_every_part_is_valid(bot: InProcessBot) -> None:
    msgs = await say(bot, "/ask 丁磊 开源会不会影响商业化")
    assert len(msgs) >= 2
    assert all(len(m.text) <= 4096 for m in msgs)
    assert all(m.text.endswith("。") or m is msgs[-1] for m in msgs)
    assert msgs[-1].buttons and not any(m.buttons for m in msgs[:-1])
    folded = [e for e in msgs[0].entities if e["type"] == "expandable_blockquote"]
    lead = msgs[0].text[: folded[0]["offset"]].count("开源让更多")  # the passage shown before "expand"
    assert 1 <= lead <= 5  # cut at a sentence end within MAX_PART characters
    assert sum(m.text.count("开源让更多") for m in msgs) == 160 + lead  # the whole answer, nothing lost


async def test_empty_and_emoji_text_get_a_prompt(bot: InProcessBot) -> None:
    for text in ["   ", "？！", "🙂🙂"]:
        [msg] = await say(bot, text)
        assert "请发一个文字问题" in msg.text


async def test_unsupported_media_in_private_chat(bot: InProcessBot) -> None:
    for kind in ["sticker", "photo", "voice", "location", "document"]:
        mark = bot.server.mark()
        await bot.server.send_media(USER, kind)
        await bot.pump()
        [msg] = bot.server.messages(USER, mark)
        assert "文字" in msg.text


async def test_edited_question_edits_its_reply_edited_commands_and_channel_posts_are_not(bot: InProcessBot) -> None:
    mark = bot.server.mark()
    original = await bot.server.send_text(USER, "/help")
    await bot.pump()
    await bot.server.edit_text(original, "/about")
    await bot.server.channel_post("/help")
    assert await bot.pump() == 2
    assert len(bot.server.messages(since=mark)) == 1
    mark = bot.server.mark()
    question = await bot.server.send_text(USER, "自动驾驶什么时候普及")
    await bot.pump()
    [first] = bot.server.messages(USER, mark)
    assert first.text.startswith("张亚勤")
    mark = bot.server.mark()
    await bot.server.edit_text(question, "年轻人应该学什么")
    await bot.pump()
    assert bot.server.messages(USER, mark) == []  # no new message: the earlier reply is edited
    assert first.text.startswith("沈向洋") and len(first.edits) == 1 and "要学数学" in first.text
    mark = bot.server.mark()
    await bot.server.edit_text(question, "/ask 丁磊 开源会不会影响商业化")  # now a command: not rerun
    await bot.pump()
    assert bot.server.messages(USER, mark) == [] and len(first.edits) == 1


async def test_group_only_commands_mentions_and_replies(bot: InProcessBot) -> None:
    assert await say(bot, "开源怎么看", chat=GROUP) == []
    assert await say(bot, "/frobnicate", chat=GROUP) == []  # may be another bot's command
    [by_mention] = await say(bot, "@PersonaTestBot 开源大模型怎么看", chat=GROUP)
    assert "开源" in by_mention.text and by_mention.reply_to is not None
    [by_reply] = await say(bot, "那监管呢", chat=GROUP, reply_to=by_mention)
    assert "监管" in by_reply.text
    [by_command] = await say(bot, "/ask@PersonaTestBot 沈向洋 年轻人应该学什么", chat=GROUP)
    assert by_command.text.startswith("沈向洋")
    assert await say(bot, "/ask@OtherBot 沈向洋 年轻人", chat=GROUP) == []


async def test_topics_keyboard_tap_shows_answer(bot: InProcessBot) -> None:
    [listing] = await say(bot, "/topics 张亚勤")
    assert "话题（张亚勤）" in listing.text
    [answer], _ = await tap(bot, listing, "autonomous-driving")
    assert "自动驾驶会在十年内大规模普及" in answer.text


async def test_compare_command_two_labelled_blocks(bot: InProcessBot) -> None:
    [msg] = await say(bot, "/compare 丁磊 沈向洋 监管")
    assert "① 丁磊" in msg.text and "② 沈向洋" in msg.text
    assert msg.text.index("监管要跟上技术") < msg.text.index("人工智能治理需要全球合作")


async def test_compare_button_flow_edits_picker_then_sends_comparison(bot: InProcessBot) -> None:
    [picker] = await say(bot, "/compare")
    assert "先选第一位" in picker.text
    sent, _ = await tap(bot, picker, "丁磊")
    assert sent == []
    assert "再选第二位" in picker.text and len(picker.edits) == 1
    await tap(bot, picker, "张亚勤")
    assert "选一个两人都谈过的话题" in picker.text
    [result], _ = await tap(bot, picker, "regulation")
    assert "① 丁磊" in result.text and "② 张亚勤" in result.text


async def test_answer_buttons_more_others_versus(bot: InProcessBot) -> None:
    [msg] = await say(bot, "/ask 丁磊 你怎么看开源大模型")
    more, _ = await tap(bot, msg, "更多丁磊")
    assert more and any("开源让更多" in m.text for m in more)  # same topic first
    [others], _ = await tap(bot, msg, "其他专家")
    assert not others.text.startswith("丁磊")
    [versus], _ = await tap(bot, msg, "对比")  # one other expert spoke on it: straight to both sides
    assert "① 丁磊" in versus.text and "② 沈向洋" in versus.text
    [nolink] = await say(bot, "/ask 沈向洋 年轻人应该学什么")
    assert "来源：科學網" in nolink.text and not any("来源" in t for t in nolink.button_texts)


async def test_stale_and_malformed_buttons_get_a_polite_answer(bot: InProcessBot) -> None:
    [msg] = await say(bot, "/experts")
    for data in ["v0|x|ding-lei", "garbage", "v1|zz|1", "v1|e|no-such-entry", "v1|c3|ding-lei", "v1|q|deadbeef00|"]:
        sent, answer = await tap(bot, msg, data=data)
        toast = str(answer.get("text"))
        assert sent == [] and ("过期" in toast or "不存在" in toast), (data, toast)


async def test_no_answer_offers_suggestions_and_covered_by(bot: InProcessBot) -> None:
    [msg] = await say(bot, "/ask 张亚勤 年轻人应该学数学吗")
    assert msg.text.startswith("没有找到张亚勤") and "这个话题 沈向洋 谈过" in msg.text
    assert {"问沈向洋", "问所有专家", "autonomous-driving"} <= set(msg.button_texts)
    [covered], _ = await tap(bot, msg, "问沈向洋")
    assert covered.text.startswith("沈向洋") and "要学数学" in covered.text
    [everyone], _ = await tap(bot, msg, "问所有专家")
    assert everyone.text.startswith("沈向洋")
    [topic], _ = await tap(bot, msg, "autonomous-driving")
    assert "自动驾驶会在十年内大规模普及" in topic.text


async def test_inline_query_lists_answers_with_sources(bot: InProcessBot) -> None:
    qid = await bot.server.inline_query("年轻人应该学什么")
    await bot.pump()
    results = bot.server.inline_answers[qid]["results"]
    assert 1 <= len(results) <= 50 and len({r["id"] for r in results}) == len(results)
    assert all("2024-09-10" in r["description"] for r in results)
    assert all("来源" in r["input_message_content"]["message_text"] for r in results)
    empty = await bot.server.inline_query("  ")
    await bot.pump()
    assert bot.server.inline_answers[empty]["results"] == []


async def test_inline_long_answer_is_truncated_to_one_message(bot: InProcessBot) -> None:
    qid = await bot.server.inline_query("开源会不会影响商业化")
    await bot.pump()
    texts = [r["input_message_content"]["message_text"] for r in bot.server.inline_answers[qid]["results"]]
    assert any("全文见来源" in t for t in texts)  # the server already checked each is <= 4096 and parses


async def test_current_expert_is_persisted_atomically(bot: InProcessBot, tmp_path: Path) -> None:
    await say(bot, "/expert 丁磊")
    saved = json.loads((tmp_path / "data" / "chats.json").read_text(encoding="utf-8"))
    assert saved["chat_data"][str(USER)]["expert"] == "ding-lei"
    assert not list((tmp_path / "data").glob("*.tmp"))


async def test_allowed_chats_refuse_others_politely(server: BotApiServer, engine: Engine, tiny_personas_dir: Path,
                                                    tmp_path: Path) -> None:
    harness = InProcessBot(server, engine, tiny_personas_dir, tmp_path / "d", allowed_chats=frozenset({42}))
    await harness.start()
    try:
        [msg] = await say(harness, "/start")
        assert "只对受邀的聊天开放" in msg.text
        assert await say(harness, "hello", chat=GROUP) == []
    finally:
        await harness.stop()


async def test_reload_reports_changes_and_keeps_old_data_on_error(bot: InProcessBot, tmp_path: Path) -> None:
    personas = write_personas(tmp_path / "live", PERSONAS[:2])
    assert bot.app is not None
    services = bot.app.bot_data["services"]
    services.settings = replace(services.settings, personas_dir=personas)
    [msg] = await say(bot, "/reload")
    assert "已重新加载：2 位专家" in msg.text and "- 张亚勤" in msg.text
    (personas / "ding-lei.yaml").write_text("id: [broken", encoding="utf-8")
    [err] = await say(bot, "/reload")
    assert "重新加载失败" in err.text and "ding-lei.yaml" in err.text
    [still] = await say(bot, "/ask 丁磊 你怎么看开源大模型")
    assert still.text.startswith("丁磊")
    [refused] = await say(bot, "/reload", chat=GROUP, user=1002)
    assert "只有管理员" in refused.text


def test_callback_data_round_trip_and_limits() -> None:
    data = keyboards.encode(keyboards.CMP_TOPIC, "shen-xiangyang", "zhang-yaqin", "regulation")
    assert data is not None and keyboards.decode(data) == ("c3", ["shen-xiangyang", "zhang-yaqin", "regulation"])
    assert keyboards.encode(keyboards.TOPIC, "x" * 70) is None
    assert keyboards.encode(keyboards.TOPIC, "a|b") is None
    assert keyboards.decode("v2|x|ding-lei") is None and keyboards.decode("") is None and keyboards.decode(None) is None


# ---- issue 13: short replies, buttons that lead somewhere, compare, small talk ----


async def test_more_pages_through_every_other_answer_of_the_expert_in_place(bot: InProcessBot) -> None:
    [msg] = await say(bot, "/ask 沈向洋 年轻人应该学什么")  # education: no other answer on that topic
    [page], _ = await tap(bot, msg, "更多沈向洋")  # a new message: the answer stays on screen
    assert "沈向洋的其他回答 · 第 1/2 条" in page.text and "◀" not in page.button_texts
    first = page.text
    sent, _ = await tap(bot, page, "▶")
    assert sent == [] and "第 2/2 条" in page.text and page.text != first  # paging edits in place
    assert "▶" not in page.button_texts and "◀" in page.button_texts  # nothing more: no such button
    assert not any("更多沈向洋" in t for t in page.button_texts)
    await tap(bot, page, "◀")
    assert page.text == first


async def test_more_reaches_answers_outside_the_first_topic(bot: InProcessBot) -> None:
    [msg] = await say(bot, "/ask 丁磊 人工智能需要监管吗")  # dl-003, alone in its topic
    sent, answer = await tap(bot, msg, "更多丁磊")
    assert sent and "第 1/3 条" in sent[0].text and not answer.get("text")


async def test_topic_with_several_answers_pages_in_place(bot: InProcessBot) -> None:
    [listing] = await say(bot, "/topics")
    [topic], _ = await tap(bot, listing, "regulation（3）")
    assert "第 1/3 条" in topic.text and "▶" in topic.button_texts
    sent, _ = await tap(bot, topic, "▶")
    assert sent == [] and "第 2/3 条" in topic.text
    await tap(bot, topic, "▶")
    assert "第 3/3 条" in topic.text and "▶" not in topic.button_texts


async def test_an_expert_with_one_answer_has_no_more_button(bot: InProcessBot, tmp_path: Path) -> None:
    [msg] = await say(bot, "/ask 张亚勤 自动驾驶什么时候普及")
    assert "更多张亚勤的观点" in msg.button_texts  # two entries: one more
    [page], _ = await tap(bot, msg, "更多张亚勤")
    assert "第 1/1 条" in page.text and "▶" not in page.button_texts


@pytest.mark.parametrize("text", ["/compare 丁磊和沈向洋 监管", "/compare 丁磊 vs 沈向洋 监管", "/compare 丁磊、沈向洋 监管"])
async def test_compare_understands_and_and_vs(bot: InProcessBot, text: str) -> None:
    [msg] = await say(bot, text)
    assert "① 丁磊" in msg.text and "② 沈向洋" in msg.text


async def test_unknown_name_in_compare_says_so_and_keeps_the_current_expert(bot: InProcessBot, tmp_path: Path) -> None:
    await say(bot, "/expert 张亚勤")
    [msg] = await say(bot, "/compare 丁磊和马云 监管")
    assert "没有找到叫「马云」的专家" in msg.text and "当前专家不变" in msg.text
    sent, _ = await tap(bot, msg, "沈向洋")  # picks for the comparison, with 丁磊 already chosen
    assert sent == [] and "① 丁磊 与 ② 沈向洋" in msg.text
    saved = json.loads((tmp_path / "data" / "chats.json").read_text(encoding="utf-8"))
    assert saved["chat_data"][str(USER)]["expert"] == "zhang-yaqin"
    [answer] = await say(bot, "监管怎么做")
    assert answer.text.startswith("张亚勤")


@pytest.mark.parametrize(("text", "english"), [("你好", False), ("谢谢！", False), ("你是谁", False),
                                               ("hi", True), ("Thanks!", True)])
async def test_small_talk_gets_a_short_friendly_reply_with_questions_to_tap(bot: InProcessBot, text: str,
                                                                             english: bool) -> None:
    [msg] = await say(bot, text)
    assert "没有找到" not in msg.text and "No recorded" not in msg.text and len(msg.text) < 200
    assert msg.text.isascii() == english
    assert len(msg.buttons) == 2
    answer, _ = await tap(bot, msg, msg.button_texts[0])
    assert "来源：" in answer[0].text  # the example asks exactly its label, which has an answer


async def test_greeting_with_a_question_is_a_question(bot: InProcessBot) -> None:
    [msg] = await say(bot, "你好，年轻人应该学什么")
    assert "我会用专家们公开说过的原话" not in msg.text  # not the greeting's reply
    assert "来源：" in msg.text or "没有找到" in msg.text  # an answer with its source line, or "none" for it
    assert msg.text.startswith("沈向洋") or "你好，年轻人应该学什么" in msg.text  # an answer, or "none" for it


async def test_an_english_speaking_user_gets_english_start_and_help(bot: InProcessBot) -> None:
    bot.server.private_chat(4242, "Eve", language="en")
    [welcome] = await say(bot, "/start", chat=4242)
    assert welcome.text.startswith("Hi!") and "Experts:" in welcome.text
    [help_text] = await say(bot, "/help", chat=4242)
    assert help_text.text.startswith("How to use") and "/compare — Compare: /compare A and B question" in help_text.text
    [chinese] = await say(bot, "/help")  # the default test user's app is in Chinese
    assert chinese.text.startswith("使用说明")


async def test_english_question_gets_english_chrome_and_a_verbatim_quote(server: BotApiServer, tmp_path: Path) -> None:
    """On the shipped corpus, whose English alternates the matcher uses."""
    from bot.paths import default_personas_dir

    harness = InProcessBot(server, Engine.load(default_personas_dir()), default_personas_dir(), tmp_path / "data")
    await harness.start()
    try:
        [msg] = await say(harness, "what about AI regulation")
        match = harness.engine.answer("what about AI regulation").matches[0]
        lines = msg.text.split("\n")
        assert lines[0].endswith(("close match", "likely match", "possibly related"))
        assert lines[1].startswith("Source: ") and (lines[2].startswith("Q: ") or "Q: " not in msg.text)
        quoted = [msg.text[e["offset"]: e["offset"] + e["length"]] for e in msg.entities
                  if e["type"] in ("blockquote", "expandable_blockquote")]
        assert any(q.strip("…") in match.entry.answer for q in quoted)  # the quote itself stays verbatim
        assert f"More from {match.persona.display_name}" in msg.button_texts and "Share" in msg.button_texts
    finally:
        await harness.stop()


async def test_no_button_is_dead(bot: InProcessBot) -> None:
    """Press every button of every reply reached from a few starts (two taps deep): none may answer
    "nothing more" or post a copy of the message it sits under."""
    starts = [await say(bot, t) for t in ("/ask 丁磊 你怎么看开源大模型", "/ask 张亚勤 年轻人应该学数学吗",
                                        "/compare 丁磊 沈向洋 监管", "/topics", "你好")]
    frontier = [(msgs[-1], 0) for msgs in starts]
    pressed = 0
    while frontier:
        message, depth = frontier.pop(0)
        for label in [b["text"] for b in message.buttons if "callback_data" in b]:
            before = message.text
            sent, answer = await tap(bot, message, label)
            pressed += 1
            toast = str(answer.get("text") or "")
            assert "没有" not in toast and "过期" not in toast, (label, toast)
            assert sent or message.text != before or message.edits, (label, "nothing happened")
            assert all(m.text != before for m in sent), (label, "repeats what is on screen")
            if depth < 1:
                frontier += [(m, depth + 1) for m in sent[-1:]]
            if message.edits:  # paged in place: the old buttons are gone; go on from the new ones
                break
    assert pressed >= 30
