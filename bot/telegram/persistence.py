"""Chat data (each chat's current expert) in one JSON file that a crash cannot corrupt.

PTB's PicklePersistence opens its file with "wb" and writes in place, so a SIGKILL mid-write
leaves a truncated pickle. Here every write goes to a temporary file that is fsynced and then
os.replace()d over the old one: readers see the old file or the new one, never half of either.
A file that does not parse anyway (hand edit, disk trouble) is moved aside with a warning and the
bot starts with empty state instead of refusing to run.
"""

from __future__ import annotations

import contextlib
import copy
import json
import logging
import os
import time
from pathlib import Path
from typing import Any

from telegram.ext import BasePersistence, PersistenceInput

logger = logging.getLogger(__name__)

FILE_NAME = "chats.json"
_VERSION = 1
ChatData = dict[Any, Any]


class JsonChatPersistence(BasePersistence[dict[Any, Any], ChatData, dict[Any, Any]]):
    """Persist chat_data only; user_data, bot_data and callback data stay in memory."""

    def __init__(self, data_dir: Path, update_interval: float = 60) -> None:
        super().__init__(
            store_data=PersistenceInput(bot_data=False, chat_data=True, user_data=False, callback_data=False),
            update_interval=update_interval,
        )
        self.path = Path(data_dir) / FILE_NAME
        self._chat_data: dict[int, ChatData] | None = None

    # ---- file ----

    def _load(self) -> dict[int, ChatData]:
        if self._chat_data is not None:
            return self._chat_data
        self._chat_data = {}
        for leftover in self.path.parent.glob(f".{self.path.name}.*.tmp"):  # a write cut short by SIGKILL
            with contextlib.suppress(OSError):
                leftover.unlink()
        try:
            raw = self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return self._chat_data
        except OSError as exc:
            logger.warning("cannot read %s (%s); starting with empty chat state", self.path, exc)
            return self._chat_data
        try:
            data = json.loads(raw)
            chats = data["chat_data"]
            if not isinstance(chats, dict) or not all(isinstance(v, dict) for v in chats.values()):
                raise ValueError("chat_data is not a mapping of mappings")
            self._chat_data = {int(k): v for k, v in chats.items()}
        except (ValueError, KeyError, TypeError) as exc:
            aside = self.path.with_name(f"{self.path.name}.corrupt-{int(time.time())}")
            with contextlib.suppress(OSError):
                os.replace(self.path, aside)
            logger.warning("%s is corrupt (%s); moved it to %s and started with empty chat state",
                           self.path, exc, aside.name)
        return self._chat_data

    def _write(self) -> None:
        """Atomic replace: temp file in the same directory, fsync, os.replace, fsync the directory."""
        chats = self._load()
        payload = json.dumps({"version": _VERSION, "chat_data": {str(k): v for k, v in chats.items()}},
                             ensure_ascii=False, indent=1, sort_keys=True)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_name(f".{self.path.name}.{os.getpid()}.tmp")
        with tmp.open("w", encoding="utf-8") as fh:
            fh.write(payload)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, self.path)
        with contextlib.suppress(OSError):
            dir_fd = os.open(self.path.parent, os.O_RDONLY)
            try:
                os.fsync(dir_fd)
            finally:
                os.close(dir_fd)

    # ---- chat data: the only thing stored ----

    async def get_chat_data(self) -> dict[int, ChatData]:
        return copy.deepcopy(self._load())

    async def update_chat_data(self, chat_id: int, data: ChatData) -> None:
        chats = self._load()
        if chats.get(chat_id) == data:
            return
        chats[chat_id] = copy.deepcopy(data)
        self._write()

    async def drop_chat_data(self, chat_id: int) -> None:
        if self._load().pop(chat_id, None) is not None:
            self._write()

    async def refresh_chat_data(self, chat_id: int, chat_data: ChatData) -> None:
        """Nothing to refresh: this process is the file's only writer."""

    async def flush(self) -> None:
        if self._chat_data is not None:
            self._write()

    # ---- everything else is not persisted ----

    async def get_user_data(self) -> dict[int, dict[Any, Any]]:
        return {}

    async def get_bot_data(self) -> dict[Any, Any]:
        return {}

    async def get_callback_data(self) -> None:
        return None

    async def get_conversations(self, name: str) -> dict[Any, Any]:
        return {}

    async def update_conversation(self, name: str, key: Any, new_state: object | None) -> None:
        return None

    async def update_user_data(self, user_id: int, data: dict[Any, Any]) -> None:
        return None

    async def update_bot_data(self, data: dict[Any, Any]) -> None:
        return None

    async def update_callback_data(self, data: Any) -> None:
        return None

    async def drop_user_data(self, user_id: int) -> None:
        return None

    async def refresh_user_data(self, user_id: int, user_data: dict[Any, Any]) -> None:
        return None

    async def refresh_bot_data(self, bot_data: dict[Any, Any]) -> None:
        return None
