"""The persona file format: what `ingest` writes and everything else reads.

One YAML file per expert, keyed by topic so that two experts' views on one topic line up.
Loading validates with pydantic and reports every problem as FILE:LINE, because a
hand-edited persona file is the most likely thing to break in production. Whatever a file holds,
loading raises DataError and nothing else: the size, the encoding and the shape of the YAML
(nesting depth, values after alias expansion) are checked before it is parsed, and the schema
runs before any rule that uses a field's value.

Parsing YAML is most of a start (about 12 s for 10,000 entries in pure Python), so a served load
keeps a parsed, validated copy of each file as JSON in the user's private cache, named by a hash
of the file's bytes and this module's code; pydantic reads it back in its own JSON parser (about
6 ms per 1,000 entries) and validates it again, so a damaged copy is refused and the YAML read
instead, never trusted. A file the copy does not match (edited, or read by other code) is parsed:
with libyaml's C parser where PyYAML has it.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

PERSONA_SUFFIX = ".yaml"
# Limits that keep a broken or hostile file from hanging or crashing a load. The real files are
# under 30 KB and nest 5 deep; the bench's 100,000-entry corpus has files of about 0.5 MB.
MAX_FILE_BYTES = 4 * 2**20
MAX_DEPTH = 12
MAX_VALUES = 500_000  # YAML nodes after alias expansion: `&a [*b, *b, ...]` chains grow exponentially
MAX_QUESTION_CHARS = 2_000
MAX_ANSWER_CHARS = 20_000  # the longest real answer is ~1,500 characters
MAX_LIST_ITEMS = 500  # aliases, keywords
MAX_PROBLEMS_PER_FILE = 50
# Files are parsed with libyaml (yaml.CSafeLoader: PyYAML's wheels include it): the same events, nodes,
# marks and values as the pure-Python SafeLoader, 5-10x faster. A file libyaml rejects is read again by
# the pure-Python one, so every error message is what it always was.
_CODE = hashlib.sha256(Path(__file__).read_bytes()).digest()  # the schema and the checks a copy passed
_log = logging.getLogger(__name__)


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Source(_Strict):
    """Where an answer was said: cited under every reply."""

    id: str
    outlet: str
    title: str
    date: str | None = None  # None where the page gives no date
    url: str | None = None
    format: str = Field(description="interview, round-table or speech")
    script: str = Field(description="Simplified or Traditional")

    @property
    def citation(self) -> str:
        """A one-line source: outlet, title and date when known."""
        return f"{self.outlet}《{self.title}》" + (f" {self.date}" if self.date else "")


class Entry(_Strict):
    """One recorded answer: the question asked and the expert's verbatim words."""

    id: str
    question: str = Field(min_length=1, max_length=MAX_QUESTION_CHARS)
    answer: str = Field(min_length=1, max_length=MAX_ANSWER_CHARS)
    topics: list[str] = Field(min_length=1, max_length=3)
    keywords: list[str] = Field(default=[], max_length=MAX_LIST_ITEMS)
    # How readers ask what this answer answers (corpus/alternates.yaml): matched, never quoted.
    alternates: list[str] = Field(default=[], max_length=MAX_LIST_ITEMS)
    # Questions sharing its words that it does not answer (corpus/near_misses.yaml): matched against, never quoted.
    near_misses: list[str] = Field(default=[], max_length=MAX_LIST_ITEMS)
    source: str
    position: int = Field(ge=0, description="turn number inside the source")


class Persona(_Strict):
    """An expert: names for matching, where they spoke, and their answers by topic."""

    id: str = Field(pattern=r"^[a-z0-9]+(-[a-z0-9]+)*$")
    name: str = Field(description="as written in the source")
    name_simplified: str
    pinyin: str
    aliases: list[str] = Field(default=[], max_length=MAX_LIST_ITEMS)
    role: str = ""
    sources: list[Source] = Field(min_length=1)
    topics: dict[str, list[Entry]]

    @property
    def display_name(self) -> str:
        return self.name_simplified

    @property
    def entries(self) -> list[Entry]:
        """All entries in source order (the file groups them by primary topic)."""
        flat = [entry for entries in self.topics.values() for entry in entries]
        return sorted(flat, key=lambda e: (e.source, e.position))

    def source(self, source_id: str) -> Source:
        for src in self.sources:
            if src.id == source_id:
                return src
        raise KeyError(source_id)

    def topic_counts(self) -> dict[str, int]:
        """Entries per topic, counting every topic an entry carries."""
        counts: dict[str, int] = {}
        for entry in self.entries:
            for topic in entry.topics:
                counts[topic] = counts.get(topic, 0) + 1
        return counts


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a data file, located for a human to fix."""

    file: str
    line: int
    message: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.message}"


class DataError(Exception):
    """Persona data that must not be served: carries every problem found."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))


def _line_of(node: yaml.Node | None, loc: Iterable[Any]) -> int:
    """Follow a pydantic error location through the YAML node tree to a 1-based line."""
    if node is None:
        return 1
    line = node.start_mark.line + 1
    for key in loc:
        child: yaml.Node | None = None
        if isinstance(node, yaml.MappingNode):
            for k, v in node.value:
                if str(k.value) == str(key):
                    child = v
                    break
        elif isinstance(node, yaml.SequenceNode) and isinstance(key, int) and 0 <= key < len(node.value):
            child = node.value[key]
        if child is None:
            break
        node = child
        line = node.start_mark.line + 1
    return line


def compose_file(path: Path) -> yaml.Node | None:
    """A small hand-edited YAML data file as a node tree (for line numbers), or None when empty;
    an unreadable or broken file is a DataError naming FILE:LINE."""
    name = str(path)
    try:
        text = path.read_text(encoding="utf-8")
        try:
            return yaml.compose(text, Loader=yaml.CSafeLoader)  # the same nodes and marks as the pure-Python one
        except yaml.YAMLError:
            return yaml.compose(text, Loader=yaml.SafeLoader)  # so a broken file's error reads as it always did
    except (OSError, UnicodeDecodeError) as exc:
        raise DataError([Problem(name, 1, f"cannot read: {exc}")]) from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        raise DataError([Problem(name, mark.line + 1 if mark else 1, f"broken YAML: {exc}")]) from None


def persona_cache_dir() -> Path | None:
    """Where parsed copies of persona files are kept (`user_cache_dir()/personas`, private), or
    None when there is no such directory we may write (then every load parses the YAML)."""
    from bot.paths import private_dir, user_cache_dir

    folder = private_dir(user_cache_dir())
    return private_dir(folder / "personas") if folder is not None else None


def load_persona(path: Path, cache: Path | None = None) -> Persona:
    """Parse and validate one persona file; raise DataError naming FILE:LINE for each problem.

    With `cache` (a private directory), a parsed copy of a file already validated is read instead
    of its YAML (see the module's docstring), and a file validated now leaves one.
    """
    name = str(path)
    raw = _read_limited(path, name)
    copy = cache / f"persona-{hashlib.sha256(_CODE + raw).hexdigest()[:32]}.json" if cache is not None else None
    if copy is not None:
        cached = _read_copy(copy)
        if cached is not None:
            return _compact(cached)
    persona = _parse_persona(raw, name)
    if copy is not None:
        _write_copy(copy, persona)
    return _compact(persona)


def _compact(persona: Persona) -> Persona:
    """The same persona, its models sharing one set of the field names they were given.

    pydantic gives every model instance its own set of the fields that were set (a 728-byte set
    per entry: 70 MB at 100,000 entries), though every entry of a validated file has all of them.
    The sets are only read (`model_fields_set`) or copied (`model_copy`, which copies it before
    adding to it), and the models are frozen, so equal sets can be one object.
    """
    shared: dict[frozenset[str], set[str]] = {}
    for model in (persona, *persona.sources, *(e for entries in persona.topics.values() for e in entries)):
        fields = model.__pydantic_fields_set__
        object.__setattr__(model, "__pydantic_fields_set__", shared.setdefault(frozenset(fields), fields))
    return persona


def _read_copy(copy: Path) -> Persona | None:
    """The persona in a parsed copy, or None when there is none or it does not validate."""
    try:
        data = copy.read_bytes()
    except OSError:
        return None
    try:
        persona = Persona.model_validate_json(data)
    except ValidationError:
        persona = None
    if persona is None or not _references_hold(persona):
        _log.warning("parsed persona copy %s is damaged: reading the YAML again", copy)
        return None
    with contextlib.suppress(OSError):
        os.utime(copy)  # in use: kept by the pruning in `_write_copy`
    return persona


def _references_hold(persona: Persona) -> bool:
    """`_check_references`' rules on a validated persona: known sources, unique entry ids."""
    known = {s.id for s in persona.sources}
    entries = persona.entries
    return all(e.source in known for e in entries) and len({e.id for e in entries}) == len(entries)


def _write_copy(copy: Path, persona: Persona) -> None:
    """Written whole, then renamed; a cache that cannot be written costs only the parse next time."""
    from bot.paths import write_cache_file

    try:
        write_cache_file(copy, lambda out: out.write(persona.model_dump_json().encode()), "persona-*.json")
    except OSError as exc:
        _log.warning("parsed persona copy not written (%s)", exc)


def _parse_persona(raw: bytes, name: str) -> Persona:
    text = _decode(raw, name)
    try:
        _check_shape(text, name, fast=True)
        loader = yaml.CSafeLoader(text)
        try:
            data = loader.get_single_data()
        finally:
            loader.dispose()
    except yaml.YAMLError:
        # A broken file is read again by the pure-Python parser, so its error says what it always said.
        data = _parse_slowly(text, name)
    return _validate(data, text, name)


def _parse_slowly(text: str, name: str) -> Any:
    try:
        _check_shape(text, name, fast=False)
        return yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else 1
        reason = getattr(exc, "problem", None) or str(exc)
        raise DataError([Problem(name, line, f"broken YAML: {reason}")]) from None


def _validate(data: Any, text: str, name: str) -> Persona:
    if not isinstance(data, dict):
        raise DataError([Problem(name, 1, "expected a mapping of persona fields")])
    try:
        persona = Persona.model_validate(data)
    except ValidationError as exc:
        # Only a broken file pays for the node tree that gives line numbers.
        tree = yaml.compose(text, Loader=yaml.SafeLoader)
        errors = exc.errors()
        problems = [
            Problem(name, _line_of(tree, err["loc"]), f"{'.'.join(map(str, err['loc']))}: {err['msg']}")
            for err in errors[:MAX_PROBLEMS_PER_FILE]
        ] + _check_references(data, name, tree)
        if len(errors) > MAX_PROBLEMS_PER_FILE:
            problems.append(Problem(name, 1, f"and {len(errors) - MAX_PROBLEMS_PER_FILE} more schema problems"))
        raise DataError(problems) from None
    if _check_references(data, name, None):
        raise DataError(_check_references(data, name, yaml.compose(text, Loader=yaml.SafeLoader)))
    return persona


def _read_limited(path: Path, name: str) -> bytes:
    """The file's bytes, refusing one too large to be a persona before it is read into memory."""
    limit_mb = MAX_FILE_BYTES // 2**20
    try:
        with path.open("rb") as fh:
            raw = fh.read(MAX_FILE_BYTES + 1)
            size = max(len(raw), os.fstat(fh.fileno()).st_size)
    except OSError as exc:
        raise DataError([Problem(name, 1, f"cannot read: {exc.strerror or exc}")]) from None
    if size > MAX_FILE_BYTES:
        raise DataError([Problem(name, 1, f"file is {size / 2**20:.1f} MB, over the {limit_mb} MB limit "
                                          "for one persona file")])
    return raw


def _decode(raw: bytes, name: str) -> str:
    """UTF-8 text, or a DataError at the line and column of the first byte that is not UTF-8."""
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        column = exc.start - (raw.rfind(b"\n", 0, exc.start) + 1) + 1
        raise DataError([Problem(name, line, f"not UTF-8: byte 0x{raw[exc.start]:02x} at column {column} "
                                             "(save the file as UTF-8)")]) from None


def _check_shape(text: str, name: str, fast: bool) -> None:
    """Depth and size of the YAML, from its event stream, before anything recursive sees it.

    The YAML composer and pydantic recurse once per nesting level (5,000 brackets is a
    RecursionError, or worse in C), and an alias is expanded wherever it is used, so a few lines of
    `&a [*b, *b, ...]` stand for billions of values. The parser itself keeps an explicit stack.
    """
    stack: list[list[Any]] = []  # per open collection: [anchor, values inside it so far]
    expanded: dict[str, int] = {}  # anchor -> values it stands for
    total = 0
    events = yaml.parse(text, Loader=yaml.CSafeLoader) if fast else yaml.parse(text, Loader=yaml.SafeLoader)
    for event in events:
        if isinstance(event, yaml.CollectionEndEvent):
            anchor, count = stack.pop()
            if anchor is not None:
                expanded[anchor] = count
            continue
        if isinstance(event, yaml.AliasEvent):
            size = expanded.get(event.anchor or "", 1)
        elif isinstance(event, yaml.NodeEvent):
            size = 1
        else:
            continue  # stream and document events
        total += size
        for frame in stack:
            frame[1] += size
        line = event.start_mark.line + 1 if event.start_mark is not None else 1
        if total > MAX_VALUES:
            raise DataError([Problem(name, line, f"more than {MAX_VALUES:,} values once aliases are expanded")])
        if isinstance(event, yaml.CollectionStartEvent):
            stack.append([event.anchor, 1])
            if len(stack) > MAX_DEPTH:
                raise DataError([Problem(name, line, f"nested deeper than {MAX_DEPTH} levels "
                                                     "(a persona file needs 5)")])
        elif isinstance(event, yaml.ScalarEvent) and event.anchor is not None:
            expanded[event.anchor] = 1


def _check_references(data: dict[str, Any], name: str, tree: yaml.Node | None) -> list[Problem]:
    """Rules pydantic cannot see, checked on the raw data so they are reported with schema errors:
    every entry's source is one of the persona's sources, entry ids are unique in the file.

    The raw data has not passed the schema (that is the point), so every value is type-checked
    before use: an `id: [a, b]` or `source: {x: 1}` is the schema's error to report, not a crash here.
    """
    problems: list[Problem] = []
    raw_sources = data.get("sources")
    sources: list[Any] = raw_sources if isinstance(raw_sources, list) else []
    known = {s["id"] for s in sources if isinstance(s, dict) and isinstance(s.get("id"), str)}
    raw_topics = data.get("topics")
    topics: dict[Any, Any] = raw_topics if isinstance(raw_topics, dict) else {}
    seen: set[str] = set()
    for topic, entries in topics.items():
        for i, entry in enumerate(entries if isinstance(entries, list) else []):
            if not isinstance(entry, dict):
                continue
            loc = ("topics", topic, i)
            source = entry.get("source")
            if isinstance(source, str) and source not in known:
                problems.append(Problem(name, _line_of(tree, (*loc, "source")), f"unknown source id {source!r}"))
            entry_id = entry.get("id")
            if not isinstance(entry_id, str):
                continue
            if entry_id in seen:
                problems.append(Problem(name, _line_of(tree, (*loc, "id")), f"duplicate entry id {entry_id!r}"))
            seen.add(entry_id)
            if len(problems) >= MAX_PROBLEMS_PER_FILE:
                return problems
    return problems


def persona_files(directory: Path) -> list[Path]:
    return sorted(p for p in directory.glob(f"*{PERSONA_SUFFIX}") if not p.name.startswith("_"))


def iter_load(directory: Path, cache: Path | None = None) -> Iterator[tuple[Path, Persona | DataError]]:
    """Load each persona file, yielding the persona or the error, so callers see every problem."""
    for path in persona_files(directory):
        try:
            yield path, load_persona(path, cache)
        except DataError as exc:
            yield path, exc


def load_personas(directory: Path, known_sources: set[str] | None = None,
                  cache: Path | None = None) -> list[Persona]:
    """Load a whole personas directory or raise DataError listing every problem in every file.

    Refuses to return half the data: a server must not start on a partial corpus. `cache`: see
    `load_persona` (the engine passes `persona_cache_dir()`; `validate` always parses).
    """
    if directory.is_file():
        raise DataError([Problem(str(directory), 0, "expected a personas directory, got a file")])
    if not directory.is_dir():
        raise DataError([Problem(str(directory), 0, "personas directory does not exist")])
    if not persona_files(directory):
        raise DataError([Problem(str(directory), 0, "no persona files (*.yaml) in this directory")])
    loaded: list[tuple[Path, Persona]] = []
    problems: list[Problem] = []
    for path, item in iter_load(directory, cache):
        if isinstance(item, DataError):
            problems.extend(item.problems)
        else:
            loaded.append((path, item))
    problems.extend(_check_across(loaded, known_sources))
    if problems:
        raise DataError(problems)
    return [persona for _, persona in loaded]


def _check_across(loaded: list[tuple[Path, Persona]], known_sources: set[str] | None) -> list[Problem]:
    """Rules that span files: unique persona ids, unique entry ids, sources that exist."""
    problems: list[Problem] = []
    persona_ids: dict[str, str] = {}
    entry_ids: dict[str, str] = {}
    for path, persona in loaded:
        where = str(path)
        if persona.id in persona_ids:
            problems.append(Problem(where, 1, f"duplicate persona id {persona.id!r} (also {persona_ids[persona.id]})"))
        persona_ids[persona.id] = where
        for entry in persona.entries:
            if entry.id in entry_ids and entry_ids[entry.id] != where:
                problems.append(Problem(where, 1, f"entry id {entry.id!r} also used in {entry_ids[entry.id]}"))
            entry_ids[entry.id] = where
        if known_sources is not None:
            for src in persona.sources:
                if src.id not in known_sources:
                    problems.append(Problem(where, 1, f"source {src.id!r} is not in sources.yaml"))
    return problems
