"""What each inline button does: callback action -> a conversation call returning a reply.

Pure functions of (conversation, chat state, callback args, stash), so they are easy to test and
the `button` handler stays a thin decoder. Arguments come from untrusted callback data: a missing
one raises IndexError, which the handler answers as a stale button.
"""

from __future__ import annotations

from collections.abc import Callable

from bot.conversation import ChatState, ComparePicker, CompareReply, Conversation, NoMore, Reply
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
    """Compare: with one candidate, straight to both sides on the entry's question; else pick one."""
    match = conv.engine.entry(args[0])
    candidates = conv.compare_candidates(args[0])
    if match is None or not candidates:
        return NoMore("没有其他专家谈过这个话题。")
    if len(candidates) == 1:
        return CompareReply(conv.engine.compare(match.persona, candidates[0], match.entry.question))
    return ComparePicker([match.persona, *candidates], first=match.persona)


def _topic(conv: Conversation, _state: ChatState, args: list[str], _s: keyboards.Stash) -> Reply:
    persona = args[1] if len(args) > 1 and args[1] else None
    return conv.topic(args[0], persona, int(args[2]) if len(args) > 2 else 0)


def _more(conv: Conversation, _state: ChatState, args: list[str], _s: keyboards.Stash) -> Reply:
    return conv.more(args[0], int(args[1]) if len(args) > 1 else 0)


def _source(conv: Conversation, _state: ChatState, args: list[str], _s: keyboards.Stash) -> Reply:
    match = conv.engine.entry(args[0])
    return NoMore(citation(match.source)[:190] if match else STALE)


ACTIONS: dict[str, Action] = {
    keyboards.PICK_EXPERT: _pick_expert,
    keyboards.ALL: lambda conv, state, _a, _s: conv.all(state),
    keyboards.TOPIC: _topic,
    keyboards.TOPICS: lambda conv, _st, a, _s: conv.topics_page(a[0] or None, int(a[1])),
    keyboards.ENTRY: lambda conv, _st, a, _s: conv.entry(a[0]),
    keyboards.MORE: _more,
    keyboards.OTHERS: lambda conv, _st, a, _s: conv.others(a[0]),
    keyboards.VERSUS: _versus,
    keyboards.SOURCE: _source,
    keyboards.ASK: _ask_stashed,
    keyboards.CMP_START: lambda conv, st, _a, _s: conv.compare("", st),
    keyboards.CMP_FIRST: lambda conv, _st, a, _s: conv.compare_pick(a[0]),
    keyboards.CMP_SECOND: lambda conv, _st, a, _s: conv.compare_pick(a[0], a[1]),
    keyboards.CMP_TOPIC: lambda conv, _st, a, _s: conv.compare_topic(a[0], a[1], a[2]),
}
# Steps of the compare picker and paging (◀ ▶, "next") replace the message the button is under;
# anything new the user asked for (an answer, a topic, a comparison) is a new message.
EDITS_IN_PLACE = frozenset({keyboards.CMP_START, keyboards.CMP_FIRST, keyboards.CMP_SECOND, keyboards.TOPICS})



def edits_in_place(action: str, args: list[str]) -> bool:
    """Does this tap replace the message it is under? Paging does; opening something new does not."""
    if action in EDITS_IN_PLACE:
        return True
    paged = {keyboards.TOPIC: 2, keyboards.MORE: 1}.get(action)
    return paged is not None and len(args) > paged

