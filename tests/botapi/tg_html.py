"""Telegram's HTML parse mode, as strict as Telegram: text plus entities, or the error it returns.

Modelled on tdlib's parse_html: only the documented tags, balanced and properly nested, and every
literal "<" or "&" escaped. Offsets are in UTF-16 code units, like the Bot API's entities.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass, field
from typing import Any

_TAGS = {
    "b": "bold",
    "strong": "bold",
    "i": "italic",
    "em": "italic",
    "u": "underline",
    "ins": "underline",
    "s": "strikethrough",
    "strike": "strikethrough",
    "del": "strikethrough",
    "span": "spoiler",
    "tg-spoiler": "spoiler",
    "a": "text_link",
    "code": "code",
    "pre": "pre",
    "blockquote": "blockquote",
}
_ENTITY = re.compile(r"&(#[0-9]{1,7}|#[xX][0-9a-fA-F]{1,6}|lt|gt|amp|quot|apos);")
_NAMED = {"lt": "<", "gt": ">", "amp": "&", "quot": '"', "apos": "'"}
_TAG_NAME = re.compile(r"[a-zA-Z0-9-]*")
_ATTR = re.compile(r"""\s*([a-zA-Z_-]+)\s*(?:=\s*("[^"]*"|'[^']*'|[^\s>"']+))?""")


class EntityParseError(ValueError):
    """Telegram's 400 description, ready to send: "Bad Request: can't parse entities: ..."."""

    def __init__(self, detail: str) -> None:
        super().__init__(f"Bad Request: can't parse entities: {detail}")
        self.description = str(self)


@dataclass
class _Open:
    tag: str
    attrs: dict[str, str]
    start: int  # UTF-16 offset in the output text
    byte_offset: int


@dataclass
class Parsed:
    text: str
    entities: list[dict[str, Any]] = field(default_factory=list)


def utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def parse_html(source: str) -> Parsed:
    """Parse Telegram HTML into visible text and entities; raise EntityParseError like Telegram."""
    out: list[str] = []
    out_len = 0  # UTF-16 units emitted so far
    stack: list[_Open] = []
    entities: list[dict[str, Any]] = []
    i = 0
    n = len(source)

    def byte_at(pos: int) -> int:
        return len(source[:pos].encode("utf-8"))

    while i < n:
        ch = source[i]
        if ch == "&":
            m = _ENTITY.match(source, i)
            if m is None:
                raise EntityParseError(f'Unescaped "&" at byte offset {byte_at(i)}; use "&amp;"')
            body = m.group(1)
            if body.startswith("#"):
                code = int(body[2:], 16) if body[1:2] in "xX" else int(body[1:])
                if not 0 < code <= 0x10FFFF:
                    raise EntityParseError(f"Invalid character reference at byte offset {byte_at(i)}")
                decoded = chr(code)
            else:
                decoded = _NAMED[body]
            out.append(decoded)
            out_len += utf16_len(decoded)
            i = m.end()
        elif ch == "<":
            start_byte = byte_at(i)
            if source.startswith("</", i):
                close = source.find(">", i)
                if close < 0:
                    raise EntityParseError(f"Unclosed end tag at byte offset {start_byte}")
                name = source[i + 2 : close].strip().lower()
                if not stack:
                    raise EntityParseError(f"Unexpected end tag at byte offset {start_byte}")
                top = stack[-1]
                if name != top.tag:
                    raise EntityParseError(
                        f'Unmatched end tag at byte offset {start_byte}, expected "</{top.tag}>", found "</{name}>"'
                    )
                stack.pop()
                entity = _entity(top, out_len)
                if entity is not None:
                    entities.append(entity)
                i = close + 1
                continue
            m = _TAG_NAME.match(source, i + 1)
            name = m.group(0).lower() if m else ""
            if name not in _TAGS:
                raise EntityParseError(f'Unsupported start tag "{name}" at byte offset {start_byte}')
            j = m.end() if m else i + 1
            attrs: dict[str, str] = {}
            while True:
                if j >= n:
                    raise EntityParseError(f"Unclosed start tag at byte offset {start_byte}")
                if source[j] == ">":
                    break
                if source[j].isspace():
                    j += 1
                    continue
                am = _ATTR.match(source, j)
                if am is None or am.end() == j:
                    raise EntityParseError(f'Empty attribute name in the tag "{name}" at byte offset {start_byte}')
                raw = am.group(2) or ""
                if raw[:1] in "\"'":
                    raw = raw[1:-1]
                attrs[am.group(1).lower()] = html.unescape(raw)
                j = am.end()
            if name == "span" and attrs.get("class") != "tg-spoiler":
                raise EntityParseError(f'Tag "span" must have class "tg-spoiler" at byte offset {start_byte}')
            stack.append(_Open(name, attrs, out_len, start_byte))
            i = j + 1
        else:
            out.append(ch)
            out_len += utf16_len(ch)
            i += 1
    if stack:
        raise EntityParseError(f'Can\'t find end tag corresponding to start tag "{stack[-1].tag}"')
    return _strip(Parsed("".join(out), sorted(entities, key=lambda e: (e["offset"], -e["length"]))))


def _entity(opened: _Open, end: int) -> dict[str, Any] | None:
    length = end - opened.start
    if length <= 0:
        return None
    kind = _TAGS[opened.tag]
    entity: dict[str, Any] = {"type": kind, "offset": opened.start, "length": length}
    if kind == "text_link":
        href = opened.attrs.get("href", "")
        if not href:
            return None  # Telegram drops a link without a target
        entity["url"] = href
    if kind == "blockquote" and "expandable" in opened.attrs:
        entity["type"] = "expandable_blockquote"
    return entity


def _strip(parsed: Parsed) -> Parsed:
    """Telegram trims surrounding whitespace; entities shift with the text."""
    text = parsed.text
    lead = utf16_len(text) - utf16_len(text.lstrip())
    stripped = text.strip()
    total = utf16_len(stripped)
    entities = []
    for e in parsed.entities:
        start = max(0, e["offset"] - lead)
        end = min(total, e["offset"] - lead + e["length"])
        if end > start:
            entities.append({**e, "offset": start, "length": end - start})
    return Parsed(stripped, entities)
