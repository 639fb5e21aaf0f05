"""What every handler needs, kept in `application.bot_data` (not a module global)."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Any

from telegram.ext import ContextTypes

from bot.conversation import Conversation
from bot.telegram.config import Settings

KEY = "services"


@dataclass
class Services:
    conversation: Conversation
    settings: Settings
    reload_lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    # Texts behind buttons, per chat, in memory only: users' questions are not written to disk,
    # and after a restart their old buttons are simply stale.
    stashes: dict[int, dict[str, str]] = field(default_factory=dict)


def services(context: ContextTypes.DEFAULT_TYPE) -> Services:
    found: Any = context.bot_data.get(KEY)
    if not isinstance(found, Services):
        raise RuntimeError("bot_data has no Services: build the application with app.build_application()")
    return found
