"""Inline mode (`@bot QUESTION` in any chat): top answers as articles, each citing its source."""

from __future__ import annotations

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, InlineQueryResultArticle, InputTextMessageContent

from bot.conversation import short_key
from bot.matching import Match
from bot.telegram import render
from bot.views import match_spans
from bot.views.text import citation

MAX_RESULTS = 50  # Telegram refuses more (RESULTS_TOO_MUCH)


def result_id(match: Match) -> str:
    """Entry ids are unique; hash the rare one longer than Telegram's 64-byte result id limit."""
    eid = match.entry.id
    return eid if len(eid.encode("utf-8")) <= 64 else short_key(eid)


def results(matches: list[Match]) -> list[InlineQueryResultArticle]:
    """One article per match (unique ids, at most 50); the sent message is the full rendered answer."""
    seen: set[str] = set()
    articles: list[InlineQueryResultArticle] = []
    for match in matches:
        rid = result_id(match)
        if rid in seen:
            continue
        seen.add(rid)
        source = match.source
        markup = InlineKeyboardMarkup([[InlineKeyboardButton("原文 ↗", url=source.url)]]) if source.url else None
        articles.append(InlineQueryResultArticle(
            id=rid,
            title=f"{match.persona.display_name}：{match.entry.question}"[:100],
            description=f"{citation(source)}\n{match.entry.answer[:80]}",
            input_message_content=InputTextMessageContent(render.truncate(match_spans(match))),
            reply_markup=markup,
        ))
        if len(articles) == MAX_RESULTS:
            break
    return articles
