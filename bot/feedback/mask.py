"""What is stored of a question: contact details masked, and the language it was asked in.

A user may paste a phone number or an e-mail address into a question ("my number is ..."); the
store keeps `[phone]` / `[email]` instead. Over-masking is the safe side: any run of 7 or more
digits (spaces, dashes and brackets between them allowed, `+` in front) counts as a phone
number, except a date (2023-07-26) or a span of years (2023-2024), which are common in
questions and are nobody's number.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

import opencc

EMAIL_MASK = "[email]"
PHONE_MASK = "[phone]"
_MIN_PHONE_DIGITS = 7  # the shortest local number (without area code)

_EMAIL = re.compile(r"[\w.%+\-]+@[\w\-]+(?:\.[\w\-]+)*\.[^\W\d_]{2,}")
# Digits are \d (so full-width ０-９ too); the boundaries are ASCII so `电话13800138000` is caught.
_PHONE = re.compile(r"(?<![0-9A-Za-z])\+?\(?\d[\d\s\-()]*\d(?![0-9A-Za-z])")
_DATE_OR_YEARS = re.compile(r"\d{4}-\d{1,2}-\d{1,2}|(?:19|20)\d\d\s*-\s*(?:19|20)\d\d")
_CJK = re.compile(r"[\u3400-\u9fff]")
_LATIN = re.compile(r"[A-Za-z]")


def mask(text: str) -> str:
    """`text` with e-mail addresses and phone-like numbers replaced by placeholders."""
    text = _EMAIL.sub(EMAIL_MASK, text)
    return _PHONE.sub(_phone, text)


def _phone(found: re.Match[str]) -> str:
    span = found.group()
    digits = sum(ch.isdigit() for ch in span)
    if digits < _MIN_PHONE_DIGITS or _DATE_OR_YEARS.fullmatch(unicodedata.normalize("NFKC", span).strip()):
        return span
    return PHONE_MASK


@lru_cache(maxsize=1)
def _t2s() -> opencc.OpenCC:
    return opencc.OpenCC("t2s")


def language(text: str) -> str:
    """`zh-Hant`, `zh-Hans`, `en` (Latin letters, no Chinese) or `other`: for stats, not for matching."""
    normal = unicodedata.normalize("NFKC", text)
    if _CJK.search(normal):
        return "zh-Hant" if _t2s().convert(normal) != normal else "zh-Hans"
    return "en" if _LATIN.search(normal) else "other"
