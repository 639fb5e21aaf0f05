"""Speaker turns out of cleaned text, per source format, paired into question and answer.

Interviews and round-tables are split on the speaker labels that sources.yaml lists (full- or
half-width colon, optional space before it), wherever a label starts a line or follows the end
of a sentence, so run-on pages split the same way as tidy ones. Speeches have no questions: they
split into sections, each titled by its heading.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

Part = Literal["interviewer", "moderator", "expert"]

_SENTENCE = re.compile(r"[^。！？?!]*(?:[。！？?!]+[”」』\"]?|$)")
_SENTENCE_END = "。！？?!…”」』\""
_MIN_DEDUPE = 8


@dataclass(frozen=True)
class Turn:
    """What one speaker said between two labels; `start`/`end` index the cleaned text."""

    label: str
    start: int
    end: int


@dataclass(frozen=True)
class Exchange:
    """One answer by one speaker, with the question it answers (or the section title)."""

    speaker: str
    question: str
    answer: str
    position: int


def _label_pattern(labels: list[str]) -> re.Pattern[str]:
    names = "|".join(re.escape(label) for label in sorted(labels, key=len, reverse=True))
    return re.compile(rf"(?:^|(?<=[{_SENTENCE_END}\s]))(?P<label>{names})[ \t]?[:：]", re.M)


def split_turns(text: str, labels: list[str]) -> tuple[str, list[Turn]]:
    """Split on speaker labels; return the preamble before the first turn and the turns.

    A label followed by the same name again (`安筱鵬:安筱鵬 阿里雲智能集團副總裁`) is a title line
    introducing the speaker, not a turn.
    """
    found = [
        m for m in _label_pattern(labels).finditer(text) if not text[m.end() :].lstrip().startswith(m["label"])
    ]
    turns: list[Turn] = []
    for i, match in enumerate(found):
        end = found[i + 1].start() if i + 1 < len(found) else len(text)
        start = match.end()
        while start < end and text[start].isspace():
            start += 1
        while end > start and text[end - 1].isspace():
            end -= 1
        if end > start:
            turns.append(Turn(match["label"], start, end))
    preamble = text[: found[0].start()] if found else text
    return preamble, turns


def _sentences(text: str, start: int, end: int) -> list[tuple[int, int, str]]:
    spans = []
    for match in _SENTENCE.finditer(text, start, end):
        if match.group().strip():
            spans.append((match.start(), match.end(), re.sub(r"\s+", "", match.group())))
    return spans


def drop_repeats(text: str, preamble: str, turns: list[Turn]) -> list[Turn]:
    """Keep each sentence once: scraper copies of the page are cut, the first telling stays.

    Pages scraped twice repeat paragraphs unevenly (with or without their label, with or without
    a space between copies) and glue the journalist's intro to the last answer. A turn keeps
    the run of sentences not said before in the document, from its first new sentence up to the
    first repeated one; a turn with nothing new is a copy and goes.
    """
    seen = {s for _, _, s in _sentences(preamble, 0, len(preamble)) if len(s) >= _MIN_DEDUPE}
    kept: list[Turn] = []
    for turn in turns:
        sentences = _sentences(text, turn.start, turn.end)
        run: list[tuple[int, int, str]] = []
        for sentence in sentences:
            repeated = sentence[2] in seen and len(sentence[2]) >= _MIN_DEDUPE
            if repeated and run:
                break
            if not repeated:
                run.append(sentence)
        for _, _, norm in sentences:
            seen.add(norm)
        if run:
            start, end = run[0][0], run[-1][1]
            while end > start and text[end - 1].isspace():
                end -= 1
            kept.append(Turn(turn.label, start, end))
    return kept


def pair_interview(text: str, turns: list[Turn], parts: dict[str, Part]) -> list[Exchange]:
    """Each expert turn answers the interviewer's (or moderator's) question before it.

    In a round-table several guests answer the same question in turn. A moderator's last turn
    that nobody answers is his own closing conclusion: an answer, titled by its lead clause.
    """
    exchanges: list[Exchange] = []
    question = ""
    for i, turn in enumerate(turns):
        said = text[turn.start : turn.end]
        if parts[turn.label] == "expert":
            if question:
                exchanges.append(Exchange(turn.label, question, said, i))
            continue
        is_last = all(parts[t.label] != "expert" for t in turns[i + 1 :])
        if parts[turn.label] == "moderator" and is_last:
            exchanges.append(Exchange(turn.label, _lead(said), said, i))
        else:
            question = said
    return exchanges


def _lead(text: str) -> str:
    """The lead clause of a passage, as a title: up to the first colon or sentence end."""
    match = re.match(r"[^:：。！？?!\n]+", text)
    return (match.group() if match else text[:40]).strip()


def _is_heading(line: str) -> bool:
    return len(line) <= 30 and not line.endswith(tuple(_SENTENCE_END + "，,；;：:"))


def split_speech(text: str, speaker: str) -> list[Exchange]:
    """One answer unit per section, titled by its heading.

    A speech's section is one line of thought (「三件令人震撼的事」, 「幾點思考」: 首先…其次…最后),
    so it stays whole: a question about the list gets the list, and a question about one point
    still finds it, because matching scores passages inside the unit and says which part matched.
    The first heading is the speech's title and holds its opening.
    """
    sections: list[tuple[str, list[str]]] = []
    for line in text.split("\n"):
        if _is_heading(line):
            sections.append((line, []))
        elif sections:
            sections[-1][1].append(line)
    return [
        Exchange(speaker, heading, "\n".join(paragraphs), i)
        for i, (heading, paragraphs) in enumerate((h, p) for h, p in sections if p)
    ]
