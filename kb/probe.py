"""Which article a question belongs to, learnt from the articles' own texts.

The semantic similarity (kb.semantic) measures how close a question is to each article's
texts. Neighbouring articles (activating a DAS service, what to have before activating
it) are close to each other in every direction the encoder knows, and a question about
one is often about as close to the other's phrasings. A softmax regression trained on the
articles' texts, each labelled with its slug, learns the few directions that tell
neighbours apart: its probability re-orders the candidates (kb.decision, AFFINITY_WEIGHT)
and never decides alone whether to answer.

Chosen on the calibration sets, before any threshold: with the probe the expected article
came first 1,217 times in 1,232 instead of 1,210, and on the blind sets kept apart
195, 196 and 198 times in 200 instead of 190, 194 and 194 (kb/README.md, "Telling
neighbours apart").

Trained on each build from the vectors, no question set involved: full-batch Adam from
zero weights, a fixed number of steps, so the same articles give the same probe. The
cost grows with texts x articles; past TRAINING_BUDGET (a KB of thousands of articles) no
probe is trained and candidates keep the fused order.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import numpy.typing as npt

from kb.encoder import Vectors

STEPS = 120
LEARNING_RATE = 0.05
L2 = 1e-4
# The softmax's temperature over cosine-like scores: e5's vectors are unit length, so
# 1/TEMPERATURE is the largest logit gap one unit of weight can make.
TEMPERATURE = 0.05
# Texts x articles: the shipped KB holds about 1,500 x 25. Each step costs that many
# multiply-adds of vector length, about a millisecond per 40,000 here.
TRAINING_BUDGET = 1_000_000
_BETA1, _BETA2, _EPSILON = 0.9, 0.999, 1e-8

Matrix = npt.NDArray[Any]


class Probe:
    """A softmax regression from a question's vector to its article's slug."""

    def __init__(self, slugs: Sequence[str], weights: Matrix) -> None:
        self.slugs = tuple(slugs)
        self.weights = weights  # vector length x articles

    @classmethod
    def train(cls, vectors: Vectors, labels: Sequence[str]) -> Probe | None:
        """A probe for these texts (one label, the slug, per row), or None when there is
        nothing to tell apart or it would cost more than TRAINING_BUDGET."""
        slugs = sorted(set(labels))
        if len(slugs) < 2 or len(labels) * len(slugs) > TRAINING_BUDGET:
            return None
        column = {slug: i for i, slug in enumerate(slugs)}
        rows = np.asarray(vectors, dtype=np.float32) / TEMPERATURE
        target = np.zeros((len(labels), len(slugs)), dtype=np.float32)
        target[np.arange(len(labels)), [column[label] for label in labels]] = 1.0
        weights: Matrix = np.zeros((rows.shape[1], len(slugs)), dtype=np.float32)
        moment = np.zeros_like(weights)
        scale = np.zeros_like(weights)
        for step in range(1, STEPS + 1):
            gradient: Matrix = rows.T @ (_softmax(rows @ weights) - target) / len(labels)
            gradient += 2 * L2 * weights
            moment *= _BETA1
            moment += (1 - _BETA1) * gradient
            scale *= _BETA2
            scale += (1 - _BETA2) * gradient * gradient
            step_size = LEARNING_RATE * np.sqrt(1 - _BETA2**step) / (1 - _BETA1**step)
            weights -= step_size * moment / (np.sqrt(scale) + _EPSILON)
        return cls(slugs, weights)

    def probabilities(self, query: Vectors) -> dict[str, float]:
        """Each article's probability of being the one the question is about."""
        logits = (query.reshape(1, -1).astype(np.float32) / TEMPERATURE) @ self.weights
        return dict(zip(self.slugs, _softmax(logits)[0].tolist(), strict=True))


def _softmax(logits: Matrix) -> Matrix:
    shifted = np.exp(logits - logits.max(axis=1, keepdims=True))
    return shifted / shifted.sum(axis=1, keepdims=True)
