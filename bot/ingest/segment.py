"""Speaker turns out of cleaned text, per source format, paired into question and answer.

Interviews and round-tables are split on the speaker labels that sources.yaml lists, wherever
a label starts a line or follows the end of a sentence, so run-on pages split the same way as
tidy ones. A label is found, not spelled: whatever emphasis, brackets and spaces surround it and
whichever colon follows (`**「暗涌」：**`, `「暗涌」**：**`, `梁文锋 :`, `Q1:`). A section heading
ends the turn it follows and becomes the context of the exchanges after it; it is never part
of an answer nor taken for a question. Speeches have no questions: they split into sections,
each titled by its heading.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from typing import Literal, get_args

from bot.ingest.readers.model import BREAK

Part = Literal["interviewer", "moderator", "expert"]
PARTS: tuple[str, ...] = get_args(Part)

_SENTENCE = re.compile(r"[^。！？?!]*(?:[。！？?!]+[”」』\"]?|$)")
_SENTENCE_END = "。！？?!…”」』\""
_MIN_DEDUPE = 8
# What may surround a label: spaces, emphasis markers, brackets, quote marks (`**「暗涌」：**`).
_DECORATION = " \t\u3000*_「」『』【】[]〖〗“”\"'"
_AROUND = r"[ \t\u3000*_「」『』【】\[\]〖〗“”\"']"
_AFTER_COLON = r"[ \t\u3000*_]"


@dataclass(frozen=True)
class Turn:
    """What one speaker said between two labels; `start`/`end` index the cleaned text."""

    label: str  # the bare label (`暗涌`), as `bare_label` gives it
    start: int
    end: int


@dataclass(frozen=True)
class Exchange:
    """One answer by one speaker, with the question it answers (or the section title)."""

    speaker: str
    question: str
    answer: str
    position: int
    section: str = ""  # the article's section heading above the exchange, if any


def bare_label(label: str) -> str:
    """A label without what may surround it: `**「暗涌」：**` -> `暗涌`, `**梁文锋` -> `梁文锋`."""
    return label.strip(_DECORATION + ":：").strip(_DECORATION)


def _label_pattern(labels: Collection[str]) -> re.Pattern[str]:
    """A declared label starting a turn: after a line start or a sentence end, decorated or not.

    A Latin label (`Q`, `A`, `Host`) counts only at the start of a line and not inside a word,
    so `Plan A:` in an answer is not a turn. A number may follow a label (`Q1:`, `问2：`).
    """
    bare = sorted({bare_label(label) for label in labels} - {""}, key=len, reverse=True)
    cjk = "|".join(re.escape(b) for b in bare if not re.fullmatch(r"[\x20-\x7e]+", b)) or r"(?!)"
    latin = "|".join(re.escape(b) for b in bare if re.fullmatch(r"[\x20-\x7e]+", b)) or r"(?!)"
    tail = rf"(?:\d{{1,3}})?{_AROUND}*?[:：]{_AFTER_COLON}*"
    return re.compile(
        rf"(?:(?:^|(?<=[{_SENTENCE_END}\s])){_AROUND}*?(?P<label>{cjk})"
        rf"|^{_AROUND}*?(?P<latin>{latin})(?![A-Za-z])){tail}",
        re.M | re.I,
    )


def _name(match: re.Match[str]) -> str:
    return match["label"] or match["latin"]


def _label_matches(text: str, labels: Collection[str]) -> list[re.Match[str]]:
    """Every label that starts a turn; a label followed by its own name again is a title line."""
    return [m for m in _label_pattern(labels).finditer(text) if not _is_title_line(text[m.end() :], _name(m))]


def _is_title_line(after: str, name: str) -> bool:
    """`安筱鵬:安筱鵬 阿里雲智能集團副總裁`: the name again, then a space: it introduces the speaker."""
    return re.match(rf"\s*{re.escape(name)}(?:\s|$)", after) is not None


def stop_offsets(text: str, stops: Collection[str]) -> list[tuple[int, str]]:
    """(offset, line) of each line of `text` that is one of `stops` (a heading or a rule)."""
    found, offset = [], 0
    for line in text.split("\n"):
        if line.strip() and line.strip() in stops:
            found.append((offset, line.strip()))
        offset += len(line) + 1
    return found


def split_turns(text: str, labels: Collection[str], stops: Collection[str] = ()) -> tuple[str, list[Turn]]:
    """Split on speaker labels; return the preamble before the first turn and the turns.

    A label followed by the same name again (`安筱鵬:安筱鵬 阿里雲智能集團副總裁`) is a title line
    introducing the speaker, not a turn. A turn ends at the next label or at a stop line (a
    section heading, a rule), whichever comes first.
    """
    canonical = {bare_label(label).lower(): bare_label(label) for label in labels}
    found = _label_matches(text, labels)
    breaks = [offset for offset, _ in stop_offsets(text, stops)] if stops else []
    turns: list[Turn] = []
    for i, match in enumerate(found):
        end = found[i + 1].start() if i + 1 < len(found) else len(text)
        start = match.end()
        end = min([end, *(b for b in breaks if start <= b < end)])
        while start < end and text[start].isspace():
            start += 1
        while end > start and text[end - 1].isspace():
            end -= 1
        if end > start:
            turns.append(Turn(canonical[_name(match).lower()], start, end))
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


def pair_interview(text: str, turns: list[Turn], parts: dict[str, Part],
                   headings: Sequence[tuple[int, str]] = ()) -> list[Exchange]:
    """Each expert turn answers the interviewer's (or moderator's) question before it.

    In a round-table several guests answer the same question in turn. A moderator's last turn
    that nobody answers is his own closing conclusion: an answer, titled by its lead clause.
    `headings` (offset, heading) give each exchange the section it sits in.
    """
    exchanges: list[Exchange] = []
    question = ""
    section = ""

    def section_at(offset: int) -> str:
        above = [heading for at, heading in headings if at <= offset]
        return above[-1] if above else ""

    for i, turn in enumerate(turns):
        said = text[turn.start : turn.end]
        if parts[turn.label] == "expert":
            if question:
                exchanges.append(Exchange(turn.label, question, said, i, section))
            continue
        is_last = all(parts[t.label] != "expert" for t in turns[i + 1 :])
        section = section_at(turn.start)
        if parts[turn.label] == "moderator" and is_last:
            exchanges.append(Exchange(turn.label, _lead(said), said, i, section))
        else:
            question = said
    return exchanges


def _lead(text: str) -> str:
    """The lead clause of a passage, as a title: up to the first colon or sentence end."""
    match = re.match(r"[^:：。！？?!\n]+", text)
    return (match.group() if match else text[:40]).strip()


def _is_heading(line: str) -> bool:
    return len(line) <= 30 and not line.endswith(tuple(_SENTENCE_END + "，,；;：:"))


def split_speech(text: str, speaker: str, headings: Collection[str] | None = None) -> list[Exchange]:
    """One answer unit per section, titled by its heading.

    A speech's section is one line of thought (「三件令人震撼的事」, 「幾點思考」: 首先…其次…最后),
    so it stays whole: a question about the list gets the list, and a question about one point
    still finds it, because matching scores passages inside the unit and says which part matched.
    The first heading is the speech's title and holds its opening. When the markup marks the
    headings (`headings`, from Markdown or HTML), those are the headings; plain text is read by
    the shape of its lines.
    """
    sections: list[tuple[str, list[str]]] = []
    for line in text.split("\n"):
        if line.strip() == BREAK:  # a rule ends the section; what follows it is nobody's until a heading
            sections.append(("", []))
        elif (line.strip() in headings) if headings else _is_heading(line):
            sections.append((line, []))
        elif sections:
            sections[-1][1].append(line)
    return [
        Exchange(speaker, heading, "\n".join(paragraphs), i)
        for i, (heading, paragraphs) in enumerate((h, p) for h, p in sections if p and h)
    ]


def plain_headings(text: str, labels: Collection[str], asking: Collection[str]) -> set[str]:
    """Section headings of a plain-text interview, which has no markup to mark them.

    A short line that is not a sentence and not a turn, between an answer and the next
    question (the line after it starts with an interviewer's or moderator's label), is a heading.
    """
    starts = {m.start(): _name(m) for m in _label_matches(text, labels)}
    lines, offsets, offset = text.split("\n"), [], 0
    for line in lines:
        offsets.append(offset)
        offset += len(line) + 1
    asked = {bare_label(a).lower() for a in asking}
    found: set[str] = set()
    for i in range(1, len(lines) - 1):
        line = lines[i].strip()
        nxt = offsets[i + 1] + len(lines[i + 1]) - len(lines[i + 1].lstrip())
        if (line and _is_heading(line) and not re.search(r"[:：]", line) and offsets[i] not in starts
                and starts.get(nxt, "").lower() in asked and any(o < offsets[i] for o in starts)):
            found.add(line)
    return found


def unattributed(text: str, labels: Collection[str], turns: Sequence[Turn], stops: Collection[str] = ()) -> list[str]:
    """Sentences of `text` that are in no speaker's turn (headings, rules and labels aside).

    The intro of an article belongs here; an answer's sentence here means a label was missed.
    """
    covered = [(t.start, t.end) for t in turns]
    covered += [(m.start(), m.end()) for m in _label_matches(text, labels)]
    covered += [(offset, offset + len(line)) for offset, line in stop_offsets(text, stops)]
    covered.sort()
    left, cursor = [], 0
    for start, end in covered:
        if start > cursor:
            left.append(text[cursor:start])
        cursor = max(cursor, end)
    left.append(text[cursor:])
    return [sentence for chunk in left for _, _, sentence in _sentences(chunk, 0, len(chunk))
            if re.search(r"\w", sentence)]


_CANDIDATE = re.compile(
    rf"(?:^|(?<=[{_SENTENCE_END}])){_AROUND}*?(?P<label>[^\s:：，,。！？!?、；;「」『』【】\[\]〖〗“”\"'*_()（）《》<>]"
    rf"[^:：，,。！？!?、；;「」『』【】\[\]〖〗“”\"'*_()（）《》<>\n]{{0,11}}?){_AROUND}*?[:：]",
    re.M,
)


def label_candidates(text: str, least: int = 2) -> list[tuple[str, int]]:
    """Words that start turns (at a line start or after a sentence, before a colon), with counts.

    What `add-source` offers the curator as the speaker labels of a new source, most frequent
    first; a label said once, a time (`14:59`), a URL scheme or a word of over 12 characters is
    not offered.
    """
    counts: Counter[str] = Counter()
    for match in _CANDIDATE.finditer(text):
        name = match["label"].strip()
        if name and not re.fullmatch(r"[\d\s.\-/年月日]+|https?|www", name, re.I):
            counts[re.sub(r"\d{1,3}$", "", name) or name] += 1
    return [(name, n) for name, n in counts.most_common() if n >= least]
