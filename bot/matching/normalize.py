"""From what a user typed to what the index can score: names out, English in, concepts built.

A query is folded once (Simplified, half-width, lower case). Expert names select the expert and
leave the text; English words and phrases become the Chinese the experts use (glossary and
topic synonyms); each remaining word becomes a concept whose forms include its synonyms and,
for words no entry uses, sound-alike or one-edit spellings from the index.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache
from itertools import pairwise

from bot.english import term as index_term
from bot.matching.holders import OpinionHolders
from bot.matching.index import Concept, Form, Index
from bot.matching.settings import QuerySettings
from bot.matching.sounds import char_sounds, word_sound
from bot.model import Persona
from bot.text import Tokenizer, fold, has_cjk
from bot.vocabulary import Namesake, Vocabulary

_LATIN = re.compile(r"[a-z0-9]")
# "three revolutions" / 三场革命: a bare numeral matches the numeral with its measure word.
_NUMERALS = "一二两三四五六七八九十"
_MEASURES = "个场点件类大种层条位项驾家代次"
_LATIN_WORD = re.compile(r"[a-z0-9](?:[a-z0-9'.+\-]*[a-z0-9])?")


@dataclass(frozen=True)
class Query:
    """A question taken apart: who it names, what it asks, and in which topics."""

    text: str
    folded: str
    personas: tuple[Persona, ...]
    concepts: tuple[Concept, ...]
    topics: tuple[str, ...]
    namesake: Namesake | None = None
    namesake_of: Persona | None = None  # the expert whose famous namesake was asked about
    remainder: str = ""  # the folded question without names, after translation
    corrections: dict[str, str] = field(default_factory=dict)
    said: str = ""  # the folded question without names, as typed (before translation)
    everyone: bool = False  # asks what all the experts think (cues.yaml)
    asks_number: bool = False  # asks for a figure or a date (cues.yaml)
    unknown_holder: str | None = None  # a person, no expert here, whose view is asked (holders.py)


@lru_cache(maxsize=8192)
def _sound(char: str) -> str:
    """A character's pinyin without tone (its most common reading)."""
    known = char_sounds().sound(char)
    return known if known is not None else word_sound(char)


def _phrase_pattern(phrase: str) -> re.Pattern[str]:
    """Latin phrases match whole words only (`ai` not inside `said`); CJK anywhere."""
    escaped = re.escape(phrase)
    if _LATIN.match(phrase[:1]) or _LATIN.match(phrase[-1:]):
        return re.compile(rf"(?<![a-z0-9]){escaped}(?![a-z0-9])")
    return re.compile(escaped)


class QueryAnalyzer:
    """Built once per engine from the personas and the vocabulary; analyses each query."""

    def __init__(self, personas: list[Persona], vocab: Vocabulary, index: Index, tokenizer: Tokenizer,
                 settings: QuerySettings | None = None) -> None:
        self.settings = settings or QuerySettings()
        self.index = index
        self.tokenizer = tokenizer
        self.stopwords = index.stopwords
        names: dict[str, Persona] = {}
        for persona in personas:
            for alias in [persona.id, persona.name, persona.name_simplified, persona.pinyin, *persona.aliases]:
                if len(fold(alias)) >= 2:
                    names.setdefault(fold(alias), persona)
        self._names = sorted(((n, _phrase_pattern(n), p) for n, p in names.items()), key=lambda x: -len(x[0]))
        # Chinese names as they sound, surname kept: 周亚玲 and 安小鹏 are 周亚灵 and 安筱鹏 misspelt.
        self._sounds = [(fold(p.name_simplified), p) for p in personas if len(fold(p.name_simplified)) >= 2
                        and has_cjk(p.name_simplified)]
        # Index terms that sound like a word: pypinyin reads the word each time, so kept per word.
        # A word's analysis depends on the word and this analyser only: kept per word too.
        self._homophones = lru_cache(maxsize=self.settings.word_cache)(lambda word: tuple(index.homophones(word)))
        self._subwords = lru_cache(maxsize=self.settings.word_cache)(self._known_subwords)
        self._concept = lru_cache(maxsize=self.settings.word_cache)(self._make_concept)
        self._entities = frozenset(fold(e) for e in vocab.entities)
        self._everyone = tuple(fold(c) for c in vocab.cues.get("everyone", ()))
        self._asks_number = tuple(_phrase_pattern(fold(c)) for c in vocab.cues.get("asks_number", ()))
        self._holders = OpinionHolders(vocab, list(names), tokenizer, self.settings.common_word_frequency,
                                       index.__contains__)
        self._namesakes = {
            fold(e.name): e.namesake for e in vocab.experts if e.namesake is not None
        }
        # English words and phrases -> the Chinese term; topic synonym -> its whole group.
        translations: dict[str, str] = {}
        self._groups: dict[str, tuple[str, ...]] = {}
        self._topic_of: dict[str, list[str]] = {}
        for topic in vocab.topics:
            for keyword in topic.keywords:
                self._topic_of.setdefault(fold(keyword), []).append(topic.id)
            for group in topic.synonyms:
                folded = tuple(dict.fromkeys(fold(g) for g in group))
                head = folded[0]
                for term in folded:
                    self._groups.setdefault(term, folded)
                    self._topic_of.setdefault(term, []).append(topic.id)
                    if not has_cjk(term) and has_cjk(head):
                        translations.setdefault(term, head)
        for group in vocab.synonyms:
            folded = tuple(dict.fromkeys(fold(g) for g in group))
            for term in folded:
                self._groups.setdefault(term, folded)
        for english, chinese in vocab.glossary.items():
            translations.setdefault(fold(english), fold(chinese))
        # Keyed by the phrase's words, so a query is looked up word by word, not regex by regex.
        self._translations: dict[tuple[str, ...], tuple[str, str]] = {}
        for english, chinese in translations.items():
            words = tuple(_LATIN_WORD.findall(english))
            if words and "".join(words) == re.sub(r"[^a-z0-9'.+\-]", "", english):
                self._translations.setdefault(words, (english, chinese))
        self._longest = max((len(k) for k in self._translations), default=0)
        self._phrase_starts = frozenset(k[0] for k in self._translations)

    def analyse(self, text: str) -> Query:
        folded = fold(text[: self.settings.max_analysed_chars])
        rest, personas = self._take_names(folded)
        namesake, namesake_of = None, None
        for persona in personas:
            candidate = self._namesakes.get(persona.name_simplified)
            if candidate and any(fold(cue) in folded for cue in candidate.cues):
                namesake, namesake_of = candidate, persona
        said = rest
        rest, originals = self._translate(rest)
        concepts, corrections = self._concepts(rest, originals)
        topics = self._topics(concepts)
        everyone = any(cue in folded for cue in self._everyone)
        asks_number = any(cue.search(folded) for cue in self._asks_number)
        holder = None if personas else self._holders.unknown(text[: self.settings.max_analysed_chars], folded)
        return Query(text, folded, tuple(personas), tuple(concepts), topics, namesake, namesake_of, rest,
                     corrections, said.strip(), everyone, asks_number, holder)

    def names_in(self, text: str) -> list[Persona]:
        """Experts named exactly (any alias, either script) in `text`; no sound-alikes: picking
        an expert by a name that only sounds like theirs is a question to ask the user."""
        return self._take_exact_names(fold(text))[1]

    def _take_names(self, folded: str) -> tuple[str, list[Persona]]:
        folded, found = self._take_exact_names(folded)
        folded, misspelt = self._take_sound_alike_names(folded)
        found += [p for p in misspelt if p not in found]
        return folded, found

    def _take_exact_names(self, folded: str) -> tuple[str, list[Persona]]:
        """Longest alias first (so `沈向洋` is not read as `沈`...), reported in the order the
        question names them (a comparison's sides follow the question)."""
        first: dict[str, tuple[int, Persona]] = {}
        for name, pattern, persona in self._names:
            if name not in folded:  # the pattern matches the name itself: no need to run it
                continue
            hit = pattern.search(folded)
            if hit:
                folded = pattern.sub(lambda m: " " * len(m.group()), folded)  # keep positions
                if persona.id not in first or hit.start() < first[persona.id][0]:
                    first[persona.id] = (hit.start(), persona)
        return re.sub(r" {2,}", " ", folded), [p for _, p in sorted(first.values(), key=lambda item: item[0])]

    def _take_sound_alike_names(self, folded: str) -> tuple[str, list[Persona]]:
        """A name written with the right surname and sound-alike given name (pinyin, no tones)."""
        found: list[Persona] = []
        for name, persona in self._sounds:
            start = folded.find(name[0])
            sound = [_sound(c) for c in name] if start != -1 else []
            while start != -1:
                window = folded[start : start + len(name)]
                if len(window) == len(name) and has_cjk(window) and [_sound(c) for c in window] == sound:
                    folded = folded[:start] + " " + folded[start + len(name) :]
                    if persona not in found:
                        found.append(persona)
                start = folded.find(name[0], start + 1)
        return folded, found

    def _translate(self, text: str) -> tuple[str, dict[str, list[str]]]:
        """English -> Chinese in place, longest phrase first; remember the English, since
        entries use some of it too (`ai`, `openai`)."""
        originals: dict[str, list[str]] = {}
        words = list(_LATIN_WORD.finditer(text))
        pieces: list[str] = []
        last = 0
        i = 0
        while i < len(words):
            if words[i].group() not in self._phrase_starts:  # no phrase starts with this word
                i += 1
                continue
            for n in range(min(self._longest, len(words) - i), 0, -1):
                span = words[i : i + n]
                if n > 1 and any(text[a.end() : b.start()].strip() for a, b in pairwise(span)):
                    continue  # a phrase is words separated by spaces only
                found = self._translations.get(tuple(w.group() for w in span))
                if found:
                    english, chinese = found
                    pieces += [text[last : span[0].start()], f" {chinese} "]
                    last = span[-1].end()
                    originals.setdefault(chinese, []).append(english)
                    i += n
                    break
            else:
                i += 1
        pieces.append(text[last:])
        return "".join(pieces), originals

    def _concepts(self, text: str, originals: dict[str, list[str]]) -> tuple[list[Concept], dict[str, str]]:
        concepts: list[Concept] = []
        corrections: dict[str, str] = {}
        seen: set[str] = set()
        for word in self._join_stray_characters(self.tokenizer.words(text)):
            if word in self.stopwords or word in seen or (len(word) == 1 and not has_cjk(word)):
                continue
            raw, word = word, index_term(word)
            seen.add(word)
            parts = [word]
            subs = self._subwords(word)
            if subs:
                parts = [w for w in subs if w not in seen]
                seen.update(parts)
            for part in parts:
                said = tuple(dict.fromkeys(index_term(e) for e in originals.get(part, [])))
                concept, correction = self._concept(part, raw, said)
                if correction is not None:
                    corrections[part] = correction
                concepts.append(concept)
        return concepts, corrections

    def _known_subwords(self, word: str) -> tuple[str, ...]:
        """An unknown compound (not a sound-alike of a known word): its known sub-words, which
        carry its meaning; () for any other word."""
        if word not in self.index and has_cjk(word) and len(word) > 2 and not self._homophones(word):
            subs = [w for w in self.tokenizer.search_words(word)
                    if w != word and (w in self.index or w in self._groups)]
            return tuple(w for w in subs if w not in self.stopwords)
        return ()

    def _make_concept(self, part: str, raw: str, said: tuple[str, ...]) -> tuple[Concept, str | None]:
        """A word's concept (its forms: the English it was said in, spelling repairs, a numeral's
        measure words, synonyms) and the spelling repair made, if any."""
        forms = [Form(part)] + [Form(e) for e in said if e != part]
        correction = None
        if part not in self.index:
            fixed = self._spelling(part)
            if fixed:
                correction = fixed[0]
                forms += [Form(f, self.settings.spelling_weight) for f in fixed]
        if len(part) == 1 and part in _NUMERALS:
            forms += [Form(part + m) for m in _MEASURES if part + m in self.index]
        terms = {f.term for f in forms}
        for synonym in self._groups.get(part) or self._groups.get(raw, ()):
            synonym = index_term(synonym)
            if synonym != part and synonym not in terms:
                forms.append(Form(synonym, self.settings.synonym_weight))
                terms.add(synonym)
        entity = any(f.term in self._entities for f in forms)
        return Concept(part, tuple(forms), entity), correction

    def _join_stray_characters(self, words: list[str]) -> list[str]:
        """`算利` arrives as `算`, `利` (jieba knows no such word): in a run of single characters,
        join three or two that sound like a word of the index, so the sound-alike search sees it. Whether one
        character happens to be a word of some answer does not matter: a growing corpus would
        otherwise switch the repair off (`算` became known once a new answer used it)."""
        out: list[str] = []
        run: list[str] = []

        def flush() -> None:
            i = 0
            while i < len(run):
                for size in (3, 2):
                    joined = "".join(run[i : i + size])
                    if len(joined) == size and self._sounds_like_a_word(joined):
                        out.append(joined)
                        i += size
                        break
                else:
                    out.append(run[i])
                    i += 1
            run.clear()

        for word in words:
            if len(word) == 1 and has_cjk(word) and word not in self.stopwords:
                run.append(word)
                continue
            flush()
            out.append(word)
        flush()
        return out

    def _sounds_like_a_word(self, joined: str) -> bool:
        return joined not in self.index and bool(self._homophones(joined))

    def _spelling(self, word: str) -> list[str]:
        if has_cjk(word):
            return list(self._homophones(word)) if len(word) >= 2 else []
        near = self.index.latin_near(word)
        return [near] if near else []

    def _topics(self, concepts: list[Concept]) -> tuple[str, ...]:
        found: list[str] = []
        for concept in concepts:
            for form in concept.forms:
                for topic in self._topic_of.get(form.term, []):
                    if topic not in found:
                        found.append(topic)
        return tuple(found)
