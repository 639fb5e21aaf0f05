"""Fault injection: make the next N calls of a Bot API method fail the ways the real one does.

Telegram has bad minutes: 5xx from its front ends, 429 flood waits with retry_after, dropped
connections and slow answers. Tests arm a fault per method ("*" = any method) and the server
consumes one charge per call, so a bot's retry logic can be exercised deterministically.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass


@dataclass(frozen=True)
class Fault:
    """One way a call goes wrong. kind: "status" (500/502...), "flood" (429), "reset", "delay"."""

    kind: str
    status: int = 500
    retry_after: int = 1
    delay: float = 0.0

    @classmethod
    def http(cls, status: int = 500) -> Fault:
        return cls("status", status=status)

    @classmethod
    def flood(cls, retry_after: int = 1) -> Fault:
        return cls("flood", status=429, retry_after=retry_after)

    @classmethod
    def reset(cls) -> Fault:
        return cls("reset")

    @classmethod
    def slow(cls, seconds: float) -> Fault:
        return cls("delay", delay=seconds)


class FaultPlan:
    """Armed faults per method (optionally for one chat only), consumed in order, one per call."""

    def __init__(self) -> None:
        self._queues: dict[str, deque[Fault]] = {}
        self.fired: list[tuple[str, Fault]] = []

    @staticmethod
    def _key(method: str, chat: int | None) -> str:
        return method if chat is None else f"{method}@{chat}"

    def arm(self, method: str, fault: Fault, times: int = 1, *, chat: int | None = None) -> None:
        """Fail the next `times` calls of method ("*" = any); with `chat`, only calls whose chat_id is chat."""
        self._queues.setdefault(self._key(method, chat), deque()).extend([fault] * times)

    def take(self, method: str, chat: object = None) -> Fault | None:
        """The fault for this call, if one is armed for the method and chat, the method, or "*"."""
        keys = [method, "*"]
        if chat is not None:
            keys.insert(0, f"{method}@{chat}")
        for key in keys:
            queue = self._queues.get(key)
            if queue:
                fault = queue.popleft()
                self.fired.append((method, fault))
                return fault
        return None

    def pending(self, method: str, *, chat: int | None = None) -> int:
        return len(self._queues.get(self._key(method, chat), ()))

    def clear(self, method: str | None = None, *, chat: int | None = None) -> None:
        """Disarm everything, or what is armed for one method (and chat)."""
        if method is None:
            self._queues.clear()
        else:
            self._queues.pop(self._key(method, chat), None)
