"""An inverted index with BM25 weights over jieba tokens of passages, scored in numpy batches.

Entries are long (a whole answer can run to 900 characters) while a question is about one
point in them, so the unit of scoring is the passage: the question that was asked, and every
window of two consecutive sentences of the answer. An entry scores as its best passage. Each
term keeps its postings (passage numbers and precomputed BM25 weights), so a query touches only
the passages that share a term with it, in C loops rather than a Python loop per entry.
"""

from __future__ import annotations

import contextlib
import ctypes
import gc
import hashlib
import logging
import math
import os
import re
import sys
import threading
import zipfile
from array import array
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, TypeVar

import numpy as np
import numpy.typing as npt
from rapidfuzz import process
from rapidfuzz.distance import OSA

import bot.english
import bot.text
from bot.english import term as index_term
from bot.matching.settings import IndexSettings, QuerySettings
from bot.matching.sounds import TermSounds, pypinyin_stamp
from bot.paths import write_cache_file
from bot.text import Tokenizer, has_cjk

FloatArray = npt.NDArray[np.float32]
IntArray = npt.NDArray[np.int32]
_Value = TypeVar("_Value", bound=np.generic)

_NONE: IntArray = np.empty(0, dtype=np.int32)
_log = logging.getLogger(__name__)
_ARRAYS = ("names", "bounds", "postings", "weights", "idf", "parent", "shape")
# This code and the tokenizer's: a persisted index made by other code is stale.
_CODE = b"".join(Path(m.__file__).read_bytes() for m in (sys.modules[__name__], bot.text, bot.english) if m.__file__)
_SENTENCE = re.compile(r"[^。！？!?；;\n]+[。！？!?；;\n]*")


Docs = Sequence[tuple[str, str]]


@dataclass(frozen=True)
class Source:
    """What an index's documents are made from, when they are made only if the index is built.

    Folding every text of a large corpus costs more than loading its index (8.6 s against 1 s at
    100,000 entries), so the engine hands over the unfolded texts and a function that folds them:
    the cache key hashes these texts and `recipe` (the code and data versions that turn them into
    documents), and a start that finds its index folds nothing.
    """

    texts: Sequence[Sequence[str]]  # per entry, in entry order
    recipe: bytes


@dataclass(frozen=True)
class Form:
    """One way a query concept can appear in an entry, and how much a hit on it counts."""

    term: str
    weight: float = 1.0


@dataclass(frozen=True)
class Concept:
    """A word of the question with its alternatives (synonyms, translations, typo fixes)."""

    text: str
    forms: tuple[Form, ...]
    entity: bool = False  # a person or organisation the experts mention (entities.yaml)

    def __hash__(self) -> int:
        """The dataclass's own hash (of the fields, in order), computed once: a concept is looked
        up in each index's word cache for every query that has it."""
        cached: int | None = self.__dict__.get("_hash")
        if cached is None:
            cached = hash((self.text, self.forms, self.entity))
            object.__setattr__(self, "_hash", cached)
        return cached


# One form of a concept in a field: its passages (ascending), their BM25 (times the form's weight)
# and the coverage credit of a hit on it (the same for every passage).
_Form = tuple[IntArray, FloatArray, np.float32]


@dataclass(frozen=True)
class _Posting:
    """One query concept's postings in a field, form by form (the forms' lists are never merged:
    where several forms hit one passage, the concept counts its best BM25 and its best credit)."""

    forms: tuple[_Form, ...]
    rarity: np.float32  # the concept's specificity
    entity: bool


@dataclass(frozen=True)
class _Detail:
    """The per-entry figures only candidates need, aligned with the entries they were computed for."""

    entries: IntArray
    concept_hits: npt.NDArray[np.bool_]  # per concept (rows), per entry: whether it hit the entry
    passage_coverage: FloatArray
    passage_concepts: FloatArray
    passage_topical: FloatArray
    entry_coverage: FloatArray
    specific_coverage: FloatArray
    entry_specific_coverage: FloatArray
    best_passage: IntArray


@dataclass(frozen=True)
class _Layout:
    """The query's forms as `Hits._figures` reads them (rows of its matrices)."""

    forms: list[IntArray]  # each form's passages, concept by concept
    credits: npt.NDArray[np.float32]  # each form's coverage credit (a column)
    some: npt.NDArray[np.bool_]  # per concept: it has a form in this field
    first_form: npt.NDArray[np.intp]  # where each such concept's forms start among the forms
    rarity: npt.NDArray[np.float32]  # per concept, its specificity (a column)
    topical: npt.NDArray[np.bool_]  # per concept: not a name


class Hits:
    """What one field's search found, for the entries that share a term with the query only.

    Per-entry arrays are aligned with `entries` (sorted entry numbers); an entry not in it scored
    nothing: `take` reads a value for any entries, 0 (or a given default) where there is none.

    Two phases, as in Lucene: `search` scores BM25 for every touched entry (what picks the
    candidates); the coverage figures are computed when first read, and `focus(candidates)` computes
    them for the candidates' passages alone, found in each posting list by binary search (the lists
    are sorted by passage, an entry's passages are consecutive). Each passage gets the same float32
    additions in the same order either way, so the figures are the same to the bit.
    """

    def __init__(self, index: Index, postings: list[_Posting], entries: IntArray, bm25: FloatArray,
                 concept_import: FloatArray, total_weight: float, total_specific: float,
                 detail: _Detail | None = None, positive: bool = False) -> None:
        self._index = index
        self._postings = postings
        self.entries = entries  # the entries any concept hit, ascending
        self.bm25 = bm25  # best passage BM25
        # Per concept: its weight times its specificity, i.e. how much it says about what is asked.
        self.concept_import = concept_import
        # Sum of the query's concept weights: BM25 divided by it is comparable across queries.
        self.total_weight = total_weight
        self._total_specific = total_specific
        self.max_weight = index.max_idf  # the largest weight any concept can have in this index
        self.k1 = index.settings.k1  # BM25's saturation: the most one term can score is idf x (k1 + 1)
        self._detail = detail
        self._matched: list[IntArray] | None = None
        self._layout_made: _Layout | None = None
        self.positive = positive  # every touched entry's BM25 is positive (see `Index.search`)

    @property
    def matched(self) -> list[IntArray]:
        """Per concept: the entries where it hit, ascending (for explaining why)."""
        if self._matched is None:
            parent = self._index._parent
            self._matched = [
                _NONE if not p.forms else _groups(parent[p.forms[0][0]])[0] if len(p.forms) == 1
                else sorted_distinct(np.sort(np.concatenate([parent[ids] for ids, _, _ in p.forms]), kind="stable"))
                for p in self._postings
            ]
        return self._matched

    def known(self, concept: int) -> bool:
        """Whether the concept number `concept` hit any entry of this field."""
        return any(len(ids) for ids, _, _ in self._postings[concept].forms)

    def only_entry(self, concept: int) -> int:
        """The entry the concept hit when it hit exactly one, else -1 (lists are sorted by passage and
        passages by entry, so its first and last postings tell)."""
        forms = [ids for ids, _, _ in self._postings[concept].forms if len(ids)]
        if not forms:
            return -1
        parent = self._index._parent
        first, last = parent[min(int(ids[0]) for ids in forms)], parent[max(int(ids[-1]) for ids in forms)]
        return int(first) if first == last else -1

    def concepts_in(self, wanted: IntArray) -> npt.NDArray[np.bool_]:
        """Per concept (rows), per `wanted` entry: whether the concept hit it (from the coverage
        figures: compute them for the wanted entries first, see `focus`)."""
        detail = self._full()
        out = np.zeros((len(self._postings), len(wanted)), dtype=bool)
        if len(detail.entries) and len(wanted):
            slots = np.minimum(np.searchsorted(detail.entries, wanted), len(detail.entries) - 1)
            found = detail.entries[slots] == wanted
            out[:, found] = detail.concept_hits[:, slots[found]]
        return out

    def focus(self, wanted: IntArray) -> Hits:
        """The same hits with the coverage figures computed for the `wanted` entries only (those
        not touched are left out, so they read as 0 as before)."""
        entries = sorted_distinct(np.sort(wanted[contains(self.entries, wanted)])).astype(np.int32) \
            if len(self.entries) else _NONE
        focused = Hits(self._index, self._postings, entries, self.take(self.bm25, entries), self.concept_import,
                       self.total_weight, self._total_specific, self._figures(entries))
        focused._matched = self._matched
        return focused

    def _full(self) -> _Detail:
        if self._detail is None:
            self._detail = self._figures(self.entries)
        return self._detail

    # The coverage figures (see `_figures`), aligned with `entries`.
    @property
    def passage_coverage(self) -> FloatArray:  # best passage coverage
        return self._full().passage_coverage

    @property
    def passage_concepts(self) -> FloatArray:  # how many concepts the best-covering passage holds
        return self._full().passage_concepts

    @property
    def passage_topical(self) -> FloatArray:  # how many of them are not mere names (entities)
        return self._full().passage_topical

    @property
    def entry_coverage(self) -> FloatArray:  # whole-entry coverage
        return self._full().entry_coverage

    # Coverage again, each concept weighted also by how rare it is in everyday Chinese
    # (Tokenizer.specificity): 怎么办/不够/用 count for little, 芯片/算力 for much.
    @property
    def specific_coverage(self) -> FloatArray:
        return self._full().specific_coverage

    @property
    def entry_specific_coverage(self) -> FloatArray:
        return self._full().entry_specific_coverage

    @property
    def best_passage(self) -> IntArray:  # per entry: the passage (global number) with the highest coverage
        return self._full().best_passage

    def _figures(self, entries: IntArray) -> _Detail:
        """Coverage per passage of `entries` (touched ones, ascending), then each entry's best.

        Every passage of the entries is looked up in each form's list (a binary search per form);
        a passage no concept hit scores 0, which is never an entry's best (every entry here was
        touched, and a hit's credit is positive). Per passage the concepts' credits are added in
        the query's order in float32, as a pass over every passage adds them.
        """
        index = self._index
        k = len(self._postings)
        if not len(entries):
            empty = np.zeros(0, dtype=np.float32)
            return _Detail(entries, np.zeros((k, 0), dtype=bool), empty, empty, empty, empty, empty, empty, _NONE)
        one = index.passages == index.size  # one passage per entry (alternates, context): it is the entry
        if one:
            passages = entries.astype(np.int32, copy=False)
        else:
            lo, hi = index._first[entries], index._first[entries + 1]
            counts = hi - lo
            starts = np.concatenate(([0], np.cumsum(counts)[:-1])).astype(np.intp)
            passages = np.arange(int(counts.sum()), dtype=np.int32) + np.repeat(lo - starts, counts).astype(np.int32)
        # Per form, which of the passages it holds (one binary search per form); then per concept
        # its best form's credit and whether any form hit, each one reduction over the forms.
        layout = self._layout()
        found = np.empty((len(layout.forms), len(passages)), dtype=bool)
        for row, ids in enumerate(layout.forms):
            np.equal(ids.take(ids.searchsorted(passages), mode="clip"), passages, out=found[row])
        credit = np.zeros((k, len(passages)), dtype=np.float32)
        hits = np.zeros((k, len(passages)), dtype=bool)
        if layout.forms:
            some, first_form = layout.some, layout.first_form
            credit[some] = np.maximum.reduceat(found * layout.credits, first_form, axis=0)
            hits[some] = np.logical_or.reduceat(found, first_form, axis=0)
        rarity = layout.rarity
        size = len(passages)
        # Per passage (and per entry: each concept's best passage) the concepts' credits added up in
        # the query's order: `accumulate` over the concepts is that sequence of float32 additions.
        if one:
            blocks = np.concatenate((credit, credit * rarity), axis=1)
        else:
            entry_credit = np.maximum.reduceat(credit, starts, axis=1) if k else np.zeros((0, len(entries)), np.float32)
            blocks = np.concatenate((credit, credit * rarity, entry_credit, entry_credit * rarity), axis=1)
        sums = np.add.accumulate(blocks, axis=0)[-1] if k else np.zeros(blocks.shape[1], dtype=np.float32)
        p_cover, p_specific = sums[:size], sums[size : 2 * size]
        p_count = hits.sum(axis=0, dtype=np.float32)  # whole numbers: exact in any order
        p_topical = hits[layout.topical].sum(axis=0, dtype=np.float32)
        if one:
            e_cover, e_specific = p_cover.copy(), p_specific.copy()
            cover, count, topical_count, specific_cover = p_cover, p_count, p_topical, p_specific
            best_passage: IntArray = passages
            concept_hits = hits
        else:
            e_cover, e_specific = sums[2 * size : 2 * size + len(entries)], sums[2 * size + len(entries) :]
            cover, count, topical_count, specific_cover = np.maximum.reduceat(
                np.stack((p_cover, p_count, p_topical, p_specific)), starts, axis=1)
            # The passage that covers most of the question, to say which part of a long answer
            # matched: the first of the entry's passages whose coverage is the entry's best.
            at_best = np.flatnonzero(p_cover == np.repeat(cover, counts))
            owner = np.repeat(np.arange(len(entries), dtype=np.int32), counts)
            best_passage = passages[at_best[_groups(owner[at_best])[1]]]
            concept_hits = np.logical_or.reduceat(hits, starts, axis=1) if k else hits[:, :0]
        if self.total_weight:
            cover /= np.float32(self.total_weight)
            e_cover /= np.float32(self.total_weight)
        if self._total_specific:
            specific_cover /= np.float32(self._total_specific)
            e_specific /= np.float32(self._total_specific)
        return _Detail(entries, concept_hits, cover, count, topical_count, e_cover, specific_cover, e_specific,
                       best_passage)

    def _layout(self) -> _Layout:
        """What `_figures` reads of the query's postings, the same for any entries: made once."""
        if self._layout_made is None:
            forms = [f for p in self._postings for f in p.forms]
            sizes = [len(p.forms) for p in self._postings]
            some = np.array(sizes, dtype=np.intp) > 0
            rarity = np.array([p.rarity for p in self._postings], dtype=np.float32)[:, None]
            self._layout_made = _Layout(
                [ids for ids, _, _ in forms], np.array([c for _, _, c in forms], dtype=np.float32)[:, None], some,
                np.cumsum([0, *sizes[:-1]])[some], rarity, np.array([not p.entity for p in self._postings], dtype=bool))
        return self._layout_made

    def take(self, values: npt.NDArray[_Value], wanted: IntArray, missing: float = 0) -> npt.NDArray[_Value]:
        """`values` (one of the per-entry arrays) for the `wanted` entries, `missing` where none."""
        out = np.full(len(wanted), missing, dtype=values.dtype)
        if len(self.entries) and len(wanted):
            slots = np.minimum(np.searchsorted(self.entries, wanted), len(self.entries) - 1)
            found = self.entries[slots] == wanted
            out[found] = values[slots[found]]
        return out

    def add_up(self, parts: Sequence[tuple[IntArray, FloatArray]],
               positive: bool = False) -> tuple[IntArray, FloatArray]:
        """Per-entry values of several fields added up in the order given (float32; an entry a
        field did not touch adds nothing): every entry any of them touched, ascending, and its sum
        (`positive`: every value is positive)."""
        return self._index.add_up(parts, positive)

    def take_rows(self, rows: Sequence[FloatArray], wanted: IntArray) -> FloatArray:
        """Several per-entry float32 arrays (aligned with `entries`) for the `wanted` entries at
        once: one row each, 0 where an entry was not touched (`take`, with one search for all)."""
        out = np.zeros((len(rows), len(wanted)), dtype=np.float32)
        if len(self.entries) and len(wanted) and rows:
            slots = np.minimum(np.searchsorted(self.entries, wanted), len(self.entries) - 1)
            found = self.entries[slots] == wanted
            out[:, found] = np.stack(rows)[:, slots[found]]
        return out

    def has(self, concept: int, entry: int) -> bool:
        """Whether the query's concept number `concept` hit the entry (a posting in its passages)."""
        lo, hi = self._index._first[entry], self._index._first[entry + 1]
        for ids, _, _ in self._postings[concept].forms:
            at = int(ids.searchsorted(lo))
            if at < len(ids) and ids[at] < hi:
                return True
        return False

    def passage_of(self, entry: int) -> int:
        """The entry's best-covering passage (global number), -1 when the query touched none."""
        return int(self.take(self.best_passage, np.array([entry], dtype=np.int32), missing=-1)[0])


class Index:
    """BM25 over passages of folded text; an entry is as good as its best passage."""

    def __init__(self, docs: Docs | Callable[[], Docs], tokenizer: Tokenizer, stopwords: frozenset[str],
                 settings: IndexSettings | None = None, cache_dir: Path | None = None,
                 source: Source | None = None, word_cache: int | None = None) -> None:
        """`docs`: (folded question, folded answer) per entry, in entry order; or, with `source`,
        a function that makes them, called only when the index is built (see `Source`).

        With `cache_dir`, the built arrays are kept there under a hash of everything they are
        made from (the texts, the tokenizer, the stopwords, the settings, this code) and loaded
        instead of rebuilt while that hash holds; a damaged file is rebuilt, never trusted.

        `word_cache`: how many query concepts' weights are kept between queries (settings.yaml
        `query.word_cache`; each is a function of the concept and this index only).
        """
        if callable(docs) and source is None:
            raise ValueError("documents made on demand need their source")
        self.settings = settings or IndexSettings()
        self.tokenizer = tokenizer
        self.stopwords = stopwords
        self.size = len(source.texts) if source is not None else len(docs)  # type: ignore[arg-type]
        self.loaded_from: Path | None = None  # the cache file this index came from, if any
        arrays = None
        key = self._key(docs, source)
        path = cache_dir / f"index-{key}.npz" if cache_dir is not None else None
        # Where the terms' sounds are kept for `homophones` (bot/matching/sounds.py).
        self._sounds_at = cache_dir / f"sounds-{key}-{pypinyin_stamp()}.json" if cache_dir is not None else None
        if path is not None and path.exists():
            arrays = _read_arrays(path)
            if arrays is None:
                _log.warning("index cache %s is damaged: rebuilding it", path)
            else:
                self.loaded_from = path
                with contextlib.suppress(OSError):
                    os.utime(path)  # in use: kept by the pruning in `_write_arrays`
        if arrays is None:
            made = docs() if callable(docs) else docs
            if len(made) != self.size:
                raise ValueError(f"{len(made)} documents for {self.size} entries")
            arrays = self._build(made)
            if path is not None:
                _write_arrays(path, arrays)
        self._install(arrays)
        self._concept_terms = lru_cache(maxsize=QuerySettings.word_cache if word_cache is None else word_cache)(
            self._terms_of)

    def _key(self, docs: Docs | Callable[[], Docs], source: Source | None) -> str:
        digest = hashlib.sha256(_CODE)
        digest.update(self.tokenizer.signature().encode())
        digest.update(repr((sorted(self.stopwords), self.settings)).encode())
        if source is None:
            assert not callable(docs)
            for question, answer in docs:
                digest.update(f"{len(question)}:{question}{len(answer)}:{answer}".encode())
        else:  # another namespace: a key from sources never equals one from folded texts
            digest.update(b"\0source\0%d:" % len(source.recipe) + source.recipe)
            for texts in source.texts:
                digest.update("".join(f"{len(t)}:{t}" for t in texts).encode() + b"\1")
        return digest.hexdigest()[:32]

    def _build(self, docs: Sequence[tuple[str, str]]) -> dict[str, npt.NDArray[Any]]:
        """Tokenise every passage and compute the postings with their BM25 weights."""
        vocabulary: dict[str, int] = {}
        # Flat (term, passage) occurrences; sorting them once gives every posting list.
        terms, passages, parents = array("i"), array("i"), array("i")
        passage = 0
        for entry, (question, answer) in enumerate(docs):
            for tokens in self._passage_tokens(question, answer):
                for token in tokens:
                    terms.append(vocabulary.setdefault(token, len(vocabulary)))
                    passages.append(passage)
                parents.append(entry)
                passage += 1
        parent = np.frombuffer(parents, dtype=np.int32).copy()
        term_ids = np.frombuffer(terms, dtype=np.int32)
        passage_ids = np.frombuffer(passages, dtype=np.int32)
        lengths = np.bincount(passage_ids, minlength=passage).astype(np.float32)
        lengths[lengths == 0] = 1
        avg = float(lengths.mean()) if passage else 1.0
        # Unique (term, passage) pairs with their counts, grouped by term.
        pairs = term_ids.astype(np.int64) * max(passage, 1) + passage_ids
        pairs, tf = np.unique(pairs, return_counts=True)
        pair_terms = (pairs // max(passage, 1)).astype(np.int32)
        pair_passages = (pairs % max(passage, 1)).astype(np.int32)
        # Rarity is judged over entries, so a word repeated across one long answer stays rare.
        entry_pairs = np.unique(pair_terms.astype(np.int64) * max(self.size, 1) + parent[pair_passages])
        entry_df = np.bincount((entry_pairs // max(self.size, 1)).astype(np.int64), minlength=len(vocabulary))
        idf = np.log(1 + (self.size - entry_df + 0.5) / (entry_df + 0.5))
        tf_f = tf.astype(np.float32)
        k1, b = self.settings.k1, self.settings.b
        weights = (idf[pair_terms] * tf_f * (k1 + 1) / (tf_f + k1 * (1 - b + b * lengths[pair_passages] / avg)))
        names = sorted(vocabulary, key=vocabulary.__getitem__)
        return {
            "names": np.frombuffer("\n".join(names).encode(), dtype=np.uint8),
            "bounds": np.searchsorted(pair_terms, np.arange(len(vocabulary) + 1)),
            "postings": pair_passages,
            "weights": weights.astype(np.float32),
            "idf": idf,
            "parent": parent,
            "shape": np.array([self.size, passage, len(names)], dtype=np.int64),
        }

    def _install(self, arrays: dict[str, npt.NDArray[Any]]) -> None:
        _, passage, _ = (int(v) for v in arrays["shape"])
        text = arrays["names"].tobytes().decode()
        names = text.split("\n") if text else []
        bounds, postings, weights, idf = arrays["bounds"], arrays["postings"], arrays["weights"], arrays["idf"]
        self._parent: IntArray = arrays["parent"]
        # Where each entry's passages start (and, at [size], where the last one's end).
        self._first: IntArray = np.searchsorted(self._parent, np.arange(self.size + 1)).astype(np.int32)
        self.passages = passage
        self._ids: dict[str, IntArray] = {}
        self._weights: dict[str, FloatArray] = {}
        self._idf: dict[str, float] = {}
        for term_id, term in enumerate(names):
            lo, hi = bounds[term_id], bounds[term_id + 1]
            self._ids[term] = postings[lo:hi]
            self._weights[term] = weights[lo:hi]
            self._idf[term] = float(idf[term_id])
        self.max_idf = math.log(1 + (self.size + 0.5) / 0.5)
        self._latin = sorted(t for t in self._ids if not has_cjk(t) and len(t) >= 3)
        self._sounds: TermSounds | None = None
        # Scratch arrays over passages and entries (see `search`): allocated once, so a query
        # writes only the slots it touches; the lock keeps concurrent queries apart.
        self._passage_bm25: FloatArray = np.zeros(max(passage, 1), dtype=np.float32)
        self._entry_bm25: FloatArray = np.zeros(max(self.size, 1), dtype=np.float32)
        self._entry_mark = np.zeros(max(self.size, 1), dtype=bool)
        self._slots_lock = threading.Lock()

    def _passage_tokens(self, question: str, answer: str) -> list[list[str]]:
        """Tokens of the question, then of each window of `window` sentences (each sentence cut once).

        A document with no answer (the pooled alternate questions, a speaker's role) is one passage.
        """
        if not answer:
            return [self._doc_tokens(question)]
        sentences = [self._doc_tokens(s) for s in _SENTENCE.findall(answer) if s.strip()] or [self._doc_tokens(answer)]
        windows = [
            [t for sentence in sentences[i : i + self.settings.window] for t in sentence]
            for i in range(max(1, len(sentences) - self.settings.window + 1))
        ]
        return [self._doc_tokens(question), *windows]

    def _doc_tokens(self, folded: str) -> list[str]:
        return [index_term(t) for t in self.tokenizer.search_words(folded) if t not in self.stopwords]

    def window(self, entry: int, passage: int) -> tuple[int, int] | None:
        """Which sentences of the entry's answer a passage is: (first, past last), or None when
        it is the question (or the whole of a one-passage field)."""
        local = int(passage) - int(self._first[entry])
        if passage < 0 or local <= 0:
            return None
        return local - 1, local - 1 + self.settings.window

    def __contains__(self, term: str) -> bool:
        return term in self._ids

    def concept_weight(self, concept: Concept) -> float:
        """How much a concept counts toward coverage: the idf of the word, or of its best form.

        A Chinese word no entry uses weighs the most (it is what the question is about, and
        nobody spoke of it); an unknown English word weighs `unknown_latin_share` of that, as it
        is more often a word the glossary lacks than a topic.
        """
        if concept.text in self._idf:  # the user's own word, not its rarest synonym
            return self._idf[concept.text]
        known = [self._idf[f.term] for f in concept.forms if f.term in self._idf]
        if known:
            return max(known)
        return self.max_idf if has_cjk(concept.text) else self.max_idf * self.settings.unknown_latin_share



    def _terms_of(self, concept: Concept) -> tuple[float, float, tuple[_Form, ...], tuple[float, ...] | None, bool]:
        """A concept's weight and specificity; its forms this index holds (passages, BM25, the
        coverage credit of a hit on it: no more than the term's own rarity); the forms' weights,
        None when all are 1 (their BM25 is then the lists themselves: a weighted copy is made per
        query, not kept); and whether every form's weight is positive."""
        weight = self.concept_weight(concept)
        held = [f for f in concept.forms if f.term in self._ids]
        forms = tuple((self._ids[f.term], self._weights[f.term], np.float32(f.weight * min(self._idf[f.term], weight)))
                      for f in held)
        scales = None if all(f.weight == 1.0 for f in held) else tuple(f.weight for f in held)
        return weight, self.tokenizer.specificity(concept.text), forms, scales, all(f.weight > 0 for f in held)

    def _postings(self, concept: Concept, ceiling: float) -> tuple[IntArray, FloatArray, FloatArray]:
        """Passages where any form of the concept occurs, with the best BM25 and coverage credit.

        A hit through a common synonym earns no more coverage than that synonym's own rarity:
        `大语言模型` found as `大模型` counts as much as `大模型` does, not as the rare word.
        """
        parts = [
            (self._ids[f.term], f.weight * self._weights[f.term], f.weight * min(self._idf[f.term], ceiling))
            for f in concept.forms
            if f.term in self._ids
        ]
        if not parts:
            empty = np.empty(0, dtype=np.float32)
            return np.empty(0, dtype=np.int32), empty, empty
        if len(parts) == 1:
            only_ids, only_bm25, only_credit = parts[0]
            return only_ids, only_bm25.astype(np.float32), np.full(len(only_ids), only_credit, dtype=np.float32)
        ids = np.concatenate([p[0] for p in parts])
        bm25 = np.concatenate([p[1] for p in parts]).astype(np.float32)
        credit = np.concatenate([np.full(len(p[0]), p[2], dtype=np.float32) for p in parts])
        order = np.lexsort((-credit, ids))
        ids, bm25, credit = ids[order], bm25[order], credit[order]
        first = np.concatenate(([True], ids[1:] != ids[:-1]))
        best_bm25 = np.maximum.reduceat(bm25, np.flatnonzero(first))
        return ids[first], best_bm25.astype(np.float32), credit[first]

    def search(self, concepts: Sequence[Concept]) -> Hits:
        """BM25 of the passages that share a term with the query, and each entry's best.

        Cost grows with the postings the query's terms touch: each concept adds its postings'
        weights into a scratch array over the passages (one gather-add-scatter per form, in the
        query's order and in float32, as a dense pass over every passage would, so the figures are
        the same to the bit; a concept with several forms adds its best form's BM25 per passage);
        each entry's best passage is a maximum into a scratch array over the entries; only the
        touched slots are read and zeroed again. The coverage figures come later, for the
        candidates only (`Hits.focus`).
        """
        postings: list[_Posting] = []
        imports: list[float] = []
        total = total_specific = 0.0
        # Every posting's BM25 is positive (idf > 0); with every form's weight positive too, a
        # touched passage or entry holds a positive sum, so the nonzero slots are the touched ones.
        positive = True
        for concept in concepts:
            weight, specificity, forms, scales, positive_forms = self._concept_terms(concept)
            if scales is not None:  # a form's BM25 times its weight (times 1.0 is the list itself, to the bit)
                forms = tuple((ids, weights if w == 1.0 else w * weights, credit)
                              for (ids, weights, credit), w in zip(forms, scales, strict=True))
            positive = positive and positive_forms
            total += weight
            total_specific += weight * specificity
            imports.append(weight * specificity)
            postings.append(_Posting(forms, np.float32(specificity), concept.entity))
        importance = np.array(imports, dtype=np.float32)
        lists = [ids for p in postings for ids, _, _ in p.forms]
        # With repeats; as native indices (numpy converts int32 ones at every gather and scatter).
        touched = np.concatenate(lists, dtype=np.intp) if lists else _NONE.astype(np.intp)
        with self._slots_lock:
            # BM25 per passage, added up in scratch arrays over all passages and entries (written
            # and read back at the touched ones only, and zeroed again after). `ufunc.at` and
            # `take` rather than fancy indexing: the same float32 operations, a third of the time.
            p_bm25 = self._passage_bm25
            for p in postings:
                if len(p.forms) == 1:
                    ids, weights, _ = p.forms[0]
                    np.add.at(p_bm25, ids, weights)  # a form's passages are distinct
                elif p.forms:
                    # old + the best form's BM25: each form's sum read before any is written,
                    # then the largest kept (rounding is monotonic: the same float32 as adding the
                    # best form's value; a sum is never below the old value).
                    sums = [p_bm25.take(ids) + weights for ids, weights, _ in p.forms]
                    for n, (ids, _, _) in enumerate(p.forms):
                        if n == 0:
                            p_bm25[ids] = sums[n]
                        else:
                            np.maximum.at(p_bm25, ids, sums[n])
            if self.passages == self.size:  # one passage per entry (alternates, context)
                entries = self._touched(touched, p_bm25 if positive else None)
                bm25 = p_bm25.take(entries)
            else:  # each entry's best passage
                parents = self._parent.take(touched)
                e_bm25 = self._entry_bm25
                np.maximum.at(e_bm25, parents, p_bm25.take(touched))
                entries = self._touched(parents, e_bm25 if positive else None)
                bm25 = e_bm25.take(entries)
                e_bm25[entries] = 0
            p_bm25[touched] = 0
        return Hits(self, postings, entries, bm25, importance, total, total_specific, positive=positive)

    def add_up(self, parts: Sequence[tuple[IntArray, FloatArray]],
               positive: bool = False) -> tuple[IntArray, FloatArray]:
        """See `Hits.add_up`: summed in the scratch array over entries (each part's entries distinct;
        `positive`: every value is positive, so the touched slots are the nonzero ones)."""
        with self._slots_lock:
            total = self._entry_bm25
            for keys, values in parts:
                np.add.at(total, keys, values)  # each part's keys are distinct
            entries = self._touched(np.concatenate([e for e, _ in parts]), total if positive else None) \
                if parts else _NONE
            out = total.take(entries)
            total[entries] = 0
        return entries, out

    def _touched(self, keys: npt.NDArray[np.integer[Any]], sums: FloatArray | None = None) -> IntArray:
        """The distinct values of `keys` (entry numbers, with repeats), ascending: sorted when
        that is cheaper than reading a slot per entry of the corpus; else the nonzero slots of
        `sums` (a scratch array positive exactly at the keys), or marked and read."""
        if len(keys) * max(1.0, math.log2(max(len(keys), 1))) < self.size:
            return sorted_distinct(np.sort(keys)).astype(np.int32, copy=False)
        if sums is not None:
            return np.flatnonzero(sums[: self.size]).astype(np.int32)
        mark = self._entry_mark
        mark[keys] = True
        out = np.flatnonzero(mark).astype(np.int32)
        mark[out] = False
        return out

    # Spelling help: only for words no entry uses.

    def latin_near(self, word: str) -> str | None:
        """`chatgtp` -> `chatgpt`, `ncp` -> `npc`: one edit (transpositions count as one)."""
        if len(word) < 3 or not self._latin:
            return None
        limit = 1 if len(word) < 7 else 2
        best = process.extractOne(word, self._latin, scorer=OSA.distance, score_cutoff=limit)
        return str(best[0]) if best else None

    def homophones(self, word: str) -> list[str]:
        """`算利` -> `算力`, `开元` -> `开源`: index terms that sound the same (pinyin, no tones)."""
        if self._sounds is None:
            self._sounds = TermSounds((t for t in self._ids if len(t) >= 2 and has_cjk(t)), self._sounds_at)
        return self._sounds.like(word)


def contains(sorted_keys: IntArray, values: IntArray) -> npt.NDArray[np.bool_]:
    """Per value, whether it is in a sorted array: a binary search per value, unlike `np.isin`,
    which sorts or tabulates the whole of both."""
    if not len(sorted_keys):
        return np.zeros(len(values), dtype=bool)
    slots = np.minimum(np.searchsorted(sorted_keys, values), len(sorted_keys) - 1)
    return np.asarray(sorted_keys[slots] == values)


def sorted_distinct(sorted_keys: IntArray) -> IntArray:
    """A sorted array without its repeats (np.unique hashes: slower on long runs of postings)."""
    if not len(sorted_keys):
        return sorted_keys
    return sorted_keys[np.concatenate(([True], sorted_keys[1:] != sorted_keys[:-1]))]


def _groups(sorted_keys: IntArray) -> tuple[IntArray, IntArray]:
    """Distinct values of a sorted array and where each run starts."""
    if not len(sorted_keys):
        return sorted_keys, sorted_keys
    starts = np.flatnonzero(np.concatenate(([True], sorted_keys[1:] != sorted_keys[:-1])))
    return sorted_keys[starts], starts.astype(np.int32)


def _read_arrays(path: Path) -> dict[str, npt.NDArray[Any]] | None:
    """A cached index's arrays, or None when the file is truncated, corrupt or inconsistent
    (zip checks each member's CRC as it is read)."""
    try:
        with np.load(path, allow_pickle=False) as data:
            arrays = {name: data[name] for name in _ARRAYS}
        size, passage, terms = (int(v) for v in arrays["shape"])
        text = arrays["names"].tobytes().decode()
        consistent = (
            len(text.split("\n") if text else []) == terms and len(arrays["bounds"]) == terms + 1
            and len(arrays["idf"]) == terms and len(arrays["parent"]) == passage
            and len(arrays["postings"]) == len(arrays["weights"]) == int(arrays["bounds"][-1])
            and arrays["weights"].dtype == np.float32 and arrays["postings"].dtype == np.int32
            and arrays["parent"].dtype == np.int32
            and (not passage or int(arrays["parent"][-1]) < size)
        )
    except (OSError, ValueError, KeyError, EOFError, UnicodeDecodeError, zipfile.BadZipFile):
        return None
    return arrays if consistent else None


def _write_arrays(path: Path, arrays: dict[str, npt.NDArray[Any]]) -> None:
    """Written whole to a temporary file, then renamed: a reader sees the old file or the new one.
    A directory that cannot be written costs only the warning (the index serves from memory)."""
    try:
        write_cache_file(path, lambda out: np.savez(out, allow_pickle=False, **arrays), "index-*.npz")
    except OSError as exc:
        _log.warning("index cache not written (%s): serving from memory", exc)


def release_build_memory() -> None:
    """Hand the build's scratch buffers back to the OS (glibc keeps freed arenas otherwise), so
    a serving process's RSS is its index, not the peak of building it."""
    gc.collect()
    with contextlib.suppress(OSError, AttributeError):  # not glibc: nothing to do
        ctypes.CDLL("libc.so.6").malloc_trim(0)
