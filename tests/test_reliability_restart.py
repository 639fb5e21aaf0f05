"""Restarts, persistence and start-up refusals of the real bot process.

SIGKILL in the middle of a conversation keeps every chat's expert; a corrupt state file is moved
aside with a warning; SIGTERM stops within 5 seconds even while Telegram is unreachable and a
reply is still being retried; `persona-bot run` refuses bad persona data with one line and exit 2.
"""

from __future__ import annotations

import asyncio
import json
import signal
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_asyncio
from botapi import BotApiServer, Fault
from botapi.process import ROOT, BotProcess

TOKEN = "454545:RESTART-secret-token-0123456789abcdef"
SECRET = TOKEN.split(":", 1)[1]


@pytest_asyncio.fixture
async def server() -> AsyncIterator[BotApiServer]:
    async with BotApiServer(TOKEN) as srv:
        srv.timeout = 30.0
        yield srv


async def start(bot: BotProcess, server: BotApiServer) -> None:
    mark = server.mark()
    await bot.start()
    await server.wait_call("setMyCommands", mark, timeout=30)
    await server.wait_for(lambda: server.polls_waiting > 0, 30, what="the bot to poll")


async def current_expert(server: BotApiServer, chat: int) -> str:
    """Who the chat is talking to, as /help says it ("当前提问对象：丁磊。")."""
    mark = server.mark()
    await server.send_text(chat, "/help")
    reply = await server.next_message(chat, mark, lambda m: m.text.startswith("使用说明"))
    return reply.text.split("当前提问对象：", 1)[1].split("。", 1)[0]


async def test_sigkill_mid_conversation_keeps_every_chats_expert(
    server: BotApiServer, tiny_personas_dir: Path, tmp_path: Path
) -> None:
    chosen = {7001: "丁磊", 7002: "沈向洋", 7003: "张亚勤", 7004: "Harry Shum", 7005: None}
    shown = {7001: "丁磊", 7002: "沈向洋", 7003: "张亚勤", 7004: "沈向洋", 7005: "所有专家"}
    for chat in chosen:
        server.private_chat(chat, f"U{chat}")
    bot = BotProcess(TOKEN, server.root_url, tiny_personas_dir, tmp_path / "data")
    bot.argv += ["--poll-timeout", "1"]
    await start(bot, server)
    try:
        for chat, name in chosen.items():
            mark = server.mark()
            await server.send_text(chat, f"/expert {name}" if name else "/all")
            await server.next_message(chat, mark)
        # mid-conversation: questions to every chat, and chat 7001 switches expert, then SIGKILL
        mark = server.mark()
        for round_ in range(4):
            for chat in chosen:
                await server.send_text(chat, "年轻人应该学什么" if round_ % 2 else "人工智能需要监管吗")
            if round_ == 1:
                await server.send_text(7001, "/expert 张亚勤")
        await server.wait_for(lambda: len(server.messages(since=mark)) >= 3, what="the conversation to be under way")
        assert await bot.stop(signal.SIGKILL) == -signal.SIGKILL
        switched = any("已选择张亚勤" in m.text for m in server.messages(7001, mark))

        await start(bot, server)
        for chat, expected in shown.items():
            who = await current_expert(server, chat)
            if chat == 7001 and not switched:
                assert who in ("丁磊", "张亚勤"), who  # the switch may have been saved but not confirmed
            elif chat == 7001:
                assert who == "张亚勤"
            else:
                assert who == expected, (chat, who)
    finally:
        await bot.stop()
    data = tmp_path / "data"
    saved = json.loads((data / "chats.json").read_text(encoding="utf-8"))  # whole, valid JSON
    assert set(saved["chat_data"]) >= {str(c) for c in chosen if chosen[c]}
    assert "人工智能" not in json.dumps(saved, ensure_ascii=False)  # no user's question is written to disk
    assert not list(data.glob("*.tmp")) and not list(data.glob(".*.tmp"))
    assert "Traceback" not in bot.output() and SECRET not in bot.output()


async def test_corrupt_state_file_is_moved_aside_and_the_bot_serves(
    server: BotApiServer, tiny_personas_dir: Path, tmp_path: Path
) -> None:
    data = tmp_path / "data"
    data.mkdir()
    (data / "chats.json").write_text('{"version": 1, "chat_data": {"7101": {"expert": "ding-', encoding="utf-8")
    (data / ".chats.json.999.tmp").write_text("{half a write", encoding="utf-8")  # left by a SIGKILL
    server.private_chat(7101)
    bot = BotProcess(TOKEN, server.root_url, tiny_personas_dir, data)
    await start(bot, server)
    try:
        assert await current_expert(server, 7101) == "所有专家"
        mark = server.mark()
        await server.send_text(7101, "/expert 丁磊")
        await server.next_message(7101, mark)
    finally:
        assert await bot.stop() == 0
    log = bot.output()
    warnings = [line for line in log.splitlines() if "chats.json.corrupt-" in line]  # (tmp paths say "corrupt" too)
    assert len(warnings) == 1 and " WARNING " in warnings[0] and "Traceback" not in log
    [aside] = data.glob("chats.json.corrupt-*")
    assert aside.read_text(encoding="utf-8").startswith('{"version": 1')  # kept for a human to look at
    assert json.loads((data / "chats.json").read_text(encoding="utf-8"))["chat_data"]["7101"] == {"expert": "ding-lei"}
    assert not (data / ".chats.json.999.tmp").exists()


async def test_sigterm_during_an_outage_stops_within_5_seconds(
    server: BotApiServer, tiny_personas_dir: Path, tmp_path: Path
) -> None:
    """Telegram unreachable and a reply being retried: SIGTERM still stops the bot in time, cleanly."""
    chat = server.private_chat(7201)
    bot = BotProcess(TOKEN, server.root_url, tiny_personas_dir, tmp_path / "data")
    await start(bot, server)
    try:
        server.faults.arm("sendmessage", Fault.slow(1.0))
        await server.send_text(chat, "人工智能需要监管吗")
        await server.wait_for(lambda: server.faults.pending("sendmessage") == 0, what="the reply to be sent")
        await server.pause(30)  # gone for longer than this test
        started = time.monotonic()
        code = await bot.stop(signal.SIGTERM, timeout=10)
        elapsed = time.monotonic() - started
    finally:
        await bot.stop()
    assert code == 0 and elapsed < 5, (code, elapsed)
    log = bot.output()
    assert "received SIGTERM" in log and "Application.stop() complete" in log
    assert "failed for good" in log and ", shutting down: " in log
    assert "Traceback" not in log and SECRET not in log


def run_bot(personas: Path, cwd: Path) -> subprocess.CompletedProcess[str]:
    """`persona-bot run` as installed, with a token and an API server that is never reached."""
    script = Path(sys.executable).parent / "persona-bot"
    env = {"PATH": "/usr/bin:/bin", "PYTHONPATH": str(ROOT), "TELEGRAM_BOT_TOKEN": TOKEN}
    return subprocess.run([str(script), "run", "--personas", str(personas), "--api-base-url", "http://127.0.0.1:9",
                           "--data-dir", str(cwd / "data")], env=env, cwd=cwd, capture_output=True, text=True,
                          timeout=60)


def _missing(tmp: Path) -> Path:
    return tmp / "no-such-dir"


def _empty(tmp: Path) -> Path:
    (tmp / "empty").mkdir()
    return tmp / "empty"


def _broken_yaml(tmp: Path) -> Path:
    (tmp / "broken").mkdir()
    (tmp / "broken" / "ding-lei.yaml").write_text("id: ding-lei\nname: [丁磊\n  role: x\n", encoding="utf-8")
    return tmp / "broken"


@pytest.mark.parametrize(("make", "says"), [
    (_missing, "does not exist"),
    (_empty, "no persona files"),
    (_broken_yaml, "ding-lei.yaml:"),
], ids=["missing-directory", "empty-directory", "broken-yaml"])
async def test_run_refuses_bad_personas_with_one_line(make: object, says: str, tmp_path: Path) -> None:
    personas = make(tmp_path)  # type: ignore[operator]
    result = await asyncio.to_thread(run_bot, personas, tmp_path)
    assert result.returncode == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("persona-bot: cannot load personas: ") and says in lines[0], lines
    assert "Traceback" not in result.stderr and result.stdout == ""
    assert SECRET not in result.stderr
    assert not (tmp_path / "data").exists()  # refused before touching anything
