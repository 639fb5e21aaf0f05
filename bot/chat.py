"""`persona-bot chat`: the Telegram bot's commands in a terminal, with no token and no network.

Each line goes through the same `Conversation` as Telegram; only the rendering differs.
"""

from __future__ import annotations

from typing import TextIO

from bot.conversation import ChatState, Conversation
from bot.matching import Engine
from bot.render_text import render_reply

_QUIT = {"/quit", "/exit", "quit", "exit", ":q"}
MAX_LINE = 4096


def run_chat(engine: Engine, stdin: TextIO, stdout: TextIO) -> int:
    """Read lines until EOF or /quit; answer each one. Returns the exit code."""
    conversation = Conversation(engine)
    state = ChatState()
    interactive = stdin.isatty()
    stdout.write(render_reply(conversation.start("", state), engine) + "\n")
    while True:
        if interactive:
            stdout.write("\n> ")
        stdout.flush()
        try:
            line = stdin.readline()
        except UnicodeDecodeError:
            stdout.write("这一行不是有效的 UTF-8 文本，已跳过。\n")
            continue
        if not line:
            return 0
        text = line.strip()
        if text in _QUIT:
            return 0
        if len(text) > MAX_LINE:
            stdout.write(f"问题太长了（{len(text)} 字）：请控制在 {MAX_LINE} 字以内。\n")
            continue
        stdout.write(render_reply(conversation.handle(text, state), engine) + "\n")
