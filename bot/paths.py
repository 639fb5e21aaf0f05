"""Where the shipped data lives, from a source checkout or from an installed package."""

from __future__ import annotations

from pathlib import Path

_PACKAGE = Path(__file__).resolve().parent
_CHECKOUT = _PACKAGE.parent


def _first_existing(*candidates: Path) -> Path:
    for candidate in candidates:
        if candidate.is_dir():
            return candidate
    return candidates[0]


def default_personas_dir() -> Path:
    """The project's personas/: the checkout's own, else the copy shipped inside the package."""
    return _first_existing(_CHECKOUT / "personas", _PACKAGE / "_data" / "personas")


def default_corpus_dir() -> Path:
    """The project's corpus/ (vocabulary files); the package ships its YAML files."""
    return _first_existing(_CHECKOUT / "corpus", _PACKAGE / "_data" / "corpus")
