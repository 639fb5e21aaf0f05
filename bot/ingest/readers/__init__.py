"""Readers: a scraped file (plain text, Markdown, saved HTML) -> one text model for cleaning.

Every reader gives a `Document`: the text as one block per line (what `clean` and `segment`
work on, and what quotes are substrings of), plus what only the markup knows: which lines are
section headings, which were block quotes, and what the reader left out (image tags, lines of
links, page chrome), so the ingest report can list it. Plain text passes through unchanged,
byte for byte: the seed sources build exactly as they did before readers existed.

The file's extension decides (`.md`, `.html`); a `.txt` (or anything else) is read by its
content, conservatively: only unmistakable Markdown or HTML is treated as such.
"""

from __future__ import annotations

import re
from pathlib import Path

from bot.ingest.readers.model import Document, Dropped, Markup

__all__ = ["Document", "Dropped", "Markup", "detect_markup", "read_file", "read_text"]

_MARKDOWN_EXT = {".md", ".markdown", ".mdown", ".mkd"}
_HTML_EXT = {".html", ".htm", ".xhtml", ".mhtml"}
_HTML_START = re.compile(r"\A\s*(?:<!doctype\s+html|<html[\s>]|<head[\s>]|<body[\s>]|<meta\s)", re.I)
# Markdown that plain text never has: image tags, links, ATX headings, bold speaker labels, quotes.
_MARKDOWN_SIGNS = [
    re.compile(r"!\[[^\]\n]*\]\([^)\n]+\)"),
    re.compile(r"(?<!!)\[[^\]\n]+\]\((?:https?://|/)[^)\n]*\)"),
    re.compile(r"^#{1,6} \S", re.M),
    re.compile(r"^\*\*[^*\n]{1,20}\*\*|^\*\*[^*\n]{1,20}[:：]\*\*", re.M),
    re.compile(r"^> \S", re.M),
]


def detect_markup(name: str, raw: str) -> Markup:
    """`markdown`, `html` or `plain`: by extension, else by unmistakable content."""
    suffix = Path(name).suffix.lower()
    if suffix in _MARKDOWN_EXT:
        return "markdown"
    if suffix in _HTML_EXT:
        return "html"
    if _HTML_START.match(raw):
        return "html"
    signs = sum(1 for sign in _MARKDOWN_SIGNS if sign.search(raw))
    return "markdown" if signs >= 2 else "plain"


def read_text(raw: str, name: str = "") -> Document:
    """Read `raw` (the file's text) with the reader its name or content calls for."""
    markup = detect_markup(name, raw)
    if markup == "markdown":
        from bot.ingest.readers.markdown import read_markdown

        return read_markdown(raw)
    if markup == "html":
        from bot.ingest.readers.html import read_html

        return read_html(raw)
    return Document("plain", raw)


def read_file(path: Path) -> Document:
    """Read a file as UTF-8 (a UTF-8 BOM is dropped; GB18030 pages are decoded as such)."""
    data = path.read_bytes()
    try:
        raw = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raw = data.decode("gb18030")
    return read_text(raw, path.name)
