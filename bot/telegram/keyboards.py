"""Inline keyboards for replies, and the versioned callback data their buttons carry.

Callback data is "v1|ACTION|ARG|ARG" and at most 64 bytes (Telegram's limit). The version prefix
lets a future format coexist with buttons still sitting in old chats: anything that does not
decode is "stale" and gets a polite toast, never an exception. Text too long for a button (a
suggested question, the query to re-ask) is kept in a small per-chat stash under a short hash.
"""

from __future__ import annotations

from collections.abc import MutableMapping

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot.conversation import (
    AnswerReply,
    ComparePicker,
    CompareReply,
    EntryReply,
    ExpertList,
    ExpertProfile,
    Reply,
    TopicAnswer,
    TopicList,
    UnknownExpertReply,
    Welcome,
    short_key,
)
from bot.matching import Match, TopicCount
from bot.model import Persona

VERSION = "v1"
MAX_DATA = 64
STASH_SIZE = 200
Stash = MutableMapping[str, str]

# actions
PICK_EXPERT = "x"  # x|persona            set the chat's expert, show profile
ALL = "a"  # a                             questions go to everyone
TOPIC = "t"  # t|topic|persona-or-empty    answers on a topic
ENTRY = "e"  # e|entry                     show one entry
MORE = "m"  # m|entry                      same expert's next answer on the topic
OTHERS = "o"  # o|entry                    other experts on this question
VERSUS = "v"  # v|entry                    pick an expert to compare with the entry's author
SOURCE = "s"  # s|entry                    toast with the citation (no URL known)
ASK = "q"  # q|key|persona-or-empty        ask a stashed text
CMP_FIRST = "c1"  # c1|a                   compare flow: first picked
CMP_SECOND = "c2"  # c2|a|b                compare flow: both picked, choose a topic
CMP_TOPIC = "c3"  # c3|a|b|topic           show the comparison
CMP_START = "c0"  # c0                     restart the compare flow


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


def _button(label: str, action: str, *args: str) -> InlineKeyboardButton | None:
    data = encode(action, *args)
    return InlineKeyboardButton(_label(label), callback_data=data) if data else None


def _label(text: str, limit: int = 40) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _rows(buttons: list[InlineKeyboardButton | None], per_row: int) -> list[list[InlineKeyboardButton]]:
    kept = [b for b in buttons if b is not None]
    return [kept[i : i + per_row] for i in range(0, len(kept), per_row)]


def _markup(rows: list[list[InlineKeyboardButton]]) -> InlineKeyboardMarkup | None:
    rows = [row for row in rows if row]
    return InlineKeyboardMarkup(rows) if rows else None


def experts(personas: list[Persona], current: Persona | None = None, action: str = PICK_EXPERT,
            *prefix: str) -> list[list[InlineKeyboardButton]]:
    """One button per expert; `prefix` args come before the persona id (compare flow)."""
    def label(p: Persona) -> str:
        return ("✓ " if current is not None and p.id == current.id else "") + p.display_name

    return _rows([_button(label(p), action, *prefix, p.id) for p in personas], 3)


def topics(items: list[TopicCount], persona: Persona | None, limit: int = 12) -> list[list[InlineKeyboardButton]]:
    pid = persona.id if persona else ""
    return _rows([_button(f"{t.label}（{t.count}）", TOPIC, t.id, pid) for t in items[:limit]], 2)


def source_button(match: Match) -> InlineKeyboardButton | None:
    """A URL button when the source has a link, else a button that shows the citation."""
    if match.source.url:
        return InlineKeyboardButton("原文 ↗", url=match.source.url)
    return _button("来源", SOURCE, match.entry.id)


def answer_buttons(match: Match) -> list[list[InlineKeyboardButton]]:
    """Under an answer: more from this expert, other experts, compare, the source."""
    eid = match.entry.id
    return _rows([
        _button(f"更多{match.persona.display_name}的观点", MORE, eid),
        _button("其他专家怎么看", OTHERS, eid),
        _button("对比", VERSUS, eid),
        source_button(match),
    ], 2)


def for_reply(reply: Reply, stash: Stash) -> InlineKeyboardMarkup | None:
    """The keyboard under a reply's last message, if it has one."""
    match reply:
        case Welcome() | ExpertList():
            current = reply.current
            rows = experts(reply.experts, current)
            if isinstance(reply, ExpertList):
                rows.append([b for b in [_button("所有专家", ALL)] if b])
            return _markup(rows)
        case ExpertProfile():
            rows = topics(reply.topics, reply.persona, limit=8)
            rows += _rows([_button(f"拿{reply.persona.display_name}对比…", CMP_FIRST, reply.persona.id),
                           _button("所有专家", ALL) if reply.selected else None], 2)
            return _markup(rows)
        case AnswerReply():
            return _markup(_answer_keyboard(reply, stash))
        case EntryReply():
            return _markup(answer_buttons(reply.match))
        case TopicAnswer():
            rows = answer_buttons(reply.matches[0])
            rest = [_button(f"{m.persona.display_name}：{m.entry.question}", ENTRY, m.entry.id)
                    for m in reply.matches[1:9]]
            return _markup(rows + _rows(rest, 1))
        case CompareReply():
            sides = [s for s in reply.comparison.sides if s.matches]
            buttons = [_button(f"更多{s.persona.display_name}的观点", MORE, s.matches[0].entry.id) for s in sides]
            links = [InlineKeyboardButton(f"{s.persona.display_name} 原文 ↗", url=s.matches[0].source.url)
                     for s in sides if s.matches[0].source.url]
            return _markup(_rows(buttons, 2) + _rows(list(links), 2))
        case ComparePicker():
            return _markup(_picker_keyboard(reply))
        case TopicList():
            return _markup(topics(reply.topics, reply.persona, limit=24))
        case UnknownExpertReply():
            return _markup(experts(reply.closest or reply.experts))
    return None


def _answer_keyboard(reply: AnswerReply, stash: Stash) -> list[list[InlineKeyboardButton]]:
    answer = reply.answer
    if answer.matches:
        rows = answer_buttons(answer.matches[0])
        rest = [_button(f"{m.persona.display_name}：{m.entry.question}", ENTRY, m.entry.id)
                for m in answer.matches[1:]]
        return rows + _rows(rest, 1)
    key = stash_text(stash, answer.query)
    rows = _rows([_button(f"问{p.display_name}", ASK, key, p.id) for p in answer.covered_by[:6]], 3)
    suggestions: list[InlineKeyboardButton | None] = []
    for s in answer.suggestions[:5]:
        if s.topic:
            suggestions.append(_button(s.text, TOPIC, s.topic, s.persona_id or ""))
        else:
            suggestions.append(_button(s.text, ASK, stash_text(stash, s.text), s.persona_id or ""))
    rows += _rows(suggestions, 1)
    if answer.persona_filter is not None:
        rows.append([b for b in [_button("问所有专家", ASK, key, "*")] if b])
    return rows


def _picker_keyboard(reply: ComparePicker) -> list[list[InlineKeyboardButton]]:
    if reply.first is None:
        return experts(reply.experts, None, CMP_FIRST)
    if reply.second is None:
        others = [p for p in reply.experts if p.id != reply.first.id]
        return experts(others, None, CMP_SECOND, reply.first.id)
    a, b = reply.first.id, reply.second.id
    rows = _rows([_button(f"{t.label}（{t.count}）", CMP_TOPIC, a, b, t.id) for t in reply.topics[:16]], 2)
    return [*rows, [b for b in [_button("重新选择", CMP_START)] if b]]

