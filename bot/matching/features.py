"""One feature vector per candidate entry: everything the scoring model may weigh, and nothing else.

Candidates come from a cheap first stage (BM25 over the answer passages plus the pooled
alternate questions); only they get the costlier measures here, each computed for all of them
in one batch (rapidfuzz `cdist`, numpy), never in a Python loop over the corpus. Every column
is scaled to about 0-1 so the fitted weights read as "how much this counts".
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
from rapidfuzz import fuzz, process

from bot.matching.index import Hits, IntArray
from bot.matching.normalize import Query

FloatMatrix = npt.NDArray[np.float64]

# Measures also given as a lead over the best *other* candidate (positive only for the leader):
# whether an entry is right depends on how it compares with the rest, not only on its own value.
_LEADS = ("answer_bm25", "alternates_bm25", "passage_coverage", "alternates_coverage", "alternate_similarity",
          "char_bigrams")

# Measures of the entry's alternate questions and of its near misses: unknown for an entry that has none.
_FROM_ALTERNATES = ("alternates_bm25", "alternates_coverage", "alternate_similarity")
_FROM_NEAR_MISSES = ("near_miss_similarity", "near_miss_coverage")

# The columns, in order. The weights file names them too, so a model fitted on other
# columns is refused at load time rather than silently misread.
NAMES: tuple[str, ...] = (
    "answer_bm25",  # BM25 of the best passage (question or 2-sentence window), / the query's maximum
    "passage_coverage",  # IDF-weighted share of the query's words in the best passage
    "specific_coverage",  # the same, each word also weighted by its rarity in everyday Chinese
    "entry_coverage",  # share of the query's words anywhere in the entry
    "entry_specific_coverage",  # the same, weighted also by rarity in everyday Chinese
    "missing_import",  # the most telling word of the query that is nowhere in the entry or its alternates:
    # its weight x specificity, / the largest possible weight (0 when every word is found)
    "unknown_share",  # share of the query's import carried by words no entry or alternate uses at all:
    # what nobody here spoke of (the same for every candidate, so it weighs against the null option)
    "key_word_missing",  # the query's most telling word (weight x specificity; names only when there is
    # nothing else) is nowhere in the entry or its alternates
    "concept_share",  # share of the query's words (unweighted) in the best passage
    "topical_missing",  # the query asks about more than names, and the passage holds only names
    "alternates_bm25",  # BM25 against the entry's pooled alternate questions, / the query's maximum
    "alternates_coverage",  # IDF-weighted share of the query's words among the alternates
    "question_similarity",  # rapidfuzz partial ratio with the question the interviewer asked
    "alternate_similarity",  # best rapidfuzz ratio with one alternate question
    "answer_literal",  # rapidfuzz partial ratio with the answer: a phrase quoted back
    "char_bigrams",  # share of the query's Chinese character pairs (as typed) found in the entry's texts
    "topic_hit",  # the entry carries a topic the query's words belong to
    "unique_hit",  # a specific word of the query that only this entry uses
    "context_coverage",  # share of the query's words in the entry's context: the speaker's role, the outlet,
    # the kind of source, its opening or closing (「华为那位嘉宾」, 「演讲开头」)
    "named_expert",  # the query names this entry's expert
    "named_with_others",  # ... and other experts too (a comparison's side: asked for, usually answered)
    "query_words",  # how many words the query has, log-scaled: short queries need a closer match
    "number_missing",  # the query asks for a figure or a date (cues.yaml) and the answer gives none
    "near_miss_similarity",  # best rapidfuzz ratio with one of the entry's near misses (questions it does not answer)
    "near_miss_coverage",  # best import-weighted share of the query's words held by one near miss
    *(f"{name}_lead" for name in _LEADS),
)

_COLUMN = {name: i for i, name in enumerate(NAMES)}
_ANSWER_COVERAGE = [_COLUMN[name] for name in ("passage_coverage", "specific_coverage", "entry_coverage",
                                                "entry_specific_coverage")]
_LEAD_FROM = [_COLUMN[name] for name in _LEADS]
_LEAD_OF = [_COLUMN[f"{name}_lead"] for name in _LEADS]


@dataclass(frozen=True)
class Texts:
    """The folded texts of one entry that the features compare the query with."""

    question: str
    answer: str
    alternates: tuple[str, ...]
    topics: frozenset[str]
    near_misses: tuple[str, ...] = ()  # questions sharing its words that it does not answer
    pairs: frozenset[str] | None = None  # `compared`'s character pairs, where kept (see `Engine._decode_texts`)

    def compared(self) -> str:
        """The texts `char_bigrams` looks in: the question, the answer and the alternates."""
        return " ".join((self.question, self.answer, *self.alternates))

    @property
    def has_number(self) -> bool:
        """The answer gives a figure or a date (`has_number`): read only for a query that asks for
        one, so most queries do not scan their candidates' answers for it."""
        return has_number(self.answer)


@dataclass(frozen=True)
class Retrieved:
    """First-stage results for one query: BM25 and coverage over each field."""

    answers: Hits
    alternates: Hits
    context: Hits


def first_stage(found: Retrieved) -> tuple[IntArray, npt.NDArray[np.float32]]:
    """The cheap score that picks candidates: normalised BM25 over answers, alternates and context.

    Only for the entries some field touched (ascending; every other entry scores 0).
    """
    fields = (found.answers, found.alternates, found.context)
    return found.answers.add_up([(f.entries, f.bm25 / _top(f)) for f in fields], all(f.positive for f in fields))


def _top(hits: Hits) -> np.float32:
    """The most BM25 the query could score in this field: its concepts' weights x (k1 + 1)."""
    return np.float32(max(hits.total_weight, 1e-9) * (hits.k1 + 1))


def _norm_bm25(hits: Hits, entries: IntArray) -> npt.NDArray[np.float32]:
    return hits.take(hits.bm25, entries) / _top(hits)


def build(query: Query, candidates: IntArray, found: Retrieved, texts: Callable[[int], Texts],
          named: Sequence[bool], common: Sequence[bool]) -> FloatMatrix:
    """The feature matrix, one row per candidate (in `candidates` order).

    `named[i]`: the query names candidate i's expert. `common[j]`: concept j is an everyday word
    (so a hit on it alone does not single an entry out).
    """
    return with_leads(own(query, candidates, found, texts, named, common))


def with_leads(x: FloatMatrix) -> FloatMatrix:
    """Rows of `own` (one per candidate of a pool) with their lead columns filled in, in place:
    the leads are the only columns that depend on which other candidates are in the pool."""
    if len(x):
        x[:, _LEAD_OF] = _leads(x[:, _LEAD_FROM])
    return x


def own(query: Query, candidates: IntArray, found: Retrieved, texts: Callable[[int], Texts],
        named: Sequence[bool], common: Sequence[bool]) -> FloatMatrix:
    """Every column but the leads (left 0): each row depends on its own entry and the query only,
    never on the other candidates, so one query's rows can be computed once and shared by pools
    (an expert's own candidates in a comparison). `found` must cover the candidates (`focus`)."""
    a, alt, context = found.answers, found.alternates, found.context
    n = len(candidates)
    x = np.zeros((n, len(NAMES)), dtype=np.float64)
    if not n:
        return x
    col = _COLUMN
    answers = a.take_rows([a.bm25, a.passage_coverage, a.specific_coverage, a.entry_coverage,
                           a.entry_specific_coverage, a.passage_concepts, a.passage_topical], candidates)
    x[:, col["answer_bm25"]] = answers[0] / _top(a)
    x[:, _ANSWER_COVERAGE] = answers[1:5].T
    if len(a.concept_import):
        found_in = a.concepts_in(candidates) | alt.concepts_in(candidates)  # per concept, per candidate
        missing = np.where(found_in, 0.0, a.concept_import[:, None])
        x[:, col["missing_import"]] = missing.max(axis=0) / max(a.max_weight, 1e-9)
        unknown = [not a.known(j) and not alt.known(j) for j in range(len(query.concepts))]
        x[:, col["unknown_share"]] = float(a.concept_import[unknown].sum() / max(a.concept_import.sum(), 1e-9))
        # Names say who, not what: the key word is the most telling one that is not a name.
        topical = np.array([not c.entity for c in query.concepts])
        key = int(np.argmax(np.where(topical, a.concept_import, -1) if topical.any() else a.concept_import))
        x[:, col["key_word_missing"]] = ~found_in[key]
    concepts = max(len(query.concepts), 1)
    x[:, col["concept_share"]] = answers[5] / concepts
    asks_topic = any(not c.entity for c in query.concepts)
    x[:, col["topical_missing"]] = asks_topic & (answers[6] == 0)
    alternates = alt.take_rows([alt.bm25, alt.passage_coverage], candidates)
    x[:, col["alternates_bm25"]] = alternates[0] / _top(alt)
    x[:, col["alternates_coverage"]] = alternates[1]
    x[:, col["context_coverage"]] = context.take_rows([context.passage_coverage], candidates)[0]
    said = query.remainder.strip()
    rows = [texts(int(i)) for i in candidates]
    if said:
        # The asked question and the answer in one batch (each pair is scored on its own).
        partial = process.cdist([said], [t.question for t in rows] + [t.answer for t in rows],
                                scorer=fuzz.partial_ratio, workers=1)[0]
        x[:, col["question_similarity"]] = partial[:n] / 100
        x[:, col["answer_literal"]] = partial[n:] / 100
        alternate, near_miss = _best_of(said, [t.alternates for t in rows], [t.near_misses for t in rows])
        x[:, col["alternate_similarity"]] = alternate
        x[:, col["near_miss_similarity"]] = near_miss
        x[:, col["char_bigrams"]] = _bigram_share(query.said, rows)
    asked = set(query.topics)
    x[:, col["topic_hit"]] = [bool(t.topics & asked) for t in rows]
    x[:, col["unique_hit"]] = _unique_hits(candidates, a, common)
    x[:, col["named_expert"]] = named
    x[:, col["named_with_others"]] = np.asarray(named, dtype=bool) & (len(query.personas) >= 2)
    x[:, col["query_words"]] = np.log1p(len(query.concepts)) / np.log1p(10)
    x[:, col["number_missing"]] = [query.asks_number and not t.has_number for t in rows]
    x[:, col["near_miss_coverage"]] = _single_coverage(query, a.concept_import, [t.near_misses for t in rows])
    # An entry nobody has written alternates or near misses for (a newly added source) is not a
    # worse match for it: those measures are unknown (NaN), which the model reads as average.
    for columns, written in ((_FROM_ALTERNATES, [bool(t.alternates) for t in rows]),
                             (_FROM_NEAR_MISSES, [bool(t.near_misses) for t in rows])):
        bare = np.flatnonzero(~np.array(written))
        if len(bare):
            x[bare[:, None], np.array([col[name] for name in columns], dtype=np.intp)] = np.nan
    return x


def _leads(values: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    """`_lead` of each column, the columns with two known values or more at once."""
    unknown = np.isnan(values)
    known = len(values) - unknown.sum(axis=0)
    top = np.sort(np.where(unknown, -np.inf, values), axis=0)  # ascending: the best two last
    out = np.empty_like(values)
    if len(values) >= 2:
        first, second = top[-1], top[-2]
        out[:] = values - np.where(values >= first, second, first)
    # A column with no known value comes out unknown from the above (as `_lead` has it); one with
    # a single known value, or a single candidate, takes `_lead`'s own rule.
    for c in np.flatnonzero((known == 1) | (len(values) == 1)):
        out[:, c] = _lead(values[:, c])
    return out


def _lead(values: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    """Each value minus the best value among the other candidates (unknown values, NaN, are
    left out, and have an unknown lead)."""
    known = np.sort(values[~np.isnan(values)])[::-1]
    if len(values) == 1 or len(known) < 2:
        return values.copy() if len(known) == len(values) else np.where(np.isnan(values), np.nan, 0.0)
    first, second = known[:2]
    return np.asarray(values - np.where(values >= first, second, first), dtype=np.float64)


def _single_coverage(query: Query, weights: npt.NDArray[np.floating[Any]],
                     groups: Sequence[tuple[str, ...]]) -> list[float]:
    """Per candidate, the best share of the query's import that one question of its group holds (a
    concept counts when any of its forms is in that question's folded text)."""
    total = float(weights.sum()) if len(weights) else 0.0
    if total <= 0:
        return [0.0] * len(groups)
    forms = [(tuple(f.term for f in c.forms) or (c.text,), float(w))
             for c, w in zip(query.concepts, weights, strict=True)]
    out = []
    for group in groups:  # plain loops: about 100 short texts a query, where generators cost more than the work
        best = 0.0
        for question in group:
            held = 0.0
            for terms, w in forms:
                for term in terms:
                    if term in question:
                        held += w
                        break
            best = max(best, held)
        out.append(best / total)
    return out


def _best_of(said: str, *groupings: Sequence[tuple[str, ...]]) -> list[npt.NDArray[np.float64]]:
    """Per grouping, per group of texts, the best rapidfuzz ratio of `said` with one of them (one
    cdist over all the groupings' texts: each pair is scored on its own)."""
    groups = [group for grouping in groupings for group in grouping]
    flat = [q for group in groups for q in group]
    out = np.zeros(len(groups), dtype=np.float64)
    if flat:
        scores = process.cdist([said], flat, scorer=fuzz.ratio, workers=1)[0] / 100
        counts = np.array([len(group) for group in groups])
        has = counts > 0
        starts = np.concatenate(([0], np.cumsum(counts)[:-1]))[has]
        out[has] = np.maximum.reduceat(scores, starts)
    bounds = np.cumsum([len(grouping) for grouping in groupings])[:-1]
    return np.split(out, bounds)


# A figure: digits, or Chinese numerals with a magnitude, a unit of time or money (一万张, 三年, 六七个亿).
_NUMBER = re.compile(r"\d|[一二两三四五六七八九十百千万]+个?(?:亿|万|千|百|年|月|天|倍|元|张|岁|%)")


def has_number(text: str) -> bool:
    return bool(_NUMBER.search(text))


_CJK_RUN = re.compile(r"[\u3400-\u9fff]{2,}")  # the characters `has_cjk` finds, two or more in a row


def bigrams(text: str) -> frozenset[str]:
    """Pairs of adjacent Chinese characters: every pair inside each run of them (one regex scan,
    not a test per character)."""
    return frozenset(run[i : i + 2] for run in _CJK_RUN.findall(text) for i in range(len(run) - 1))


def _bigram_share(said: str, rows: Sequence[Texts]) -> list[float]:
    """Per candidate, the share of the query's character pairs that are pairs of its question,
    answer or alternates. A pair of two Chinese characters is one of a text's pairs exactly when it
    is a substring of it (and white space joins the texts, so none spans two): a few substring
    tests, not a set of the candidate's every pair (hundreds for a long answer) per query, unless
    the candidate's set is kept (`Texts.pairs`)."""
    wanted = bigrams(said)
    if not wanted:
        return [0.0] * len(rows)
    out = []
    for t in rows:
        if t.pairs is not None:
            out.append(len(wanted & t.pairs) / len(wanted))
        else:
            text = t.compared()
            out.append(sum(map(text.__contains__, wanted)) / len(wanted))
    return out


def _unique_hits(candidates: IntArray, hits: Hits, common: Sequence[bool]) -> npt.NDArray[np.float64]:
    """1 where a specific (not everyday) word of the query hit this entry and no other."""
    out = np.zeros(len(candidates), dtype=np.float64)
    for j, is_common in enumerate(common):
        entry = hits.only_entry(j)
        if entry >= 0 and not is_common:
            out[candidates == entry] = 1
    return out
