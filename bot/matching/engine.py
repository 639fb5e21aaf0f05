"""The core API every front end calls: answer(), compare(), topics(), resolve().

Personas are loaded once and indexed once. A query is analysed once (names, translation,
concepts), scored against every entry in one batch, and the few best candidates are re-ranked
with rapidfuzz against the questions that were actually asked. An answer is given only when the
entry covers enough of what was asked (MIN_COVERAGE); otherwise the user gets suggestions.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np
from rapidfuzz import fuzz, process

from bot.matching.index import Index, release_build_memory
from bot.matching.normalize import Query, QueryAnalyzer
from bot.matching.results import Answer, Comparison, Match, Side, Suggestion, TopicCount, UnknownExpert
from bot.model import Entry, Persona, load_personas
from bot.paths import default_corpus_dir, default_personas_dir
from bot.text import Tokenizer, fold
from bot.vocabulary import Vocabulary, load_vocabulary

# Chosen on the dev eval (see README "Matching"): an answer is given only when one passage of
# it covers at least this share of the question's weighted words, and at least two of them
# (or a word no other entry uses, or the only word asked).
MIN_COVERAGE = 0.15
MIN_CONCEPTS = 2
# Words used by a large share of entries (大模型, 人工智能) say little; they do not count
# toward MIN_CONCEPTS being needed.
INFORMATIVE_IDF = 1.0
# How many BM25 candidates get the finer re-ranking.
CANDIDATES = 25
# Shares of the final score: coverage of the question by the best passage and by the whole
# entry, BM25 of the best passage (relative to the best candidate), similarity to the question asked.
W_PASSAGE, W_ENTRY, W_BM25, W_QUESTION = 0.45, 0.2, 0.2, 0.15
# Literal overlap between the question and the answer text (a phrase quoted back), checked on
# the best BM25 candidates only: it breaks near-ties, and folding answers is not free.
W_ANSWER = 0.1
LITERAL_CANDIDATES = 12
_W_TOTAL = W_PASSAGE + W_ENTRY + W_BM25 + W_QUESTION + W_ANSWER  # scores stay within 0-100
_FOLDED_CACHE = 4096
MAX_SUGGESTIONS = 3
MIN_SUGGESTED_SCORE = 23  # a near miss below this is too far off to suggest


@dataclass(frozen=True)
class _Doc:
    persona: Persona
    entry: Entry
    question: str  # folded


def load_stopwords(corpus_dir: Path) -> frozenset[str]:
    path = corpus_dir / "stopwords.txt"
    if not path.exists():
        return frozenset()
    words: set[str] = set()
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.startswith("#"):
            words.update(fold(w) for w in line.split())
    return frozenset(words)


class Engine:
    """Personas loaded once, indexed once; every query goes through here."""

    def __init__(self, personas: list[Persona], vocabulary: Vocabulary | None = None,
                 stopwords: frozenset[str] = frozenset()) -> None:
        self.personas = sorted(personas, key=lambda p: p.id)
        self.vocabulary = vocabulary or Vocabulary()
        self._docs = [_Doc(p, e, fold(e.question)) for p in self.personas for e in p.entries]
        self._by_entry = {d.entry.id: i for i, d in enumerate(self._docs)}
        position = {p.id: i for i, p in enumerate(self.personas)}
        self._persona_of = np.array([position[d.persona.id] for d in self._docs], dtype=np.int32)
        terms = [w for t in self.vocabulary.topics for w in (*t.keywords, *(s for g in t.synonyms for s in g))]
        terms += list(self.vocabulary.glossary.values())
        terms += [w for group in self.vocabulary.synonyms for w in group]
        terms += [k for d in self._docs for k in d.entry.keywords]
        self.tokenizer = Tokenizer(terms)
        self.index = Index(
            [(d.question, fold(d.entry.answer)) for d in self._docs],
            self.tokenizer,
            stopwords,
        )
        release_build_memory()
        self.analyzer = QueryAnalyzer(self.personas, self.vocabulary, self.index, self.tokenizer)
        self._topic_counts = {p.id: p.topic_counts() for p in self.personas}
        # Every way of writing each expert's name, folded, for exact lookups in resolve().
        self._by_name = {
            fold(n).replace(" ", ""): p
            for p in self.personas
            for n in (p.id, p.name, p.name_simplified, p.pinyin, *p.aliases)
        }
        # Folded answers are needed only for the few candidates of each query: cache, don't store.
        self._folded_answer = lru_cache(maxsize=_FOLDED_CACHE)(lambda doc: fold(self._docs[doc].entry.answer))

    @classmethod
    def load(cls, personas_dir: Path | None = None, corpus_dir: Path | None = None) -> Engine:
        """Load and validate a personas directory (raises model.DataError) and build the index."""
        corpus = corpus_dir or default_corpus_dir()
        return cls(load_personas(personas_dir or default_personas_dir()), load_vocabulary(corpus),
                   load_stopwords(corpus))

    # Experts

    def resolve(self, name: str) -> Persona:
        """Find an expert by id, name (either script), pinyin or alias; else UnknownExpert."""
        exact = self._by_name.get(fold(name).replace(" ", ""))
        if exact is not None:
            return exact
        found = self.analyzer.analyse(name).personas
        if len(found) == 1:
            return found[0]
        choices = {p.id: f"{p.name_simplified} {p.pinyin} {' '.join(p.aliases)}" for p in self.personas}
        close = process.extract(fold(name), choices, scorer=fuzz.partial_ratio, limit=3)
        closest = [self._persona(pid) for _, score, pid in close if score >= 50]
        raise UnknownExpert(name, closest, self.personas)

    def _persona(self, persona_id: str) -> Persona:
        return next(p for p in self.personas if p.id == persona_id)

    def _target(self, persona: str | Persona | None) -> Persona | None:
        return self.resolve(persona) if isinstance(persona, str) else persona

    # Answers

    def answer(self, query: str, persona: str | Persona | None = None, k: int = 3) -> Answer:
        """The best recorded answers to `query`, or none with suggestions when not confident."""
        target = self._target(persona)
        q = self.analyzer.analyse(query)
        allowed = [target] if target else list(q.personas)
        if q.namesake is not None and q.namesake_of is not None:
            expert = q.namesake_of
            note = f"这里的{expert.display_name}是{expert.role}，不是{q.namesake.who}。"
            return Answer(query, target, [], self._suggest(q, allowed), note=note)
        if not q.concepts:
            profile = allowed[0] if len(allowed) == 1 else None
            return Answer(query, target, [], self._suggest(q, allowed), profile=profile)
        ranked = self._rank(q, allowed)
        confident = [m for m, sure in ranked if sure][:k]
        if confident:
            return Answer(query, target, confident)
        covered_by: list[Persona] = []
        if allowed:
            elsewhere = [m for m, sure in self._rank(q, []) if sure]
            asked = {p.id for p in allowed}
            others = {m.persona.id: m.persona for m in elsewhere if m.persona.id not in asked}
            covered_by = list(others.values())
        near = [m for m, _ in ranked]
        return Answer(query, target, [], self._suggest(q, allowed, near), covered_by=covered_by)

    def _rank(self, q: Query, allowed: list[Persona], named: bool = False) -> list[tuple[Match, bool]]:
        """Candidates best first, each with whether it is confident enough to be given.

        `named`: the user asked these experts by name for their view on a topic (compare), so
        one shared topical word in a passage is enough; coverage is still required.
        """
        hits = self.index.search(q.concepts)
        bm25 = hits.bm25
        if allowed:
            wanted = [i for i, p in enumerate(self.personas) if p.id in {a.id for a in allowed}]
            mask = np.isin(self._persona_of, wanted)
            bm25 = np.where(mask, bm25, 0)
        pool = np.flatnonzero(bm25 > 0)
        if not len(pool):
            return []
        if len(pool) > CANDIDATES:
            pool = pool[np.argpartition(-bm25[pool], CANDIDATES - 1)[:CANDIDATES]]
        top = pool[np.argsort(-bm25[pool], kind="stable")]
        best = float(bm25[top[0]])
        similarity = process.cdist([q.remainder], [self._docs[i].question for i in top],
                                   scorer=fuzz.partial_token_set_ratio, workers=1)[0]
        literal = np.zeros(len(top), dtype=np.float32)
        literal[:LITERAL_CANDIDATES] = process.cdist(
            [q.remainder], [self._folded_answer(int(i)) for i in top[:LITERAL_CANDIDATES]],
            scorer=fuzz.partial_ratio, workers=1)[0]
        # A specific word (rare in everyday Chinese) that only one entry uses points at that entry.
        unique = {i for i, c in enumerate(q.concepts)
                  if len(hits.matched[i]) == 1 and not self.tokenizer.is_common(c.text)}
        # Which concepts hit each candidate: one vectorised membership test per concept.
        hit_by_concept = [np.isin(top, ids) for ids in hits.matched]
        informative = sum(self.index.concept_weight(c) >= INFORMATIVE_IDF for c in q.concepts)
        needed = 1 if named else max(1, min(MIN_CONCEPTS, informative))
        # A question with words beyond names must match one of them: who someone is married to
        # is not answered by a passage that merely names them.
        needed_topical = 1 if any(not c.entity for c in q.concepts) else 0
        matches = []
        for rank, doc_id in enumerate(top):
            score = 100 / _W_TOTAL * (W_PASSAGE * float(hits.passage_coverage[doc_id])
                           + W_ENTRY * float(hits.entry_coverage[doc_id])
                           + W_BM25 * float(bm25[doc_id]) / best
                           + W_QUESTION * float(similarity[rank]) / 100
                           + W_ANSWER * float(literal[rank]) / 100)
            doc = self._docs[doc_id]
            terms = tuple(c.text for c, hit in zip(q.concepts, hit_by_concept, strict=True) if hit[rank])
            topics = tuple(t for t in doc.entry.topics if t in q.topics)
            hit_unique = any(hit_by_concept[i][rank] for i in unique)
            enough = (hits.passage_concepts[doc_id] >= needed or hit_unique) and (
                hits.passage_topical[doc_id] >= needed_topical)
            sure = bool(hits.passage_coverage[doc_id] >= MIN_COVERAGE and enough)
            matches.append((Match(doc.persona, doc.entry, round(score, 1), terms, topics), sure))
        matches.sort(key=lambda pair: -pair[0].score)
        return matches

    def _suggest(self, q: Query, allowed: list[Persona], ranked: list[Match] | None = None) -> list[Suggestion]:
        """Up to three close questions (from the best near-misses) or, failing that, topics."""
        out: list[Suggestion] = []
        for match in ranked or []:
            if len(out) == MAX_SUGGESTIONS or match.score < MIN_SUGGESTED_SCORE:
                break
            out.append(Suggestion(match.entry.question[:60], match.entry.topics[0], match.persona.id))
        if len(out) < MAX_SUGGESTIONS:
            for topic in self.topics(allowed[0] if len(allowed) == 1 else None):
                if all(s.topic != topic.id for s in out) and (not q.topics or topic.id in q.topics or len(out) < 1):
                    out.append(Suggestion(topic.label, topic.id, allowed[0].id if len(allowed) == 1 else None))
                if len(out) == MAX_SUGGESTIONS:
                    break
        return out

    def compare(self, a: str | Persona, b: str | Persona, query: str) -> Comparison:
        """Each expert's best answer on the query's topic; the same topic where both have one."""
        pa, pb = self._target(a), self._target(b)
        assert pa is not None and pb is not None
        q = self.analyzer.analyse(query)
        sides = [[m for m, sure in self._rank(q, [p], named=True) if sure] for p in (pa, pb)]
        topic = _shared_topic(sides[0], sides[1], q.topics)
        picked = []
        for matches in sides:
            on_topic = [m for m in matches if topic in m.entry.topics] if topic else []
            picked.append((on_topic or matches)[:1])
        return Comparison(query, topic, [Side(pa, picked[0]), Side(pb, picked[1])])

    # Browsing

    def topics(self, persona: str | Persona | None = None) -> list[TopicCount]:
        """Topics with entry counts, most covered first (vocabulary order breaks ties)."""
        target = self._target(persona)
        counts: dict[str, int] = {}
        for person in [target] if target else self.personas:
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


def _shared_topic(a: list[Match], b: list[Match], asked: tuple[str, ...]) -> str | None:
    """The topic both experts answered on, preferring what was asked, then the best pair."""
    topics_a = [t for m in a[:3] for t in m.entry.topics]
    topics_b = {t for m in b[:3] for t in m.entry.topics}
    shared = [t for t in dict.fromkeys(topics_a) if t in topics_b]
    for topic in asked:
        if topic in shared:
            return topic
    if shared:
        return shared[0]
    return asked[0] if asked else None
