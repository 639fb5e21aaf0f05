"""A reply as the user sees it, independent of the front end: text parts and buttons.

`build(reply)` (bot/views/build.py) makes one `View` per reply, once; telegram/render.py turns its
spans into HTML and keyboards.py its buttons into an inline keyboard; render_text.py turns both
into terminal text. Nothing here knows HTML or Telegram.
"""

from __future__ import annotations

from dataclasses import dataclass

BLOCKQUOTE = "blockquote"
EXPANDABLE = "blockquote expandable"  # Telegram shows the first lines and "expand"; a terminal shows it all


@dataclass(frozen=True)
class Span:
    """Plain text, optionally styled with one tag (b, i, code, a) and inside one block.

    `block` puts consecutive spans in one container (BLOCKQUOTE or EXPANDABLE), so a quote can
    hold bold words; a Telegram split closes the container at the cut and reopens it."""

    text: str
    tag: str | None = None
    href: str | None = None
    block: str | None = None


@dataclass(frozen=True)
class Button:
    """A button: its label and what it does (an action code of bot/conversation/actions.py and
    its arguments). An ASK button's last argument is the question itself."""

    label: str
    action: str
    args: tuple[str, ...] = ()


Row = tuple[Button, ...]


@dataclass(frozen=True)
class View:
    """What a reply shows: `spans` in order, `rows` of buttons under it; `toast` for a reply that
    is only a short notice under the button that was pressed (nothing new to show)."""

    kind: str
    spans: tuple[Span, ...]
    rows: tuple[Row, ...] = ()
    toast: str | None = None

    @property
    def buttons(self) -> list[Button]:
        return [b for row in self.rows for b in row]

    def plain(self) -> str:
        """The text without any styling (for line counts and tests)."""
        return "".join(s.text for s in self.spans)

    def before_fold(self) -> str:
        """The text a phone shows before the first expandable block's "expand"."""
        out: list[str] = []
        for span in self.spans:
            if span.block == EXPANDABLE:
                break
            out.append(span.text)
        return "".join(out)
