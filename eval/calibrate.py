"""Choose the fusion and decision constants of kb/decision.py on the calibration sets.

    .venv/bin/python eval/calibrate.py                 # the default calibration sets
    .venv/bin/python eval/calibrate.py FILE.jsonl ...  # others ({"q", "lang", "slug"|null})

Each question is asked once to collect its candidates' two signals (lexical confidence,
semantic similarity: they do not depend on the constants); then every combination of the
grid below is replayed on those signals. A combination is admissible when no
out-of-scope question is answered nor asked about; among those, the best one maximises

    right answers - WRONG_COST x wrong answers - CLARIFY_COST x questions asked back

(asking which of two articles costs the customer one click: better than a wrong answer,
worse than the right one). Held-out files are refused: they are measured with
`helpdesk kb eval`, never tuned on.
"""

from __future__ import annotations

import argparse
import itertools
import json
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from kb import KnowledgeBase  # noqa: E402
from kb.decision import DEFAULT, Candidate, Params, Verdict, decide, fuse, judge  # noqa: E402
from kb.evaluate import is_held_out, read_cases  # noqa: E402

CALIBRATION_SETS = [
    REPO / "eval" / "kb_questions.calibrate.jsonl",
    REPO / "eval" / "kb_out_of_scope.calibrate.jsonl",
    REPO / "eval" / "kb_questions.fresh.jsonl",
    REPO / "eval" / "kb_out_of_scope.fresh.jsonl",
    REPO / "eval" / "kb_questions.blind3.jsonl",
    REPO / "eval" / "kb_out_of_scope.blind3.jsonl",
    REPO / "eval" / "kb_questions.blind4.jsonl",
    REPO / "eval" / "kb_out_of_scope.blind4.jsonl",
    REPO / "eval" / "kb_questions.blind5a.jsonl",
    REPO / "eval" / "kb_out_of_scope.blind5a.jsonl",
    REPO / "eval" / "kb_questions.blind5b.jsonl",
    REPO / "eval" / "kb_out_of_scope.blind5b.jsonl",
    REPO / "eval" / "kb_questions.blind7.jsonl",
    REPO / "eval" / "kb_out_of_scope.blind7.jsonl",
    REPO / "tests" / "fixtures" / "kb_hard.jsonl",
    REPO / "tests" / "fixtures" / "kb_unseen.jsonl",
    REPO / "tests" / "fixtures" / "kb_regressions.jsonl",
    REPO.parent / "shared" / "eval" / "kb_dev.jsonl",
]
WRONG_COST = 5.0
CLARIFY_COST = 0.5
GRID = {
    "semantic_floor": [0.80, 0.82, 0.84, 0.86, 0.88],
    "semantic_ceiling": [0.92, 0.94, 0.96, 0.98, 1.0],
    "semantic_weight": [0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9],
    "threshold": [round(0.30 + 0.02 * i, 2) for i in range(26)],
    # Not 0: asking "Do you mean … or …?" when two articles are that close is part of the
    # product, not a cost to be calibrated away.
    "clarify_margin": [0.02, 0.03, 0.05],
    "gap_weight": [0.0, 0.5, 1.0, 1.5, 2.0, 3.0],
}


@dataclass(frozen=True)
class Case:
    question: str
    slug: str | None
    candidates: tuple[Candidate, ...]
    off_topic: float  # similarity to the off-topic examples


@dataclass
class Outcome:
    params: Params
    top1: int = 0
    right: int = 0
    wrong: int = 0
    clarified: int = 0
    clarified_right: int = 0
    missed: int = 0
    oos_answered: int = 0
    oos_clarified: int = 0

    @property
    def admissible(self) -> bool:
        return self.oos_answered == 0 and self.oos_clarified == 0

    @property
    def objective(self) -> float:
        return self.right - WRONG_COST * self.wrong - CLARIFY_COST * self.clarified


def replay(cases: list[Case], params: Params, *, fused: bool = False) -> Outcome:
    outcome = Outcome(params)
    for case in cases:
        decision = (
            judge(case.candidates, params, off_topic=case.off_topic)
            if fused
            else decide(case.candidates, params, off_topic=case.off_topic)
        )
        best = decision.best
        if case.slug is None:
            outcome.oos_answered += decision.verdict is Verdict.ANSWER
            outcome.oos_clarified += decision.verdict is Verdict.CLARIFY
            continue
        outcome.top1 += best is not None and best.slug == case.slug
        if decision.verdict is Verdict.ANSWER:
            if best is not None and best.slug == case.slug:
                outcome.right += 1
            else:
                outcome.wrong += 1
        elif decision.verdict is Verdict.CLARIFY:
            outcome.clarified += 1
            outcome.clarified_right += case.slug in {c.slug for c in decision.clarify}
        else:
            outcome.missed += 1
    return outcome


def collect(kb: KnowledgeBase, files: list[Path]) -> list[Case]:
    cases: list[Case] = []
    for path in files:
        for case in read_cases(path):
            decision, _lang = kb.decide(case.question)
            cases.append(
                Case(case.question, case.slug, decision.ranked, decision.off_topic_similarity)
            )
    return cases


def describe(outcome: Outcome, in_scope: int) -> str:
    return (
        f"{outcome.params}\n  top-1 {outcome.top1}/{in_scope}, right {outcome.right}, "
        f"wrong {outcome.wrong}, asked which {outcome.clarified} "
        f"({outcome.clarified_right} with the right one), missed {outcome.missed}, "
        f"out of scope answered {outcome.oos_answered}, asked about {outcome.oos_clarified}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("files", nargs="*", type=Path)
    parser.add_argument("--show", action="store_true", help="print the questions still wrong")
    parser.add_argument(
        "--signals", type=Path, help="keep the collected signals in this file and reuse them"
    )
    args = parser.parse_args()
    files = args.files or [path for path in CALIBRATION_SETS if path.is_file()]
    if any(is_held_out(path) for path in files):
        sys.exit("refused: held-out sets are measured with `helpdesk kb eval`, never tuned on")
    if args.signals and args.signals.is_file():
        cases = [
            Case(
                row["q"],
                row["slug"],
                tuple(Candidate(**c) for c in row["candidates"]),
                row["off_topic"],
            )
            for row in json.loads(args.signals.read_text(encoding="utf-8"))
        ]
    else:
        with tempfile.TemporaryDirectory() as index_dir:
            kb = KnowledgeBase.open(REPO / "kb" / "articles", Path(index_dir))
            cases = collect(kb, files)
            kb.close()
        if args.signals:
            args.signals.write_text(
                json.dumps(
                    [
                        {
                            "q": c.question,
                            "slug": c.slug,
                            "off_topic": c.off_topic,
                            "candidates": [
                                {
                                    "slug": x.slug,
                                    "lang": x.lang,
                                    "lexical": x.lexical,
                                    "semantic": x.semantic,
                                    "affinity": x.affinity,
                                }
                                for x in c.candidates
                            ],
                        }
                        for c in cases
                    ],
                    ensure_ascii=False,
                ),
                encoding="utf-8",
            )
    in_scope = sum(case.slug is not None for case in cases)
    print(f"{len(cases)} questions ({in_scope} in scope) from {len(files)} files")
    print("current:", describe(replay(cases, DEFAULT), in_scope))
    best: Outcome | None = None
    ranking_keys = ("semantic_floor", "semantic_ceiling", "semantic_weight")
    for ranking_values in itertools.product(*(GRID[key] for key in ranking_keys)):
        base = Params(**dict(zip(ranking_keys, ranking_values)))
        # The ranking depends on these three only: fuse once, replay the decisions on it.
        fused = [Case(c.question, c.slug, fuse(c.candidates, base), c.off_topic) for c in cases]
        for threshold, margin, gap in itertools.product(
            GRID["threshold"], GRID["clarify_margin"], GRID["gap_weight"]
        ):
            params = base.with_(threshold=threshold, clarify_margin=margin, gap_weight=gap)
            outcome = replay(fused, params, fused=True)
            if outcome.admissible and (best is None or outcome.objective > best.objective):
                best = outcome
    if best is None:
        print("no admissible combination")
        return
    print("best:   ", describe(best, in_scope))
    if args.show:
        for case in cases:
            decision = decide(case.candidates, best.params, off_topic=case.off_topic)
            right = decision.best is not None and decision.best.slug == case.slug
            if case.slug is None and decision.verdict is Verdict.NONE:
                continue
            if case.slug is not None and right and decision.verdict is Verdict.ANSWER:
                continue
            print(
                json.dumps(
                    {
                        "q": case.question,
                        "expected": case.slug,
                        "verdict": str(decision.verdict),
                        "top": [c.to_dict() for c in decision.ranked[:2]],
                    },
                    ensure_ascii=False,
                )
            )


if __name__ == "__main__":
    main()
