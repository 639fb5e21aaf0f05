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
import tempfile
import unicodedata
from collections.abc import Iterable
from functools import lru_cache
from pathlib import Path

import jieba
import opencc

from bot.paths import private_dir, user_cache_dir

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

    The dictionary loads lazily on first use, from a cache in a directory the user owns when warm
    (`_load_jieba`).
    """

    def __init__(self, terms: Iterable[str] = ()) -> None:
        self._terms = sorted({fold(t) for t in terms if t.strip()})
        self._base_freq: dict[str, int] = {}
        self._jieba: jieba.Tokenizer | None = None

    def _ready(self) -> jieba.Tokenizer:
        if self._jieba is None:
            jieba.setLogLevel(logging.WARNING)
            tok = jieba.Tokenizer()
            _load_jieba(tok)
            for term in self._terms:
                if " " not in term:
                    self._base_freq[term] = int(tok.FREQ.get(term, 0))
                    tok.add_word(term, freq=2000)
            self._jieba = tok
        return self._jieba

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
                tok = self._ready()
                cut = tok.lcut_for_search(run["cjk"], HMM=False) if search else tok.lcut(run["cjk"], HMM=False)
                out.extend(w for w in cut if w.strip())
        return out

    def is_common(self, word: str, threshold: int = 2000) -> bool:
        """Whether jieba's own dictionary (before our terms were added) counts the word as
        everyday Chinese."""
        tok = self._ready()
        return int(self._base_freq.get(word, tok.FREQ.get(word, 0))) >= threshold

    def specificity(self, word: str) -> float:
        """How much a word says, 0-1, from its frequency in everyday Chinese (jieba's own
        dictionary, before our terms were added): log(total / (freq + 1)) / log(total).
        A word jieba has never seen (算力, 大模型, an English word) is 1.0; 用 is 0.37."""
        tok = self._ready()
        freq = int(self._base_freq.get(word, tok.FREQ.get(word, 0)))
        return math.log(tok.total / (freq + 1)) / math.log(tok.total)

    def search_words(self, folded: str) -> list[str]:
        """Words and their sub-words (`人工智能` also gives `人工`, `智能`): for indexing entries."""
        return self._split(folded, search=True)
