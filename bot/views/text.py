"""Short forms of corpus text for a phone screen: role, question, context line, matched passage.

Every quote shown stays a verbatim substring of the recorded answer: these functions only choose
where to cut and which words to mark, never rewrite.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

import opencc

from bot.matching import Match
from bot.model import Source
from bot.text import fold

MAX_ECHO = 200  # how much of the user's own text a reply quotes back
MAX_ROLE = 16  # the role beside a name: with the name and confidence, one phone line
MAX_QUESTION = 36  # the interviewer's question after "问：": one phone line, in half-width units
MAX_PART = 180  # the matched passage before the expandable full answer: about nine phone lines
MAX_SIDE = 90  # a compare card's passage per side: several sides must fit one screen
PHONE_LINE = 40  # half-width characters per phone line (a full-width one counts two)
PHONE_SCREEN = 15  # lines a reply may take before its expandable part
_SENTENCE_END = re.compile(r"[。！？!?\n；;]|\.(?=\s)")
_QUESTION = re.compile(r"[^。！？!?；;\n]*[？?]")
_CLAUSE = re.compile(r"[^，,、：:]+[，,、：:]*")
# A host's lead-in before the question ("好,", "第三個好我們再問4位嘉賓最后一個問題,"): a clause that
# ends in a comma and is a filler word or announces the question rather than asks it.
_LEAD_IN = re.compile(r"^(?:(?:好|好的|那|那么|那麼|嗯|ok|OK)|.*(?:问题|問題|嘉宾|嘉賓).*)[，,：:]\s*$")
_SENTENCES = re.compile(r"[^。！？!?；;]+[。！？!?；;]*")
# Transcript noise that makes a question not worth showing: laughter, applause, inaudible marks.
_NOISE = re.compile(r"[（(\[【](?:笑|掌声|鼓掌|听不清|音频|inaudible|laughter)[^）)\]】]*[）)\]】]|\.\.\.|……")


def echo(text: str, limit: int = MAX_ECHO) -> str:
    """The user's text as quoted back: one line, at most `limit` characters."""
    line = " ".join(text.split())
    return line if len(line) <= limit else line[: limit - 1] + "…"


def width(text: str) -> int:
    """Half-width units: a full-width (CJK) character counts two."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def phone_lines(text: str) -> int:
    """Lines text takes on a phone: 20 full-width or 40 half-width characters a line, or a newline."""
    total = 0
    for line in text.split("\n"):
        width = sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in line)
        total += max(1, -(-width // PHONE_LINE))
    return total


@lru_cache(maxsize=1)
def _simplified() -> opencc.OpenCC:
    return opencc.OpenCC("t2s")


def simplified(text: str) -> str:
    """Text in Simplified characters, like the names beside it (roles are scraped as written)."""
    return str(_simplified().convert(text))


def short_role(role: str) -> str:
    """The role's first clause, in Simplified like the name beside it, cut to fit the name's line."""
    first = re.split(r"[，,、;；（(]", role.strip(), maxsplit=1)[0].strip()
    first = str(_simplified().convert(first))
    return first if len(first) <= MAX_ROLE else first[: MAX_ROLE - 1] + "…"


def short_question(question: str, limit: int = MAX_QUESTION) -> str | None:
    """The interviewer's question as shown: its last sentence that ends in a question mark, cut to
    its last clauses within `limit`; None when it asks nothing (a speech title, "好,第三個…") or
    is transcript noise.

    Transcripts keep the host's preamble ("好,第三個好我們再問4位嘉賓…"): the question is at the end."""
    if _NOISE.search(question):
        return None
    found = [m.group().strip() for m in _QUESTION.finditer(question) if m.group().strip(" ?？")]
    if not found:
        return None
    clauses = [c.group() for c in _CLAUSE.finditer(found[-1].lstrip("，,、：: "))]
    trimmed = bool(clauses) and _LEAD_IN.match(clauses[0]) is not None
    while len(clauses) > 1 and _LEAD_IN.match(clauses[0]):
        clauses.pop(0)
    last = "".join(clauses)
    if width(last) + (2 if trimmed else 0) <= limit:
        return ("…" if trimmed else "") + last
    kept = ""
    for clause in reversed(clauses):
        if width(clause) + width(kept) > limit - 2:
            break
        kept = clause + kept
    if not kept:  # one clause longer than the line: its end, where the question is
        while last and width(kept) + width(last[-1]) <= limit - 2:
            kept, last = last[-1] + kept, last[:-1]
    return "…" + kept.lstrip("，,、：: ")


def citation(source: Source) -> str:
    """outlet《title》date, as one plain line (toasts, inline descriptions, /about)."""
    nested = source.title.replace("《", "〈").replace("》", "〉")  # 《…〈book〉…》, as Chinese nests them
    title = f"《{nested}》" if source.title else ""
    return " ".join(part for part in (source.outlet, title, source.date) if part)


def context_line(source: Source) -> str:
    """The answer's one-line context: outlet and date."""
    return " · ".join(part for part in (source.outlet, source.date) if part)


def lead_passage(match: Match, limit: int = MAX_PART, lines: int = PHONE_SCREEN) -> tuple[int, int]:
    """Character offsets (start, end) of the passage to lead with: the matched part (`Match.span`)
    cut at a sentence end to at most `limit` characters and `lines` phone lines; without a part,
    the answer's first sentences. Always at least one sentence (cut hard if that one is longer)."""
    answer = match.entry.answer
    start, end = match.span or (0, len(answer))
    passage = answer[start:end]
    if len(passage) <= limit and phone_lines(passage) <= lines:
        return start, end
    cut = 0
    for m in _SENTENCES.finditer(passage):
        if m.end() > limit or phone_lines(passage[: m.end()]) > lines:
            break
        cut = m.end()
    if not cut:
        cut = min(limit, lines * PHONE_LINE // 2)
    return start, start + cut


def highlight(text: str, terms: tuple[str, ...]) -> list[tuple[str, bool]]:
    """text as (piece, is_matched_word) pieces: the query's terms found in it marked, verbatim.

    Terms are in folded form (Simplified, lower case); text may be Traditional, so both are
    searched in the folded text when folding keeps its length (it almost always does)."""
    folded = fold(text)
    haystack = folded if len(folded) == len(text) else text.lower()
    marked = [False] * len(text)
    for term in sorted({t for t in terms if t.strip()}, key=len, reverse=True):
        key = term.lower()
        at = haystack.find(key)
        while at >= 0:
            for i in range(at, min(at + len(key), len(text))):
                marked[i] = True
            at = haystack.find(key, at + len(key))
    pieces: list[tuple[str, bool]] = []
    for ch, bold in zip(text, marked, strict=True):
        if pieces and pieces[-1][1] == bold:
            pieces[-1] = (pieces[-1][0] + ch, bold)
        else:
            pieces.append((ch, bold))
    return pieces
