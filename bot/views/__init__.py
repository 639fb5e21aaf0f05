"""Replies as views: what the user sees (text parts, the highlighted passage, buttons), built once
by `build(reply)` and turned into Telegram HTML (bot/telegram/render.py) or terminal text
(bot/render_text.py).

- `build.py`   the one `match` over reply kinds (`assert_never`), and the list-like views
- `answers.py` answers, no-answers, comparisons and the buttons under them
- `parts.py`   button rows, pagers, name lines, expert and topic lists
- `text.py`    short forms of corpus text (role, question, passage offsets, matched words)
- `labels.py`  chrome in Chinese or English, confidence in words
- `model.py`   `View`, `Span`, `Button`
"""

from bot.views.answers import match_spans
from bot.views.build import build
from bot.views.model import BLOCKQUOTE, EXPANDABLE, Button, Row, Span, View

__all__ = ["BLOCKQUOTE", "EXPANDABLE", "Button", "Row", "Span", "View", "build", "match_spans"]
