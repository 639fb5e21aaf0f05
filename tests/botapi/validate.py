"""Telegram's checks on message text, keyboards, inline results and commands.

Each check raises `BadRequest` with the description Telegram itself sends, so a bot that passes
here will not be refused by the real Bot API for the same reason.
"""

from __future__ import annotations

import re
from typing import Any

from .tg_html import EntityParseError, Parsed, parse_html

MAX_TEXT = 4096
MAX_CALLBACK_DATA = 64
MAX_INLINE_RESULTS = 50
MAX_CALLBACK_ANSWER = 200
_COMMAND = re.compile(r"^[a-z0-9_]{1,32}$")
_BUTTON_KINDS = (
    "url",
    "callback_data",
    "switch_inline_query",
    "switch_inline_query_current_chat",
    "switch_inline_query_chosen_chat",
    "copy_text",
    "web_app",
    "login_url",
    "pay",
    "callback_game",
)


class BadRequest(Exception):
    """A 400 answer: `description` is what Telegram puts in the JSON."""

    def __init__(self, description: str, code: int = 400) -> None:
        super().__init__(description)
        self.description = description
        self.code = code


def message_text(text: Any, parse_mode: Any, *, too_long: str = "Bad Request: message is too long") -> Parsed:
    """Parse text the way sendMessage does and apply the empty and length limits."""
    if text is None or (isinstance(text, str) and not text.strip()):
        raise BadRequest("Bad Request: message text is empty")
    if not isinstance(text, str):
        text = str(text)
    mode = (parse_mode or "").lower()
    if mode == "html":
        try:
            parsed = parse_html(text)
        except EntityParseError as exc:
            raise BadRequest(exc.description) from None
    elif mode == "":
        parsed = Parsed(text.strip())
    else:
        raise BadRequest(f"Bad Request: unsupported parse_mode {parse_mode!r} in the test server")
    if not parsed.text:
        raise BadRequest("Bad Request: message text is empty")
    if len(parsed.text) > MAX_TEXT:
        raise BadRequest(too_long)
    return parsed


def reply_markup(markup: Any) -> dict[str, Any] | None:
    """Validate an inline keyboard (other markups pass through); return it as a dict."""
    if markup is None:
        return None
    if not isinstance(markup, dict):
        raise BadRequest("Bad Request: can't parse reply keyboard markup JSON object")
    if "inline_keyboard" not in markup:
        return markup
    rows = markup["inline_keyboard"]
    if not isinstance(rows, list) or not all(isinstance(row, list) for row in rows):
        raise BadRequest("Bad Request: can't parse inline keyboard button: InlineKeyboardButton must be an Array")
    for row in rows:
        for button in row:
            _button(button)
    return markup


def _button(button: Any) -> None:
    if not isinstance(button, dict) or not isinstance(button.get("text"), str):
        raise BadRequest("Bad Request: can't parse inline keyboard button: Text must be a String")
    if not button["text"].strip():
        raise BadRequest("Bad Request: BUTTON_TEXT_INVALID")
    kinds = [k for k in _BUTTON_KINDS if k in button]
    if len(kinds) != 1:
        raise BadRequest("Bad Request: can't parse inline keyboard button: Field \"url\" must be of type String")
    if "callback_data" in button:
        data = button["callback_data"]
        if not isinstance(data, str) or not 1 <= len(data.encode("utf-8")) <= MAX_CALLBACK_DATA:
            raise BadRequest("Bad Request: BUTTON_DATA_INVALID")
    if "url" in button:
        url = button["url"]
        if not isinstance(url, str) or not re.match(r"^(https?|tg)://[^\s]+$", url):
            raise BadRequest("Bad Request: BUTTON_URL_INVALID")


def inline_results(results: Any) -> list[dict[str, Any]]:
    """answerInlineQuery: at most 50 results, unique ids of 1-64 bytes, valid message contents."""
    if not isinstance(results, list):
        raise BadRequest("Bad Request: can't parse inline query results JSON object")
    if len(results) > MAX_INLINE_RESULTS:
        raise BadRequest("Bad Request: RESULTS_TOO_MUCH")
    seen: set[str] = set()
    for result in results:
        rid = result.get("id") if isinstance(result, dict) else None
        if not isinstance(rid, str) or not 1 <= len(rid.encode("utf-8")) <= 64:
            raise BadRequest("Bad Request: RESULT_ID_INVALID")
        if rid in seen:
            raise BadRequest("Bad Request: RESULT_ID_DUPLICATE")
        seen.add(rid)
        if not str(result.get("title", "x")).strip():
            raise BadRequest("Bad Request: RESULT_TITLE_EMPTY")
        content = result.get("input_message_content")
        if isinstance(content, dict) and "message_text" in content:
            message_text(content["message_text"], content.get("parse_mode"), too_long="Bad Request: MESSAGE_TOO_LONG")
        reply_markup(result.get("reply_markup"))
    return results


def commands(items: Any) -> list[dict[str, str]]:
    """setMyCommands: names of 1-32 lowercase letters, digits or underscores; descriptions 1-256."""
    if not isinstance(items, list) or len(items) > 100:
        raise BadRequest("Bad Request: can't parse commands JSON object")
    for item in items:
        if not isinstance(item, dict) or not _COMMAND.match(str(item.get("command", ""))):
            raise BadRequest("Bad Request: BOT_COMMAND_INVALID")
        if not 1 <= len(str(item.get("description", "")).strip()) <= 256:
            raise BadRequest("Bad Request: BOT_COMMAND_DESCRIPTION_INVALID")
    return items
