"""The bot's best entries for a question, confident or not: what a curator chooses from.

`Engine.answer` returns matches only when the model is confident; for an unanswered question the
review queue still needs the near misses. Called by `review` (its own process), never on the bot's
answering path. They come from the engine's own public stages
(`analyzer.analyse` -> `scored` -> `model.probability` -> `candidate`), so they are ranked by the
same probability that decides answers.
"""

from __future__ import annotations

import numpy as np

from bot.feedback.store import Candidate
from bot.matching import Answer, Engine, UnknownExpert


def shown(answer: Answer) -> tuple[Candidate, ...]:
    """The entries an answer gave, as stored."""
    return tuple(Candidate(m.entry.id, m.persona.id, float(m.probability), _first(m.entry.topics), True)
                 for m in answer.matches)


def near_misses(engine: Engine, text: str, expert: str | None, k: int = 3) -> tuple[Candidate, ...]:
    """The k most probable entries for `text` (put to `expert`, a persona id, or everyone),
    whatever the threshold says; empty when the question has no content words."""
    q = engine.analyzer.analyse(text)
    if not q.concepts:
        return ()
    if q.personas:
        allowed = list(q.personas)
    elif expert:
        try:
            allowed = [engine.resolve(expert)]
        except UnknownExpert:  # that expert is gone after a reload
            allowed = []
    else:
        allowed = []
    scored = engine.scored(q, allowed)
    if not len(scored.candidates):
        return ()
    probability = engine.model.probability(scored.features)
    out = []
    for row in np.argsort(-probability, kind="stable")[:k]:
        persona, entry = engine.candidate(int(scored.candidates[row]))
        out.append(Candidate(entry.id, persona.id, float(probability[row]), _first(entry.topics), False))
    return tuple(out)


def best(engine: Engine, text: str, expert: str | None, k: int = 3) -> tuple[Candidate, ...]:
    """The k best entries now: what the bot would answer (shown) first, then its near misses."""
    try:
        answer = engine.answer(text, expert, k=k)
    except UnknownExpert:
        answer = engine.answer(text, None, k=k)
    given = shown(answer)
    if len(given) >= k:
        return given[:k]
    taken = {c.entry_id for c in given}
    rest = [c for c in near_misses(engine, text, expert, k + len(given)) if c.entry_id not in taken]
    return (given + tuple(rest))[:k]


def _first(topics: list[str]) -> str | None:
    return topics[0] if topics else None
