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
import tempfile
import threading
import time
import zipfile
from array import array
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import numpy as np
import numpy.typing as npt
from rapidfuzz import process
from rapidfuzz.distance import OSA

import bot.english
import bot.text
from bot.english import term as index_term
from bot.matching.settings import IndexSettings
from bot.text import Tokenizer, has_cjk

FloatArray = npt.NDArray[np.float32]
IntArray = npt.NDArray[np.int32]
_Value = TypeVar("_Value", bound=np.generic)

_NONE: IntArray = np.empty(0, dtype=np.int32)
_log = logging.getLogger(__name__)
_UNUSED_FOR = 30 * 24 * 3600  # seconds
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


@dataclass(frozen=True)
class Hits:
    """What one field's search found, for the entries that share a term with the query only.

    Per-entry arrays are aligned with `entries` (sorted entry numbers); an entry not in it scored
    nothing: `take` reads a value for any entries, 0 (or a given default) where there is none.
    """

    entries: IntArray  # the entries any concept hit, ascending
    bm25: FloatArray  # best passage BM25
    passage_coverage: FloatArray  # best passage coverage
    passage_concepts: FloatArray  # how many concepts the best-covering passage holds
    passage_topical: FloatArray  # how many of them are not mere names (entities)
    entry_coverage: FloatArray  # whole-entry coverage
    matched: list[IntArray]  # per concept: the entries where it hit, ascending (for explaining why)
    # Coverage again, each concept weighted also by how rare it is in everyday Chinese
    # (Tokenizer.specificity): 怎么办/不够/用 count for little, 芯片/算力 for much.
    specific_coverage: FloatArray
    entry_specific_coverage: FloatArray
    # Per concept: its weight times its specificity, i.e. how much it says about what is asked.
    concept_import: FloatArray
    best_passage: IntArray  # per entry: the passage (global number) with the highest coverage
    total_weight: float  # sum of the query's concept weights: BM25 divided by it is comparable across queries
    max_weight: float  # the largest weight any concept can have in this index (a word no entry uses)
    k1: float  # BM25's saturation constant: the most one term can score is idf x (k1 + 1)

    def take(self, values: npt.NDArray[_Value], wanted: IntArray, missing: float = 0) -> npt.NDArray[_Value]:
        """`values` (one of the per-entry arrays) for the `wanted` entries, `missing` where none."""
        out = np.full(len(wanted), missing, dtype=values.dtype)
        if len(self.entries) and len(wanted):
            slots = np.minimum(np.searchsorted(self.entries, wanted), len(self.entries) - 1)
            found = self.entries[slots] == wanted
            out[found] = values[slots[found]]
        return out

    def has(self, concept: int, entry: int) -> bool:
        """Whether the query's concept number `concept` hit the entry."""
        return bool(contains(self.matched[concept], np.array([entry], dtype=np.int32))[0])

    def passage_of(self, entry: int) -> int:
        """The entry's best-covering passage (global number), -1 when the query touched none."""
        return int(self.take(self.best_passage, np.array([entry], dtype=np.int32), missing=-1)[0])


class Index:
    """BM25 over passages of folded text; an entry is as good as its best passage."""

    def __init__(self, docs: Docs | Callable[[], Docs], tokenizer: Tokenizer, stopwords: frozenset[str],
                 settings: IndexSettings | None = None, cache_dir: Path | None = None,
                 source: Source | None = None) -> None:
        """`docs`: (folded question, folded answer) per entry, in entry order; or, with `source`,
        a function that makes them, called only when the index is built (see `Source`).

        With `cache_dir`, the built arrays are kept there under a hash of everything they are
        made from (the texts, the tokenizer, the stopwords, the settings, this code) and loaded
        instead of rebuilt while that hash holds; a damaged file is rebuilt, never trusted.
        """
        if callable(docs) and source is None:
            raise ValueError("documents made on demand need their source")
        self.settings = settings or IndexSettings()
        self.tokenizer = tokenizer
        self.stopwords = stopwords
        self.size = len(source.texts) if source is not None else len(docs)  # type: ignore[arg-type]
        self.loaded_from: Path | None = None  # the cache file this index came from, if any
        arrays = None
        path = cache_dir / f"index-{self._key(docs, source)}.npz" if cache_dir is not None else None
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
        size, passage, _ = (int(v) for v in arrays["shape"])
        text = arrays["names"].tobytes().decode()
        names = text.split("\n") if text else []
        bounds, postings, weights, idf = arrays["bounds"], arrays["postings"], arrays["weights"], arrays["idf"]
        self._parent: IntArray = arrays["parent"]
        self._first: IntArray = np.searchsorted(self._parent, np.arange(self.size)).astype(np.int32)
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
        self._pinyin: dict[str, list[str]] | None = None
        # Scratch maps from passage and entry numbers to a query's slots (see `search`): allocated
        # once, so a query writes only the slots it touches; the lock keeps concurrent queries apart.
        self._passage_slot: IntArray = np.zeros(max(passage, 1), dtype=np.int32)
        self._entry_slot: IntArray = np.zeros(max(size, 1), dtype=np.int32)
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
        """Score only the passages that share a term with the query, then keep each entry's best.

        Cost grows with the postings the query's terms touch, not with the corpus: the touched
        passages are their postings sorted and deduplicated; each concept adds into arrays over
        those passages alone, in the same order and float32 precision as a pass over every passage
        would, so the figures are the same to the bit. Posting lists are sorted by passage and
        passages by entry, so grouping by entry is a neighbour comparison (`_groups`).
        """
        importance = np.zeros(len(concepts), dtype=np.float32)
        postings: list[tuple[IntArray, FloatArray, FloatArray, np.float32, bool, bool]] = []
        total = total_specific = 0.0
        for n, concept in enumerate(concepts):
            weight = self.concept_weight(concept)
            specificity = self.tokenizer.specificity(concept.text)
            total += weight
            total_specific += weight * specificity
            importance[n] = weight * specificity
            ids, weights, credit = self._postings(concept, weight)
            uniform = sum(f.term in self._ids for f in concept.forms) <= 1
            postings.append((ids, weights, credit, np.float32(specificity), concept.entity, uniform))
        hit = sorted_distinct(np.sort(np.concatenate([p[0] for p in postings]))) if postings else _NONE
        entries, starts = _groups(self._parent[hit])
        # Per touched passage: BM25, coverage, concepts held, topical concepts held, specific coverage.
        p_bm25, p_cover, p_count, p_topical, p_specific = np.zeros((5, len(hit)), dtype=np.float32)
        e_cover = np.zeros(len(entries), dtype=np.float32)
        e_specific = np.zeros(len(entries), dtype=np.float32)
        matched: list[IntArray] = []
        with self._slots_lock:
            # Where each touched passage (and entry) sits in the arrays above: written for the
            # touched ones only, read back per concept (a gather, not a search).
            self._passage_slot[hit] = np.arange(len(hit), dtype=np.int32)
            self._entry_slot[entries] = np.arange(len(entries), dtype=np.int32)
            for ids, weights, credit, rarity, entity, uniform in postings:
                slots = self._passage_slot[ids]
                p_bm25[slots] += weights
                p_cover[slots] += credit
                p_specific[slots] += credit * rarity
                p_count[slots] += 1
                if not entity:
                    p_topical[slots] += 1
                concept_entries, concept_starts = _groups(self._parent[ids])
                if len(concept_entries):
                    # One form: every posting has the same credit, so any one is the entry's best.
                    best_credit = credit[concept_starts] if uniform else np.maximum.reduceat(credit, concept_starts)
                    entry_slots = self._entry_slot[concept_entries]
                    e_cover[entry_slots] += best_credit
                    e_specific[entry_slots] += best_credit * rarity
                matched.append(concept_entries)
        if len(hit):
            stacked = np.stack((p_bm25, p_cover, p_count, p_topical, p_specific))
            bm25, cover, count, topical, specific = np.maximum.reduceat(stacked, starts, axis=1)
            # The passage that covers most of the question, to say which part of a long answer
            # matched: the first of the entry's passages whose coverage is the entry's best.
            at_best = np.flatnonzero(p_cover == np.repeat(cover, np.diff(np.append(starts, len(hit)))))
            best_passage: IntArray = hit[at_best[_groups(self._parent[hit[at_best]])[1]]]
        else:
            bm25, cover, count, topical, specific = np.zeros((5, 0), dtype=np.float32)
            best_passage = _NONE
        if total:
            cover /= np.float32(total)
            e_cover /= np.float32(total)
        if total_specific:
            specific /= np.float32(total_specific)
            e_specific /= np.float32(total_specific)
        return Hits(entries, bm25, cover, count, topical, e_cover, matched, specific, e_specific, importance,
                    best_passage, total, self.max_idf, self.settings.k1)

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
        from pypinyin import lazy_pinyin

        if self._pinyin is None:
            self._pinyin = {}
            for term in self._ids:
                if len(term) >= 2 and has_cjk(term):
                    self._pinyin.setdefault("".join(lazy_pinyin(term)), []).append(term)
        return sorted(self._pinyin.get("".join(lazy_pinyin(word)), []))


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
        fd, temp = tempfile.mkstemp(dir=path.parent, prefix=".index-", suffix=".tmp")
        with os.fdopen(fd, "wb") as out:
            np.savez(out, allow_pickle=False, **arrays)
        os.replace(temp, path)
        # Indexes of corpora nobody loaded for a month go (each edit of the personas leaves one behind).
        for old in path.parent.glob("index-*.npz"):
            with contextlib.suppress(OSError):
                if time.time() - old.stat().st_mtime > _UNUSED_FOR:
                    old.unlink()
    except OSError as exc:
        _log.warning("index cache not written (%s): serving from memory", exc)
        with contextlib.suppress(OSError, UnboundLocalError):
            os.unlink(temp)


def release_build_memory() -> None:
    """Hand the build's scratch buffers back to the OS (glibc keeps freed arenas otherwise), so
    a serving process's RSS is its index, not the peak of building it."""
    gc.collect()
    with contextlib.suppress(OSError, AttributeError):  # not glibc: nothing to do
        ctypes.CDLL("libc.so.6").malloc_trim(0)
