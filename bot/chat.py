"""`persona-bot chat`: the Telegram bot's commands in a terminal, with no token and no network.

Each line goes through the same `Conversation` as Telegram and each reply through the same view
(bot/views); only the rendering differs. Buttons are numbered: typing the number presses it.
"""

from __future__ import annotations

from typing import TextIO

from bot.conversation import CHAT, ChatState, Conversation, Reply
from bot.conversation.actions import ACTIONS, SHARE
from bot.conversation.core import QUOTE_LINK
from bot.matching import Engine
from bot.render_text import render_view
from bot.views import Button, View, build

_QUIT = {"/quit", "/exit", "quit", "exit", ":q"}
MAX_LINE = 4096


def _press(conversation: Conversation, state: ChatState, button: Button) -> Reply | str:
    """What a numbered choice does: the button's action, or the link a 分享 button stands for."""
    if button.action == SHARE:
        return f"/start {QUOTE_LINK}{button.args[0]}"
    return ACTIONS[button.action](conversation, state, list(button.args))


def run_chat(engine: Engine, stdin: TextIO, stdout: TextIO) -> int:
    """Read lines until EOF or /quit; answer each one. Returns the exit code."""
    conversation = Conversation(engine, commands=CHAT)
    state = ChatState()
    interactive = stdin.isatty()
    view: View = build(conversation.start("", state))
    stdout.write(render_view(view) + "\n")
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
        if text.isdigit() and 1 <= int(text) <= len(view.buttons):
            pressed = _press(conversation, state, view.buttons[int(text) - 1])
            if isinstance(pressed, str):
                stdout.write(pressed + "\n")
                continue
            reply = pressed
        else:
            reply = conversation.handle(text, state)
        shown = build(reply)
        if shown.toast is None:  # a toast changes nothing on screen: the old choices stay
            view = shown
        stdout.write(render_view(shown) + "\n")
