"""A view's buttons as an inline keyboard, and the versioned callback data they carry.

Callback data is "v1|ACTION|ARG|ARG" and at most 64 bytes (Telegram's limit). The version prefix
lets a future format coexist with buttons still sitting in old chats: anything that does not
decode is "stale" and gets a polite toast, never an exception. Text too long for a button (a
suggested question, the query to re-ask) is kept in a small per-chat stash under a short hash.
What the buttons are is decided in bot/views; what they do in bot/conversation/actions.py.
"""

from __future__ import annotations

from collections.abc import MutableMapping
from urllib.parse import quote

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot.conversation import QUOTE_LINK, short_key
from bot.conversation.actions import (  # re-exported: feedback.py and tests use them
    ALL as ALL,
)
from bot.conversation.actions import (
    ASK as ASK,
)
from bot.conversation.actions import (
    CMP_FIRST as CMP_FIRST,
)
from bot.conversation.actions import (
    CMP_SECOND as CMP_SECOND,
)
from bot.conversation.actions import (
    CMP_START as CMP_START,
)
from bot.conversation.actions import (
    CMP_TOPIC as CMP_TOPIC,
)
from bot.conversation.actions import (
    ENTRY as ENTRY,
)
from bot.conversation.actions import (
    MORE as MORE,
)
from bot.conversation.actions import (
    OTHERS as OTHERS,
)
from bot.conversation.actions import (
    PICK_EXPERT as PICK_EXPERT,
)
from bot.conversation.actions import (
    REVIEW as REVIEW,
)
from bot.conversation.actions import (
    SHARE as SHARE,
)
from bot.conversation.actions import (
    TOPIC as TOPIC,
)
from bot.conversation.actions import (
    TOPICS as TOPICS,
)
from bot.conversation.actions import (
    VERDICT as VERDICT,
)
from bot.conversation.actions import (
    VERSUS as VERSUS,
)
from bot.conversation.actions import (
    VERSUS_PICK as VERSUS_PICK,
)
from bot.views import Button, View

VERSION = "v1"
MAX_DATA = 64
STASH_SIZE = 200
MAX_LABEL = 40
Stash = MutableMapping[str, str]


def encode(action: str, *args: str) -> str | None:
    """Callback data for a button, or None when it cannot be encoded within 64 bytes."""
    if any("|" in arg for arg in args):
        return None
    data = "|".join((VERSION, action, *args))
    return data if len(data.encode("utf-8")) <= MAX_DATA else None


def decode(data: str | None) -> tuple[str, list[str]] | None:
    """(action, args) from callback data, or None for anything stale, foreign or malformed."""
    if not data or len(data.encode("utf-8")) > MAX_DATA:
        return None
    parts = data.split("|")
    if len(parts) < 2 or parts[0] != VERSION or not parts[1]:
        return None
    return parts[1], parts[2:]


def stash_text(stash: Stash, text: str) -> str:
    """Keep text for a button and return its key; the oldest entries go first."""
    key = short_key(text)
    stash.pop(key, None)
    stash[key] = text
    while len(stash) > STASH_SIZE:
        del stash[next(iter(stash))]
    return key


def unstash(action: str, args: list[str], stash: Stash) -> list[str] | None:
    """Callback args back into the action's args: an ASK key becomes its text (None: forgotten)."""
    if action != ASK:
        return args
    text = stash.get(args[0]) if args else None
    return None if text is None else [args[1] if len(args) > 1 else "", text]


def quote_link(bot_username: str, entry_id: str) -> str:
    """t.me/<bot>?start=q_<entry>: opens the bot on exactly this quote."""
    return f"https://t.me/{bot_username}?start={QUOTE_LINK}{entry_id}"


def _label(text: str) -> str:
    return text if len(text) <= MAX_LABEL else text[: MAX_LABEL - 1] + "…"


def button(b: Button, stash: Stash, bot_username: str = "") -> InlineKeyboardButton | None:
    """One view button; None when it cannot be carried (too long, or a share link without a username)."""
    if b.action == SHARE:
        if not bot_username:
            return None
        link = quote_link(bot_username, b.args[0])
        return InlineKeyboardButton(_label(b.label), url=f"https://t.me/share/url?url={quote(link, safe='')}")
    args = b.args
    if b.action == ASK:  # (target, text) -> (key, target): the text waits in the stash
        args = (stash_text(stash, args[1]), args[0])
    data = encode(b.action, *args)
    return InlineKeyboardButton(_label(b.label), callback_data=data) if data else None


def markup(view: View, stash: Stash, bot_username: str = "") -> InlineKeyboardMarkup | None:
    """The keyboard under a view's last message, if it has buttons."""
    rows = []
    for row in view.rows:
        kept = [k for k in (button(b, stash, bot_username) for b in row) if k is not None]
        if kept:
            rows.append(kept)
    return InlineKeyboardMarkup(rows) if rows else None
