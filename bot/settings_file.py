"""Reading a settings.yaml that must name exactly the settings its dataclass has."""

from __future__ import annotations

from dataclasses import fields
from pathlib import Path
from typing import Any

import yaml


def read_exactly(path: Path, settings: type) -> dict[str, Any]:
    """The mapping at `path`, which must hold every field of the dataclass `settings` and nothing
    else: a missing or unknown name is a typo to report, never a silent default."""
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    names = {f.name for f in fields(settings)}
    if not isinstance(data, dict) or set(data) != names:
        raise ValueError(f"{path}: expected exactly the settings {sorted(names)}")
    return data
