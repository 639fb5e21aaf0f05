"""The command layer every front end shares: text in, a typed reply out.

Telegram (`bot/telegram/`) and the terminal chat (`bot/chat.py`) both speak the same commands over
the same engine, so parsing and the choice of what to answer live here, once. Nothing in this
module does I/O or knows about Telegram: a front end keeps one `ChatState` per chat, passes it
in, stores it afterwards if `state.expert_id` changed, and renders the reply dataclass it gets back.

Usage::

    from bot.conversation import ChatState, Conversation
    from bot.matching import Engine

    conv = Conversation(Engine.load())
    state = ChatState()                      # per chat; persist state.expert_id yourself
    reply = conv.handle("/expert 丁磊", state) # -> ExpertProfile, state.expert_id == "ding-lei"
    reply = conv.handle("开源怎么看", state)     # plain text = question -> AnswerReply
    reply = conv.handle("/compare 丁磊 沈向洋 监管", state)  # -> CompareReply
    match reply:
        case AnswerReply(answer=answer): ...  # render answer.matches / suggestions / covered_by

With a `Recorder` (bot/feedback/recorder.py), every question a user asks (plain text or /ask) is
recorded for the curator loop; `AnswerReply.record` is then its reference, for 👍/👎 buttons.
Recording is fire-and-forget: it can neither slow nor break an answer.

Commands: /start [EXPERT-ID], /help, /about, /experts, /expert NAME, /all, /ask [NAME] QUESTION,
/topics [NAME], /compare A B QUESTION, /privacy. Names may be several words ("Harry Shum") or Chinese
glued to the question ("/ask 丁磊开源怎么看"); the longest leading run `Engine.resolve` accepts
is the name. `Conversation.engine` may be swapped (for /reload) between calls.
"""

from __future__ import annotations

import hashlib
import logging
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from bot.matching import Answer, Comparison, Engine, Match, TopicCount, UnknownExpert
from bot.matching.results import Side
from bot.model import Persona
from bot.paths import default_corpus_dir
from bot.smalltalk import SmallTalk, is_english
from bot.text import fold

if TYPE_CHECKING:
    from bot.feedback.recorder import Recorder

logger = logging.getLogger(__name__)

COMMANDS: tuple[tuple[str, str], ...] = (
    ("ask", "向专家提问：/ask [专家] 问题"),
    ("experts", "列出所有专家"),
    ("expert", "选定一位专家：/expert 名字"),
    ("all", "不限专家，向所有人提问"),
    ("topics", "按话题浏览：/topics [专家]"),
    ("compare", "对比专家：/compare A和B 问题"),
    ("about", "数据来源与回答方式"),
    ("privacy", "记录了什么、保存多久"),
    ("help", "使用说明"),
    ("start", "开始"),
)
"""(command, description) in menu order: Telegram's set_my_commands and every help text."""

_MAX_NAME_TOKENS = 3  # "Harry Shum", "Heung-Yeung Harry Shum"
_CJK_NAME_LENGTHS = (4, 3, 2)  # Chinese names glued to the question: 欧阳明高 / 沈向洋 / 丁磊
_NAME_SEPARATORS = frozenset({"vs", "vs.", "和", "与", "跟", "对比", "and", ",", "，", "、", "|"})
_GLUED_SEPARATORS = ("和", "与", "跟", "、", "，", ",", "/")  # "丁磊和沈为": a separator glued to the name
TOPIC_PAGE = 8  # topic buttons per /topics page


@dataclass
class ChatState:
    """What a chat remembers between messages: the expert it is talking to (None = everyone)."""

    expert_id: str | None = None


# ---- replies: one dataclass per kind of answer; front ends render them ----


@dataclass(frozen=True)
class Welcome:
    """/start: who is here and what to try; `current` is set by a deep link /start <expert-id>."""

    experts: list[Persona]
    examples: list[str]
    current: Persona | None = None


@dataclass(frozen=True)
class Help:
    commands: tuple[tuple[str, str], ...]
    current: Persona | None = None


@dataclass(frozen=True)
class About:
    """/about: where answers come from and how one is chosen."""

    experts: list[Persona]
    entry_count: int
    source_count: int


@dataclass(frozen=True)
class ExpertList:
    """/experts: everyone, marking the chat's current expert."""

    experts: list[Persona]
    current: Persona | None = None


@dataclass(frozen=True)
class ExpertProfile:
    """Who an expert is and what they spoke about; `selected` when the chat now talks to them."""

    persona: Persona
    topics: list[TopicCount]
    selected: bool = False


@dataclass(frozen=True)
class AllExperts:
    """/all: the chat's questions now go to every expert."""

    experts: list[Persona]


@dataclass(frozen=True)
class AnswerReply:
    """A question answered (or not: `answer.matches` empty) with what to offer instead.

    `record` is the recorded question's reference when the curator loop records (for 👍/👎).
    `english`: the question had no Chinese character, so labels and buttons are in English.
    `entry_of`: suggestion text -> (entry id, its whole question), so its button opens exactly it."""

    answer: Answer
    record: str | None = None
    english: bool = False
    entry_of: dict[str, tuple[str, str]] = field(default_factory=dict)


@dataclass(frozen=True)
class CompareReply:
    comparison: Comparison
    english: bool = False


@dataclass(frozen=True)
class SmallTalkReply:
    """你好 / 谢谢 / who are you: a short friendly line and example questions to tap."""

    kind: str
    text: str
    examples: list[str]
    english: bool = False


@dataclass(frozen=True)
class ComparePicker:
    """/compare without arguments: pick the first expert, then the second, then a topic."""

    experts: list[Persona]
    first: Persona | None = None
    second: Persona | None = None
    topics: list[TopicCount] = field(default_factory=list)


@dataclass(frozen=True)
class TopicList:
    """/topics: topics with entry counts, for everyone or one expert; `page` of TOPIC_PAGE buttons."""

    topics: list[TopicCount]
    persona: Persona | None = None
    page: int = 0


@dataclass(frozen=True)
class TopicAnswer:
    """The recorded answers on one topic (a topic button), best first."""

    topic: str
    label: str
    matches: list[Match]
    persona: Persona | None = None
    index: int = 0  # the one shown; ◀ ▶ page through the others


@dataclass(frozen=True)
class EntryReply:
    """One recorded answer by id (a button that refers back to an answer).

    When paging through an expert's answers ("更多X的观点"), `origin` is the entry the paging
    started from, `page` this one's number among the others (0-based) and `total` how many."""

    match: Match
    origin: str | None = None
    page: int = 0
    total: int = 0


@dataclass(frozen=True)
class NoMore:
    """A follow-up button with nothing (left) to show: stale button or exhausted list."""

    text: str


@dataclass(frozen=True)
class Privacy(NoMore):
    """/privacy: what is recorded of a question, for how long, and what never is.

    A NoMore, so a renderer without its own case shows the text as it is."""


@dataclass(frozen=True)
class UnknownExpertReply:
    """A name nobody has. In /compare (`for_compare`), buttons pick for the comparison (after
    `first`, when one name was known) and never change the chat's current expert."""

    name: str
    closest: list[Persona]
    experts: list[Persona]
    for_compare: bool = False
    first: Persona | None = None


@dataclass(frozen=True)
class Usage:
    """A command missing its arguments: say how to use it."""

    command: str
    usage: str


@dataclass(frozen=True)
class EmptyText:
    """Nothing to answer (blank, punctuation or emoji only): ask for a question."""

    current: Persona | None = None


@dataclass(frozen=True)
class UnknownCommand:
    command: str
    commands: tuple[tuple[str, str], ...] = COMMANDS


Reply = (
    Welcome
    | Help
    | About
    | ExpertList
    | ExpertProfile
    | AllExperts
    | AnswerReply
    | CompareReply
    | SmallTalkReply
    | ComparePicker
    | TopicList
    | TopicAnswer
    | EntryReply
    | NoMore
    | UnknownExpertReply
    | Usage
    | EmptyText
    | UnknownCommand
)

USAGE = {
    "ask": "/ask [专家] 问题 —— 例如 /ask 丁磊 开源怎么看",
    "expert": "/expert 名字 —— 例如 /expert 丁磊",
    "compare": "/compare 专家A和专家B 问题 —— 例如 /compare 丁磊和沈向洋 监管（也可以 A vs B）",
}


def parse_command(text: str) -> tuple[str, str, str | None] | None:
    """Split "/cmd@Bot args" into (cmd, args, bot_username); None when text is not a command."""
    stripped = text.strip()
    if not stripped.startswith("/") or len(stripped) < 2:
        return None
    head, _, args = stripped.partition(" ")
    if "\n" in head:  # "/ask\nquestion"
        head, _, more = head.partition("\n")
        args = more + (" " + args if args else "")
    command, _, username = head[1:].partition("@")
    if not command or not all(c.isascii() and (c.isalnum() or c == "_") for c in command):
        return None
    return command.lower(), args.strip(), username or None


def has_content(text: str) -> bool:
    """True when text has a letter or digit: punctuation, symbols and emoji alone are no question."""
    return any(unicodedata.category(ch)[0] in "LN" for ch in text)


def short_key(text: str) -> str:
    """A stable 10-character key for text too long to carry in a button."""
    return hashlib.blake2b(text.encode("utf-8"), digest_size=5).hexdigest()


class Conversation:
    """Parses commands and asks the engine; the same object serves every chat."""

    def __init__(self, engine: Engine, k: int = 3, recorder: Recorder | None = None,
                 smalltalk: SmallTalk | None = None) -> None:
        self.engine = engine
        self.k = k
        self.recorder = recorder
        self._record_failed = False
        self.smalltalk = smalltalk if smalltalk is not None else SmallTalk.load(default_corpus_dir())

    # ---- entry points ----

    def handle(self, text: str, state: ChatState) -> Reply:
        """Any line a user typed: a command, or a question for the current expert."""
        parsed = parse_command(text)
        if parsed is None:
            return self.question(text, state)
        command, args, _ = parsed
        return self.command(command, args, state)

    def command(self, command: str, args: str, state: ChatState) -> Reply:
        """Run one command by name (without the slash); unknown names get the help text."""
        handlers: dict[str, Callable[[str, ChatState], Reply]] = {
            "start": self.start,
            "help": lambda _a, s: self.help(s),
            "about": lambda _a, _s: self.about(),
            "privacy": lambda _a, _s: self.privacy(),
            "experts": lambda _a, s: self.experts(s),
            "expert": self.expert,
            "all": lambda _a, s: self.all(s),
            "ask": self.ask,
            "topics": self.topics,
            "compare": self.compare,
        }
        handler = handlers.get(command.lower())
        if handler is None:
            return UnknownCommand(command)
        return handler(args, state)

    # ---- commands ----

    def start(self, payload: str, state: ChatState) -> Welcome:
        """/start, or /start <expert-id> from a deep link, which opens that expert."""
        current = self.current(state)
        if payload.strip():
            try:
                current = self.engine.resolve(payload.strip())
                state.expert_id = current.id
            except UnknownExpert:
                pass
        return Welcome(self.engine.personas, self.examples(), current)

    def help(self, state: ChatState) -> Help:
        return Help(COMMANDS, self.current(state))

    def about(self) -> About:
        personas = self.engine.personas
        sources = {(s.outlet, s.title, s.date) for p in personas for s in p.sources}
        return About(personas, sum(len(p.entries) for p in personas), len(sources))

    def privacy(self) -> Privacy:
        from bot.feedback.recorder import privacy_notice

        return Privacy(privacy_notice(self.recorder))

    def experts(self, state: ChatState) -> ExpertList:
        return ExpertList(self.engine.personas, self.current(state))

    def expert(self, name: str, state: ChatState) -> Reply:
        """/expert NAME: talk to this expert from now on; without a name, list them."""
        if not name.strip():
            return ExpertList(self.engine.personas, self.current(state))
        try:
            persona = self.engine.resolve(name.strip())
        except UnknownExpert as exc:
            return UnknownExpertReply(name.strip(), exc.closest, exc.all_experts)
        return self.select(persona.id, state)

    def select(self, persona_id: str, state: ChatState) -> Reply:
        """Make an expert (by id, e.g. from a button) the chat's current one and introduce them."""
        try:
            persona = self.engine.resolve(persona_id)
        except UnknownExpert as exc:
            return UnknownExpertReply(persona_id, exc.closest, exc.all_experts)
        state.expert_id = persona.id
        return ExpertProfile(persona, self.engine.topics(persona), selected=True)

    def all(self, state: ChatState) -> AllExperts:
        state.expert_id = None
        return AllExperts(self.engine.personas)

    def ask(self, args: str, state: ChatState) -> Reply:
        """/ask [NAME] QUESTION: a leading name picks the expert for this question only."""
        if not args.strip():
            return Usage("ask", USAGE["ask"])
        taken = self.take_name(args)
        if taken is None:
            return self.question(args, state)
        persona, rest = taken
        if not has_content(rest):
            return ExpertProfile(persona, self.engine.topics(persona))
        answer = self.engine.answer(rest, persona=persona, k=self.k)
        return self._answered(rest, persona, answer)

    def question(self, text: str, state: ChatState, persona_id: str | None = None) -> Reply:
        """Plain text: a question to `persona_id`, else the chat's current expert, else everyone."""
        if not has_content(text):
            return EmptyText(self.current(state))
        chat = self.smalltalk.match(text)
        if chat is not None:
            english = is_english(text)
            return SmallTalkReply(chat.name, chat.en if english else chat.zh, self.examples(bare=True)[:2], english)
        named = self.take_name(text)
        if named is not None and not has_content(named[1]):  # just a name: who is that?
            return ExpertProfile(named[0], self.engine.topics(named[0]))
        persona = self._persona(persona_id) if persona_id else self.current(state)
        answer = self.engine.answer(text.strip(), persona=persona, k=self.k)
        if answer.profile is not None and not answer.matches:
            return ExpertProfile(answer.profile, self.engine.topics(answer.profile))
        reply = self._answered(text, persona, answer)
        if answer.comparison is not None and answer.matches:  # several experts named, or "大家怎么看"
            return CompareReply(answer.comparison, reply.english)
        return reply

    def _answered(self, text: str, persona: Persona | None, answer: Answer) -> AnswerReply:
        """Record the question and wrap the engine's answer for the front ends."""
        record = self._record(text.strip(), persona, answer)
        return AnswerReply(answer, record, is_english(text), self._suggested_entries(answer))

    def _suggested_entries(self, answer: Answer) -> dict[str, tuple[str, str]]:
        """Which suggestions are an entry's question (the engine cuts them to 60 characters), by text."""
        found: dict[str, tuple[str, str]] = {}
        for s in answer.suggestions:
            persona = self._persona(s.persona_id)
            for p in [persona] if persona else self.engine.personas:
                entry = next((e for e in p.entries if e.question.startswith(s.text)), None)
                if entry is not None:
                    found[s.text] = (entry.id, entry.question)
                    break
        return found

    def topics(self, args: str, state: ChatState) -> Reply:
        """/topics [NAME]: topics of one expert (default: the current one) or of everyone."""
        persona = self.current(state)
        if args.strip():
            try:
                persona = self.engine.resolve(args.strip())
            except UnknownExpert as exc:
                return UnknownExpertReply(args.strip(), exc.closest, exc.all_experts)
        return TopicList(self.engine.topics(persona), persona)

    def topics_page(self, persona_id: str | None, page: int) -> Reply:
        """A ◀ ▶ tap under /topics: the same list, another page of buttons."""
        persona = self._persona(persona_id) if persona_id else None
        if persona_id and persona is None:
            return NoMore("这位专家已不在列表中。")
        topics = self.engine.topics(persona)
        pages = max(1, -(-len(topics) // TOPIC_PAGE))
        return TopicList(topics, persona, min(max(page, 0), pages - 1))

    def compare(self, args: str, state: ChatState) -> Reply:
        """/compare A B QUESTION; without arguments, start the pick-two-experts flow."""
        del state
        if not args.strip():
            return ComparePicker(self.engine.personas)
        first = self.take_name(args)
        if first is None:
            return self._unknown(_first_name(args), USAGE["compare"])
        a, rest = first
        second = self.take_name(_drop_separator(rest))
        if second is None:
            if not rest.strip():
                return ComparePicker(self.engine.personas, first=a)
            return self._unknown(_first_name(_drop_separator(rest)), USAGE["compare"], first=a)
        b, question = second
        if a.id == b.id:
            return Usage("compare", USAGE["compare"])
        if not has_content(question):
            return self.compare_pick(a.id, b.id)
        return CompareReply(self.engine.compare(a, b, question.strip()), is_english(question))

    # ---- follow-ups (buttons); ids come from untrusted callback data ----

    def compare_pick(self, first_id: str, second_id: str | None = None) -> Reply:
        """The button flow: first expert picked (offer the second), then both (offer shared topics)."""
        a = self._persona(first_id)
        if a is None:
            return NoMore("这位专家已不在列表中。")
        if second_id is None:
            return ComparePicker(self.engine.personas, first=a)
        b = self._persona(second_id)
        if b is None or b.id == a.id:
            return NoMore("请另选一位专家。")
        theirs = {t.id for t in self.engine.topics(b)}
        shared = [t for t in self.engine.topics(a) if t.id in theirs]
        return ComparePicker(self.engine.personas, first=a, second=b, topics=shared)

    def compare_topic(self, first_id: str, second_id: str, topic: str) -> Reply:
        """Two experts side by side on one topic: each one's first answer on it."""
        a, b = self._persona(first_id), self._persona(second_id)
        if a is None or b is None:
            return NoMore("这位专家已不在列表中。")
        sides = [Side(p, self.engine.topic_matches(topic, p)[:1]) for p in (a, b)]
        return CompareReply(Comparison(self.engine.topic_label(topic), topic, sides))

    def topic(self, topic: str, persona_id: str | None = None, index: int = 0) -> Reply:
        """A topic button: the answers on that topic (of one expert when given), the `index`th shown."""
        persona = self._persona(persona_id) if persona_id else None
        if persona_id and persona is None:
            return NoMore("这位专家已不在列表中。")
        matches = self.engine.topic_matches(topic, persona)
        if not matches:
            return NoMore("这个话题下没有内容了。")
        if not 0 <= index < len(matches):
            return NoMore("这个话题下没有更多内容了。")
        return TopicAnswer(topic, self.engine.topic_label(topic), matches, persona, index)

    def entry(self, entry_id: str) -> Reply:
        match = self.engine.entry(entry_id)
        return EntryReply(match) if match else NoMore("这条内容已不存在。")

    def more(self, entry_id: str, page: int = 0) -> Reply:
        """Page `page` of the same expert's other answers: those sharing the most topics with this
        entry first, then the rest in source order. Every entry of the expert is reachable."""
        match = self.engine.entry(entry_id)
        if match is None:
            return NoMore("这条内容已不存在。")
        others = self.more_entries(entry_id)
        if not others:
            return NoMore(f"{match.persona.display_name}没有更多回答了。")
        if not 0 <= page < len(others):
            return NoMore(f"{match.persona.display_name}没有更多回答了。")
        shown = self.engine.entry(others[page])
        if shown is None:  # pragma: no cover - ids come from the same engine
            return NoMore("这条内容已不存在。")
        return EntryReply(shown, entry_id, page, len(others))

    def more_entries(self, entry_id: str) -> list[str]:
        """Ids of the expert's other entries, closest in topic to `entry_id` first."""
        match = self.engine.entry(entry_id)
        if match is None:
            return []
        topics = set(match.entry.topics)
        entries = [e for e in match.persona.entries if e.id != entry_id]
        ranked = sorted(entries, key=lambda e: -len(topics & set(e.topics)))  # stable: source order breaks ties
        return [e.id for e in ranked]

    def others(self, entry_id: str) -> Reply:
        """Other experts on the entry's question: the best answer from anyone but its author."""
        match = self.engine.entry(entry_id)
        if match is None:
            return NoMore("这条内容已不存在。")
        answer = self.engine.answer(match.entry.question, k=self.k + 5)
        others = [m for m in answer.matches if m.persona.id != match.persona.id]
        if not others:
            topic = match.entry.topics[0]
            others = [m for m in self.engine.topic_matches(topic) if m.persona.id != match.persona.id]
        if not others:
            return NoMore("其他专家没有谈到这个问题。")
        return AnswerReply(Answer(match.entry.question, None, others[: self.k]))

    def compare_candidates(self, entry_id: str) -> list[Persona]:
        """Experts who could be set against an entry's author: those with answers on its topic."""
        match = self.engine.entry(entry_id)
        if match is None:
            return []
        seen: dict[str, Persona] = {}
        for m in self.engine.topic_matches(match.entry.topics[0]):
            if m.persona.id != match.persona.id:
                seen.setdefault(m.persona.id, m.persona)
        return list(seen.values())

    # ---- helpers ----

    def _record(self, text: str, persona: Persona | None, answer: Answer) -> str | None:
        """Hand the question to the recorder, if any; whatever happens there, the answer goes out."""
        if self.recorder is None:
            return None
        try:
            return self.recorder.record(text, persona.id if persona else None, answer)
        except Exception:
            if not self._record_failed:  # once: a broken recorder must not flood the log either
                self._record_failed = True
                logger.exception("feedback: recording a question failed; answering goes on")
            return None

    def current(self, state: ChatState) -> Persona | None:
        """The chat's expert, or None when unset or gone after a reload."""
        return self._persona(state.expert_id) if state.expert_id else None

    def examples(self, bare: bool = False) -> list[str]:
        """Example questions drawn from the data, so they always have an answer.

        `bare`: "丁磊：问题" style is not wanted, the question alone is (for buttons that ask it)."""
        examples: list[str] = []
        for persona in self.engine.personas:
            short = [e.question for e in persona.entries if 4 <= len(e.question) <= 30 and e.question[-1] in "?？"]
            if short:
                examples.append(short[0] if bare else f"/ask {persona.display_name} {short[0]}")
            if len(examples) == 3:
                break
        return examples

    def take_name(self, text: str) -> tuple[Persona, str] | None:
        """Split a leading expert name off text: longest run of words first, then a glued CJK name."""
        stripped = text.strip()
        tokens = stripped.split()
        if not tokens:
            return None
        for n in range(min(_MAX_NAME_TOKENS, len(tokens)), 0, -1):
            persona = self._try_resolve(" ".join(tokens[:n]), n)
            if persona is not None:
                return persona, " ".join(tokens[n:])
        head = tokens[0]
        for length in _CJK_NAME_LENGTHS:
            if len(head) > length and all(_is_cjk(c) for c in head[:length]):
                persona = self._try_resolve(head[:length], 1)
                if persona is not None:
                    return persona, stripped[length:].strip()
        return None

    def _try_resolve(self, name: str, n_tokens: int) -> Persona | None:
        """engine.resolve, guarded so a forgiving resolver cannot swallow the question too."""
        try:
            persona = self.engine.resolve(name)
        except UnknownExpert:
            return None
        return persona if _plausible_name(name, n_tokens, persona) else None

    def _persona(self, persona_id: str | None) -> Persona | None:
        if not persona_id:
            return None
        for persona in self.engine.personas:
            if persona.id == persona_id:
                return persona
        return None

    def _unknown(self, name: str, usage: str, first: Persona | None = None) -> Reply:
        """/compare with a name nobody has: say so, offer the closest, leave the chat's expert alone."""
        try:
            self.engine.resolve(name)
        except UnknownExpert as exc:
            closest = [p for p in exc.closest if first is None or p.id != first.id]
            experts = [p for p in exc.all_experts if first is None or p.id != first.id]
            return UnknownExpertReply(name, closest, experts, for_compare=True, first=first)
        return Usage("compare", usage)


def _drop_separator(text: str) -> str:
    """'vs 沈向洋 …' -> '沈向洋 …' and '和沈为 …' -> '沈为 …', so "/compare A vs B Q" and
    "/compare A和B Q" work too."""
    stripped = text.strip()
    head, _, rest = stripped.partition(" ")
    if head.lower() in _NAME_SEPARATORS:
        return rest
    for sep in _GLUED_SEPARATORS:
        if stripped.startswith(sep):
            return stripped[len(sep):].strip()
    return text


def _first_name(text: str) -> str:
    """The word a user meant as a name: "马云和丁磊 X" -> "马云"."""
    head = text.strip().split()[0] if text.strip() else text
    for sep in _GLUED_SEPARATORS:
        if sep in head[1:]:
            return head[: head.index(sep, 1)]
    return head


def _plausible_name(candidate: str, n_tokens: int, persona: Persona) -> bool:
    """Is candidate one whole name of persona, not a name plus part of the question?

    The engine's resolve() is forgiving (it finds a name inside longer text), which is right for
    "/expert" but would swallow "沈向洋 监管" whole here. So a candidate must equal one of the
    persona's names after folding script, width and case; only a single Latin word ("shum") is
    left to the engine's judgement.
    """
    key = _name_key(candidate)
    names = [persona.name, persona.name_simplified, persona.pinyin, persona.id, *persona.aliases]
    if key in {_name_key(n) for n in names}:
        return True
    return n_tokens == 1 and candidate.isascii() and candidate.isalpha()


def _name_key(name: str) -> str:
    return "".join(ch for ch in fold(name) if ch.isalnum())


def _is_cjk(ch: str) -> bool:
    return "\u4e00" <= ch <= "\u9fff" or "\u3400" <= ch <= "\u4dbf"
