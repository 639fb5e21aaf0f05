"""Inline keyboards for replies, and the versioned callback data their buttons carry.

Callback data is "v1|ACTION|ARG|ARG" and at most 64 bytes (Telegram's limit). The version prefix
lets a future format coexist with buttons still sitting in old chats: anything that does not
decode is "stale" and gets a polite toast, never an exception. Text too long for a button (a
suggested question, the query to re-ask) is kept in a small per-chat stash under a short hash.
"""

from __future__ import annotations

from collections.abc import Callable, MutableMapping

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot.conversation import (
    TOPIC_PAGE,
    AnswerReply,
    ComparePicker,
    CompareReply,
    EntryReply,
    ExpertList,
    ExpertProfile,
    Reply,
    SmallTalkReply,
    TopicAnswer,
    TopicList,
    UnknownExpertReply,
    Welcome,
    short_key,
)
from bot.matching import Match, TopicCount
from bot.model import Persona
from bot.telegram.render import labels, lead_passage, suggestion_label, suggestion_labels

VERSION = "v1"
MAX_DATA = 64
STASH_SIZE = 200
Stash = MutableMapping[str, str]

# actions
PICK_EXPERT = "x"  # x|persona            set the chat's expert, show profile
ALL = "a"  # a                             questions go to everyone
TOPIC = "t"  # t|topic|persona-or-empty[|n] answers on a topic, the n-th shown (◀ ▶ edit in place)
TOPICS = "tp"  # tp|persona-or-empty|page   another page of /topics (edits in place)
ENTRY = "e"  # e|entry                     show one entry
MORE = "m"  # m|entry[|n]                  the expert's n-th other answer (n > 0 edits in place)
OTHERS = "o"  # o|entry                    other experts on this question
VERSUS = "v"  # v|entry                    pick an expert to compare with the entry's author
SOURCE = "s"  # s|entry                    toast with the citation (no URL known)
ASK = "q"  # q|key|persona-or-empty        ask a stashed text
CMP_FIRST = "c1"  # c1|a                   compare flow: first picked
CMP_SECOND = "c2"  # c2|a|b                compare flow: both picked, choose a topic
CMP_TOPIC = "c3"  # c3|a|b|topic           show the comparison
CMP_START = "c0"  # c0                     restart the compare flow
VERDICT = "f"  # f|ref|1-or-0              👍 / 👎 on a recorded answer (bot/telegram/feedback.py)
REVIEW = "r"  # r|a|group|n, r|d|group, r|s|group   the admins' /review: attach, decline, skip


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


def _pager(page: int, total: int, action: str, *prefix: str) -> list[InlineKeyboardButton]:
    """◀ n/N ▶ for paging in place; no arrow where there is nothing on that side."""
    if total <= 1:
        return []
    buttons = [
        _button("◀", action, *prefix, str(page - 1)) if page > 0 else None,
        _button("▶", action, *prefix, str(page + 1)) if page + 1 < total else None,
    ]
    return [b for b in buttons if b is not None]


Others = Callable[[str], list[Persona]]
"""Entry id -> the other experts who spoke on its topic (Conversation.compare_candidates)."""


def answer_buttons(match: Match, english: bool = False, *, more: bool = True,
                   others: Others | None = None) -> list[list[InlineKeyboardButton]]:
    """Under an answer: more from this expert, other experts, compare; each only when it leads
    somewhere (the expert has more; someone else spoke on it). No source button: the source is on
    the answer already, with its link."""
    words, eid = labels(english), match.entry.id
    name = match.persona.display_name
    elsewhere = others is None or bool(others(eid))
    return _rows([
        _button(words["more"].format(name=name), MORE, eid) if more and len(match.persona.entries) > 1 else None,
        _button(words["others"], OTHERS, eid) if elsewhere else None,
        _button(words["versus"], VERSUS, eid) if elsewhere else None,
    ], 3 if english else 2)


def for_reply(reply: Reply, stash: Stash, others: Others | None = None) -> InlineKeyboardMarkup | None:
    """The keyboard under a reply's last message, if it has one. With `others`, buttons about other
    experts are left out where nobody else spoke on the answer's topic."""
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
            return _markup(_answer_keyboard(reply, stash, others) + verdict_row(reply))
        case EntryReply():
            if reply.origin is None:
                return _markup(answer_buttons(reply.match, others=others))
            pager = _pager(reply.page, reply.total, MORE, reply.origin)
            return _markup([pager, *answer_buttons(reply.match, more=False, others=others)])
        case TopicAnswer():
            shown = reply.matches[reply.index]
            pid = reply.persona.id if reply.persona else ""
            pager = _pager(reply.index, len(reply.matches), TOPIC, reply.topic, pid)
            return _markup([pager, *answer_buttons(shown, others=others)])
        case CompareReply():
            words = labels(reply.english)
            sides = [s for s in reply.comparison.sides if s.matches and len(s.persona.entries) > 1]
            buttons = [_button(words["more"].format(name=s.persona.display_name), MORE, s.matches[0].entry.id)
                       for s in sides]
            whole = [_button(words["whole"].format(name=s.persona.display_name), ENTRY, s.matches[0].entry.id)
                     for s in reply.comparison.sides if s.matches and lead_passage(s.matches[0]) is not None]
            return _markup(_rows(whole, 2) + _rows(buttons, 2))
        case SmallTalkReply():
            return _markup(_rows([_button(e, ASK, stash_text(stash, e), "") for e in reply.examples], 1))
        case ComparePicker():
            return _markup(_picker_keyboard(reply))
        case TopicList():
            start = reply.page * TOPIC_PAGE
            pid = reply.persona.id if reply.persona else ""
            pages = -(-len(reply.topics) // TOPIC_PAGE)
            rows = topics(reply.topics[start : start + TOPIC_PAGE], reply.persona, limit=TOPIC_PAGE)
            return _markup([*rows, _pager(reply.page, pages, TOPICS, pid)])
        case UnknownExpertReply():
            offered = reply.closest or reply.experts
            if not reply.for_compare:
                return _markup(experts(offered))
            if reply.first is None:
                return _markup(experts(offered, None, CMP_FIRST))
            return _markup(experts(offered, None, CMP_SECOND, reply.first.id))
    return None


def verdict_row(reply: AnswerReply) -> list[list[InlineKeyboardButton]]:
    """👍 / 👎, the last row under an answer that was given and recorded (none for "no answer")."""
    if reply.record is None or not reply.answer.matches:
        return []
    return _rows([_button("👍", VERDICT, reply.record, "1"), _button("👎", VERDICT, reply.record, "0")], 2)


def _answer_keyboard(reply: AnswerReply, stash: Stash, others: Others | None) -> list[list[InlineKeyboardButton]]:
    answer, words = reply.answer, labels(reply.english)
    if answer.matches:
        rows = answer_buttons(answer.matches[0], reply.english, others=others)
        rest = [_button(f"{m.persona.display_name}：{suggestion_label(m.entry.question)}", ENTRY, m.entry.id)
                for m in answer.matches[1:]]
        return rows + _rows(rest, 1)
    key = stash_text(stash, answer.query)
    rows = _rows([_button(words["ask"].format(name=p.display_name), ASK, key, p.id)
                  for p in answer.covered_by[:6]], 3)
    suggestions: list[InlineKeyboardButton | None] = []
    for i, label in suggestion_labels(reply).items():
        s = answer.suggestions[i]
        entry = reply.entry_of.get(s.text)
        if entry is not None:  # a recorded question: its button opens exactly that answer
            suggestions.append(_button(label, ENTRY, entry[0]))
        elif s.topic:  # a topic's label: its answers
            suggestions.append(_button(s.text, TOPIC, s.topic, s.persona_id or ""))
        else:
            suggestions.append(_button(s.text, ASK, stash_text(stash, s.text), s.persona_id or ""))
    rows += _rows(suggestions, 1)
    if answer.persona_filter is not None:
        rows.append([b for b in [_button(words["ask_all"], ASK, key, "*")] if b])
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

