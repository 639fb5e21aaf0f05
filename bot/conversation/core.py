"""`Conversation`: parses what a user typed and asks the engine; the same object serves every chat.

Nothing here does I/O or knows about Telegram: a front end keeps one `ChatState` per chat (per
member in a group), passes it in, stores it afterwards if `state.expert_id` changed, and turns
the reply into a view (`bot/views`). Follow-up buttons are `follow_ups.FollowUps`.

With a `Recorder` (bot/feedback/recorder.py), every question a user asks (plain text or /ask) is
recorded for the curator loop; `AnswerReply.record` is then its reference, for 👍/👎 buttons.
Recording is fire-and-forget: it can neither slow nor break an answer.

A name in the question always wins over the chat's current expert (`Engine.answer` decides), and
`/reload` swaps the whole `Conversation`, so one call never sees two engines.
"""

from __future__ import annotations

import hashlib
import logging
import unicodedata
from collections.abc import Callable
from typing import TYPE_CHECKING

from bot.conversation.commands import MENU, USAGE, Command, parse_command
from bot.conversation.follow_ups import FollowUps
from bot.conversation.names import (
    CJK_NAME_LENGTHS,
    MAX_NAME_TOKENS,
    drop_separator,
    first_name,
    is_cjk,
    plausible_name,
)
from bot.conversation.replies import (
    About,
    AllExperts,
    AnswerReply,
    ChatState,
    ComparePicker,
    CompareReply,
    EmptyText,
    ExpertList,
    ExpertProfile,
    Help,
    Privacy,
    Reply,
    SmallTalkReply,
    TopicList,
    UnknownCommand,
    UnknownExpertReply,
    Usage,
    Welcome,
)
from bot.matching import Answer, Engine, UnknownExpert
from bot.model import Persona
from bot.paths import default_corpus_dir
from bot.smalltalk import SmallTalk, is_english

if TYPE_CHECKING:
    from bot.feedback.recorder import Recorder

logger = logging.getLogger(__name__)
QUOTE_LINK = "q_"  # /start q_<entry id>: a deep link to one quote


def has_content(text: str) -> bool:
    """True when text has a letter or digit: punctuation, symbols and emoji alone are no question."""
    return any(unicodedata.category(ch)[0] in "LN" for ch in text)


def short_key(text: str) -> str:
    """A stable 10-character key for text too long to carry in a button."""
    return hashlib.blake2b(text.encode("utf-8"), digest_size=5).hexdigest()


class Conversation(FollowUps):
    """Commands and questions in, typed replies out."""

    def __init__(self, engine: Engine, k: int = 3, recorder: Recorder | None = None,
                 smalltalk: SmallTalk | None = None, commands: tuple[Command, ...] = MENU) -> None:
        self.engine = engine
        self.commands = commands  # what /help lists: Telegram's menu, or the terminal chat's share
        self.k = k
        self.recorder = recorder
        self._record_failed = False
        self.smalltalk = smalltalk if smalltalk is not None else SmallTalk.load(default_corpus_dir())

    def with_engine(self, engine: Engine) -> Conversation:
        """The same conversation over a new engine (/reload swaps the whole object)."""
        return Conversation(engine, self.k, self.recorder, self.smalltalk, self.commands)

    # ---- entry points ----

    def handle(self, text: str, state: ChatState) -> Reply:
        """Any line a user typed: a command, or a question for the current expert."""
        parsed = parse_command(text)
        if parsed is None:
            return self.question(text, state)
        command, args, _ = parsed
        return self.command(command, args, state)

    def command(self, command: str, args: str, state: ChatState) -> Reply:
        """Run one command of the shared table by name (without the slash); others get the help."""
        handlers: dict[str, Callable[[str, ChatState], Reply]] = {
            "start": self.start,
            "help": lambda a, s: self.help(s, is_english(a)),
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
            return UnknownCommand(command, self.commands)
        return handler(args, state)

    # ---- commands ----

    def start(self, payload: str, state: ChatState, english: bool = False) -> Reply:
        """/start; /start <expert-id> opens that expert, /start q_<entry-id> shows that quote."""
        current = self.current(state)
        payload = payload.strip()
        if payload.startswith(QUOTE_LINK):
            return self.entry(payload[len(QUOTE_LINK):], english)
        if payload:
            try:
                current = self.engine.resolve(payload)
                state.expert_id = current.id
            except UnknownExpert:
                pass
        return Welcome(self.engine.personas, self.examples(), current, english)

    def help(self, state: ChatState, english: bool = False) -> Help:
        return Help(self.commands, self.current(state), english)

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
        """Plain text: a question to `persona_id`, else the chat's current expert, else everyone.
        A name in the question wins over both (the engine sees it)."""
        if not has_content(text):
            return EmptyText(self.current(state))
        chat = self.smalltalk.match(text)
        if chat is not None:
            english = is_english(text)
            return SmallTalkReply(chat.name, chat.en if english else chat.zh, self.examples(bare=True)[:2], english)
        named = self.take_name(text)
        if named is not None and not has_content(named[1]):  # just a name: who is that?
            return ExpertProfile(named[0], self.engine.topics(named[0]))
        persona = self.persona(persona_id) if persona_id else self.current(state)
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
        rivals = self.rivals(answer.matches[0].entry.id) if answer.matches else ()
        return AnswerReply(answer, record, is_english(text), self._suggested_entries(answer), rivals)

    def _suggested_entries(self, answer: Answer) -> dict[str, tuple[str, str]]:
        """Which suggestions are an entry's question (the engine cuts them to 60 characters), by text."""
        found: dict[str, tuple[str, str]] = {}
        for s in answer.suggestions:
            persona = self.persona(s.persona_id)
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

    def compare(self, args: str, state: ChatState) -> Reply:
        """/compare A B QUESTION; without arguments, start the pick-two-experts flow."""
        del state
        if not args.strip():
            return ComparePicker(self.engine.personas)
        first = self.take_name(args)
        if first is None:
            return self._unknown(first_name(args), USAGE["compare"])
        a, rest = first
        second = self.take_name(drop_separator(rest))
        if second is None:
            if not rest.strip():
                return ComparePicker(self.engine.personas, first=a)
            return self._unknown(first_name(drop_separator(rest)), USAGE["compare"], first=a)
        b, question = second
        if a.id == b.id:
            return Usage("compare", USAGE["compare"])
        if not has_content(question):
            return self.compare_pick(a.id, b.id)
        return CompareReply(self.engine.compare(a, b, question.strip()), is_english(question))

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
        return self.persona(state.expert_id) if state.expert_id else None

    def examples(self, bare: bool = False) -> list[str]:
        """Example questions drawn from the data and checked against the engine: each one is an
        entry's own question that the engine, asked of everyone (as a tapped example is), answers
        with that entry, so tapping it never ends in "no answer". Computed once per Conversation
        (a reload builds a new one).

        `bare`: "丁磊：问题" style is not wanted, the question alone is (for buttons that ask it)."""
        if "_examples" not in self.__dict__:
            found: list[tuple[Persona, str]] = []
            for persona in self.engine.personas:
                for entry in persona.entries:
                    if not (4 <= len(entry.question) <= 30 and entry.question[-1] in "?？"):
                        continue
                    answered = self.engine.answer(entry.question, k=1).matches  # as a tap asks it: anyone
                    if answered and answered[0].entry.id == entry.id:
                        found.append((persona, entry.question))
                        break
                if len(found) == 3:
                    break
            self.__dict__["_examples"] = found
        pairs: list[tuple[Persona, str]] = self.__dict__["_examples"]
        return [q if bare else f"/ask {p.display_name} {q}" for p, q in pairs]

    def take_name(self, text: str) -> tuple[Persona, str] | None:
        """Split a leading expert name off text: longest run of words first, then a glued CJK name."""
        stripped = text.strip()
        tokens = stripped.split()
        if not tokens:
            return None
        for n in range(min(MAX_NAME_TOKENS, len(tokens)), 0, -1):
            persona = self._try_resolve(" ".join(tokens[:n]), n)
            if persona is not None:
                return persona, " ".join(tokens[n:])
        head = tokens[0]
        for length in CJK_NAME_LENGTHS:
            if len(head) > length and all(is_cjk(c) for c in head[:length]):
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
        return persona if plausible_name(name, n_tokens, persona) else None

    def _unknown(self, name: str, usage: str, first: Persona | None = None) -> Reply:
        """/compare with a name nobody has: say so, offer the closest, leave the chat's expert alone."""
        try:
            self.engine.resolve(name)
        except UnknownExpert as exc:
            closest = [p for p in exc.closest if first is None or p.id != first.id]
            experts = [p for p in exc.all_experts if first is None or p.id != first.id]
            return UnknownExpertReply(name, closest, experts, for_compare=True, first=first)
        return Usage("compare", usage)
