"""The probe (kb.probe): which article a vector belongs to, learnt from labelled texts."""

from __future__ import annotations

import numpy as np

from kb.probe import TRAINING_BUDGET, Probe


def _unit(*rows: list[float]) -> np.ndarray:
    matrix = np.asarray(rows, dtype=np.float32)
    return matrix / np.linalg.norm(matrix, axis=1, keepdims=True)


# Two articles alike in most directions (the first coordinate), told apart by one each;
# the last coordinate varies within both, so it tells nothing.
TEXTS = _unit(
    [1.0, 0.3, 0.0, 0.5],
    [1.0, 0.3, 0.0, -0.5],
    [1.0, 0.3, 0.0, 0.0],
    [1.0, 0.0, 0.3, 0.5],
    [1.0, 0.0, 0.3, -0.5],
    [1.0, 0.0, 0.3, 0.0],
)
LABELS = ["activate", "activate", "activate", "prerequisites", "prerequisites", "prerequisites"]


def test_a_new_text_goes_to_the_article_whose_distinguishing_direction_it_carries() -> None:
    probe = Probe.train(TEXTS, LABELS)
    assert probe is not None
    query = _unit([1.0, 0.0, 0.15, 0.9])[0]
    probabilities = probe.probabilities(query)
    assert set(probabilities) == {"activate", "prerequisites"}
    assert abs(sum(probabilities.values()) - 1.0) < 1e-5
    assert probabilities["prerequisites"] > 0.8


def test_the_same_texts_train_the_same_probe() -> None:
    first, second = Probe.train(TEXTS, LABELS), Probe.train(TEXTS, LABELS)
    assert first is not None and second is not None
    assert np.array_equal(first.weights, second.weights)


def test_no_probe_without_two_articles_or_beyond_the_budget() -> None:
    assert Probe.train(TEXTS[:3], LABELS[:3]) is None
    too_many = TRAINING_BUDGET // 2 + 1
    labels = [f"article-{i % 3}" for i in range(too_many)]
    vectors = np.zeros((1, 4), dtype=np.float32)  # never read: refused on the counts
    assert Probe.train(vectors, labels) is None
