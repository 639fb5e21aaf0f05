"""Chat data (each chat's current expert) in one JSON file that a crash cannot corrupt.

PTB's PicklePersistence opens its file with "wb" and writes in place, so a SIGKILL mid-write
leaves a truncated pickle. Here every write goes to a temporary file that is fsynced and then
os.replace()d over the old one: readers see the old file or the new one, never half of either.
A file that does not parse anyway (hand edit, disk trouble) is moved aside with a warning and the
bot starts with empty state instead of refusing to run.

The directory is the bot's alone (0700) and every file in it 0600: chat ids and the update
journal are nobody else's business. A directory the bot cannot write refuses the start in one
line (`prepare_data_dir`); a write that fails later (disk full) is one warning, and the state
stays in memory until a write succeeds.
"""

from __future__ import annotations

import contextlib
import copy
import json
import logging
import os
import stat
import time
from pathlib import Path
from typing import Any

from telegram.ext import BasePersistence, PersistenceInput

logger = logging.getLogger(__name__)

FILE_NAME = "chats.json"
_VERSION = 1
DIR_MODE, FILE_MODE = 0o700, 0o600
ChatData = dict[Any, Any]


class DataDirError(OSError):
    """The data directory cannot be created or written; the message is one line for the operator."""


def prepare_data_dir(directory: Path) -> None:
    """Create the directory (0700), tighten it and its files, and prove it is writable."""
    if directory.exists() and not directory.is_dir():
        raise DataDirError(f"data directory {directory} is not a directory")
    try:
        directory.mkdir(mode=DIR_MODE, parents=True, exist_ok=True)
        _tighten(directory)
        probe = directory / f".write-test.{os.getpid()}"
        fd = os.open(probe, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, FILE_MODE)
        try:
            os.write(fd, b"ok")
        finally:
            os.close(fd)
            probe.unlink()
    except OSError as exc:
        raise DataDirError(f"cannot write to data directory {directory}: {exc.strerror or exc}") from None


def _tighten(directory: Path) -> None:
    """0700 for the directory and 0600 for its files (an older version wrote 0755/0644); a warning where
    that is not allowed (a volume owned by someone else): the bot can still run, the operator should know."""
    paths = [directory, *(p for p in directory.iterdir() if p.is_file() and not p.is_symlink())]
    for path in paths:
        want = DIR_MODE if path == directory else FILE_MODE
        try:
            if stat.S_IMODE(path.stat().st_mode) & ~want:
                os.chmod(path, want)
        except OSError as exc:
            logger.warning("cannot make %s private (%s): other users of this machine may read it", path,
                           exc.strerror or exc)


def write_private(path: Path, payload: bytes) -> None:
    """Atomic replace: 0600 temp file in the same directory, fsync, os.replace, fsync the directory."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, FILE_MODE)
    try:
        os.fchmod(fd, FILE_MODE)  # a leftover temp file of another mode is reused
        view = memoryview(payload)
        while view:
            view = view[os.write(fd, view):]
        os.fsync(fd)
    finally:
        os.close(fd)
    os.replace(tmp, path)
    with contextlib.suppress(OSError):
        dir_fd = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)


class JsonChatPersistence(BasePersistence[dict[Any, Any], ChatData, dict[Any, Any]]):
    """Persist chat_data only; user_data, bot_data and callback data stay in memory."""

    def __init__(self, data_dir: Path, update_interval: float = 60) -> None:
        super().__init__(
            store_data=PersistenceInput(bot_data=False, chat_data=True, user_data=False, callback_data=False),
            update_interval=update_interval,
        )
        self.path = Path(data_dir) / FILE_NAME
        self._chat_data: dict[int, ChatData] | None = None
        self._failing: str | None = None  # the last write error, so a failing disk logs once, not per change

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
        """Write every chat's state atomically; a failure is one warning and the state stays in memory."""
        chats = self._load()
        payload = json.dumps({"version": _VERSION, "chat_data": {str(k): v for k, v in chats.items()}},
                             ensure_ascii=False, indent=1, sort_keys=True)
        try:
            self.path.parent.mkdir(mode=DIR_MODE, parents=True, exist_ok=True)
            write_private(self.path, payload.encode("utf-8"))
        except OSError as exc:
            reason = exc.strerror or str(exc)
            if reason != self._failing:
                logger.warning("cannot save chat state to %s (%s); kept in memory, saved again on the next change",
                               self.path, reason)
            self._failing = reason
            return
        if self._failing is not None:
            logger.info("chat state saved to %s again", self.path)
            self._failing = None

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
