"""The test Bot API server is as strict as Telegram: proven with plain HTTP calls, no PTB."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
import pytest_asyncio
from botapi import BotApiServer, Fault
from botapi.tg_html import EntityParseError, parse_html

CHAT = 1001


@pytest_asyncio.fixture
async def server() -> AsyncIterator[BotApiServer]:
    async with BotApiServer() as srv:
        srv.private_chat(CHAT)
        yield srv


@pytest_asyncio.fixture
async def client(server: BotApiServer) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=f"{server.root_url}/bot{server.token}/", timeout=10) as http:
        yield http


async def call(client: httpx.AsyncClient, method: str, **params: Any) -> tuple[int, dict[str, Any]]:
    response = await client.post(method, json=params)
    return response.status_code, response.json()


async def bad(client: httpx.AsyncClient, method: str, **params: Any) -> str:
    status, body = await call(client, method, **params)
    assert status == 400 and body["ok"] is False and body["error_code"] == 400, body
    return str(body["description"])


async def test_get_me_and_unknown_token(server: BotApiServer, client: httpx.AsyncClient) -> None:
    status, body = await call(client, "getMe")
    assert status == 200 and body["result"]["is_bot"] is True and body["result"]["username"] == "PersonaTestBot"
    async with httpx.AsyncClient() as other:
        response = await other.post(f"{server.root_url}/bot999:wrong/getMe")
    assert response.status_code == 401 and response.json()["description"] == "Unauthorized"


async def test_send_message_accepts_json_and_form(client: httpx.AsyncClient, server: BotApiServer) -> None:
    status, body = await call(client, "sendMessage", chat_id=CHAT, text="<b>hi</b> &amp; bye", parse_mode="HTML")
    assert status == 200 and body["result"]["text"] == "hi & bye"
    assert body["result"]["entities"] == [{"type": "bold", "offset": 0, "length": 2}]
    markup = json.dumps({"inline_keyboard": [[{"text": "a", "callback_data": "v1|x"}]]})
    response = await client.post("sendMessage", data={"chat_id": str(CHAT), "text": "123", "reply_markup": markup})
    assert response.status_code == 200 and response.json()["result"]["text"] == "123"
    assert server.sent[-1].button_texts == ["a"] and isinstance(response.json()["result"]["date"], int)


@pytest.mark.parametrize(
    ("text", "error"),
    [
        ("a < b", "can't parse entities: Unsupported start tag"),
        ("<br>", 'Unsupported start tag "br"'),
        ("<b>open", "Can't find end tag corresponding to start tag \"b\""),
        ("close</b>", "Unexpected end tag"),
        ("<b><i>x</b></i>", "Unmatched end tag"),
        ("fish & chips", "can't parse entities"),
        ("<span>x</span>", "tg-spoiler"),
        ("<a href='x'", "Unclosed start tag"),
    ],
)
async def test_html_telegram_would_not_parse(client: httpx.AsyncClient, text: str, error: str) -> None:
    description = await bad(client, "sendMessage", chat_id=CHAT, text=text, parse_mode="HTML")
    assert description.startswith("Bad Request: can't parse entities: ") and error in description


def test_supported_tags_and_entities_parse() -> None:
    html = ('<b>b</b><strong>s</strong><i>i</i><em>e</em><u>u</u><ins>n</ins><s>s</s><strike>k</strike><del>d</del>'
            '<span class="tg-spoiler">p</span><tg-spoiler>q</tg-spoiler><a href="https://x.y/?a=1&amp;b=2">l</a>'
            '<code>c</code><pre>p</pre><blockquote>q</blockquote> &lt;&gt;&amp;&quot;&#39;&#x4e01;')
    parsed = parse_html(html)
    assert parsed.text.endswith("<>&\"'丁")
    assert len(parsed.entities) == 15
    with pytest.raises(EntityParseError):
        parse_html("<blink>x</blink>")


async def test_length_limit_counts_text_after_entity_parsing(client: httpx.AsyncClient) -> None:
    ok = "<b>" + "字" * 4096 + "</b>"  # markup does not count
    status, _ = await call(client, "sendMessage", chat_id=CHAT, text=ok, parse_mode="HTML")
    assert status == 200
    description = await bad(client, "sendMessage", chat_id=CHAT, text="字" * 4097)
    assert description == "Bad Request: message is too long"


async def test_empty_text_and_unknown_chat(client: httpx.AsyncClient) -> None:
    assert await bad(client, "sendMessage", chat_id=CHAT, text="  ") == "Bad Request: message text is empty"
    assert await bad(client, "sendMessage", chat_id=CHAT, text="<b> </b>", parse_mode="HTML") == (
        "Bad Request: message text is empty")
    assert await bad(client, "sendMessage", chat_id=424242, text="hi") == "Bad Request: chat not found"


async def test_callback_data_over_64_bytes(client: httpx.AsyncClient) -> None:
    keyboard = {"inline_keyboard": [[{"text": "x", "callback_data": "监" * 22}]]}  # 66 bytes
    assert await bad(client, "sendMessage", chat_id=CHAT, text="hi", reply_markup=keyboard) == (
        "Bad Request: BUTTON_DATA_INVALID")


async def test_edit_that_changes_nothing(client: httpx.AsyncClient, server: BotApiServer) -> None:
    _, sent = await call(client, "sendMessage", chat_id=CHAT, text="<b>v1</b>", parse_mode="HTML")
    mid = sent["result"]["message_id"]
    description = await bad(client, "editMessageText", chat_id=CHAT, message_id=mid, text="<b>v1</b>",
                            parse_mode="HTML")
    assert description.startswith("Bad Request: message is not modified: ")
    status, _ = await call(client, "editMessageText", chat_id=CHAT, message_id=mid, text="v2")
    assert status == 200 and server.sent[-1].text == "v2" and server.sent[-1].edits[0].text == "v1"
    markup = {"inline_keyboard": [[{"text": "k", "callback_data": "d"}]]}
    status, _ = await call(client, "editMessageReplyMarkup", chat_id=CHAT, message_id=mid, reply_markup=markup)
    assert status == 200
    assert (await bad(client, "editMessageReplyMarkup", chat_id=CHAT, message_id=mid, reply_markup=markup)
            ).startswith("Bad Request: message is not modified")
    assert await bad(client, "editMessageText", chat_id=CHAT, message_id=999, text="x") == (
        "Bad Request: message to edit not found")


async def test_inline_answer_limits(client: httpx.AsyncClient, server: BotApiServer) -> None:
    def article(i: int) -> dict[str, Any]:
        return {"type": "article", "id": str(i), "title": "t", "input_message_content": {"message_text": "m"}}

    qid = await server.inline_query("q")
    assert await bad(client, "answerInlineQuery", inline_query_id=qid,
                     results=[article(i) for i in range(51)]) == "Bad Request: RESULTS_TOO_MUCH"
    assert await bad(client, "answerInlineQuery", inline_query_id=qid,
                     results=[article(1), article(1)]) == "Bad Request: RESULT_ID_DUPLICATE"
    status, _ = await call(client, "answerInlineQuery", inline_query_id=qid, results=[article(i) for i in range(50)])
    assert status == 200
    assert "query is too old" in await bad(client, "answerInlineQuery", inline_query_id=qid, results=[])


async def test_callback_query_answered_once(client: httpx.AsyncClient, server: BotApiServer) -> None:
    await call(client, "sendMessage", chat_id=CHAT, text="pick",
               reply_markup={"inline_keyboard": [[{"text": "A", "callback_data": "v1|x|a"}]]})
    qid = await server.press(server.sent[-1], "A")
    [update] = server.take_updates()
    assert update["callback_query"]["data"] == "v1|x|a" and update["callback_query"]["message"]["text"] == "pick"
    assert (await call(client, "answerCallbackQuery", callback_query_id=qid, text="ok"))[0] == 200
    assert "query is too old" in await bad(client, "answerCallbackQuery", callback_query_id=qid)


async def test_commands_and_webhook_methods(client: httpx.AsyncClient) -> None:
    commands = [{"command": "ask", "description": "提问"}]
    assert (await call(client, "setMyCommands", commands=commands))[0] == 200
    assert (await call(client, "getMyCommands"))[1]["result"] == commands
    assert await bad(client, "setMyCommands", commands=[{"command": "Bad-Name", "description": "x"}]) == (
        "Bad Request: BOT_COMMAND_INVALID")
    assert (await call(client, "deleteMyCommands"))[0] == 200
    assert (await call(client, "getMyCommands"))[1]["result"] == []
    assert (await call(client, "setWebhook", url="https://example.com/hook"))[0] == 200
    assert (await call(client, "getWebhookInfo"))[1]["result"]["url"] == "https://example.com/hook"
    status, body = await call(client, "getUpdates")
    assert status == 409 and body["description"].startswith("Conflict:")
    assert (await call(client, "deleteWebhook"))[0] == 200
    assert (await call(client, "sendChatAction", chat_id=CHAT, action="typing"))[0] == 200
    assert await bad(client, "sendChatAction", chat_id=CHAT, action="dancing")


async def test_get_updates_long_polls_honours_timeout_and_offset(client: httpx.AsyncClient,
                                                                server: BotApiServer) -> None:
    started = time.monotonic()
    _, body = await call(client, "getUpdates", timeout=1)
    assert body["result"] == [] and 0.9 <= time.monotonic() - started < 3

    poll = asyncio.create_task(call(client, "getUpdates", timeout=5))
    await server.wait_for(lambda: server.polls_waiting > 0, what="the poll to start")
    message = await server.send_text(CHAT, "/ask 丁磊 开源")
    _, body = await poll
    [update] = body["result"]
    assert update["message"]["text"] == "/ask 丁磊 开源" and isinstance(update["message"]["date"], int)
    assert update["message"]["entities"] == [{"type": "bot_command", "offset": 0, "length": 4}]
    assert message["message_id"] == update["message"]["message_id"]
    _, again = await call(client, "getUpdates", timeout=0)
    assert again["result"] == [update]  # not confirmed yet
    _, after = await call(client, "getUpdates", offset=update["update_id"] + 1, timeout=0)
    assert after["result"] == []


async def test_allowed_updates_filters_kinds(client: httpx.AsyncClient, server: BotApiServer) -> None:
    original = await server.send_text(CHAT, "hi")
    await server.edit_text(original, "hi!")
    await server.channel_post("news")
    _, body = await call(client, "getUpdates", timeout=0, allowed_updates=["message"])
    assert [next(k for k in u if k != "update_id") for u in body["result"]] == ["message"]


async def test_user_side_builders(server: BotApiServer) -> None:
    group = server.group_chat()
    await server.send_text(group, "@PersonaTestBot 你好 /help")
    await server.send_media(CHAT, "sticker")
    [text_update, sticker_update] = server.take_updates()
    entities = text_update["message"]["entities"]
    assert [e["type"] for e in entities] == ["mention", "bot_command"]
    assert text_update["message"]["chat"]["type"] == "supergroup" and "sticker" in sticker_update["message"]


async def test_fault_injection(client: httpx.AsyncClient, server: BotApiServer) -> None:
    server.faults.arm("getme", Fault.http(502), times=2)
    server.faults.arm("getme", Fault.flood(3))
    assert (await call(client, "getMe"))[0] == 502
    assert (await call(client, "getMe"))[0] == 502
    status, body = await call(client, "getMe")
    assert status == 429 and body["parameters"]["retry_after"] == 3
    assert (await call(client, "getMe"))[0] == 200

    server.faults.arm("getme", Fault.reset())
    with pytest.raises(httpx.TransportError):
        await client.post("getMe")

    server.faults.arm("*", Fault.slow(0.3))
    started = time.monotonic()
    assert (await call(client, "getMe"))[0] == 200 and time.monotonic() - started >= 0.3


async def test_pause_goes_away_and_comes_back_on_the_same_port(client: httpx.AsyncClient,
                                                               server: BotApiServer) -> None:
    port = server.port
    await server.pause(0.3)
    with pytest.raises(httpx.TransportError):
        await client.post("getMe")
    await server.wait_for(lambda: server.listening, timeout=5, what="the server to come back")
    assert server.port == port and (await call(client, "getMe"))[0] == 200
