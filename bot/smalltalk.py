"""Small talk ("你好", "谢谢", "who are you"): recognised from corpus/smalltalk.yaml, never from code.

A greeting is not a question for the experts: answering it with "nobody said that" is honest but
unfriendly. The phrases and replies are data, so a curator adds "早安" without touching Python.
A message is small talk only when, stripped of punctuation, emoji and spaces and folded, it is
exactly one of the phrases: "你好，丁磊怎么看开源" stays a question.
"""

from __future__ import annotations

import logging
import unicodedata
from dataclasses import dataclass
from pathlib import Path

import yaml

from bot.text import fold, has_cjk

logger = logging.getLogger(__name__)
FILE = "smalltalk.yaml"
MAX_CHARS = 40  # longer messages are questions, whatever they start with


@dataclass(frozen=True)
class Kind:
    name: str
    zh: str
    en: str


def key(text: str) -> str:
    """Letters and digits only, folded: "Hi!!", "hi 🙂" and "HI" are one key."""
    return "".join(ch for ch in fold(text) if unicodedata.category(ch)[0] in "LN")


class SmallTalk:
    """Phrase -> kind of small talk, with the reply text in Chinese and in English."""

    def __init__(self, kinds: dict[str, tuple[Kind, list[str]]]) -> None:
        self._by_key: dict[str, Kind] = {}
        for kind, phrases in kinds.values():
            for phrase in phrases:
                self._by_key.setdefault(key(phrase), kind)

    @classmethod
    def load(cls, corpus_dir: Path) -> SmallTalk:
        """Read corpus_dir/smalltalk.yaml; a missing or malformed file means no small talk (logged)."""
        path = corpus_dir / FILE
        if not path.exists():
            return cls({})
        try:
            data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
            kinds = {
                name: (Kind(name, str(item["zh"]), str(item["en"])), [str(p) for p in item["phrases"]])
                for name, item in data.items()
            }
        except (OSError, yaml.YAMLError, KeyError, TypeError, AttributeError) as exc:
            logger.warning("%s: not used (%s)", path, exc)
            return cls({})
        return cls(kinds)

    def match(self, text: str) -> Kind | None:
        """The kind of small talk text is, or None when it is (or may be) a question."""
        if len(text) > MAX_CHARS:
            return None
        return self._by_key.get(key(text)) if key(text) else None


def is_english(text: str) -> bool:
    """English chrome for a message without any Chinese character (the quote itself stays verbatim)."""
    return any(ch.isalpha() for ch in text) and not has_cjk(text)
