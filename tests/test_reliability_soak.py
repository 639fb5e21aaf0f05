"""Soak: 50 simulated users ask 2,000 questions of the real bot process, with Bot API faults
sprinkled in. Not in the default run (pyproject: -m 'not soak'); run it with

    .venv/bin/pytest -m soak tests/test_reliability_soak.py -s

Each user asks, waits for the whole answer, then asks again (50 in flight at once). The answer's
parts are compared with what the renderer makes of the same question in this process, so a
reply lost, sent twice, or out of order fails the run. It prints replies per second, p50/p99
latency (question sent -> last part received; with 50 users in flight it is mostly queueing
behind Telegram's 30-messages-a-second limit, which the bot keeps), the same for one user alone,
and the bot's RSS after warm-up and at the end.
"""

from __future__ import annotations

import asyncio
import json
import random
import statistics
import time
from collections.abc import Callable
from pathlib import Path

import psutil  # type: ignore[import-untyped]
import pytest
from botapi import BotApiServer, Fault
from botapi.process import BotProcess

from bench.soak import Inbox
from bot.conversation import ChatState, Conversation
from bot.matching import Engine
from bot.paths import default_personas_dir
from bot.telegram import render

pytestmark = [pytest.mark.soak, pytest.mark.timeout(900)]

TOKEN = "474747:SOAK-secret-token-0123456789abcdef"
USERS = 50
QUESTIONS = 2000
FAULT_EVERY = 150  # answered questions between two injected faults
WARM_UP = 200
EXTRA = [
    "开源大模型怎么看", "算力是不是最大的瓶颈", "人工智能需要监管吗", "年轻人应该学什么", "AGI 什么时候到来",
    "数据重要还是算法重要", "大模型会不会取代程序员", "what about open source models", "Is compute the bottleneck?",
    "How should AI be regulated", "丁磊怎么看教育", "沈向洋 开源", "今天天气怎么样", "xyzzy plugh", "🙂🙂",
    "/topics", "/about", "/help", "/experts",
]
FAULTS: list[tuple[str, Fault | None]] = [
    ("sendmessage", Fault.http(500)), ("getupdates", Fault.http(502)), ("sendmessage", Fault.reset()),
    ("sendmessage", Fault.flood(1)), ("getupdates", Fault.reset()), ("sendmessage", Fault.http(502)),
    ("getupdates", Fault.flood(1)), ("sendmessage", Fault.slow(6.0)), ("pause", None), ("getupdates", Fault.http(500)),
    ("sendmessage", Fault.http(500)), ("sendmessage", Fault.reset()), ("getupdates", Fault.slow(0.5)),
]


def peak_rss(pid: int) -> int:
    """VmHWM: the most resident memory the process ever had, in bytes."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024
    return 0


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


async def test_soak(tmp_path: Path) -> None:
    personas = default_personas_dir()
    conv = Conversation(Engine.load(personas))
    pool = [e.question for p in conv.engine.personas for e in p.entries] + EXTRA
    expected = {q: render.render(conv.handle(q, ChatState())) for q in pool}
    rng = random.Random(5)
    plans = [[rng.choice(pool) for _ in range(QUESTIONS // USERS)] for _ in range(USERS)]

    async with BotApiServer(TOKEN) as server:
        server.timeout = 120.0
        users = [server.private_chat(9000 + i, f"Soak{i}") for i in range(USERS)]
        bot = BotProcess(TOKEN, server.root_url, personas, tmp_path / "data")
        await bot.start()
        inbox = Inbox(server)
        latencies: list[float] = []
        done = 0
        mismatches: list[str] = []
        rss: dict[str, int] = {}
        try:
            await server.wait_call("setMyCommands", 0, timeout=60)
            await server.wait_for(lambda: server.polls_waiting > 0, 60, what="the bot to poll")
            assert bot.proc is not None
            proc = psutil.Process(bot.proc.pid)
            rss["ready"] = proc.memory_info().rss

            async def user(chat: int, plan: list[str]) -> None:
                nonlocal done
                for question in plan:
                    want = expected[question]
                    before = inbox.count(chat)
                    started = time.monotonic()
                    await server.send_text(chat, question)
                    target = before + len(want)
                    await server.wait_for(inbox.reached(chat, target),
                                          what=f"chat {chat}: the answer to {question[:20]!r}")
                    latencies.append(time.monotonic() - started)
                    got = inbox.by_chat[chat][before:before + len(want)]
                    if got != want:
                        mismatches.append(f"chat {chat}, {question[:30]!r}: {[g[:40] for g in got]}")
                    done += 1
                    if done == WARM_UP:
                        rss["warm"], rss["warm_peak"] = proc.memory_info().rss, peak_rss(proc.pid)

            def answered(n: int) -> Callable[[], bool]:
                return lambda: done >= n

            async def faults() -> None:
                for i, (method, fault) in enumerate(FAULTS):
                    threshold = (i + 1) * FAULT_EVERY
                    await server.wait_for(answered(threshold), what=f"{threshold} answers")
                    if fault is None:
                        await server.pause(3.0)
                    else:
                        server.faults.arm(method, fault)

            alone: list[float] = []
            for question in pool[:40]:  # one user alone first: the bot's own reply time, no queueing
                before = inbox.count(users[0])
                sent_at = time.monotonic()
                await server.send_text(users[0], question)
                await server.wait_for(inbox.reached(users[0], before + len(expected[question])), what="a reply")
                alone.append(time.monotonic() - sent_at)

            started = time.monotonic()
            fault_task = asyncio.create_task(faults())
            await asyncio.gather(*(user(chat, plan) for chat, plan in zip(users, plans, strict=True)))
            elapsed = time.monotonic() - started
            fault_task.cancel()
            for chat in users:  # barrier: nothing more arrived after each user's last answer
                before = inbox.count(chat)
                await server.send_text(chat, "/about")
                await server.wait_for(inbox.reached(chat, before + 1), what="the barrier")
                assert inbox.count(chat) == before + 1
                assert inbox.by_chat[chat][-1] == expected["/about"][0]
            rss["end"], rss["end_peak"] = proc.memory_info().rss, peak_rss(proc.pid)
            assert proc.is_running()
        finally:
            await bot.stop()

    log = bot.output()
    fired = [f"{m} {f.kind}" for m, f in server.faults.fired]
    report = {
        "questions": done, "users": USERS, "seconds": round(elapsed, 1),
        "answers_per_second": round(done / elapsed, 1),
        "messages_per_second": round(len(server.sent) / elapsed, 1),
        "latency_p50_ms": round(statistics.median(latencies) * 1000, 1),
        "latency_p99_ms": round(pct(latencies, 0.99) * 1000, 1),
        "latency_max_ms": round(max(latencies) * 1000, 1),
        "one_user_alone_p50_ms": round(statistics.median(alone) * 1000, 1),
        "rss_mb": {k: round(v / 2**20, 1) for k, v in rss.items()},
        "faults_fired": [*fired, "server away 3 s"],
        "warning_lines": sum(" WARNING " in line for line in log.splitlines()),
    }
    print("\nSOAK " + json.dumps(report, ensure_ascii=False))
    assert mismatches == [], mismatches[:5]
    assert len(fired) == len(FAULTS) - 1, fired
    assert done == QUESTIONS and len(latencies) == QUESTIONS
    assert "Traceback" not in log and TOKEN.split(":")[1] not in log
    assert rss["end_peak"] < rss["warm_peak"] * 1.25 + 20 * 2**20, rss  # flat: no leak

