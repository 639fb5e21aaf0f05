"""corpus/ -> personas/: clean each raw text, split it into answers, group them per expert.

Deterministic by construction (sorted keys and ids, no timestamps), so `--check` can compare
bytes and a second run changes nothing.
"""

from __future__ import annotations

import hashlib
import logging
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jieba.analyse
import yaml
from pypinyin import lazy_pinyin

from bot.ingest.clean import Repair, clean
from bot.ingest.segment import Exchange, Part, drop_repeats, pair_interview, split_speech, split_turns
from bot.ingest.topics import assign_topics
from bot.model import PERSONA_SUFFIX, DataError, Entry, Persona, Problem, Source
from bot.text import fold
from bot.vocabulary import ExpertNames, Vocabulary, load_vocabulary

_KEYWORDS = 8
_FIRST_SENTENCE = re.compile(r"[^。！？!?\n]+[。！？!?]?")


@dataclass(frozen=True)
class Speaker:
    label: str
    part: Part
    role: str


@dataclass(frozen=True)
class SourceSpec:
    """One entry of corpus/sources.yaml."""

    source: Source
    file: str
    speakers: tuple[Speaker, ...]


def load_sources(corpus: Path) -> list[SourceSpec]:
    """Read sources.yaml, naming the line of any entry that lacks a field."""
    path = corpus / "sources.yaml"
    try:
        text = path.read_text(encoding="utf-8")
        items = yaml.safe_load(text) or []
        nodes = yaml.compose(text, Loader=yaml.SafeLoader)
    except OSError as exc:
        raise DataError([Problem(str(path), 0, f"cannot read: {exc}")]) from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        raise DataError([Problem(str(path), mark.line + 1 if mark else 1, f"broken YAML: {exc}")]) from None
    specs = []
    for i, item in enumerate(items):
        line = nodes.value[i].start_mark.line + 1 if isinstance(nodes, yaml.SequenceNode) else 1
        try:
            source = Source(
                id=str(item["id"]),
                outlet=str(item["outlet"]),
                title=str(item["title"]),
                date=item.get("date"),
                url=item.get("url"),
                format=str(item["format"]),
                script=str(item["script"]),
            )
            speakers = tuple(Speaker(str(s["label"]), s["part"], str(s.get("role", ""))) for s in item["speakers"])
            specs.append(SourceSpec(source, str(item["file"]), speakers))
        except (KeyError, TypeError, ValueError) as exc:
            raise DataError([Problem(str(path), line, f"source entry incomplete: {exc}")]) from None
    return specs


def load_repairs(corpus: Path) -> dict[str, list[Repair]]:
    path = corpus / "repairs.yaml"
    items = yaml.safe_load(path.read_text(encoding="utf-8")) if path.exists() else []
    repairs: dict[str, list[Repair]] = {}
    for item in items or []:
        repairs.setdefault(str(item["source"]), []).append(Repair(str(item["broken"]), str(item["fixed"])))
    return repairs


def cleaned_text(corpus: Path, spec: SourceSpec, repairs: dict[str, list[Repair]]) -> str:
    """The text every quote from this source is a substring of."""
    raw = (corpus / "raw" / spec.file).read_text(encoding="utf-8")
    return clean(raw, repairs.get(spec.source.id, []))


def exchanges(text: str, spec: SourceSpec) -> list[Exchange]:
    """Answers of a cleaned source, by its format."""
    experts = [s.label for s in spec.speakers if s.part == "expert"]
    if spec.source.format == "speech":
        if len(experts) != 1:
            raise DataError([Problem(spec.file, 0, "a speech needs exactly one expert speaker")])
        return split_speech(text, experts[0])
    parts: dict[str, Part] = {s.label: s.part for s in spec.speakers}
    preamble, turns = split_turns(text, list(parts))
    return pair_interview(text, drop_repeats(text, preamble, turns), parts)


def slug(name: str) -> str:
    """`丁磊` -> `ding-lei`: surname, then the given name as one word."""
    syllables = lazy_pinyin(fold(name))
    return "-".join([syllables[0], "".join(syllables[1:])]) if len(syllables) > 1 else syllables[0]


def romanised(name: str) -> str:
    """`丁磊` -> `Ding Lei`."""
    syllables = lazy_pinyin(fold(name))
    return " ".join([syllables[0].title(), "".join(syllables[1:]).title()]).strip()


def entry_id(persona_id: str, source_id: str, answer: str, taken: set[str]) -> str:
    """`ding-lei-001-3f9a2c`: stable across re-segmentation, unlike a position.

    The hash is of the answer's first sentence (folded, no white space), which survives a unit
    growing or shrinking at its end; alternates, feedback and buttons already sent keep pointing
    at it. Two units opening with the same sentence get `-2`, `-3` in source order.
    """
    first = _FIRST_SENTENCE.match(answer.strip())
    key = re.sub(r"\s+", "", fold(first.group() if first else answer))
    base = f"{persona_id}-{source_id}-{hashlib.sha1(key.encode('utf-8')).hexdigest()[:6]}"
    found, n = base, 1
    while found in taken:
        n += 1
        found = f"{base}-{n}"
    taken.add(found)
    return found


def _keywords(question: str, answer: str) -> list[str]:
    jieba.setLogLevel(logging.WARNING)
    tags = jieba.analyse.extract_tags(fold(answer + " " + question), topK=_KEYWORDS)
    return [str(t) for t in tags]


def _aliases(name: str, simplified: str, pinyin: str, names: ExpertNames | None) -> list[str]:
    found = [name, simplified, pinyin, pinyin.replace(" ", ""), pinyin.lower().replace(" ", "")]
    if names:
        found += list(names.english) + list(names.aliases)
    unique: list[str] = []
    for alias in found:
        if alias and alias not in unique:
            unique.append(alias)
    return unique


def build_personas(corpus: Path, vocabulary: Vocabulary | None = None) -> list[Persona]:
    """Every expert in every source, each answer tagged, grouped by primary topic."""
    vocab = vocabulary or load_vocabulary(corpus)
    repairs = load_repairs(corpus)
    names = {fold(e.name): e for e in vocab.experts}
    collected: dict[str, dict[str, Any]] = {}
    for spec in load_sources(corpus):
        text = cleaned_text(corpus, spec, repairs)
        roles = {s.label: s.role for s in spec.speakers}
        for ex in exchanges(text, spec):
            simplified = fold(ex.speaker).replace(" ", "")
            person = collected.setdefault(
                simplified,
                {"name": ex.speaker, "role": roles[ex.speaker], "sources": {}, "entries": []},
            )
            person["sources"][spec.source.id] = spec.source
            person["entries"].append((spec.source.id, ex))
    personas = []
    for simplified, person in sorted(collected.items(), key=lambda kv: slug(kv[0])):
        pid = slug(simplified)
        topics: dict[str, list[Entry]] = {}
        taken: set[str] = set()
        for source_id, ex in person["entries"]:
            tags = assign_topics(ex.question, ex.answer, vocab.topics)
            entry = Entry(
                id=entry_id(pid, source_id, ex.answer, taken),
                question=ex.question,
                answer=ex.answer,
                topics=tags,
                keywords=_keywords(ex.question, ex.answer),
                source=source_id,
                position=ex.position,
            )
            topics.setdefault(tags[0], []).append(entry)
        order = {t.id: i for i, t in enumerate(vocab.topics)}
        pinyin = romanised(simplified)
        personas.append(
            Persona(
                id=pid,
                name=person["name"],
                name_simplified=simplified,
                pinyin=pinyin,
                aliases=_aliases(person["name"], simplified, pinyin, names.get(simplified)),
                role=person["role"],
                sources=[person["sources"][k] for k in sorted(person["sources"])],
                topics={k: topics[k] for k in sorted(topics, key=lambda t: order.get(t, len(order)))},
            )
        )
    return personas


class _Dumper(yaml.SafeDumper):
    """Multi-line answers as literal blocks, so a persona file reads like the source."""


def _str(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    style = "|" if "\n" in value else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_Dumper.add_representer(str, _str)


def render(persona: Persona) -> str:
    data = persona.model_dump(mode="json", exclude_none=False)
    header = "# Generated by `persona-bot ingest` from corpus/; edit the corpus, not this file.\n"
    return header + yaml.dump(data, Dumper=_Dumper, allow_unicode=True, sort_keys=False, width=10**9)


def rendered_files(corpus: Path) -> Iterator[tuple[str, str]]:
    for persona in build_personas(corpus):
        yield f"{persona.id}{PERSONA_SUFFIX}", render(persona)


def stale_files(corpus: Path, out: Path) -> list[str]:
    """Files in `out` that differ from what ingest would write now (missing, changed or extra)."""
    wanted = dict(rendered_files(corpus))
    stale = [name for name, text in wanted.items() if not (out / name).exists() or (out / name).read_text(
        encoding="utf-8") != text]
    stale += [p.name for p in out.glob(f"*{PERSONA_SUFFIX}") if p.name not in wanted]
    return sorted(stale)


def write_personas(corpus: Path, out: Path) -> list[str]:
    """Rebuild `out` from `corpus`; return the files written. Old persona files are removed."""
    out.mkdir(parents=True, exist_ok=True)
    wanted = dict(rendered_files(corpus))
    for old in out.glob(f"*{PERSONA_SUFFIX}"):
        if old.name not in wanted:
            old.unlink()
    for name, text in wanted.items():
        path = out / name
        if not path.exists() or path.read_text(encoding="utf-8") != text:
            path.write_text(text, encoding="utf-8")
    return sorted(wanted)
