"""Ranking articles for a question, in one language's fields, safely and fast.

The customer's text never reaches a Whoosh QueryParser: it is cut to MAX_QUERY_CHARS,
analysed into content words (kb.analysis), and the query is assembled from Term and Phrase
objects, so `AND (`, `lang:fr`, `a*`, `^3` or `~` are just words (or nothing at all).

For each content word:
- its terms are searched in title, questions, tags and body, with field boosts;
- if none of its terms is in the index (a typo, most likely), the word is corrected
  against the unstemmed vocabulary of the language: Whoosh's terms_within with a 2-letter
  prefix and 1 edit (2 from 8 letters), only for words of 5+ letters. This is the
  fallback: correctly spelled words are never expanded, and short words (where a prefix
  would be longer than the word, and where one edit changes everything) never are.
Consecutive words also form a sloppy phrase on title and questions, which rewards
articles that use the customer's words together.

Each hit gets a `coverage`: the share of the question's content (words weighted by IDF,
so "service" counts less than "holiday") found in the article, and `strong_coverage`,
the same over title, questions and tags only. A word found nowhere in the KB weighs as
more than the rarest word: "reset my password" is mostly unknown words, so no article
covers it. These feed the answer decision (kb.answer).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

from whoosh.query import Or, Phrase, Query, Term
from whoosh.searching import Searcher
from whoosh.support.levenshtein import distance

from kb.analysis import WordTerms, analyse, is_stop, variants
from kb.index import TEXT_FIELDS, field_name
from kb.synonyms import expand

MAX_QUERY_CHARS = 500
MAX_QUERY_WORDS = 24
FIELD_BOOSTS: dict[str, float] = {"title": 3.0, "questions": 3.0, "tags": 2.0, "body": 1.0}
PHRASE_FIELDS: tuple[str, ...] = ("title", "questions")
PHRASE_BOOST = 1.5
PHRASE_SLOP = 2
FUZZY_PREFIX = 2
FUZZY_MIN_LENGTH = 5
CANDIDATES = 20
# A word the KB does not know at all ("password", "pizza", "price") says more about a
# question being out of scope than any known word says about it being in scope.
UNKNOWN_WEIGHT = 1.5
# How much title/questions/tags coverage reorders hits (see `rank`): squared, because an
# article whose questions use the customer's words is the one written for that question.
STRONG_EXP = 2
_GLUED_ELISION = re.compile(r"^(qu|[ldjnsctm])([aeiouyh][a-z]+)$")


@dataclass(frozen=True)
class QueryWord:
    surface: str
    terms: tuple[str, ...]
    weight: float  # IDF in this language; the maximum for words the KB does not know
    known: bool
    corrected_from: str | None = None


@dataclass(frozen=True)
class Hit:
    slug: str
    lang: str
    title: str
    score: float  # the ranking score (BM25F, scaled by coverage)
    coverage: float
    strong_coverage: float


@dataclass(frozen=True)
class Ranking:
    lang: str
    words: tuple[QueryWord, ...]
    hits: tuple[Hit, ...]

    @property
    def best(self) -> Hit | None:
        return self.hits[0] if self.hits else None


def _idf(doc_count: int, df: int) -> float:
    return math.log(1.0 + (doc_count - df + 0.5) / (df + 0.5))


class LanguageSearch:
    """Search within one language's fields of an open Whoosh searcher."""

    def __init__(self, searcher: Searcher, lang: str) -> None:
        self.searcher = searcher
        self.reader = searcher.reader()
        self.lang = lang
        self.fields = [field_name(part, lang) for part in TEXT_FIELDS]
        self.vocab_field = field_name("vocab", lang)
        self.doc_count = max(1, searcher.doc_frequency("lang", lang))
        self.unknown_weight = UNKNOWN_WEIGHT * _idf(self.doc_count, 0)

    def _df(self, terms: tuple[str, ...]) -> int:
        return max(self.reader.doc_frequency(f, t) for f in self.fields for t in terms)

    def _correct(self, surface: str) -> str | None:
        """The most frequent vocabulary word within a small edit distance, or None."""
        if len(surface) < FUZZY_MIN_LENGTH or not surface.isalpha():
            return None
        maxdist = 1 if len(surface) < 8 else 2
        best: tuple[int, int, str] | None = None
        for candidate in self.reader.terms_within(self.vocab_field, surface, maxdist, prefix=FUZZY_PREFIX):
            rank = (-distance(candidate, surface), self.reader.doc_frequency(self.vocab_field, candidate), candidate)
            if best is None or rank > best:
                best = rank
        return best[2] if best else None

    def _unglue_elision(self, surface: str) -> str | None:
        """French typed without apostrophes: "jactive" → "active", "cest" → "" (stop word).

        Only for words the index does not know, and only when the rest is a real word.
        """
        if self.lang != "fr":
            return None
        match = _GLUED_ELISION.match(surface)
        if match is None:
            return None
        rest = match.group(2)
        if is_stop(rest, self.lang):
            return ""
        return rest if self._df(variants(rest, self.lang)) else None

    def query_words(self, text: str) -> list[QueryWord]:
        result: list[QueryWord] = []
        seen: set[str] = set()
        analysed: list[WordTerms] = analyse(text[:MAX_QUERY_CHARS], self.lang)
        for word in analysed:
            if word.surface in seen:
                continue
            seen.add(word.surface)
            if len(result) == MAX_QUERY_WORDS:
                break
            terms = expand(word.terms, self.lang)
            df = self._df(terms)
            if df:
                result.append(QueryWord(word.surface, terms, _idf(self.doc_count, df), True))
                continue
            unglued = self._unglue_elision(word.surface)
            if unglued == "":
                continue  # "cest", "jai": an elided stop word typed without its apostrophe
            if word.joined:
                continue  # "parlezvous", "dlink" unknown: the parts already count
            fixed = unglued or self._correct(word.surface)
            if fixed is not None:
                terms = expand(variants(fixed, self.lang), self.lang)
                df = self._df(terms)
                if df:
                    weight = _idf(self.doc_count, df)
                    result.append(QueryWord(fixed, terms, weight, True, corrected_from=word.surface))
                    continue
            result.append(QueryWord(word.surface, word.terms, self.unknown_weight, False))
        return result

    def build_query(self, words: list[QueryWord]) -> Query | None:
        clauses: list[Query] = []
        known = [w for w in words if w.known]
        for word in known:
            for part, field in zip(TEXT_FIELDS, self.fields):
                for term in word.terms:
                    clauses.append(Term(field, term, boost=FIELD_BOOSTS[part]))
        for first, second in zip(known, known[1:]):
            for part in PHRASE_FIELDS:
                clauses.append(
                    Phrase(
                        field_name(part, self.lang),
                        [first.terms[0], second.terms[0]],
                        slop=PHRASE_SLOP,
                        boost=PHRASE_BOOST,
                    )
                )
        return Or(clauses) if clauses else None

    def rank(self, text: str, limit: int = CANDIDATES) -> Ranking:
        words = self.query_words(text)
        query = self.build_query(words)
        if query is None:
            return Ranking(self.lang, tuple(words), ())
        total = sum(w.weight for w in words) or 1.0
        strong_total = total
        hits: list[Hit] = []
        for hit in self.searcher.search(query, limit=max(limit, CANDIDATES)):
            fields = hit.fields()
            terms = set(fields["terms"].split())
            strong = set(fields["strong"].split())
            covered = sum(w.weight for w in words if w.known and not terms.isdisjoint(w.terms))
            strong_covered = sum(w.weight for w in words if w.known and not strong.isdisjoint(w.terms))
            coverage = covered / total
            hits.append(
                Hit(
                    slug=fields["slug"],
                    lang=fields["lang"],
                    title=fields["title"],
                    # Coverage reorders close BM25 scores: an article with all the words
                    # (in its title and questions above all) beats one that repeats a
                    # single word often.
                    score=float(hit.score) * (0.5 + coverage) * (0.5 + strong_covered / strong_total) ** STRONG_EXP,
                    coverage=coverage,
                    strong_coverage=strong_covered / strong_total,
                )
            )
        hits.sort(key=lambda h: h.score, reverse=True)
        return Ranking(self.lang, tuple(words), tuple(hits[:limit]))
