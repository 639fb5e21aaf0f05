"""The shared vocabulary in corpus/: topics, glossary, expert names. One source of truth.

Ingest uses it to tag entries; matching uses it to expand questions. Files are small and
hand-edited, so loading validates them and names FILE:LINE on a problem like the persona files.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from bot.model import DataError, Problem


@dataclass(frozen=True)
class Topic:
    id: str
    zh: str
    en: str
    keywords: tuple[str, ...]
    synonyms: tuple[tuple[str, ...], ...]


@dataclass(frozen=True)
class Namesake:
    """A famous person with an expert's name, and words that point at them instead."""

    who: str
    cues: tuple[str, ...]


@dataclass(frozen=True)
class ExpertNames:
    name: str  # as written in the sources
    english: tuple[str, ...] = ()
    aliases: tuple[str, ...] = ()
    namesake: Namesake | None = None


@dataclass(frozen=True)
class Vocabulary:
    topics: tuple[Topic, ...] = ()
    glossary: dict[str, str] = field(default_factory=dict)
    experts: tuple[ExpertNames, ...] = ()
    # Groups of words that mean the same, beyond topic synonyms (synonyms.yaml).
    synonyms: tuple[tuple[str, ...], ...] = ()
    # People and organisations the experts mention (entities.yaml).
    entities: tuple[str, ...] = ()
    # Words for a place in a source (opening, closing) and for each source format (context.yaml).
    context: dict[str, tuple[str, ...]] = field(default_factory=dict)
    # Phrases that ask for a kind of answer, e.g. everyone's view (cues.yaml).
    cues: dict[str, tuple[str, ...]] = field(default_factory=dict)
    # The people among the entities, and Chinese surnames (surnames.txt): who may be asked for a view.
    people: tuple[str, ...] = ()
    surnames: tuple[str, ...] = ()

    def topic(self, topic_id: str) -> Topic | None:
        return next((t for t in self.topics if t.id == topic_id), None)


def _read(path: Path) -> Any:
    """A corpus data file, parsed by libyaml (yaml.CSafeLoader; the pure-Python parser took 0.5 s
    of every start); a file it rejects is parsed again by the pure-Python one, whose FILE:LINE
    messages are the ones users know."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    loader = yaml.CSafeLoader(text)
    try:
        return loader.get_single_data()
    except yaml.YAMLError:
        pass
    finally:
        loader.dispose()
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else 1
        raise DataError([Problem(str(path), line, f"broken YAML: {getattr(exc, 'problem', exc)}")]) from None


def _strings(value: Any) -> tuple[str, ...]:
    return tuple(str(v) for v in value or [])


def read_words(path: Path) -> tuple[str, ...]:
    """A word list: white-space separated, `#` starts a comment; a missing file is an empty list."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except FileNotFoundError:
        return ()
    return tuple(w for line in lines for w in line.split("#", 1)[0].split())


def load_vocabulary(corpus_dir: Path) -> Vocabulary:
    """Read topics.yaml, glossary.yaml and experts.yaml; a missing file means an empty part."""
    try:
        topics = tuple(
            Topic(
                id=str(t["id"]),
                zh=str(t["zh"]),
                en=str(t["en"]),
                keywords=_strings(t.get("keywords")),
                synonyms=tuple(_strings(group) for group in t.get("synonyms") or []),
            )
            for t in _read(corpus_dir / "topics.yaml") or []
        )
        glossary = {str(k): str(v) for k, v in (_read(corpus_dir / "glossary.yaml") or {}).items()}
        experts = tuple(
            ExpertNames(
                name=str(e["name"]),
                english=_strings(e.get("english")),
                aliases=_strings(e.get("aliases")),
                namesake=Namesake(str(e["namesakes"]["who"]), _strings(e["namesakes"].get("cues")))
                if e.get("namesakes")
                else None,
            )
            for e in _read(corpus_dir / "experts.yaml") or []
        )
        synonyms = tuple(_strings(group) for group in _read(corpus_dir / "synonyms.yaml") or [])
        named = _read(corpus_dir / "entities.yaml") or {}
        entities = tuple(name for names in named.values() for name in _strings(names))
        context = {str(k): _strings(v) for k, v in (_read(corpus_dir / "context.yaml") or {}).items()}
        cues = {str(k): _strings(v) for k, v in (_read(corpus_dir / "cues.yaml") or {}).items()}
        people = _strings(named.get("people"))
        surnames = read_words(corpus_dir / "surnames.txt")
    except (KeyError, TypeError, AttributeError) as exc:
        raise DataError([Problem(str(corpus_dir), 1, f"vocabulary file malformed: missing {exc}")]) from None
    return Vocabulary(topics, glossary, experts, synonyms, entities, context, cues, people, surnames)
