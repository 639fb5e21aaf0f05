"""What each inline button does: callback action -> a conversation call returning a reply.

Pure functions of (conversation, chat state, callback args, stash), so they are easy to test and
the `button` handler stays a thin decoder. Arguments come from untrusted callback data: a missing
one raises IndexError, which the handler answers as a stale button.
"""

from __future__ import annotations

from collections.abc import Callable

from bot.conversation import ChatState, ComparePicker, Conversation, NoMore, Reply
from bot.telegram import keyboards
from bot.telegram.render import citation

Action = Callable[[Conversation, ChatState, list[str], keyboards.Stash], Reply]
STALE = "这个按钮已过期，请重新发送命令。"


def _pick_expert(conv: Conversation, state: ChatState, args: list[str], _s: keyboards.Stash) -> Reply:
    return conv.select(args[0], state)


def _ask_stashed(conv: Conversation, state: ChatState, args: list[str], stash: keyboards.Stash) -> Reply:
    text = stash.get(args[0])
    if text is None:
        return NoMore(STALE)
    target = args[1] if len(args) > 1 else ""
    if target == "*":
        return conv.question(text, ChatState())
    return conv.question(text, state, persona_id=target or None)


def _versus(conv: Conversation, _state: ChatState, args: list[str], _s: keyboards.Stash) -> Reply:
    match = conv.engine.entry(args[0])
    candidates = conv.compare_candidates(args[0])
    if match is None or not candidates:
        return NoMore("没有其他专家谈过这个话题。")
    return ComparePicker([match.persona, *candidates], first=match.persona)


def _source(conv: Conversation, _state: ChatState, args: list[str], _s: keyboards.Stash) -> Reply:
    match = conv.engine.entry(args[0])
    return NoMore(citation(match.source)[:190] if match else STALE)


ACTIONS: dict[str, Action] = {
    keyboards.PICK_EXPERT: _pick_expert,
    keyboards.ALL: lambda conv, state, _a, _s: conv.all(state),
    keyboards.TOPIC: lambda conv, _st, a, _s: conv.topic(a[0], a[1] if len(a) > 1 and a[1] else None),
    keyboards.ENTRY: lambda conv, _st, a, _s: conv.entry(a[0]),
    keyboards.MORE: lambda conv, _st, a, _s: conv.more(a[0]),
    keyboards.OTHERS: lambda conv, _st, a, _s: conv.others(a[0]),
    keyboards.VERSUS: _versus,
    keyboards.SOURCE: _source,
    keyboards.ASK: _ask_stashed,
    keyboards.CMP_START: lambda conv, st, _a, _s: conv.compare("", st),
    keyboards.CMP_FIRST: lambda conv, _st, a, _s: conv.compare_pick(a[0]),
    keyboards.CMP_SECOND: lambda conv, _st, a, _s: conv.compare_pick(a[0], a[1]),
    keyboards.CMP_TOPIC: lambda conv, _st, a, _s: conv.compare_topic(a[0], a[1], a[2]),
}
# Steps of the compare picker replace the picker message instead of adding new ones.
EDITS_IN_PLACE = frozenset({keyboards.CMP_START, keyboards.CMP_FIRST, keyboards.CMP_SECOND})
