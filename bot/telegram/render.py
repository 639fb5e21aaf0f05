"""Views as Telegram HTML messages: every corpus and user string escaped, long text split.

What a reply says is decided once, in bot/views; this module only turns a view's spans into
HTML. Splitting over Telegram's 4,096-character limit can cut inside a span's text at a sentence
end and close/reopen its tag and block: no part is ever cut mid-tag or mid-entity, and each part
parses alone.
"""

from __future__ import annotations

import html
import re
from dataclasses import replace

from bot.conversation import Reply
from bot.views import Span, View, build

MAX_MESSAGE = 4096
_SENTENCE_END = re.compile(r"[。！？!?\n；;]|\.(?=\s)")


def span_html(span: Span) -> str:
    """One span as HTML; its text escaped (quotes too inside an attribute)."""
    body = html.escape(span.text, quote=False)
    if span.tag is None:
        return body
    if span.tag == "a":
        return f'<a href="{html.escape(span.href or "", quote=True)}">{body}</a>'
    return f"<{span.tag}>{body}</{span.tag}>"


def utf16_len(text: str) -> int:
    """Telegram measures text in UTF-16 code units; counting them is never less than characters."""
    return len(text.encode("utf-16-le")) // 2


def render(reply: Reply | View) -> list[str]:
    """HTML message texts for a reply (or its view), in order; the keyboard goes under the last one."""
    view = reply if isinstance(reply, View) else build(reply)
    return split(list(view.spans))


def split(items: list[Span], limit: int = MAX_MESSAGE) -> list[str]:
    """Pack spans into messages of at most `limit` visible UTF-16 units, cutting text at sentence ends."""
    messages: list[list[Span]] = [[]]
    used = 0
    for span in items:
        text = span.text
        while text:
            room = limit - used
            size = utf16_len(text)
            if size <= room:
                messages[-1].append(replace(span, text=text))
                used += size
                break
            cut = _cut_point(text, room)
            if used and (cut == 0 or (size <= limit and cut < len(text) // 2)):
                messages.append([])  # better to start the span afresh than to cut it early
                used = 0
                text = text.lstrip("\n")
                continue
            if cut == 0:
                cut = _hard_cut(text, room)
            messages[-1].append(replace(span, text=text[:cut]))
            messages.append([])
            used = 0
            text = text[cut:].lstrip("\n ")
    rendered = [_join(message).strip() for message in messages]
    return [m for m in rendered if m]


def _join(message: list[Span]) -> str:
    """A message's HTML: spans in order, consecutive spans of one `block` inside one container."""
    out: list[str] = []
    opened: str | None = None
    for span in message:
        if span.block != opened:
            if opened:
                out.append(f"</{opened.split()[0]}>")
            if span.block:
                out.append(f"<{span.block}>")
            opened = span.block
        out.append(span_html(span))
    if opened:
        out.append(f"</{opened.split()[0]}>")
    return "".join(out)


def _cut_point(text: str, room: int) -> int:
    """Character index just after the last sentence end that fits in `room` UTF-16 units (0 = none)."""
    window = _prefix_fitting(text, room)
    ends = [m.end() for m in _SENTENCE_END.finditer(text, 0, window)]
    if ends:
        return ends[-1]
    space = text.rfind(" ", 0, window)
    return space + 1 if space > 0 else 0


def _prefix_fitting(text: str, room: int) -> int:
    """How many characters of text fit in `room` UTF-16 units."""
    used = 0
    for i, ch in enumerate(text):
        used += 2 if ord(ch) > 0xFFFF else 1
        if used > room:
            return i
    return len(text)


def _hard_cut(text: str, room: int) -> int:
    return max(1, _prefix_fitting(text, room))


def truncate(items: list[Span], limit: int = MAX_MESSAGE, tail: str = "……（全文见来源）") -> str:
    """One message no matter what (inline results cannot be split): cut at a sentence end and say so."""
    parts = split(items, limit - utf16_len(tail) - 2)
    if len(parts) == 1:
        return parts[0]
    return parts[0] + "\n" + html.escape(tail)


def notice(title: str, lines: list[str]) -> list[str]:
    """A bold title and plain lines (operator reports such as /reload)."""
    return split([Span(title, "b"), Span("\n" + "\n".join(lines))])
