"""Builders for what users send: users, entities Telegram attaches to text, media messages."""

from __future__ import annotations

import re
from typing import Any

from .tg_html import utf16_len

_COMMAND = re.compile(r"(?<!\S)/[a-zA-Z0-9_]{1,32}(?:@[a-zA-Z0-9_]{3,32})?")
_MENTION = re.compile(r"(?<![\w@])@[a-zA-Z0-9_]{3,32}")
UPDATE_KINDS = (
    "message", "edited_message", "channel_post", "edited_channel_post", "callback_query", "inline_query",
    "chosen_inline_result", "my_chat_member", "chat_member",
)

MEDIA: dict[str, dict[str, Any]] = {
    "sticker": {"sticker": {"file_id": "stk1", "file_unique_id": "ustk1", "type": "regular", "width": 512,
                            "height": 512, "is_animated": False, "is_video": False, "emoji": "😀"}},
    "photo": {"photo": [{"file_id": "ph1", "file_unique_id": "uph1", "width": 90, "height": 90}]},
    "voice": {"voice": {"file_id": "vo1", "file_unique_id": "uvo1", "duration": 3}},
    "location": {"location": {"latitude": 39.9, "longitude": 116.4}},
    "document": {"document": {"file_id": "doc1", "file_unique_id": "udoc1", "file_name": "a.pdf"}},
    "video": {"video": {"file_id": "vi1", "file_unique_id": "uvi1", "width": 1, "height": 1, "duration": 1}},
    "contact": {"contact": {"phone_number": "+100", "first_name": "Bob"}},
}


def user(user_id: int, first_name: str, username: str | None, language: str = "zh-hans") -> dict[str, Any]:
    data: dict[str, Any] = {"id": user_id, "is_bot": False, "first_name": first_name, "language_code": language}
    if username:
        data["username"] = username
    return data


def text_entities(text: str) -> list[dict[str, Any]]:
    """bot_command and mention entities at UTF-16 offsets, as Telegram's clients attach them."""
    found = [("bot_command", m) for m in _COMMAND.finditer(text)] + [("mention", m) for m in _MENTION.finditer(text)]
    entities = [
        {"type": kind, "offset": utf16_len(text[: m.start()]), "length": utf16_len(m.group(0))} for kind, m in found
    ]
    return sorted(entities, key=lambda e: e["offset"])


def media(kind: str) -> dict[str, Any]:
    if kind not in MEDIA:
        raise KeyError(f"unknown media kind {kind!r}; one of {sorted(MEDIA)}")
    return dict(MEDIA[kind])


def kind(update: dict[str, Any]) -> str:
    """Which update type this is ("message", "callback_query", ...)."""
    return next((k for k in UPDATE_KINDS if k in update), "unknown")
