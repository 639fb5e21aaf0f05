"""Folding and tokenising Chinese text: shared by ingest (topic tags) and matching.

Folding is for comparing only: Traditional to Simplified with Taiwan phrases mapped to mainland
ones (OpenCC tw2sp: 資料 -> 数据, 軟體 -> 软件, 人工智慧 -> 人工智能), full-width to half-width,
lower case. Stored quotes are never rewritten.
"""

from __future__ import annotations

import hashlib
import logging
import marshal
import math
import re
import sys
import tempfile
import threading
import unicodedata
import zlib
from collections.abc import Iterable
from functools import lru_cache
from pathlib import Path

import opencc

from bot.paths import private_dir, user_cache_dir, write_cache_file

# jieba is imported without pkg_resources (66 ms of every start): its `_compat` uses pkg_resources
# only to open jieba's own dictionary file, and opens the same file by path when the import fails.
_HIDE_PKG_RESOURCES = "jieba" not in sys.modules and "pkg_resources" not in sys.modules
if _HIDE_PKG_RESOURCES:
    sys.modules["pkg_resources"] = None  # type: ignore[assignment]  # so `import pkg_resources` raises ImportError
try:
    import jieba
finally:
    if _HIDE_PKG_RESOURCES:
        del sys.modules["pkg_resources"]

__all__ = ["Tokenizer", "fold", "has_cjk", "private_dir", "user_cache_dir"]

_CJK = re.compile(r"[\u3400-\u9fff]")
# Latin words are split by us (jieba would find `go` inside `ago`); CJK runs go to jieba.
_RUNS = re.compile(r"(?P<latin>[a-z0-9]+(?:[.+\-][a-z0-9]+)*)|(?P<cjk>[\u3400-\u9fff]+)")


def _cache_name() -> str:
    """Keyed by jieba's version and its dictionary file, so an upgrade never reads an old cache."""
    try:
        info = Path(jieba.__file__).with_name(jieba.DEFAULT_DICT_NAME).stat()
        stamp = f"{info.st_size}-{int(info.st_mtime)}"
    except (OSError, AttributeError, TypeError):
        stamp = "0"
    return f"jieba-{jieba.__version__}-{stamp}.cache"


_BUCKETS_FORMAT = "persona-bot jieba buckets 1"


class _Buckets:
    """jieba's dictionary cache split by first character, read one character's words at a time.

    Unmarshalling jieba's whole prefix dictionary (350,000 words) is 0.16 s and 64 MB of every
    start, while segmenting a question looks up only words that begin with one of its characters
    (jieba's DAG, its route and `cut_for_search` look up substrings of the text they cut). So a copy
    of the cache is kept split by first character (`jieba-*.buckets` beside it), and a Tokenizer
    loads the words of the characters it meets: the dictionary it cuts with holds, for every
    character of the text, exactly what the whole one holds. The copy is used only while jieba's
    cache is the file it was made from (size and modification time) and its checksum holds;
    otherwise it is made again from a sound cache.
    """

    def __init__(self, total: int, where: dict[str, tuple[int, int]], body: bytes) -> None:
        self.total = total
        self._where = where
        self._body = memoryview(body)

    def chars(self) -> set[str]:
        return set(self._where)

    def words(self, char: str) -> dict[str, int]:
        """Every word of jieba's dictionary that begins with `char` (prefixes included, freq 0)."""
        span = self._where.get(char)
        if span is None:
            return {}
        words = marshal.loads(self._body[span[0] : span[1]])
        if not isinstance(words, dict):
            raise ValueError("not a bucket")
        return words

    @staticmethod
    def _stamp(cache: Path) -> tuple[int, int]:
        info = cache.stat()
        return info.st_size, info.st_mtime_ns

    @classmethod
    def open(cls, folder: Path) -> _Buckets | None:
        """The copy of the jieba cache in `folder`, or None when missing, stale or damaged."""
        cache = folder / _cache_name()
        path = cache.with_suffix(".buckets")
        try:
            data = path.read_bytes()
            head = int.from_bytes(data[:8], "little")
            fmt, stamp, total, crc, where = marshal.loads(data[8 : 8 + head])
            body = data[8 + head :]
            if (fmt != _BUCKETS_FORMAT or tuple(stamp) != cls._stamp(cache) or not isinstance(total, int)
                    or not isinstance(where, dict) or zlib.crc32(body) != crc):
                return None
        except (OSError, ValueError, EOFError, TypeError):
            return None
        return cls(total, where, body)

    @classmethod
    def write(cls, folder: Path, freq: dict[str, int], total: int) -> None:
        """Split jieba's dictionary (as loaded from its cache in `folder`) by first character."""
        cache = folder / _cache_name()
        groups: dict[str, dict[str, int]] = {}
        for word, count in freq.items():
            if word:
                groups.setdefault(word[0], {})[word] = count
        where: dict[str, tuple[int, int]] = {}
        parts: list[bytes] = []
        offset = 0
        for char, words in groups.items():
            blob = marshal.dumps(words)
            where[char] = (offset, offset + len(blob))
            parts.append(blob)
            offset += len(blob)
        body = b"".join(parts)
        try:
            head = marshal.dumps((_BUCKETS_FORMAT, cls._stamp(cache), total, zlib.crc32(body), where))
            blob = len(head).to_bytes(8, "little") + head + body
            write_cache_file(cache.with_suffix(".buckets"), lambda out: out.write(blob))
        except OSError as exc:
            logging.getLogger(__name__).warning("jieba dictionary copy not written (%s)", exc)


def _load_jieba(tok: jieba.Tokenizer) -> None:
    """Initialise `tok` from the cache in `user_cache_dir()`, written by jieba on first use.

    The file is read whole and unmarshalled from memory: jieba's own `marshal.load` from the
    open file takes three times as long (0.49 s against 0.16 s here). A cache that does not load
    (truncated, corrupt) is rebuilt by jieba from its dictionary; without a private directory
    jieba builds from its dictionary every time (0.5 s) and nothing is kept.
    """
    folder = private_dir(user_cache_dir())
    if folder is None:  # build, cache in a throwaway directory of our own, and remove it
        with tempfile.TemporaryDirectory(prefix="persona-bot-jieba-") as scratch:
            tok.tmp_dir = scratch
            tok.check_initialized()
        return
    tok.tmp_dir = str(folder)
    tok.cache_file = _cache_name()
    try:
        freq, total = marshal.loads((folder / tok.cache_file).read_bytes())
        if not isinstance(freq, dict) or not isinstance(total, int) or not freq:
            raise ValueError("not a jieba cache")
    except (OSError, ValueError, EOFError, TypeError):
        # jieba would load a damaged file again (and trust whatever it unmarshals): remove it, so
        # it builds from its dictionary and writes a sound cache.
        (folder / tok.cache_file).unlink(missing_ok=True)
        tok.check_initialized()
        return
    tok.FREQ, tok.total, tok.initialized = freq, total, True


@lru_cache(maxsize=1)
def _t2s() -> opencc.OpenCC:
    return opencc.OpenCC("tw2sp")


def fold(text: str) -> str:
    """Simplified, half-width, lower-case, single-spaced: the form every comparison uses."""
    text = unicodedata.normalize("NFKC", text)
    text = _t2s().convert(text)
    return re.sub(r"\s+", " ", text).strip().lower()


def has_cjk(text: str) -> bool:
    return bool(_CJK.search(text))


class Tokenizer:
    """jieba with the domain's terms added, created once per index (not jieba's global one).

    The dictionary loads lazily on first use: from the copy of jieba's cache split by first
    character (`_Buckets`), one character's words at a time, when warm; else whole, from jieba's
    cache in a directory the user owns (`_load_jieba`), which also writes that copy.
    """

    def __init__(self, terms: Iterable[str] = ()) -> None:
        self._terms = sorted({fold(t) for t in terms if t.strip()})
        self._base_freq: dict[str, int] = {}
        self._jieba: jieba.Tokenizer | None = None
        self._buckets: _Buckets | None = None
        self._unloaded: set[str] = set()  # first characters whose words are not in the dictionary yet
        self._added: dict[str, list[str]] = {}  # our terms by first character
        self._lock = threading.Lock()

    def _ready(self) -> jieba.Tokenizer:
        if self._jieba is None:
            with self._lock:
                if self._jieba is None:
                    self._jieba = self._start()
        return self._jieba

    def _start(self) -> jieba.Tokenizer:
        jieba.setLogLevel(logging.WARNING)
        tok = jieba.Tokenizer()
        folder = private_dir(user_cache_dir())
        buckets = _Buckets.open(folder) if folder is not None else None
        added = [term for term in self._terms if " " not in term]
        if buckets is None:
            _load_jieba(tok)
            if folder is not None and (folder / _cache_name()).is_file():
                _Buckets.write(folder, tok.FREQ, tok.total)
            for term in added:
                self._base_freq[term] = int(tok.FREQ.get(term, 0))
                tok.add_word(term, freq=2000)
            return tok
        # What `add_word(term, freq=2000)` does for each term, done as each first character's
        # words are loaded (`_load`); the total is the same sum.
        tok.FREQ, tok.total, tok.initialized = {}, buckets.total + 2000 * len(added), True
        for term in added:
            self._added.setdefault(term[0], []).append(term)
        self._buckets = buckets
        self._unloaded = buckets.chars() | set(self._added)
        return tok

    def _load(self, text: str) -> jieba.Tokenizer:
        """The tokenizer, its dictionary holding every word that begins with a character of `text`."""
        tok = self._ready()
        if self._unloaded and not self._unloaded.isdisjoint(text):
            with self._lock:
                assert self._buckets is not None
                for char in self._unloaded.intersection(text):
                    words = self._buckets.words(char)
                    freq = tok.FREQ
                    freq.update(words)
                    for term in self._added.get(char, ()):
                        self._base_freq[term] = int(words.get(term, 0))
                        freq[term] = 2000
                        for end in range(1, len(term)):
                            freq.setdefault(term[:end], 0)
                    self._unloaded.discard(char)
        return tok

    def signature(self) -> str:
        """What decides how text is cut (jieba's version, its dictionary, our terms): a persisted
        index built with another signature is stale."""
        digest = hashlib.sha256(f"{jieba.__version__}|{_cache_name()}|".encode())
        digest.update("\n".join(self._terms).encode())
        return digest.hexdigest()

    def words(self, folded: str) -> list[str]:
        """Tokens of already-folded text: Latin words whole, jieba words for Chinese runs."""
        return self._split(folded, search=False)

    def _split(self, folded: str, search: bool) -> list[str]:
        out: list[str] = []
        for run in _RUNS.finditer(folded):
            if run["latin"]:
                out.append(run["latin"])
            else:
                tok = self._load(run["cjk"])
                cut = tok.lcut_for_search(run["cjk"], HMM=False) if search else tok.lcut(run["cjk"], HMM=False)
                out.extend(w for w in cut if w.strip())
        return out

    def is_common(self, word: str, threshold: int = 2000) -> bool:
        """Whether jieba's own dictionary (before our terms were added) counts the word as
        everyday Chinese."""
        tok = self._load(word[:1])
        return int(self._base_freq.get(word, tok.FREQ.get(word, 0))) >= threshold

    def specificity(self, word: str) -> float:
        """How much a word says, 0-1, from its frequency in everyday Chinese (jieba's own
        dictionary, before our terms were added): log(total / (freq + 1)) / log(total).
        A word jieba has never seen (算力, 大模型, an English word) is 1.0; 用 is 0.37."""
        tok = self._load(word[:1])
        freq = int(self._base_freq.get(word, tok.FREQ.get(word, 0)))
        return math.log(tok.total / (freq + 1)) / math.log(tok.total)

    def search_words(self, folded: str) -> list[str]:
        """Words and their sub-words (`人工智能` also gives `人工`, `智能`): for indexing entries."""
        return self._split(folded, search=True)
