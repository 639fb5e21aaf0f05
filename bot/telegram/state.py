"""Whose expert a message goes to: the chat's in a private chat, the asker's own in a group.

In a group, one member's /expert must not change everyone's answers: each member has their own
choice (`chat_data["members"][user id]`, "" meaning everyone), and members without one get the
group default (`chat_data["expert"]`), which only the group's admins set (/default). In a private
chat `chat_data["expert"]` is simply the chat's expert. All of it lives in chat_data, which the
bot persists atomically (persistence.py).
"""

from __future__ import annotations

from typing import Any

from telegram import Update
from telegram.constants import ChatType

from bot.conversation import ChatState

STATE_KEY = "expert"
MEMBERS_KEY = "members"
EVERYONE = ""  # a member who chose /all: everyone, whatever the group default


def _in_group(update: Update) -> bool:
    chat = update.effective_chat
    return chat is not None and chat.type != ChatType.PRIVATE and update.effective_user is not None


def _members(chat_data: dict[Any, Any]) -> dict[str, str]:
    found = chat_data.get(MEMBERS_KEY)
    if not isinstance(found, dict):
        found = {}
        chat_data[MEMBERS_KEY] = found
    return found


def load(update: Update, chat_data: dict[Any, Any] | None) -> ChatState:
    """The state a message is answered with: the asker's own choice, else the chat's."""
    data = chat_data if chat_data is not None else {}
    default = data.get(STATE_KEY)
    expert = default if isinstance(default, str) else None
    if _in_group(update) and isinstance(data.get(MEMBERS_KEY), dict):
        assert update.effective_user is not None
        own = data[MEMBERS_KEY].get(str(update.effective_user.id))
        if isinstance(own, str):
            expert = own or None
    return ChatState(expert)


def store(update: Update, chat_data: dict[Any, Any], state: ChatState) -> None:
    """Remember a changed choice: the asker's own in a group, the chat's in a private chat."""
    if _in_group(update):
        assert update.effective_user is not None
        _members(chat_data)[str(update.effective_user.id)] = state.expert_id or EVERYONE
    elif state.expert_id is None:
        chat_data.pop(STATE_KEY, None)
    else:
        chat_data[STATE_KEY] = state.expert_id


def store_default(chat_data: dict[Any, Any], expert_id: str | None) -> None:
    """The group default (admins only; the caller checks)."""
    if expert_id is None:
        chat_data.pop(STATE_KEY, None)
    else:
        chat_data[STATE_KEY] = expert_id
