"""The curator loop through the Bot API test server: ask, get an answer, press 👎 (a toast, no new
message; one verdict per person per message), see it in `review --json` beside the running bot,
attach it to an entry, `ingest`, /reload, and the same question now answers with that entry. The
admins' /review: nobody else sees it or can press its buttons; "out of scope" reaches
corpus/declined.yaml and the tune set as a negative."""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import sqlite3
import subprocess
import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import pytest_asyncio
import yaml
from botapi import BotApiServer, SentMessage
from botapi.process import ROOT, BotProcess

from bot.feedback.declined import Declined
from bot.paths import default_personas_dir

pytestmark = pytest.mark.asyncio(loop_scope="module")

USER, ADMIN = 3001, 3002
GROUP = -1003000000001
TOKEN = "123456:TEST-abcdefghijklmnopqrstuvwxyz0123456"
THUMBS_DOWN = "中国大模型落后美国多少年"   # answered with 沈为's view of the gap, but it asks for a number
TIMELINE = "ding-lei-001-d269bd"           # 丁磊 on the gap and the catch-up timetable: the curator's pick
OFF_TOPIC = "红烧肉怎么做才好吃"


@dataclass
class Env:
    server: BotApiServer
    bot: BotProcess
    data: Path
    corpus: Path
    personas: Path
    tune: Path


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def env(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Env]:
    tmp = tmp_path_factory.mktemp("feedback-e2e")
    corpus, personas, data, tune = tmp / "corpus", tmp / "personas", tmp / "data", tmp / "tune.yaml"
    shutil.copytree(ROOT / "corpus", corpus)
    shutil.copytree(default_personas_dir(), personas)
    tune.write_text("# tune\n- id: x-1\n  category: direct\n  query: \"开源\"\n  persona: null\n  expect_any: [a]\n",
                    encoding="utf-8")
    async with BotApiServer(TOKEN) as server:
        server.timeout = 20.0
        server.private_chat(USER, "Bob")
        server.private_chat(ADMIN, "Ada")
        server.group_chat(GROUP, members=(USER, ADMIN))
        bot = BotProcess(TOKEN, server.root_url, personas, data,
                         argv=[sys.executable, "-m", "bot.telegram", "--corpus", str(corpus), "--tune", str(tune)],
                         env={"PERSONA_BOT_ADMINS": str(ADMIN)})
        await bot.start()
        try:
            await server.wait_call("setMyCommands", 0, timeout=60)
            await server.wait_for(lambda: server.polls_waiting > 0, 60, what="the bot to poll")
            yield Env(server, bot, data, corpus, personas, tune)
        finally:
            await bot.stop()


async def say(env: Env, text: str, chat: int, user: int | None = None) -> SentMessage:
    mark = env.server.mark()
    await env.server.send_text(chat, text, user=user)
    return await env.server.next_message(chat, mark)


async def tap(env: Env, message: SentMessage, label: str, user: int | None = None) -> str:
    qid = await env.server.press(message, label, user=user)
    return str((await env.server.callback_answer(qid)).get("text", ""))


def cli(env: Env, *args: str) -> subprocess.CompletedProcess[str]:
    environ = {k: v for k, v in os.environ.items() if not k.startswith("PERSONA_BOT_")}
    environ["PERSONA_BOT_DATA_DIR"] = str(env.data)  # what `run` was given: review finds the store by it
    return subprocess.run([sys.executable, "-m", "bot.cli", *args], capture_output=True, text=True, cwd=ROOT,
                          env=environ, timeout=180)


def verdicts(env: Env) -> list[tuple[int, int]]:
    with sqlite3.connect(env.data / "feedback.sqlite3") as conn:
        return conn.execute("SELECT question_id, good FROM verdicts ORDER BY question_id, good").fetchall()


async def test_thumbs_are_a_toast_one_per_person_per_message(env: Env) -> None:
    answer = await say(env, THUMBS_DOWN, USER)
    assert answer.text.startswith("沈为") and {"👍", "👎"} <= set(answer.button_texts)
    mark = env.server.mark()
    assert "👍" in await tap(env, answer, "👍")
    assert "👎" in await tap(env, answer, "👎")  # changed their mind: replaces the 👍
    group_answer = await say(env, f"/ask {THUMBS_DOWN}", GROUP, user=USER)
    assert "👎" in await tap(env, group_answer, "👎", user=USER)
    assert "👎" in await tap(env, group_answer, "👎", user=ADMIN)  # each member has their own
    assert env.server.messages(since=mark) == [group_answer]  # taps sent no message, only toasts
    for _ in range(200):  # written by the recorder's thread: poll the file
        if len(verdicts(env)) == 3:
            break
        await asyncio.sleep(0.05)
    assert verdicts(env) == [(1, 0), (2, 0), (2, 0)]
    raw = b"".join(p.read_bytes() for p in env.data.glob("feedback.sqlite3*"))
    assert str(GROUP).encode() not in raw and str(USER).encode() not in raw and str(ADMIN).encode() not in raw
    no_answer = await say(env, OFF_TOPIC, USER)
    assert "👎" not in no_answer.button_texts  # nothing was answered, nothing to judge


async def test_privacy_says_what_is_kept(env: Env) -> None:
    reply = await say(env, "/privacy", USER)
    assert "90 天" in reply.text and "用户 ID" in reply.text


async def test_review_beside_the_bot_attach_ingest_reload_then_it_answers(env: Env) -> None:
    listed = cli(env, "review", "--json", "--corpus", str(env.corpus), "--personas", str(env.personas))
    assert listed.returncode == 0, listed.stderr
    groups = {g["text"]: g for g in json.loads(listed.stdout)["groups"]}
    down = groups[THUMBS_DOWN]
    assert down["count"] == 2 and down["reasons"]["thumbs_down"] == 3 and down["candidates"]
    done = cli(env, "review", "--attach", down["id"], TIMELINE, "--corpus", str(env.corpus),
               "--personas", str(env.personas))
    assert done.returncode == 0, done.stderr
    built = cli(env, "ingest", "--corpus", str(env.corpus), "--out", str(env.personas))
    assert built.returncode == 0, built.stderr
    reloaded = await say(env, "/reload", ADMIN)
    assert "已重新加载" in reloaded.text
    again = await say(env, THUMBS_DOWN, USER)
    assert again.text.startswith("丁磊"), again.text[:80]


async def test_review_in_telegram_is_for_admins_only(env: Env) -> None:
    refused = await say(env, "/review", USER)
    assert "只有管理员" in refused.text and not refused.buttons
    for _ in range(2):
        await say(env, OFF_TOPIC, USER)
    card = await say(env, "/review", GROUP, user=ADMIN)
    assert "待审核" in card.text and OFF_TOPIC in card.text
    assert {"不在范围内", "跳过"} <= set(card.button_texts)
    assert "只有管理员" in await tap(env, card, "不在范围内", user=USER)  # a member of the group cannot
    assert not Declined.load(env.corpus).matches(OFF_TOPIC)
    toast = await tap(env, card, "不在范围内", user=ADMIN)
    assert "不在范围内" in toast
    await env.server.wait_for(lambda: card.edits or None, 10, what="the card to move on")
    assert Declined.load(env.corpus).matches("红烧肉到底怎么做才会好吃")
    negatives = [c for c in yaml.safe_load(env.tune.read_text(encoding="utf-8")) if c["id"].startswith("rv-neg-")]
    assert [c["query"] for c in negatives] == [OFF_TOPIC] and negatives[0]["category"] == "negative"


async def test_bot_survived(env: Env) -> None:
    assert env.bot.proc is not None and env.bot.proc.returncode is None
    assert "Traceback" not in env.bot.output()
