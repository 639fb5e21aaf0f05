"""The delivery layer's retry rules, in-process with a scripted Bot API call (no HTTP, no sleeps of
its own beyond the back-offs under test, which are shortened)."""

from __future__ import annotations

import datetime as dtm
import logging
import time
from typing import Any

import pytest
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TimedOut

from bot.telegram.delivery import ReliableRateLimiter

pytestmark = pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning")  # RetryAfter's own
Script = list[BaseException | dict[str, Any]]


class Scripted:
    """A Bot API call that fails or answers as scripted, recording when each attempt came."""

    def __init__(self, script: Script) -> None:
        self.script = script
        self.attempts: list[float] = []

    async def __call__(self, *args: Any, **kwargs: Any) -> dict[str, Any]:
        self.attempts.append(time.monotonic())
        outcome = self.script.pop(0) if self.script else {"ok": True}
        if isinstance(outcome, BaseException):
            raise outcome
        return outcome


async def call(limiter: ReliableRateLimiter, scripted: Scripted, endpoint: str = "sendMessage") -> Any:
    data = {"chat_id": 42, "text": "hi"}
    return await limiter.process_request(scripted, (endpoint, data), {}, endpoint, data, None)


def fast(**kw: float) -> ReliableRateLimiter:
    limiter = ReliableRateLimiter(**kw)
    limiter.max_backoff = kw.get("max_backoff", 0.05)
    return limiter


async def test_transient_failures_are_retried_until_delivered(caplog: pytest.LogCaptureFixture) -> None:
    scripted = Scripted([NetworkError("Bad Gateway"), TimedOut(), {"message_id": 7}])
    with caplog.at_level(logging.INFO):
        assert await call(fast(), scripted) == {"message_id": 7}
    assert len(scripted.attempts) == 3
    lines = [r.getMessage() for r in caplog.records]
    assert lines[0].startswith("sendMessage to chat 42 failed (NetworkError: Bad Gateway); attempt 1")
    assert lines[-1] == "sendMessage to chat 42 delivered on attempt 3"
    assert all(r.exc_info is None for r in caplog.records)  # one line each, no traceback


@pytest.mark.parametrize("error", [BadRequest("Bad Request: message text is empty"), Forbidden("bot was blocked")])
async def test_final_errors_are_not_retried(error: Exception) -> None:
    scripted = Scripted([error])
    with pytest.raises(type(error)):
        await call(fast(), scripted)
    assert len(scripted.attempts) == 1


async def test_flood_wait_is_honoured_then_sent_again() -> None:
    scripted = Scripted([RetryAfter(dtm.timedelta(seconds=0.3)), {"message_id": 1}])
    assert await call(fast(), scripted) == {"message_id": 1}
    assert scripted.attempts[1] - scripted.attempts[0] >= 0.3


async def test_a_flood_wait_longer_than_the_limit_is_given_up() -> None:
    scripted = Scripted([RetryAfter(3600)])
    with pytest.raises(RetryAfter):
        await call(fast(max_flood_wait=60), scripted)
    assert len(scripted.attempts) == 1


async def test_gives_up_after_the_deadline(caplog: pytest.LogCaptureFixture) -> None:
    scripted = Scripted([NetworkError("Internal Server Error")] * 1000)
    started = time.monotonic()
    with pytest.raises(NetworkError), caplog.at_level(logging.ERROR):
        await call(fast(give_up_after=0.3), scripted)
    assert time.monotonic() - started < 1.0 and len(scripted.attempts) >= 2
    assert "sendMessage to chat 42 failed for good after" in caplog.text and "Internal Server Error" in caplog.text


async def test_when_stopping_only_a_short_grace_is_left() -> None:
    limiter = fast(give_up_after=60, stop_grace=0.2)
    limiter.stopping()
    scripted = Scripted([NetworkError("httpx.ConnectError: All connection attempts failed")] * 1000)
    started = time.monotonic()
    with pytest.raises(NetworkError):
        await call(limiter, scripted)
    assert time.monotonic() - started < 0.6


async def test_typing_is_best_effort_and_never_retried() -> None:
    scripted = Scripted([NetworkError("Bad Gateway")])
    with pytest.raises(NetworkError):
        await call(fast(), scripted, endpoint="sendChatAction")
    assert len(scripted.attempts) == 1
