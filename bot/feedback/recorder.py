"""Recording from a running bot: fire and forget, so the store can never slow or break answering.

`record()` and `verdict()` put a small job on a bounded in-memory queue and return at once; one
background thread owns the SQLite connection and writes. Whatever goes wrong with the database
is that thread's problem, logged once per kind of problem (and once more when it works again):

- read-only file or directory, full disk, another process holding the lock past the busy
  timeout: the question is dropped, the bot goes on answering;
- the file deleted or replaced while the bot runs: a new database is started;
- a corrupt file (or one that is not a database): moved aside as `NAME.corrupt-TIMESTAMP`, and
  a new one started;
- a file written by a newer persona-bot: left alone, nothing recorded.

A verdict is keyed by HMAC-SHA256(secret, "chat:message:user"), computed here before the job
is queued, so the ids never reach the queue or the disk. The secret is per deployment:
`PERSONA_BOT_FEEDBACK_SECRET`, else a random key written once (0600) beside the database.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import logging
import os
import queue
import secrets
import sqlite3
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from bot.feedback import candidates
from bot.feedback.config import FeedbackConfig
from bot.feedback.settings import Settings, settings
from bot.feedback.store import Asked, FeedbackStore, NewerSchema
from bot.matching import Answer

logger = logging.getLogger(__name__)

PRUNE_EVERY = 3600.0  # seconds between retention sweeps of a running bot
_CORRUPT = frozenset({"SQLITE_CORRUPT", "SQLITE_NOTADB"})
_FILE_MODE = 0o600


@dataclass(frozen=True)
class _Question:
    asked: Asked


@dataclass(frozen=True)
class _Verdict:
    ref: str
    key: str
    good: bool
    at: float


_STOP = object()


class Recorder:
    """The bot's side of the feedback store. Thread-safe; no method raises or waits on the disk."""

    def __init__(self, config: FeedbackConfig, via: str = "telegram", tuning: Settings | None = None) -> None:
        self.config = config
        self.via = via
        self._settings = tuning or settings()
        self._queue: queue.Queue[object] = queue.Queue(maxsize=self._settings.max_pending)
        self._thread: threading.Thread | None = None
        self._start_lock = threading.Lock()
        self._store: FeedbackStore | None = None
        self._identity: tuple[int, int] | None = None
        self._pruned_at = 0.0
        self._warned: set[str] = set()
        self._secret: bytes | None = None

    @property
    def enabled(self) -> bool:
        return self.config.enabled

    @property
    def retention_days(self) -> int:
        return self.config.retention_days

    # ---- the answering path: never raises, never blocks ----

    def record(self, text: str, expert: str | None, answer: Answer) -> str | None:
        """Queue one asked question; returns its reference (for 👍/👎 buttons), None when not recording.

        The entries stored are those the answer gave. Near misses of an unanswered question are not
        looked up here: the engine is called from one thread only (bot/telegram/services.py), and
        `review` finds them with the engine of the day anyway."""
        if not self.config.enabled:
            return None
        try:
            ref = secrets.token_urlsafe(9)  # 12 characters: fits a button's 64 bytes with room to spare
            shown = candidates.shown(answer)
            asked = Asked(ref, text, expert, bool(shown), shown, self.via)
            return ref if self._put(_Question(asked)) else None
        except Exception as exc:  # recording must not break answering, whatever the bug
            self._warn("record", "feedback: a question could not be queued: %s", _describe(exc))
            return None

    def verdict(self, ref: str, good: bool, *, chat_id: int, message_id: int, user_id: int) -> bool:
        """Queue a 👍 (`good`) or 👎 for a recorded question; one per person per message, the last
        tap wins. The ids are hashed here and dropped; False when not recording."""
        if not self.config.enabled:
            return False
        try:
            key = self.verdict_key(chat_id, message_id, user_id)
            return self._put(_Verdict(ref, key, good, time.time()))
        except Exception as exc:
            self._warn("verdict", "feedback: a verdict could not be queued: %s", _describe(exc))
            return False

    def verdict_key(self, chat_id: int, message_id: int, user_id: int) -> str:
        """The keyed hash a verdict is stored under: the same person and message always give the same key."""
        message = f"{chat_id}:{message_id}:{user_id}".encode()
        return hmac.new(self._key(), message, hashlib.sha256).hexdigest()[:32]

    def _put(self, job: object) -> bool:
        self._start()
        try:
            self._queue.put_nowait(job)
        except queue.Full:
            self._warn("full", "feedback: %d questions are waiting for the database; dropping new ones",
                       self._queue.maxsize)
            return False
        return True

    # ---- life cycle ----

    def flush(self, timeout: float = 5.0) -> bool:
        """Wait until every queued job is written (or dropped); for tests and shutdown."""
        deadline = time.monotonic() + timeout
        while self._queue.unfinished_tasks:
            if time.monotonic() > deadline:
                return False
            time.sleep(0.005)
        return True

    def close(self, timeout: float = 5.0) -> None:
        """Write what is queued, stop the thread, close the database."""
        thread = self._thread
        if thread is None:
            return
        with contextlib.suppress(queue.Full):
            self._queue.put(_STOP, timeout=timeout)
        thread.join(timeout)
        self._thread = None

    def _start(self) -> None:
        if self._thread is not None:
            return
        with self._start_lock:
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="feedback-writer", daemon=True)
                self._thread.start()

    # ---- the writer thread ----

    def _run(self) -> None:
        while True:
            job = self._queue.get()
            try:
                if job is _STOP:
                    self._close_store()
                    return
                self._handle(job)
            except Exception as exc:  # a bug here must not kill the thread: later jobs may succeed
                self._warn("bug", "feedback: recording failed: %s", _describe(exc))
            finally:
                self._queue.task_done()

    def _handle(self, job: object) -> None:
        for attempt in (1, 2):
            store = self._open()
            if store is None:
                return
            try:
                if isinstance(job, _Question):
                    store.add(job.asked)
                elif isinstance(job, _Verdict):
                    store.set_verdict(job.ref, job.key, job.good, job.at)
                self._prune(store)
                self._recovered()
                return
            except sqlite3.DatabaseError as exc:
                if _is_corrupt(exc) and attempt == 1:
                    self._quarantine()
                    continue  # once, into the new database
                self._fail(exc)
                return
            except OSError as exc:
                self._fail(exc)
                return

    def _open(self) -> FeedbackStore | None:
        """The open store, (re)opened when needed; None after a logged problem."""
        path = self.config.path
        if self._store is not None and self._identity != _identity(path):
            self._warn("gone", "feedback database %s was deleted or replaced while the bot ran; starting a new one",
                       path)
            self._close_store()
        if self._store is not None:
            return self._store
        for attempt in (1, 2):
            try:
                store = FeedbackStore.open(path, self._settings.busy_timeout_ms)
            except NewerSchema as exc:
                self._warn("newer", "feedback database %s: %s; recording nothing (upgrade persona-bot or "
                           "move it aside)", path, exc)
                return None
            except sqlite3.DatabaseError as exc:
                if _is_corrupt(exc) and attempt == 1:
                    self._quarantine()
                    continue
                self._fail(exc)
                return None
            except OSError as exc:
                self._fail(exc)
                return None
            self._store, self._identity = store, _identity(path)
            self._pruned_at = 0.0
            return store
        return None

    def _prune(self, store: FeedbackStore) -> None:
        now = time.time()
        if now - self._pruned_at >= PRUNE_EVERY:
            self._pruned_at = now
            store.prune(self.config.retention_days, now)

    def _quarantine(self) -> None:
        """Move a corrupt database (and its WAL files) aside; the next open starts a new one."""
        self._close_store()
        path = self.config.path
        aside = path.with_name(f"{path.name}.corrupt-{time.strftime('%Y%m%dT%H%M%S')}")
        for suffix in ("", "-wal", "-shm"):
            with contextlib.suppress(OSError):
                Path(f"{path}{suffix}").replace(f"{aside}{suffix}")
        self._warn("corrupt", "feedback database %s is corrupt; moved it to %s and started a new one", path, aside)

    def _fail(self, exc: BaseException) -> None:
        """Log a database problem once per kind, drop the job, reopen next time (unless just busy)."""
        kind = _kind(exc)
        self._warn(kind, "feedback: cannot write %s (%s); questions are not recorded until this is fixed, "
                   "the bot keeps answering", self.config.path, _describe(exc))
        if kind != "SQLITE_BUSY":
            self._close_store()

    def _close_store(self) -> None:
        if self._store is not None:
            with contextlib.suppress(sqlite3.Error):
                self._store.close()
        self._store, self._identity = None, None

    def _warn(self, kind: str, message: str, *args: object) -> None:
        if kind not in self._warned:
            self._warned.add(kind)
            logger.warning(message, *args)

    def _recovered(self) -> None:
        if self._warned - {"gone", "corrupt"}:
            logger.info("feedback: recording to %s works again", self.config.path)
        self._warned.clear()

    # ---- the per-deployment secret ----

    def _key(self) -> bytes:
        if self._secret is None:
            self._secret = self._load_secret()
        return self._secret

    def _load_secret(self) -> bytes:
        if self.config.secret:
            return self.config.secret.encode()
        path = self.config.key_path
        try:
            return bytes.fromhex(path.read_text(encoding="ascii").strip())
        except FileNotFoundError:
            pass
        except (OSError, ValueError) as exc:
            self._warn("key", "feedback: cannot read %s (%s); verdicts are keyed for this run only", path,
                       _describe(exc))
            return secrets.token_bytes(32)
        fresh = secrets.token_bytes(32)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, _FILE_MODE)
            with os.fdopen(fd, "w", encoding="ascii") as out:
                out.write(fresh.hex() + "\n")
        except FileExistsError:  # another process made it first: use theirs
            return bytes.fromhex(path.read_text(encoding="ascii").strip())
        except OSError as exc:
            self._warn("key", "feedback: cannot write %s (%s); verdicts are keyed for this run only", path,
                       _describe(exc))
        return fresh


def privacy_notice(recorder: Recorder | None) -> str:
    """What /privacy tells users: exactly what is kept, for how long, and what is not."""
    if recorder is None or not recorder.enabled:
        return "这个机器人不记录你提的问题，也不记录你是谁。"
    return (
        "为了改进回答，这个机器人会记录：你提的问题原文（其中的电话号码和邮箱地址会被遮盖）、语言、"
        "问的是哪位专家、是否答上、给出的回答及其把握，以及你对回答按的 👍/👎。\n"
        "不记录：你的名字、用户名、用户 ID 和聊天 ID。问题不与任何人关联；👍/👎 只以带密钥的散列区分"
        "（每个部署一把密钥），用来保证每人每条只算一票，无法还原成身份。\n"
        f"记录保存 {recorder.retention_days} 天后自动删除。部署者可以关闭记录（--no-log）。"
    )


def _identity(path: Path) -> tuple[int, int] | None:
    try:
        st = os.stat(path)
    except OSError:
        return None
    return st.st_dev, st.st_ino


def _is_corrupt(exc: BaseException) -> bool:
    name = getattr(exc, "sqlite_errorname", "") or ""
    return name in _CORRUPT or "file is not a database" in str(exc) or "malformed" in str(exc)


def _kind(exc: BaseException) -> str:
    """A stable name for a kind of failure: SQLITE_READONLY, SQLITE_BUSY, SQLITE_FULL, OSError..."""
    name = getattr(exc, "sqlite_errorname", None)
    if isinstance(name, str) and name:
        return "_".join(name.split("_")[:2])  # SQLITE_READONLY_DBMOVED -> SQLITE_READONLY
    return type(exc).__name__


def _describe(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"
