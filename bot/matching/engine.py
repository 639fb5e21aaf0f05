"""The core API every front end calls: answer(), compare(), topics(), resolve().

Personas are loaded once and indexed once. A query is analysed once (names, translation,
concepts); a sparse first stage (BM25 over answers, alternate questions and context) picks the
candidates, features.py describes each, and the fitted model (scoring.py) ranks them and decides,
with the same probabilities, whether any is quoted; otherwise the user gets suggestions.
"""

from __future__ import annotations

import gc
import itertools
import logging
import re
import unicodedata
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from functools import lru_cache
from pathlib import Path

import numpy as np
import numpy.typing as npt
import opencc
from rapidfuzz import fuzz, process

from bot.feedback.declined import Declined
from bot.matching import features
from bot.matching.features import Retrieved, Texts
from bot.matching.folded import FoldedTexts
from bot.matching.index import FloatArray, Index, IntArray, Source, contains, release_build_memory, sorted_distinct
from bot.matching.normalize import Query, QueryAnalyzer
from bot.matching.results import Answer, Comparison, Match, Side, Suggestion, TopicCount, UnknownExpert
from bot.matching.scoring import Model
from bot.matching.settings import Settings
from bot.model import Entry, Persona, load_personas, persona_cache_dir
from bot.paths import default_corpus_dir, default_personas_dir
from bot.text import Tokenizer, fold, private_dir, user_cache_dir
from bot.vocabulary import Vocabulary, load_vocabulary, read_words

_SENTENCE = re.compile(r"[^。！？!?；;]+[。！？!?；;]*")  # as the index splits answers into passages
# What turns an entry's texts into the indexes' documents besides bot/text.py (in the index's own
# key): this code (the fields, the joins, the contexts) and the folding's data (OpenCC, Unicode).
_RECIPE = Path(__file__).read_bytes() + (
    f"|opencc {getattr(opencc, '__version__', '?')}|unicode {unicodedata.unidata_version}".encode())


@dataclass(frozen=True)
class Scored:
    """One query's candidates (entry numbers, best first by the first stage) and their features."""

    candidates: IntArray
    features: npt.NDArray[np.float64]
    found: Retrieved


@dataclass
class _Asked:
    """One query's work, shared by every pool of candidates it is ranked over (the open ranking,
    each expert's own in a comparison or the views reply): the search, the first stage, and each
    candidate's own feature row (`features.own`), computed once, for whichever pool needs it first."""

    query: Query
    found: Retrieved  # the three fields' search (coverage figures not yet computed)
    entries: IntArray  # the first stage: every entry a field touched, ascending
    first: FloatArray  # and its score
    common: list[bool]  # per concept: an everyday word
    done: IntArray = field(default_factory=lambda: np.empty(0, dtype=np.int32))  # entries with rows, ascending
    rows: npt.NDArray[np.float64] = field(default_factory=lambda: np.zeros((0, len(features.NAMES))))
    focused: Retrieved | None = None  # `found` with the coverage figures of the `done` entries


@dataclass(frozen=True)
class _Ranking:
    """A pool's candidates as the model ranks them (`Engine._ranking`); rows are those of `scored`."""

    scored: Scored
    z: npt.NDArray[np.float64]  # the standardised features
    probability: npt.NDArray[np.float64]
    confidence: npt.NDArray[np.float64]  # the gate's (`Model.confidence`)
    given: npt.NDArray[np.bool_]  # confidence reaches the threshold
    order: npt.NDArray[np.intp]  # rows, most probable first (ties in candidate order)


@dataclass(frozen=True)
class _Doc:
    persona: Persona
    entry: Entry


def _texts(entry: Entry) -> tuple[str, ...]:
    """What the features compare a query with, as `FoldedTexts` keeps it folded: the question,
    the answer, the alternates written, the near misses."""
    return (entry.question, entry.answer, *entry.alternates, *entry.near_misses)


def _questions(entry: Entry) -> list[str]:
    """The questions an entry is known to answer besides its answer's own words: its alternates,
    or, for an entry nobody has written alternates for yet (a source added today), the question
    it was asked, so an exact or near-exact question still finds it."""
    return entry.alternates or [entry.question]


def index_cache_dir() -> Path | None:
    """Where built indexes are kept (`user_cache_dir()/indexes`, private); None, with a warning,
    when there is no such directory we may write: the index is then built in memory each start."""
    folder = private_dir(user_cache_dir())
    indexes = private_dir(folder / "indexes") if folder is not None else None
    if indexes is None:
        logging.getLogger(__name__).warning("no private cache directory under %s: the index is built at every start",
                                            user_cache_dir())
    return indexes


def load_stopwords(corpus_dir: Path) -> frozenset[str]:
    return frozenset(fold(w) for w in read_words(corpus_dir / "stopwords.txt"))


class Engine:
    """Personas loaded once, indexed once; every query goes through here."""

    def __init__(self, personas: list[Persona], vocabulary: Vocabulary | None = None,
                 stopwords: frozenset[str] = frozenset(), model: Model | None = None,
                 settings: Settings | None = None, declined: Declined | None = None,
                 index_cache: Path | None = None) -> None:
        self.personas = sorted(personas, key=lambda p: p.id)
        self.vocabulary = vocabulary or Vocabulary()
        self._docs = [_Doc(p, e) for p in self.personas for e in p.entries]
        self._by_entry = {d.entry.id: i for i, d in enumerate(self._docs)}
        self.model = model or Model.load()
        # Questions a curator declined (corpus/declined.yaml): their near-duplicates get no answer.
        self.declined = declined or Declined([])
        self.settings = settings or Settings.load()
        self._persona_position = {p.id: i for i, p in enumerate(self.personas)}
        self._persona_of = np.array([self._persona_position[d.persona.id] for d in self._docs], dtype=np.int32)
        # An expert's entries are consecutive (docs are in expert order): where each expert's start.
        self._expert_start = np.searchsorted(self._persona_of, np.arange(len(self.personas) + 1)).astype(np.int32)
        terms = [w for t in self.vocabulary.topics for w in (*t.keywords, *(s for g in t.synonyms for s in g))]
        terms += list(self.vocabulary.glossary.values())
        terms += [w for group in self.vocabulary.synonyms for w in group]
        # (entry keywords are not added: extract_tags invents words like 词来, 伟达 with its HMM)
        self.tokenizer = Tokenizer(terms)
        # Every entry's texts the features compare a query with, folded once (the questions and
        # answers are the answers' index's documents too), and kept in the cache with the indexes.
        # Each field's documents are made only when its index is built (not when it is loaded
        # from the cache): folding every text is most of a warm start otherwise.
        docs = self._docs
        self._folded = folded = FoldedTexts([_texts(d.entry) for d in docs], _RECIPE, index_cache)
        self.index = Index(
            lambda: [(texts[0], texts[1]) for texts in (folded[i] for i in range(len(docs)))],
            self.tokenizer,
            stopwords,
            self.settings.index,
            index_cache,
            Source([(d.entry.question, d.entry.answer) for d in docs], _RECIPE),
            self.settings.query.word_cache,
        )
        # The questions each entry answers (its alternates) pooled into one field per entry
        # (pooling beat the best single one), and the entry's context (who speaks, where, at which
        # point), each a one-passage document.
        self.alternates = Index(lambda: [(fold("。".join(_questions(d.entry))), "") for d in docs], self.tokenizer,
                                stopwords, self.settings.index, index_cache,
                                Source([_questions(d.entry) for d in docs], _RECIPE), self.settings.query.word_cache)
        vocabulary = self.vocabulary
        recipe = _RECIPE + repr(sorted(vocabulary.context.items())).encode()
        self.context = Index(lambda: [(fold(c), "") for c in _contexts(docs, vocabulary, folded)], self.tokenizer,
                             stopwords, self.settings.index, index_cache, Source(_context_sources(docs), recipe),
                             self.settings.query.word_cache)
        if any(i.loaded_from is None for i in (folded, self.index, self.alternates, self.context)):
            release_build_memory()  # a full collection costs 0.3 s at 100,000 entries: only after a build
        self.analyzer = QueryAnalyzer(self.personas, self.vocabulary, self.index, self.tokenizer, self.settings.query)
        self._topic_counts = {p.id: p.topic_counts() for p in self.personas}
        # Every way of writing each expert's name, folded, for exact lookups in resolve().
        self._by_name = {
            fold(n).replace(" ", ""): p
            for p in self.personas
            for n in (p.id, p.name, p.name_simplified, p.pinyin, *p.aliases)
        }
        # The candidates' texts decoded stay cached for the next questions (a few kilobytes each).
        # When the whole corpus fits in that cache nothing is evicted, so each entry's character
        # pairs are kept too, as a set built once: the real experts' entries hold some 60
        # alternates, 2,400 characters that `char_bigrams` would otherwise scan per pair per query.
        # In a larger corpus an entry is mostly evicted before it is a candidate again, and
        # building its set (hundreds of pairs) then costs more than the scans, and the sets
        # of a full cache were a hundred megabytes at 10,000 entries.
        self._keep_pairs = len(docs) <= self.settings.query.folded_cache
        self._texts = lru_cache(maxsize=self.settings.query.folded_cache)(self._decode_texts)
        self._sentences = lru_cache(maxsize=self.settings.query.folded_cache)(self._split_sentences)
        self._all_topics: list[TopicCount] | None = None
        self._last: _Asked | None = None  # see `_asked`

    def _decode_texts(self, doc_id: int) -> Texts:
        """A candidate's folded texts (`_texts`' order), decoded from those folded at the start."""
        entry = self._docs[doc_id].entry
        question, answer, *rest = self._folded[doc_id]
        written = len(entry.alternates)
        alternates = tuple(rest[:written]) if written else (question,)  # as `_questions` has it
        texts = Texts(question, answer, alternates, frozenset(entry.topics), tuple(rest[written:]))
        return replace(texts, pairs=features.bigrams(texts.compared())) if self._keep_pairs else texts

    @classmethod
    def load(cls, personas_dir: Path | None = None, corpus_dir: Path | None = None) -> Engine:
        """Load and validate a personas directory (raises model.DataError) and build the index, or
        load both from the user's cache when nothing they are made from changed (`index_cache_dir`,
        `model.persona_cache_dir`)."""
        corpus = corpus_dir or default_corpus_dir()
        # Loading makes millions of objects that all live on (11 per entry): the cyclic garbage
        # collector would walk every one of them again each time their number grows by a quarter
        # (at 100,000 entries 1.5 s of a 5 s start, and 0.4 s of the first answer). Nothing made
        # here is cyclic garbage worth collecting; the collector runs again after (the CLI also freezes
        # what was loaded, `bot.cli._engine`).
        collecting = gc.isenabled()
        gc.disable()
        try:
            personas = load_personas(personas_dir or default_personas_dir(), cache=persona_cache_dir())
            return cls(personas, load_vocabulary(corpus),
                       load_stopwords(corpus), declined=Declined.load(corpus), index_cache=index_cache_dir())
        finally:
            if collecting:
                gc.enable()

    # Experts

    def resolve(self, name: str) -> Persona:
        """Find an expert by id, name (either script), pinyin or alias; else UnknownExpert."""
        exact = self._by_name.get(fold(name).replace(" ", ""))
        if exact is not None:
            return exact
        found = self.analyzer.names_in(name)
        if len(found) == 1:
            return found[0]
        choices = {p.id: f"{p.name_simplified} {p.pinyin} {' '.join(p.aliases)}" for p in self.personas}
        close = process.extract(fold(name), choices, scorer=fuzz.partial_ratio, limit=3)
        closest = [self._persona(pid) for _, score, pid in close if score >= 50]
        raise UnknownExpert(name, closest, self.personas)

    def named(self, text: str) -> frozenset[str]:
        """The ids of the experts `text` names exactly (any alias, either script)."""
        return frozenset(p.id for p in self.analyzer.names_in(text))

    def _persona(self, persona_id: str) -> Persona:
        return next(p for p in self.personas if p.id == persona_id)

    def _target(self, persona: str | Persona | None) -> Persona | None:
        return self.resolve(persona) if isinstance(persona, str) else persona

    # Answers

    def answer(self, query: str, persona: str | Persona | None = None, k: int = 3) -> Answer:
        """The best recorded answers to `query`, or none with suggestions when not confident."""
        target = self._target(persona)
        q = self.analyzer.analyse(query)
        # A name in the question overrides the chat's selected expert.
        allowed = list(q.personas) if q.personas else ([target] if target else [])
        if q.namesake is not None and q.namesake_of is not None:
            expert = q.namesake_of
            note = f"这里的{expert.display_name}是{expert.role}，不是{q.namesake.who}。"
            return Answer(query, target, [], self._suggest(q, allowed), note=note)
        if q.unknown_holder is not None:
            # "李彦宏怎么看X": nobody here can give that person's view; who here spoke to X is told.
            spoke = self._confident_experts(q) if q.concepts else []
            return Answer(query, target, [], self._suggest(q, []), covered_by=spoke,
                          note=f"这里没有{q.unknown_holder}的发言记录。")
        if not q.concepts:
            profile = allowed[0] if len(allowed) == 1 else None
            return Answer(query, target, [], self._suggest(q, allowed), profile=profile)
        if self.declined.matches(query, self.named):
            return Answer(query, target, [], self._suggest(q, allowed))
        if len(q.personas) >= 2 or (q.everyone and not q.personas):
            # "丁磊和沈为怎么看算力", "Ding Lei vs Harry Shum on X", "大家怎么看X": one answer per expert.
            comparison = self._compare(list(q.personas), q) if q.personas else self._views(q)
            firsts = [s.matches[0] for s in comparison.sides if s.matches]
            return Answer(query, target, firsts, [] if firsts else self._suggest(q, allowed), comparison=comparison)
        # `_rank`'s matches, each made only where it is shown.
        ranking = self._ranking(self.scored(q, allowed))
        shown = [rank for rank, row in enumerate(ranking.order) if ranking.given[row]][:k]
        if shown:
            return Answer(query, target, [self._ranked(q, ranking, rank) for rank in shown])
        if not allowed and sum(ranking.probability[ranking.order].tolist()) >= self.model.threshold:
            # Someone here answered it (the null's share is under the gate), but no one expert's
            # share reaches the gate: several spoke to it ("开源模型怎么看"). Each one's own answer
            # under their name, as for "大家怎么看", rather than picking one or declining.
            comparison = self._views(q, ranking)
            firsts = [s.matches[0] for s in comparison.sides if s.matches]
            if firsts:
                return Answer(query, target, firsts, [], comparison=comparison)
        covered_by: list[Persona] = []
        if allowed:
            asked = {p.id for p in allowed}
            covered_by = [p for p in self._confident_experts(q) if p.id not in asked]
        near = (self._match(q, ranking.scored, int(row), float(ranking.probability[row]),
                            float(ranking.confidence[row])) for row in ranking.order)  # made as far as read
        return Answer(query, target, [], self._suggest(q, allowed, near), covered_by=covered_by)

    def scored(self, q: Query, allowed: list[Persona]) -> Scored:
        """First stage (BM25 over answers and alternates) picks candidates; the features and the
        fitted model score them. `fit` reads the same features, so training sees what serving does."""
        return self._scored(q, [allowed])[0]

    def _scored(self, q: Query, groups: Sequence[list[Persona]]) -> list[Scored]:
        """`scored` for several restrictions of one query at once: the candidates' own feature rows
        are computed in one batch (those of an earlier call for `q` are kept), and only the leads,
        which compare a candidate with the rest of its pool, per pool."""
        asked = self._asked(q)
        pools = [self._pool(asked, allowed) for allowed in groups]
        self._compute(asked, np.concatenate(pools))
        assert asked.focused is not None
        return [Scored(pool, features.with_leads(asked.rows[np.searchsorted(asked.done, pool)]), asked.focused)
                for pool in pools]

    def _asked(self, q: Query) -> _Asked:
        """The shared work for `q`: the last query's is kept, since one answer may rank the same
        question for several experts (views, compare) over the same search."""
        last = self._last
        if last is not None and last.query is q:
            return last
        found = Retrieved(self.index.search(q.concepts), self.alternates.search(q.concepts),
                          self.context.search(q.concepts))
        entries, first = features.first_stage(found)
        common = [self.tokenizer.is_common(c.text, self.settings.query.common_word_frequency) for c in q.concepts]
        self._last = asked = _Asked(q, found, entries, first, common)
        return asked

    def _pool(self, asked: _Asked, allowed: list[Persona]) -> IntArray:
        """The candidates: the best `settings.candidates` entries of the allowed experts by the
        first stage, best first."""
        entries, first = asked.entries, asked.first
        if allowed:  # each allowed expert's entries are one run of the ascending entries
            experts = sorted({self._persona_position[p.id] for p in allowed})
            cuts = entries.searchsorted(self._expert_start[[e + side for e in experts for side in (0, 1)]])
            keep = np.concatenate([np.arange(cuts[i], cuts[i + 1]) for i in range(0, len(cuts), 2)])
            entries, first = entries.take(keep), first.take(keep)
        positive = first > 0
        hit, first = entries[positive], first[positive]
        if len(hit) > self.settings.candidates:
            best = np.argpartition(-first, self.settings.candidates - 1)[: self.settings.candidates]
            hit, first = hit[best], first[best]
        return hit[np.argsort(-first, kind="stable")].astype(np.int32)

    def _compute(self, asked: _Asked, wanted: IntArray) -> None:
        """The own feature rows of the `wanted` entries not yet computed for this query. The
        coverage figures are computed for the candidates' passages only (two-phase search), each
        entry's from its own passages: the same for any set of candidates it is computed among."""
        new = wanted[~contains(asked.done, wanted)]
        if not len(new) and asked.focused is not None:
            return
        new = sorted_distinct(np.sort(new))
        done = np.concatenate((asked.done, new))
        order = np.argsort(done, kind="stable")
        done = done[order]
        found = asked.found
        focused = Retrieved(found.answers.focus(done), found.alternates.focus(done), found.context.focus(done))
        named = {p.id for p in asked.query.personas}
        rows = features.own(asked.query, new, focused, self._texts,
                            named=[self._docs[int(i)].persona.id in named for i in new], common=asked.common)
        asked.done, asked.rows, asked.focused = done, np.concatenate((asked.rows, rows))[order], focused

    def _rank(self, q: Query, allowed: list[Persona]) -> list[tuple[Match, bool]]:
        """Candidates best first, each with whether its probability reaches the threshold (every
        match made; `answer` makes only those it shows, from `_ranking`)."""
        ranking = self._ranking(self.scored(q, allowed))
        return [(self._ranked(q, ranking, rank), bool(ranking.given[row])) for rank, row in enumerate(ranking.order)]

    def _ranking(self, scored: Scored) -> _Ranking:
        """The model's probabilities and the gate's confidence for `scored`, and their order."""
        z = self.model.standardise(scored.features)
        probability = self.model.probability_of(z)
        confidence = self.model.confidence(probability, self._persona_of[scored.candidates])
        return _Ranking(scored, z, probability, confidence, confidence >= self.model.threshold,
                        np.argsort(-probability, kind="stable"))

    def _ranked(self, q: Query, ranking: _Ranking, rank: int) -> Match:
        """The match at `rank` of the ranking: explained where it can be shown (given, or first)."""
        row = int(ranking.order[rank])
        explained = bool(ranking.given[row]) or rank == 0
        parts = self.model.parts_of(ranking.z[row]) if explained else None  # element by element: any rows alike
        return self._match(q, ranking.scored, row, float(ranking.probability[row]), float(ranking.confidence[row]),
                           parts)

    def _confident_experts(self, q: Query) -> list[Persona]:
        """The experts with a confident answer to `q` when no expert is asked, best first."""
        everyone = self._ranking(self.scored(q, []))
        experts = self._experts(everyone)
        found = {experts[row].id: experts[row] for row in everyone.order.tolist() if everyone.given[row]}
        return list(found.values())

    def _experts(self, ranking: _Ranking) -> list[Persona]:
        """Each candidate's expert, by row."""
        return [self._docs[doc_id].persona for doc_id in ranking.scored.candidates.tolist()]

    def _first_sure(self, q: Query, scored: Scored) -> Match | None:
        """The first of `_rank`'s matches whose probability reaches the threshold (the side of a
        comparison), without making the others."""
        if not len(scored.candidates):
            return None
        ranking = self._ranking(scored)
        given = np.flatnonzero(ranking.given[ranking.order])
        return self._ranked(q, ranking, int(given[0])) if len(given) else None

    def _match(self, q: Query, scored: Scored, row: int, probability: float, sure: float,
               parts: npt.NDArray[np.float64] | None = None) -> Match:
        """Candidate `row` of `scored` as a match; explained (terms, feature parts, the part of the
        answer that matched) when its feature contributions `parts` are given."""
        doc_id = int(scored.candidates[row])
        doc = self._docs[doc_id]
        topics = tuple(t for t in doc.entry.topics if t in q.topics) if q.topics else ()
        if parts is None:
            return Match(doc.persona, doc.entry, round(100 * sure, 1), (), topics, probability)
        terms = tuple(c.text for j, c in enumerate(q.concepts) if scored.found.answers.has(j, doc_id))
        part = self._part(doc_id, scored.found.answers.passage_of(doc_id))
        return Match(doc.persona, doc.entry, round(100 * sure, 1), terms, topics, probability,
                     self.model.named_parts(parts), part)

    def candidate(self, doc_id: int) -> tuple[Persona, Entry]:
        """The expert and entry behind a candidate number of `scored`."""
        doc = self._docs[doc_id]
        return doc.persona, doc.entry

    def _part(self, doc_id: int, passage: int) -> str | None:
        """The sentences of a long answer that matched (None: the question, or a short answer)."""
        window = self.index.window(doc_id, passage)
        answer = self._docs[doc_id].entry.answer
        if window is None or len(answer) <= self.settings.whole_answer_chars:
            return None
        sentences = self._sentences(doc_id)
        return "".join(sentences[window[0] : window[1]]).strip() or None

    def _split_sentences(self, doc_id: int) -> tuple[str, ...]:
        """The entry's answer cut into sentences (as the index cuts it into passages)."""
        answer = self._docs[doc_id].entry.answer
        return tuple(m.group() for m in _SENTENCE.finditer(answer) if m.group().strip())

    def _suggest(self, q: Query, allowed: list[Persona], ranked: Iterable[Match] | None = None) -> list[Suggestion]:
        """Up to three close questions (from the best near-misses) or, failing that, topics."""
        out: list[Suggestion] = []
        for match in ranked or []:
            if len(out) == self.settings.max_suggestions or match.probability < self.settings.min_suggested_probability:
                break
            out.append(Suggestion(match.entry.question[:60], match.entry.topics[0], match.persona.id))
        if len(out) < self.settings.max_suggestions:
            for topic in self.topics(allowed[0] if len(allowed) == 1 else None):
                if all(s.topic != topic.id for s in out) and (not q.topics or topic.id in q.topics or len(out) < 1):
                    out.append(Suggestion(topic.label, topic.id, allowed[0].id if len(allowed) == 1 else None))
                if len(out) == self.settings.max_suggestions:
                    break
        return out

    def compare(self, a: str | Persona, b: str | Persona, query: str) -> Comparison:
        """Each expert's own best answer to the question itself, side by side (a side is empty
        when that expert said nothing confident on it)."""
        pa, pb = self._target(a), self._target(b)
        assert pa is not None and pb is not None
        q = self.analyzer.analyse(query)
        # The user named both experts, if not in the question then in the command: score them as
        # named, as the model was fitted on compare questions that name them ("丁磊和沈为怎么看算力").
        named = (pa, pb, *(p for p in q.personas if p.id not in {pa.id, pb.id}))
        return self._compare([pa, pb], replace(q, personas=named))

    def _compare(self, personas: list[Persona], q: Query) -> Comparison:
        return Comparison(q.text, q.topics[0] if q.topics else None, list(self._sides(q, personas)))

    def _sides(self, q: Query, personas: Sequence[Persona]) -> Iterator[Side]:
        """Each expert's side, in order: their own first confident answer, if any. Experts are
        scored `max_views` at a time (their candidates' features in one batch), as far as read."""
        for start in range(0, len(personas), self.settings.max_views):
            group = personas[start : start + self.settings.max_views]
            for persona, scored in zip(group, self._scored(q, [[p] for p in group]), strict=True):
                first = self._first_sure(q, scored)
                yield Side(persona, [first] if first is not None else [])

    def _views(self, q: Query, ranking: _Ranking | None = None) -> Comparison:
        """"大家怎么看X": each expert among the open ranking's candidates (`ranking`, if already
        made), asked on their own (as in a comparison), in the ranking's order; those with a
        confident answer make a side each."""
        ranking = self._ranking(self.scored(q, [])) if ranking is None else ranking
        mass: dict[str, float] = {}
        experts = self._experts(ranking)
        for row in ranking.order:
            expert = experts[row].id
            mass[expert] = mass.get(expert, 0.0) + float(ranking.probability[row])
        # An expert the open ranking gives less than a suggestion's worth is noise, not a view.
        experts = [self._persona(e) for e, p in mass.items() if p >= self.settings.min_suggested_probability]
        sides = list(itertools.islice((s for s in self._sides(q, experts) if s.matches), self.settings.max_views))
        return Comparison(q.text, q.topics[0] if q.topics else None, sides)

    # Browsing

    def topics(self, persona: str | Persona | None = None) -> list[TopicCount]:
        """Topics with entry counts, most covered first (vocabulary order breaks ties)."""
        target = self._target(persona)
        if target is None:  # every expert's: asked for each unanswered question, so counted once
            if self._all_topics is None:
                self._all_topics = self._count_topics(self.personas)
            return list(self._all_topics)
        return self._count_topics([target])

    def _count_topics(self, personas: list[Persona]) -> list[TopicCount]:
        counts: dict[str, int] = {}
        for person in personas:
            for topic, n in self._topic_counts[person.id].items():
                counts[topic] = counts.get(topic, 0) + n
        order = {t.id: i for i, t in enumerate(self.vocabulary.topics)}
        ranked = sorted(counts, key=lambda t: (-counts[t], order.get(t, len(order)), t))
        out = []
        for topic_id in ranked:
            known = self.vocabulary.topic(topic_id)
            out.append(TopicCount(topic_id, known.zh if known else topic_id, known.en if known else topic_id,
                                  counts[topic_id]))
        return out

    def topic_matches(self, topic: str, persona: str | Persona | None = None) -> list[Match]:
        """Every entry on a topic (for a topic button), primary-topic entries first."""
        target = self._target(persona)
        found = [
            Match(d.persona, d.entry, 100.0, topics=(topic,))
            for d in self._docs
            if topic in d.entry.topics and (target is None or d.persona.id == target.id)
        ]
        return sorted(found, key=lambda m: m.entry.topics.index(topic))

    def entry(self, entry_id: str) -> Match | None:
        """One entry by its stable id (for buttons that refer back to an answer)."""
        doc_id = self._by_entry.get(entry_id)
        if doc_id is None:
            return None
        doc = self._docs[doc_id]
        return Match(doc.persona, doc.entry, 100.0)

    def topic_label(self, topic: str) -> str:
        found = self.vocabulary.topic(topic)
        return found.zh if found else topic


def _contexts(docs: list[_Doc], vocabulary: Vocabulary, folded: FoldedTexts) -> list[str]:
    """Per entry: the speaker's name and role, the outlet, the source's format, and whether it
    opens or closes its source (the first or last question asked, the first or last section)."""
    words = vocabulary.context
    questions = [folded[i][0] for i in range(len(docs))]
    turns: dict[str, list[tuple[int, str]]] = {}
    for d, question in zip(docs, questions, strict=True):
        turns.setdefault(d.entry.source, []).append((d.entry.position, question))
    first = {src: min(items)[1] for src, items in turns.items()}
    last = {src: max(items)[1] for src, items in turns.items()}
    out = []
    for d, question in zip(docs, questions, strict=True):
        source = d.persona.source(d.entry.source)
        parts = [d.persona.role, source.outlet, *words.get(source.format, ())]
        if question == first[d.entry.source]:
            parts += words.get("opening", ())
        if question == last[d.entry.source]:
            parts += words.get("closing", ())
        out.append(" ".join(parts))
    return out


def _context_sources(docs: list[_Doc]) -> list[tuple[str, ...]]:
    """Everything `_contexts` reads of each entry (its persona's source lookup included)."""
    out: list[tuple[str, ...]] = []
    for d in docs:
        source = d.persona.source(d.entry.source)
        out.append((d.persona.role, source.outlet, source.format, d.entry.source, str(d.entry.position),
                    d.entry.question))
    return out
