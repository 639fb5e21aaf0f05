"""Telegram bot under load, through the project's Bot API test server: memory, stops, stalls, bursts.

    .venv/bin/python -m bench.soak                 # everything below, one JSON line each
    .venv/bin/python -m bench.soak soak --rounds 2 # or one at a time: soak, stop, kill, stall, burst, alone

- soak:  50 users ask 2 x 2,000 questions of one bot process (the real personas; each user waits for
         the whole answer before the next), with a few Bot API faults mixed in. Every answer is checked
         against what the renderer makes of the same question, so a reply lost, repeated or out of
         order fails the run. RSS after start, after 200 answers and after each round of 2,000: growth
         in the second round is what a leak looks like; growth in the first only is warm-up.
- stop:  900 questions queued over 30 chats, SIGTERM once 30 are answered: seconds to exit, how many
         were answered at the stop, seconds for the rest after a restart, replies sent twice.
- kill:  300 questions in flight over 30 chats, SIGKILL once 60 are answered, restart: lost, twice.
- stall: one chat's sends fail (HTTP 502) for 20 s while ten other chats ask two questions each:
         how long the others wait.
- burst: 2,000 questions at once from 50 users, then a newcomer asks one: p50/p99 wait of all, and
         of the newcomer (Telegram's ~30 messages/s caps the total; the queue is no longer one line).
- alone: one user asks 100 questions one after another: the bot's own turnaround (question sent ->
         whole answer received), journal fsync included, and the fsync alone on the data directory.

Times here are measured, never asserted (tests/test_reliability_intake.py asserts the behaviour).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import re
import signal
import statistics
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import psutil

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from botapi import BotApiServer, Fault  # noqa: E402
from botapi.personas import write_personas  # noqa: E402
from botapi.process import BotProcess  # noqa: E402

from bot.conversation import ChatState, Conversation  # noqa: E402
from bot.matching import Engine  # noqa: E402
from bot.paths import default_personas_dir  # noqa: E402
from bot.telegram import render  # noqa: E402

TOKEN = "515151:BENCH-secret-token-0123456789abcdef"
EXTRA = [
    "开源大模型怎么看", "算力是不是最大的瓶颈", "人工智能需要监管吗", "年轻人应该学什么", "AGI 什么时候到来",
    "数据重要还是算法重要", "大模型会不会取代程序员", "what about open source models", "Is compute the bottleneck?",
    "How should AI be regulated", "丁磊怎么看教育", "沈向洋 开源", "今天天气怎么样", "xyzzy plugh", "🙂🙂",
    "/topics", "/about", "/help", "/experts",
]
SOAK_FAULTS = [("sendmessage", Fault.http(500)), ("getupdates", Fault.http(502)), ("sendmessage", Fault.reset()),
               ("sendmessage", Fault.flood(1)), ("getupdates", Fault.reset()), ("sendmessage", Fault.slow(6.0))]
MAYBE_TWICE = re.compile(r"update (\d+) \(chat -?\d+\) was being answered when the bot last stopped")


def mb(n: int) -> float:
    return round(n / 2**20, 1)


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def peak_rss(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024
    return 0


async def start(bot: BotProcess, server: BotApiServer) -> None:
    mark = server.mark()
    await bot.start()
    await server.wait_call("setMyCommands", mark, timeout=120)
    await server.wait_call("getUpdates", mark, timeout=120)


class Inbox:
    """The bot's messages per chat, collected incrementally."""

    def __init__(self, server: BotApiServer) -> None:
        self.server = server
        self.cursor = 0
        self.by_chat: dict[int, list[str]] = {}

    def count(self, chat: int) -> int:
        sent = self.server.sent
        while self.cursor < len(sent):
            message = sent[self.cursor]
            self.by_chat.setdefault(message.chat_id, []).append(message.html)
            self.cursor += 1
        return len(self.by_chat.get(chat, []))

    def reached(self, chat: int, n: int) -> Callable[[], bool]:
        return lambda: self.count(chat) >= n


# ---- soak: 2 x 2,000 in one process ----


async def soak(rounds: int, questions: int, users: int, faults: bool) -> dict[str, Any]:
    personas = default_personas_dir()
    conv = Conversation(Engine.load(personas))
    pool = [e.question for p in conv.engine.personas for e in p.entries] + EXTRA
    expected = {q: render.render(conv.handle(q, ChatState())) for q in pool}
    rng = random.Random(5)
    result: dict[str, Any] = {"measure": "soak", "users": users, "rounds": []}
    with tempfile.TemporaryDirectory() as tmp:
        async with BotApiServer(TOKEN) as server:
            server.timeout = 180.0
            chats = [server.private_chat(9000 + i, f"Soak{i}") for i in range(users)]
            bot = BotProcess(TOKEN, server.root_url, personas, Path(tmp) / "data")
            await start(bot, server)
            assert bot.proc is not None
            proc = psutil.Process(bot.proc.pid)
            inbox = Inbox(server)
            rss = {"ready": proc.memory_info().rss}
            mismatches: list[str] = []
            try:
                for number in range(1, rounds + 1):
                    plans = [[rng.choice(pool) for _ in range(questions // users)] for _ in range(users)]
                    latencies: list[float] = []
                    done = [0]  # answers so far this round

                    async def user(chat: int, plan: list[str], number: int = number, latencies: list[float] = latencies,
                                   done: list[int] = done) -> None:
                        for question in plan:
                            want = expected[question]
                            before = inbox.count(chat)
                            sent_at = time.monotonic()
                            await server.send_text(chat, question)
                            await server.wait_for(inbox.reached(chat, before + len(want)), what=f"chat {chat}")
                            latencies.append(time.monotonic() - sent_at)
                            if inbox.by_chat[chat][before:before + len(want)] != want:
                                mismatches.append(f"round {number}, chat {chat}: {question[:30]!r}")
                            done[0] += 1
                            if number == 1 and done[0] == 200:
                                rss["warm"] = proc.memory_info().rss

                    async def inject(done: list[int] = done) -> None:
                        for i, (method, fault) in enumerate(SOAK_FAULTS):
                            threshold = (i + 1) * questions // (len(SOAK_FAULTS) + 1)
                            await server.wait_for(lambda t=threshold: done[0] >= t, what="answers")
                            server.faults.arm(method, fault)

                    started = time.monotonic()
                    injector = asyncio.create_task(inject()) if faults else None
                    await asyncio.gather(*(user(c, p) for c, p in zip(chats, plans, strict=True)))
                    elapsed = time.monotonic() - started
                    if injector is not None:
                        injector.cancel()
                    rss[f"after_round_{number}"] = proc.memory_info().rss
                    result["rounds"].append({
                        "questions": done[0], "seconds": round(elapsed, 1),
                        "answers_per_s": round(done[0] / elapsed, 1),
                        "latency_p50_ms": round(statistics.median(latencies) * 1000),
                        "latency_p99_ms": round(pct(latencies, 0.99) * 1000),
                        "rss_mb": mb(rss[f"after_round_{number}"]),
                    })
                rss["peak"] = peak_rss(proc.pid)
            finally:
                await bot.stop()
            log = bot.output()
    result["rss_mb"] = {k: mb(v) for k, v in rss.items()}
    if rounds >= 2:
        first = rss["after_round_1"] - rss.get("warm", rss["ready"])
        second = rss[f"after_round_{rounds}"] - rss["after_round_1"]
        result["growth_mb"] = {"warm_to_round_1": mb(first), "round_1_to_last": mb(second)}
    result["mismatches"] = mismatches[:5]
    result["tracebacks"] = log.count("Traceback")
    return result


# ---- stop and kill: what a redeploy or a crash under load loses ----


def questions(tag: str, n: int) -> list[str]:
    return [f"xq{tag}{i}z 这个怎么看" for i in range(n)]


def quoted(text: str) -> list[str]:
    return re.findall(r"xq[a-z0-9]+z", text)


async def interrupted(sig: signal.Signals, total: int, stop_after: int) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp:
        personas = write_personas(Path(tmp) / "personas")
        async with BotApiServer(TOKEN) as server:
            server.timeout = 300.0
            chats = [server.private_chat(6000 + i, f"U{i}") for i in range(30)]
            bot = BotProcess(TOKEN, server.root_url, personas, Path(tmp) / "data")
            bot.argv += ["--poll-timeout", "1"]
            await start(bot, server)
            asked: dict[str, int] = {}
            for i in range(total // len(chats)):
                for chat in chats:
                    [text] = questions(f"c{chat}n{i}", 1)
                    message = await server.send_text(chat, text)
                    asked[text.split()[0]] = server.update_of(message)

            def answered() -> Counter[str]:
                return Counter(t for m in server.sent for t in quoted(m.text))

            await server.wait_for(lambda: len(answered()) >= stop_after, what="answers before the signal")
            signalled = time.monotonic()
            code = await bot.stop(sig, timeout=30)
            exit_s = time.monotonic() - signalled
            at_stop = len(answered())
            restarted = time.monotonic()
            await start(bot, server)
            await server.wait_for(lambda: len(answered()) == total, what="everything answered after the restart")
            rest_s = time.monotonic() - restarted
            await asyncio.sleep(1.0)  # anything repeated would arrive now
            await bot.stop()
            counts = answered()
            log = bot.output()
    twice = sorted(asked[t] for t, n in counts.items() if n > 1)
    logged = sorted(int(u) for u in MAYBE_TWICE.findall(log))
    return {
        "measure": "stop" if sig == signal.SIGTERM else "kill", "questions": total, "signal": sig.name,
        "exit_code": code, "seconds_to_exit": round(exit_s, 2), "answered_at_signal": at_stop,
        "lost": total - len(counts), "sent_twice": len(twice), "logged_as_maybe_twice": len(logged),
        "twice_all_logged": set(twice) <= set(logged), "seconds_to_answer_the_rest_after_restart": round(rest_s, 1),
        "tracebacks": log.count("Traceback"),
    }


# ---- stall: one chat's sends fail, the others go on ----


async def stall(seconds: float = 20.0) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp:
        personas = write_personas(Path(tmp) / "personas")
        async with BotApiServer(TOKEN) as server:
            server.timeout = 120.0
            stuck = server.private_chat(6200, "Stuck")
            others = [server.private_chat(6201 + i, f"O{i}") for i in range(10)]
            bot = BotProcess(TOKEN, server.root_url, personas, Path(tmp) / "data")
            await start(bot, server)
            server.faults.arm("sendmessage", Fault.http(502), times=100_000, chat=stuck)
            failing_since = time.monotonic()
            for text in questions("stuck", 2):
                await server.send_text(stuck, text)
            mark = server.mark()
            waits: list[float] = []

            async def other(chat: int) -> None:
                for text in questions(f"o{chat}n", 2):
                    before = len(server.messages(chat, mark))
                    sent_at = time.monotonic()
                    await server.send_text(chat, text)
                    await server.wait_for(lambda n=before: len(server.messages(chat, mark)) > n, what="an answer")
                    waits.append(time.monotonic() - sent_at)

            await asyncio.gather(*(other(c) for c in others))
            stuck_answered_while_failing = len(server.messages(stuck))
            await asyncio.sleep(max(0.0, seconds - (time.monotonic() - failing_since)))
            server.faults.clear("sendmessage", chat=stuck)
            recovered = time.monotonic()
            await server.wait_for(lambda: len(server.messages(stuck)) >= 2, what="the stuck chat answered")
            stuck_after = time.monotonic() - recovered
            await bot.stop()
    return {"measure": "stall", "failing_seconds": seconds, "other_chats": len(others),
            "others_wait_p50_ms": round(statistics.median(waits) * 1000),
            "others_wait_max_ms": round(max(waits) * 1000),
            "stuck_answered_while_failing": stuck_answered_while_failing,
            "stuck_answered_s_after_recovery": round(stuck_after, 1)}


# ---- burst: 2,000 at once ----


async def burst(total: int = 2000, users: int = 50) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp:
        personas = write_personas(Path(tmp) / "personas")
        async with BotApiServer(TOKEN) as server:
            server.timeout = 300.0
            chats = [server.private_chat(7000 + i, f"B{i}") for i in range(users)]
            newcomer = server.private_chat(7999, "New")
            bot = BotProcess(TOKEN, server.root_url, personas, Path(tmp) / "data")
            await start(bot, server)
            sent_at: dict[str, float] = {}
            for i in range(total // users):
                for chat in chats:
                    [text] = questions(f"b{chat}n{i}", 1)
                    sent_at[text.split()[0]] = time.monotonic()
                    await server.send_text(chat, text)
            started = time.monotonic()
            await asyncio.sleep(5.0)  # the burst is being worked through
            [late] = questions("newcomer", 1)
            sent_at["xqnewcomer0z"] = time.monotonic()
            await server.send_text(newcomer, late)
            got: dict[str, float] = {}

            def collect() -> bool:
                for message in server.sent:
                    for t in quoted(message.text):
                        got.setdefault(t, server.calls[message.call_index].at)
                return len(got) == total + 1

            await server.wait_for(collect, what="the burst answered")
            elapsed = time.monotonic() - started
            await bot.stop()
    waits = [got[t] - sent_at[t] for t in sent_at if t != "xqnewcomer0z"]
    return {"measure": "burst", "questions": total, "users": users, "seconds": round(elapsed, 1),
            "wait_p50_s": round(statistics.median(waits), 1), "wait_p99_s": round(pct(waits, 0.99), 1),
            "newcomer_wait_s": round(got["xqnewcomer0z"] - sent_at["xqnewcomer0z"], 2)}


# ---- alone: one user's turnaround ----


async def alone(n: int = 100) -> dict[str, Any]:
    personas = default_personas_dir()
    conv = Conversation(Engine.load(personas))
    pool = [e.question for p in conv.engine.personas for e in p.entries] + EXTRA
    expected = {q: len(render.render(conv.handle(q, ChatState()))) for q in pool}
    with tempfile.TemporaryDirectory() as tmp:
        async with BotApiServer(TOKEN) as server:
            server.timeout = 60.0
            chat = server.private_chat(9999, "Alone")
            bot = BotProcess(TOKEN, server.root_url, personas, Path(tmp) / "data")
            await start(bot, server)
            inbox = Inbox(server)
            waits: list[float] = []
            try:
                for question in (pool * (n // len(pool) + 1))[:n]:
                    before = inbox.count(chat)
                    sent_at = time.monotonic()
                    await server.send_text(chat, question)
                    await server.wait_for(inbox.reached(chat, before + expected[question]), what="an answer")
                    waits.append(time.monotonic() - sent_at)
            finally:
                await bot.stop()
            fsyncs = []
            probe = Path(tmp) / "fsync-probe"
            with probe.open("ab") as fh:
                for _ in range(50):
                    fh.write(b"x" * 600 + b"\n")
                    fh.flush()
                    began = time.perf_counter()
                    os.fsync(fh.fileno())
                    fsyncs.append(time.perf_counter() - began)
    warm = waits[10:]
    return {"measure": "alone", "questions": len(warm), "turnaround_p50_ms": round(statistics.median(warm) * 1000, 1),
            "turnaround_p99_ms": round(pct(warm, 0.99) * 1000, 1),
            "fsync_p50_ms": round(statistics.median(fsyncs) * 1000, 2), "load_average": os.getloadavg()[0]}


async def main_async(args: argparse.Namespace) -> None:
    measures = ["soak", "stop", "kill", "stall", "burst", "alone"] if args.measure == "all" else [args.measure]
    for measure in measures:
        if measure == "soak":
            result = await soak(args.rounds, args.questions, args.users, not args.no_faults)
        elif measure == "stop":
            result = await interrupted(signal.SIGTERM, 900, 30)
        elif measure == "kill":
            result = await interrupted(signal.SIGKILL, 300, 60)
        elif measure == "stall":
            result = await stall()
        elif measure == "alone":
            result = await alone()
        else:
            result = await burst()
        print(json.dumps(result, ensure_ascii=False), flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.soak", description=__doc__.split("\n\n")[0])
    parser.add_argument("measure", nargs="?", default="all",
                        choices=["all", "soak", "stop", "kill", "stall", "burst", "alone"])
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--questions", type=int, default=2000, help="per round")
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument("--no-faults", action="store_true", help="soak without injected Bot API faults")
    asyncio.run(main_async(parser.parse_args()))


if __name__ == "__main__":
    main()
