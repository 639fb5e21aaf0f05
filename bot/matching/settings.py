"""The matcher's hand-set numbers, read from settings.yaml beside this file: one home, each documented there.

The dataclasses' defaults are the file's values, for building an index or analyser on its own
(tests, bench); the engine always passes what the file says.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from bot.settings_file import read_exactly

SETTINGS = Path(__file__).with_name("settings.yaml")


@dataclass(frozen=True)
class IndexSettings:
    k1: float = 1.2
    b: float = 0.75
    window: int = 2
    unknown_latin_share: float = 0.5


@dataclass(frozen=True)
class QuerySettings:
    synonym_weight: float = 0.8
    spelling_weight: float = 0.9
    max_analysed_chars: int = 600
    common_word_frequency: int = 2000
    folded_cache: int = 4096
    word_cache: int = 4096


@dataclass(frozen=True)
class FitSettings:
    penalties: tuple[float, ...]
    folds: int
    repeats: int
    wrong_quote_cost: float


@dataclass(frozen=True)
class Settings:
    candidates: int
    whole_answer_chars: int
    max_suggestions: int
    min_suggested_probability: float
    max_views: int
    index: IndexSettings
    query: QuerySettings
    fit: FitSettings

    @classmethod
    def load(cls, path: Path = SETTINGS) -> Settings:
        data = read_exactly(path, cls)
        fit = data["fit"]
        return cls(
            candidates=int(data["candidates"]),
            whole_answer_chars=int(data["whole_answer_chars"]),
            max_suggestions=int(data["max_suggestions"]),
            min_suggested_probability=float(data["min_suggested_probability"]),
            max_views=int(data["max_views"]),
            index=IndexSettings(**data["index"]),
            query=QuerySettings(**data["query"]),
            fit=FitSettings(tuple(float(p) for p in fit["penalties"]), int(fit["folds"]), int(fit["repeats"]),
                            float(fit["wrong_quote_cost"])),
        )
