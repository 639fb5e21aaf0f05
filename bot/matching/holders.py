"""Whose view a question asks for, when that is a person who is not an expert here.

"李彦宏怎么看开源" asks for 李彦宏's view. Nobody here can give it, and quoting an expert on open
source would answer a question the user did not ask: the engine says it has no record of that
person instead. A person is recognised right before an opinion cue (cues.yaml `opinion`, or
`对…` followed by an `opinion_on` cue), starting where a word starts, as a name in jieba's
dictionary (tagged nr, not a common word) or a surname (surnames.txt) with one or two characters
no dictionary joins into a word (张三, 马云, 杨植麟); in English, "what does Robin Li think",
"Robin Li's view", "Robin Li on ...". Left to the model: an expert's name, however misspelt (one
edit), and anyone the experts mention (entities.yaml `people`, or a word of the index), whose
view an answer may report.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import lru_cache
from pathlib import Path

from rapidfuzz.distance import Levenshtein

from bot.text import Tokenizer, fold, has_cjk
from bot.vocabulary import Vocabulary

# A person's name as users type it in English: two or three capitalised words.
_NAME = r"([A-Z][a-z]+(?:[ \-][A-Z][a-z]+){1,2})"
_ENGLISH = (
    re.compile(rf"\b(?:does|did|do|would|will)\s+{_NAME}\s+(?:think|say|believe|feel|see)\b"),
    re.compile(rf"\b{_NAME}'s\s+(?:view|views|take|opinion|opinions|thoughts|position|stance)\b"),
    re.compile(rf"^{_NAME}\s+(?:on|about|thinks|says|believes)\b"),
)


@lru_cache(maxsize=1024)
def _is_dictionary_name(word: str) -> bool:
    """Whether jieba's own dictionary tags `word` as a person's name (nr...): one search of the
    file's bytes (a few milliseconds, nothing kept), only for a word before an opinion cue."""
    import jieba  # imported by bot.text already, the way that spares start-up pkg_resources

    data = Path(jieba.__file__).with_name("dict.txt").read_bytes()
    start = data.find(b"\n" + word.encode("utf-8") + b" ")
    if start < 0:
        return False
    line = data[start + 1 : data.find(b"\n", start + 1)].split()
    return len(line) == 3 and line[2].startswith(b"nr")


class OpinionHolders:
    """Built once per engine; `unknown(query)` names the non-expert whose view is asked, if any."""

    def __init__(self, vocab: Vocabulary, known_names: list[str], tokenizer: Tokenizer, common_frequency: int,
                 indexed: Callable[[str], bool]) -> None:
        self._cues = tuple(fold(c) for c in vocab.cues.get("opinion", ()))
        # Every position where some cue starts (a lookahead, so overlapping cues all count).
        self._cue_at = re.compile("(?=(?:" + "|".join(map(re.escape, self._cues)) + "))") if self._cues else None
        self._on = tuple(fold(c) for c in vocab.cues.get("opinion_on", ()))
        self._people = frozenset(fold(p) for p in vocab.people)
        self._surnames = sorted({fold(s) for s in vocab.surnames}, key=len, reverse=True)
        self._known = [fold(n).replace(" ", "") for n in known_names if n]
        # English words that say what or which organisation, not who ("Alibaba Cloud VP", "China").
        self._not_names = {w for k in (*vocab.glossary, *vocab.entities) for w in re.findall(r"[a-z]+", fold(k))}
        self._tokenizer = tokenizer
        self._common = common_frequency
        self._indexed = indexed
        longest = max((len(s) for s in self._surnames), default=1)
        self._lengths = tuple(range(longest + 2, 1, -1))  # a surname and one or two characters

    def unknown(self, text: str, folded: str) -> str | None:
        """The person whose view `text` asks for when they are not an expert here, else None."""
        if self._cue_at is None:
            return None
        return self._chinese(folded) or self._english(text)

    def _chinese(self, folded: str) -> str | None:
        for end in self._cue_starts(folded):
            starts = self._word_starts(folded[:end])
            for length in self._lengths:
                start = end - length
                if start not in starts:
                    continue
                candidate = folded[start:end]
                if self._is_person(candidate) and not self._is_known(candidate):
                    return candidate
        return None

    def _word_starts(self, text: str) -> set[int]:
        """Where the tokenizer's words start in `text` (a name starts a word: not 安|全要)."""
        starts, at = set(), 0
        for word in self._tokenizer.words(text):
            at = text.find(word, at)
            starts.add(at)
            at += len(word)
        return starts

    def _cue_starts(self, folded: str) -> list[int]:
        """Where an opinion cue starts (a person asked for a view would end there)."""
        assert self._cue_at is not None
        starts = [m.start() for m in self._cue_at.finditer(folded)]
        for marker in ("对", "关于"):
            for m in re.finditer(marker, folded):
                if any(cue in folded[m.end():] for cue in self._on):
                    starts.append(m.start())
        return sorted(set(starts))

    def _is_person(self, word: str) -> bool:
        if not all(has_cjk(c) for c in word):
            return False
        surname = next((s for s in self._surnames if word.startswith(s)), None)
        if surname is None or not 1 <= len(word) - len(surname) <= 2:
            return False
        if self._tokenizer.is_common(word, self._common):
            return False
        pieces = self._tokenizer.words(word)
        # A name no dictionary knows comes out in single characters; one it knows is tagged nr.
        return all(len(p) == 1 for p in pieces) or _is_dictionary_name(word)

    def _is_known(self, name: str) -> bool:
        """An expert (part of a name, or, in Latin letters, one edit from one: a Chinese name
        misspelt is found by its sound before this) or someone the experts mention."""
        squashed = name.replace(" ", "")
        if squashed in self._people or name in self._people or self._indexed(squashed):
            return True
        edits = 0 if has_cjk(squashed) else 1
        return any(squashed in k or k in squashed or Levenshtein.distance(squashed, k) <= edits for k in self._known)

    def _english(self, text: str) -> str | None:
        for pattern in _ENGLISH:
            m = pattern.search(text)
            if m is None:
                continue
            name = m.group(1)
            if any(w in self._not_names for w in re.findall(r"[a-z]+", fold(name))) or self._is_known(fold(name)):
                continue
            return name
        return None
