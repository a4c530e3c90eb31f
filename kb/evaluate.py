"""`kb eval`: measure the KB on a question set (JSON lines: {"q", "lang", "slug"|null}).

Figures, over in-scope questions (slug given) unless said otherwise:
- top1: the first-ranked article (fused ranking) is the expected one (ranking quality);
- top3: the expected article is among the three the bot shows (answer + alternatives);
- answered_correct: the bot answered, with the expected article (what customers see);
- clarified: the bot asked which of two articles was meant (clarify_pct: how often;
  clarified_correct: the expected article was one of the two);
- missed: the bot declined although an article exists (asking which is not declining);
- wrong_in_scope: the bot answered with another article;
- language: the answer's language is the expected one (all questions);
- wrong_out_of_scope: out-of-scope questions (slug null) the bot answered anyway — must be 0;
  clarified_out_of_scope: those it asked about (not an answer, but not a clean "no").
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kb.knowledge import KnowledgeBase


@dataclass(frozen=True)
class EvalCase:
    question: str
    lang: str
    slug: str | None
    line: int


@dataclass
class EvalReport:
    total: int = 0
    in_scope: int = 0
    out_of_scope: int = 0
    top1: int = 0
    top3: int = 0
    answered_correct: int = 0
    clarified: int = 0
    clarified_correct: int = 0
    clarified_out_of_scope: int = 0
    missed: int = 0
    wrong_in_scope: int = 0
    language_ok: int = 0
    wrong_out_of_scope: int = 0
    failures: list[dict[str, Any]] = field(default_factory=list)

    def rate(self, count: int, of: int) -> float:
        return round(100.0 * count / of, 1) if of else 100.0

    def to_dict(self, *, with_failures: bool = True) -> dict[str, Any]:
        data: dict[str, Any] = {
            "questions": self.total,
            "in_scope": self.in_scope,
            "out_of_scope": self.out_of_scope,
            "top1_pct": self.rate(self.top1, self.in_scope),
            "top3_pct": self.rate(self.top3, self.in_scope),
            "answered_correct_pct": self.rate(self.answered_correct, self.in_scope),
            "clarify_pct": self.rate(self.clarified, self.in_scope) if self.in_scope else 0.0,
            "clarified": self.clarified,
            "clarified_correct": self.clarified_correct,
            "clarified_out_of_scope": self.clarified_out_of_scope,
            "language_pct": self.rate(self.language_ok, self.total),
            "missed": self.missed,
            "wrong_in_scope": self.wrong_in_scope,
            "wrong_out_of_scope": self.wrong_out_of_scope,
        }
        if with_failures:
            data["failures"] = self.failures
        return data


class EvalFileError(ValueError):
    pass


def is_held_out(path: Path) -> bool:
    """A held-out set (`*.holdout*.jsonl`): measured in aggregate only, never read, never
    tuned on. Every tool that could show its questions asks this one rule."""
    return "holdout" in path.name


def read_cases(path: Path) -> list[EvalCase]:
    cases: list[EvalCase] = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            data = json.loads(line)
            # "question" is read too: a set written by hand may spell the key out.
            question = data["q"] if "q" in data else data["question"]
            lang, slug = data["lang"], data.get("slug")
        except (ValueError, KeyError, TypeError) as err:
            raise EvalFileError(f'line {number}: expected {{"q", "lang", "slug"}}: {err}') from err
        if (
            not isinstance(question, str)
            or lang not in ("fr", "en")
            or not (slug is None or isinstance(slug, str))
        ):
            raise EvalFileError(f"line {number}: q must be a text, lang fr|en, slug a text or null")
        cases.append(EvalCase(question, lang, slug, number))
    return cases


def evaluate(kb: KnowledgeBase, cases: list[EvalCase]) -> EvalReport:
    report = EvalReport()
    for case in cases:
        answer = kb.ask(case.question)
        shown = ([answer.article.slug] if answer.article else []) + [
            ref.slug for ref in answer.alternatives
        ]
        reasons = answer.reasons
        ranked = (
            [c.slug for c in (reasons.best, reasons.runner_up) if c is not None]
            if reasons is not None
            else []
        )
        clarify = [ref.slug for ref in answer.clarify]
        report.total += 1
        problems: list[str] = []
        if answer.lang == case.lang:
            report.language_ok += 1
        else:
            problems.append(f"language {answer.lang}")
        got = answer.article.slug if answer.answered and answer.article else None
        if case.slug is None:
            report.out_of_scope += 1
            if answer.answered:
                report.wrong_out_of_scope += 1
                problems.append("answered an out-of-scope question")
            elif clarify:
                report.clarified_out_of_scope += 1
                problems.append("asked which on an out-of-scope question")
        else:
            report.in_scope += 1
            report.top1 += bool(ranked) and ranked[0] == case.slug
            report.top3 += case.slug in (shown[:3] if shown else ranked[:3])
            if got == case.slug:
                report.answered_correct += 1
            elif clarify:
                report.clarified += 1
                report.clarified_correct += case.slug in clarify
                if case.slug not in clarify:
                    problems.append("asked which, without the expected article")
            elif got is None:
                report.missed += 1
                problems.append("missed")
            else:
                report.wrong_in_scope += 1
                problems.append("wrong article")
        if problems:
            report.failures.append(
                {
                    "line": case.line,
                    "q": case.question,
                    "expected": case.slug,
                    "got": got,
                    "closest": ranked[:3],
                    "score": answer.score,
                    "problems": problems,
                }
            )
    return report
