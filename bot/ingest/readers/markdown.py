"""Markdown (as web clippers export WeChat and news articles) -> text, via markdown-it-py.

The text is parsed once into markdown-it's token stream and walked: emphasis markers, link
targets and image tags leave the text (images are listed as dropped), headings and bold-only
lines are marked as headings, block quotes as quotes, a paragraph of nothing but links is
dropped as a line of links. CommonMark does not close `**` next to CJK punctuation
(`**「****暗涌」：`), so runs of two or more `*` left in the text after parsing are stray
emphasis markers and go too. YAML front matter (title, url, author, date) becomes metadata.
"""

from __future__ import annotations

import re
from typing import Any

import yaml
from markdown_it import MarkdownIt
from markdown_it.token import Token

from bot.ingest.readers.blocks import Blocks, Kind
from bot.ingest.readers.model import Document

_FRONT_MATTER = re.compile(r"\A---[ \t]*\n(.*?\n)---[ \t]*\n", re.S)
_STRAY_EMPHASIS = re.compile(r"\*{2,}|(?<![A-Za-z0-9_])_{2,}(?![A-Za-z0-9_])")
_META_KEYS = {
    "title": "title", "url": "url", "source": "url", "link": "url", "original_url": "url",
    "author": "author", "date": "date", "published": "date", "created": "date",
    "site": "outlet", "site_name": "outlet", "outlet": "outlet", "account": "outlet",
}


def _front_matter(raw: str) -> tuple[dict[str, str], str]:
    match = _FRONT_MATTER.match(raw)
    if not match:
        return {}, raw
    try:
        data: Any = yaml.safe_load(match.group(1))
    except yaml.YAMLError:
        return {}, raw
    if not isinstance(data, dict):
        return {}, raw
    meta = {}
    for key, value in data.items():
        name = _META_KEYS.get(str(key).lower())
        if name and value is not None and name not in meta:
            meta[name] = str(value[0] if isinstance(value, list) and value else value).strip()
    return meta, raw[match.end() :]


class _Inline:
    """One inline run rendered to text, and what it was made of."""

    def __init__(self, blocks: Blocks) -> None:
        self.blocks = blocks
        self.parts: list[str] = []
        self.plain = 0  # characters outside any link or emphasis
        self.linked = 0
        self.strong = 0
        self.images = 0

    def walk(self, children: list[Token]) -> None:
        link = strong = 0
        for token in children:
            kind = token.type
            if kind in ("text", "code_inline"):
                text = _STRAY_EMPHASIS.sub("", token.content)
                self.parts.append(text)
                size = len(text.strip())
                if link:
                    self.linked += size
                elif strong:
                    self.strong += size
                else:
                    self.plain += size
            elif kind in ("softbreak", "hardbreak"):
                self.parts.append("\n")
            elif kind == "link_open":
                link += 1
            elif kind == "link_close":
                link -= 1
            elif kind in ("strong_open", "em_open"):
                strong += 1
            elif kind in ("strong_close", "em_close"):
                strong -= 1
            elif kind == "image":
                self.images += 1
                self.blocks.drop("image", f"![{token.content}]({token.attrs.get('src', '')})")
            elif kind == "html_inline":
                if re.match(r"<br\s*/?>", token.content, re.I):
                    self.parts.append("\n")
                elif re.match(r"<img\b", token.content, re.I):
                    self.images += 1
                    self.blocks.drop("image", token.content)

    @property
    def text(self) -> str:
        return "".join(self.parts)


def read_markdown(raw: str) -> Document:
    meta, body = _front_matter(raw.replace("\r\n", "\n"))
    md = MarkdownIt("commonmark").enable(["table", "strikethrough"])
    blocks = Blocks()
    quote_depth = 0
    heading = False
    row: list[str] = []
    cell = False
    for token in md.parse(body):
        kind = token.type
        if kind == "blockquote_open":
            quote_depth += 1
        elif kind == "blockquote_close":
            quote_depth -= 1
        elif kind == "heading_open":
            heading = True
        elif kind == "heading_close":
            heading = False
        elif kind == "hr":
            blocks.rule()
        elif kind in ("fence", "code_block"):
            blocks.add(token.content)
        elif kind == "html_block":
            _html_block(token.content, blocks)
        elif kind == "tr_open":
            row = []
        elif kind in ("th_open", "td_open"):
            cell = True
        elif kind in ("th_close", "td_close"):
            cell = False
        elif kind == "tr_close":
            blocks.add(" ".join(cell for cell in row if cell))
        elif kind == "inline":
            inline = _Inline(blocks)
            inline.walk(token.children or [])
            if cell:
                row.append(inline.text.strip())
                continue
            blocks.add(inline.text, _kind(inline, heading, quote_depth > 0),
                       emphasized=inline.strong > 0 and inline.plain == 0 and inline.linked == 0)
    if "title" not in meta and blocks.headings:
        meta["title"] = blocks.headings[0]
    return blocks.document("markdown", meta)


def _kind(inline: _Inline, heading: bool, quoted: bool) -> Kind:
    if heading:
        return "heading"
    if inline.linked and not inline.plain and not inline.strong:
        return "links"
    return "quote" if quoted else "text"


def _html_block(content: str, blocks: Blocks) -> None:
    """Raw HTML inside Markdown (clippers keep some): read with the HTML reader's walker."""
    from bot.ingest.readers.html import walk_fragment

    walk_fragment(content, blocks)
