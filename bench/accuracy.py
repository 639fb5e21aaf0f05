"""The dev-eval pass rule, reimplemented in-process so every system is scored the same way.

Mirrors /work/shared/eval/score.py: a case passes when the top match's persona equals the expected
one and its answer contains one expected fragment, both folded with OpenCC t2s and with white space
removed; a negative passes only when nothing is returned; a compare case needs both sides to hit.
Scores are collected once per system, so a threshold can be swept without re-running queries.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, Protocol

import yaml

DEFAULT_EVAL = Path("/work/shared/eval/dev_eval.yaml")


@dataclass(frozen=True)
class Case:
    """One dev-eval case: the query and what a correct top answer must contain."""

    id: str
    category: str
    query: str
    persona: str | None
    expect_any: tuple[str, ...]
    ask_persona: tuple[str, ...] = ()
    expect_any_2: tuple[str, ...] = ()

    @property
    def is_compare(self) -> bool:
        return self.category == "compare"


@dataclass(frozen=True)
class Hit:
    """A system's top answer, reduced to what the pass rule looks at plus its score."""

    persona: str
    answer: str
    score: float


class System(Protocol):
    """What the benchmark needs from ours and from each baseline."""

    name: str

    def search(self, query: str) -> Hit | None: ...

    def compare(self, query: str, a: str, b: str) -> tuple[Hit | None, Hit | None]: ...


@dataclass(frozen=True)
class Outcome:
    """A case and the top hit(s) a system returned: one for an ask, two for a compare."""

    case: Case
    tops: tuple[Hit | None, ...]


@dataclass(frozen=True)
class Accuracy:
    """Pass counts for one system at one threshold."""

    passed: int
    total: int
    by_category: dict[str, tuple[int, int]]
    threshold: float | None

    @property
    def rate(self) -> float:
        return self.passed / self.total if self.total else 0.0

    def to_json(self) -> dict[str, Any]:
        return {
            "passed": self.passed,
            "total": self.total,
            "rate": round(self.rate, 4),
            "threshold": self.threshold,
            "by_category": {k: list(v) for k, v in sorted(self.by_category.items())},
        }


def load_cases(path: Path) -> list[Case]:
    """Read an eval YAML file (the same format score.py reads)."""
    raw = yaml.safe_load(path.read_text(encoding="utf-8")) or []
    return [
        Case(
            id=str(item["id"]),
            category=str(item["category"]),
            query=str(item["query"]),
            persona=item.get("persona"),
            expect_any=tuple(item.get("expect_any") or ()),
            ask_persona=tuple(item.get("ask_persona") or ()),
            expect_any_2=tuple(item.get("expect_any_2") or ()),
        )
        for item in raw
    ]


@lru_cache(maxsize=1)
def _t2s() -> Callable[[str], str]:
    """OpenCC is loaded lazily so importing this module stays cheap."""
    import opencc

    convert: Callable[[str], str] = opencc.OpenCC("t2s").convert
    return convert


def fold(text: str | None) -> str:
    """score.py's folding: Traditional to Simplified, all white space removed."""
    return re.sub(r"\s+", "", _t2s()(text or ""))


def _hit(top: Hit | None, persona: str | None, fragments: Sequence[str]) -> bool:
    if top is None or persona is None or fold(top.persona) != fold(persona):
        return False
    answer = fold(top.answer)
    return any(fold(f) in answer for f in fragments)


def collect(cases: Sequence[Case], system: System) -> list[Outcome]:
    """Ask a system every case once, the way score.py does (asks with no persona filter)."""
    outcomes = []
    for case in cases:
        if case.is_compare and len(case.ask_persona) >= 2:
            tops: tuple[Hit | None, ...] = system.compare(case.query, case.ask_persona[0], case.ask_persona[1])
        else:
            tops = (system.search(case.query),)
        outcomes.append(Outcome(case, tops))
    return outcomes


def _cut(top: Hit | None, threshold: float | None) -> Hit | None:
    return top if top is None or threshold is None or top.score >= threshold else None


def passes(outcome: Outcome, threshold: float | None = None) -> bool:
    """The pass rule of score.py; below `threshold` a hit counts as "no match"."""
    case = outcome.case
    tops = [_cut(t, threshold) for t in outcome.tops]
    if case.category == "negative":
        return tops[0] is None
    if case.is_compare:
        if len(tops) < 2 or len(case.ask_persona) < 2:
            return False
        return _hit(tops[0], case.ask_persona[0], case.expect_any) and _hit(
            tops[1], case.ask_persona[1], case.expect_any_2
        )
    return _hit(tops[0], case.persona, case.expect_any)


def score(outcomes: Sequence[Outcome], threshold: float | None = None) -> Accuracy:
    """Count passes overall and per category."""
    by_category: dict[str, tuple[int, int]] = {}
    for outcome in outcomes:
        ok = passes(outcome, threshold)
        done, total = by_category.get(outcome.case.category, (0, 0))
        by_category[outcome.case.category] = (done + ok, total + 1)
    passed = sum(done for done, _ in by_category.values())
    return Accuracy(passed, len(outcomes), by_category, threshold)


def best_threshold(outcomes: Sequence[Outcome]) -> Accuracy:
    """The threshold that scores best on these very cases (an optimistic, tuned-on-test figure).

    Baselines always return a top answer, so without a cut-off they fail every negative; the fair
    comparison gives them the best cut-off they could possibly have on this set. Ties go to the lowest
    threshold, the one that drops the fewest answers.
    """
    candidates = sorted({t.score for o in outcomes for t in o.tops if t is not None})
    best = score(outcomes, None)
    above_all = (candidates[-1] + 1.0) if candidates else 1.0
    for threshold in [*candidates, above_all]:
        result = score(outcomes, threshold)
        if result.passed > best.passed:
            best = result
    return best
