"""The scoring model's weights are data that the tune set reproduces exactly."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np

from bot.matching.features import NAMES
from bot.matching.scoring import WEIGHTS, Model

ROOT = Path(__file__).resolve().parents[1]


def test_refit_reproduces_the_weights_file_byte_for_byte() -> None:
    result = subprocess.run([sys.executable, "-m", "bot.cli", "fit", "--check"], cwd=ROOT, capture_output=True,
                            text=True, timeout=600)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "reproduced byte for byte" in result.stdout


def test_weights_name_every_feature_and_are_rounded() -> None:
    data = json.loads(WEIGHTS.read_text(encoding="utf-8"))
    assert tuple(data["features"]) == NAMES
    for key in ("mean", "scale", "coef"):
        assert len(data[key]) == len(NAMES)
        assert all(round(v, 6) == v for v in data[key])
    assert 0 < data["threshold"] < 1


def test_probabilities_and_the_null_option_sum_to_one() -> None:
    model = Model.load()
    rows = np.random.default_rng(0).random((5, len(NAMES)))
    p = model.probability(rows)
    assert p.shape == (5,) and np.all(p > 0) and p.sum() < 1
    # An expert's confidence is the share of all its candidates: never below any one of them.
    experts = np.array([0, 0, 1, 2, 1], dtype=np.int32)
    confidence = Model.confidence(p, experts)
    assert np.allclose(confidence, [p[0] + p[1], p[0] + p[1], p[2] + p[4], p[3], p[2] + p[4]])


def test_serving_never_imports_a_training_library() -> None:
    code = ("import sys; from bot.matching import Engine; e = Engine.load(); e.answer('算力重要吗'); "
            "print(sorted(m for m in sys.modules if m.split('.')[0] in {'scipy', 'sklearn'}))")
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


def test_an_expert_selected_case_is_fitted_as_asked_of_that_expert() -> None:
    """A case of category persona may not name its expert ("开源还是闭源，你怎么看" after /expert):
    its candidates are that expert's answers only, as the chat would rank them; the other cases
    are ranked over everyone."""
    from bot.matching.engine import Engine
    from bot.matching.fit import groups

    engine = Engine.load()
    case = {"id": "x", "category": "persona", "query": "开源还是闭源，你怎么看", "persona": "杜夏威",
            "ask_persona": ["杜夏威"], "expect_any": ["未必所有人都支付得起"]}
    selected = groups(engine, [case])[0]
    assert set(selected.experts) == {engine.resolve("杜夏威").id} and selected.labels.any()
    opened = groups(engine, [{**case, "category": "paraphrase"}])[0]
    assert len(set(opened.experts)) > 1
