"""The text model every reader produces."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

Markup = Literal["plain", "markdown", "html"]

# A line a reader ends a speaker's turn with where the page had a rule (`---`, `<hr>`): what
# follows a rule (footers, the account's slogan) is never glued to the last answer.
BREAK = "——"


@dataclass(frozen=True)
class Dropped:
    """A line left out of the text, and the named rule that left it out (for the report)."""

    rule: str
    line: str


@dataclass(frozen=True)
class Document:
    """A source as text, one block per line, with what only its markup could tell."""

    markup: Markup
    text: str
    headings: tuple[str, ...] = ()  # lines that are section headings (h1-h6, `#`, a bold-only line)
    quotes: tuple[str, ...] = ()  # lines that were block quotes
    dropped: tuple[Dropped, ...] = ()  # left out by the reader: image tags, lines of links, page chrome
    meta: dict[str, str] = field(default_factory=dict)  # title, url, outlet, date, author when the page says

    @property
    def stops(self) -> frozenset[str]:
        """Lines that end a speaker's turn: section headings and rules."""
        return frozenset((*self.headings, BREAK)) if self.markup != "plain" else frozenset(self.headings)
