"""Finding an expert's name at the start of a command's arguments ("/ask 丁磊开源怎么看").

The engine's resolve() is forgiving (it finds a name inside longer text), which is right for
/expert but would swallow "沈向洋 监管" whole here; these helpers decide where the name ends.
"""

from __future__ import annotations

from bot.model import Persona
from bot.text import fold

MAX_NAME_TOKENS = 3  # "Harry Shum", "Heung-Yeung Harry Shum"
CJK_NAME_LENGTHS = (4, 3, 2)  # Chinese names glued to the question: 欧阳明高 / 沈向洋 / 丁磊
NAME_SEPARATORS = frozenset({"vs", "vs.", "和", "与", "跟", "对比", "and", ",", "，", "、", "|"})
GLUED_SEPARATORS = ("和", "与", "跟", "、", "，", ",", "/")  # "丁磊和沈为": a separator glued to the name


def drop_separator(text: str) -> str:
    """'vs 沈向洋 …' -> '沈向洋 …' and '和沈为 …' -> '沈为 …', so "/compare A vs B Q" and
    "/compare A和B Q" work too."""
    stripped = text.strip()
    head, _, rest = stripped.partition(" ")
    if head.lower() in NAME_SEPARATORS:
        return rest
    for sep in GLUED_SEPARATORS:
        if stripped.startswith(sep):
            return stripped[len(sep):].strip()
    return text


def first_name(text: str) -> str:
    """The word a user meant as a name: "马云和丁磊 X" -> "马云"."""
    head = text.strip().split()[0] if text.strip() else text
    for sep in GLUED_SEPARATORS:
        if sep in head[1:]:
            return head[: head.index(sep, 1)]
    return head


def plausible_name(candidate: str, n_tokens: int, persona: Persona) -> bool:
    """Is candidate one whole name of persona, not a name plus part of the question?

    A candidate must equal one of the persona's names after folding script, width and case; only a
    single Latin word ("shum") is left to the engine's judgement.
    """
    key = name_key(candidate)
    names = [persona.name, persona.name_simplified, persona.pinyin, persona.id, *persona.aliases]
    if key in {name_key(n) for n in names}:
        return True
    return n_tokens == 1 and candidate.isascii() and candidate.isalpha()


def name_key(name: str) -> str:
    return "".join(ch for ch in fold(name) if ch.isalnum())


def is_cjk(ch: str) -> bool:
    return "\u4e00" <= ch <= "\u9fff" or "\u3400" <= ch <= "\u4dbf"
