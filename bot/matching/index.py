"""An inverted index with BM25 weights over jieba tokens of passages, scored in numpy batches.

Entries are long (a whole answer can run to 900 characters) while a question is about one
point in them, so the unit of scoring is the passage: the question that was asked, and every
window of two consecutive sentences of the answer. An entry scores as its best passage. Each
term keeps its postings (passage numbers and precomputed BM25 weights), so a query touches only
the passages that share a term with it, in C loops rather than a Python loop per entry.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from rapidfuzz import process
from rapidfuzz.distance import OSA

from bot.text import Tokenizer, has_cjk

K1 = 1.2
B = 0.75
WINDOW = 2  # sentences per answer passage

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


@dataclass(frozen=True)
class Hits:
    """Per entry: best passage BM25, best passage coverage, whole-entry coverage, concept hits."""

    bm25: FloatArray
    passage_coverage: FloatArray
    passage_concepts: FloatArray  # how many concepts the best-covering passage holds
    entry_coverage: FloatArray
    matched: list[IntArray]  # per concept: the entries where it hit (for explaining why)


def passages_of(question: str, answer: str) -> list[str]:
    """The question, then overlapping windows of WINDOW sentences over the answer."""
    sentences = [s for s in _SENTENCE.findall(answer) if s.strip()] or [answer]
    windows = [
        "".join(sentences[i : i + WINDOW]) for i in range(max(1, len(sentences) - WINDOW + 1))
    ]
    return [question, *windows]


class Index:
    """BM25 over passages of folded text; an entry is as good as its best passage."""

    def __init__(self, docs: Sequence[tuple[str, str]], tokenizer: Tokenizer, stopwords: frozenset[str]) -> None:
        """`docs`: (folded question, folded answer) per entry, in entry order."""
        self.tokenizer = tokenizer
        self.stopwords = stopwords
        self.size = len(docs)
        parents: list[int] = []
        counts: list[Counter[str]] = []
        entry_df: Counter[str] = Counter()
        for entry, (question, answer) in enumerate(docs):
            seen: set[str] = set()
            for passage in passages_of(question, answer):
                tokens = self._doc_tokens(passage)
                counts.append(Counter(tokens))
                parents.append(entry)
                seen.update(tokens)
            entry_df.update(seen)
        self._parent: IntArray = np.array(parents, dtype=np.int32)
        self.passages = len(parents)
        lengths = np.array([sum(c.values()) or 1 for c in counts], dtype=np.float32)
        avg = float(lengths.mean()) if len(lengths) else 1.0
        postings: dict[str, list[tuple[int, int]]] = {}
        for passage, counter in enumerate(counts):
            for term, tf in counter.items():
                postings.setdefault(term, []).append((passage, tf))
        self._ids: dict[str, IntArray] = {}
        self._weights: dict[str, FloatArray] = {}
        self._idf: dict[str, float] = {}
        for term, plist in postings.items():
            ids = np.fromiter((p for p, _ in plist), dtype=np.int32, count=len(plist))
            tf = np.fromiter((t for _, t in plist), dtype=np.float32, count=len(plist))
            # Rarity is judged over entries, so a word repeated across one long answer stays rare.
            idf = math.log(1 + (self.size - entry_df[term] + 0.5) / (entry_df[term] + 0.5))
            norm = K1 * (1 - B + B * lengths[ids] / avg)
            self._ids[term] = ids
            self._weights[term] = (idf * tf * (K1 + 1) / (tf + norm)).astype(np.float32)
            self._idf[term] = idf
        self.max_idf = math.log(1 + (self.size + 0.5) / 0.5)
        self._latin = sorted(t for t in self._ids if not has_cjk(t) and len(t) >= 3)
        self._pinyin: dict[str, list[str]] | None = None

    def _doc_tokens(self, folded: str) -> list[str]:
        return [t for t in self.tokenizer.search_words(folded) if t not in self.stopwords]

    def __contains__(self, term: str) -> bool:
        return term in self._ids

    def idf(self, term: str) -> float:
        """Rarer terms say more; a term no entry uses gets the highest weight of all."""
        return self._idf.get(term, self.max_idf)

    def concept_weight(self, concept: Concept) -> float:
        """How much a concept counts toward coverage: the idf of its best known form.

        A Chinese word no entry uses weighs the most (it is what the question is about, and
        nobody spoke of it); an unknown English word weighs half, as it is more often a word
        the glossary lacks than a topic.
        """
        known = [self._idf[f.term] for f in concept.forms if f.term in self._idf]
        if known:
            return max(known)
        return self.max_idf if has_cjk(concept.text) else self.max_idf / 2

    def entry_frequency(self, concept: Concept) -> int:
        """In how many entries the concept (any of its forms) occurs."""
        ids = self._postings(concept)[0]
        return len(np.unique(self._parent[ids]))

    def _postings(self, concept: Concept) -> tuple[IntArray, FloatArray]:
        """Passages where any form of the concept occurs, each with its best weighted BM25."""
        parts = [(self._ids[f.term], f.weight * self._weights[f.term]) for f in concept.forms if f.term in self._ids]
        if not parts:
            return np.empty(0, dtype=np.int32), np.empty(0, dtype=np.float32)
        if len(parts) == 1:
            return parts[0][0], parts[0][1].astype(np.float32)
        ids = np.concatenate([p[0] for p in parts])
        weights = np.concatenate([p[1] for p in parts]).astype(np.float32)
        order = np.lexsort((-weights, ids))
        ids, weights = ids[order], weights[order]
        first = np.concatenate(([True], ids[1:] != ids[:-1]))
        return ids[first], weights[first]

    def search(self, concepts: Sequence[Concept]) -> Hits:
        """Score all passages at once, then keep each entry's best passage."""
        p_bm25 = np.zeros(self.passages, dtype=np.float32)
        p_cover = np.zeros(self.passages, dtype=np.float32)
        p_count = np.zeros(self.passages, dtype=np.float32)
        e_cover = np.zeros(self.size, dtype=np.float32)
        matched: list[IntArray] = []
        total = 0.0
        touched: list[IntArray] = []
        for concept in concepts:
            weight = self.concept_weight(concept)
            total += weight
            ids, weights = self._postings(concept)
            p_bm25[ids] += weights
            p_cover[ids] += np.float32(weight)
            p_count[ids] += 1
            entries = np.unique(self._parent[ids])
            e_cover[entries] += np.float32(weight)
            matched.append(entries)
            touched.append(ids)
        bm25 = np.zeros(self.size, dtype=np.float32)
        cover = np.zeros(self.size, dtype=np.float32)
        count = np.zeros(self.size, dtype=np.float32)
        if touched:
            hit = np.unique(np.concatenate(touched))
            np.maximum.at(bm25, self._parent[hit], p_bm25[hit])
            np.maximum.at(cover, self._parent[hit], p_cover[hit])
            np.maximum.at(count, self._parent[hit], p_count[hit])
        if total:
            cover /= np.float32(total)
            e_cover /= np.float32(total)
        return Hits(bm25, cover, count, e_cover, matched)

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
