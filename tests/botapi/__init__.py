"""A Telegram Bot API server for tests (aiohttp): strict checks, user simulation, fault injection."""

from .faults import Fault, FaultPlan
from .server import DEFAULT_TOKEN, BotApiServer, Call, SentMessage

__all__ = ["DEFAULT_TOKEN", "BotApiServer", "Call", "Fault", "FaultPlan", "SentMessage"]
