"""What the engine returns: plain typed values that every front end renders its own way."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from bot.model import Entry, Persona, Source


@dataclass(frozen=True)
class Match:
    """One recorded answer that fits the query, with why it was chosen."""

    persona: Persona
    entry: Entry
    score: float  # 0-100: how sure the model is that this expert answered it (100 x the gate's confidence)
    terms: tuple[str, ...] = ()  # query terms found in the entry
    topics: tuple[str, ...] = ()  # topics shared by query and entry
    probability: float = 1.0  # the model's P(this is a right answer); 1.0 for an entry opened directly
    features: dict[str, float] = field(default_factory=dict)  # each feature's share of the log-odds
    part: str | None = None  # the sentences that matched, when the answer is longer than them

    @property
    def source(self) -> Source:
        return self.persona.source(self.entry.source)

    @property
    def span(self) -> tuple[int, int] | None:
        """Character offsets (start, end) of `part` in the verbatim answer; None when there is no
        part (the whole answer matched) or it is not found verbatim. Front ends cut and mark the
        quote by offsets, so what they show is always a substring of the answer."""
        if not self.part:
            return None
        start = self.entry.answer.find(self.part)
        return None if start < 0 else (start, start + len(self.part))

    def to_json(self) -> dict[str, Any]:
        src = self.source
        return {
            "persona": self.persona.display_name,
            "persona_id": self.persona.id,
            "entry_id": self.entry.id,
            "question": self.entry.question,
            "answer": self.entry.answer,
            "score": round(self.score, 1),
            "topics": list(self.entry.topics),
            "probability": round(self.probability, 4),
            "part": self.part,
            "why": {"terms": list(self.terms), "topics": list(self.topics), "features": self.features},
            "source": {"outlet": src.outlet, "title": src.title, "url": src.url, "date": src.date},
        }


@dataclass(frozen=True)
class Suggestion:
    """A close topic or question to offer when there is no confident answer."""

    text: str  # what the user could ask next
    topic: str | None = None  # topic id, when the suggestion is a topic
    persona_id: str | None = None  # who covered it

    def to_json(self) -> dict[str, Any]:
        return {"text": self.text, "topic": self.topic, "persona_id": self.persona_id}


@dataclass(frozen=True)
class Answer:
    """The result of `Engine.answer`: matches (empty when not confident) and what to say instead."""

    query: str
    persona_filter: Persona | None
    matches: list[Match]
    suggestions: list[Suggestion] = field(default_factory=list)
    # Set when the query only names an expert: answer with who they are.
    profile: Persona | None = None
    # Experts who did cover the topic when the filtered one did not.
    covered_by: list[Persona] = field(default_factory=list)
    # A plain-language remark for the user, e.g. that a namesake was asked about.
    note: str | None = None
    # Set when the question named several experts or asked what everyone thinks: one side each.
    comparison: Comparison | None = None

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "query": self.query,
            "persona_filter": self.persona_filter.display_name if self.persona_filter else None,
            "matches": [m.to_json() for m in self.matches],
            "suggestions": [s.to_json() for s in self.suggestions],
        }
        if self.profile is not None:
            data["profile"] = self.profile.id
        if self.covered_by:
            data["covered_by"] = [p.display_name for p in self.covered_by]
        if self.note:
            data["note"] = self.note
        if self.comparison is not None:
            data["comparison"] = self.comparison.to_json()
        return data


@dataclass(frozen=True)
class Side:
    persona: Persona
    matches: list[Match]


@dataclass(frozen=True)
class Comparison:
    """Two experts' best answers on one topic, side by side."""

    query: str
    topic: str | None
    sides: list[Side]

    def to_json(self) -> dict[str, Any]:
        return {
            "query": self.query,
            "topic": self.topic,
            "sides": [
                {"persona": s.persona.display_name, "persona_id": s.persona.id,
                 "matches": [m.to_json() for m in s.matches]}
                for s in self.sides
            ],
        }


@dataclass(frozen=True)
class TopicCount:
    id: str
    label: str  # Chinese label
    label_en: str
    count: int


class UnknownExpert(LookupError):
    """A name that matches no persona; carries the closest names to offer instead."""

    def __init__(self, name: str, closest: list[Persona], all_experts: list[Persona]) -> None:
        self.name = name
        self.closest = closest
        self.all_experts = all_experts
        super().__init__(f"unknown expert {name!r}")
