"""Every entry's texts folded once (bot/text.py `fold`) and kept in one byte blob, read per candidate.

The features compare a query with each candidate's folded question, answer, alternates and near
misses. Folding them per query (NFKC and OpenCC over some 5,000 characters) was half a query's
time at 10,000 entries, and a cache of folded entries thrashed there while holding a hundred
megabytes. So they are folded when the index is built, kept with it in the user's cache (as the
indexes are, under a hash of everything they are made from) and decoded per candidate: a few
microseconds, to the byte what `fold` gives.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import sys
import zipfile
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import numpy.typing as npt

import bot.text
from bot.paths import write_cache_file
from bot.text import fold

_log = logging.getLogger(__name__)
# The file's layout: a new one is a new name, so an old file is never read as this one.
_FORMAT = b"persona-bot folded texts 1"
# This code and fold's: texts folded by other code are stale.
_CODE = b"".join(Path(m.__file__).read_bytes() for m in (sys.modules[__name__], bot.text) if m.__file__)
# The texts are mostly Chinese: two bytes a character, where UTF-8 takes three (5.1 MB against
# 7.0 MB at 10,000 entries), and Python decodes either in a few microseconds per entry.
_ENCODING = "utf-16-le"
# Between an entry's texts: `fold` turns every run of white space into one space, so a folded
# text never holds a line break.
_SEP = "\n"
_UNIT = 2  # bytes of one UTF-16 code unit: every text starts at a multiple of it
# The blob (every entry's folded texts, encoded) and where each entry's bytes start (and, at the
# last place, end).
_Arrays = tuple[npt.NDArray[np.uint8], npt.NDArray[np.int64]]


class FoldedTexts:
    """Per entry, `fold` of each of its texts, in the order given."""

    def __init__(self, texts: Sequence[Sequence[str]], recipe: bytes, cache_dir: Path | None = None) -> None:
        """`texts`: per entry, in entry order, the texts to fold (at least one each); `recipe`:
        whatever else decides what they are (the caller's code and data versions), for the key.

        With `cache_dir`, the folded blob is kept there and loaded instead of folding again while
        the key holds; a damaged file is folded again, never trusted."""
        self.size = len(texts)
        self.loaded_from: Path | None = None
        path = cache_dir / f"folded-{_key(texts, recipe)}.npz" if cache_dir is not None else None
        arrays = None
        if path is not None and path.exists():
            arrays = _read(path, self.size)
            if arrays is None:
                _log.warning("folded texts cache %s is damaged: folding again", path)
            else:
                self.loaded_from = path
                with contextlib.suppress(OSError):
                    os.utime(path)  # in use: kept by the pruning in `_write`
        if arrays is None:
            arrays = _fold_all(texts)
            if path is not None:
                _write(path, arrays)
        self._blob, self._bounds = arrays

    def __len__(self) -> int:
        return self.size

    def __getitem__(self, entry: int) -> list[str]:
        """The entry's folded texts, in the order they were given."""
        return self._blob[self._bounds[entry] : self._bounds[entry + 1]].tobytes().decode(_ENCODING).split(_SEP)


def _key(texts: Sequence[Sequence[str]], recipe: bytes) -> str:
    digest = hashlib.sha256(_FORMAT + b"\0" + _CODE)
    digest.update(b"\0%d:" % len(recipe) + recipe)
    for entry in texts:
        digest.update("".join(f"{len(t)}:{t}" for t in entry).encode() + b"\1")
    return digest.hexdigest()[:32]


def _fold_all(texts: Sequence[Sequence[str]]) -> _Arrays:
    """Every entry's texts folded, joined, encoded; and where each entry's bytes start."""
    if any(not entry for entry in texts):
        raise ValueError("every entry needs a text to fold")
    encoded = [_SEP.join(fold(t) for t in entry).encode(_ENCODING) for entry in texts]
    bounds = np.zeros(len(encoded) + 1, dtype=np.int64)
    np.cumsum([len(e) for e in encoded], out=bounds[1:])
    return np.frombuffer(b"".join(encoded), dtype=np.uint8), bounds


def _read(path: Path, size: int) -> _Arrays | None:
    """The cached blob and its bounds, or None when the file is truncated, corrupt or does not fit
    `size` entries (zip checks each member's CRC as it is read)."""
    try:
        with np.load(path, allow_pickle=False) as data:
            blob, bounds = data["blob"], data["bounds"]
    except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile):
        return None
    sound = (blob.dtype == np.uint8 and blob.ndim == 1 and bounds.dtype == np.int64 and bounds.shape == (size + 1,)
             and int(bounds[0]) == 0 and int(bounds[-1]) == len(blob) and bool(np.all(np.diff(bounds) >= 0))
             and not bool(np.any(bounds % _UNIT)))
    return (blob, bounds) if sound else None


def _write(path: Path, arrays: _Arrays) -> None:
    """Written whole, then renamed (`write_cache_file`); a directory that cannot be written costs
    only the warning (the texts serve from memory)."""
    blob, bounds = arrays
    try:
        write_cache_file(path, lambda out: np.savez(out, allow_pickle=False, blob=blob, bounds=bounds), "folded-*.npz")
    except OSError as exc:
        _log.warning("folded texts cache not written (%s): serving from memory", exc)
