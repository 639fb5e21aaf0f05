"""What each button does, for every front end: action code -> a conversation call -> a reply.

A view's `Button` carries an action code and its arguments; Telegram packs them into callback
data (bot/telegram/keyboards.py), the terminal chat into a numbered choice. Arguments are
untrusted: a missing one raises IndexError and a bad number ValueError, which front ends answer
as a stale button. ASK buttons carry the question itself as their last argument here; Telegram
swaps it for a short key into a per-chat stash (64-byte callback data) and back.
"""

from __future__ import annotations

from collections.abc import Callable

from bot.conversation.core import Conversation
from bot.conversation.replies import ChatState, Reply

# action codes (short: they travel in 64-byte callback data)
PICK_EXPERT = "x"  # x|persona            set the chat's expert, show profile
ALL = "a"  # a                             questions go to everyone
TOPIC = "t"  # t|topic|persona-or-empty[|n] answers on a topic, the n-th shown (◀ ▶ edit in place)
TOPICS = "tp"  # tp|persona-or-empty|page   another page of /topics (edits in place)
ENTRY = "e"  # e|entry                     show one entry
MORE = "m"  # m|entry[|n]                  the expert's n-th other answer (n > 0 edits in place)
OTHERS = "o"  # o|entry                    other experts on this question
VERSUS = "v"  # v|entry                    compare with the one rival, or pick among them
VERSUS_PICK = "vp"  # vp|entry|persona     compare the entry's author and this rival on its question
ASK = "q"  # q|persona-or-empty-or-*|TEXT  ask a text (Telegram: a stash key instead of TEXT)
CMP_FIRST = "c1"  # c1|a                   compare flow: first picked
CMP_SECOND = "c2"  # c2|a|b                compare flow: both picked, choose a topic
CMP_TOPIC = "c3"  # c3|a|b|topic           show the comparison
CMP_START = "c0"  # c0                     restart the compare flow
SHARE = "sh"  # sh|entry                   a link to this quote (Telegram: a URL button, no callback)
VERDICT = "f"  # f|ref|1-or-0              👍 / 👎 on a recorded answer (bot/telegram/feedback.py)
REVIEW = "r"  # r|a|group|n, r|d|group, r|s|group   the admins' /review: attach, decline, skip

Action = Callable[[Conversation, ChatState, list[str]], Reply]


def _ask(conv: Conversation, state: ChatState, args: list[str]) -> Reply:
    target, text = args[0], args[1]
    if target == "*":
        return conv.question(text, ChatState())
    return conv.question(text, state, persona_id=target or None)


def _topic(conv: Conversation, _state: ChatState, args: list[str]) -> Reply:
    return conv.topic(args[0], args[1] if len(args) > 1 and args[1] else None, int(args[2]) if len(args) > 2 else 0)


ACTIONS: dict[str, Action] = {
    PICK_EXPERT: lambda conv, state, a: conv.select(a[0], state),
    ALL: lambda conv, state, _a: conv.all(state),
    TOPIC: _topic,
    TOPICS: lambda conv, _st, a: conv.topics_page(a[0] or None, int(a[1])),
    ENTRY: lambda conv, _st, a: conv.entry(a[0]),
    MORE: lambda conv, _st, a: conv.more(a[0], int(a[1]) if len(a) > 1 else 0),
    OTHERS: lambda conv, _st, a: conv.others(a[0]),
    VERSUS: lambda conv, _st, a: conv.versus(a[0]),
    VERSUS_PICK: lambda conv, _st, a: conv.compare_entry(a[0], a[1]),
    ASK: _ask,
    CMP_START: lambda conv, st, _a: conv.compare("", st),
    CMP_FIRST: lambda conv, _st, a: conv.compare_pick(a[0]),
    CMP_SECOND: lambda conv, _st, a: conv.compare_pick(a[0], a[1]),
    CMP_TOPIC: lambda conv, _st, a: conv.compare_topic(a[0], a[1], a[2]),
    SHARE: lambda conv, _st, a: conv.entry(a[0]),
}

# Steps of a picker and paging (◀ ▶) replace the message the button is under; anything new the
# user asked for (an answer, a topic, a comparison) is a new message.
EDITS_IN_PLACE = frozenset({CMP_START, CMP_FIRST, CMP_SECOND, TOPICS})
_PAGED = {TOPIC: 2, MORE: 1}  # action -> the argument index of its page number


def edits_in_place(action: str, args: list[str]) -> bool:
    """Does this tap replace the message it is under? Paging does; opening something new does not."""
    if action in EDITS_IN_PLACE:
        return True
    paged = _PAGED.get(action)
    return paged is not None and len(args) > paged
