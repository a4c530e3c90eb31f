"""Fusing the lexical and the semantic signal, and deciding: answer, ask which, or not.

Each candidate article has two signals, each meaningful on its own scale:

- lexical: how much of the question the article accounts for, word by word
  (kb.answer.confidence: IDF-weighted coverage, 0..1; words the KB does not know at all
  weigh the most, so "reset my password" stays low);
- semantic: the cosine between the question and the article's closest phrasings, as a
  soft mean (kb.semantic; e5 squeezes related texts into about 0.80-0.95).

The semantic cosine is stretched to 0..1 between SEMANTIC_FLOOR and SEMANTIC_CEILING,
then the two are combined:

    score = SEMANTIC_WEIGHT * stretched_semantic + (1 - SEMANTIC_WEIGHT) * lexical

Articles are ranked by that score plus AFFINITY_WEIGHT times their *affinity*, the
probability a probe trained on the articles' texts gives them (kb.probe): it tells
neighbouring articles apart where both signals find them about as close. The affinity
only orders; each candidate keeps its score, and the decision reads those. When the
affinity puts first an article scoring below the runner-up, its lead is negative: the
bot asks which one is meant, or does not answer, rather than trust either order.

A weighted sum (not reciprocal rank fusion) because the decision needs magnitudes: two
rankings agree on an order even when neither signal believes in the first article. The
decision:

- the runner-up within CLARIFY_MARGIN of the best, both at or above THRESHOLD: ask which
  ("Do you mean … or …?") rather than guess;
- otherwise answer with the best when its score plus GAP_WEIGHT times its lead over the
  runner-up reaches THRESHOLD: an article that stands out from all the others is a
  surer answer than one among several alike (an out-of-scope question is about equally
  close to many articles, a paraphrase is close to one);
- else no answer (the closest articles scoring RELATED_MIN or more are offered, the question is
  recorded for editors).

The constants are calibrated by `eval/calibrate.py` on the calibration sets only (see
kb/README.md, "How the decision was calibrated"); `Params` lets that tool try others.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from enum import StrEnum

SEMANTIC_FLOOR = 0.82
SEMANTIC_CEILING = 0.96
SEMANTIC_WEIGHT = 0.6
THRESHOLD = 0.66
CLARIFY_MARGIN = 0.02
GAP_WEIGHT = 0.5
# Chosen before any threshold, by the calibration sets' top-1 (1,210 of 1,232 with none;
# 1,216 at 0.05, 1,217 at 0.1, 1,214 at 0.2, 1,207 at 0.3: kb/README.md).
AFFINITY_WEIGHT = 0.1
RELATED_MIN = 0.1
# A question closer (in meaning) to an off-topic example (kb.off_topic) than to its best
# article by this much is not ours. On the calibration sets the in-scope questions stay
# below +0.016, and the out-of-scope ones it keeps out reach +0.2.
OFF_TOPIC_MARGIN = 0.03


@dataclass(frozen=True)
class Params:
    semantic_floor: float = SEMANTIC_FLOOR
    semantic_ceiling: float = SEMANTIC_CEILING
    semantic_weight: float = SEMANTIC_WEIGHT
    threshold: float = THRESHOLD
    clarify_margin: float = CLARIFY_MARGIN
    gap_weight: float = GAP_WEIGHT
    affinity_weight: float = AFFINITY_WEIGHT
    related_min: float = RELATED_MIN
    off_topic_margin: float = OFF_TOPIC_MARGIN

    def with_(self, **changes: float) -> Params:
        return replace(self, **changes)


DEFAULT = Params()


@dataclass(frozen=True)
class Candidate:
    slug: str
    lang: str  # the language of the article text that matched best
    lexical: float
    semantic: float
    affinity: float = 0.0  # the probe's probability (kb.probe); 0 without a probe
    score: float = 0.0

    def to_dict(self) -> dict[str, object]:
        return {
            "slug": self.slug,
            "lexical": round(self.lexical, 3),
            "semantic": round(self.semantic, 3),
            "affinity": round(self.affinity, 3),
            "score": round(self.score, 3),
        }


class Verdict(StrEnum):
    ANSWER = "answer"
    CLARIFY = "clarify"
    NONE = "none"


@dataclass(frozen=True)
class Decision:
    verdict: Verdict
    ranked: tuple[Candidate, ...]  # best first
    off_topic: bool = False  # closer to what the KB is not about than to any article
    # The question's similarity to the off-topic examples (-1: none), kept so a
    # calibration can replay the decision with other constants.
    off_topic_similarity: float = -1.0

    @property
    def best(self) -> Candidate | None:
        return self.ranked[0] if self.ranked else None

    @property
    def runner_up(self) -> Candidate | None:
        return self.ranked[1] if len(self.ranked) > 1 else None

    @property
    def clarify(self) -> tuple[Candidate, ...]:
        return self.ranked[:2] if self.verdict is Verdict.CLARIFY else ()

    def related(self, params: Params = DEFAULT) -> list[Candidate]:
        if self.off_topic:
            return []  # no article is worth a look for "tell me a joke"
        return [c for c in self.ranked if c.score >= params.related_min]


def stretch(similarity: float, params: Params = DEFAULT) -> float:
    span = params.semantic_ceiling - params.semantic_floor
    return min(1.0, max(0.0, (similarity - params.semantic_floor) / span))


def combined(lexical: float, semantic: float, params: Params = DEFAULT) -> float:
    weight = params.semantic_weight
    return weight * stretch(semantic, params) + (1.0 - weight) * lexical


def fuse(candidates: Iterable[Candidate], params: Params = DEFAULT) -> tuple[Candidate, ...]:
    """Score each candidate from both signals; best first by score and affinity (ties:
    higher lexical, then slug)."""
    scored = [replace(c, score=combined(c.lexical, c.semantic, params)) for c in candidates]
    weight = params.affinity_weight
    return tuple(sorted(scored, key=lambda c: (-c.score - weight * c.affinity, -c.lexical, c.slug)))


def decide(
    candidates: Iterable[Candidate], params: Params = DEFAULT, *, off_topic: float = -1.0
) -> Decision:
    """`off_topic`: the question's similarity to the off-topic examples (kb.semantic)."""
    return judge(fuse(candidates, params), params, off_topic=off_topic)


def judge(
    ranked: tuple[Candidate, ...], params: Params = DEFAULT, *, off_topic: float = -1.0
) -> Decision:
    """The decision on an already fused ranking (best first)."""
    closest = ranked[0].semantic if ranked else -1.0
    if off_topic - closest > params.off_topic_margin:
        return Decision(Verdict.NONE, ranked, off_topic=True, off_topic_similarity=off_topic)
    return Decision(_verdict(ranked, params), ranked, off_topic_similarity=off_topic)


def _verdict(ranked: tuple[Candidate, ...], params: Params) -> Verdict:
    if not ranked:
        return Verdict.NONE
    best = ranked[0].score
    runner_up = ranked[1].score if len(ranked) > 1 else 0.0
    if runner_up >= params.threshold and best - runner_up < params.clarify_margin:
        return Verdict.CLARIFY
    if best + params.gap_weight * (best - runner_up) >= params.threshold:
        return Verdict.ANSWER
    return Verdict.NONE
