"""`kb lint`: every problem of the article directory, as `file:line: message`.

Per file (see kb.articles.parse_article): YAML errors, missing or wrongly typed fields,
slug/lang not matching the file name, lang not fr|en, empty body. Across files: duplicate
slug+lang, a slug in one language only, a `related` slug that no article has, a phrasing
written in the other language (it belongs in that language's article: here it would make
the lexical search claim the other language's short questions, answered in this one's).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from kb.articles import LANGS, Article, Problem, load_articles, slugs_by_lang
from kb.lang import detect_language


@dataclass(frozen=True)
class LintReport:
    problems: list[Problem]
    articles: int
    slugs: int

    @property
    def ok(self) -> bool:
        return not self.problems


def _line_of(article: Article, text: str, *, under: str | None = None) -> int:
    """The first file line holding `text` (at or after the line starting with `under`,
    when given); else that `under` line, else 1."""
    lines = article.path.read_text(encoding="utf-8").splitlines()
    anchor = 1
    if under is not None:
        found = [number for number, line in enumerate(lines, start=1) if line.startswith(under)]
        if not found:
            return 1
        anchor = found[-1]
    return next(
        (number for number, line in enumerate(lines[anchor - 1 :], start=anchor) if text in line),
        anchor,
    )


def _foreign_phrasings(article: Article) -> list[Problem]:
    problems = []
    for question in article.questions:
        lang = detect_language(question)
        if lang is not None and lang != article.lang:
            problems.append(
                Problem(
                    article.path,
                    _line_of(article, question),
                    f"question written in '{lang}', not '{article.lang}': {question!r}",
                )
            )
    return problems


def lint(articles_dir: Path) -> LintReport:
    loaded = load_articles(articles_dir)
    problems = list(loaded.problems)
    by_lang = slugs_by_lang(loaded.articles)
    all_slugs = set().union(*by_lang.values())
    for article in loaded.articles:
        problems += _foreign_phrasings(article)
        missing = [lang for lang in LANGS if article.slug not in by_lang.get(lang, set())]
        for lang in missing:
            problems.append(
                Problem(
                    article.path,
                    1,
                    f"missing translation: no '{lang}' article for slug '{article.slug}'",
                )
            )
        for slug in article.related:
            if slug not in all_slugs:
                problems.append(
                    Problem(
                        article.path,
                        _line_of(article, slug, under="related:"),
                        f"unknown related slug '{slug}'",
                    )
                )
    return LintReport(
        problems=sorted(problems), articles=len(loaded.articles), slugs=len(all_slugs)
    )
