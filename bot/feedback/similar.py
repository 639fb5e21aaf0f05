"""When two user questions are "the same question": one key and one scorer, shared by the review
queue's grouping and the declined list.

A key is the question folded (bot.text.fold: Simplified, half-width, lower case) with punctuation
and spaces dropped, cut into tokens (each Chinese character, each Latin word or number), sorted.
Sorting makes word order free (`沈向洋怎么看量子计算` ~ `沈向洋对量子计算怎么看`), while a changed
content word still costs its characters (`丁磊怎么看开源` vs `丁磊怎么看监管`). The score is
rapidfuzz's `ratio` (normalised Indel similarity, 0-100) over the joined keys, computed in batch
with `process.cdist` / `extractOne`, never a Python loop over pairs.
"""

from __future__ import annotations

import re

from rapidfuzz import fuzz

from bot.text import fold

_TOKENS = re.compile(r"[\u3400-\u9fff]|[^\W_\u3400-\u9fff]+")

SCORER = fuzz.ratio
"""The one scorer: every threshold in settings.yaml is on its scale."""


def key(text: str) -> str:
    """The comparable form of a question: folded, tokens sorted and joined by spaces."""
    return " ".join(sorted(_TOKENS.findall(fold(text))))
