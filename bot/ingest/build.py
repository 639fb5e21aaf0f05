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
from typing import Any, cast

import jieba.analyse
import yaml
from pypinyin import lazy_pinyin

from bot.ingest.alternates import NEAR_MISSES, check_targets, load_alternates
from bot.ingest.clean import Repair, clean
from bot.ingest.readers import Document, Dropped, read_file
from bot.ingest.readers.model import BREAK
from bot.ingest.segment import (
    PARTS,
    Exchange,
    Part,
    bare_label,
    drop_repeats,
    label_candidates,
    pair_interview,
    plain_headings,
    split_speech,
    split_turns,
    stop_offsets,
    unattributed,
)
from bot.ingest.topics import assign_topics
from bot.model import PERSONA_SUFFIX, DataError, Entry, Persona, Problem, Source
from bot.text import fold
from bot.vocabulary import ExpertNames, Vocabulary, load_vocabulary

_KEYWORDS = 8
_FIRST_SENTENCE = re.compile(r"[^。！？!?\n]+[。！？!?]?")


_FORMATS = ("interview", "round-table", "speech")
# Labels that say what a speaker does, not who they are: such a speaker needs a `name:`.
_GENERIC_LABELS = {"答", "a", "answer", "受访者", "受訪者", "嘉宾", "嘉賓", "专家", "專家", "主持人", "主持", "问", "q",
                   "记者", "記者", "提问", "提問", "host", "guest", "interviewer"}


@dataclass(frozen=True)
class Speaker:
    label: str  # as sources.yaml writes it; the text may decorate it (`**「暗涌」：**`)
    part: Part
    role: str
    name: str = ""  # who the speaker is, when the label does not say (`答`, `Q`, `梁总`)
    line: int = 0  # in sources.yaml

    @property
    def bare(self) -> str:
        return bare_label(self.label)


@dataclass(frozen=True)
class SourceSpec:
    """One entry of corpus/sources.yaml."""

    source: Source
    file: str
    speakers: tuple[Speaker, ...]
    path: str = "sources.yaml"  # where the entry is written, for FILE:LINE messages
    line: int = 0

    def problem(self, message: str, line: int = 0) -> DataError:
        return DataError([Problem(self.path, line or self.line, f"source {self.source.id}: {message}")])


def _line(node: yaml.Node | None, key: str | None = None) -> int:
    """1-based line of a node, or of the value under `key` in a mapping node."""
    if node is None:
        return 1
    if key is not None and isinstance(node, yaml.MappingNode):
        for k, v in node.value:
            if str(k.value) == key:
                return int(v.start_mark.line) + 1
    return int(node.start_mark.line) + 1


def _speaker(item: Any, node: yaml.Node | None, path: Path, problems: list[Problem]) -> Speaker | None:
    if not isinstance(item, dict) or "label" not in item or "part" not in item:
        problems.append(Problem(str(path), _line(node), "a speaker needs `label` and `part`"))
        return None
    label, part = str(item["label"]), str(item["part"])
    if part not in PARTS:
        hint = f" (did you mean '{part.lower()}'?)" if part.lower() in PARTS else ""
        problems.append(Problem(str(path), _line(node, "part"),
                                f"speaker '{label}': part '{part}' is not one of {', '.join(PARTS)}{hint}"))
        return None
    if not bare_label(label):
        problems.append(Problem(str(path), _line(node, "label"), f"speaker label {label!r} has no name in it"))
        return None
    name = str(item.get("name") or "")
    return Speaker(label, cast(Part, part), str(item.get("role") or ""), name, _line(node))


def load_sources(corpus: Path) -> list[SourceSpec]:
    """Read sources.yaml; every problem (a missing field, a bad `part` or `format`) with its line."""
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
    if not isinstance(items, list):
        raise DataError([Problem(str(path), 1, "expected a list of sources")])
    specs: list[SourceSpec] = []
    problems: list[Problem] = []
    seen: set[str] = set()
    for i, item in enumerate(items):
        node = nodes.value[i] if isinstance(nodes, yaml.SequenceNode) else None
        line = _line(node)
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
            file = str(item["file"])
            speaker_items = item["speakers"]
            speaker_nodes = None
            if isinstance(node, yaml.MappingNode):
                speaker_nodes = next((v for k, v in node.value if k.value == "speakers"), None)
            if not isinstance(speaker_items, list) or not speaker_items:
                raise ValueError("`speakers` must list at least one speaker")
        except (KeyError, TypeError, ValueError) as exc:
            problems.append(Problem(str(path), line, f"source entry incomplete: {exc}"))
            continue
        if source.format not in _FORMATS:
            problems.append(Problem(str(path), _line(node, "format"), f"source {source.id}: format "
                                    f"'{source.format}' is not one of {', '.join(_FORMATS)}"))
        if source.id in seen:
            problems.append(Problem(str(path), _line(node, "id"), f"source id '{source.id}' is used twice"))
        seen.add(source.id)
        speakers = []
        for j, s in enumerate(speaker_items):
            s_node = speaker_nodes.value[j] if isinstance(speaker_nodes, yaml.SequenceNode) else node
            speaker = _speaker(s, s_node, path, problems)
            if speaker:
                speakers.append(speaker)
        if len(speakers) == len(speaker_items) and not any(s.part == "expert" for s in speakers):
            problems.append(Problem(str(path), line, f"source {source.id}: no speaker has part 'expert'"))
        specs.append(SourceSpec(source, file, tuple(speakers), str(path), line))
    if problems:
        raise DataError(problems)
    return specs


def load_repairs(corpus: Path) -> dict[str, list[Repair]]:
    path = corpus / "repairs.yaml"
    items = yaml.safe_load(path.read_text(encoding="utf-8")) if path.exists() else []
    repairs: dict[str, list[Repair]] = {}
    for item in items or []:
        repairs.setdefault(str(item["source"]), []).append(Repair(str(item["broken"]), str(item["fixed"])))
    return repairs


@dataclass(frozen=True)
class Ingested:
    """One source through the whole pipeline: what ingest quotes and what its report tells."""

    spec: SourceSpec
    document: Document
    text: str  # cleaned: every quote is a substring of it
    dropped: tuple[Dropped, ...]  # by the reader and by clean's rules, in order
    turns: dict[str, int]  # turns found per declared label (bare), before repeats are cut
    exchanges: tuple[Exchange, ...]
    repeats: int  # turns that were scraper copies of earlier ones
    unattributed: tuple[str, ...]  # sentences in no speaker's turn
    candidates: tuple[tuple[str, int], ...]  # words that start turns, with counts


def ingest_source(corpus: Path, spec: SourceSpec, repairs: dict[str, list[Repair]]) -> Ingested:
    """Read, clean and segment one source; fail on a missing file or a speaker with no turn."""
    path = corpus / "raw" / spec.file
    if not path.is_file():
        raise spec.problem(f"file raw/{spec.file} not found in {corpus}")
    try:
        document = read_file(path)
    except (OSError, UnicodeDecodeError) as exc:
        raise spec.problem(f"cannot read raw/{spec.file}: {exc}") from None
    log: list[Dropped] = list(document.dropped)
    text = clean(document.text, repairs.get(spec.source.id, []), log)
    labels = [s.label for s in spec.speakers]
    candidates = tuple(label_candidates(text, least=1))
    if spec.source.format == "speech":
        experts = [s for s in spec.speakers if s.part == "expert"]
        if len(experts) != 1:
            raise spec.problem("a speech needs exactly one expert speaker")
        marked = document.headings if document.markup != "plain" else None
        found = split_speech(text, experts[0].bare, marked)
        if not found:
            raise spec.problem(f"no section found in raw/{spec.file}", experts[0].line)
        return Ingested(spec, document, text, tuple(log), {experts[0].bare: len(found)}, tuple(found), 0, (),
                        candidates)
    parts: dict[str, Part] = {s.bare: s.part for s in spec.speakers}
    stops = set(document.stops)
    if document.markup == "plain":
        stops |= plain_headings(text, labels, [s.label for s in spec.speakers if s.part != "expert"])
    preamble, turns = split_turns(text, labels, stops)
    counts = {s.bare: sum(1 for t in turns if t.label == s.bare) for s in spec.speakers}
    for speaker in spec.speakers:
        if not counts[speaker.bare]:
            seen = ", ".join(f"{name} ({n})" for name, n in candidates[:6]) or "none"
            raise spec.problem(f"no turn found for speaker '{speaker.label}' ({speaker.part}) in raw/{spec.file}; "
                               f"labels that start turns there: {seen}", speaker.line)
    kept = drop_repeats(text, preamble, turns)
    headings = [(at, line) for at, line in stop_offsets(text, stops) if line != BREAK]
    return Ingested(spec, document, text, tuple(log), counts, tuple(pair_interview(text, kept, parts, headings)),
                    len(turns) - len(kept), tuple(unattributed(text, labels, turns, stops)), candidates)


def cleaned_text(corpus: Path, spec: SourceSpec, repairs: dict[str, list[Repair]]) -> str:
    """The text every quote from this source is a substring of."""
    return ingest_source(corpus, spec, repairs).text


def exchanges(text: str, spec: SourceSpec) -> list[Exchange]:
    """Answers of a cleaned plain text, by its source's format (no markup: headings by shape)."""
    experts = [s.bare for s in spec.speakers if s.part == "expert"]
    if spec.source.format == "speech":
        if len(experts) != 1:
            raise spec.problem("a speech needs exactly one expert speaker")
        return split_speech(text, experts[0])
    parts: dict[str, Part] = {s.bare: s.part for s in spec.speakers}
    labels = list(parts)
    stops = plain_headings(text, labels, [s.bare for s in spec.speakers if s.part != "expert"])
    preamble, turns = split_turns(text, labels, stops)
    headings = stop_offsets(text, stops)
    return pair_interview(text, drop_repeats(text, preamble, turns), parts, headings)


def persona_name(speaker: SourceSpec | None, who: Speaker, vocab: Vocabulary) -> str:
    """Who a speaker is: `name:` in sources.yaml, else the expert in experts.yaml the label names.

    A label that only says what the speaker does (`答`, `Q`, `嘉宾`) is never taken for a name.
    """
    if who.name:
        wanted = fold(who.name).replace(" ", "")
    else:
        wanted = fold(who.bare).replace(" ", "")
        if wanted.lower() in _GENERIC_LABELS:
            where = speaker.path if speaker else "sources.yaml"
            raise DataError([Problem(where, who.line, f"speaker '{who.label}' says what the speaker does, not who: "
                                     "add `name:` (the expert's name) to it")])
    for expert in vocab.experts:
        names = [expert.name, *expert.english, *expert.aliases]
        if any(fold(n).replace(" ", "").lower() == wanted.lower() for n in names):
            return expert.name
    return who.name or who.bare


def slug(name: str) -> str:
    """`丁磊` -> `ding-lei`: surname, then the given name as one word; `Harry Shum` -> `harry-shum`.

    Only `a-z`, `0-9` and single hyphens survive, so the id is always a valid persona id (or
    empty, which the caller reports).
    """
    syllables = [s for s in lazy_pinyin(fold(name)) if s.strip()]
    if not syllables:
        return ""
    raw = "-".join([syllables[0], "".join(syllables[1:])]) if len(syllables) > 1 else syllables[0]
    return re.sub(r"[^a-z0-9]+", "-", raw.lower()).strip("-")


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
    return personas_from(corpus, [ingested for ingested in ingest_all(corpus)], vocabulary)


def ingest_all(corpus: Path) -> list[Ingested]:
    """Every source of the corpus through the pipeline, in sources.yaml order."""
    repairs = load_repairs(corpus)
    return [ingest_source(corpus, spec, repairs) for spec in load_sources(corpus)]


def personas_from(corpus: Path, ingested: list[Ingested], vocabulary: Vocabulary | None = None) -> list[Persona]:
    vocab = vocabulary or load_vocabulary(corpus)
    alternates = load_alternates(corpus)
    near_misses = load_alternates(corpus, NEAR_MISSES)
    names = {fold(e.name): e for e in vocab.experts}
    collected: dict[str, dict[str, Any]] = {}
    for item in ingested:
        spec = item.spec
        speakers = {s.bare: s for s in spec.speakers}
        for ex in item.exchanges:
            who = speakers[ex.speaker]
            name = persona_name(spec, who, vocab)
            simplified = fold(name).replace(" ", "")
            if not slug(simplified):
                raise DataError([Problem(spec.path, who.line, f"cannot make an id from the name '{name}': "
                                         "add `name:` with the expert's name")])
            person = collected.setdefault(simplified, {"name": name, "role": who.role, "sources": {}, "entries": []})
            person["sources"][spec.source.id] = spec.source
            person["entries"].append((spec.source.id, ex))
    personas = []
    for simplified, person in sorted(collected.items(), key=lambda kv: slug(kv[0])):
        pid = slug(simplified)
        topics: dict[str, list[Entry]] = {}
        taken: set[str] = set()
        for source_id, ex in person["entries"]:
            tags = assign_topics(ex.question, ex.answer, vocab.topics)
            eid = entry_id(pid, source_id, ex.answer, taken)
            entry = Entry(
                id=eid,
                question=ex.question,
                answer=ex.answer,
                topics=tags,
                keywords=_keywords(ex.question, ex.answer),
                alternates=[a.question for a in alternates.get(eid, [])],
                near_misses=[a.question for a in near_misses.get(eid, [])],
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
    ids = {e.id for p in personas for e in p.entries}
    check_targets(corpus, alternates, ids)
    check_targets(corpus, near_misses, ids, NEAR_MISSES)
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


def entry_ids(directory: Path) -> set[str]:
    """The entry ids in a personas directory as it is now (unreadable files count as none)."""
    found: set[str] = set()
    for path in directory.glob(f"*{PERSONA_SUFFIX}"):
        try:
            data = yaml.safe_load(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, yaml.YAMLError):
            continue
        topics = data.get("topics") if isinstance(data, dict) else None
        for entries in topics.values() if isinstance(topics, dict) else []:
            found.update(str(e["id"]) for e in entries or [] if isinstance(e, dict) and "id" in e)
    return found


def write_personas(corpus: Path, out: Path) -> list[str]:
    """Rebuild `out` from `corpus`; return the files written. Old persona files are removed."""
    wanted = dict(rendered_files(corpus))  # first: a corpus with a problem writes nothing
    out.mkdir(parents=True, exist_ok=True)
    for old in out.glob(f"*{PERSONA_SUFFIX}"):
        if old.name not in wanted:
            old.unlink()
    for name, text in wanted.items():
        path = out / name
        if not path.exists() or path.read_text(encoding="utf-8") != text:
            path.write_text(text, encoding="utf-8")
    return sorted(wanted)
