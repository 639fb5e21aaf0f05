"""corpus/alternates.yaml and corpus/near_misses.yaml: questions about an entry, keyed by entry id.

Alternates are questions readers ask that the entry answers: they bridge the words users use and
the words the experts used (QnA Maker's alternate questions). Near misses are questions that share
its words but that it does not answer: they teach the gate what it must not quote the entry for.
Both files have the same shape. Each line says who wrote it; ingest copies the questions into the
entry they name, and an id that no entry has is an error naming the file and line, so a
re-segmentation that moved an answer cannot silently orphan them.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import yaml

from bot.model import DataError, Problem, compose_file

FILE = "alternates.yaml"
NEAR_MISSES = "near_misses.yaml"


@dataclass(frozen=True)
class Alternate:
    question: str
    by: str  # who or what wrote it: a blind writer, `review` (the curator loop), a person
    line: int


def load_alternates(corpus: Path, file: str = FILE) -> dict[str, list[Alternate]]:
    """Entry id -> its questions in `file` (alternates or near misses), in file order; problems as FILE:LINE."""
    path = corpus / file
    if not path.exists():
        return {}
    name = str(path)
    tree = compose_file(path)
    if tree is None:
        return {}
    if not isinstance(tree, yaml.MappingNode):
        raise DataError([Problem(name, tree.start_mark.line + 1, "expected a mapping of entry id -> list")])
    found: dict[str, list[Alternate]] = {}
    problems: list[Problem] = []
    for key, value in tree.value:
        entry_id = str(key.value)
        if not isinstance(value, yaml.SequenceNode):
            problems.append(Problem(name, value.start_mark.line + 1, f"{entry_id}: expected a list"))
            continue
        for item in value.value:
            line = item.start_mark.line + 1
            data = yaml.safe_load(yaml.serialize(item)) if isinstance(item, yaml.MappingNode) else None
            question = data.get("q") if isinstance(data, dict) else None
            by = data.get("by") if isinstance(data, dict) else None
            if not isinstance(question, str) or not question.strip() or not isinstance(by, str) or not by:
                problems.append(Problem(name, line, f"{entry_id}: each question needs `q` (text) and `by`"))
                continue
            found.setdefault(entry_id, []).append(Alternate(question.strip(), by, line))
    if problems:
        raise DataError(problems)
    return found


def check_targets(corpus: Path, alternates: dict[str, list[Alternate]], entry_ids: set[str],
                  file: str = FILE) -> None:
    """Every question must point at an entry that exists."""
    problems = [
        Problem(str(corpus / file), items[0].line, f"no entry has id {entry_id!r} (was it re-segmented?)")
        for entry_id, items in alternates.items()
        if entry_id not in entry_ids
    ]
    if problems:
        raise DataError(problems)
