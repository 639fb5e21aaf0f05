"""Bot API calls that survive Telegram's bad minutes: flood control, 429s, 5xx, resets, timeouts.

Every call except getUpdates (intake.poll retries that itself) passes through the rate
limiter, so that is where a reply is kept alive until it is delivered: AIORateLimiter's
throttling (30 calls a second overall, 20 a minute per group), then

- 429 `retry_after`: every call waits that long (Telegram counts flood per bot), then this one
  is sent again;
- a transient failure (HTTP 5xx, a refused, reset or timed-out connection): sent again after a
  capped exponential back-off, for up to `give_up_after` seconds, or `stop_grace` seconds once
  the bot is shutting down (SIGTERM must not wait on a dead network);
- anything else (400 Bad Request, 403 blocked by the user, ...) is final: sending again cannot help.

Each failure is one log line naming the method and chat; no traceback, the causes are expected.
getUpdates goes through `PollingRequest`, which only logs each failure in one line; intake.poll
polls again after a pause, and an update is confirmed only by a later poll once it is journaled,
so none is lost.

A read timeout is ambiguous (Telegram may have delivered the message and answered too late); it
is retried like the others, so a rare duplicate is preferred to a lost answer.

`ON_SEND` tells the intake when an update's first call actually leaves for Telegram (after any
throttling wait): from then on, a kill may leave a reply delivered but the update not marked done,
so handling it again after a restart may repeat that reply; before it, nothing can repeat.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import logging
import time
import warnings
from collections.abc import Callable, Coroutine
from contextvars import ContextVar
from typing import Any

from telegram.error import BadRequest, NetworkError, RetryAfter, TelegramError
from telegram.ext import AIORateLimiter, BaseRateLimiter
from telegram.request import HTTPXRequest

logger = logging.getLogger(__name__)

Result = bool | dict[str, Any] | list[dict[str, Any]]
# Set by the intake for the task handling an update; called right before each Bot API call is made.
ON_SEND: ContextVar[Callable[[], None] | None] = ContextVar("on_send", default=None)
# Worth nothing once late: a failed "typing…" is dropped, not retried ahead of the answer itself.
BEST_EFFORT = frozenset({"sendChatAction"})


def retry_after_seconds(exc: RetryAfter) -> float:
    """How long Telegram asks to wait, in seconds, through the public property (int or timedelta,
    depending on PTB's settings; its deprecation warning about that choice is not ours to show)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        value = exc.retry_after
    return value.total_seconds() if isinstance(value, dt.timedelta) else float(value)


def describe(exc: BaseException) -> str:
    """`Type: message` on one line (PTB's messages for network errors are already one line)."""
    text = " ".join(str(exc).split())
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


class ReliableRateLimiter(BaseRateLimiter[int]):
    """AIORateLimiter's throttling (used through its public interface, retrying nothing itself),
    plus retries that keep each reply until it is delivered and one pause for all calls on a 429."""

    def __init__(self, *, give_up_after: float = 120.0, stop_grace: float = 3.0, max_backoff: float = 5.0,
                 max_flood_wait: float = 600.0) -> None:
        self._throttle = AIORateLimiter(max_retries=0)
        # With no retries of its own it logs a 429 with a traceback before re-raising; the 429 is
        # handled (and logged in one line) here.
        logging.getLogger("telegram.ext.AIORateLimiter").setLevel(logging.CRITICAL)
        self._paused_until = 0.0
        self.give_up_after = give_up_after
        self.stop_grace = stop_grace
        self.max_backoff = max_backoff
        self.max_flood_wait = max_flood_wait
        self._stopping_since: float | None = None

    async def initialize(self) -> None:
        await self._throttle.initialize()

    async def shutdown(self) -> None:
        await self._throttle.shutdown()

    def stopping(self) -> None:
        """The bot is shutting down: retry pending replies only for `stop_grace` more seconds."""
        if self._stopping_since is None:
            self._stopping_since = time.monotonic()

    def _deadline(self, started: float) -> float:
        deadline = started + self.give_up_after
        if self._stopping_since is not None:
            deadline = min(deadline, self._stopping_since + self.stop_grace)
        return deadline

    async def process_request(
        self,
        callback: Callable[..., Coroutine[Any, Any, Result]],
        args: Any,
        kwargs: dict[str, Any],
        endpoint: str,
        data: dict[str, Any],
        rate_limit_args: int | None,
    ) -> Result:
        del rate_limit_args  # retries are decided here, per kind of failure
        started = time.monotonic()
        chat_id = data.get("chat_id")
        what = f"{endpoint} to chat {chat_id}" if chat_id is not None else endpoint
        on_send = ON_SEND.get()

        async def send(*call_args: Any, **call_kwargs: Any) -> Result:
            while (wait := self._paused_until - time.monotonic()) > 0:  # Telegram's flood wait is per bot
                await asyncio.sleep(wait)
            if on_send is not None:
                on_send()
            return await callback(*call_args, **call_kwargs)

        attempt = 0
        while True:
            attempt += 1
            try:
                # AIORateLimiter throttles (30/s overall, 20/min per group) and, with no retries, re-raises
                result = await self._throttle.process_request(send, args, kwargs, endpoint, data, None)
            except RetryAfter as exc:
                wait = retry_after_seconds(exc)
                if wait > self.max_flood_wait:
                    logger.error("%s not sent: Telegram asks to wait %ss, longer than %ss", what, wait,
                                 self.max_flood_wait)
                    raise
                logger.warning("%s: flood control, Telegram asks to wait %ss; all calls wait, then it is sent again",
                               what, wait)
                self._pause_all(wait + 0.1)
                continue
            except BadRequest:
                raise  # the request itself is wrong; the handler's error path logs it
            except NetworkError as exc:  # 5xx, refused/reset connection, timeout
                if endpoint in BEST_EFFORT:
                    logger.info("%s skipped: %s", what, describe(exc))
                    raise
                delay = min(self.max_backoff, 0.25 * 2**attempt)
                if time.monotonic() + delay > self._deadline(started):
                    why = ", shutting down" if self._stopping_since is not None else ""
                    logger.error("%s failed for good after %d attempts in %.1fs%s: %s", what, attempt,
                                 time.monotonic() - started, why, describe(exc))
                    raise
                logger.warning("%s failed (%s); attempt %d, retrying in %.1fs", what, describe(exc), attempt, delay)
                await asyncio.sleep(delay)
                continue
            if attempt > 1:
                logger.info("%s delivered on attempt %d", what, attempt)
            return result

    def _pause_all(self, seconds: float) -> None:
        """Hold every call for `seconds`, as Telegram's flood wait is per bot (`send` waits it out)."""
        self._paused_until = max(self._paused_until, time.monotonic() + seconds)


class PollingRequest(HTTPXRequest):
    """The getUpdates connection (PTB's default: one connection), logging each failure in one line."""

    def __init__(self) -> None:
        super().__init__(connection_pool_size=1)

    async def do_request(self, *args: Any, **kwargs: Any) -> tuple[int, bytes]:
        try:
            code, payload = await super().do_request(*args, **kwargs)
        except TelegramError as exc:  # refused, reset, timed out
            logger.warning("getUpdates failed (%s); polling again", describe(exc))
            raise
        if not 200 <= code < 300:
            logger.warning("getUpdates failed (HTTP %d: %s); polling again", code, _description(payload))
        return code, payload


def _description(payload: bytes) -> str:
    """Telegram's `description` from an error body, else the start of the body."""
    try:
        body = json.loads(payload)
    except ValueError:
        body = None
    if isinstance(body, dict) and isinstance(body.get("description"), str):
        return " ".join(body["description"].split())
    return " ".join(payload[:80].decode("utf-8", "replace").split()) or "no body"
