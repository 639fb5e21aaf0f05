"""Topic tags for an entry: keyword scoring over the folded question and answer.

Tags decide how a persona file is grouped and which answers line up in a comparison, so they
favour precision: a topic needs repeated evidence, and an entry carries at most three.
"""

from __future__ import annotations

from bot.text import fold
from bot.vocabulary import Topic

MAX_TOPICS = 3
# A topic is kept when it scores at least this share of the best topic's score.
_RELATIVE = 0.5
_QUESTION_WEIGHT = 2


def score_topics(question: str, answer: str, topics: tuple[Topic, ...]) -> dict[str, float]:
    """Keyword hits per topic; words in the question count double (they say what was asked)."""
    q, a = fold(question), fold(answer)
    scores: dict[str, float] = {}
    for topic in topics:
        score = 0.0
        for keyword in {fold(k) for k in topic.keywords}:
            score += _QUESTION_WEIGHT * q.count(keyword) + a.count(keyword)
        if score:
            scores[topic.id] = score
    return scores


def assign_topics(question: str, answer: str, topics: tuple[Topic, ...]) -> list[str]:
    """One to three topic ids, best first; the first topic of the vocabulary when nothing hits."""
    scores = score_topics(question, answer, topics)
    if not scores:
        return [topics[0].id]
    order = {t.id: i for i, t in enumerate(topics)}
    ranked = sorted(scores, key=lambda t: (-scores[t], order[t]))
    best = scores[ranked[0]]
    return [t for t in ranked[:MAX_TOPICS] if scores[t] >= best * _RELATIVE]
