"""Bad input from Telegram users, against `python -m bot.telegram` over HTTP: each case is answered
with a clear message or ignored on purpose, and never crashes or wedges the bot.

Every case runs in its own private chat and ends with a barrier (`/help`, answered only after the
case's own updates, since updates are processed in order), so "ignored" is checked, not assumed.
The module ends by checking the whole log: no traceback, no failed update.
"""

from __future__ import annotations

import itertools
import unicodedata
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
import pytest_asyncio
from botapi import BotApiServer, SentMessage
from botapi.process import BotProcess

pytestmark = pytest.mark.asyncio(loop_scope="module")

TOKEN = "434343:INPUT-secret-token-0123456789abcdef"
PROMPT = "请发一个文字问题"  # whitespace, emoji, punctuation: no question in it
TEXT_ONLY = "我只看得懂文字"  # stickers, photos, voice...
STALE = "这个按钮已过期"
_users = itertools.count(6001)


@dataclass
class Env:
    server: BotApiServer
    bot: BotProcess


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def env(tiny_personas_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Env]:
    tmp = tmp_path_factory.mktemp("input")
    async with BotApiServer(TOKEN) as server:
        server.timeout = 30.0
        bot = BotProcess(TOKEN, server.root_url, tiny_personas_dir, tmp / "data")
        await bot.start()
        try:
            await server.wait_call("setMyCommands", 0, timeout=30)
            await server.wait_for(lambda: server.polls_waiting > 0, 30, what="the bot to poll")
            yield Env(server, bot)
        finally:
            await bot.stop()


async def barrier(env: Env, chat: int) -> SentMessage:
    """Wait until everything sent to chat so far has been processed; returns the barrier's reply."""
    mark = env.server.mark()
    await env.server.send_text(chat, "/help")
    return await env.server.next_message(chat, mark, lambda m: m.text.startswith("使用说明"))


async def replies_to(env: Env, chat: int, send: Callable[[], Awaitable[object]]) -> list[SentMessage]:
    """Do `send`, then the barrier; the bot's messages in between."""
    mark = env.server.mark()
    await send()
    end = await barrier(env, chat)
    return [m for m in env.server.messages(chat, mark) if m.call_index < end.call_index]


async def one_reply(env: Env, chat: int, text: str) -> SentMessage:
    [reply] = await replies_to(env, chat, lambda: env.server.send_text(chat, text))
    return reply


def no_control_characters(text: str) -> bool:
    return not any(unicodedata.category(ch) == "Cc" and ch not in "\n\t" for ch in text)


# ---- the cases: each asserts its own outcome ----


def prompt_for(text: str, prompt: str = PROMPT) -> Callable[[Env, int], Awaitable[None]]:
    async def case(env: Env, chat: int) -> None:
        reply = await one_reply(env, chat, text)
        assert prompt in reply.text, reply.text

    return case


async def max_length_text(env: Env, chat: int) -> None:
    text = ("人工智能需要监管吗？" * 410)[:4096]
    reply = await one_reply(env, chat, text)
    assert reply.text.startswith(("丁磊", "沈向洋", "张亚勤", "没有找到")), reply.text[:80]


NO_ANSWER = ("没有找到", "No recorded words")  # a message without Chinese characters gets English chrome


async def max_length_unanswerable(env: Env, chat: int) -> None:
    text = ("xyzzy " * 700)[:4096]
    reply = await one_reply(env, chat, text)
    assert reply.text.startswith(NO_ANSWER) and len(reply.text) < 1000  # the echo is cut, not 4,096 chars


async def control_characters(env: Env, chat: int) -> None:
    reply = await one_reply(env, chat, "xyzzy\x00\x07\x1b[31m plugh\x1b[0m\r\x7f")
    assert "xyzzy" in reply.text and no_control_characters(reply.html), repr(reply.html)


async def html_lookalike(env: Env, chat: int) -> None:
    reply = await one_reply(env, chat, "<b>xyzzy</b> &amp; <script>alert(1)</script> &lt;")
    assert "<b>xyzzy</b> &amp; <script>alert(1)</script> &lt;" in reply.text  # shown literally
    assert not any(e["type"] == "bold" and reply.text[e["offset"]:].startswith("xyzzy") for e in reply.entities)


async def markdown_lookalike(env: Env, chat: int) -> None:
    reply = await one_reply(env, chat, "*_[xyzzy](http://example.com)_* `code` ~~x~~ ||s||")
    assert "*_[xyzzy](http://example.com)_* `code` ~~x~~ ||s||" in reply.text
    assert not any(e["type"] == "text_link" for e in reply.entities)


async def path_and_shell_lookalike(env: Env, chat: int) -> None:
    reply = await one_reply(env, chat, "../../etc/passwd; rm -rf / $(id) `id` {{7*7}}")
    assert reply.text.startswith(NO_ANSWER) and "../../etc/passwd" in reply.text
    welcome = await one_reply(env, chat, "/start ../../etc/passwd")
    assert "你好" in welcome.text and "已为你打开" not in welcome.text


def media(kind: str) -> Callable[[Env, int], Awaitable[None]]:
    async def case(env: Env, chat: int) -> None:
        [reply] = await replies_to(env, chat, lambda: env.server.send_media(chat, kind))
        assert TEXT_ONLY in reply.text

    return case


async def edited_message(env: Env, chat: int) -> None:
    """An edited command is not run again (an edited question is answered again: test_telegram_handlers)."""
    original = await env.server.send_text(chat, "/help")
    await barrier(env, chat)
    assert await replies_to(env, chat, lambda: env.server.edit_text(original, "/about")) == []


async def channel_post(env: Env, chat: int) -> None:
    channel = -1009999999999
    mark = env.server.mark()
    await env.server.channel_post("/help")
    await env.server.channel_post("@PersonaTestBot 人工智能需要监管吗")
    await barrier(env, chat)  # one update queue: the posts came (or were filtered) before this
    assert env.server.messages(channel, mark) == []


def button_data(data: str, toast: str = STALE) -> Callable[[Env, int], Awaitable[None]]:
    async def case(env: Env, chat: int) -> None:
        listing = await one_reply(env, chat, "/experts")
        qid = ""

        async def press() -> None:
            nonlocal qid
            qid = await env.server.press(listing, data=data)

        assert await replies_to(env, chat, press) == []
        answer = await env.server.callback_answer(qid)
        assert toast in str(answer.get("text")), answer

    return case


async def unknown_command(env: Env, chat: int) -> None:
    reply = await one_reply(env, chat, "/frobnicate now")
    assert "没有 /frobnicate 这个命令" in reply.text and "/ask" in reply.text


async def command_for_another_bot(env: Env, chat: int) -> None:
    assert await replies_to(env, chat, lambda: env.server.send_text(chat, "/ask@OtherBot 丁磊 开源")) == []


async def burst_of_30(env: Env, chat: int) -> None:
    """30 messages in one second, while the server enforces a per-chat flood limit with 429s."""
    env.server.chat_flood_limit = (10, 1.0)
    try:
        mark = env.server.mark()
        texts = [f"xq{i}z 怎么看" for i in range(30)]
        for text in texts:
            await env.server.send_text(chat, text)

        def answered() -> bool:
            sent = env.server.messages(chat, mark)
            return all(any(t.split()[0] in m.text for m in sent) for t in texts)

        await env.server.wait_for(answered, 40, what="30 answers")
        end = await barrier(env, chat)
    finally:
        env.server.chat_flood_limit = None
    replies = [m for m in env.server.messages(chat, mark) if m.call_index < end.call_index]
    order = [next(i for i, t in enumerate(texts) if t.split()[0] in m.text) for m in replies]
    assert order == list(range(30)), order  # each answered once, in order
    floods = [c for c in env.server.calls_of("sendMessage", mark) if c.status == 429]
    assert floods, "the burst never reached the flood limit: nothing was tested"
    for flood in floods:  # honoured: nothing to this chat until retry_after passed
        wait = flood.response["parameters"]["retry_after"]
        early = [c for c in env.server.calls_of("sendMessage", flood.index + 1)
                 if int(c.params["chat_id"]) == chat and c.at < flood.at + wait - 0.05]
        assert early == [], "sent again before retry_after"


CASES: dict[str, Callable[[Env, int], Awaitable[None]]] = {
    "empty-text": prompt_for("", TEXT_ONLY),  # Telegram never sends one; if it did, ask for text
    "whitespace-only": prompt_for("  \n\t  \u3000"),
    "4096-characters": max_length_text,
    "4096-characters-unanswerable": max_length_unanswerable,
    "only-emoji": prompt_for("🙂🔥👍🏽👨‍👩‍👧"),
    "only-punctuation": prompt_for("？！。，……!?.,;:'\"()[]{}"),
    "control-characters": control_characters,
    "html-lookalike": html_lookalike,
    "markdown-lookalike": markdown_lookalike,
    "path-and-shell-lookalike": path_and_shell_lookalike,
    "sticker": media("sticker"),
    "photo": media("photo"),
    "voice": media("voice"),
    "location": media("location"),
    "document": media("document"),
    "edited-message": edited_message,
    "channel-post": channel_post,
    "callback-malformed": button_data("garbage|||"),
    "callback-empty": button_data(""),
    "callback-unknown-action": button_data("v1|zz|1"),
    "callback-unknown-entry": button_data("v1|e|no-such-entry", "这条内容已不存在"),
    "callback-missing-argument": button_data("v1|c3|ding-lei"),
    "callback-older-version": button_data("v0|x|ding-lei"),
    "callback-newer-version": button_data("v2|x|ding-lei|extra"),
    "callback-over-64-bytes": button_data("v1|x|" + "d" * 70),
    "unknown-command": unknown_command,
    "ask-at-other-bot": command_for_another_bot,
    "burst-of-30-in-one-second": burst_of_30,
}


@pytest.mark.parametrize("name", list(CASES))
async def test_bad_input(env: Env, name: str) -> None:
    chat = env.server.private_chat(next(_users), "Mallory")
    await CASES[name](env, chat)
    assert env.bot.proc is not None and env.bot.proc.returncode is None


async def test_no_traceback_or_failed_update_in_the_log(env: Env) -> None:
    chat = env.server.private_chat(next(_users), "Last")
    await barrier(env, chat)
    log = env.bot.stderr_path.read_text(encoding="utf-8", errors="replace")
    assert "Traceback" not in log and " ERROR " not in log, log
