"""corpus/declined.yaml read for the matcher: is this question one a curator declined?

A curator marks a group of questions out of scope in `persona-bot review`; they are appended to
`corpus/declined.yaml` (`files.add_declined`). The engine loads this once with the personas and
asks `matches(query)` before answering: a near-duplicate of a declined question gets the no-answer
reply, so the bot stops stretching an unrelated answer over it. "Near" is one named number,
`declined_similarity` in settings.yaml, on the scale of `similar.SCORER` over `similar.key`.

Usage (the engine)::

    declined = Declined.load(corpus_dir)      # a missing file is an empty list
    if declined.matches(query): ...           # the no-answer reply
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import yaml
from rapidfuzz import process

from bot.feedback.settings import settings
from bot.feedback.similar import SCORER, key
from bot.model import DataError, Problem, compose_file

FILE = "declined.yaml"
Names = Callable[[str], frozenset[str]]  # the experts a text names (their ids)


@dataclass(frozen=True)
class DeclinedQuestion:
    question: str
    line: int
    date: str | None = None
    note: str | None = None


class Declined:
    """The declined questions, keyed once at load; `matches` is one batch rapidfuzz call."""

    def __init__(self, questions: list[DeclinedQuestion], threshold: float | None = None) -> None:
        self.questions = questions
        self.threshold = settings().declined_similarity if threshold is None else threshold
        self._keys = [key(q.question) for q in questions]

    @classmethod
    def load(cls, corpus_dir: Path, threshold: float | None = None) -> Declined:
        """Read `corpus_dir/declined.yaml`; problems raise model.DataError with FILE:LINE."""
        return cls(load_declined(corpus_dir / FILE), threshold)

    def __len__(self) -> int:
        return len(self.questions)

    def closest(self, query: str, names: Names | None = None) -> DeclinedQuestion | None:
        """The declined question `query` is a near-duplicate of, if any. With `names` (the experts a
        text names), only one that names the same experts: declining "马超怎么看失业" (he never spoke
        of it) must not decline "沈为怎么看失业", which differs by the name alone."""
        if not self._keys:
            return None
        asked = names(query) if names is not None else None
        for _, _, i in process.extract(key(query), self._keys, scorer=SCORER, score_cutoff=self.threshold,
                                       limit=None):
            if names is None or names(self.questions[i].question) == asked:
                return self.questions[i]
        return None

    def matches(self, query: str, names: Names | None = None) -> bool:
        """True when `query` is a near-duplicate of a declined question: answer it with no answer."""
        return self.closest(query, names) is not None


def load_declined(path: Path) -> list[DeclinedQuestion]:
    """The file's questions in order; a missing or empty file is none."""
    if not path.exists():
        return []
    name = str(path)
    tree = compose_file(path)
    if tree is None:
        return []
    if not isinstance(tree, yaml.SequenceNode):
        raise DataError([Problem(name, tree.start_mark.line + 1, "expected a list of {q: ..., date: ..., note: ...}")])
    found: list[DeclinedQuestion] = []
    problems: list[Problem] = []
    for item in tree.value:
        line = item.start_mark.line + 1
        data = yaml.safe_load(yaml.serialize(item)) if isinstance(item, yaml.MappingNode) else None
        question = data.get("q") if isinstance(data, dict) else None
        if not isinstance(question, str) or not question.strip():
            problems.append(Problem(name, line, "each declined question needs `q` (text)"))
            continue
        assert isinstance(data, dict)
        date, note = data.get("date"), data.get("note")
        found.append(DeclinedQuestion(question.strip(), line, str(date) if date is not None else None,
                                      str(note) if note is not None else None))
    if problems:
        raise DataError(problems)
    return found
