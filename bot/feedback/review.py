"""The review queue: what users asked that went unanswered, was answered with low confidence, or
got a 👎, grouped into near-duplicates, most frequent first, each with the bot's three best
candidates now. A curator attaches a group to an entry (its phrasings become alternate questions
of that entry), declines it (out of scope), or skips it.

Grouping: every distinct phrasing is keyed (`similar.key`), all pairs are scored in one rapidfuzz
`cdist` call, then, most frequent phrasing first, each joins the group whose members it matches
best on average if that average reaches `group_similarity` (settings.yaml), else starts a group.
Average rather than single link, so a chain of small steps cannot join two different questions.

The API the Telegram /review uses (and `persona-bot review` below)::

    with FeedbackStore.open(path) as store:
        groups = build_queue(store, engine, corpus_dir)          # best first, candidates filled
        attach(groups[0], "ding-lei-001-5e2ebb", store, corpus_dir)    # -> phrasings added
        decline(groups[1], store, corpus_dir, tune_path)         # -> DeclineResult
        # skip: nothing to write; the group stays in the queue for next time
"""

from __future__ import annotations

import hashlib
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date as Date
from pathlib import Path
from typing import Any

import numpy as np
from rapidfuzz import process

from bot.feedback import DEFAULT_NOTE, files
from bot.feedback import candidates as best_candidates
from bot.feedback.declined import Declined
from bot.feedback.settings import settings
from bot.feedback.similar import SCORER, key
from bot.feedback.store import FeedbackStore, Stored
from bot.matching import Engine


@dataclass(frozen=True)
class Phrasing:
    text: str
    count: int


@dataclass(frozen=True)
class Shown:
    """A candidate with what the curator needs to judge it."""

    entry_id: str
    persona_id: str
    persona: str
    question: str
    answer: str
    probability: float
    answered: bool  # the bot gives this answer now

    def to_json(self) -> dict[str, Any]:
        return {"entry_id": self.entry_id, "persona_id": self.persona_id, "persona": self.persona,
                "question": self.question, "answer": self.answer, "probability": round(self.probability, 4),
                "answered": self.answered}


@dataclass
class Group:
    id: str  # stable while the group's most frequent phrasing is the same: g-<hash>
    phrasings: list[Phrasing]
    question_ids: list[int]
    unanswered: int = 0
    low_confidence: int = 0
    thumbs_down: int = 0
    expert: str | None = None  # the expert most of its questions were put to (None = everyone)
    last_asked: float = 0.0
    candidates: list[Shown] = field(default_factory=list)

    @property
    def count(self) -> int:
        return sum(p.count for p in self.phrasings)

    @property
    def text(self) -> str:
        """The most frequent phrasing: what the group is called."""
        return self.phrasings[0].text

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id, "count": self.count, "text": self.text,
            "phrasings": [{"text": p.text, "count": p.count} for p in self.phrasings],
            "reasons": {"unanswered": self.unanswered, "low_confidence": self.low_confidence,
                        "thumbs_down": self.thumbs_down},
            "expert": self.expert,
            "last_asked": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(self.last_asked)),
            "candidates": [c.to_json() for c in self.candidates],
            "question_ids": self.question_ids,
        }


# ---- grouping ----


def group_texts(texts: Sequence[str], threshold: float | None = None) -> list[list[int]]:
    """Indices of `texts` in groups of near-duplicates, in input order (put the most frequent first).

    Identical keys always share a group; otherwise average-link against the groups so far."""
    limit = settings().group_similarity if threshold is None else threshold
    keys = [key(t) for t in texts]
    distinct = list(dict.fromkeys(keys))
    if not distinct:
        return []
    scores = process.cdist(distinct, distinct, scorer=SCORER, dtype=np.float32, workers=-1)
    # Per group: its members' scores against every key, summed; rows grow by doubling.
    sums = np.zeros((16, len(distinct)), dtype=np.float64)
    sizes = np.zeros(16, dtype=np.float64)
    count = 0
    group_of: list[int] = []
    for i in range(len(distinct)):
        if count:
            means = sums[:count, i] / sizes[:count]
            best = int(np.argmax(means))
            if means[best] >= limit:
                group_of.append(best)
                sums[best] += scores[i]
                sizes[best] += 1
                continue
        if count == len(sizes):
            sums = np.vstack([sums, np.zeros_like(sums)])
            sizes = np.concatenate([sizes, np.zeros_like(sizes)])
        group_of.append(count)
        sums[count], sizes[count] = scores[i], 1
        count += 1
    position = {k: group_of[i] for i, k in enumerate(distinct)}
    groups: list[list[int]] = [[] for _ in range(count)]
    for index, k in enumerate(keys):
        groups[position[k]].append(index)
    return groups


# ---- the queue ----


def needs_review(question: Stored, low_confidence: float | None = None) -> bool:
    """Unanswered, answered below `low_confidence`, or given a 👎 by anyone."""
    low = settings().low_confidence if low_confidence is None else low_confidence
    top = question.top_probability
    return not question.answered or (top is not None and top < low) or question.thumbs_down > 0


def build_queue(store: FeedbackStore, engine: Engine | None, corpus_dir: Path | None = None,
                since: float | None = None, limit: int | None = None) -> list[Group]:
    """The review queue, best first (most asked, then most recent); candidates filled from `engine`.
    Questions already reviewed, and those a declined question covers, are left out."""
    declined = Declined.load(corpus_dir) if corpus_dir is not None else Declined([])
    pending = [q for q in store.questions(since=since, include_reviewed=False)
               if needs_review(q) and not declined.matches(q.text)]
    groups = group_questions(pending)
    if limit is not None:
        groups = groups[:limit]
    if engine is not None:
        for group in groups:
            group.candidates = candidates_for(engine, group.text, group.expert)
    return groups


def group_questions(questions: Sequence[Stored]) -> list[Group]:
    """Questions grouped, most frequent phrasing first in each group, groups most asked first."""
    by_key: dict[str, list[Stored]] = {}
    for q in questions:
        by_key.setdefault(key(q.text), []).append(q)
    # Most frequent phrasing first (then most recent): it leads its group and names it.
    order = sorted(by_key.values(), key=lambda qs: (-len(qs), -max(q.asked_at for q in qs)))
    low = settings().low_confidence
    groups = []
    shown = [_most_common_text(qs) for qs in order]
    for members in group_texts(shown):
        asked = [q for i in members for q in order[i]]
        phrasings = [Phrasing(shown[i], len(order[i])) for i in members]
        experts = Counter(q.expert for q in asked)
        top = [q.top_probability for q in asked]
        groups.append(Group(
            id="g-" + hashlib.blake2b(key(phrasings[0].text).encode(), digest_size=4).hexdigest(),
            phrasings=phrasings,
            question_ids=sorted(q.id for q in asked),
            unanswered=sum(not q.answered for q in asked),
            low_confidence=sum(q.answered and p is not None and p < low for q, p in zip(asked, top, strict=True)),
            thumbs_down=sum(q.thumbs_down for q in asked),
            expert=experts.most_common(1)[0][0],
            last_asked=max(q.asked_at for q in asked),
        ))
    groups.sort(key=lambda g: (-g.count, -g.last_asked))
    return groups


def _most_common_text(questions: list[Stored]) -> str:
    """How a phrasing (one key: same words, any punctuation or script) was written most often;
    the most recent writing breaks ties."""
    counts = Counter(q.text for q in questions)
    return max(reversed(questions), key=lambda q: counts[q.text]).text


def candidates_for(engine: Engine, text: str, expert: str | None, k: int = 3) -> list[Shown]:
    """The bot's k best entries for a question now, with their text."""
    out = []
    for c in best_candidates.best(engine, text, expert, k):
        match = engine.entry(c.entry_id)
        if match is not None:
            out.append(Shown(c.entry_id, c.persona_id, match.persona.display_name, match.entry.question,
                             match.entry.answer, c.probability, c.shown))
    return out


# ---- decisions ----


def today() -> str:
    return Date.today().isoformat()


def attach(group: Group, entry_id: str, store: FeedbackStore, corpus_dir: Path,
           date: str | None = None) -> list[str]:
    """Add the group's phrasings to `entry_id`'s alternate questions (corpus/alternates.yaml, `by:
    review`) and take its questions out of the queue. Live after `persona-bot ingest` and /reload."""
    added = files.add_alternates(corpus_dir, entry_id, [p.text for p in group.phrasings], date or today())
    store.mark_reviewed(group.question_ids, "attached", entry_id)
    return added


@dataclass(frozen=True)
class DeclineResult:
    questions: list[str]  # added to corpus/declined.yaml
    negatives: list[str]  # ids of the cases added to eval/tune.yaml


def decline(group: Group, store: FeedbackStore, corpus_dir: Path, tune: Path | None,
            note: str = DEFAULT_NOTE, date: str | None = None) -> DeclineResult:
    """Mark the group out of scope: its phrasings go to corpus/declined.yaml (the matcher declines
    near-duplicates from the next load) and, when the tune set exists, to it as negatives."""
    day = date or today()
    texts = [p.text for p in group.phrasings]
    added = files.add_declined(corpus_dir, texts, day, note)
    negatives = files.add_negatives(tune, texts, day, note) if tune is not None and tune.exists() else []
    store.mark_reviewed(group.question_ids, "declined")
    return DeclineResult(added, negatives)


def default_tune() -> Path | None:
    """The checkout's eval/tune.yaml, if this runs from a checkout that has one (installed: None)."""
    path = Path(__file__).resolve().parents[2] / "eval" / "tune.yaml"
    return path if path.exists() else None


def find(groups: Sequence[Group], group_id: str) -> Group | None:
    return next((g for g in groups if g.id == group_id), None)


def candidate_entry(group: Group, choice: str) -> str | None:
    """'1'..'3' (a candidate of the group) or an entry id typed in full."""
    if choice.isdigit() and 1 <= int(choice) <= len(group.candidates):
        return group.candidates[int(choice) - 1].entry_id
    return choice if "-" in choice else None


# ---- one-call forms for a front end (Telegram's /review): each opens and closes the store ----


def pending(path: Path, engine: Engine, corpus_dir: Path,
            skipped: frozenset[str] | set[str] = frozenset()) -> list[Group]:
    """The queue of the store at `path`, minus the group ids in `skipped`; FileNotFoundError when
    nothing was ever recorded there."""
    with FeedbackStore.open(path, create=False) as store:
        return [g for g in build_queue(store, engine, corpus_dir) if g.id not in skipped]


def decide(path: Path, engine: Engine, corpus_dir: Path, tune: Path | None, group_id: str,
           choice: str) -> tuple[str, str | None]:
    """Apply a curator's choice to a group by id: "d" declines, "1".."3" or an entry id attaches.
    Returns ("declined" | "attached" | "gone" | "bad", the entry id when attached)."""
    with FeedbackStore.open(path, create=False) as store:
        group = find(build_queue(store, engine, corpus_dir), group_id)
        if group is None:
            return "gone", None
        if choice == "d":
            decline(group, store, corpus_dir, tune)
            return "declined", None
        entry = candidate_entry(group, choice)
        if entry is None or engine.entry(entry) is None:
            return "bad", None
        attach(group, entry, store, corpus_dir)
        return "attached", entry
