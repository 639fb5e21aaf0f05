"""What every handler needs, kept in `application.bot_data` (not a module global)."""

from __future__ import annotations

import asyncio
from collections import OrderedDict
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, TypeVar

from telegram.ext import CallbackContext, ContextTypes, ExtBot

from bot.conversation import Conversation
from bot.feedback.config import FeedbackConfig
from bot.feedback.recorder import Recorder
from bot.telegram.config import Settings

KEY = "services"
T = TypeVar("T")
MAX_REMEMBERED = 2000  # replies remembered for editing when their question is edited (memory only)


@dataclass
class Services:
    conversation: Conversation
    settings: Settings
    reload_lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    # Texts behind buttons, per chat, in memory only: users' questions are not written to disk,
    # and after a restart their old buttons are simply stale.
    stashes: dict[int, dict[str, str]] = field(default_factory=dict)
    # Chats are handled concurrently, but the engine was written for one caller at a time: its calls
    # take milliseconds of CPU, so one thread costs nothing and spares it any need to be thread-safe.
    engine_thread: ThreadPoolExecutor = field(
        default_factory=lambda: ThreadPoolExecutor(max_workers=1, thread_name_prefix="engine"))
    # The curator loop (bot/feedback/): where questions are recorded, and the recorder (None: off).
    feedback: FeedbackConfig | None = None
    recorder: Recorder | None = None

    # (chat id, question message id) -> the ids of the reply's messages, so an edited question can
    # edit its answer in place. In memory only: after a restart an edit gets a new reply instead.
    replies: OrderedDict[tuple[int, int], list[int]] = field(default_factory=OrderedDict)

    def remember_reply(self, chat_id: int, message_id: int, sent: list[int]) -> None:
        self.replies[(chat_id, message_id)] = sent
        self.replies.move_to_end((chat_id, message_id))
        while len(self.replies) > MAX_REMEMBERED:
            self.replies.popitem(last=False)

    async def in_engine_thread(self, call: Callable[..., T], *args: Any) -> T:
        """Run an engine call off the event loop, one at a time."""
        return await asyncio.get_running_loop().run_in_executor(self.engine_thread, call, *args)


class BotData(dict[str, Any]):
    """bot_data: one `Services` under KEY (plus the /review skips); not persisted."""

    @property
    def services(self) -> Services:
        found = self.get(KEY)
        if not isinstance(found, Services):
            raise RuntimeError("bot_data has no Services: build the application with app.build_application()")
        return found


# chat_data stays a plain dict: the persistence layer hands back the JSON it stored (state.py reads it).
BotContext = CallbackContext[ExtBot[None], dict[Any, Any], dict[Any, Any], BotData]
CONTEXT_TYPES = ContextTypes(context=CallbackContext, bot_data=BotData)


def services(context: BotContext) -> Services:
    found: Any = context.bot_data.get(KEY)
    if not isinstance(found, Services):
        raise RuntimeError("bot_data has no Services: build the application with app.build_application()")
    return found
