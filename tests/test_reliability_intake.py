"""Intake: nothing fetched is lost to a kill or a stop, no chat waits for another, nothing is answered twice.

Through the test server against `python -m bot.telegram`: SIGKILL with 300 questions in flight,
SIGTERM with a backlog (the bot stops without draining it; the rest is answered after the
restart), one chat whose sends keep failing while ten others are answered, and an update
Telegram delivers twice. Every assertion is about what was sent and in which order; how long
things take is measured in bench/soak.py, not asserted here. Then the journal and the per-chat
lanes in-process.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
import signal
import stat
from collections import Counter
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio
from botapi import BotApiServer, Fault, SentMessage
from botapi.process import BotProcess
from telegram import Update

from bot.telegram.delivery import ON_SEND
from bot.telegram.intake import Lanes
from bot.telegram.journal import JOURNAL_NAME, Journal

TOKEN = "484848:INTAKE-secret-token-0123456789abcdef"
SECRET = TOKEN.split(":", 1)[1]
MAYBE_TWICE = re.compile(r"update (\d+) \(chat -?\d+\) was being answered when the bot last stopped")


@pytest_asyncio.fixture
async def server() -> AsyncIterator[BotApiServer]:
    async with BotApiServer(TOKEN) as srv:
        srv.timeout = 60.0
        yield srv


def make_bot(server: BotApiServer, personas: Path, tmp_path: Path) -> BotProcess:
    bot = BotProcess(TOKEN, server.root_url, personas, tmp_path / "data")
    bot.argv += ["--poll-timeout", "1"]
    return bot


async def start(bot: BotProcess, server: BotApiServer) -> None:
    mark = server.mark()
    await bot.start()
    await server.wait_call("setMyCommands", mark, timeout=60)
    await server.wait_call("getUpdates", mark, timeout=60)


def questions(tag: str, n: int) -> list[str]:
    """Questions no expert answers: each reply quotes its question back, so a reply names its question."""
    return [f"xq{tag}{i}z 这个怎么看" for i in range(n)]


def token(text: str) -> str:
    return text.split()[0]


def quoted(text: str) -> list[str]:
    """The question tokens a reply quotes."""
    return re.findall(r"xq[a-z0-9]+z", text)


class Traffic:
    """Questions sent per chat, and what the bot sent back, counted per question."""

    def __init__(self, server: BotApiServer) -> None:
        self.server = server
        self.sent: dict[int, list[str]] = {}
        self.update_ids: dict[str, int] = {}

    async def send(self, chats: list[int], per_chat: int, tag: str) -> None:
        """Round-robin over the chats, as a crowd of users would write."""
        for chat in chats:
            self.sent[chat] = questions(f"{tag}c{chat}n", per_chat)
        for i in range(per_chat):
            for chat in chats:
                message = await self.server.send_text(chat, self.sent[chat][i])
                self.update_ids[token(self.sent[chat][i])] = self.server.update_of(message)

    def tokens(self) -> list[str]:
        return [token(q) for qs in self.sent.values() for q in qs]

    def counts(self) -> Counter[str]:
        """How many replies quote each question."""
        found: Counter[str] = Counter()
        for message in self.server.sent:
            found.update(quoted(message.text))
        return found

    def answered(self) -> int:
        return len(self.counts())

    def first_reply_order(self, chat: int) -> list[str]:
        """This chat's questions in the order their first replies arrived."""
        order: list[str] = []
        for message in self.server.messages(chat):
            for t in quoted(message.text):
                if t not in order:
                    order.append(t)
        return order

    async def barrier(self) -> None:
        """/about in every chat, answered: anything queued before it in any chat has been handled."""
        mark = self.server.mark()
        for chat in self.sent:
            await self.server.send_text(chat, "/about")
        for chat in self.sent:
            await self.server.next_message(chat, mark, lambda m: m.text.startswith("关于"))


def at_least(server: BotApiServer, chat: int, since: int, n: int) -> Callable[[], list[SentMessage] | None]:
    """For wait_for: the chat's messages since `since` once there are n of them."""
    def check() -> list[SentMessage] | None:
        found = server.messages(chat, since)
        return found if len(found) >= n else None
    return check


def maybe_twice(log: str) -> set[int]:
    return {int(uid) for uid in MAYBE_TWICE.findall(log)}


async def test_sigkill_with_300_in_flight_loses_none_and_repeats_only_what_was_being_sent(
    server: BotApiServer, tiny_personas_dir: Path, tmp_path: Path
) -> None:
    chats = [server.private_chat(6000 + i, f"K{i}") for i in range(30)]
    traffic = Traffic(server)
    bot = make_bot(server, tiny_personas_dir, tmp_path)
    await start(bot, server)
    try:
        await traffic.send(chats, 10, "k")
        await server.wait_for(lambda: traffic.answered() >= 60, what="60 answers")
        assert await bot.stop(signal.SIGKILL) == -signal.SIGKILL
        before_restart = traffic.answered()
        assert before_restart < 300, "everything was answered before the kill: the test proves nothing"

        await start(bot, server)
        await server.wait_for(lambda: traffic.answered() == 300, what="all 300 answered after the restart")
        await traffic.barrier()
    finally:
        await bot.stop()
    counts = traffic.counts()
    assert set(counts) == set(traffic.tokens())
    twice = {t for t, n in counts.items() if n > 1}
    logged = maybe_twice(bot.output())
    assert {traffic.update_ids[t] for t in twice} <= logged, (twice, logged)
    assert all(n <= 2 for n in counts.values())
    assert len(logged) <= len(chats)  # at most one update per chat was being handled at the kill
    for chat in chats:  # each chat's questions were answered in the order they were asked
        assert traffic.first_reply_order(chat) == [token(q) for q in traffic.sent[chat]], chat
    log = bot.output()
    assert "received before the last stop" in log
    assert "Traceback" not in log and SECRET not in log


@pytest.mark.parametrize("backlog", [
    300,
    pytest.param(900, marks=[pytest.mark.soak, pytest.mark.timeout(600)]),
])
async def test_sigterm_does_not_drain_the_backlog_and_the_rest_is_answered_after_restart(
    server: BotApiServer, tiny_personas_dir: Path, tmp_path: Path, backlog: int
) -> None:
    chats = [server.private_chat(6100 + i, f"T{i}") for i in range(30)]
    traffic = Traffic(server)
    bot = make_bot(server, tiny_personas_dir, tmp_path)
    await start(bot, server)
    try:
        await traffic.send(chats, backlog // len(chats), "t")
        # confirmed to Telegram means journaled: from here on the whole backlog is in the bot's journal
        await server.wait_for(lambda: server.pending_updates == 0, what="every update fetched and confirmed")
        assert len(bot_journal(tmp_path)) >= backlog
        await server.wait_for(lambda: traffic.answered() >= 30, what="30 answers")
        assert await bot.stop(signal.SIGTERM, timeout=10) == 0  # not killed after the 10 s grace
        at_stop = traffic.answered()
        assert at_stop < backlog - 60, f"{at_stop} of {backlog} answered: the backlog was drained"

        await start(bot, server)
        await server.wait_for(lambda: traffic.answered() == backlog, what="the rest answered after the restart")
        await traffic.barrier()
    finally:
        await bot.stop()
    counts = traffic.counts()
    twice = {t for t, n in counts.items() if n > 1}
    assert {traffic.update_ids[t] for t in twice} <= maybe_twice(bot.output())
    for chat in chats:
        assert traffic.first_reply_order(chat) == [token(q) for q in traffic.sent[chat]], chat
    log = bot.output()
    assert "received SIGTERM" in log and "queued; they are handled after the next start" in log
    assert "Traceback" not in log and SECRET not in log


def bot_journal(tmp_path: Path) -> list[Any]:
    """Update ids ever written to the bot's journal (read while the bot runs)."""
    path = tmp_path / "data" / JOURNAL_NAME
    if not path.exists():
        return []
    ids = []
    for line in path.read_bytes().splitlines():
        try:
            record = json.loads(line)
        except ValueError:
            continue
        if "u" in record:
            ids.append(record["u"]["update_id"])
    return ids


async def test_a_chat_whose_sends_keep_failing_delays_no_other_chat(
    server: BotApiServer, tiny_personas_dir: Path, tmp_path: Path
) -> None:
    stuck = server.private_chat(6200, "Stuck")
    others = [server.private_chat(6201 + i, f"O{i}") for i in range(10)]
    bot = make_bot(server, tiny_personas_dir, tmp_path)
    await start(bot, server)
    try:
        server.faults.arm("sendmessage", Fault.http(502), times=10_000, chat=stuck)
        mark = server.mark()
        stuck_questions = questions("stuck", 2)
        for text in stuck_questions:
            await server.send_text(stuck, text)
        await server.wait_call("sendMessage", mark, lambda c: c.status == 502)  # its reply is failing now
        asked = {chat: questions(f"o{chat}n", 2) for chat in others}
        for i in range(2):
            for chat in others:
                await server.send_text(chat, asked[chat][i])
        for chat in others:
            replies = await server.wait_for(at_least(server, chat, mark, 2), what=f"chat {chat} answered")
            assert [quoted(m.text) for m in replies] == [[token(q)] for q in asked[chat]], chat
        # every other chat was answered while the stuck chat's first reply was still failing
        assert server.messages(stuck, mark) == []
        assert server.faults.pending("sendmessage", chat=stuck) > 0

        server.faults.clear("sendmessage", chat=stuck)  # Telegram recovers for that chat
        replies = await server.wait_for(at_least(server, stuck, mark, 2), what="the stuck chat answered after recovery")
        assert [quoted(m.text) for m in replies] == [[token(q)] for q in stuck_questions]
        end = server.mark()
        await server.send_text(stuck, "/about")
        await server.next_message(stuck, end)
        assert len(server.messages(stuck, mark)) == 3  # each once, then the barrier
    finally:
        assert await bot.stop() == 0
    log = bot.output()
    assert f"sendMessage to chat {stuck} failed (NetworkError: Bad Gateway)" in log
    assert "Traceback" not in log and SECRET not in log


async def test_an_update_delivered_again_is_not_answered_again_even_after_a_restart(
    server: BotApiServer, tiny_personas_dir: Path, tmp_path: Path
) -> None:
    chat = server.private_chat(6300, "Again")
    bot = make_bot(server, tiny_personas_dir, tmp_path)
    await start(bot, server)
    try:
        mark = server.mark()
        [text] = questions("again", 1)
        message = await server.send_text(chat, text)
        await server.next_message(chat, mark)
        update = next(u for u in server.pushed if u["update_id"] == server.update_of(message))
        await server.redeliver(update)  # the confirmation was lost: Telegram sends it once more
        await server.send_text(chat, "/about")
        await server.next_message(chat, mark, lambda m: m.text.startswith("关于"))

        assert await bot.stop(signal.SIGKILL) == -signal.SIGKILL
        await server.redeliver(update)
        await start(bot, server)
        end = server.mark()
        await server.send_text(chat, "/about")
        await server.next_message(chat, end, lambda m: m.text.startswith("关于"))
    finally:
        await bot.stop()
    assert sum(token(text) in m.text for m in server.messages(chat)) == 1


# ---- in-process: the journal and the lanes ----


def raw_update(uid: int, chat: int, text: str = "hi") -> dict[str, Any]:
    return {"update_id": uid, "message": {"message_id": uid, "date": 1_700_000_000, "text": text,
                                          "chat": {"id": chat, "type": "private"},
                                          "from": {"id": chat, "is_bot": False, "first_name": "U"}}}


def test_journal_recovers_what_was_not_done_and_remembers_what_was_received(tmp_path: Path) -> None:
    journal = Journal(tmp_path)
    assert journal.recover() == []
    assert [r["update_id"] for r in journal.admit([raw_update(1, 5), raw_update(2, 5), raw_update(3, 6)])] == [1, 2, 3]
    assert journal.admit([raw_update(2, 5), raw_update(4, 6)]) == [raw_update(4, 6)]  # 2 again: dropped
    journal.started(1)
    journal.done(1)
    journal.started(2)
    with (tmp_path / JOURNAL_NAME).open("ab") as fh:
        fh.write(b'{"d": 3')  # a write cut short by the kill
    # SIGKILL: no close()
    again = Journal(tmp_path)
    pending = again.recover()
    assert [(p.update_id, p.started) for p in pending] == [(2, True), (3, False), (4, False)]
    assert again.admit([raw_update(1, 5), raw_update(3, 6)]) == []  # done or pending: both known
    assert stat.S_IMODE((tmp_path / JOURNAL_NAME).stat().st_mode) == 0o600
    for p in pending:
        again.done(p.update_id)
    again.close()
    third = Journal(tmp_path)
    assert third.recover() == []
    assert third.admit([raw_update(4, 6), raw_update(5, 6)]) == [raw_update(5, 6)]  # ids survive compaction


def test_journal_compacts_as_it_goes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("bot.telegram.journal.COMPACT_AFTER", 50)
    journal = Journal(tmp_path)
    journal.recover()
    for uid in range(1, 201):
        journal.admit([raw_update(uid, uid % 7)])
        journal.started(uid)
        if uid != 150:
            journal.done(uid)
    lines = (tmp_path / JOURNAL_NAME).read_bytes().splitlines()
    assert len(lines) < 60
    assert [p.update_id for p in Journal(tmp_path).recover()] == [150]


async def test_lanes_keep_order_per_chat_run_chats_concurrently_and_give_up_in_bounded_time(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    journal = Journal(tmp_path)
    journal.recover()
    handled: list[int] = []
    hang = asyncio.Event()  # never set: chat 1's first update hangs like a reply retried in vain

    async def process(update: Update) -> None:
        if update.update_id == 1:
            await hang.wait()
        handled.append(update.update_id)

    lanes = Lanes(process, journal, deadline=0.5)
    raws = [raw_update(1, 1), raw_update(2, 1), raw_update(3, 2), raw_update(4, 3), raw_update(5, 2)]
    with caplog.at_level(logging.ERROR):
        for raw in journal.admit(raws):
            lanes.submit(Update.de_json(raw, None))
        while lanes.backlog:
            await asyncio.sleep(0.05)
    assert handled[:3] == [3, 4, 5]  # other chats did not wait for chat 1
    assert handled[3:] == [2]  # chat 1 went on, in order, once its first update was given up
    assert "update 1 (chat 1) given up after" in caplog.text
    assert journal.pending == 0  # given up counts as handled: not retried forever after restarts


async def test_lanes_stop_without_draining_and_leave_the_rest_in_the_journal(tmp_path: Path) -> None:
    journal = Journal(tmp_path)
    journal.recover()
    gate = asyncio.Event()

    async def process(update: Update) -> None:
        on_send = ON_SEND.get()
        assert on_send is not None
        on_send()  # its first Bot API call has left
        await gate.wait()

    lanes = Lanes(process, journal)
    for raw in journal.admit([raw_update(uid, uid % 3) for uid in range(1, 31)]):
        lanes.submit(Update.de_json(raw, None))
    await asyncio.sleep(0.05)
    await lanes.stop(grace=0.2)
    journal.close()
    pending = Journal(tmp_path).recover()
    assert len(pending) == 30
    assert sum(p.started for p in pending) == 3  # the three running (one per chat) were cut short


async def test_webhook_answers_200_only_once_the_update_is_journaled_and_refuses_a_wrong_secret(
    server: BotApiServer, tiny_personas_dir: Path, tmp_path: Path
) -> None:
    import socket

    import aiohttp

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    chat = server.private_chat(6400, "Hook")
    bot = BotProcess(TOKEN, server.root_url, tiny_personas_dir, tmp_path / "data",
                     env={"PERSONA_BOT_WEBHOOK_SECRET_FILE": str(tmp_path / "secret")})
    (tmp_path / "secret").write_text("hook-secret_1\n", encoding="utf-8")
    bot.argv += ["--webhook-url", f"http://127.0.0.1:{port}/hook", "--port", str(port)]
    hook = f"http://127.0.0.1:{port}/hook"
    await bot.start()
    try:
        await server.wait_call("setWebhook", 0, timeout=60)
        assert server.webhook["secret_token"] == "hook-secret_1"
        forged = raw_update(900001, chat, "/about")
        async with aiohttp.ClientSession() as session:
            for headers in ({}, {"X-Telegram-Bot-Api-Secret-Token": "guess"}):
                async with session.post(hook, json=forged, headers=headers) as resp:
                    assert resp.status == 403
            async with session.post(hook, data=b"{not json",
                                    headers={"X-Telegram-Bot-Api-Secret-Token": "hook-secret_1"}) as resp:
                assert resp.status == 400
            real = raw_update(900002, chat, "xqhookz 这个怎么看")
            async with session.post(hook, json=real, headers={"X-Telegram-Bot-Api-Secret-Token": "hook-secret_1"}) as resp:
                assert resp.status == 200
                assert 900002 in bot_journal(tmp_path)  # on disk before Telegram hears 200
        mark = server.mark()
        await server.send_text(chat, "/help")  # through the test server's own webhook delivery
        await server.next_message(chat, mark, lambda m: m.text.startswith("使用说明"))
    finally:
        assert await bot.stop() == 0
    assert [quoted(m.text) for m in server.messages(chat) if quoted(m.text)] == [["xqhookz"]]
    assert not any(m.text.startswith("关于") for m in server.messages(chat))  # the forged update was never handled
    log = bot.output()
    assert "webhook: refused a POST without the right secret token" in log
    assert "hook-secret_1" not in log and "Traceback" not in log
