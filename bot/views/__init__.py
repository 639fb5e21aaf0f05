"""Replies as views: what the user sees (text parts, the highlighted passage, buttons), built once
by `build(reply)` and turned into Telegram HTML (bot/telegram/render.py) or terminal text
(bot/render_text.py)."""

from bot.views.build import build, match_spans
from bot.views.model import BLOCKQUOTE, EXPANDABLE, Button, Row, Span, View

__all__ = ["BLOCKQUOTE", "EXPANDABLE", "Button", "Row", "Span", "View", "build", "match_spans"]
