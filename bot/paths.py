"""Where the data lives: a source checkout, an installed package, and the corpus a user owns.

From a checkout, the project's own `corpus/` and `personas/` are read and written. Installed
(`pip install .`, the Docker image), the package carries a read-only copy of both; the corpus a
curator edits and the personas ingest writes then live in a user data directory
(`$PERSONA_BOT_HOME`, else `$XDG_DATA_HOME/persona-bot`, else `~/.local/share/persona-bot`),
created from the package's copy the first time a command needs to write. Nothing ever writes
into the package.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO

UNUSED_FOR = 30 * 24 * 3600  # seconds: a cache file nobody read for this long is pruned

_PACKAGE = Path(__file__).resolve().parent
_CHECKOUT = _PACKAGE.parent
_SHIPPED = _PACKAGE / "_data"


def _first_existing(*candidates: Path) -> Path:
    for candidate in candidates:
        if candidate.is_dir():
            return candidate
    return candidates[0]


def in_checkout() -> bool:
    """Running from a source checkout (editable install or `python -m`), not an installed copy."""
    return (_CHECKOUT / "corpus").is_dir() and (_CHECKOUT / "pyproject.toml").is_file()


def user_data_dir() -> Path:
    """The directory a user owns for their corpus and personas (not created here)."""
    home = os.environ.get("PERSONA_BOT_HOME")
    if home:
        return Path(home).expanduser()
    xdg = os.environ.get("XDG_DATA_HOME")
    return (Path(xdg).expanduser() if xdg else Path.home() / ".local" / "share") / "persona-bot"


def default_personas_dir() -> Path:
    """Personas to answer from: the checkout's, else the user's (once ingest wrote them), else the package's."""
    if in_checkout():
        return _CHECKOUT / "personas"
    return _first_existing(user_data_dir() / "personas", _SHIPPED / "personas")


def default_corpus_dir() -> Path:
    """The vocabulary and sources to read: the checkout's corpus/, else the user's, else the package's."""
    if in_checkout():
        return _CHECKOUT / "corpus"
    return _first_existing(user_data_dir() / "corpus", _SHIPPED / "corpus")


def editable_corpus_dir() -> Path:
    """The corpus `ingest` and `add-source` read and write: never the package's own files.

    From a checkout, its `corpus/`. Installed, the user's corpus, copied from the package's on
    first use (sources, raw texts and vocabulary), so the shipped experts stay and new ones add.
    """
    if in_checkout():
        return _CHECKOUT / "corpus"
    corpus = user_data_dir() / "corpus"
    if not corpus.is_dir():
        corpus.parent.mkdir(parents=True, exist_ok=True)
        staging = corpus.with_name(corpus.name + ".partial")
        shutil.rmtree(staging, ignore_errors=True)
        shutil.copytree(_SHIPPED / "corpus", staging, ignore=shutil.ignore_patterns("__init__.py", "__pycache__"))
        staging.replace(corpus)
    return corpus


def editable_personas_dir() -> Path:
    """Where `ingest` and `add-source` write personas: the checkout's, else the user's."""
    return _CHECKOUT / "personas" if in_checkout() else user_data_dir() / "personas"


def user_cache_dir() -> Path:
    """Where jieba's prefix dictionary, the built indexes and the parsed personas are cached: a
    directory only this user can write (`$PERSONA_BOT_CACHE`, else `$XDG_CACHE_HOME/persona-bot`,
    else `~/.cache/persona-bot`), never the shared temp directory jieba defaults to, where anyone
    could leave a file for us to load."""
    explicit = os.environ.get("PERSONA_BOT_CACHE")
    if explicit:
        return Path(explicit).expanduser()
    xdg = os.environ.get("XDG_CACHE_HOME")
    return (Path(xdg).expanduser() if xdg else Path.home() / ".cache") / "persona-bot"


def private_dir(path: Path) -> Path | None:
    """`path`, created 0700 if missing, when it is ours and nobody else can write it; else None."""
    try:
        path.mkdir(mode=0o700, parents=True, exist_ok=True)
        info = path.stat()
    except OSError:
        return None
    if info.st_uid != os.getuid() or info.st_mode & 0o022 or not os.access(path, os.W_OK):
        return None
    return path


def write_cache_file(path: Path, write: Callable[[BinaryIO], object], prune: str | None = None) -> None:
    """Write a cache file whole to a temporary file, then rename it, so a reader sees the old file
    or the new one, never half; then remove the files beside it matching `prune` that nobody used
    for a month (each edit of the data leaves one behind). Raises OSError: a caller warns and goes
    on, since a cache that cannot be written costs only its rebuild."""
    fd, temp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name.split('-')[0]}-", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as out:
            write(out)
        os.replace(temp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temp)
        raise
    for old in path.parent.glob(prune) if prune else ():
        with contextlib.suppress(OSError):
            if time.time() - old.stat().st_mtime > UNUSED_FOR:
                old.unlink()
