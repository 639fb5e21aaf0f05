"""Write docs/flows.md from the real bot: each main flow as a user sees it, and every button pressed.

The bot runs as `python -m bot.telegram` against the Bot API test server (tests/botapi), exactly as
in production but with the server standing in for Telegram. Each flow's steps (a message, a tap,
an edit) are played as a user; what the bot sent is written down as the user sees it (the visible
text after Telegram's HTML parsing, buttons listed). Then every callback button the flow produced
is pressed once, and each press must lead somewhere: a new message or an edit that differs from
what is on screen, or a toast that is not "nothing more". Answers must fit 15 phone lines before
their expandable part.

    .venv/bin/python scripts/flows.py                 # write docs/flows.md (shipped personas)
    .venv/bin/python scripts/flows.py --out X.md --personas DIR --json

Exit status 0 when every flow completed and no check failed; 1 otherwise (problems on stderr, and
in the JSON summary with --json). tests/test_flows.py runs it.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import tempfile
import time
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlparse

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT))

from botapi import BotApiServer, SentMessage  # noqa: E402
from botapi.process import BotProcess  # noqa: E402
from botapi.tg_html import parse_html  # noqa: E402

TOKEN = "123456:FLOWS-abcdefghijklmnopqrstuvwxyz01234"
USER, MEMBER, ADMIN = 3001, 3002, 3003
GROUP = -1003000000001
PHONE_LINE, PHONE_SCREEN = 40, 15
SETTLE = 0.25  # seconds without a new Bot API call after which the bot is done answering
NOTHING = ("没有更多", "过期", "不存在", "没有谈到", "没有内容", "nothing", "Nothing")
WHO = {USER: "你", MEMBER: "群成员 B", ADMIN: "群管理员"}


@dataclass(frozen=True)
class Step:
    """One thing a user does: say (text), tap (a button whose label contains text), edit (their
    last message to text), share (open the 分享 link of the last answer)."""

    kind: str
    text: str = ""
    chat: int = USER
    user: int | None = None


def say(text: str, chat: int = USER, user: int | None = None) -> Step:
    return Step("say", text, chat, user)


def tap(label: str, chat: int = USER, user: int | None = None) -> Step:
    return Step("tap", label, chat, user)


@dataclass(frozen=True)
class Flow:
    title: str
    about: str
    steps: tuple[Step, ...]


FLOWS: tuple[Flow, ...] = (
    Flow("第一次打开", "/start：专家、可以直接点的例子和命令。", (say("/start"),)),
    Flow("提问，更多这位专家的观点",
         "一个问题：专家、把握、出处一行、匹配的段落（匹配词加粗）、全文折叠；更多X的观点在原消息里翻页。",
         (say("算力重要吗"), tap("更多"), tap("▶"), tap("◀"))),
    Flow("问题里点名的专家优先", "选了丁磊之后问“沈为怎么看算力”，回答来自沈为。",
         (say("/expert 丁磊"), say("沈为怎么看算力"), say("/all"))),
    Flow("其他专家、对比", "回答下的“其他专家怎么看”和“对比”只在别的专家有自己的贴切回答时出现。",
         (say("数据是壁垒吗"), tap("其他专家"), tap("对比"))),
    Flow("对比两位专家", "/compare A和B 问题、自然语言“A和B怎么看X”、“大家怎么看X”：一屏一张卡片。",
         (say("/compare 丁磊和沈为 算力重要吗"), say("丁磊和沈为怎么看算力"), say("大家怎么看开源"))),
    Flow("按钮一步步对比", "/compare 不带参数：先选两位专家，再选共同话题（在原消息里更新）。",
         (say("/compare"), tap("丁磊"), tap("沈为"), tap("（"))),
    Flow("没有贴切的原话", "直说没有，推荐的问题或话题按钮打开的正是按钮上写的内容。",
         (say("年轻人应该学什么"), tap("模型规模"))),
    Flow("按话题浏览", "/topics 分页（◀ ▶ 在原消息里翻页），点话题看原话。",
         (say("/topics"), tap("▶"), tap("◀"), tap("行业落地"))),
    Flow("闲聊", "你好、谢谢：简短回答，附两个可以直接点的问题。", (say("你好"), tap("？"), say("谢谢"))),
    Flow("English", "A message without Chinese characters gets English chrome; the quote stays verbatim.",
         (say("hi"), say("what about AI regulation"))),
    Flow("分享一条原话", "回答下的“分享”是 t.me/<bot>?start=q_<条目> 链接，打开就是这条原话。",
         (say("AI会取代人吗"), Step("share"))),
    Flow("修改问题", "编辑已发出的问题：机器人编辑原来的回答，而不是再发一条。",
         (say("算力重要吗"), Step("edit", "数据是壁垒吗"))),
    Flow("群聊：每个人自己的专家，管理员设群默认",
         "群里只回答命令、@机器人和回复机器人的消息；/expert 只对自己生效；/default 只有群管理员能设。",
         (say("/expert@PersonaTestBot 丁磊", GROUP, MEMBER), say("@PersonaTestBot 数据是壁垒吗", GROUP, USER),
          say("/default@PersonaTestBot 沈为", GROUP, USER), say("/default@PersonaTestBot 沈为", GROUP, ADMIN),
          say("@PersonaTestBot 算力重要吗", GROUP, USER), say("@PersonaTestBot 算力重要吗", GROUP, MEMBER))),
)


@dataclass
class Result:
    title: str
    steps: int
    done: int = 0
    pressed: int = 0
    problems: list[str] = field(default_factory=list)
    lines: list[str] = field(default_factory=list)

    @property
    def complete(self) -> bool:
        return self.done == self.steps and not self.problems


def phone_lines(text: str) -> int:
    total = 0
    for line in text.split("\n"):
        width = sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in line)
        total += max(1, -(-width // PHONE_LINE))
    return total


def before_fold(message: SentMessage) -> str:
    """The visible text above the first expandable quote (all of it when there is none)."""
    parsed = parse_html(message.html)
    folded = [e["offset"] for e in parsed.entities if e["type"] == "expandable_blockquote"]
    return parsed.text[: folded[0]] if folded else parsed.text


def is_answer(message: SentMessage) -> bool:
    return any(mark in message.text for mark in ("来源：", "Source: ", "对比：", "Compare: "))


class Runner:
    """Plays flows against one bot process and checks what comes back."""

    def __init__(self, server: BotApiServer) -> None:
        self.server = server
        self.last_user_message: dict[int, dict[str, Any]] = {}

    def replies_since(self, mark: int) -> int:
        """Messages the bot sent, edited or deleted after `mark` (not polls, toasts or "typing")."""
        return sum(1 for c in self.server.calls[mark:]
                   if c.method.lower() in ("sendmessage", "editmessagetext", "deletemessage") and c.status == 200)

    async def settle(self, mark: int, timeout: float = 20.0) -> None:
        """Wait for the bot's first message after `mark`, then until it has been quiet for SETTLE."""
        await self.server.wait_for(lambda: self.replies_since(mark) or None, timeout, what="the bot to answer")
        seen, quiet_since = self.replies_since(mark), time.monotonic()
        while time.monotonic() - quiet_since < SETTLE:
            await asyncio.sleep(0.05)
            if self.replies_since(mark) != seen:
                seen, quiet_since = self.replies_since(mark), time.monotonic()

    async def press(self, message: SentMessage, data: str, user: int | None = None) -> str:
        """Tap a button and wait for its effect; returns the toast ("" when it answered with a message)."""
        mark = self.server.mark()
        qid = await self.server.press(message, data=data, user=user)
        toast = str((await self.server.callback_answer(qid, timeout=20)).get("text") or "")
        if not toast:
            await self.settle(mark)
        return toast

    async def reset(self) -> None:
        """Each flow starts from a fresh private chat state (the crawl of the last one picked experts)."""
        mark = self.server.mark()
        await self.server.send_text(USER, "/all")
        await self.settle(mark)

    def on_screen(self, chat: int) -> list[SentMessage]:
        return [m for m in self.server.messages(chat) if not m.deleted]

    def find_button(self, chat: int, label: str) -> tuple[SentMessage, dict[str, Any]]:
        for message in reversed(self.on_screen(chat)):
            for button in message.buttons:
                if label in button["text"] and "callback_data" in button:
                    return message, button
        raise LookupError(f"no button {label!r} on screen")

    def share_link(self, chat: int) -> str:
        for message in reversed(self.on_screen(chat)):
            for button in message.buttons:
                if "url" in button and "start%3Dq_" in button["url"]:
                    link = unquote(parse_qs(urlparse(button["url"]).query)["url"][0])
                    return parse_qs(urlparse(link).query)["start"][0]
        raise LookupError("no 分享 button on screen")

    async def step(self, step: Step, result: Result) -> list[SentMessage]:
        """Do one step; return the bot messages it touched (new or edited), written to the transcript."""
        server, chat = self.server, step.chat
        who = WHO.get(step.user or chat, "你")
        mark = server.mark()
        versions = {m.message_id: len(m.edits) for m in server.messages(chat)}
        toast = None
        if step.kind == "say":
            result.lines.append(f"**{who}** › `{step.text}`\n")
            self.last_user_message[chat] = await server.send_text(chat, step.text, user=step.user)
        elif step.kind == "tap":
            message, button = self.find_button(chat, step.text)
            result.lines.append(f"**{who}** 点按钮 〔{button['text']}〕\n")
            toast = await self.press(message, button["callback_data"], step.user)
        elif step.kind == "edit":
            result.lines.append(f"**{who}** 把刚才的问题改成 `{step.text}`\n")
            await server.edit_text(self.last_user_message[chat], step.text)
        elif step.kind == "share":
            payload = self.share_link(chat)
            link = f"t.me/{server.username}?start={payload}"
            result.lines.append(f"**{who}** 打开分享链接 `{link}`（即 `/start {payload}`）\n")
            self.last_user_message[chat] = await server.send_text(chat, f"/start {payload}", user=step.user)
        if step.kind != "tap":
            await self.settle(mark)
        if toast:
            result.lines.append(f"> 提示（toast）：{toast}\n")
        touched = [m for m in server.messages(chat) if m.message_id not in versions
                   or len(m.edits) > versions[m.message_id]]
        for message in touched:
            how = "（原消息被编辑为）" if message.message_id in versions else ""
            result.lines.append(f"**机器人**{how}\n\n```text\n{message.text}\n```\n")
            if message.buttons:
                result.lines.append("按钮：" + " ".join(f"〔{b['text']}{' ↗' if 'url' in b else ''}〕"
                                                       for b in message.buttons) + "\n")
            if is_answer(message) and phone_lines(before_fold(message)) > PHONE_SCREEN:
                result.problems.append(f"{step.text!r}: {phone_lines(before_fold(message))} phone lines before "
                                       "the expandable part")
        if not touched and not toast:
            result.problems.append(f"{step.kind} {step.text!r}: the bot did nothing")
        return touched

    async def crawl(self, messages: list[SentMessage], result: Result) -> None:
        """Press every callback button of these messages once; each must lead somewhere new."""
        server = self.server
        for message in messages:
            for button in list(message.buttons):
                if "callback_data" not in button:
                    continue
                before = message.text
                known = {m.message_id for m in server.messages(message.chat_id)}
                edits = len(message.edits)
                try:
                    toast = await self.press(message, button["callback_data"], USER)
                except AssertionError:  # no toast and no message within the timeout
                    toast = ""
                result.pressed += 1
                new = [m for m in server.messages(message.chat_id) if m.message_id not in known]
                label = f"〔{button['text']}〕 under {before[:30]!r}"
                if any(word in toast for word in NOTHING):
                    result.problems.append(f"{label}: says there is nothing ({toast})")
                elif not new and len(message.edits) == edits and not toast:
                    result.problems.append(f"{label}: nothing happened")
                elif any(m.text == before for m in new) or (len(message.edits) > edits and message.text == before):
                    result.problems.append(f"{label}: repeats what is on screen")
                for m in new:
                    if is_answer(m) and phone_lines(before_fold(m)) > PHONE_SCREEN:
                        result.problems.append(f"{label}: {phone_lines(before_fold(m))} phone lines before the fold")

    async def play(self, flow: Flow) -> Result:
        result = Result(flow.title, len(flow.steps))
        await self.reset()
        produced: dict[tuple[int, int], SentMessage] = {}
        for step in flow.steps:
            try:
                touched = await self.step(step, result)
            except (LookupError, TimeoutError, AssertionError) as exc:
                result.problems.append(f"{step.kind} {step.text!r}: {exc}")
                break
            result.done += 1
            produced.update({(m.chat_id, m.message_id): m for m in touched})
        await self.crawl(list(produced.values()), result)
        return result


async def run(personas: Path, data: Path) -> list[Result]:
    async with BotApiServer(TOKEN) as server:
        server.timeout = 30.0
        server.private_chat(USER, "Bob")
        server.group_chat(GROUP, members=(USER, MEMBER), admins=(ADMIN,))
        bot = BotProcess(TOKEN, server.root_url, personas, data / "data")
        await bot.start()
        try:
            await server.wait_call("setMyCommands", 0, timeout=60)
            await server.wait_for(lambda: server.polls_waiting > 0 or None, 60, what="the bot to poll")
            runner = Runner(server)
            return [await runner.play(flow) for flow in FLOWS]
        finally:
            await bot.stop()
            errors = [line for line in bot.output().splitlines() if "ERROR" in line or "Traceback" in line]
            for line in errors[:20]:
                print(f"flows: bot: {line}", file=sys.stderr)


def markdown(results: list[Result], personas: Path) -> str:
    where = "the shipped personas" if personas == ROOT / "personas" else f"personas from {personas.name}/"
    out = ["# 对话流程 / Flows\n",
           f"Generated by `scripts/flows.py` from the real bot (`python -m bot.telegram`, polling the Bot API "
           f"test server in `tests/botapi/`) on {where}; do not edit by hand. Text is what a user sees (after "
           "Telegram's HTML parsing: bold, quotes and links are not marked here), buttons are listed in 〔〕 "
           "(↗: a link). After each flow every button it produced was pressed once "
           "(`tests/test_flows.py` checks that each leads somewhere).\n"]
    for number, result in enumerate(results, 1):
        flow = FLOWS[number - 1]
        out.append(f"## {number}. {result.title}\n")
        out.append(f"{flow.about}\n")
        out += result.lines
        out.append(f"*按过的按钮：{result.pressed}*\n")
    return "\n".join(out)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--personas", type=Path, default=ROOT / "personas")
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "flows.md")
    parser.add_argument("--json", action="store_true", help="print a summary of every flow as JSON")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="flows-") as tmp:
        results = asyncio.run(run(args.personas.resolve(), Path(tmp)))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(markdown(results, args.personas.resolve()), encoding="utf-8")
    if args.json:
        print(json.dumps([{"title": r.title, "steps": r.steps, "done": r.done, "pressed": r.pressed,
                           "complete": r.complete, "problems": r.problems} for r in results], ensure_ascii=False))
    for r in results:
        for problem in r.problems:
            print(f"flows: {r.title}: {problem}", file=sys.stderr)
    return 0 if all(r.complete for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
