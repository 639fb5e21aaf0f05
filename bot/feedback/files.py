"""Review decisions written into the hand-edited files: appended as text, never re-dumped.

`corpus/alternates.yaml`, `corpus/declined.yaml` and `eval/tune.yaml` are written by people too,
with comments that explain them; dumping the parsed YAML back would lose those and reorder keys.
So each change is the lines it adds, put in the right place, and every other byte stays as it was.
Each write is checked by parsing the result before it replaces the file (atomically: a temporary
file, then os.replace), so a curator's decision can never leave a broken file behind.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import yaml

from bot.feedback.declined import FILE as DECLINED_FILE
from bot.feedback.declined import load_declined
from bot.feedback.similar import key
from bot.ingest.alternates import FILE as ALTERNATES_FILE
from bot.ingest.alternates import load_alternates

REVIEW = "review"  # the `by:` of alternates the curator loop adds
TUNE_HEADER = "# ---------------------------------------------------------------- declined in review"
_TUNE_HEADER_TEXT = (
    f"\n{TUNE_HEADER}\n"
    "# Questions users asked that a curator marked out of scope in `persona-bot review` (also in\n"
    "# corpus/declined.yaml): negatives for the next `persona-bot fit`. Ids rv-neg-<hash of the question>.\n"
)


def yaml_string(text: str) -> str:
    """A one-line YAML double-quoted scalar (JSON's string syntax is valid YAML)."""
    return json.dumps(" ".join(text.split()), ensure_ascii=False)


def add_alternates(corpus_dir: Path, entry_id: str, questions: Iterable[str], date: str) -> list[str]:
    """Append `- {q: ..., by: review, date: ...}` under `entry_id` (adding the key at the end when
    missing); questions already there (same key text) are skipped. Returns what was added."""
    path = corpus_dir / ALTERNATES_FILE
    text = path.read_text(encoding="utf-8") if path.exists() else ""
    have = {key(a.question) for a in load_alternates(corpus_dir).get(entry_id, [])}
    new = _fresh(questions, have)
    if not new:
        return []
    lines = text.splitlines(keepends=True)
    head = re.compile(rf"^['\"]?{re.escape(entry_id)}['\"]?\s*:\s*(#.*)?$")
    at = next((i for i, line in enumerate(lines) if head.match(line.rstrip("\r\n"))), None)
    inline = re.compile(rf"^['\"]?{re.escape(entry_id)}['\"]?\s*:")
    if at is None and any(inline.match(line) for line in lines):  # `id: [...]`: not ours to rewrite
        raise ValueError(f"{path}: {entry_id} is written on one line; make it a block list to add to it")
    if at is None:
        items = [f"  - {{q: {yaml_string(q)}, by: {REVIEW}, date: {date}}}\n" for q in new]
        if lines and not lines[-1].endswith("\n"):
            lines[-1] += "\n"
        lines += [f"{entry_id}:\n", *items]
    else:
        last, indent = at, "  "
        for i in range(at + 1, len(lines)):
            stripped = lines[i].strip()
            if stripped and not stripped.startswith("#") and not lines[i][0].isspace():
                break  # the next key
            if stripped.startswith("-"):
                if last == at:
                    indent = lines[i][: len(lines[i]) - len(lines[i].lstrip())]
                last = i
            elif stripped and not stripped.startswith("#"):
                last = i  # a continuation line of an item
        items = [f"{indent}- {{q: {yaml_string(q)}, by: {REVIEW}, date: {date}}}\n" for q in new]
        if not lines[last].endswith("\n"):
            lines[last] += "\n"
        lines[last + 1 : last + 1] = items
    updated = "".join(lines)
    _check(path, updated, lambda data: isinstance(data, dict) and all(
        any(isinstance(a, dict) and a.get("q") == " ".join(q.split()) for a in data.get(entry_id) or [])
        for q in new))
    _replace(path, updated)
    return new


def add_declined(corpus_dir: Path, questions: Iterable[str], date: str, note: str) -> list[str]:
    """Append `- {q: ..., date: ..., note: ...}` lines to corpus/declined.yaml; returns what was added."""
    path = corpus_dir / DECLINED_FILE
    have = {key(d.question) for d in load_declined(path)}
    new = _fresh(questions, have)
    if not new:
        return []
    text = path.read_text(encoding="utf-8") if path.exists() else ""
    if text and not text.endswith("\n"):
        text += "\n"
    text += "".join(f"- {{q: {yaml_string(q)}, date: {date}, note: {yaml_string(note)}}}\n" for q in new)
    _check(path, text, lambda data: isinstance(data, list) and len(data) >= len(new))
    _replace(path, text)
    return new


def add_negatives(tune_path: Path, questions: Iterable[str], date: str, note: str) -> list[str]:
    """Append negative cases (the format of the file's own negatives) to eval/tune.yaml; a query
    already there is skipped. Returns the ids added."""
    text = tune_path.read_text(encoding="utf-8")
    cases = yaml.safe_load(text) or []
    have = {key(str(c.get("query", ""))) for c in cases if isinstance(c, dict)}
    ids = {str(c.get("id")) for c in cases if isinstance(c, dict)}
    new = _fresh(questions, have)
    if not new:
        return []
    if not text.endswith("\n"):
        text += "\n"
    if TUNE_HEADER not in text:
        text += _TUNE_HEADER_TEXT
    added = []
    for question in new:
        case_id = "rv-neg-" + hashlib.blake2b(key(question).encode(), digest_size=4).hexdigest()
        while case_id in ids:  # a hash collision: extend it
            case_id += "x"
        ids.add(case_id)
        added.append(case_id)
        text += (f"\n- id: {case_id}\n  category: negative\n  query: {yaml_string(question)}\n  persona: null\n"
                 f"  expect_any: []\n  note: {yaml_string(f'declined in review {date}: {note}')}\n")
    _check(tune_path, text, lambda data: isinstance(data, list) and {c.get("id") for c in data} >= set(added))
    _replace(tune_path, text)
    return added


def _fresh(questions: Iterable[str], have: set[str]) -> list[str]:
    """Questions (one line, stripped) whose key is not in `have` nor repeated; `[phone]`-masked ones
    are left out: a masked question is not how anyone would ask."""
    out: list[str] = []
    seen = set(have)
    for question in questions:
        line = " ".join(question.split())
        k = key(line)
        if not k or k in seen or "[phone]" in line or "[email]" in line:
            continue
        seen.add(k)
        out.append(line)
    return out


def _check(path: Path, text: str, ok: Any) -> None:
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:  # pragma: no cover - our own lines are always valid
        raise ValueError(f"{path}: the edit would break the file ({exc}); nothing written") from None
    if not ok(data):  # pragma: no cover
        raise ValueError(f"{path}: the edit did not read back as intended; nothing written")


def _replace(path: Path, text: str) -> None:
    """Write atomically, keeping the file's mode."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        tmp.write_text(text, encoding="utf-8")
        with contextlib.suppress(OSError):
            os.chmod(tmp, path.stat().st_mode & 0o7777)
        os.replace(tmp, path)
    finally:
        with contextlib.suppress(OSError):
            tmp.unlink()
