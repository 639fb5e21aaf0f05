"""What buttons under a reply lead to: more of an expert, other experts, paging, compare steps.

Every method takes ids from untrusted callback data and answers `NoMore` (a toast) for ids that
are gone, never an exception. The buttons themselves are only shown when these lead somewhere:
`rivals` is computed once per reply and both the button and the tap use it.
"""

from __future__ import annotations

from bot.conversation.replies import (
    TOPIC_PAGE,
    AnswerReply,
    ComparePicker,
    CompareReply,
    EntryReply,
    NoMore,
    Reply,
    RivalPicker,
    TopicAnswer,
    TopicList,
)
from bot.matching import Answer, Comparison, Engine, Match
from bot.matching.results import Side
from bot.model import Persona

GONE = "这条内容已不存在。"
EXPERT_GONE = "这位专家已不在列表中。"


class FollowUps:
    """The follow-up half of `Conversation`; needs `engine` and `k` from it."""

    engine: Engine
    k: int

    def persona(self, persona_id: str | None) -> Persona | None:
        """The persona with this id, or None (unknown, or gone after a reload)."""
        if not persona_id:
            return None
        return next((p for p in self.engine.personas if p.id == persona_id), None)

    def rival_answers(self, entry_id: str) -> list[Match]:
        """Each other expert's own confident answer to this entry's question, most probable first.

        Asked of each expert on their own (as a comparison does), so 对比 and 其他专家 show exactly
        these. Cached per entry: a reload builds a new Conversation, so the cache never outlives
        its engine."""
        cache: dict[str, list[Match]] = self.__dict__.setdefault("_rivals", {})
        if entry_id in cache:
            return cache[entry_id]
        match = self.engine.entry(entry_id)
        found: list[Match] = []
        if match is not None:
            for persona in self.engine.personas:
                if persona.id == match.persona.id:
                    continue
                best = self.engine.answer(match.entry.question, persona=persona, k=1).matches
                if best and best[0].persona.id == persona.id:
                    found.append(best[0])
        found.sort(key=lambda m: -m.probability)
        cache[entry_id] = found
        return found

    def rivals(self, entry_id: str) -> tuple[Persona, ...]:
        """Every other expert with a confident answer to this entry's question, best first."""
        return tuple(m.persona for m in self.rival_answers(entry_id))

    def topics_page(self, persona_id: str | None, page: int) -> Reply:
        """A ◀ ▶ tap under /topics: the same list, another page of buttons."""
        persona = self.persona(persona_id) if persona_id else None
        if persona_id and persona is None:
            return NoMore(EXPERT_GONE)
        topics = self.engine.topics(persona)
        pages = max(1, -(-len(topics) // TOPIC_PAGE))
        return TopicList(topics, persona, min(max(page, 0), pages - 1))

    def compare_pick(self, first_id: str, second_id: str | None = None) -> Reply:
        """The button flow: first expert picked (offer the second), then both (offer shared topics)."""
        a = self.persona(first_id)
        if a is None:
            return NoMore(EXPERT_GONE)
        if second_id is None:
            return ComparePicker(self.engine.personas, first=a)
        b = self.persona(second_id)
        if b is None or b.id == a.id:
            return NoMore("请另选一位专家。")
        theirs = {t.id for t in self.engine.topics(b)}
        shared = [t for t in self.engine.topics(a) if t.id in theirs]
        return ComparePicker(self.engine.personas, first=a, second=b, topics=shared)

    def compare_topic(self, first_id: str, second_id: str, topic: str) -> Reply:
        """Two experts side by side on one topic: each one's first answer on it."""
        a, b = self.persona(first_id), self.persona(second_id)
        if a is None or b is None:
            return NoMore(EXPERT_GONE)
        sides = [Side(p, self.engine.topic_matches(topic, p)[:1]) for p in (a, b)]
        return CompareReply(Comparison(self.engine.topic_label(topic), topic, sides))

    def topic(self, topic: str, persona_id: str | None = None, index: int = 0) -> Reply:
        """A topic button: the answers on that topic (of one expert when given), the `index`th shown."""
        persona = self.persona(persona_id) if persona_id else None
        if persona_id and persona is None:
            return NoMore(EXPERT_GONE)
        matches = self.engine.topic_matches(topic, persona)
        if not matches or not 0 <= index < len(matches):
            return NoMore("这个话题下没有更多内容了。")
        return TopicAnswer(topic, self.engine.topic_label(topic), matches, persona, index,
                           self.rivals(matches[index].entry.id))

    def entry(self, entry_id: str, english: bool = False) -> Reply:
        """One recorded answer by id (a suggestion button, a 全文 button, a /start q_<id> link)."""
        match = self.engine.entry(entry_id)
        return EntryReply(match, rivals=self.rivals(entry_id), english=english) if match else NoMore(GONE)

    def more(self, entry_id: str, page: int = 0) -> Reply:
        """Page `page` of the same expert's other answers, ranked for this entry's question
        (`more_entries`). Every entry of the expert is reachable."""
        match = self.engine.entry(entry_id)
        if match is None:
            return NoMore(GONE)
        others = self.more_entries(entry_id)
        if not 0 <= page < len(others):
            return NoMore(f"{match.persona.display_name}没有更多回答了。")
        shown = self.engine.entry(others[page])
        if shown is None:  # pragma: no cover - ids come from the same engine
            return NoMore(GONE)
        return EntryReply(shown, entry_id, page, len(others), self.rivals(shown.entry.id))

    def more_entries(self, entry_id: str) -> list[str]:
        """Ids of the expert's other entries, ranked for this entry's question: the expert's own
        confident answers to it first (best first), then those sharing most topics with it, then
        the rest in source order. Cached per entry (a reload builds a new Conversation)."""
        cache: dict[str, list[str]] = self.__dict__.setdefault("_more", {})
        if entry_id in cache:
            return cache[entry_id]
        match = self.engine.entry(entry_id)
        if match is None:
            return []
        entries = [e for e in match.persona.entries if e.id != entry_id]
        asked = self.engine.answer(match.entry.question, persona=match.persona, k=len(match.persona.entries))
        first = [m.entry.id for m in asked.matches if m.entry.id != entry_id and m.persona.id == match.persona.id]
        topics = set(match.entry.topics)
        ranked = sorted(entries, key=lambda e: -len(topics & set(e.topics)))  # stable: source order breaks ties
        cache[entry_id] = list(dict.fromkeys([*first, *(e.id for e in ranked)]))
        return cache[entry_id]

    def others(self, entry_id: str) -> Reply:
        """Other experts on the entry's question: each rival's own best answer, the best shown first."""
        match = self.engine.entry(entry_id)
        if match is None:
            return NoMore(GONE)
        others = self.rival_answers(entry_id)
        if not others:
            return NoMore("其他专家没有谈到这个问题。")
        return AnswerReply(Answer(match.entry.question, None, list(others)), rivals=self.rivals(others[0].entry.id))

    def versus(self, entry_id: str) -> Reply:
        """对比 under an answer: with one rival, both sides on the entry's question; else pick one."""
        rivals = self.rivals(entry_id)
        if not rivals:
            return NoMore("其他专家没有谈到这个问题。")
        if len(rivals) == 1:
            return self.compare_entry(entry_id, rivals[0].id)
        match = self.engine.entry(entry_id)
        assert match is not None  # rivals are only found for an existing entry
        return RivalPicker(match, rivals)

    def compare_entry(self, entry_id: str, persona_id: str) -> Reply:
        """A rival picked under 对比: this answer beside the rival's own answer to its question
        (the one `rivals` found, so the side the button promised is there)."""
        match = self.engine.entry(entry_id)
        theirs = next((m for m in self.rival_answers(entry_id) if m.persona.id == persona_id), None)
        if match is None or theirs is None:
            return NoMore(GONE)
        sides = [Side(match.persona, [match]), Side(theirs.persona, [theirs])]
        return CompareReply(Comparison(match.entry.question, match.entry.topics[0] if match.entry.topics else None,
                                       sides))
