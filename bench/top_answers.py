"""The answers the matcher gives on every eval case, recorded, so a speed change can prove it
changed none (`tests/test_speed_identical_answers.py` compares against the recording).

    .venv/bin/python -m bench.top_answers            # compare with the recording; exit 1 on a change
    .venv/bin/python -m bench.top_answers --record   # after a refit or a new eval case, on purpose

Per case of eval/tune.yaml, eval/holdout.yaml and the dev set (`../shared/eval/dev_eval.yaml`), as
the scorer asks it (`ask` with no expert; `compare` for compare cases): the entry ids and scores of
the matches given, in order, or the suggestions when none is given.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import yaml

from bot.matching import Engine

ROOT = Path(__file__).resolve().parents[1]
EVALS = {"tune": ROOT / "eval" / "tune.yaml", "holdout": ROOT / "eval" / "holdout.yaml",
         "dev": ROOT.parent / "shared" / "eval" / "dev_eval.yaml"}
RECORDING = ROOT / "tests" / "fixtures" / "top_answers.json"


def cases() -> dict[str, dict[str, Any]]:
    """Every eval case by `set/id` (a set whose file is missing is left out)."""
    out: dict[str, dict[str, Any]] = {}
    for name, path in EVALS.items():
        if path.is_file():
            for case in yaml.safe_load(path.read_text(encoding="utf-8")):
                out[f"{name}/{case['id']}"] = case
    return out


def answer_of(engine: Engine, case: dict[str, Any]) -> dict[str, Any]:
    """What the matcher gives for one case, as plain data."""
    asked = {"query": case["query"]}
    if case.get("category") == "compare" and len(case.get("ask_persona") or []) >= 2:
        a, b = case["ask_persona"][:2]
        comparison = engine.compare(a, b, case["query"])
        return {**asked, "sides": [[[m.entry.id, m.score] for m in side.matches] for side in comparison.sides]}
    answer = engine.answer(case["query"])
    return {**asked, "matches": [[m.entry.id, m.score] for m in answer.matches],
            "suggestions": [s.text for s in answer.suggestions] if not answer.matches else []}


def answers(engine: Engine) -> dict[str, dict[str, Any]]:
    return {key: answer_of(engine, case) for key, case in cases().items()}


def differences(recorded: dict[str, dict[str, Any]], now: dict[str, dict[str, Any]]) -> list[str]:
    """Cases whose answer changed (a case in only one of the two is not compared: a new eval case
    needs `--record`, and its count is reported by the caller)."""
    return [f"{key}: {recorded[key]} -> {now[key]}" for key in sorted(recorded.keys() & now.keys())
            if recorded[key] != now[key]]


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.top_answers", description=__doc__.splitlines()[0])
    parser.add_argument("--record", action="store_true", help=f"write {RECORDING.relative_to(ROOT)}")
    args = parser.parse_args(argv)
    now = answers(Engine.load())
    if args.record:
        RECORDING.write_text(json.dumps(now, ensure_ascii=False, indent=0, sort_keys=True) + "\n", encoding="utf-8")
        print(f"recorded {len(now)} cases in {RECORDING}")
        return 0
    recorded = json.loads(RECORDING.read_text(encoding="utf-8"))
    changed = differences(recorded, now)
    print("\n".join(changed) or f"all {len(recorded.keys() & now.keys())} recorded cases answer the same "
          f"({len(now.keys() - recorded.keys())} not recorded)")
    return 1 if changed else 0


if __name__ == "__main__":
    sys.exit(main())
