"""How deep the first stage must go: for each eval set, the share of answerable cases whose right
answer (the expected expert, an answer holding one of the expected fragments, as score.py judges)
is among the first N candidates, for several N. `settings.yaml` `candidates` is 30; a smaller N
would make every query cheaper (features and the model run per candidate) but changes what the
fitted model sees, so it needs a refit and the eval guard: this only measures.

    .venv/bin/python -m bench.candidate_recall
"""

from __future__ import annotations

import re
import sys
from collections.abc import Sequence
from typing import Any

from bench.top_answers import EVALS
from bot.matching import Engine
from bot.text import fold

DEPTHS = (1, 3, 5, 10, 15, 20, 25, 30)


def _plain(text: str) -> str:
    return re.sub(r"\s+", "", fold(text))


def rank_of_right(engine: Engine, case: dict[str, Any]) -> int | None:
    """1-based rank of the first right entry in the first stage's pool, None when absent."""
    q = engine.analyzer.analyse(str(case["query"]))
    scored = engine.scored(q, [])
    persona, fragments = _plain(str(case["persona"])), [_plain(str(f)) for f in case["expect_any"]]
    for rank, doc in enumerate(scored.candidates, 1):
        who, entry = engine.candidate(int(doc))
        if _plain(who.display_name) == persona and any(f in _plain(entry.answer) for f in fragments):
            return rank
    return None


def main(argv: Sequence[str] | None = None) -> int:
    import yaml

    engine = Engine.load()
    print("| set | answerable | " + " | ".join(f"top {n}" for n in DEPTHS) + " |")
    print("|---|---|" + "---|" * len(DEPTHS))
    for name, path in EVALS.items():
        if not path.is_file():
            continue
        cases = [c for c in yaml.safe_load(path.read_text(encoding="utf-8"))
                 if c.get("persona") and c.get("expect_any") and c.get("category") not in {"negative", "compare"}]
        ranks = [rank_of_right(engine, c) for c in cases]
        cells = [f"{sum(1 for r in ranks if r is not None and r <= n) / len(ranks):.1%}" for n in DEPTHS]
        print(f"| {name} | {len(cases)} | " + " | ".join(cells) + " |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
