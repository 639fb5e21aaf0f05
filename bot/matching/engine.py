"""The core API every front end calls: answer(), compare(), topics(), resolve().

PLACEHOLDER scoring (rapidfuzz over question + answer) until the real index lands; the public
signatures below are the contract front ends code against.
"""

from __future__ import annotations

from pathlib import Path

from rapidfuzz import fuzz, process

from bot.matching.results import Answer, Comparison, Match, Side, TopicCount, UnknownExpert
from bot.model import Entry, Persona, load_personas
from bot.paths import default_corpus_dir, default_personas_dir


class Engine:
    """Personas loaded once, indexed once; every query goes through here."""

    def __init__(self, personas: list[Persona]) -> None:
        self.personas = sorted(personas, key=lambda p: p.id)
        self._by_id = {p.id: p for p in self.personas}
        self._entries: list[tuple[Persona, Entry]] = [(p, e) for p in self.personas for e in p.entries]
        self._texts = [e.question + " " + e.answer for _, e in self._entries]

    @classmethod
    def load(cls, personas_dir: Path | None = None, corpus_dir: Path | None = None) -> Engine:
        """Load and validate a personas directory (raises model.DataError) and build the index."""
        del corpus_dir  # vocabulary arrives with the real index
        return cls(load_personas(personas_dir or default_personas_dir()))

    def resolve(self, name: str) -> Persona:
        """Find an expert by id, name, pinyin or alias; raise UnknownExpert with the closest names."""
        key = name.strip().lower()
        for p in self.personas:
            if key in {p.id, p.name.lower(), p.name_simplified.lower(), p.pinyin.lower()} | {
                a.lower() for a in p.aliases
            }:
                return p
        raise UnknownExpert(name, self.personas[:3], self.personas)

    def answer(self, query: str, persona: str | Persona | None = None, k: int = 3) -> Answer:
        target = self.resolve(persona) if isinstance(persona, str) else persona
        hits = process.extract(query, self._texts, scorer=fuzz.partial_ratio, limit=None)
        matches = [
            Match(self._entries[i][0], self._entries[i][1], score)
            for _, score, i in hits
            if target is None or self._entries[i][0].id == target.id
        ][:k]
        return Answer(query, target, [m for m in matches if m.score >= 50])

    def compare(self, a: str | Persona, b: str | Persona, query: str) -> Comparison:
        pa = self.resolve(a) if isinstance(a, str) else a
        pb = self.resolve(b) if isinstance(b, str) else b
        sides = [Side(p, self.answer(query, p, k=1).matches) for p in (pa, pb)]
        return Comparison(query, None, sides)

    def topics(self, persona: str | Persona | None = None) -> list[TopicCount]:
        target = self.resolve(persona) if isinstance(persona, str) else persona
        counts: dict[str, int] = {}
        for p in [target] if target else self.personas:
            for topic, n in p.topic_counts().items():
                counts[topic] = counts.get(topic, 0) + n
        return [TopicCount(t, t, t, n) for t, n in sorted(counts.items(), key=lambda kv: -kv[1])]

    def topic_matches(self, topic: str, persona: str | Persona | None = None) -> list[Match]:
        """Every entry on a topic (for a topic button), best first."""
        target = self.resolve(persona) if isinstance(persona, str) else persona
        return [
            Match(p, e, 100.0, topics=(topic,))
            for p, e in self._entries
            if topic in e.topics and (target is None or p.id == target.id)
        ]

    def entry(self, entry_id: str) -> Match | None:
        """One entry by its stable id (for buttons that refer back to an answer)."""
        for p, e in self._entries:
            if e.id == entry_id:
                return Match(p, e, 100.0)
        return None

    def topic_label(self, topic: str) -> str:
        return topic


__all__ = ["Engine", "default_corpus_dir"]
