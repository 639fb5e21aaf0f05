"""A tap's callback data -> the shared action (bot/conversation/actions.py) -> a reply.

Arguments come from untrusted callback data: a missing one raises IndexError and a bad page
number ValueError, which the `button` handler answers as a stale button.
"""

from __future__ import annotations

from bot.conversation import ChatState, Conversation, NoMore, Reply
from bot.conversation.actions import ACTIONS, edits_in_place
from bot.telegram import keyboards

STALE = "这个按钮已过期，请重新发送命令。"

__all__ = ["STALE", "edits_in_place", "known", "run"]


def known(action: str) -> bool:
    return action in ACTIONS


def run(conv: Conversation, state: ChatState, action: str, args: list[str], stash: keyboards.Stash) -> Reply:
    """Do what the button says; a stash key that was forgotten is a stale button."""
    real = keyboards.unstash(action, args, stash)
    if real is None:
        return NoMore(STALE)
    return ACTIONS[action](conv, state, real)
