"""The one command table feeds every front end: Telegram's handlers and menu, /help, the terminal
chat and the README. A command added to the table and forgotten anywhere fails here."""

from __future__ import annotations

import re
import typing
from pathlib import Path

from botapi.personas import write_personas

from bot.conversation import CHAT, COMMANDS, MENU, ChatState, Conversation, Help, Reply, UnknownCommand
from bot.matching import Engine
from bot.telegram.app import COMMAND_HANDLERS

ROOT = Path(__file__).resolve().parent.parent


def test_every_command_has_exactly_one_telegram_handler() -> None:
    assert set(COMMAND_HANDLERS) == {c.name for c in COMMANDS}
    assert len({c.name for c in COMMANDS}) == len(COMMANDS)


def test_chat_commands_are_handled_by_the_conversation_and_listed_by_help(tmp_path: Path) -> None:
    conv = Conversation(Engine.load(write_personas(tmp_path)), commands=CHAT)
    for command in CHAT:
        reply = conv.command(command.name, "", ChatState())
        assert not isinstance(reply, UnknownCommand), command.name
    shown = conv.help(ChatState())
    assert isinstance(shown, Help) and shown.commands == CHAT
    assert isinstance(conv.command("reload", "", ChatState()), UnknownCommand)  # Telegram's only


def test_readme_names_every_menu_command() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    telegram = readme[readme.index("## The Telegram bot"):]
    for command in MENU:
        assert re.search(rf"`/{command.name}\b", telegram), f"/{command.name} is not in the README's Telegram section"


def test_every_reply_kind_has_a_case_in_the_one_view_builder() -> None:
    source = (ROOT / "bot" / "views" / "build.py").read_text(encoding="utf-8")
    for kind in typing.get_args(Reply):
        assert f"case {kind.__name__}():" in source, kind.__name__
    assert "assert_never(reply)" in source
    for renderer in ("bot/telegram/render.py", "bot/render_text.py", "bot/telegram/keyboards.py"):
        assert "case " not in (ROOT / renderer).read_text(encoding="utf-8"), f"{renderer} matches reply kinds itself"
