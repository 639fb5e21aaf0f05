"""`persona-bot fit`: fit the scoring model on eval/tune.yaml and write weights.json.

Each tune question gives the candidates the first stage passes, with their features, and which
of them are right (the expected expert, and the answer holds an expected fragment); for a
negative question, or one whose right answer was not retrieved, the right choice is "nobody said
that". The model (scoring.Model: a conditional logit with a null option) is fitted by maximum
likelihood with an L2 penalty, by scipy's L-BFGS-B from zero: deterministic, so the same tune set
gives the same file byte for byte (weights rounded to 6 decimals). The penalty is chosen by
repeated grouped cross-validation (best held-out likelihood), and the answer threshold from the
same held-out probabilities (best utility, see `utility`). Numbers: settings.yaml, `fit:`.
"""

from __future__ import annotations

import json
import random
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import yaml

from bot.matching.engine import Engine
from bot.matching.features import NAMES
from bot.matching.scoring import Model
from bot.matching.settings import FitSettings
from bot.text import fold

FloatArray = npt.NDArray[np.float64]
# A question's outcome under a model: the top candidate's confidence (the gate), whether it is
# right, whether the question is a negative.
Outcome = tuple[float, bool, bool]


@dataclass(frozen=True)
class Group:
    """The candidates of one question (each side of a compare case is its own question)."""

    case: str
    negative: bool
    features: FloatArray
    labels: npt.NDArray[np.int64]
    experts: tuple[str, ...] = ()  # each candidate's expert (persona id)


def _squash(text: str) -> str:
    return re.sub(r"\s+", "", fold(text))


def load_cases(path: Path) -> list[dict[str, Any]]:
    cases = yaml.safe_load(path.read_text(encoding="utf-8"))
    if not isinstance(cases, list):
        raise ValueError(f"{path}: expected a list of cases")
    return cases


def groups(engine: Engine, cases: list[dict[str, Any]]) -> list[Group]:
    """Feature rows and labels per question, from exactly what serving computes."""
    out: list[Group] = []
    for case in cases:
        questions: list[tuple[str | None, list[str], list[Any]]]
        if case["category"] == "compare":
            a, b = case["ask_persona"][:2]
            questions = [(a, case["expect_any"], [engine.resolve(a)]),
                         (b, case.get("expect_any_2", []), [engine.resolve(b)])]
        elif case["category"] == "negative":
            questions = [(None, [], [])]
        elif case["category"] == "persona" and case.get("ask_persona"):
            # Asked of the expert the chat selected (the question need not name them).
            questions = [(case["persona"], case["expect_any"], [engine.resolve(case["ask_persona"][0])])]
        else:
            questions = [(case["persona"], case["expect_any"], [])]
        for persona, fragments, allowed in questions:
            q = engine.analyzer.analyse(case["query"])
            if q.namesake is not None or q.unknown_holder is not None or not q.concepts:
                continue  # answered by a rule (namesake note, expert profile), never scored
            scored = engine.scored(q, allowed or list(q.personas))
            wanted = [_squash(f) for f in fragments]
            labels = np.array([
                int(persona is not None and fold(who.display_name) == fold(persona)
                    and any(f in _squash(entry.answer) for f in wanted))
                for who, entry in (engine.candidate(int(i)) for i in scored.candidates)
            ], dtype=np.int64)
            experts = tuple(engine.candidate(int(i))[0].id for i in scored.candidates)
            out.append(Group(str(case["id"]), persona is None, scored.features, labels, experts))
    return out


def train(gs: list[Group], penalty: float) -> Model:
    """Maximum-likelihood conditional logit with a null option, L2-penalised, on these questions."""
    from scipy.optimize import minimize

    used = [g for g in gs if len(g.labels)]
    x = np.vstack([g.features for g in used])
    # A measure that cannot be taken for an entry (NaN) is left out of the statistics and read as
    # average, as serving reads it (Model.standardise).
    # (A measure never taken, as alternates on a corpus that has none, has mean 0 and scale 1.)
    known = ~np.isnan(x)
    count = np.maximum(known.sum(axis=0), 1)
    mean = np.where(known, x, 0.0).sum(axis=0) / count
    scale = np.sqrt(np.where(known, (x - mean) ** 2, 0.0).sum(axis=0) / count)
    scale[scale == 0] = 1.0
    x = np.nan_to_num((x - mean) / scale, nan=0.0)
    right = np.concatenate([g.labels for g in used]).astype(bool)
    group = np.concatenate([np.full(len(g.labels), i) for i, g in enumerate(used)])
    starts = np.flatnonzero(np.concatenate(([True], group[1:] != group[:-1])))
    answered = np.zeros(len(used), dtype=bool)
    answered[group[right]] = True
    d = x.shape[1]

    def loss(theta: FloatArray) -> tuple[float, FloatArray]:
        w, null = theta[:d], theta[d]
        s = x @ w
        top = np.maximum(np.maximum.reduceat(s, starts), null)
        everything = top + np.log(np.add.reduceat(np.exp(s - top[group]), starts) + np.exp(null - top))
        s_right = np.where(right, s, -np.inf)
        top_right = np.maximum.reduceat(s_right, starts)
        top_right = np.where(answered, top_right, 0.0)
        sum_right = np.add.reduceat(np.where(right, np.exp(s - top_right[group]), 0.0), starts)
        chosen = np.where(answered, top_right + np.log(np.where(answered, sum_right, 1.0)), null)
        p = np.exp(s - everything[group])
        q = np.where(right, np.exp(s - chosen[group]), 0.0)
        value = float(np.sum(everything - chosen) + penalty * w @ w)
        grad = np.concatenate(((p - q) @ x + 2 * penalty * w,
                               [np.sum(np.exp(null - everything)) - np.sum(~answered)]))
        return value, grad

    result = minimize(loss, np.zeros(d + 1), jac=True, method="L-BFGS-B")
    return Model(NAMES, mean, scale, result.x[:d], float(result.x[d]), threshold=1.0)


def _outcomes(gs: list[Group], models: list[Model | None]) -> list[Outcome]:
    out = []
    for g, model in zip(gs, models, strict=True):
        if model is None or not len(g.labels):
            out.append((0.0, False, g.negative))
            continue
        p = model.probability(g.features)
        top = int(np.argmax(p))
        owners = np.array([g.experts.index(e) for e in g.experts], dtype=np.int32)
        out.append((float(model.confidence(p, owners)[top]), bool(g.labels[top]), g.negative))
    return out


def _log_likelihood(gs: list[Group], models: list[Model | None]) -> float:
    """Mean held-out log probability of the right choice (a right candidate, or the null)."""
    total = 0.0
    for g, model in zip(gs, models, strict=True):
        if model is None or not len(g.labels):
            continue
        p = model.probability(g.features)
        chance = float(p[g.labels.astype(bool)].sum()) if g.labels.any() else 1.0 - float(p.sum())
        total += float(np.log(max(chance, 1e-12)))
    return total / max(len(gs), 1)


def utility(outcomes: list[Outcome], threshold: float, wrong_quote_cost: float) -> float:
    """Right answers given and negatives declined, minus `wrong_quote_cost` per wrong quote."""
    total = 0.0
    for p, right, negative in outcomes:
        if p >= threshold:
            total += 1.0 if right else -wrong_quote_cost
        elif negative:
            total += 1.0
    return total


def thresholds() -> list[float]:
    """Candidate thresholds: 0.05 to 0.95 in steps of 0.01."""
    return [round(0.05 + i / 100, 2) for i in range(91)]


def _held_out(gs: list[Group], penalty: float, settings: FitSettings, repeat: int) -> list[Model | None]:
    """For every question, the model fitted without its case (cases dealt to folds in an order
    shuffled with seed `repeat`)."""
    cases = sorted({g.case for g in gs})
    random.Random(repeat).shuffle(cases)
    fold_of = {case: i % settings.folds for i, case in enumerate(cases)}
    models: list[Model | None] = [None] * len(gs)
    for k in range(settings.folds):
        model = train([g for g in gs if fold_of[g.case] != k], penalty)
        for i, g in enumerate(gs):
            if fold_of[g.case] == k:
                models[i] = model
    return models


def fit(engine: Engine, cases: list[dict[str, Any]]) -> tuple[dict[str, Any], dict[str, Any]]:
    """The weights file's content, and a report of the cross-validation."""
    settings = engine.settings.fit
    gs = groups(engine, cases)
    report: dict[str, Any] = {"questions": len(gs), "cv": {}}
    best: tuple[float, float, float] | None = None
    for penalty in settings.penalties:
        runs = [_held_out(gs, penalty, settings, r) for r in range(settings.repeats)]
        likelihood = float(np.mean([_log_likelihood(gs, models) for models in runs]))
        outcomes = [_outcomes(gs, models) for models in runs]
        # The threshold that does best on average over the repeats: one split's luck does not pick it.
        curve = [float(np.mean([utility(o, t, settings.wrong_quote_cost) for o in outcomes])) for t in thresholds()]
        threshold = max(t for t, u in zip(thresholds(), curve, strict=True) if u == max(curve))
        given = [[(p >= threshold, ok, neg) for p, ok, neg in o] for o in outcomes]
        report["cv"][str(penalty)] = {
            "log_likelihood": round(likelihood, 4), "threshold": threshold, "of": len(gs),
            "right": round(float(np.mean([sum((a and ok) or (not a and neg) for a, ok, neg in o) for o in given])), 1),
            "wrong_quotes": round(float(np.mean([sum(a and not ok for a, ok, _ in o) for o in given])), 1),
        }
        if best is None or likelihood > best[0]:
            best = (likelihood, penalty, threshold)
    assert best is not None
    _, penalty, threshold = best
    model = train(gs, penalty)
    positives = [g for g in gs if not g.negative]
    report["chosen"] = {"penalty": penalty, "threshold": threshold}
    report["candidate_recall"] = f"{sum(int(g.labels.any()) for g in positives)}/{len(positives)}"
    weights = {
        "about": "Fitted by `persona-bot fit` from eval/tune.yaml; do not edit by hand.",
        "model": "conditional logit over a question's candidates plus a null option (scipy L-BFGS-B)",
        "penalty": penalty,
        "threshold": threshold,
        "threshold_means": "answer only when P(the right answer is the top candidate's expert's) >= threshold",
        "features": list(NAMES),
        "mean": [round(float(v), 6) for v in model.mean],
        "scale": [round(float(v), 6) for v in model.scale],
        "coef": [round(float(v), 6) for v in model.coef],
        "null": round(model.null, 6),
    }
    return weights, report


def render(weights: dict[str, Any]) -> str:
    return json.dumps(weights, ensure_ascii=False, indent=1) + "\n"


def placeholder() -> Model:
    """A model that scores nothing, for computing features before any weights exist."""
    n = len(NAMES)
    return Model(NAMES, np.zeros(n), np.ones(n), np.zeros(n), 0.0, 1.0)


def run(tune: Path, out: Path, check: bool) -> int:
    """The `fit` command: refit from `tune`; with `check`, only say whether `out` is what it gives."""
    from bot.matching.engine import load_stopwords
    from bot.model import load_personas
    from bot.paths import default_corpus_dir, default_personas_dir
    from bot.vocabulary import load_vocabulary

    corpus = default_corpus_dir()
    engine = Engine(load_personas(default_personas_dir()), load_vocabulary(corpus), load_stopwords(corpus),
                    model=placeholder())
    weights, report = fit(engine, load_cases(tune))
    text = render(weights)
    for penalty, row in report["cv"].items():
        print(f"penalty {penalty}: held-out log likelihood {row['log_likelihood']}, {row['right']}/{row['of']} "
              f"right, {row['wrong_quotes']} wrong quotes at threshold {row['threshold']}")
    print(f"chosen penalty {report['chosen']['penalty']}, threshold {report['chosen']['threshold']}; "
          f"the right answer is among the candidates for {report['candidate_recall']} tune questions")
    if check:
        same = out.exists() and out.read_text(encoding="utf-8") == text
        print(f"{out}: {'reproduced byte for byte' if same else 'DIFFERS from what tune gives'}")
        return 0 if same else 1
    out.write_text(text, encoding="utf-8")
    print(f"wrote {out}")
    return 0
