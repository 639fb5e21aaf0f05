"""The curator loop's hand-set numbers, read from settings.yaml beside this file (each documented there)."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from bot.settings_file import read_exactly

SETTINGS = Path(__file__).with_name("settings.yaml")


@dataclass(frozen=True)
class Settings:
    group_similarity: float
    declined_similarity: float
    low_confidence: float
    retention_days: int
    max_pending: int
    busy_timeout_ms: int

    @classmethod
    def load(cls, path: Path = SETTINGS) -> Settings:
        data = read_exactly(path, cls)
        return cls(
            group_similarity=float(data["group_similarity"]),
            declined_similarity=float(data["declined_similarity"]),
            low_confidence=float(data["low_confidence"]),
            retention_days=int(data["retention_days"]),
            max_pending=int(data["max_pending"]),
            busy_timeout_ms=int(data["busy_timeout_ms"]),
        )


@lru_cache(maxsize=1)
def settings() -> Settings:
    """The shipped settings, read once."""
    return Settings.load()
