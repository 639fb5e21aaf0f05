"""What Chinese words sound like (pinyin without tones, as pypinyin reads them), without paying for
pypinyin on every start.

The spelling repairs ask, for most questions, whether a word no entry uses sounds like one that
entries use (`算利` -> `算力`). Importing pypinyin is 0.25 s and 50 MB (its phrase dictionary), and
reading every index term once more per start grows with the corpus, so both are kept in the user's
private cache, each file under a digest of its content that is checked before use:

- per character (`pinyin-*.json`, made once per pypinyin version): its sound alone, and every
  reading pypinyin can give it inside a word (each reading of the character, and what each phrase
  of pypinyin's dictionary reads it as);
- per index (`sounds-*.json` beside the index): each term's sound.

A word sounds like a term only if some choice of its characters' readings spells the term's sound,
so a word for which no choice even begins a term's sound has no homophone, and pypinyin is never
imported; otherwise the word's sound is computed by pypinyin itself. Either way the answer is
exactly what `lazy_pinyin` on the word and on every term gives.
"""

from __future__ import annotations

import bisect
import contextlib
import hashlib
import importlib.util
import json
import logging
import os
from collections.abc import Iterable, Sequence
from functools import lru_cache
from pathlib import Path

from bot.paths import private_dir, user_cache_dir, write_cache_file

_FIRST, _LAST = 0x3400, 0x9FFF  # the characters bot.text.has_cjk knows
_CODE = hashlib.sha256(Path(__file__).read_bytes()).hexdigest()[:16]
_log = logging.getLogger(__name__)


def word_sound(word: str) -> str:
    """pypinyin's reading of `word`, without tones, run together (what the index compares)."""
    from pypinyin import lazy_pinyin

    return "".join(lazy_pinyin(word))


@lru_cache(maxsize=1)
def pypinyin_stamp() -> str:
    """Which pypinyin (its code and dictionaries, by size and time) without importing it."""
    spec = importlib.util.find_spec("pypinyin")
    if spec is None or spec.origin is None:
        return "none"
    folder = Path(spec.origin).parent
    parts = []
    for name in ("__init__.py", "core.py", "converter.py", "pinyin_dict.json", "phrases_dict.json"):
        try:
            info = (folder / name).stat()
            parts.append(f"{info.st_size}-{info.st_mtime_ns}")
        except OSError:
            parts.append("0")
    return hashlib.sha256(f"{folder}|{'|'.join(parts)}|{_CODE}".encode()).hexdigest()[:24]


def _read(path: Path) -> object | None:
    """A file written by `_write`, or None when missing or damaged (its digest does not hold)."""
    try:
        data = path.read_bytes()
        digest, _, body = data.partition(b"\n")
        if hashlib.sha256(body).hexdigest().encode() != digest:
            raise ValueError("digest")
        content: object = json.loads(body)
    except (OSError, ValueError):
        if path.exists():
            _log.warning("sound table %s is damaged: making it again", path)
        return None
    with contextlib.suppress(OSError):
        os.utime(path)  # in use: kept by the pruning in `_write`
    return content


def _write(path: Path, content: object, prefix: str) -> None:
    """Whole, then renamed; files of this kind nobody used for a month are removed."""
    body = json.dumps(content, ensure_ascii=False, separators=(",", ":")).encode()
    try:
        write_cache_file(path, lambda out: out.write(hashlib.sha256(body).hexdigest().encode() + b"\n" + body),
                         f"{prefix}-*.json")
    except OSError as exc:
        _log.warning("sound table not written (%s)", exc)


class CharSounds:
    """Per character: its sound alone, and every reading it can take inside a word."""

    def __init__(self, alone: Sequence[str], readings: dict[str, list[str]]) -> None:
        self._alone = alone  # by code point from _FIRST
        self._readings = readings  # only where they are more than the sound alone ([]: not known)

    def sound(self, char: str) -> str | None:
        """`word_sound(char)`, or None for a character outside the table."""
        point = ord(char) - _FIRST if len(char) == 1 else -1
        return self._alone[point] if 0 <= point < len(self._alone) else None

    def readings(self, char: str) -> Sequence[str] | None:
        """Every sound the character can have in `word_sound` of a word (None: not known)."""
        alone = self.sound(char)
        if alone is None:
            return None
        found = self._readings.get(char)
        if found is None:
            return (alone,)
        return found or None

    @staticmethod
    def make() -> CharSounds:
        """From pypinyin's dictionaries, as its converter reads them (about 0.9 s).

        pypinyin cuts a word into phrases of its dictionary and single characters; a phrase is read
        as the dictionary gives it, a character by its first reading, and each reading is then
        converted to the style (here: no tones). So every character's sound in any word is the
        conversion of one of its own readings or of its reading in some phrase, or the character
        itself when pypinyin has no reading for it.
        """
        from pypinyin import Style, lazy_pinyin
        from pypinyin.constants import PHRASES_DICT, PINYIN_DICT, RE_HANS
        from pypinyin.converter import UltimateConverter

        convert = UltimateConverter().convert_style  # what lazy_pinyin converts with (its defaults)
        raw: dict[str, set[str]] = {}
        unsure: set[str] = set()  # in a phrase whose readings do not line up with its characters
        for point in range(_FIRST, _LAST + 1):
            if point in PINYIN_DICT:
                raw.setdefault(chr(point), set()).update(PINYIN_DICT[point].split(","))
        for phrase, items in PHRASES_DICT.items():
            if len(items) != len(phrase):
                unsure.update(phrase)
                continue
            for char, item in zip(phrase, items, strict=True):
                raw.setdefault(char, set()).update(item)
        alone = ["".join(lazy_pinyin(chr(point))) for point in range(_FIRST, _LAST + 1)]
        readings: dict[str, list[str]] = {}
        for point in range(_FIRST, _LAST + 1):
            char = chr(point)
            found = {convert(char, orig_pinyin=r, style=Style.NORMAL, strict=True) for r in raw.get(char, ())}
            found.add(alone[point - _FIRST])
            if point not in PINYIN_DICT or not RE_HANS.match(char):
                found.add(char)
            if char in unsure:
                readings[char] = []  # not known: such a word is read by pypinyin
            elif found != {alone[point - _FIRST]}:
                readings[char] = sorted(found)
        return CharSounds(alone, readings)


@lru_cache(maxsize=1)
def char_sounds() -> CharSounds:
    """The table, from the user's cache when there (else made, and kept there when it can be)."""
    folder = private_dir(user_cache_dir())
    path = folder / f"pinyin-{pypinyin_stamp()}.json" if folder is not None else None
    content = _read(path) if path is not None else None
    if isinstance(content, dict):
        alone, readings = content.get("alone"), content.get("readings")
        if (isinstance(alone, str) and isinstance(readings, dict)
                and len(alone.split("\n")) == _LAST - _FIRST + 1):
            return CharSounds(alone.split("\n"), readings)
    table = CharSounds.make()
    if path is not None:
        _write(path, {"alone": "\n".join(table._alone), "readings": table._readings}, "pinyin")
    return table


class TermSounds:
    """An index's terms by sound, for `Index.homophones`."""

    def __init__(self, terms: Iterable[str], path: Path | None) -> None:
        """`terms`: the index's Chinese terms of two characters or more, in the index's order;
        `path`: where their sounds are kept (None: computed, not kept)."""
        terms = list(terms)
        sounds = None
        content = _read(path) if path is not None else None
        if isinstance(content, dict) and content.get("terms") == terms:
            kept = content.get("sounds")
            if isinstance(kept, list) and len(kept) == len(terms) and all(isinstance(s, str) for s in kept):
                sounds = kept
        if sounds is None:
            sounds = [word_sound(term) for term in terms]
            if path is not None:
                _write(path, {"terms": terms, "sounds": sounds}, "sounds")
        self._by_sound: dict[str, list[str]] = {}
        for term, sound in zip(terms, sounds, strict=True):
            self._by_sound.setdefault(sound, []).append(term)
        self._sorted = sorted(self._by_sound)

    def like(self, word: str) -> list[str]:
        """The terms whose sound is `word_sound(word)`, sorted."""
        if not self._by_sound or not self._may_sound_like_a_term(word):
            return []
        return sorted(self._by_sound.get(word_sound(word), []))

    def _may_sound_like_a_term(self, word: str) -> bool:
        """False only when no choice of the characters' readings spells some term's sound."""
        table = char_sounds()
        spelt = {""}
        for char in word:
            options = table.readings(char)
            if options is None:
                return True  # a character outside the table: let pypinyin read the word
            spelt = {s + r for s in spelt for r in options if self._begins_a_sound(s + r)}
            if not spelt:
                return False
        return not spelt.isdisjoint(self._by_sound)

    def _begins_a_sound(self, prefix: str) -> bool:
        at = bisect.bisect_left(self._sorted, prefix)
        return at < len(self._sorted) and self._sorted[at].startswith(prefix)
