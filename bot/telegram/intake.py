"""Updates in: our own getUpdates loop (or webhook), one ordered lane per chat, a bounded give-up.

PTB's Updater is not used. It confirms a whole batch to Telegram as soon as it is fetched and
hands updates to one queue that the Application works through one at a time, so a SIGKILL lost
every fetched update and one chat whose replies were failing held up every other chat. Here:

- **At least once.** A batch is written to the journal (fsynced) before the next getUpdates
  moves the offset past it; a webhook POST is answered 200 only after the same. Each update is
  marked done once handled, so after a kill or a stop whatever was not done is handled again.
- **Exactly-once replies, as far as possible.** Updates Telegram delivers again are recognised by
  id and dropped. An update is marked *sending* when its first Bot API call leaves (after any
  throttling wait) and *done* when handled; only one sending and not done at a kill can have its
  reply repeated, and each such case is logged when it is handled again.
- **Chats in parallel, each in order.** Each chat (inline queries: each user) has its own queue
  and worker, so a slow or failing chat delays only itself. An update that takes longer than
  `deadline` seconds (its reply retried in vain) is given up, logged, and the chat goes on.
- **Stopping does not drain.** On SIGTERM fetching stops, running handlers get a short grace,
  the rest stays in the journal for the next start: a stop takes about two seconds whatever the
  backlog, inside Docker's 10 s.
- **Back-pressure.** Past `max_backlog` unhandled updates, fetching pauses (Telegram keeps them).
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import json
import logging
import time
from collections import deque
from collections.abc import Awaitable, Callable
from typing import Any

from telegram import Bot, Update
from telegram.error import InvalidToken, RetryAfter, TelegramError

from bot.telegram.delivery import ON_SEND, describe, retry_after_seconds
from bot.telegram.journal import Journal, Pending, Raw

logger = logging.getLogger(__name__)

UPDATE_DEADLINE = 150.0  # seconds one update may take; the delivery layer gives up a send after 120
STOP_GRACE = 1.5  # seconds running handlers get to finish when the bot stops
MAX_BACKLOG = 5_000  # unhandled updates in memory before fetching pauses
MAX_POLL_BACKOFF = 5.0


def lane_of(update: Update) -> int:
    """The key whose updates must stay in order: the chat, else the user (inline queries), else 0."""
    if update.effective_chat is not None:
        return update.effective_chat.id
    if update.effective_user is not None:
        return update.effective_user.id
    return 0


class Lanes:
    """One queue and one worker task per chat: in order within a chat, concurrent across chats."""

    def __init__(self, process: Callable[[Update], Awaitable[None]], journal: Journal, *,
                 deadline: float = UPDATE_DEADLINE) -> None:
        self._process = process
        self._journal = journal
        self.deadline = deadline
        self._queues: dict[int, deque[Update]] = {}
        self._workers: dict[int, asyncio.Task[None]] = {}
        self._retried: set[int] = set()  # update ids whose handling had started before the last stop
        self._backlog = 0
        self._room = asyncio.Event()
        self._room.set()
        self._closing = False

    @property
    def backlog(self) -> int:
        """Updates accepted and not yet handled (queued or running)."""
        return self._backlog

    def submit(self, update: Update, *, retried: bool = False) -> None:
        key = lane_of(update)
        self._queues.setdefault(key, deque()).append(update)
        if retried:
            self._retried.add(update.update_id)
        self._backlog += 1
        if self._backlog >= MAX_BACKLOG:
            self._room.clear()
        if key not in self._workers and not self._closing:
            self._workers[key] = asyncio.create_task(self._work(key), name=f"lane:{key}")

    async def room(self) -> None:
        """Wait until the backlog is below MAX_BACKLOG."""
        await self._room.wait()

    async def _work(self, key: int) -> None:
        queue = self._queues[key]
        try:
            while queue and not self._closing:
                update = queue[0]
                await self._handle(key, update)  # a cancellation here leaves it queued and not done
                queue.popleft()
                self._backlog -= 1
                if self._backlog < MAX_BACKLOG:
                    self._room.set()
        finally:
            if not queue:
                del self._queues[key]
            del self._workers[key]

    async def _handle(self, key: int, update: Update) -> None:
        uid = update.update_id
        if uid in self._retried:
            self._retried.discard(uid)
            logger.warning("update %d (chat %s) was being answered when the bot last stopped; answering it again, "
                           "so a reply may be sent twice", uid, key)
        started = time.monotonic()
        mark = ON_SEND.set(lambda: self._journal.started(uid))  # copied into the task wait_for makes
        try:
            await asyncio.wait_for(self._process(update), self.deadline)
        except TimeoutError:
            logger.error("update %d (chat %s) given up after %.0fs; the chat's next updates go on", uid, key,
                         time.monotonic() - started)
        except Exception as exc:  # process_update reports handler errors itself; this would be a bug here
            logger.error("update %d (chat %s) failed: %s", uid, key, describe(exc), exc_info=exc)
        finally:
            ON_SEND.reset(mark)
        self._journal.done(uid)

    async def stop(self, grace: float = STOP_GRACE) -> None:
        """Take no more; give running handlers `grace` seconds, cancel the rest (they stay in the journal)."""
        self._closing = True
        workers = list(self._workers.values())
        if workers:
            _, running = await asyncio.wait(workers, timeout=grace)
            for task in running:
                task.cancel()
            await asyncio.gather(*running, return_exceptions=True)
            cut = len(running)
        else:
            cut = 0
        queued = sum(len(q) for q in self._queues.values()) - cut
        if cut or queued:
            logger.info("stopped with %d updates cut short and %d queued; they are handled after the next start",
                        cut, queued)


class Intake:
    """Accept raw updates from polling or a webhook: journal them, then queue them in their chat's lane."""

    def __init__(self, bot: Bot, process: Callable[[Update], Awaitable[None]], journal: Journal, *,
                 deadline: float = UPDATE_DEADLINE) -> None:
        self.bot = bot
        self.journal = journal
        self.lanes = Lanes(process, journal, deadline=deadline)

    def replay(self, pending: list[Pending]) -> None:
        """Queue what the journal held at start, in its original order."""
        if pending:
            again = sum(p.started for p in pending)
            logger.info("handling %d updates received before the last stop (%d of them were being answered)",
                        len(pending), again)
        for item in pending:
            self._submit(item.raw, retried=item.started)

    def accept(self, raws: list[Raw]) -> int:
        """Journal (fsync) and queue the updates not seen before; returns how many were new."""
        fresh = self.journal.admit(raws)
        for raw in fresh:
            self._submit(raw)
        return len(fresh)

    def _submit(self, raw: Raw, *, retried: bool = False) -> None:
        try:
            update = Update.de_json(raw, self.bot)
        except Exception as exc:  # an update PTB cannot read must not stop the others
            logger.error("update %s cannot be read (%s); skipped", raw.get("update_id"), describe(exc))
            self.journal.done(int(raw["update_id"]))
            return
        self.lanes.submit(update, retried=retried)

    async def stop(self, grace: float = STOP_GRACE) -> None:
        await self.lanes.stop(grace)


async def poll(intake: Intake, *, timeout: float, allowed_updates: list[str]) -> None:
    """Long-poll getUpdates until cancelled; raises InvalidToken if Telegram stops accepting the token.

    The offset sent with each call is one past the newest update journaled, so the call confirms
    only updates that are on disk (handled or queued durably). Failures are logged once each by
    delivery.PollingRequest; here they only set the pause before the next call.
    """
    bot = intake.bot
    try:
        await bot.delete_webhook()  # a webhook left by an earlier run would make every getUpdates fail
    except TelegramError as exc:
        logger.warning("deleteWebhook failed (%s); polling anyway", describe(exc))
    offset: int | None = None  # the first call gets Telegram's oldest unconfirmed update
    seconds = max(1, round(timeout))  # whole seconds for Telegram; 0 would poll in a tight loop
    failures = 0
    while True:
        await intake.lanes.room()
        try:
            updates = await bot.get_updates(offset=offset, timeout=seconds, allowed_updates=allowed_updates)
        except InvalidToken:
            raise
        except RetryAfter as exc:
            await asyncio.sleep(retry_after_seconds(exc))
            continue
        except TelegramError:  # 5xx, resets, timeouts, a second poller: PollingRequest logged it
            failures += 1
            await asyncio.sleep(min(MAX_POLL_BACKOFF, 0.25 * 2**failures))
            continue
        failures = 0
        if not updates:
            continue
        intake.accept([json.loads(u.to_json()) for u in updates])
        offset = max(u.update_id for u in updates) + 1


class WebhookServer:
    """Telegram's POSTs on `path`: checked against the secret, journaled, queued, then answered 200.

    A POST without the right X-Telegram-Bot-Api-Secret-Token is refused (403) and never queued.
    With the backlog full the answer is 503, and Telegram sends the update again later.
    """

    def __init__(self, intake: Intake, *, listen: str, port: int, path: str, secret: str) -> None:
        self.intake = intake
        self.listen, self.port, self.path = listen, port, "/" + path.lstrip("/")
        self._secret = secret.encode("utf-8")
        self._server: Any = None

    async def start(self) -> None:
        from tornado.httpserver import HTTPServer
        from tornado.web import Application, RequestHandler

        outer = self

        class Hook(RequestHandler):
            async def post(self) -> None:
                status = outer.receive(self.request.headers.get("X-Telegram-Bot-Api-Secret-Token", ""),
                                       self.request.body)
                self.set_status(status)

            def log_exception(self, *args: Any) -> None:  # no tornado traceback for a client's bad request
                logger.warning("webhook: a request failed (%s)", args[1] if len(args) > 1 else "?")

        app = Application([(self.path, Hook)], log_function=lambda handler: None)
        self._server = HTTPServer(app, max_body_size=16 * 2**20)
        self._server.listen(self.port, self.listen)
        logger.info("webhook listening on %s:%d%s", self.listen, self.port, self.path)

    def receive(self, secret: str, body: bytes) -> int:
        """The HTTP status for one POST."""
        if not hmac.compare_digest(secret.encode("utf-8"), self._secret):
            logger.warning("webhook: refused a POST without the right secret token")
            return 403
        try:
            raw = json.loads(body)
        except ValueError:
            return 400
        if not isinstance(raw, dict) or not isinstance(raw.get("update_id"), int):
            return 400
        if self.intake.lanes.backlog >= MAX_BACKLOG:
            return 503
        self.intake.accept([raw])
        return 200

    async def stop(self) -> None:
        if self._server is not None:
            self._server.stop()
            with contextlib.suppress(Exception):
                await self._server.close_all_connections()
