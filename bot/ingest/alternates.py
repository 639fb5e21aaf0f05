"""corpus/alternates.yaml: questions readers ask that an entry answers, keyed by entry id.

They bridge the words users use and the words the experts used (QnA Maker's alternate
questions). Each line says who wrote it; ingest copies the questions into the entry they name,
and an id that no entry has is an error naming the file and line, so a re-segmentation that
moved an answer cannot silently orphan them.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import yaml

from bot.model import DataError, Problem, compose_file

FILE = "alternates.yaml"


@dataclass(frozen=True)
class Alternate:
    question: str
    by: str  # who or what wrote it: a blind writer, `review` (the curator loop), a person
    line: int


def load_alternates(corpus: Path) -> dict[str, list[Alternate]]:
    """Entry id -> its alternate questions, in file order; problems as FILE:LINE."""
    path = corpus / FILE
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
                problems.append(Problem(name, line, f"{entry_id}: each alternate needs `q` (text) and `by`"))
                continue
            found.setdefault(entry_id, []).append(Alternate(question.strip(), by, line))
    if problems:
        raise DataError(problems)
    return found


def check_targets(corpus: Path, alternates: dict[str, list[Alternate]], entry_ids: set[str]) -> None:
    """Every alternate must point at an entry that exists."""
    problems = [
        Problem(str(corpus / FILE), items[0].line, f"no entry has id {entry_id!r} (was it re-segmented?)")
        for entry_id, items in alternates.items()
        if entry_id not in entry_ids
    ]
    if problems:
        raise DataError(problems)
