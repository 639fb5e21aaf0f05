"""A settings file with a missing or misspelt name is refused, naming the file: never a silent default."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.feedback.settings import SETTINGS as FEEDBACK_SETTINGS
from bot.feedback.settings import Settings as FeedbackSettings
from bot.matching.settings import SETTINGS as MATCHING_SETTINGS
from bot.matching.settings import Settings as MatchingSettings


@pytest.mark.parametrize(("settings", "shipped"), [(MatchingSettings, MATCHING_SETTINGS),
                                                   (FeedbackSettings, FEEDBACK_SETTINGS)])
def test_the_shipped_file_loads_and_a_typo_in_it_is_refused(tmp_path: Path, settings: type, shipped: Path) -> None:
    assert settings.load(shipped)  # type: ignore[attr-defined]
    text = shipped.read_text(encoding="utf-8")
    first = next(line for line in text.splitlines() if line and not line.startswith((" ", "#")))
    name = first.split(":")[0]
    for broken in (text.replace(f"{name}:", f"{name}s:", 1), text.replace(first, "", 1)):
        path = tmp_path / "settings.yaml"
        path.write_text(broken, encoding="utf-8")
        with pytest.raises(ValueError, match=f"{path}: expected exactly the settings"):
            settings.load(path)  # type: ignore[attr-defined]
