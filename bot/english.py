"""English words to the form they are indexed and looked up under: their Snowball stem.

So `makes`, `making` and `make` meet, as do `worried` and `worry`. Applied after the stopword
check, which reads a word as written (`does` would stem to `doe`); Chinese words, numbers and
mixed tokens (`gpt-4`) are left as they are.
"""

from __future__ import annotations

from functools import lru_cache

import Stemmer


@lru_cache(maxsize=1)
def _stemmer() -> Stemmer.Stemmer:
    return Stemmer.Stemmer("english")


def term(word: str) -> str:
    """The index form of a token: an English word's stem, anything else unchanged."""
    return str(_stemmer().stemWord(word)) if word.isascii() and word.isalpha() else word
