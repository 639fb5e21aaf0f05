"""Synthetic corpora built by recombining real sentences, so scaling figures reflect real text.

Random strings would make tokenisation, fuzzy scoring and posting lists unrealistically cheap or
expensive; reshuffling the real personas' own question and answer sentences keeps the vocabulary,
sentence lengths and topic tags of the real corpus while letting us reach 100,000 entries. Everything
is seeded, so a size always yields the same corpus and the same queries.
"""

from __future__ import annotations

import random
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import yaml

from bot.model import Entry, Persona, Source

_SENTENCE_END = re.compile(r"(?<=[。！？!?；;…])\s*|\n+")
_MIN_SENTENCE = 4
_MAX_ANSWER_SENTENCES = 12
_ENTRIES_PER_EXPERT = 300
_MIN_EXPERTS = 8
_MAX_EXPERTS = 400


def split_sentences(text: str) -> list[str]:
    """Cut at Chinese and Western sentence ends; drop fragments too short to carry meaning."""
    return [s.strip() for s in _SENTENCE_END.split(text) if len(s.strip()) >= _MIN_SENTENCE]


@dataclass(frozen=True)
class Shape:
    """What one real entry looked like: how many answer sentences, and its tags."""

    sentences: int
    topics: tuple[str, ...]
    keywords: tuple[str, ...]


@dataclass(frozen=True)
class SentencePool:
    """The material a synthetic corpus is recombined from, taken from real personas."""

    questions: tuple[str, ...]
    answer_sentences: tuple[str, ...]
    shapes: tuple[Shape, ...]
    sources: tuple[Source, ...]

    @classmethod
    def from_personas(cls, personas: Sequence[Persona]) -> SentencePool:
        entries = [e for p in personas for e in p.entries]
        if not entries:
            raise ValueError("no entries to recombine: the personas are empty")
        questions = [q for e in entries for q in split_sentences(e.question)] or [e.question for e in entries]
        answers = [s for e in entries for s in split_sentences(e.answer)] or [e.answer for e in entries]
        shapes = [Shape(max(1, len(split_sentences(e.answer))), tuple(e.topics), tuple(e.keywords)) for e in entries]
        sources = [s for p in personas for s in p.sources]
        return cls(tuple(questions), tuple(answers), tuple(shapes), tuple(sources))


def expert_count(n_entries: int) -> int:
    """About 300 entries per synthetic expert, clamped to 8..400 experts."""
    return max(_MIN_EXPERTS, min(_MAX_EXPERTS, n_entries // _ENTRIES_PER_EXPERT))


def make_corpus(pool: SentencePool, n_entries: int, seed: int = 0) -> list[Persona]:
    """A reproducible list of validated synthetic personas holding `n_entries` entries in all."""
    rng = random.Random(f"persona-bot-bench:{seed}:{n_entries}")
    n_experts = min(expert_count(n_entries), max(1, n_entries))
    base, extra = divmod(n_entries, n_experts)
    return [_make_persona(rng, pool, i, base + (i < extra)) for i in range(n_experts)]


def _make_persona(rng: random.Random, pool: SentencePool, index: int, n_entries: int) -> Persona:
    pid = f"synth-{index:03d}"
    sources = [
        template.model_copy(update={"id": f"{pid}-s{j}"})
        for j, template in enumerate(rng.sample(pool.sources, k=min(3, len(pool.sources))))
    ]
    topics: dict[str, list[Entry]] = {}
    for position in range(n_entries):
        entry = _make_entry(rng, pool, pid, position, [s.id for s in sources])
        topics.setdefault(entry.topics[0], []).append(entry)
    return Persona(
        id=pid,
        name=f"合成专家{index:03d}",
        name_simplified=f"合成专家{index:03d}",
        pinyin=f"hecheng zhuanjia {index:03d}",
        role="synthetic expert for benchmarks",
        sources=sources,
        topics=topics,
    )


def _make_entry(rng: random.Random, pool: SentencePool, pid: str, position: int, source_ids: list[str]) -> Entry:
    shape = rng.choice(pool.shapes)
    n_sentences = min(shape.sentences, _MAX_ANSWER_SENTENCES)
    return Entry(
        id=f"{pid}-{position:06d}",
        question=rng.choice(pool.questions),
        answer="".join(rng.choices(pool.answer_sentences, k=n_sentences)),
        topics=list(shape.topics),
        keywords=list(shape.keywords),
        source=rng.choice(source_ids),
        position=position,
    )


def perturbed_queries(personas: Sequence[Persona], n: int, seed: int = 0) -> list[str]:
    """Queries a user might type about something in the corpus: a sentence piece with a typo or two.

    Half come from questions and half from answers, cut to at most 24 characters, then mangled by a
    deletion, an adjacent swap or a substituted character, so exact-string shortcuts do not help.
    """
    rng = random.Random(f"persona-bot-bench-queries:{seed}:{n}")
    entries = [e for p in personas for e in p.entries]
    if not entries:
        return []
    return [_perturb(rng, _sample_sentence(rng, rng.choice(entries))) for _ in range(n)]


def _sample_sentence(rng: random.Random, entry: Entry) -> str:
    text = entry.question if rng.random() < 0.5 else entry.answer
    sentences = split_sentences(text) or [text]
    sentence = rng.choice(sentences)
    if len(sentence) <= 24:
        return sentence
    start = rng.randrange(0, len(sentence) - 24 + 1)
    return sentence[start : start + 24]


def _perturb(rng: random.Random, text: str) -> str:
    chars = list(text)
    for _ in range(rng.randint(1, 2)):
        if len(chars) < 4:
            break
        i = rng.randrange(1, len(chars) - 1)
        kind = rng.choice(("delete", "swap", "substitute"))
        if kind == "delete":
            del chars[i]
        elif kind == "swap":
            chars[i], chars[i + 1] = chars[i + 1], chars[i]
        else:
            chars[i] = rng.choice(chars)
    return "".join(chars)


def write_personas(personas: Sequence[Persona], directory: Path) -> None:
    """Write personas as YAML files, so the CLI can be timed on a synthetic corpus via --personas."""
    directory.mkdir(parents=True, exist_ok=True)
    for persona in personas:
        text = yaml.safe_dump(persona.model_dump(mode="json"), allow_unicode=True, sort_keys=False)
        (directory / f"{persona.id}.yaml").write_text(text, encoding="utf-8")
