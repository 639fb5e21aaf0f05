"""The fitted scoring model: the candidates' feature vectors in, P(each is the right answer) out.

A conditional logit over one question's candidates plus a "nobody said that" option: each
candidate's score is a weighted sum of its standardised features, the null option's score is a
fitted constant, and a softmax over all of them gives probabilities that sum to one with the
null. One model does both jobs: candidates are ranked by their probability, and the best one is given
only when its expert's share of the probability (`confidence`) reaches the threshold fitted with it. The weights live in
`weights.json` (written by `persona-bot fit` from eval/tune.yaml); at run time this is numpy
arithmetic, and no training library is imported.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt

from bot.matching.features import NAMES

WEIGHTS = Path(__file__).with_name("weights.json")
FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True)
class Model:
    names: tuple[str, ...]
    mean: FloatArray
    scale: FloatArray
    coef: FloatArray
    null: float  # the score of "none of these answers the question"
    # Answer only when the top candidate's confidence (see `confidence`) >= threshold; chosen on
    # eval/tune by cross-validation (see fit.utility).
    threshold: float

    @classmethod
    def load(cls, path: Path = WEIGHTS) -> Model:
        data = json.loads(path.read_text(encoding="utf-8"))
        names = tuple(data["features"])
        if names != NAMES:
            raise ValueError(f"{path}: fitted on features {names}, the code computes {NAMES}; run `persona-bot fit`")
        return cls(names, np.array(data["mean"]), np.array(data["scale"]), np.array(data["coef"]),
                   float(data["null"]), float(data["threshold"]))

    def scores(self, x: FloatArray) -> FloatArray:
        return self.scores_of(self.standardise(x))

    def scores_of(self, z: FloatArray) -> FloatArray:
        """`scores` of features already standardised."""
        return np.asarray(z @ self.coef, dtype=np.float64)

    def standardise(self, x: FloatArray) -> FloatArray:
        """Centred and scaled; a measure that cannot be taken (NaN: an entry with no alternate
        questions has no alternate similarity) is read as average, so it adds nothing either way."""
        z = np.asarray((x - self.mean) / self.scale, dtype=np.float64)
        if np.isfinite(z).all():  # nothing to replace
            return z
        if np.isinf(z).any():
            return np.asarray(np.nan_to_num(z, nan=0.0), dtype=np.float64)
        z[np.isnan(z)] = 0.0  # NaN alone, as nan_to_num replaces it (its own checks cost more than all this)
        return z

    def probability(self, x: FloatArray) -> FloatArray:
        """Softmax over the candidates (rows of `x`) and the null option; the null's share is left out."""
        return self.probability_of(self.standardise(x))

    def probability_of(self, z: FloatArray) -> FloatArray:
        """`probability` of features already standardised (a ranking standardises once for this
        and for the parts)."""
        s = np.concatenate(([self.null], self.scores_of(z)))
        s = np.exp(s - s.max())
        return np.asarray(s[1:] / s.sum(), dtype=np.float64)

    @staticmethod
    def confidence(probability: FloatArray, experts: npt.NDArray[np.int32]) -> FloatArray:
        """Per candidate, P(the right answer is one of its expert's candidates): the gate.

        When an expert has several answers on what was asked, they share the probability; what
        must be sure before quoting is that the words are this expert's, so the gate adds them up.
        """
        mass = np.zeros(int(experts.max()) + 1 if len(experts) else 0)
        np.add.at(mass, experts, probability)
        return np.asarray(mass[experts], dtype=np.float64)

    def contributions(self, row: FloatArray) -> dict[str, float]:
        """What each feature added to one candidate's score: the match's `why`."""
        return self.named_parts(self.parts(row))

    def parts(self, x: FloatArray) -> FloatArray:
        """Each feature's contribution to the score, for one row or every row of `x` at once
        (element by element: a row's parts are the same either way)."""
        return self.parts_of(self.standardise(x))

    def parts_of(self, z: FloatArray) -> FloatArray:
        """`parts` of features already standardised."""
        return np.asarray(z * self.coef, dtype=np.float64)

    def named_parts(self, parts: FloatArray) -> dict[str, float]:
        """One row of `parts` as the match's `why`: rounded, by feature name."""
        return {name: round(v, 3) for name, v in zip(self.names, parts.tolist(), strict=True)}
