"""Ours and the two obvious alternatives, behind one interface so they are timed and scored alike.

The alternatives are what a reviewer would try first instead of our engine: fuzzy-match the user's
text against every recorded question (rapidfuzz `extractOne`, default WRatio scorer), or BM25 over
jieba tokens of question + answer (`bm25s`). If ours does not beat both on the dev eval and stay
near bm25s on speed, the engine's extra machinery is not paying for itself.
"""

from __future__ import annotations

import inspect
import re
from collections.abc import Callable, Sequence
from typing import Any

from bench.accuracy import Hit, System, fold
from bot.matching import Engine, Match
from bot.model import Entry, Persona

_WORD = re.compile(r"\w")


def _hit(persona: Persona, entry: Entry, score: float) -> Hit:
    return Hit(persona.display_name, entry.answer, float(score))


def _engine_extras() -> dict[str, Any]:
    """What `Engine.load` adds to the personas (corpus vocabulary and stopwords), when it exists.

    The CLI serves `Engine.load(...)`, not a bare `Engine(personas)`; without these the benchmark would
    time and score a weaker engine than users get. Optional so the benchmark survives refactors.
    """
    try:
        from bot.matching.engine import load_stopwords
        from bot.paths import default_corpus_dir
        from bot.vocabulary import load_vocabulary
    except ImportError:
        return {}
    corpus = default_corpus_dir()
    return {"vocabulary": load_vocabulary(corpus), "stopwords": load_stopwords(corpus)}


class OurSystem:
    """The project's Engine, built as `Engine.load` builds it and called as the CLI calls it (k=3)."""

    name = "ours"

    def __init__(self, personas: Sequence[Persona]) -> None:
        accepted = inspect.signature(Engine).parameters
        extras = {k: v for k, v in _engine_extras().items() if k in accepted}
        self.engine = Engine(list(personas), **extras)

    def search(self, query: str) -> Hit | None:
        matches = self.engine.answer(query).matches
        return self._top(matches)

    def compare(self, query: str, a: str, b: str) -> tuple[Hit | None, Hit | None]:
        try:
            sides = self.engine.compare(a, b, query).sides
        except LookupError:  # UnknownExpert: the case names an expert this corpus lacks
            return None, None
        first, second, *_ = [*(self._top(side.matches) for side in sides), None, None]
        return first, second

    @staticmethod
    def _top(matches: Sequence[Match]) -> Hit | None:
        return _hit(matches[0].persona, matches[0].entry, matches[0].score) if matches else None


class _Corpus:
    """Flat (persona, entry) rows plus a display-name lookup, shared by both baselines."""

    def __init__(self, personas: Sequence[Persona]) -> None:
        self.rows: list[tuple[Persona, Entry]] = [(p, e) for p in personas for e in p.entries]
        self.by_name: dict[str, list[int]] = {}
        for i, (persona, _) in enumerate(self.rows):
            for name in {persona.display_name, persona.name, persona.id}:
                self.by_name.setdefault(fold(name), []).append(i)

    def rows_of(self, name: str) -> list[int]:
        return self.by_name.get(fold(name), [])


class RapidfuzzSystem:
    """`process.extractOne` over every recorded question, default scorer (WRatio), no preprocessing."""

    name = "rapidfuzz"

    def __init__(self, personas: Sequence[Persona]) -> None:
        from rapidfuzz import process

        self._extract_one = process.extractOne
        self._corpus = _Corpus(personas)
        self._questions = [e.question for _, e in self._corpus.rows]

    def search(self, query: str) -> Hit | None:
        return self._best(query, self._questions, None)

    def compare(self, query: str, a: str, b: str) -> tuple[Hit | None, Hit | None]:
        return self._search_in(query, a), self._search_in(query, b)

    def _search_in(self, query: str, name: str) -> Hit | None:
        rows = self._corpus.rows_of(name)
        return self._best(query, [self._questions[i] for i in rows], rows) if rows else None

    def _best(self, query: str, choices: list[str], rows: list[int] | None) -> Hit | None:
        found = self._extract_one(query, choices)
        if found is None:
            return None
        _, score, index = found
        persona, entry = self._corpus.rows[rows[index] if rows is not None else index]
        return _hit(persona, entry, score)


class Bm25System:
    """BM25 (bm25s, Lucene variant) over jieba tokens of question + answer, one document per entry.

    A top score of 0 means no query term occurs anywhere, which BM25 itself reads as "no match"; any
    other cut-off is tuned separately (see accuracy.best_threshold).
    """

    name = "bm25s"

    def __init__(self, personas: Sequence[Persona]) -> None:
        import bm25s
        import jieba
        import numpy as np

        self._np = np
        self._tokenizer = jieba.Tokenizer()
        self._corpus = _Corpus(personas)
        docs = [self.tokens(e.question + " " + e.answer) for _, e in self._corpus.rows]
        self._retriever = bm25s.BM25()
        self._retriever.index(docs, show_progress=False)

    def tokens(self, text: str) -> list[str]:
        """jieba's default cut, lower-cased, punctuation and white space dropped."""
        return [t for t in self._tokenizer.lcut(text.lower()) if _WORD.search(t)]

    def search(self, query: str) -> Hit | None:
        return self._retrieve(query, None)

    def compare(self, query: str, a: str, b: str) -> tuple[Hit | None, Hit | None]:
        return self._search_in(query, a), self._search_in(query, b)

    def _search_in(self, query: str, name: str) -> Hit | None:
        rows = self._corpus.rows_of(name)
        if not rows:
            return None
        mask = self._np.zeros(len(self._corpus.rows), dtype="float32")
        mask[rows] = 1.0
        return self._retrieve(query, mask)

    def _retrieve(self, query: str, mask: Any) -> Hit | None:
        tokens = self.tokens(query)
        if not tokens:
            return None
        docs, scores = self._retriever.retrieve([tokens], k=1, show_progress=False, weight_mask=mask)
        score = float(scores[0][0])
        if score <= 0.0:
            return None
        persona, entry = self._corpus.rows[int(docs[0][0])]
        return _hit(persona, entry, score)


class Guarded:
    """A system whose exceptions are counted instead of ending the run.

    The engine is under active development in a shared tree; one crashing query should show up as
    an error count (and a failed case) in RESULTS.md, not as a benchmark with no figures at all.
    """

    def __init__(self, system: System) -> None:
        self.system = system
        self.name = system.name
        self.errors = 0
        self.first_error: str | None = None

    def search(self, query: str) -> Hit | None:
        try:
            return self.system.search(query)
        except Exception as exc:
            self._note(exc, query)
            return None

    def compare(self, query: str, a: str, b: str) -> tuple[Hit | None, Hit | None]:
        try:
            return self.system.compare(query, a, b)
        except Exception as exc:
            self._note(exc, query)
            return None, None

    def _note(self, exc: Exception, query: str) -> None:
        self.errors += 1
        if self.first_error is None:
            self.first_error = f"{type(exc).__name__}: {exc} (query {query!r})"


SYSTEMS: dict[str, Callable[[Sequence[Persona]], System]] = {
    "ours": OurSystem,
    "rapidfuzz": RapidfuzzSystem,
    "bm25s": Bm25System,
}
