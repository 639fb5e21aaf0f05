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
import math
import re
from array import array
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from rapidfuzz import process
from rapidfuzz.distance import OSA

from bot.matching.settings import IndexSettings
from bot.text import Tokenizer, has_cjk

FloatArray = npt.NDArray[np.float32]
IntArray = npt.NDArray[np.int32]

_SENTENCE = re.compile(r"[^。！？!?；;\n]+[。！？!?；;\n]*")


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
    """Per entry: best passage BM25, best passage coverage, whole-entry coverage, concept hits."""

    bm25: FloatArray
    passage_coverage: FloatArray
    passage_concepts: FloatArray  # how many concepts the best-covering passage holds
    passage_topical: FloatArray  # how many of them are not mere names (entities)
    entry_coverage: FloatArray
    matched: list[IntArray]  # per concept: the entries where it hit (for explaining why)
    # Coverage again, each concept weighted also by how rare it is in everyday Chinese
    # (Tokenizer.specificity): 怎么办/不够/用 count for little, 芯片/算力 for much.
    specific_coverage: FloatArray
    entry_specific_coverage: FloatArray
    # Per concept: its weight times its specificity, i.e. how much it says about what is asked.
    concept_import: FloatArray
    best_passage: IntArray  # per entry: the passage (global number) with the highest coverage, -1 if none
    total_weight: float  # sum of the query's concept weights: BM25 divided by it is comparable across queries
    max_weight: float  # the largest weight any concept can have in this index (a word no entry uses)
    k1: float  # BM25's saturation constant: the most one term can score is idf x (k1 + 1)


class Index:
    """BM25 over passages of folded text; an entry is as good as its best passage."""

    def __init__(self, docs: Sequence[tuple[str, str]], tokenizer: Tokenizer, stopwords: frozenset[str],
                 settings: IndexSettings | None = None) -> None:
        """`docs`: (folded question, folded answer) per entry, in entry order."""
        self.settings = settings or IndexSettings()
        self.tokenizer = tokenizer
        self.stopwords = stopwords
        self.size = len(docs)
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
        self._parent: IntArray = np.frombuffer(parents, dtype=np.int32).copy()
        self._first: IntArray = np.searchsorted(self._parent, np.arange(self.size)).astype(np.int32)
        self.passages = passage
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
        entry_pairs = np.unique(pair_terms.astype(np.int64) * max(self.size, 1) + self._parent[pair_passages])
        entry_df = np.bincount((entry_pairs // max(self.size, 1)).astype(np.int64), minlength=len(vocabulary))
        idf = np.log(1 + (self.size - entry_df + 0.5) / (entry_df + 0.5))
        tf_f = tf.astype(np.float32)
        k1, b = self.settings.k1, self.settings.b
        weights = (idf[pair_terms] * tf_f * (k1 + 1) / (tf_f + k1 * (1 - b + b * lengths[pair_passages] / avg)))
        bounds = np.searchsorted(pair_terms, np.arange(len(vocabulary) + 1))
        names = sorted(vocabulary, key=vocabulary.__getitem__)
        self._ids: dict[str, IntArray] = {}
        self._weights: dict[str, FloatArray] = {}
        self._idf: dict[str, float] = {}
        for term_id, term in enumerate(names):
            lo, hi = bounds[term_id], bounds[term_id + 1]
            self._ids[term] = pair_passages[lo:hi]
            self._weights[term] = weights[lo:hi].astype(np.float32)
            self._idf[term] = float(idf[term_id])
        self.max_idf = math.log(1 + (self.size + 0.5) / 0.5)
        self._latin = sorted(t for t in self._ids if not has_cjk(t) and len(t) >= 3)
        self._pinyin: dict[str, list[str]] | None = None

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
        return [t for t in self.tokenizer.search_words(folded) if t not in self.stopwords]

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
        """Score all passages at once, then keep each entry's best passage.

        Posting lists are sorted by passage and passages by entry, so grouping by entry is a
        neighbour comparison (`_groups`), not a sort.
        """
        p_bm25 = np.zeros(self.passages, dtype=np.float32)
        p_cover = np.zeros(self.passages, dtype=np.float32)
        p_count = np.zeros(self.passages, dtype=np.float32)
        p_topical = np.zeros(self.passages, dtype=np.float32)
        p_specific = np.zeros(self.passages, dtype=np.float32)
        e_cover = np.zeros(self.size, dtype=np.float32)
        e_specific = np.zeros(self.size, dtype=np.float32)
        importance = np.zeros(len(concepts), dtype=np.float32)
        matched: list[IntArray] = []
        total = total_specific = 0.0
        touched = np.zeros(self.passages, dtype=bool)
        for n, concept in enumerate(concepts):
            weight = self.concept_weight(concept)
            specificity = self.tokenizer.specificity(concept.text)
            total += weight
            total_specific += weight * specificity
            importance[n] = weight * specificity
            ids, weights, credit = self._postings(concept, weight)
            p_bm25[ids] += weights
            p_cover[ids] += credit
            p_specific[ids] += credit * np.float32(specificity)
            p_count[ids] += 1
            if not concept.entity:
                p_topical[ids] += 1
            entries, starts = _groups(self._parent[ids])
            if len(entries):
                best_credit = np.maximum.reduceat(credit, starts)
                e_cover[entries] += best_credit
                e_specific[entries] += best_credit * np.float32(specificity)
            matched.append(entries)
            touched[ids] = True
        bm25 = np.zeros(self.size, dtype=np.float32)
        cover = np.zeros(self.size, dtype=np.float32)
        count = np.zeros(self.size, dtype=np.float32)
        topical = np.zeros(self.size, dtype=np.float32)
        specific = np.zeros(self.size, dtype=np.float32)
        best_passage = np.full(self.size, -1, dtype=np.int32)
        hit = np.flatnonzero(touched)
        if len(hit):
            entries, starts = _groups(self._parent[hit])
            stacked = np.stack((p_bm25[hit], p_cover[hit], p_count[hit], p_topical[hit], p_specific[hit]))
            best = np.maximum.reduceat(stacked, starts, axis=1)
            bm25[entries], cover[entries], count[entries], topical[entries], specific[entries] = best
            # The passage that covers most of the question, to say which part of a long answer matched.
            order = np.lexsort((-p_cover[hit], self._parent[hit]))
            best_passage[entries] = hit[order][starts]
        if total:
            cover /= np.float32(total)
            e_cover /= np.float32(total)
        if total_specific:
            specific /= np.float32(total_specific)
            e_specific /= np.float32(total_specific)
        return Hits(bm25, cover, count, topical, e_cover, matched, specific, e_specific, importance, best_passage,
                    total, self.max_idf, self.settings.k1)

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


def _groups(sorted_keys: IntArray) -> tuple[IntArray, IntArray]:
    """Distinct values of a sorted array and where each run starts."""
    if not len(sorted_keys):
        return sorted_keys, sorted_keys
    starts = np.flatnonzero(np.concatenate(([True], sorted_keys[1:] != sorted_keys[:-1])))
    return sorted_keys[starts], starts.astype(np.int32)


def release_build_memory() -> None:
    """Hand the build's scratch buffers back to the OS (glibc keeps freed arenas otherwise), so
    a serving process's RSS is its index, not the peak of building it."""
    gc.collect()
    with contextlib.suppress(OSError, AttributeError):  # not glibc: nothing to do
        ctypes.CDLL("libc.so.6").malloc_trim(0)
