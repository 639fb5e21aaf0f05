"""Speed work must not change what is answered: every eval case (eval/tune, eval/holdout, the dev
set) gets the same matches, in the same order with the same scores, or the same suggestions, as
recorded in tests/fixtures/top_answers.json (`python -m bench.top_answers --record` after a refit or
a new eval case, on purpose)."""

from __future__ import annotations

import json

from bench.top_answers import RECORDING, answers, differences
from bot.matching import Engine


def test_every_eval_case_answers_as_recorded() -> None:
    recorded = json.loads(RECORDING.read_text(encoding="utf-8"))
    now = answers(Engine.load())
    assert len(recorded.keys() & now.keys()) >= 700  # tune, holdout and dev are all there
    changed = differences(recorded, now)
    assert not changed, f"{len(changed)} eval cases answer differently (a refit or a corpus change on purpose: `python -m bench.top_answers --record`):\n" + "\n".join(changed[:20])
