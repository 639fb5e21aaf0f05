"""End to end: `python -m bot.telegram` as a subprocess, polling the strict test server over HTTP.

One bot process serves the whole module (start-up is the slow part); the restart test near the
end kills and restarts it. Every wait is on a condition with a timeout, never a bare sleep.
"""

from __future__ import annotations

import asyncio
import signal
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import pytest_asyncio
from botapi import BotApiServer, Fault, SentMessage
from botapi.process import ROOT, BotProcess

from bot.conversation import MENU
from bot.paths import default_personas_dir

pytestmark = pytest.mark.asyncio(loop_scope="module")

USER = 2001
MEMBER, ADMIN = 2002, 2003
GROUP = -1002000000001
TOKEN = "123456:TEST-abcdefghijklmnopqrstuvwxyz0123456"


@dataclass
class Env:
    server: BotApiServer
    bot: BotProcess


async def wait_ready(server: BotApiServer, since: int, timeout: float = 30.0) -> None:
    """The bot has published its commands and is parked in a long poll."""
    await server.wait_call("setMyCommands", since, timeout=timeout)
    await server.wait_for(lambda: server.polls_waiting > 0, timeout, what="the bot to poll")


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def env(tiny_personas_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Env]:
    tmp = tmp_path_factory.mktemp("e2e")
    async with BotApiServer(TOKEN) as server:
        server.timeout = 20.0  # other test suites may share the two cores
        server.private_chat(USER, "Bob")
        server.group_chat(GROUP, members=(USER, MEMBER), admins=(ADMIN,))
        bot = BotProcess(TOKEN, server.root_url, tiny_personas_dir, tmp / "data")
        await bot.start()
        try:
            await wait_ready(server, 0)
            yield Env(server, bot)
        finally:
            await bot.stop()  # the bot before the server


async def say(env: Env, text: str, chat: int = USER, *, until: str | None = None, **kw: object) -> list[SentMessage]:
    """Send text; wait for the first reply (or for one containing `until`); return all replies so far."""
    mark = env.server.mark()
    await env.server.send_text(chat, text, **kw)  # type: ignore[arg-type]
    await env.server.next_message(chat, mark, (lambda m: until in m.text) if until else None)
    return env.server.messages(chat, mark)


async def tap(env: Env, message: SentMessage, label: str) -> dict[str, object]:
    qid = await env.server.press(message, label)
    return await env.server.callback_answer(qid)


async def test_start_publishes_commands_and_welcomes(env: Env) -> None:
    menus = env.server.commands
    assert [(c["command"], c["description"]) for c in menus['{"type": "default"}|']] == [(c.name, c.zh) for c in MENU]
    assert [c["description"] for c in menus['{"type": "default"}|en']] == [c.en for c in MENU]
    [msg] = await say(env, "/start")
    assert msg.parse_mode == "HTML" and "你好" in msg.text and "张亚勤" in msg.text
    assert env.server.calls_of("deleteWebhook") or env.server.calls_of("getUpdates")


@pytest.mark.parametrize(
    ("text", "expert", "quote"),
    [
        ("/ask 沈向洋 開源模型重要嗎？", "沈向洋", "开源模型非常重要"),  # Traditional
        ("/ask 丁磊 人工智能需要监管吗", "丁磊", "监管要跟上技术的发展"),  # Simplified
        ("/ask Harry Shum 年轻人应该学什么", "沈向洋", "要学数学"),  # a two-word Latin name
    ],
)
async def test_questions_in_both_scripts_and_latin_names(env: Env, text: str, expert: str, quote: str) -> None:
    """(English questions on the shipped corpus: docs/flows.md's English flow, tests/test_flows.py.)"""
    [msg] = await say(env, text)
    assert msg.text.startswith(expert) and quote in msg.text and "来源：" in msg.text


async def test_every_command(env: Env) -> None:
    assert "使用说明" in (await say(env, "/help"))[0].text
    assert "怎么选出回答" in (await say(env, "/about"))[0].text
    assert "专家列表" in (await say(env, "/experts"))[0].text
    assert "已选择丁磊" in (await say(env, "/expert 丁磊"))[0].text
    assert (await say(env, "人工智能需要监管吗"))[0].text.startswith("丁磊")
    assert "所有专家" in (await say(env, "/all"))[0].text
    assert "话题（所有专家）" in (await say(env, "/topics"))[0].text
    assert "用法" in (await say(env, "/ask"))[0].text
    assert "没有 /nope 这个命令" in (await say(env, "/nope"))[0].text


async def test_compare_command(env: Env) -> None:
    [msg] = await say(env, "/compare 丁磊 沈向洋 监管")
    assert "① 丁磊" in msg.text and "② 沈向洋" in msg.text


async def test_no_answer_says_so(env: Env) -> None:
    [msg] = await say(env, "/ask 张亚勤 年轻人应该学数学吗")
    assert msg.text.startswith("没有找到张亚勤") and msg.buttons


async def test_long_answer_split_into_valid_parts(env: Env) -> None:
    mark = env.server.mark()
    await env.server.send_text(USER, "/ask 丁磊 开源会不会影响商业化")
    await env.server.next_message(USER, mark, lambda m: bool(m.buttons))  # the keyboard is under the last part
    msgs = env.server.messages(USER, mark)
    assert len(msgs) >= 2 and all(m.parse_mode == "HTML" and len(m.text) <= 4096 for m in msgs)
    assert msgs[-1].buttons and "更多丁磊的观点" in msgs[-1].button_texts


async def test_short_talk_compare_and_and_edited_question(env: Env) -> None:
    [hello] = await say(env, "你好")
    assert "没有找到" not in hello.text and len(hello.buttons) == 2
    [hi] = await say(env, "hi")
    assert hi.text.isascii()
    [both] = await say(env, "/compare 丁磊和沈向洋 监管")
    assert "① 丁磊" in both.text and "② 沈向洋" in both.text
    [unknown] = await say(env, "/compare 丁磊和马云 监管")
    assert "马云" in unknown.text and "当前专家不变" in unknown.text
    mark = env.server.mark()
    question = await env.server.send_text(USER, "自动驾驶什么时候普及")
    first = await env.server.next_message(USER, mark)
    mark = env.server.mark()
    await env.server.edit_text(question, "年轻人应该学什么")  # the earlier reply is edited to the new answer
    await env.server.wait_for(lambda: "学数学" in first.text, what="the reply edited to the new answer")
    assert env.server.messages(USER, mark) == [] and len(first.edits) == 1


async def test_paging_edits_in_place(env: Env) -> None:
    [msg] = await say(env, "/ask 沈向洋 年轻人应该学什么")
    mark = env.server.mark()
    await tap(env, msg, "更多沈向洋")
    page = await env.server.next_message(USER, mark)
    assert "第 1/2 条" in page.text
    await tap(env, page, "▶")
    await env.server.wait_for(lambda: "第 2/2 条" in page.text, what="the page edited to 2/2")
    assert len(page.edits) == 1


async def test_experts_keyboard_tap_sets_current_expert(env: Env) -> None:
    [listing] = await say(env, "/experts")
    mark = env.server.mark()
    await tap(env, listing, "张亚勤")
    profile = await env.server.next_message(USER, mark)
    assert "已选择张亚勤" in profile.text
    [answer] = await say(env, "自动驾驶什么时候普及")
    assert answer.text.startswith("张亚勤")
    await say(env, "/all")


async def test_topics_keyboard_tap_shows_answer(env: Env) -> None:
    [listing] = await say(env, "/topics 沈向洋")
    mark = env.server.mark()
    await tap(env, listing, "education")
    answer = await env.server.next_message(USER, mark)
    assert "要学数学" in answer.text


async def test_compare_button_flow(env: Env) -> None:
    [picker] = await say(env, "/compare")
    await tap(env, picker, "沈向洋")
    await env.server.wait_for(lambda: "再选第二位" in picker.text, what="picker edited to step 2")
    await tap(env, picker, "丁磊")
    await env.server.wait_for(lambda: "选一个两人都谈过的话题" in picker.text, what="picker edited to step 3")
    mark = env.server.mark()
    await tap(env, picker, "regulation")
    result = await env.server.next_message(USER, mark)
    assert "① 沈向洋" in result.text and "② 丁磊" in result.text and len(picker.edits) == 2


async def test_group_chat(env: Env) -> None:
    mark = env.server.mark()
    await env.server.send_text(GROUP, "人工智能需要监管吗")  # not addressed: ignored
    [reply] = await say(env, "/ask@PersonaTestBot 丁磊 人工智能需要监管吗", chat=GROUP)
    assert reply.text.startswith("丁磊")
    [mention] = await say(env, "@PersonaTestBot 自动驾驶什么时候普及", chat=GROUP)
    assert "自动驾驶" in mention.text
    [answer] = await say(env, "年轻人应该学什么", chat=GROUP, reply_to=mention)
    assert "学数学" in answer.text
    assert len(env.server.messages(GROUP, mark)) == 3  # the plain message got nothing


async def test_group_expert_is_per_member_and_only_admins_set_the_group_default(env: Env) -> None:
    async def ask(user: int) -> str:
        mark = env.server.mark()
        await env.server.send_text(GROUP, "@PersonaTestBot 年轻人应该学什么", user=user)
        return (await env.server.next_message(GROUP, mark)).text

    [chosen] = await say(env, "/expert@PersonaTestBot 张亚勤", chat=GROUP, user=MEMBER)
    assert "已选择张亚勤" in chosen.text
    assert (await ask(MEMBER)).startswith("没有找到张亚勤")  # the member's own choice
    assert (await ask(USER)).startswith("沈向洋")  # another member is not affected
    [refused] = await say(env, "/default@PersonaTestBot 张亚勤", chat=GROUP, user=USER)
    assert "只有群管理员" in refused.text
    assert (await ask(USER)).startswith("沈向洋")
    [done] = await say(env, "/default@PersonaTestBot 张亚勤", chat=GROUP, user=ADMIN)
    assert "默认专家现在是张亚勤" in done.text
    assert (await ask(USER)).startswith("没有找到张亚勤")  # no own choice: the group default
    await say(env, "/all@PersonaTestBot", chat=GROUP, user=USER)
    assert (await ask(USER)).startswith("沈向洋")  # an own choice (everyone) beats the group default
    await say(env, "/default@PersonaTestBot all", chat=GROUP, user=ADMIN)
    await say(env, "/all@PersonaTestBot", chat=GROUP, user=MEMBER)


async def test_share_button_links_to_a_deep_link_that_opens_that_quote(env: Env) -> None:
    [answer] = await say(env, "/ask 沈向洋 年轻人应该学什么")
    url = answer.button("分享")["url"]
    assert url.startswith("https://t.me/share/url?url=") and "start%3Dq_sx-003" in url
    [quote] = await say(env, "/start q_sx-003")
    assert quote.text.startswith("沈向洋") and "要学数学" in quote.text and "分享" in quote.button_texts
    [gone] = await say(env, "/start q_no-such-entry")
    assert "不存在" in gone.text


async def test_inline_query(env: Env) -> None:
    qid = await env.server.inline_query("年轻人应该学什么", user=USER)
    answer = await env.server.inline_answer(qid)
    results = answer["results"]
    assert results and len(results) <= 50 and all(r["description"] for r in results)


async def test_server_errors_are_logged_without_the_token(env: Env) -> None:
    env.server.faults.arm("sendmessage", Fault.http(500), times=1)
    mark = env.server.mark()
    await env.server.send_text(USER, "/help")
    await env.server.wait_call("sendMessage", mark, lambda c: c.status == 500)
    help_msg, about = await say(env, "/about", until="关于")  # the failed reply is sent again, once
    assert help_msg.text.startswith("使用说明") and about.text.startswith("关于")


async def test_current_expert_survives_sigkill_and_restart(env: Env) -> None:
    assert "已选择沈向洋" in (await say(env, "/expert 沈向洋"))[0].text
    assert await env.bot.stop(signal.SIGKILL) == -signal.SIGKILL
    mark = env.server.mark()
    await env.bot.start()
    await wait_ready(env.server, mark)
    [answer] = await say(env, "年轻人应该学什么")
    assert answer.text.startswith("沈向洋")


async def test_sigterm_shuts_down_within_5_seconds(env: Env) -> None:
    started = time.monotonic()
    assert await env.bot.stop(signal.SIGTERM, timeout=5) == 0
    assert time.monotonic() - started < 5
    output = env.bot.output()
    assert TOKEN not in output and TOKEN.split(":")[1] not in output
    assert "ready as @PersonaTestBot" in output


async def test_webhook_mode(tiny_personas_dir: Path, tmp_path: Path) -> None:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    async with BotApiServer(TOKEN) as server:
        server.private_chat(USER)
        bot = BotProcess(TOKEN, server.root_url, tiny_personas_dir, tmp_path / "data",
                         env={"PERSONA_BOT_WEBHOOK_SECRET": "s3cret"})  # never on argv, where `ps` shows it
        bot.argv += ["--webhook-url", f"http://127.0.0.1:{port}/hook", "--listen", "127.0.0.1", "--port", str(port)]
        await bot.start()
        try:
            await server.wait_call("setWebhook", 0, timeout=30)
            await server.wait_call("setMyCommands", 0, timeout=30)
            assert server.webhook == {"url": f"http://127.0.0.1:{port}/hook", "secret_token": "s3cret"}
            mark = server.mark()
            await server.send_text(USER, "/help")
            assert "使用说明" in (await server.next_message(USER, mark, timeout=20)).text
        finally:
            assert await bot.stop() == 0
        assert TOKEN not in bot.output()


def run_cli(args: list[str], env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    full_env = {"PATH": "/usr/bin:/bin", "PYTHONPATH": str(ROOT), **env}
    return subprocess.run([sys.executable, "-m", "bot.telegram", *args], env=full_env, cwd=cwd, capture_output=True,
                          text=True, timeout=60)


async def test_without_token_exits_2_with_one_clear_line(tmp_path: Path) -> None:
    result = await asyncio.to_thread(run_cli, [], {}, tmp_path)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "TELEGRAM_BOT_TOKEN" in lines[0] and "persona-bot chat" in lines[0]


async def test_token_from_dotenv_and_bad_personas_exit_2_without_traceback(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text(f"# local\nexport TELEGRAM_BOT_TOKEN='{TOKEN}'\n", encoding="utf-8")
    broken = tmp_path / "personas"
    broken.mkdir()
    (broken / "x.yaml").write_text("id: [unclosed\n", encoding="utf-8")
    result = await asyncio.to_thread(run_cli, ["--personas", str(broken)], {}, tmp_path)
    assert result.returncode == 2
    assert "Traceback" not in result.stderr and "x.yaml:" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1 and TOKEN not in result.stderr + result.stdout


async def test_persona_bot_run_with_real_personas_answers_its_own_examples(tmp_path: Path) -> None:
    """Through the installed `persona-bot run` entry point, on the shipped personas."""
    script = Path(sys.executable).parent / "persona-bot"
    assert script.exists(), "install the project into the venv: .venv/bin/pip install -e ."
    async with BotApiServer(TOKEN) as server:
        server.private_chat(USER)
        bot = BotProcess(TOKEN, server.root_url, default_personas_dir(), tmp_path / "data", argv=[str(script), "run"])
        await bot.start()
        try:
            await wait_ready(server, 0)
            mark = server.mark()
            await server.send_text(USER, "/start")
            welcome = await server.next_message(USER, mark)
            examples = [line for line in welcome.text.splitlines() if line.startswith("/ask ")]
            assert examples
            for example in examples:
                mark = server.mark()
                await server.send_text(USER, example)
                reply = await server.next_message(USER, mark, lambda m: "来源" in m.text or "没有找到" in m.text)
                assert "来源：" in reply.text, example
        finally:
            assert await bot.stop() == 0
