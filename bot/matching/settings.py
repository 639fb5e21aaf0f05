"""The matcher's hand-set numbers, read from settings.yaml beside this file: one home, each documented there."""

from __future__ import annotations

from dataclasses import dataclass, fields
from pathlib import Path

import yaml

SETTINGS = Path(__file__).with_name("settings.yaml")


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
    fit: FitSettings

    @classmethod
    def load(cls, path: Path = SETTINGS) -> Settings:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        names = {f.name for f in fields(cls)}
        if not isinstance(data, dict) or set(data) != names:
            raise ValueError(f"{path}: expected exactly the settings {sorted(names)}")
        fit = data["fit"]
        return cls(
            candidates=int(data["candidates"]),
            whole_answer_chars=int(data["whole_answer_chars"]),
            max_suggestions=int(data["max_suggestions"]),
            min_suggested_probability=float(data["min_suggested_probability"]),
            max_views=int(data["max_views"]),
            fit=FitSettings(tuple(float(p) for p in fit["penalties"]), int(fit["folds"]), int(fit["repeats"]),
                            float(fit["wrong_quote_cost"])),
        )
