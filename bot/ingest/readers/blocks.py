"""Collects a page's blocks into lines; shared by the Markdown and HTML readers."""

from __future__ import annotations

import re
from typing import Literal

from bot.ingest.readers.model import BREAK, Document, Dropped, Markup

Kind = Literal["text", "heading", "quote", "links"]

# A heading is short and is not a sentence, a clause or a speaker label.
_HEADING_MAX = 30
_NOT_HEADING_END = tuple("。！？!?…，,；;：:、")


def looks_like_heading(line: str) -> bool:
    """An emphasised line that reads as a section title (`01 做AGI`), not a label or a sentence."""
    return len(line) <= _HEADING_MAX and not line.endswith(_NOT_HEADING_END) and not re.search(r"[:：]", line)


class Blocks:
    """Lines in page order, with the headings, quotes and dropped lines the markup showed."""

    def __init__(self) -> None:
        self.lines: list[str] = []
        self.headings: list[str] = []
        self.quotes: list[str] = []
        self.dropped: list[Dropped] = []

    def add(self, text: str, kind: Kind = "text", emphasized: bool = False) -> None:
        for raw in text.split("\n"):
            line = raw.strip()
            if not line:
                continue
            if kind == "links":
                self.dropped.append(Dropped("link_line", line))
                continue
            if kind == "heading" or (emphasized and looks_like_heading(line)):
                self.headings.append(line)
            elif kind == "quote":
                self.quotes.append(line)
            self.lines.append(line)

    def drop(self, rule: str, line: str) -> None:
        if line.strip():
            self.dropped.append(Dropped(rule, line.strip()))

    def rule(self) -> None:
        """A thematic break (`---`, `<hr>`): it ends whatever turn is running."""
        if self.lines and self.lines[-1] != BREAK:
            self.lines.append(BREAK)

    def document(self, markup: Markup, meta: dict[str, str]) -> Document:
        return Document(markup, "\n".join(self.lines), tuple(self.headings), tuple(self.quotes),
                        tuple(self.dropped), meta)
