"""Fusion and decision (kb.decision): pure functions over the two signals, no encoder."""

from __future__ import annotations

import pytest

from kb.decision import Candidate, Params, Verdict, combined, decide, fuse, stretch

PARAMS = Params(
    semantic_floor=0.8,
    semantic_ceiling=0.9,
    semantic_weight=0.5,
    threshold=0.5,
    clarify_margin=0.05,
    gap_weight=0.5,
    related_min=0.2,
)


def test_the_semantic_cosine_is_stretched_between_floor_and_ceiling() -> None:
    assert stretch(0.7, PARAMS) == 0.0
    assert stretch(0.85, PARAMS) == pytest.approx(0.5)
    assert stretch(0.99, PARAMS) == 1.0
    assert combined(1.0, 0.85, PARAMS) == pytest.approx(0.75)


def test_fusion_ranks_by_both_signals() -> None:
    words_only = Candidate("words-only", "en", lexical=0.9, semantic=0.78)
    meaning_only = Candidate("meaning-only", "en", lexical=0.0, semantic=0.92)
    both = Candidate("both", "fr", lexical=0.6, semantic=0.88)
    ranked = fuse([words_only, meaning_only, both], PARAMS)
    assert [c.slug for c in ranked] == ["both", "meaning-only", "words-only"]
    assert ranked[0].score == combined(0.6, 0.88, PARAMS)


def test_a_clear_winner_is_the_answer() -> None:
    decision = decide(
        [
            Candidate("right", "en", lexical=0.8, semantic=0.9),
            Candidate("other", "en", lexical=0.2, semantic=0.82),
        ],
        PARAMS,
    )
    assert decision.verdict is Verdict.ANSWER
    assert decision.best is not None and decision.best.slug == "right"
    assert decision.runner_up is not None and decision.runner_up.slug == "other"
    assert decision.clarify == ()


def test_two_close_articles_are_asked_about_not_guessed() -> None:
    decision = decide(
        [
            Candidate("first-response-time", "en", lexical=0.7, semantic=0.88),
            Candidate("resolution-time", "en", lexical=0.7, semantic=0.875),
            Candidate("far", "en", lexical=0.1, semantic=0.8),
        ],
        PARAMS,
    )
    assert decision.verdict is Verdict.CLARIFY
    assert {c.slug for c in decision.clarify} == {"first-response-time", "resolution-time"}


def test_a_close_runner_up_below_the_threshold_does_not_make_a_question() -> None:
    decision = decide(
        [
            Candidate("right", "en", lexical=0.6, semantic=0.84),
            Candidate("weak", "en", lexical=0.3, semantic=0.86),
        ],
        PARAMS.with_(threshold=0.48, clarify_margin=0.1),
    )
    assert decision.best is not None and decision.best.slug == "right"
    assert decision.runner_up is not None and decision.runner_up.score < 0.48
    assert decision.verdict is Verdict.ANSWER


def test_below_the_threshold_there_is_no_answer_but_related_articles() -> None:
    decision = decide(
        [
            Candidate("near", "en", lexical=0.3, semantic=0.84),
            Candidate("close", "en", lexical=0.2, semantic=0.83),
            Candidate("far", "en", lexical=0.0, semantic=0.75),
        ],
        PARAMS,
    )
    assert decision.verdict is Verdict.NONE
    assert [c.slug for c in decision.related(PARAMS)] == ["near", "close"]
    assert decide([], PARAMS).verdict is Verdict.NONE


def test_an_article_standing_out_from_the_others_is_a_surer_answer() -> None:
    """The same best score: answered when nothing else comes close, not when another does."""
    alone = [
        Candidate("paraphrase", "en", lexical=0.0, semantic=0.89),
        Candidate("other", "en", lexical=0.0, semantic=0.8),
    ]
    crowded = [
        Candidate("paraphrase", "en", lexical=0.0, semantic=0.89),
        Candidate("other", "en", lexical=0.0, semantic=0.88),
    ]
    assert decide(alone, PARAMS).verdict is Verdict.ANSWER
    assert decide(crowded, PARAMS).verdict is Verdict.NONE


def test_a_question_closer_to_an_off_topic_example_than_to_any_article_is_not_answered() -> None:
    strong = [Candidate("holidays", "en", 1.0, 0.91)]
    assert decide(strong, off_topic=0.90).verdict is Verdict.ANSWER  # the article is closer
    gated = decide(strong, off_topic=0.95)
    assert gated.verdict is Verdict.NONE and gated.off_topic and gated.related() == []


def test_the_affinity_orders_close_articles_without_deciding_for_them() -> None:
    """The probe's affinity puts first the article it recognises; the scores stay those of
    both signals, so a first article scoring below the runner-up is asked about."""
    close = [
        Candidate("das-activate", "en", lexical=0.7, semantic=0.885, affinity=0.1),
        Candidate("das-prerequisites", "en", lexical=0.7, semantic=0.88, affinity=0.9),
    ]
    decision = decide(close, PARAMS)
    assert [c.slug for c in decision.ranked] == ["das-prerequisites", "das-activate"]
    assert decision.best is not None and decision.best.score == combined(0.7, 0.88, PARAMS)
    assert decision.verdict is Verdict.CLARIFY
    assert decide(close, PARAMS.with_(affinity_weight=0.0)).best.slug == "das-activate"


def test_the_affinity_does_not_overturn_a_clear_lead() -> None:
    decision = decide(
        [
            Candidate("right", "en", lexical=0.8, semantic=0.9, affinity=0.0),
            Candidate("other", "en", lexical=0.2, semantic=0.82, affinity=1.0),
        ],
        PARAMS,
    )
    assert decision.verdict is Verdict.ANSWER
    assert decision.best is not None and decision.best.slug == "right"
