"""Ranking articles for a question, in one language's fields, safely and fast.

The customer's text never reaches a Whoosh QueryParser: it is cut to MAX_QUERY_CHARS,
analysed into content words (kb.analysis), and the query is assembled from Term and Phrase
objects, so `AND (`, `lang:fr`, `a*`, `^3` or `~` are just words (or nothing at all).

For each content word:
- its terms (with its synonym group's marker, see kb.synonyms) are searched in the
  `strong` field (title + questions + tags, boosted) and in the body;
- if the KB does not know it, it is repaired, as a FALLBACK only: French elision typed
  without apostrophe ("jactive" → "active"), then spelling correction against the
  language's vocabulary (same 2-letter prefix, 1 edit, 2 from 8 letters, words of 5+
  letters only, at most MAX_CORRECTIONS per question). Correctly spelled words are never
  expanded; short words (shorter than a prefix would need, and where one edit changes
  everything) never are.
Consecutive words also form a sloppy phrase on the strong field, rewarding articles that
use the customer's words together.

Speed: Whoosh scores postings one by one in Python, so the cost of a query is the sum of
its posting lists. The planner adds clauses cheapest first (rare words; title/questions/
tags before bodies) until POSTINGS_BUDGET is spent; the words left out still count in the
coverage below (they just do not fetch candidates). On the shipped KB everything fits.

Each hit gets a `coverage`: the share of the question's content (words weighted by IDF,
so "service" counts less than "holiday") found in the article; `strong_coverage`, the
same over title, questions and tags together; and `phrasing_coverage`, the share found
in one of them, the closest: the title, one question, or the tags. An article with many
phrasings has most words somewhere among them ("nouveau", "point d'accès", "compte"), and
over all of them together it covered questions about its neighbours as fully as its own;
one phrasing that holds the question's words is what says the article is about it
(kb/README.md, "Lexical confidence"). A word found nowhere in the KB weighs more
than the rarest word: "reset my password" is mostly unknown words, so no article covers
it. These feed the ranking and the answer decision (kb.answer).
"""

from __future__ import annotations

import itertools
import math
import re
from collections import defaultdict
from dataclasses import dataclass
from functools import lru_cache

from whoosh.query import Or, Phrase, Query, Term
from whoosh.searching import Searcher
from whoosh.support.levenshtein import distance

from kb.analysis import analyse, is_question_word, is_stop, token_words, variants
from kb.index import PHRASING_SEPARATOR, LanguageStats, field_name

MAX_QUERY_CHARS = 500
MAX_QUERY_WORDS = 24
MAX_CORRECTIONS = 6
FIELD_BOOSTS: dict[str, float] = {"strong": 3.0, "body": 1.0}
PHRASE_BOOST = 1.5
PHRASE_SLOP = 2
MAX_PHRASES = 2
PHRASE_MAX_DF = 300
FUZZY_PREFIX = 2
FUZZY_MIN_LENGTH = 5
CANDIDATES = 10
POSTINGS_BUDGET = 2000
# A word the KB does not know at all ("password", "pizza", "price") says more about a
# question being out of scope than any known word says about it being in scope.
UNKNOWN_WEIGHT = 1.5
# A spelling correction is a guess: the further from what was typed, the less the corrected
# word vouches for the article ("commande" is two edits from "commence"). Its share of the
# coverage is multiplied by this credit; its weight in the question stays whole.
CORRECTION_CREDIT = {1: 0.8, 2: 0.5}
# A question word says what kind of answer is wanted, not what it is about: rare in the
# articles' text, its IDF would be high, and "c'est quoi le délai de réponse" would go to
# the one article that happens to say "quoi". It keeps this share of its IDF.
QUESTION_WORD_SHARE = 0.3
_GLUED_ELISION = re.compile(r"^(qu|[ldjnsctm])([aeiouyh][a-z]+)$")


@dataclass(frozen=True)
class QueryWord:
    surface: str
    terms: tuple[str, ...]
    weight: float  # IDF in this language; UNKNOWN_WEIGHT x the maximum for unknown words
    df: int  # articles of this language containing one of the terms (0: unknown)
    corrected_from: str | None = None
    edits: int = 0  # spelling-correction distance from what was typed

    @property
    def known(self) -> bool:
        return self.df > 0

    @property
    def credit(self) -> float:
        """The weight this word adds to an article's coverage when the article contains it."""
        return self.weight * CORRECTION_CREDIT.get(self.edits, 1.0) if self.edits else self.weight


@dataclass(frozen=True)
class Hit:
    slug: str
    lang: str
    title: str
    score: float  # the ranking score: BM25F scaled by coverage
    coverage: float
    strong_coverage: float
    phrasing_coverage: float


@dataclass(frozen=True)
class Ranking:
    lang: str
    words: tuple[QueryWord, ...]
    hits: tuple[Hit, ...]

    @property
    def best(self) -> Hit | None:
        return self.hits[0] if self.hits else None


def _credit(words: list[QueryWord], terms: frozenset[str]) -> float:
    """The weight of the question's known words found among `terms`."""
    return sum(w.credit for w in words if w.known and not terms.isdisjoint(w.terms))


@lru_cache(maxsize=4096)
def _phrasings(stored: str) -> tuple[frozenset[str], ...]:
    """An article's stored `phrasings` field as one term set per phrasing: parsed once per
    article version, not once per question."""
    return tuple(frozenset(p.split()) for p in stored.split(PHRASING_SEPARATOR))


def _idf(doc_count: int, df: int) -> float:
    return math.log(1.0 + (doc_count - df + 0.5) / (df + 0.5))


class LanguageSearch:
    """Search within one language's fields of an open Whoosh searcher."""

    def __init__(self, searcher: Searcher, lang: str, stats: LanguageStats) -> None:
        self.searcher = searcher
        self.lang = lang
        self.stats = stats
        self.doc_count = max(1, stats.docs)
        self.unknown_weight = UNKNOWN_WEIGHT * _idf(self.doc_count, 0)
        # Spelling candidates grouped by their first letters: a lookup scans one bucket.
        self._buckets: dict[str, list[str]] = defaultdict(list)
        for word in stats.vocabulary:
            self._buckets[word[:FUZZY_PREFIX]].append(word)

    def _df(self, terms: tuple[str, ...]) -> int:
        df = self.stats.df
        return max(df.get(t, 0) for t in terms)

    def _correct(self, surface: str) -> tuple[str, int] | None:
        """The closest, then most frequent, vocabulary word within a small edit distance,
        and that distance."""
        if len(surface) < FUZZY_MIN_LENGTH or not surface.isalpha():
            return None
        maxdist = 1 if len(surface) < 8 else 2
        best: tuple[int, int, str] | None = None
        for candidate in self._buckets.get(surface[:FUZZY_PREFIX], ()):
            if abs(len(candidate) - len(surface)) > maxdist:
                continue
            dist = distance(candidate, surface, limit=maxdist + 1)
            if dist <= maxdist:
                rank = (-dist, self.stats.vocabulary[candidate], candidate)
                if best is None or rank > best:
                    best = rank
        return (best[2], -best[0]) if best else None

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
        corrections = 0
        for word in analyse(text[:MAX_QUERY_CHARS], self.lang):
            if word.surface in seen:
                continue
            seen.add(word.surface)
            if len(result) == MAX_QUERY_WORDS:
                break
            df = self._df(word.terms)
            if df:
                weight = _idf(self.doc_count, df)
                if is_question_word(word.surface, self.lang):
                    weight *= QUESTION_WORD_SHARE
                result.append(QueryWord(word.surface, word.terms, weight, df))
                continue
            if word.joined:
                continue  # "parlezvous" unknown: its parts already count
            unglued = self._unglue_elision(word.surface)
            if unglued == "":
                continue  # "cest", "jai": an elided stop word typed without its apostrophe
            fixed, edits = unglued, 0
            if fixed is None and corrections < MAX_CORRECTIONS:
                corrections += 1
                fixed, edits = self._correct(word.surface) or (None, 0)
            if fixed is not None:
                terms = next(
                    (w.terms for w in token_words(fixed, self.lang)), variants(fixed, self.lang)
                )
                df = self._df(terms)
                if df:
                    result.append(
                        QueryWord(fixed, terms, _idf(self.doc_count, df), df, word.surface, edits)
                    )
                    continue
            result.append(QueryWord(word.surface, word.terms, self.unknown_weight, 0))
        return result

    def _postings(self, term: str, part: str) -> int:
        """Exact for the strong field; the body count is bounded by the any-field count."""
        return (self.stats.strong_df if part == "strong" else self.stats.df).get(term, 0)

    def plan(self, words: list[QueryWord]) -> list[tuple[QueryWord, str, str]]:
        """The (word, field part, term) clauses that fetch candidates: the cheapest posting
        lists first (rare words, title/questions/tags before bodies) within the budget, and
        always at least one. Words left out still count in coverage."""
        options = sorted(
            (self._postings(term, part), index, part, term)
            for index, word in enumerate(words)
            if word.known
            for term in word.terms
            for part in FIELD_BOOSTS
            if self._postings(term, part)
        )
        chosen: list[tuple[int, str, str]] = []
        seen: set[tuple[str, str]] = set()
        spent = 0
        for postings, index, part, term in options:
            if (part, term) in seen:
                # Two words of one synonym group ("call ... by phone") share its marker:
                # counted twice, it would favour the articles that repeat that idea most.
                continue
            if chosen and spent + postings > POSTINGS_BUDGET:
                break
            seen.add((part, term))
            chosen.append((index, part, term))
            spent += postings
        return [(words[index], part, term) for index, part, term in sorted(chosen)]

    def build_query(self, plan: list[tuple[QueryWord, str, str]]) -> Query | None:
        clauses: list[Query] = [
            Term(field_name(part, self.lang), term, boost=FIELD_BOOSTS[part])
            for _word, part, term in plan
        ]
        # Proximity: the most informative pairs of neighbouring words, as sloppy phrases in
        # title/questions/tags. Phrase matching reads positions, so pairs are few and never
        # made of words present in many articles.
        words = list(dict.fromkeys(word for word, _part, _term in plan))
        pairs = []
        for first, second in itertools.pairwise(words):
            a, b = first.terms[0], second.terms[0]
            if (
                0 < self._postings(a, "strong") <= PHRASE_MAX_DF
                and 0 < self._postings(b, "strong") <= PHRASE_MAX_DF
            ):
                pairs.append((first.weight + second.weight, a, b))
        strong = field_name("strong", self.lang)
        for _weight, a, b in sorted(pairs, reverse=True)[:MAX_PHRASES]:
            clauses.append(Phrase(strong, [a, b], slop=PHRASE_SLOP, boost=PHRASE_BOOST))
        return Or(clauses) if clauses else None

    def rank(self, text: str, limit: int = CANDIDATES) -> Ranking:
        words = self.query_words(text)
        query = self.build_query(self.plan(words))
        if query is None:
            return Ranking(self.lang, tuple(words), ())
        total = sum(w.weight for w in words) or 1.0
        hits: list[Hit] = []
        # optimize=False: Whoosh's block-skipping machinery costs more than it saves when
        # the planner has already bounded the postings (measured: 2.7 ms vs 6 ms a query).
        for hit in self.searcher.search(query, limit=max(limit, CANDIDATES), optimize=False):
            fields = hit.fields()
            coverage = _credit(words, frozenset(fields["terms"].split())) / total
            strong_coverage = _credit(words, frozenset(fields["strong_terms"].split())) / total
            phrasing_coverage = (
                max((_credit(words, p) for p in _phrasings(fields["phrasings"])), default=0.0)
                / total
            )
            hits.append(
                Hit(
                    slug=fields["slug"],
                    lang=fields["lang"],
                    title=fields["title"],
                    # Coverage reorders close BM25 scores: an article with all the words
                    # (in its title and questions above all) beats one that repeats a
                    # single word often.
                    score=float(hit.score) * (0.5 + coverage) * (0.5 + strong_coverage),
                    coverage=coverage,
                    strong_coverage=strong_coverage,
                    phrasing_coverage=phrasing_coverage,
                )
            )
        hits.sort(key=lambda h: h.score, reverse=True)
        return Ranking(self.lang, tuple(words), tuple(hits[:limit]))
