"""Faults of the Bot API, injected in the test server, against `python -m bot.telegram` over HTTP.

Each fault gets a test: users keep writing while it lasts, and afterwards every message has been
answered exactly once (a `/help` sent last is the barrier: updates are processed in order), the
bot process is still running, each fault is one log line and no traceback was printed. The last
test drives any fault not yet seen in this run and greps every byte the bot wrote for the token.
"""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import pytest_asyncio
from botapi import BotApiServer, Call, Fault
from botapi.process import BotProcess

pytestmark = pytest.mark.asyncio(loop_scope="module")

TOKEN = "424242:FAULTS-secret-token-0123456789abcdef"
SECRET = TOKEN.split(":", 1)[1]
POLL_TIMEOUT = 1  # seconds; a getUpdates is "slow" after POLL_TIMEOUT + PTB's 5 s read timeout
READ_TIMEOUT = 5.0  # PTB's default for every other call
_users = itertools.count(5001)


@dataclass
class Env:
    server: BotApiServer
    bot: BotProcess
    done: set[str] = field(default_factory=set)

    def new_user(self) -> int:
        """A fresh private chat per scenario, so scenarios never see each other's replies."""
        return self.server.private_chat(next(_users), "Tester")

    def log_size(self) -> int:
        return self.bot.stderr_path.stat().st_size

    def log_since(self, offset: int) -> str:
        with self.bot.stderr_path.open("rb") as fh:
            fh.seek(offset)
            return fh.read().decode("utf-8", "replace")


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def env(tiny_personas_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Env]:
    tmp = tmp_path_factory.mktemp("faults")
    async with BotApiServer(TOKEN) as server:
        server.timeout = 30.0
        bot = BotProcess(TOKEN, server.root_url, tiny_personas_dir, tmp / "data")
        bot.argv += ["--poll-timeout", str(POLL_TIMEOUT)]
        await bot.start()
        try:
            await server.wait_call("setMyCommands", 0, timeout=30)
            await server.wait_for(lambda: server.polls_waiting > 0, 30, what="the bot to poll")
            yield Env(server, bot)
        finally:
            await bot.stop()  # the bot before the server


# ---- helpers ----


def questions(tag: str, n: int) -> list[str]:
    """Distinct questions no expert answers, so each reply quotes its question back (exact matching)."""
    return [f"xq{tag}{i}z 这个怎么看" for i in range(n)]


async def send_all(env: Env, chat: int, texts: list[str]) -> None:
    for text in texts:
        await env.server.send_text(chat, text)


async def assert_answered_once(env: Env, chat: int, mark: int, texts: list[str], timeout: float = 40) -> None:
    """Every text answered, then a barrier; each text is quoted by exactly one reply and nothing else came."""
    def all_answered() -> bool:
        sent = env.server.messages(chat, mark)
        return all(any(token(t) in m.text for m in sent) for t in texts)

    await env.server.wait_for(all_answered, timeout, what=f"answers to {len(texts)} messages in chat {chat}")
    barrier = env.server.mark()
    await env.server.send_text(chat, "/help")
    end = await env.server.next_message(chat, barrier, lambda m: m.text.startswith("使用说明"))
    replies = [m for m in env.server.messages(chat, mark) if m.call_index < end.call_index]
    counts = {t: sum(token(t) in m.text for m in replies) for t in texts}
    assert all(c == 1 for c in counts.values()), counts
    assert len(replies) == len(texts), [m.text[:60] for m in replies]


def token(text: str) -> str:
    return text.split()[0]


def assert_healthy(env: Env, log: str, *expected: str) -> None:
    """Still running; the log has the expected one-liners and no traceback."""
    assert env.bot.proc is not None and env.bot.proc.returncode is None, "the bot exited"
    assert "Traceback" not in log, log
    for text in expected:
        assert text in log, (text, log)


def faulted(env: Env, method: str, since: int, status: int) -> list[Call]:
    return [c for c in env.server.calls_of(method, since) if c.status == status]


def next_call_after(env: Env, call: Call, method: str | None = None) -> Call:
    later = [c for c in env.server.calls[call.index + 1:] if method is None or c.method.lower() == method.lower()]
    assert later, f"no call after {call.method} {call.status}"
    return later[0]


# ---- scenarios: one per fault ----


async def http_error_on_get_updates(env: Env, status: int) -> None:
    chat, log, mark = env.new_user(), env.log_size(), env.server.mark()
    env.server.faults.arm("getupdates", Fault.http(status))
    await env.server.wait_for(lambda: len(faulted(env, "getUpdates", mark, status)) == 1, what="the first failed poll")
    texts = questions(f"g{status}", 3)
    await send_all(env, chat, texts)  # while polling fails
    await assert_answered_once(env, chat, mark, texts)
    assert len(faulted(env, "getUpdates", mark, status)) == 1
    assert_healthy(env, env.log_since(log), f"getUpdates failed (HTTP {status}")


async def http_error_on_send_message(env: Env, status: int) -> None:
    chat, log, mark = env.new_user(), env.log_size(), env.server.mark()
    env.server.faults.arm("sendmessage", Fault.http(status), times=2)
    texts = questions(f"s{status}", 3)
    await send_all(env, chat, texts)
    await assert_answered_once(env, chat, mark, texts)
    assert len(faulted(env, "sendMessage", mark, status)) == 2
    text = env.log_since(log)
    assert_healthy(env, text, f"sendMessage to chat {chat} failed (NetworkError", "delivered on attempt")
    assert "reply not sent" not in text


async def flood_on_send_message(env: Env) -> None:
    chat, log, mark = env.new_user(), env.log_size(), env.server.mark()
    env.server.faults.arm("sendmessage", Fault.flood(2))
    texts = questions("f", 3)
    await send_all(env, chat, texts)
    await assert_answered_once(env, chat, mark, texts)
    [flood] = faulted(env, "sendMessage", mark, 429)
    following = next_call_after(env, flood, "sendMessage")
    assert following.at - flood.at >= 2.0, "sent again before retry_after"
    others = [c for c in env.server.calls[flood.index + 1:following.index] if c.method != "getUpdates"]
    assert others == [], "other calls went out during the flood wait"
    assert_healthy(env, env.log_since(log), f"sendMessage to chat {chat}: flood control, Telegram asks to wait 2")


async def flood_on_get_updates(env: Env) -> None:
    chat, log, mark = env.new_user(), env.log_size(), env.server.mark()
    env.server.faults.arm("getupdates", Fault.flood(1))
    [flood] = [await env.server.wait_call("getUpdates", mark, lambda c: c.status == 429)]
    texts = questions("fg", 2)
    await send_all(env, chat, texts)
    await assert_answered_once(env, chat, mark, texts)
    assert next_call_after(env, flood, "getUpdates").at - flood.at >= 1.0, "polled again before retry_after"
    assert_healthy(env, env.log_since(log), "getUpdates failed (HTTP 429: Too Many Requests: retry after 1)")


async def reset_on_get_updates(env: Env) -> None:
    chat, log, mark = env.new_user(), env.log_size(), env.server.mark()
    env.server.faults.arm("getupdates", Fault.reset())
    await env.server.wait_call("getUpdates", mark, lambda c: c.status == 599)
    texts = questions("rg", 2)
    await send_all(env, chat, texts)
    await assert_answered_once(env, chat, mark, texts)
    assert_healthy(env, env.log_since(log), "getUpdates failed (NetworkError: httpx.RemoteProtocolError")


async def reset_on_send_message(env: Env) -> None:
    chat, log, mark = env.new_user(), env.log_size(), env.server.mark()
    env.server.faults.arm("sendmessage", Fault.reset())
    texts = questions("rs", 2)
    await send_all(env, chat, texts)
    await assert_answered_once(env, chat, mark, texts)
    assert faulted(env, "sendMessage", mark, 599)
    assert_healthy(env, env.log_since(log), f"sendMessage to chat {chat} failed (NetworkError: httpx.RemoteProtocol")


async def slow_get_updates(env: Env) -> None:
    chat, log, mark = env.new_user(), env.log_size(), env.server.mark()
    env.server.faults.arm("getupdates", Fault.slow(POLL_TIMEOUT + READ_TIMEOUT + 1.5))
    await env.server.wait_for(lambda: env.server.faults.pending("getupdates") == 0, what="a poll to hang")
    texts = questions("wg", 2)
    await send_all(env, chat, texts)  # while the bot waits on the hung poll
    await assert_answered_once(env, chat, mark, texts)
    assert faulted(env, "getUpdates", mark, 599), "the hung poll was not abandoned by the bot"
    assert_healthy(env, env.log_since(log), "getUpdates failed (TimedOut")


async def slow_send_message(env: Env) -> None:
    chat, log, mark = env.new_user(), env.log_size(), env.server.mark()
    env.server.faults.arm("sendmessage", Fault.slow(READ_TIMEOUT + 1.5))
    texts = questions("ws", 2)
    await send_all(env, chat, texts)
    await assert_answered_once(env, chat, mark, texts)
    assert faulted(env, "sendMessage", mark, 599), "the hung send was not abandoned by the bot"
    assert_healthy(env, env.log_since(log), f"sendMessage to chat {chat} failed (TimedOut")


async def server_away_for_5_seconds(env: Env) -> None:
    """A reply is in flight when the server goes; users keep writing; all answered once it is back."""
    chat, log, mark = env.new_user(), env.log_size(), env.server.mark()
    env.server.faults.arm("sendmessage", Fault.slow(1.0))  # keeps the first reply in flight
    first = questions("away", 1)
    await send_all(env, chat, first)
    await env.server.wait_for(lambda: env.server.faults.pending("sendmessage") == 0, what="the reply to be sent")
    await env.server.pause(5)
    later = questions("back", 2)
    await send_all(env, chat, later)  # Telegram keeps these while the bot cannot reach it
    await env.server.wait_for(lambda: env.server.listening, 10, what="the server to come back")
    await assert_answered_once(env, chat, mark, first + later, timeout=40)
    assert_healthy(env, env.log_since(log), "getUpdates failed (NetworkError: httpx.ConnectError",
                   f"sendMessage to chat {chat} failed")


SCENARIOS: dict[str, Callable[[Env], Awaitable[None]]] = {
    "500-on-getUpdates": lambda env: http_error_on_get_updates(env, 500),
    "502-on-getUpdates": lambda env: http_error_on_get_updates(env, 502),
    "500-on-sendMessage": lambda env: http_error_on_send_message(env, 500),
    "502-on-sendMessage": lambda env: http_error_on_send_message(env, 502),
    "429-on-sendMessage": flood_on_send_message,
    "429-on-getUpdates": flood_on_get_updates,
    "reset-on-getUpdates": reset_on_get_updates,
    "reset-on-sendMessage": reset_on_send_message,
    "slow-getUpdates": slow_get_updates,
    "slow-sendMessage": slow_send_message,
    "server-away-5s": server_away_for_5_seconds,
}


@pytest.mark.parametrize("name", list(SCENARIOS))
async def test_fault(env: Env, name: str) -> None:
    await SCENARIOS[name](env)
    env.done.add(name)


async def test_token_never_appears_in_any_output(env: Env, tmp_path: Path) -> None:
    """After every fault above (driven here if not run yet), no byte the bot wrote holds the token."""
    for name, scenario in SCENARIOS.items():
        if name not in env.done:
            await scenario(env)
            env.done.add(name)
    files = [p for p in env.bot.log_dir.rglob("*") if p.is_file()]
    assert any(p.name.startswith("bot-") for p in files)
    for path in files:
        data = path.read_bytes()
        assert SECRET.encode() not in data, path
    assert SECRET not in env.bot.output()
