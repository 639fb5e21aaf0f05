"""What the conversation answers: one frozen dataclass per kind of reply, and the `Reply` union.

The front ends never render these directly: `bot/views/` turns each into a `View` (text parts,
buttons) once, and `telegram/render.py` / `render_text.py` only turn a view into HTML or text.
A `match` over `Reply` ends with `assert_never`, so a new kind here cannot be forgotten there.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from bot.conversation.commands import MENU, Command
from bot.matching import Answer, Comparison, Match, TopicCount
from bot.model import Persona

TOPIC_PAGE = 8  # topic buttons per /topics page


@dataclass
class ChatState:
    """What a chat (or, in a group, one member) remembers between messages: the expert it talks to
    (None = everyone). A front end loads it before a call and saves it if `expert_id` changed."""

    expert_id: str | None = None


@dataclass(frozen=True)
class Welcome:
    """/start: who is here and what to try; `current` is set by a deep link /start <expert-id>."""

    experts: list[Persona]
    examples: list[str]
    current: Persona | None = None
    english: bool = False


@dataclass(frozen=True)
class Help:
    commands: tuple[Command, ...]
    current: Persona | None = None
    english: bool = False


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
    `entry_of`: suggestion text -> (entry id, its whole question), so its button opens exactly it.
    `rivals`: the other experts with an answer to the shown answer's question (对比, 其他专家)."""

    answer: Answer
    record: str | None = None
    english: bool = False
    entry_of: dict[str, tuple[str, str]] = field(default_factory=dict)
    rivals: tuple[Persona, ...] = ()


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
class RivalPicker:
    """对比 under an answer: every other expert with an answer to its question, one button each."""

    match: Match
    rivals: tuple[Persona, ...]
    english: bool = False


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
    rivals: tuple[Persona, ...] = ()


@dataclass(frozen=True)
class EntryReply:
    """One recorded answer by id (a button or a /start q_<entry> link).

    When paging through an expert's answers ("更多X的观点"), `origin` is the entry the paging
    started from, `page` this one's number among the others (0-based) and `total` how many."""

    match: Match
    origin: str | None = None
    page: int = 0
    total: int = 0
    rivals: tuple[Persona, ...] = ()
    english: bool = False


@dataclass(frozen=True)
class NoMore:
    """A follow-up button with nothing (left) to show: a stale button. Shown as a toast."""

    text: str


@dataclass(frozen=True)
class Notice:
    """A plain text message (a setting confirmed, a refusal)."""

    text: str


@dataclass(frozen=True)
class Privacy(Notice):
    """/privacy: what is recorded of a question, for how long, and what never is."""


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
    commands: tuple[Command, ...] = MENU


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
    | RivalPicker
    | TopicList
    | TopicAnswer
    | EntryReply
    | NoMore
    | Notice
    | UnknownExpertReply
    | Usage
    | EmptyText
    | UnknownCommand
)
