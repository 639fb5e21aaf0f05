"""Start-up: what the bot cannot serve correctly, it refuses in one line (exit 2) before serving anyone.

A blank or unparsable access list (closed, not open), a token Telegram rejects, a data directory
it cannot write. What it does start with, it says: the effective access policy is logged, and
the data directory it writes is private (0700, files 0600).
"""

from __future__ import annotations

import asyncio
import os
import stat
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_asyncio
from botapi import BotApiServer
from botapi.process import BotProcess

TOKEN = "494949:STARTUP-secret-token-0123456789abcdef"
SECRET = TOKEN.split(":", 1)[1]
STRANGER = 7701


@pytest_asyncio.fixture
async def server() -> AsyncIterator[BotApiServer]:
    async with BotApiServer(TOKEN) as srv:
        srv.timeout = 30.0
        srv.private_chat(STRANGER, "Stranger")
        yield srv


async def exit_code(bot: BotProcess, timeout: float = 60) -> int:
    assert bot.proc is not None
    return await asyncio.wait_for(bot.proc.wait(), timeout)


def stderr_lines(bot: BotProcess) -> list[str]:
    return bot.stderr_path.read_text(encoding="utf-8").strip().splitlines()


@pytest.mark.parametrize("value", ["", " ", ",", "123,,456", "123, me"])
async def test_a_blank_or_unparsable_allow_list_refuses_to_start_and_answers_no_stranger(
    server: BotApiServer, tiny_personas_dir: Path, tmp_path: Path, value: str
) -> None:
    await server.send_text(STRANGER, "/start")
    await server.send_text(STRANGER, "人工智能需要监管吗")
    bot = BotProcess(TOKEN, server.root_url, tiny_personas_dir, tmp_path / "data",
                     env={"PERSONA_BOT_ALLOWED_CHATS": value})
    await bot.start()
    assert await exit_code(bot) == 2
    [line] = stderr_lines(bot)
    assert line.startswith("persona-bot: PERSONA_BOT_ALLOWED_CHATS ") and ("empty" in line or "cannot read" in line)
    assert server.calls == [] and server.sent == []  # never even asked Telegram for updates
    info = await server._get_webhook_info({})
    assert info["pending_update_count"] == 2  # still waiting at Telegram for a correctly configured bot


async def test_a_blank_admin_list_refuses_to_start(server: BotApiServer, tiny_personas_dir: Path,
                                                   tmp_path: Path) -> None:
    bot = BotProcess(TOKEN, server.root_url, tiny_personas_dir, tmp_path / "data", env={"PERSONA_BOT_ADMINS": ""})
    await bot.start()
    assert await exit_code(bot) == 2
    assert stderr_lines(bot) == ["persona-bot: PERSONA_BOT_ADMINS is set but empty: list chat or user ids "
                                 "(e.g. PERSONA_BOT_ADMINS=123,-100456), or unset it"]
    assert server.calls == []


async def test_a_token_telegram_rejects_is_one_line_without_traceback(
    server: BotApiServer, tiny_personas_dir: Path, tmp_path: Path
) -> None:
    wrong = "494949:WRONG-secret-token-0123456789abcdef"
    bot = BotProcess(wrong, server.root_url, tiny_personas_dir, tmp_path / "data")
    await bot.start()
    assert await exit_code(bot) == 2
    assert stderr_lines(bot)[-1] == "persona-bot: Telegram rejected the token (check TELEGRAM_BOT_TOKEN)"
    output = bot.output()
    assert "Traceback" not in output and "WRONG-secret" not in output
    assert [c.method for c in server.calls] == ["getMe"] and server.calls[0].status == 401


@pytest.mark.parametrize("kind", ["parent-is-a-file", "read-only"])
async def test_a_data_directory_it_cannot_write_refuses_to_start(
    server: BotApiServer, tiny_personas_dir: Path, tmp_path: Path, kind: str
) -> None:
    if kind == "parent-is-a-file":
        (tmp_path / "file").write_text("x", encoding="utf-8")
        data = tmp_path / "file" / "data"
    else:
        if os.geteuid() == 0:
            pytest.skip("root writes into a read-only directory anyway")
        data = tmp_path / "ro"
        data.mkdir(mode=0o500)
    bot = BotProcess(TOKEN, server.root_url, tiny_personas_dir, data, cwd=tmp_path)
    bot.log_dir = tmp_path
    await bot.start()
    assert await exit_code(bot) == 2
    [line] = stderr_lines(bot)
    assert line.startswith(f"persona-bot: cannot write to data directory {data}: "), line
    assert server.calls == []


async def test_the_policy_is_logged_and_the_data_directory_is_private(
    server: BotApiServer, tiny_personas_dir: Path, tmp_path: Path
) -> None:
    member = server.private_chat(7702, "Member")
    data = tmp_path / "data"
    bot = BotProcess(TOKEN, server.root_url, tiny_personas_dir, data,
                     env={"PERSONA_BOT_ALLOWED_CHATS": str(member), "PERSONA_BOT_ADMINS": str(member)})
    await bot.start()
    try:
        await server.wait_for(lambda: server.polls_waiting > 0, 30, what="the bot to poll")
        mark = server.mark()
        await server.send_text(STRANGER, "/start")
        await server.send_text(member, "/expert 丁磊")
        await server.next_message(member, mark)
        assert "只对受邀的聊天开放" in (await server.next_message(STRANGER, mark)).text
    finally:
        assert await bot.stop() == 0
    log = bot.output()
    assert (f"access private: only chats {member} (PERSONA_BOT_ALLOWED_CHATS); /reload by users {member} "
            "(PERSONA_BOT_ADMINS)") in log
    assert stat.S_IMODE(data.stat().st_mode) == 0o700
    files = sorted(p.name for p in data.iterdir())
    assert files == ["chats.json", "updates.jsonl"]
    assert {stat.S_IMODE((data / f).stat().st_mode) for f in files} == {0o600}
    assert "Traceback" not in log and SECRET not in log


async def test_telegram_unreachable_at_start_is_waited_out(
    server: BotApiServer, tiny_personas_dir: Path, tmp_path: Path
) -> None:
    bot = BotProcess(TOKEN, server.root_url, tiny_personas_dir, tmp_path / "data")
    # The bot starts during an outage that lasts until it has met it (however slow its start).
    await server.pause(3, until=lambda: "getMe failed (NetworkError" in bot.output())
    await bot.start()
    try:
        await server.wait_for(lambda: server.listening, 60, what="the server to come back")
        await server.wait_for(lambda: server.polls_waiting > 0, 60, what="the bot to poll")
        mark = server.mark()
        await server.send_text(STRANGER, "/help")
        assert (await server.next_message(STRANGER, mark)).text.startswith("使用说明")
    finally:
        assert await bot.stop() == 0
    log = bot.output()
    assert "getMe failed (NetworkError" in log and "Traceback" not in log and SECRET not in log


async def test_a_webhook_port_in_use_is_one_line(server: BotApiServer, tiny_personas_dir: Path, tmp_path: Path) -> None:
    import socket

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        bot = BotProcess(TOKEN, server.root_url, tiny_personas_dir, tmp_path / "data")
        bot.argv += ["--webhook-url", f"https://bot.example.org:{port}/hook", "--port", str(port)]
        await bot.start()
        assert await exit_code(bot) == 2
    assert stderr_lines(bot)[-1] == f"persona-bot: cannot listen on 127.0.0.1:{port}: Address already in use"
    assert "Traceback" not in bot.output()
